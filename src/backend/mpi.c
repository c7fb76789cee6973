/* The MPI data-parallel backend: local shard sums, all-gather, sum in shard order. */
#include "backend/mpi.h"

#include <stdlib.h>
#include <string.h>

struct mpi_backend {
    bnn_backend cpu;
    MPI_Comm comm;
    bnn_shard_layout global;   /* all shards, from shard 0 */
    size_t block_rows, n_params, n_local;
    double *local;             /* (n_local, 1 + P) this rank's shard sums */
    double *all;               /* (n_shards, 1 + P) every rank's, in shard order */
    int *counts, *displs;      /* per rank, in doubles */
    double comm_seconds, total_seconds; /* in MPI_Allgatherv, and in whole gradients */
};

static bnn_status mpi_loglik_grad(void *ctx, const double *theta, double *grad, double *loglik)
{
    struct mpi_backend *b = ctx;
    const size_t P = b->n_params;
    const double t0 = MPI_Wtime();
    BNN_TRY(bnn_cpu_loglik_grad_shards(b->cpu.ctx, theta, b->local));
    const double t1 = MPI_Wtime();
    int rc = MPI_Allgatherv(b->local, (int)(b->n_local * (1 + P)), MPI_DOUBLE, b->all, b->counts,
                            b->displs, MPI_DOUBLE, b->comm);
    const double t2 = MPI_Wtime();
    b->comm_seconds += t2 - t1;
    b->total_seconds += t2 - t0;
    if (rc != MPI_SUCCESS) return BNN_ERROR(BNN_EIO, "MPI_Allgatherv failed (code %d)", rc);
    *loglik = 0;
    if (grad) memset(grad, 0, P * sizeof(double));
    bnn_shard_sums_add(&b->global, b->block_rows, 0, b->all, b->global.n_shards, P, loglik, grad);
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
    free(b->local);
    free(b->all);
    free(b->counts);
    free(b->displs);
    free(b);
}

static const bnn_backend_ops mpi_ops = {
    .name = "mpi", .loglik_grad = mpi_loglik_grad, .predict = mpi_predict, .free = mpi_free};

/* Gathers every rank's (first_shard, n_local) into counts and displacements. */
static bnn_status exchange_layout(struct mpi_backend *b, const bnn_shard_layout *mine)
{
    int n_ranks;
    MPI_Comm_size(b->comm, &n_ranks);
    unsigned long long me[2] = {mine->first_shard, mine->n_local};
    unsigned long long *all = malloc(2 * (size_t)n_ranks * sizeof *all);
    b->counts = malloc((size_t)n_ranks * sizeof *b->counts);
    b->displs = malloc((size_t)n_ranks * sizeof *b->displs);
    if (!all || !b->counts || !b->displs) {
        free(all);
        return BNN_ERROR(BNN_ENOMEM, "out of memory");
    }
    MPI_Allgather(me, 2, MPI_UNSIGNED_LONG_LONG, all, 2, MPI_UNSIGNED_LONG_LONG, b->comm);
    bnn_status s = BNN_OK;
    size_t next = 0, stride = 1 + b->n_params;
    for (int r = 0; r < n_ranks; r++) {
        if (all[2 * r] != next || (all[2 * r + 1] + next) * stride > 0x7fffffffULL) {
            s = BNN_ERROR(BNN_EINVAL, "rank %d holds shards from %llu, expected %zu (or the "
                                      "gradients are too large for one MPI message)", r,
                          all[2 * r], next);
            break;
        }
        b->displs[r] = (int)(next * stride);
        b->counts[r] = (int)(all[2 * r + 1] * stride);
        next += all[2 * r + 1];
    }
    if (s == BNN_OK && next != b->global.n_shards)
        s = BNN_ERROR(BNN_EINVAL, "the ranks hold %zu of %zu shards", next, b->global.n_shards);
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
    if (s == BNN_OK) s = exchange_layout(b, mine);
    b->local = malloc((b->n_local ? b->n_local : 1) * (1 + n_params) * sizeof(double));
    b->all = malloc(mine->n_shards * (1 + n_params) * sizeof(double));
    if (s == BNN_OK && (!b->local || !b->all)) s = BNN_ERROR(BNN_ENOMEM, "out of memory");
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
    return b->global.n_shards * (1 + b->n_params) * sizeof(double);
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
