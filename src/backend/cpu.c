/* CPU backend: the log-likelihood and its gradient over all training data, block by block on a
 * thread team, with an ordered reduction in double. */
#include "backend/cpu.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/team.h"

void openblas_set_num_threads(int n); /* OpenBLAS extension, not in cblas.h */

void bnn_cpu_blas_single_thread(void) { openblas_set_num_threads(1); }

struct bnn_cpu_data {
    bnn_precision prec;
    size_t d, n_train, n_predict, block_rows;
    void *x_train;   /* (n_train, d) in prec */
    double *y_train; /* (n_train) */
    void *x_predict; /* (n_predict, d) in prec, or NULL */
};

/* Copies n doubles into a new array of the given precision. */
static void *convert_alloc(bnn_precision prec, const double *src, size_t n)
{
    void *dst = malloc(n ? n * (size_t)prec : 1);
    if (!dst) return NULL;
    if (prec == BNN_F32)
        for (size_t i = 0; i < n; i++) ((float *)dst)[i] = (float)src[i];
    else if (n) /* memcpy from NULL is undefined even for 0 bytes (no training rows) */
        memcpy(dst, src, n * sizeof(double));
    return dst;
}

bnn_status bnn_cpu_data_alloc(bnn_precision prec, size_t d, const double *x_train,
                              const double *y_train, size_t n_train, const double *x_predict,
                              size_t n_predict, size_t block_rows, bnn_cpu_data **out)
{
    if (block_rows == 0) return BNN_ERROR(BNN_EINVAL, "block size must be positive");
    bnn_cpu_data *c = calloc(1, sizeof *c);
    if (!c) return BNN_ERROR(BNN_ENOMEM, "out of memory for the training data");
    *c = (bnn_cpu_data){.prec = prec, .d = d, .n_train = n_train, .n_predict = n_predict,
                        .block_rows = block_rows};
    c->x_train = convert_alloc(prec, x_train, n_train * d);
    c->y_train = malloc((n_train ? n_train : 1) * sizeof(double));
    if (x_predict) c->x_predict = convert_alloc(prec, x_predict, n_predict * d);
    if (!c->x_train || !c->y_train || (x_predict && !c->x_predict)) {
        bnn_cpu_data_free(c);
        return BNN_ERROR(BNN_ENOMEM, "out of memory for the training data");
    }
    if (n_train) memcpy(c->y_train, y_train, n_train * sizeof(double));
    *out = c;
    return BNN_OK;
}

void bnn_cpu_data_free(bnn_cpu_data *c)
{
    if (!c) return;
    free(c->x_train);
    free(c->y_train);
    free(c->x_predict);
    free(c);
}

struct cpu_backend {
    const bnn_net *net;
    const bnn_cpu_data *data;
    bnn_team *team;
    size_t n_threads;
    void *theta;      /* θ in the data's precision (n_params) */
    void **work;      /* per thread: block workspace */
    void **partial;   /* per thread: one block's gradient (n_params) in prec */
    /* state of the current reduction */
    double *grad;     /* destination (n_params) or NULL */
    double loglik;
    double *predict_out;
    atomic_size_t next_block;
    atomic_size_t turn; /* the block whose partial sum is added next */
};

static const void *row_ptr(const bnn_cpu_data *d, const void *x, size_t row)
{
    return (const char *)x + row * d->d * (size_t)d->prec;
}

/* One member's share of the gradient: claims blocks in increasing order and adds each block's
 * result to the total only when it is that block's turn, so the sum order is fixed. */
static void loglik_member(void *arg, size_t member, size_t n_members)
{
    (void)n_members;
    struct cpu_backend *b = arg;
    const bnn_cpu_data *d = b->data;
    const size_t n_blocks = (d->n_train + d->block_rows - 1) / d->block_rows;
    const size_t P = b->net->n_params;
    for (;;) {
        size_t k = atomic_fetch_add(&b->next_block, 1);
        if (k >= n_blocks) return;
        size_t first = k * d->block_rows;
        size_t rows = d->n_train - first < d->block_rows ? d->n_train - first : d->block_rows;
        void *part = b->grad ? b->partial[member] : NULL;
        double ll = b->net->ops->block_loglik(b->net->impl, d->prec, b->theta,
                                              row_ptr(d, d->x_train, first), d->y_train + first,
                                              rows, part, b->work[member]);
        while (atomic_load_explicit(&b->turn, memory_order_acquire) != k) sched_yield();
        b->loglik += ll;
        if (part) {
            if (d->prec == BNN_F32)
                for (size_t i = 0; i < P; i++) b->grad[i] += ((const float *)part)[i];
            else
                for (size_t i = 0; i < P; i++) b->grad[i] += ((const double *)part)[i];
        }
        atomic_store_explicit(&b->turn, k + 1, memory_order_release);
    }
}

static void set_theta(struct cpu_backend *b, const double *theta)
{
    const size_t P = b->net->n_params;
    if (b->data->prec == BNN_F32)
        for (size_t i = 0; i < P; i++) ((float *)b->theta)[i] = (float)theta[i];
    else
        memcpy(b->theta, theta, P * sizeof(double));
}

static bnn_status cpu_loglik_grad(void *ctx, const double *theta, double *grad, double *loglik)
{
    struct cpu_backend *b = ctx;
    set_theta(b, theta);
    b->grad = grad;
    b->loglik = 0;
    if (grad) memset(grad, 0, b->net->n_params * sizeof(double));
    atomic_store(&b->next_block, 0);
    atomic_store(&b->turn, 0);
    bnn_team_run(b->team, loglik_member, b);
    *loglik = b->loglik;
    return BNN_OK;
}

/* Predictions are independent per block: members take blocks in any order. */
static void predict_member(void *arg, size_t member, size_t n_members)
{
    (void)n_members;
    struct cpu_backend *b = arg;
    const bnn_cpu_data *d = b->data;
    const size_t n_blocks = (d->n_predict + d->block_rows - 1) / d->block_rows;
    const size_t k_out = b->net->n_outputs;
    for (;;) {
        size_t k = atomic_fetch_add(&b->next_block, 1);
        if (k >= n_blocks) return;
        size_t first = k * d->block_rows;
        size_t rows = d->n_predict - first < d->block_rows ? d->n_predict - first : d->block_rows;
        b->net->ops->block_predict(b->net->impl, d->prec, b->theta,
                                   row_ptr(d, d->x_predict, first), rows,
                                   b->predict_out + first * k_out, b->work[member]);
    }
}

static bnn_status cpu_predict(void *ctx, const double *theta, double *out)
{
    struct cpu_backend *b = ctx;
    if (!b->data->x_predict) return BNN_ERROR(BNN_EINVAL, "no prediction inputs were given");
    set_theta(b, theta);
    b->predict_out = out;
    atomic_store(&b->next_block, 0);
    bnn_team_run(b->team, predict_member, b);
    return BNN_OK;
}

static void cpu_free(void *ctx)
{
    struct cpu_backend *b = ctx;
    if (!b) return;
    bnn_team_free(b->team);
    for (size_t t = 0; t < b->n_threads; t++) {
        if (b->work) free(b->work[t]);
        if (b->partial) free(b->partial[t]);
    }
    free(b->work);
    free(b->partial);
    free(b->theta);
    free(b);
}

static const bnn_backend_ops cpu_ops = {
    .name = "cpu", .loglik_grad = cpu_loglik_grad, .predict = cpu_predict, .free = cpu_free};

bnn_status bnn_cpu_backend_alloc(const bnn_net *net, const bnn_cpu_data *data,
                                 size_t n_threads, bnn_backend *out)
{
    if (n_threads == 0) return BNN_ERROR(BNN_EINVAL, "--threads must be at least 1");
    struct cpu_backend *b = calloc(1, sizeof *b);
    if (!b) return BNN_ERROR(BNN_ENOMEM, "out of memory for the CPU backend");
    b->net = net;
    b->data = data;
    b->n_threads = n_threads;
    const size_t prec = (size_t)data->prec;
    b->theta = malloc(net->n_params * prec);
    b->work = calloc(n_threads, sizeof *b->work);
    b->partial = calloc(n_threads, sizeof *b->partial);
    int ok = b->theta && b->work && b->partial;
    for (size_t t = 0; ok && t < n_threads; t++) {
        b->work[t] = malloc(net->ops->workspace_len(net->impl, data->block_rows) * prec);
        b->partial[t] = malloc(net->n_params * prec);
        ok = b->work[t] && b->partial[t];
    }
    if (!ok) {
        cpu_free(b);
        return BNN_ERROR(BNN_ENOMEM, "out of memory for the CPU backend workspaces");
    }
    bnn_status s = bnn_team_alloc(n_threads, &b->team);
    if (s != BNN_OK) {
        cpu_free(b);
        return s;
    }
    out->ops = &cpu_ops;
    out->ctx = b;
    return BNN_OK;
}
