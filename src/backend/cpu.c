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
    bnn_shard_layout shards;
    size_t first_block;  /* global index of the first local block */
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
    c->shards = (bnn_shard_layout){.n_total = n_train, .n_shards = 1, .n_local = 1};
    *out = c;
    return BNN_OK;
}

void bnn_cpu_data_set_targets(bnn_cpu_data *data, const double *y_train)
{
    if (data->n_train) memcpy(data->y_train, y_train, data->n_train * sizeof(double));
}

void bnn_shard_blocks(const bnn_shard_layout *l, size_t block_rows, size_t s, size_t *k0,
                      size_t *k1)
{
    const size_t n_blocks = (l->n_total + block_rows - 1) / block_rows;
    *k0 = s * n_blocks / l->n_shards;
    *k1 = (s + 1) * n_blocks / l->n_shards;
}

void bnn_shard_layout_for(size_t n_total, size_t block_rows, size_t n_shards, size_t rank,
                          size_t n_ranks, bnn_shard_layout *l, size_t *row0, size_t *row1)
{
    *l = (bnn_shard_layout){.n_total = n_total, .n_shards = n_shards};
    l->first_shard = rank * n_shards / n_ranks;
    l->n_local = (rank + 1) * n_shards / n_ranks - l->first_shard;
    size_t k0, k1, unused;
    bnn_shard_blocks(l, block_rows, l->first_shard, &k0, &unused);
    bnn_shard_blocks(l, block_rows, l->first_shard + l->n_local - 1, &unused, &k1);
    if (l->n_local == 0) k1 = k0;
    *row0 = k0 * block_rows < n_total ? k0 * block_rows : n_total;
    *row1 = k1 * block_rows < n_total ? k1 * block_rows : n_total;
}

bnn_status bnn_cpu_data_set_shards(bnn_cpu_data *c, const bnn_shard_layout *l)
{
    if (l->n_shards == 0 || l->first_shard + l->n_local > l->n_shards)
        return BNN_ERROR(BNN_EINVAL, "invalid shard layout (%zu of %zu shards from %zu)",
                         l->n_local, l->n_shards, l->first_shard);
    size_t row0, row1, k0, k1, unused;
    bnn_shard_blocks(l, c->block_rows, l->first_shard, &k0, &unused);
    bnn_shard_blocks(l, c->block_rows, l->first_shard + l->n_local - 1, &unused, &k1);
    if (l->n_local == 0) k1 = k0;
    row0 = k0 * c->block_rows < l->n_total ? k0 * c->block_rows : l->n_total;
    row1 = k1 * c->block_rows < l->n_total ? k1 * c->block_rows : l->n_total;
    if (row1 - row0 != c->n_train)
        return BNN_ERROR(BNN_EINVAL, "the shards hold %zu training rows, the data %zu",
                         row1 - row0, c->n_train);
    c->shards = *l;
    c->first_block = k0;
    return BNN_OK;
}

const bnn_shard_layout *bnn_cpu_data_shards(const bnn_cpu_data *c) { return &c->shards; }

size_t bnn_cpu_data_block_rows(const bnn_cpu_data *c) { return c->block_rows; }

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
    double *shard_grad; /* (n_params) sum of the current shard's blocks */
    double shard_ll;
    double *shard_out;  /* NULL: add shards into grad/loglik; else per-shard output */
    double *predict_out;
    const size_t *rows; /* mini-batch: training rows of the current reduction (n_rows) */
    size_t n_rows;
    void **gather_x;    /* per thread: one block of the batch's inputs (block_rows, d) in prec,
                           allocated at the first mini-batch */
    double **gather_y;  /* per thread: its targets (block_rows) */
    atomic_size_t next_block;
    atomic_size_t turn; /* the block whose partial sum is added next */
};

static const void *row_ptr(const bnn_cpu_data *d, const void *x, size_t row)
{
    return (const char *)x + row * d->d * (size_t)d->prec;
}

/* acc (n) = part (n, float or double) if first, else acc + part: one rounding per number, so the
 * AVX-512 and AVX2 builds of this loop (chosen at load time) give the same bits as the plain one. */
__attribute__((target_clones("avx512f", "avx2", "default"))) static void
add_partial(double *restrict acc, const void *restrict part, bnn_precision prec, size_t n,
            int first)
{
    if (prec == BNN_F32) {
        const float *p = part;
        if (first)
            for (size_t i = 0; i < n; i++) acc[i] = p[i];
        else
            for (size_t i = 0; i < n; i++) acc[i] += p[i];
    } else {
        const double *p = part;
        if (first)
            for (size_t i = 0; i < n; i++) acc[i] = p[i];
        else
            for (size_t i = 0; i < n; i++) acc[i] += p[i];
    }
}

/* Adds block k's result (ll, partial) to its shard's sum; when the shard is complete, adds it
 * to the total (or stores it for a data-parallel backend). Called in block order. */
static void reduce_block(struct cpu_backend *b, size_t k, double ll, const void *part)
{
    const bnn_cpu_data *d = b->data;
    const bnn_shard_layout *l = &d->shards;
    const size_t P = b->net->n_params, kg = d->first_block + k;
    size_t s = l->first_shard, k0, k1;
    for (;; s++) {
        bnn_shard_blocks(l, d->block_rows, s, &k0, &k1);
        if (kg < k1) break;
    }
    const int first = kg == k0;
    b->shard_ll = first ? ll : b->shard_ll + ll;
    if (part) add_partial(b->shard_grad, part, d->prec, P, first);
    if (kg + 1 != k1) return;
    if (b->shard_out) {
        double *o = b->shard_out + (s - l->first_shard) * (1 + P);
        o[0] = b->shard_ll;
        if (part) memcpy(o + 1, b->shard_grad, P * sizeof(double));
        return;
    }
    b->loglik += b->shard_ll;
    if (part)
        for (size_t i = 0; i < P; i++) b->grad[i] += b->shard_grad[i];
}

/* One member's share of the gradient: claims blocks in increasing order and reduces each
 * block's result only when it is that block's turn, so the sum order is fixed. */
static void loglik_member(void *arg, size_t member, size_t n_members)
{
    (void)n_members;
    struct cpu_backend *b = arg;
    const bnn_cpu_data *d = b->data;
    const size_t n_blocks = (d->n_train + d->block_rows - 1) / d->block_rows;
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
        reduce_block(b, k, ll, part);
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
    b->shard_out = NULL;
    if (grad) memset(grad, 0, b->net->n_params * sizeof(double));
    atomic_store(&b->next_block, 0);
    atomic_store(&b->turn, 0);
    bnn_team_run(b->team, loglik_member, b);
    *loglik = b->loglik;
    return BNN_OK;
}

bnn_status bnn_cpu_loglik_grad_shards(void *ctx, const double *theta, double *out)
{
    struct cpu_backend *b = ctx;
    const size_t P = b->net->n_params;
    set_theta(b, theta);
    b->grad = b->shard_grad; /* non-NULL: gradients wanted */
    b->shard_out = out;
    memset(out, 0, b->data->shards.n_local * (1 + P) * sizeof(double));
    atomic_store(&b->next_block, 0);
    atomic_store(&b->turn, 0);
    bnn_team_run(b->team, loglik_member, b);
    b->shard_out = NULL;
    return BNN_OK;
}

/* One member's share of a mini-batch gradient: block k of the batch is positions
 * [k·block_rows, ...) of rows[], gathered into the member's buffer; blocks are added to the
 * total in order (as in loglik_member, without shards). */
static void rows_member(void *arg, size_t member, size_t n_members)
{
    (void)n_members;
    struct cpu_backend *b = arg;
    const bnn_cpu_data *d = b->data;
    const size_t n_blocks = (b->n_rows + d->block_rows - 1) / d->block_rows;
    const size_t P = b->net->n_params, row_bytes = d->d * (size_t)d->prec;
    for (;;) {
        size_t k = atomic_fetch_add(&b->next_block, 1);
        if (k >= n_blocks) return;
        const size_t first = k * d->block_rows;
        const size_t n = b->n_rows - first < d->block_rows ? b->n_rows - first : d->block_rows;
        char *x = b->gather_x[member];
        double *y = b->gather_y[member];
        for (size_t i = 0; i < n; i++) {
            const size_t r = b->rows[first + i];
            memcpy(x + i * row_bytes, row_ptr(d, d->x_train, r), row_bytes);
            y[i] = d->y_train[r];
        }
        void *part = b->grad ? b->partial[member] : NULL;
        double ll = b->net->ops->block_loglik(b->net->impl, d->prec, b->theta, x, y, n, part,
                                              b->work[member]);
        while (atomic_load_explicit(&b->turn, memory_order_acquire) != k) sched_yield();
        b->loglik += ll;
        if (part) add_partial(b->grad, part, d->prec, P, 0);
        atomic_store_explicit(&b->turn, k + 1, memory_order_release);
    }
}

static void free_gather(struct cpu_backend *b)
{
    for (size_t t = 0; t < b->n_threads; t++) {
        if (b->gather_x) free(b->gather_x[t]);
        if (b->gather_y) free(b->gather_y[t]);
    }
    free(b->gather_x);
    free(b->gather_y);
    b->gather_x = NULL;
    b->gather_y = NULL;
}

/* Buffers for one block of a mini-batch per thread. */
static bnn_status alloc_gather(struct cpu_backend *b)
{
    const bnn_cpu_data *d = b->data;
    b->gather_x = calloc(b->n_threads, sizeof *b->gather_x);
    b->gather_y = calloc(b->n_threads, sizeof *b->gather_y);
    int ok = b->gather_x && b->gather_y;
    for (size_t t = 0; ok && t < b->n_threads; t++) {
        b->gather_x[t] = malloc(d->block_rows * (d->d ? d->d : 1) * (size_t)d->prec);
        b->gather_y[t] = malloc(d->block_rows * sizeof(double));
        ok = b->gather_x[t] && b->gather_y[t];
    }
    if (ok) return BNN_OK;
    free_gather(b);
    return BNN_ERROR(BNN_ENOMEM, "out of memory for the mini-batch buffers");
}

static bnn_status cpu_loglik_grad_rows(void *ctx, const double *theta, const size_t *rows,
                                       size_t n_rows, double *grad, double *loglik)
{
    struct cpu_backend *b = ctx;
    const bnn_cpu_data *d = b->data;
    for (size_t i = 0; i < n_rows; i++)
        if (rows[i] >= d->n_train)
            return BNN_ERROR(BNN_EINVAL, "mini-batch row %zu is outside the %zu training rows",
                             rows[i], d->n_train);
    if (!b->gather_x) BNN_TRY(alloc_gather(b)); /* at the first mini-batch */
    set_theta(b, theta);
    b->grad = grad;
    b->loglik = 0;
    b->rows = rows;
    b->n_rows = n_rows;
    if (grad) memset(grad, 0, b->net->n_params * sizeof(double));
    atomic_store(&b->next_block, 0);
    atomic_store(&b->turn, 0);
    bnn_team_run(b->team, rows_member, b);
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
    free_gather(b);
    free(b->work);
    free(b->partial);
    free(b->shard_grad);
    free(b->theta);
    free(b);
}

static const bnn_backend_ops cpu_ops = {
    .name = "cpu", .loglik_grad = cpu_loglik_grad, .loglik_grad_rows = cpu_loglik_grad_rows,
    .predict = cpu_predict, .free = cpu_free};

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
    b->shard_grad = malloc((net->n_params ? net->n_params : 1) * sizeof(double));
    int ok = b->theta && b->work && b->partial && b->shard_grad;
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
