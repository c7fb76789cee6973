/* The MPI data-parallel backend: local shard sums, then a reduce-scatter and an all-gather
 * that add every number over the shards in shard order (the single process's order).
 *
 * A gradient is the vector v = (log-likelihood, ∇) of V = 1 + P numbers per shard. Rank r owns
 * the slice [c_r, c_{r+1}) of v (c_r = r·V/R). One MPI_Alltoallv sends every rank the slice it
 * owns of each shard this rank holds; it adds the S shard slices in shard order; one
 * MPI_Allgatherv gives every rank the whole sum. Each number is summed exactly as before, so
 * the bits equal a single process's, and a rank receives S·V/R + V·(R−1)/R numbers instead of
 * S·V. */
#include "backend/mpi.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

struct mpi_backend {
    bnn_backend cpu;
    MPI_Comm comm;
    bnn_shard_layout global;   /* all shards, from shard 0 */
    size_t block_rows, n_params, n_local;
    int n_ranks, rank;
    unsigned char *used;       /* (n_shards) 1: the shard has blocks (empty ones are skipped) */
    size_t *slice;             /* (R + 1) c_r: rank r owns numbers [c_r, c_{r+1}) of v */
    double *local;             /* (n_local, V) this rank's shard sums */
    double *send;              /* (n_local, V) the same, grouped by the rank owning each slice */
    double *recv;              /* (n_shards, own slice) every shard's part of the own slice */
    double *sum;               /* (V) the whole sum; the own slice is summed in place */
    int *send_counts, *send_displs, *recv_counts, *recv_displs, *slice_counts, *slice_displs;
    double comm_seconds, total_seconds; /* in the two collectives, and in whole gradients */
};

static bnn_status mpi_loglik_grad(void *ctx, const double *theta, double *grad, double *loglik)
{
    struct mpi_backend *b = ctx;
    const size_t V = 1 + b->n_params, S = b->global.n_shards, R = (size_t)b->n_ranks;
    const double t0 = MPI_Wtime();
    BNN_TRY(bnn_cpu_loglik_grad_shards(b->cpu.ctx, theta, b->local));
    double *out = b->send;
    for (size_t r = 0; r < R; r++) { /* rank r's slice of each local shard, shards in order */
        const size_t c0 = b->slice[r], len = b->slice[r + 1] - c0;
        for (size_t s = 0; s < b->n_local; s++, out += len)
            memcpy(out, b->local + s * V + c0, len * sizeof(double));
    }
    const double t1 = MPI_Wtime();
    int rc = MPI_Alltoallv(b->send, b->send_counts, b->send_displs, MPI_DOUBLE, b->recv,
                           b->recv_counts, b->recv_displs, MPI_DOUBLE, b->comm);
    const double t2 = MPI_Wtime();
    if (rc != MPI_SUCCESS) return BNN_ERROR(BNN_EIO, "MPI_Alltoallv failed (code %d)", rc);
    const size_t c0 = b->slice[b->rank], len = b->slice[b->rank + 1] - c0;
    for (size_t i = 0; i < len; i++) { /* the own slice, over the shards in shard order */
        double acc = 0;
        for (size_t s = 0; s < S; s++)
            if (b->used[s]) acc += b->recv[s * len + i];
        b->sum[c0 + i] = acc;
    }
    const double t3 = MPI_Wtime();
    rc = MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DOUBLE, b->sum, b->slice_counts, b->slice_displs,
                        MPI_DOUBLE, b->comm);
    const double t4 = MPI_Wtime();
    b->comm_seconds += (t2 - t1) + (t4 - t3);
    b->total_seconds += t4 - t0;
    if (rc != MPI_SUCCESS) return BNN_ERROR(BNN_EIO, "MPI_Allgatherv failed (code %d)", rc);
    *loglik = b->sum[0];
    if (grad) memcpy(grad, b->sum + 1, b->n_params * sizeof(double));
    return BNN_OK;
}

static bnn_status mpi_predict(void *ctx, const double *theta, double *out)
{
    struct mpi_backend *b = ctx;
    return b->cpu.ops->predict(b->cpu.ctx, theta, out);
}

static void mpi_free(void *ctx)
{
    struct mpi_backend *b = ctx;
    if (!b) return;
    bnn_backend_free(&b->cpu);
    if (b->comm != MPI_COMM_NULL) MPI_Comm_free(&b->comm);
    void *bufs[] = {b->used,        b->slice,       b->local,       b->send,
                    b->recv,        b->sum,         b->send_counts, b->send_displs,
                    b->recv_counts, b->recv_displs, b->slice_counts, b->slice_displs};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
    free(b);
}

static const bnn_backend_ops mpi_ops = {
    .name = "mpi", .loglik_grad = mpi_loglik_grad, .predict = mpi_predict, .free = mpi_free};

/* Gathers every rank's (first_shard, n_local), checks that the ranks hold the shards in order,
 * and sets the slices and the two collectives' counts and displacements (in doubles). */
static bnn_status exchange_layout(struct mpi_backend *b, const bnn_shard_layout *mine)
{
    const size_t R = (size_t)b->n_ranks, V = 1 + b->n_params, S = b->global.n_shards;
    unsigned long long me[2] = {mine->first_shard, mine->n_local};
    unsigned long long *all = malloc(2 * R * sizeof *all);
    if (!all) return BNN_ERROR(BNN_ENOMEM, "out of memory");
    MPI_Allgather(me, 2, MPI_UNSIGNED_LONG_LONG, all, 2, MPI_UNSIGNED_LONG_LONG, b->comm);
    bnn_status s = BNN_OK;
    if (S > INT_MAX / V)
        s = BNN_ERROR(BNN_EINVAL, "%zu shards of %zu numbers are too large for one MPI message",
                      S, V);
    for (size_t r = 0; r <= R; r++) b->slice[r] = r * V / R;
    const size_t own = b->slice[b->rank + 1] - b->slice[b->rank];
    size_t next = 0, sent = 0;
    for (size_t r = 0; s == BNN_OK && r < R; r++) {
        if (all[2 * r] != next) {
            s = BNN_ERROR(BNN_EINVAL, "rank %zu holds shards from %llu, expected %zu", r,
                          all[2 * r], next);
            break;
        }
        const size_t len = b->slice[r + 1] - b->slice[r];
        b->send_counts[r] = (int)(b->n_local * len);
        b->send_displs[r] = (int)sent;
        sent += b->n_local * len;
        b->recv_counts[r] = (int)(all[2 * r + 1] * own);
        b->recv_displs[r] = (int)(next * own);
        b->slice_counts[r] = (int)len;
        b->slice_displs[r] = (int)b->slice[r];
        next += all[2 * r + 1];
    }
    if (s == BNN_OK && next != S)
        s = BNN_ERROR(BNN_EINVAL, "the ranks hold %zu of %zu shards", next, S);
    free(all);
    return s;
}

bnn_status bnn_mpi_backend_alloc(bnn_backend cpu, const bnn_cpu_data *data, size_t n_params,
                                 MPI_Comm comm, bnn_backend *out)
{
    struct mpi_backend *b = calloc(1, sizeof *b);
    if (!b) {
        bnn_backend_free(&cpu);
        return BNN_ERROR(BNN_ENOMEM, "out of memory");
    }
    b->cpu = cpu;
    b->comm = MPI_COMM_NULL;
    const bnn_shard_layout *mine = bnn_cpu_data_shards(data);
    b->global = *mine;
    b->global.first_shard = 0;
    b->global.n_local = mine->n_shards;
    b->block_rows = bnn_cpu_data_block_rows(data);
    b->n_params = n_params;
    b->n_local = mine->n_local;
    bnn_status s = MPI_Comm_dup(comm, &b->comm) == MPI_SUCCESS
                       ? BNN_OK
                       : BNN_ERROR(BNN_EIO, "MPI_Comm_dup failed");
    if (s == BNN_OK) {
        MPI_Comm_size(b->comm, &b->n_ranks);
        MPI_Comm_rank(b->comm, &b->rank);
    }
    const size_t R = (size_t)b->n_ranks, V = 1 + n_params, S = mine->n_shards;
    const size_t n_local = b->n_local ? b->n_local : 1;
    if (s == BNN_OK) {
        b->used = malloc(S ? S : 1);
        b->slice = malloc((R + 1) * sizeof *b->slice);
        b->local = malloc(n_local * V * sizeof(double));
        b->send = malloc(n_local * V * sizeof(double));
        b->recv = malloc(S * (V / R + 1) * sizeof(double)); /* a slice is at most ⌈V/R⌉ */
        b->sum = malloc(V * sizeof(double));
        int **counts[] = {&b->send_counts, &b->send_displs,  &b->recv_counts,
                          &b->recv_displs, &b->slice_counts, &b->slice_displs};
        for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
            *counts[i] = malloc(R * sizeof(int));
        int ok = b->used && b->slice && b->local && b->send && b->recv && b->sum;
        for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) ok = ok && *counts[i];
        if (!ok) s = BNN_ERROR(BNN_ENOMEM, "out of memory");
    }
    if (s == BNN_OK) s = exchange_layout(b, mine);
    for (size_t sh = 0; s == BNN_OK && sh < S; sh++) {
        size_t k0, k1;
        bnn_shard_blocks(&b->global, b->block_rows, sh, &k0, &k1);
        b->used[sh] = k0 != k1;
    }
    if (s != BNN_OK) {
        mpi_free(b);
        return s;
    }
    out->ops = &mpi_ops;
    out->ctx = b;
    return BNN_OK;
}

size_t bnn_mpi_backend_bytes_per_gradient(const bnn_backend *backend)
{
    const struct mpi_backend *b = backend->ctx;
    const size_t own = b->slice[b->rank + 1] - b->slice[b->rank];
    return (b->global.n_shards * own + (1 + b->n_params - own)) * sizeof(double);
}

double bnn_mpi_backend_comm_share(const bnn_backend *backend)
{
    const struct mpi_backend *b = backend->ctx;
    return b->total_seconds > 0 ? b->comm_seconds / b->total_seconds : 0;
}

MPI_Comm bnn_mpi_backend_comm(const bnn_backend *backend)
{
    return ((const struct mpi_backend *)backend->ctx)->comm;
}
