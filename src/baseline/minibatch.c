/* Shuffled mini-batches over the training rows, served as a stochastic target. */
#include "baseline/minibatch.h"

#include <stdlib.h>

bnn_status bnn_minibatch_init(bnn_minibatch *mb, bnn_posterior *post, size_t n_rows,
                              size_t batch, bnn_rng rng)
{
    if (n_rows == 0) return BNN_ERROR(BNN_EINVAL, "no training rows to draw mini-batches from");
    if (batch == 0 || batch > n_rows)
        return BNN_ERROR(BNN_EINVAL, "--batch-size must be between 1 and the %zu training rows "
                                     "(got %zu)", n_rows, batch);
    *mb = (bnn_minibatch){.post = post, .n_rows = n_rows, .batch = batch, .pos = n_rows,
                          .rng = rng};
    mb->perm = malloc(n_rows * sizeof *mb->perm);
    if (!mb->perm) return BNN_ERROR(BNN_ENOMEM, "out of memory for the mini-batch order");
    for (size_t i = 0; i < n_rows; i++) mb->perm[i] = i;
    return BNN_OK;
}

void bnn_minibatch_free(bnn_minibatch *mb)
{
    free(mb->perm);
    mb->perm = NULL;
}

size_t bnn_minibatch_per_epoch(const bnn_minibatch *mb)
{
    return (mb->n_rows + mb->batch - 1) / mb->batch;
}

void bnn_minibatch_order(const bnn_minibatch *mb, uint64_t *order)
{
    for (size_t i = 0; i < mb->n_rows; i++) order[i] = mb->perm[i];
}

bnn_status bnn_minibatch_restore(bnn_minibatch *mb, const uint64_t *order, uint64_t pos,
                                 uint64_t epochs_begun, uint64_t rng_counter, const char *what)
{
    if (pos > mb->n_rows)
        return BNN_ERROR(BNN_EFORMAT, "%s: batch position %llu is past the %zu training rows",
                         what, (unsigned long long)pos, mb->n_rows);
    for (size_t i = 0; i < mb->n_rows; i++) mb->perm[i] = mb->n_rows; /* not yet seen */
    for (size_t i = 0; i < mb->n_rows; i++) {
        if (order[i] >= mb->n_rows || mb->perm[order[i]] != mb->n_rows)
            return BNN_ERROR(BNN_EFORMAT, "%s: the epoch's order of rows is not a permutation "
                                          "of the %zu training rows (entry %zu)", what,
                             mb->n_rows, i);
        mb->perm[order[i]] = i;
    }
    for (size_t i = 0; i < mb->n_rows; i++) mb->perm[i] = (size_t)order[i];
    mb->pos = (size_t)pos;
    mb->epochs_begun = (size_t)epochs_begun;
    mb->rng.counter = rng_counter;
    return BNN_OK;
}

/* Fisher-Yates on the previous order: a uniformly random permutation. */
static void shuffle(bnn_minibatch *mb)
{
    for (size_t i = mb->n_rows - 1; i > 0; i--) {
        size_t j = (size_t)(bnn_rng_uniform(&mb->rng) * (double)(i + 1));
        if (j > i) j = i; /* (0, 1) open, so never reached; a guard against rounding */
        size_t t = mb->perm[i];
        mb->perm[i] = mb->perm[j];
        mb->perm[j] = t;
    }
}

static bnn_status minibatch_logp_grad(void *ctx, const double *theta, double *grad,
                                      bnn_logp *out)
{
    bnn_minibatch *mb = ctx;
    if (mb->pos == mb->n_rows) {
        shuffle(mb);
        mb->pos = 0;
        mb->epochs_begun++;
    }
    const size_t left = mb->n_rows - mb->pos, n = left < mb->batch ? left : mb->batch;
    const size_t *rows = mb->perm + mb->pos;
    mb->pos += n;
    return bnn_posterior_logp_grad_rows(mb->post, theta, rows, n,
                                        (double)mb->n_rows / (double)n, grad, out);
}

bnn_target bnn_minibatch_target(bnn_minibatch *mb)
{
    return (bnn_target){.dim = mb->post->model->n_params, .logp_grad = minibatch_logp_grad,
                        .ctx = mb};
}
