/* Checkpoints of a chain's whole state, and their restoration when a run is resumed: after a
 * restore the chain continues exactly as it would have without the interruption. */
#include "sample/run_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/checkpoint.h"

/* The fixed-size part of a checkpoint. */
struct chain_scalars {
    uint64_t iter, n_params, n_test, n_out, mass_enabled;
    uint64_t rng_seed, rng_counter, rng_stream, probs_valid;
    double step_size, logp, log_lik, log_prior;
    bnn_dual_avg dual_avg;
    uint64_t window_counter, window_size, next_window, mass_n;
    uint64_t n_bma, divergences, gradients;
    double accept_sum, progress_step_size;
    uint64_t rows[5]; /* stats, weights, fs, warmup_fs rows; records of records.log */
};

/* The arrays of a checkpoint, in order, after the scalars. */
static size_t chain_arrays(const struct bnn_run *r, struct chain *ch, bnn_ckpt_part *parts)
{
    const size_t P = r->model.n_params * sizeof(double);
    const size_t out = r->n_test * r->n_out * sizeof(double);
    size_t n = 0;
    parts[n++] = (bnn_ckpt_part){ch->hmc->theta, P};
    parts[n++] = (bnn_ckpt_part){ch->hmc->grad, P};
    parts[n++] = (bnn_ckpt_part){ch->hmc->inv_mass, P};
    if (ch->mass.enabled) {
        parts[n++] = (bnn_ckpt_part){ch->mass.mean, P};
        parts[n++] = (bnn_ckpt_part){ch->mass.m2, P};
    }
    parts[n++] = (bnn_ckpt_part){ch->probs, out};
    parts[n++] = (bnn_ckpt_part){ch->bma_sum, out};
    parts[n++] = (bnn_ckpt_part){ch->bma_logdens, r->n_test * sizeof(double)};
    if (bnn_likelihood_is_regression(r->model.lik))
        parts[n++] = (bnn_ckpt_part){ch->bma_sumsq, r->n_test * sizeof(double)};
    if (ch->post.n_hyper) /* the hyperparameters θ's log density and gradient were taken at */
        parts[n++] = (bnn_ckpt_part){ch->post.hyper, ch->post.n_hyper * sizeof(double)};
    return n;
}

bnn_status bnn_run_chain_checkpoint(struct bnn_run *r, struct chain *ch)
{
    bnn_npy_writer *w[4] = {&ch->files.stats, &ch->files.weights, &ch->files.fs,
                            &ch->files.warmup_fs};
    BNN_TRY(bnn_store_chain_flush(&ch->files));
    const bnn_hmc *h = ch->hmc;
    struct chain_scalars sc = {
        .iter = ch->iter, .n_params = r->model.n_params, .n_test = r->n_test, .n_out = r->n_out,
        .mass_enabled = (uint64_t)ch->mass.enabled, .rng_seed = h->rng.seed,
        .rng_counter = h->rng.counter, .rng_stream = h->rng.stream,
        .probs_valid = (uint64_t)ch->probs_valid, .step_size = h->step_size,
        .logp = h->current.logp, .log_lik = h->current.log_lik,
        .log_prior = h->current.log_prior, .dual_avg = ch->dual_avg,
        .window_counter = ch->mass.window_counter, .window_size = ch->mass.window_size,
        .next_window = ch->mass.next_window, .mass_n = ch->mass.n, .n_bma = ch->n_bma,
        .divergences = ch->divergences, .gradients = ch->gradients,
        .accept_sum = ch->accept_sum, .progress_step_size = ch->step_size,
        .rows = {w[0]->rows, w[1]->rows, w[2]->rows, w[3]->rows, ch->files.log.n_records}};
    bnn_ckpt_part parts[11] = {{&sc, sizeof sc}};
    size_t n = 1 + chain_arrays(r, ch, parts + 1);
    return bnn_store_chain_checkpoint(r->cfg.out_dir, ch->index, parts, n);
}

static bnn_status check_scalars(const struct bnn_run *r, const struct chain *ch,
                                const struct chain_scalars *sc, const char *path)
{
    const size_t total = r->cfg.burn_in + r->cfg.warmup + r->cfg.samples;
    if (sc->n_params != r->model.n_params || sc->n_test != r->n_test || sc->n_out != r->n_out ||
        sc->mass_enabled != (uint64_t)ch->mass.enabled)
        return BNN_ERROR(BNN_EFORMAT, "%s: the checkpoint does not match the run's model or data "
                                      "(%llu parameters, %llu test inputs)", path,
                         (unsigned long long)sc->n_params, (unsigned long long)sc->n_test);
    if (sc->iter > total || sc->rng_seed != r->cfg.seed || sc->rng_stream != ch->index)
        return BNN_ERROR(BNN_EFORMAT, "%s: the checkpoint belongs to another run (iteration %llu, "
                                      "seed %llu)", path, (unsigned long long)sc->iter,
                         (unsigned long long)sc->rng_seed);
    return BNN_OK;
}

static void apply_scalars(struct chain *ch, const struct chain_scalars *sc)
{
    bnn_hmc *h = ch->hmc;
    ch->iter = sc->iter;
    h->rng = (bnn_rng){.seed = sc->rng_seed, .stream = (uint32_t)sc->rng_stream,
                       .counter = sc->rng_counter};
    ch->probs_valid = (int)sc->probs_valid;
    h->step_size = sc->step_size;
    h->current = (bnn_logp){.logp = sc->logp, .log_lik = sc->log_lik, .log_prior = sc->log_prior};
    ch->dual_avg = sc->dual_avg;
    ch->mass.window_counter = sc->window_counter;
    ch->mass.window_size = sc->window_size;
    ch->mass.next_window = sc->next_window;
    ch->mass.n = sc->mass_n;
    ch->n_bma = sc->n_bma;
    ch->divergences = sc->divergences;
    ch->gradients = sc->gradients;
    ch->accept_sum = sc->accept_sum;
    ch->step_size = sc->progress_step_size;
}

/* The chain a checkpoint is restored into, and the rows of its arrays that it recorded. */
struct restore {
    struct bnn_run *r;
    struct chain *ch;
    size_t *rows;
};

/* Reads one checkpoint file into the chain of a struct restore (arrays first, then the
 * scalars): the bnn_ckpt_load_fn of bnn_store_chain_restore. */
static bnn_status restore_from(void *ctx, const char *path)
{
    struct bnn_run *r = ((struct restore *)ctx)->r;
    struct chain *ch = ((struct restore *)ctx)->ch;
    size_t *rows = ((struct restore *)ctx)->rows;
    struct chain_scalars sc;
    bnn_ckpt_cursor cur;
    BNN_TRY(bnn_ckpt_open(path, &sc, sizeof sc, &cur));
    bnn_status s = check_scalars(r, ch, &sc, path);
    bnn_ckpt_part parts[10];
    if (s == BNN_OK) s = bnn_ckpt_take_rest(&cur, parts, chain_arrays(r, ch, parts));
    bnn_ckpt_close(&cur);
    BNN_TRY(s);
    const bnn_chain_shape shape = {r->model.n_params, r->cfg.fs_points, r->n_out,
                                   ch->post.n_hyper};
    BNN_TRY(bnn_store_chain_holds(r->cfg.out_dir, ch->index, (size_t)r->cfg.precision, &shape,
                                  sc.rows));
    apply_scalars(ch, &sc);
    if (ch->post.n_hyper) bnn_posterior_set_hyper(&ch->post, ch->post.hyper);
    for (size_t i = 0; i < 5; i++) rows[i] = (size_t)sc.rows[i];
    return BNN_OK;
}

bnn_status bnn_run_chain_restore(struct bnn_run *r, struct chain *ch, size_t rows[5],
                                 int *restored)
{
    struct restore ctx = {r, ch, rows};
    return bnn_store_chain_restore(r->cfg.out_dir, ch->index, restore_from, &ctx, r->warning,
                                   sizeof r->warning, restored);
}
