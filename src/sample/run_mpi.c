/* The MPI side of a run: the data-parallel backend for each chain group (each with its own
 * communicator, so that groups running in different threads never share a collective; the
 * per-iteration state check uses it too), and the start-up barrier. */
#include "sample/run_mpi.h"

#include <stdlib.h>
#include <string.h>

#include "backend/mpi.h"
#include "sample/run_internal.h"

static MPI_Comm run_comm(const struct bnn_run *r) { return *(MPI_Comm *)r->comm_ctx; }

static bnn_status wrap_backend(struct bnn_run *r, bnn_backend *backend)
{
    return bnn_mpi_backend_alloc(*backend, r->cpu_data, r->model.n_params, run_comm(r), backend);
}

/* FNV-1a over the bytes of θ, the step size and the RNG counter. */
static unsigned long long state_hash(const struct chain *ch)
{
    const bnn_hmc *h = ch->hmc;
    unsigned long long x = 1469598103934665603ULL;
    const unsigned char *p = (const unsigned char *)h->theta;
    for (size_t i = 0; i < h->dim * sizeof(double); i++) x = (x ^ p[i]) * 1099511628211ULL;
    p = (const unsigned char *)&h->step_size;
    for (size_t i = 0; i < sizeof h->step_size; i++) x = (x ^ p[i]) * 1099511628211ULL;
    return x ^ h->rng.counter;
}

static bnn_status check_state(struct bnn_run *r, struct group *g, const struct chain *ch)
{
    unsigned long long mine[2], lo[2];
    mine[0] = state_hash(ch);
    mine[1] = ~mine[0];
    /* min of h and of ~h: both equal ours on every rank iff all hashes are equal */
    MPI_Comm comm = bnn_mpi_backend_comm(&g->backend);
    if (MPI_Allreduce(mine, lo, 2, MPI_UNSIGNED_LONG_LONG, MPI_MIN, comm) != MPI_SUCCESS)
        return BNN_ERROR(BNN_EIO, "MPI_Allreduce failed");
    if (lo[0] != mine[0] || lo[1] != mine[1])
        return BNN_ERROR(BNN_ENUM, "rank %zu: chain %zu's state after iteration %zu differs "
                                   "between MPI ranks", r->rank, ch->index, ch->iter);
    return BNN_OK;
}

static void barrier(struct bnn_run *r) { MPI_Barrier(run_comm(r)); }

static const struct run_comm mpi_run_comm = {
    .wrap_backend = wrap_backend, .check_state = check_state, .barrier = barrier};

bnn_status bnn_run_start_mpi(const bnn_run_config *cfg, const bnn_dataset *data,
                             const bnn_dataset_options *data_opt, MPI_Comm comm, bnn_run **out)
{
    struct bnn_run *r = calloc(1, sizeof *r);
    MPI_Comm *c = malloc(sizeof *c);
    if (!r || !c) {
        free(r);
        free(c);
        return BNN_ERROR(BNN_ENOMEM, "out of memory");
    }
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    *c = comm;
    r->cfg = *cfg;
    r->data = data;
    r->rank = (size_t)rank;
    r->n_ranks = (size_t)size;
    r->writer = rank == 0;
    r->comm = &mpi_run_comm;
    r->comm_ctx = c;
    pthread_mutex_init(&r->lock, NULL);
    *out = r;
    return bnn_run_launch(r, data_opt);
}

size_t bnn_run_comm_bytes_per_gradient(const bnn_run *r)
{
    if (!r->comm || r->n_groups == 0) return 0;
    return bnn_mpi_backend_bytes_per_gradient(&r->groups[0].backend);
}

double bnn_run_comm_share(const bnn_run *r)
{
    if (!r->comm || r->n_groups == 0) return 0;
    return bnn_mpi_backend_comm_share(&r->groups[0].backend);
}
