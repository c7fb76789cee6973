/* The MPI side of a run: the data-parallel backend for each chain group (each with its own
 * communicator, so that groups running in different threads never share a collective; the
 * per-iteration state check uses it too), the start-up barriers, rank groups that run
 * different chains, and the exchange of the chains' counts for run.json. */
#include "sample/run_mpi.h"

#include <stdlib.h>
#include <string.h>

#include "backend/mpi.h"
#include "sample/run_internal.h"

/* The run's communicators: every rank of the run, and this rank's group (the ranks that run
 * the same chains data-parallel). */
struct comms {
    MPI_Comm world, group;
};

static const struct comms *run_comms(const struct bnn_run *r) { return r->comm_ctx; }

static bnn_status wrap_backend(struct bnn_run *r, bnn_backend *backend)
{
    return bnn_mpi_backend_alloc(*backend, r->cpu_data, r->model.n_params, run_comms(r)->group,
                                 backend);
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

static void barrier(struct bnn_run *r) { MPI_Barrier(run_comms(r)->world); }

/* Per chain: iterations, model-average count, rows of the four arrays and log records — from
 * the writer of the rank group that ran it, summed over the run (zeros elsewhere). */
static bnn_status share_counts(struct bnn_run *r)
{
    enum { N = 7 };
    const size_t K = r->cfg.chains;
    unsigned long long *mine = calloc(K * N, sizeof *mine), *all = calloc(K * N, sizeof *all);
    if (!mine || !all) {
        free(mine);
        free(all);
        return BNN_ERROR(BNN_ENOMEM, "out of memory");
    }
    for (size_t k = 0; r->writer && k < r->n_owned; k++) {
        const struct chain *ch = &r->chains[r->owned[k]];
        unsigned long long *v = mine + r->owned[k] * N;
        v[0] = ch->iter;
        v[1] = ch->n_bma;
        v[2] = ch->files.stats.rows;
        v[3] = ch->files.weights.rows;
        v[4] = ch->files.fs.rows;
        v[5] = ch->files.warmup_fs.rows;
        v[6] = ch->files.log.n_records;
    }
    int rc = MPI_Allreduce(mine, all, (int)(K * N), MPI_UNSIGNED_LONG_LONG, MPI_SUM,
                           run_comms(r)->world);
    for (size_t c = 0; rc == MPI_SUCCESS && c < K; c++) {
        struct chain *ch = &r->chains[c];
        const unsigned long long *v = all + c * N;
        ch->iter = v[0];
        ch->n_bma = v[1];
        ch->files.stats.rows = v[2];
        ch->files.weights.rows = v[3];
        ch->files.fs.rows = v[4];
        ch->files.warmup_fs.rows = v[5];
        ch->files.log.n_records = v[6];
    }
    free(mine);
    free(all);
    return rc == MPI_SUCCESS ? BNN_OK : BNN_ERROR(BNN_EIO, "MPI_Allreduce failed");
}

static void free_ctx(struct bnn_run *r)
{
    struct comms *c = r->comm_ctx;
    if (c && c->group != MPI_COMM_NULL) MPI_Comm_free(&c->group);
}

static const struct run_comm mpi_run_comm = {.wrap_backend = wrap_backend,
                                             .free_ctx = free_ctx,
                                             .check_state = check_state,
                                             .barrier = barrier,
                                             .share_counts = share_counts};

bnn_status bnn_run_start_mpi(const bnn_run_config *cfg, const bnn_dataset *data,
                             const bnn_dataset_options *data_opt, MPI_Comm comm, bnn_run **out)
{
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    const size_t G = cfg->rank_groups ? cfg->rank_groups : 1;
    if ((size_t)size % G != 0 || G > cfg->chains)
        return BNN_ERROR(BNN_EINVAL, "--rank-groups %zu must divide the %d MPI ranks and be at "
                                     "most --chains %zu", G, size, cfg->chains);
    struct bnn_run *r = calloc(1, sizeof *r);
    struct comms *c = malloc(sizeof *c);
    if (!r || !c) {
        free(r);
        free(c);
        return BNN_ERROR(BNN_ENOMEM, "out of memory");
    }
    const int per_group = size / (int)G, color = rank / per_group;
    c->world = comm;
    if (MPI_Comm_split(comm, color, rank, &c->group) != MPI_SUCCESS) {
        free(r);
        free(c);
        return BNN_ERROR(BNN_EIO, "MPI_Comm_split failed");
    }
    r->cfg = *cfg;
    r->data = data;
    r->rank = (size_t)(rank % per_group);
    r->n_ranks = (size_t)per_group;
    r->writer = r->rank == 0;
    r->json_writer = rank == 0;
    r->rank_group = (size_t)color;
    r->n_rank_groups = G;
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
