/* Shared between run.c (the chains) and run_json.c (their description in run.json). */
#ifndef BNN_SAMPLE_RUN_INTERNAL_H
#define BNN_SAMPLE_RUN_INTERNAL_H

#include <jansson.h>
#include <pthread.h>

#include "backend/cpu.h"
#include "backend/cuda.h"
#include "sample/adapt.h"
#include "sample/nuts.h"
#include "sample/run.h"
#include "store/init_source.h"
#include "store/run_store.h"

struct chain {
    size_t index;
    bnn_posterior post;       /* the chain's own: its hyperparameters are part of its state */
    bnn_hmc *hmc;             /* the chain's state (and the static HMC sampler) */
    bnn_nuts *nuts;           /* --sampler nuts: moves hmc's state; NULL for HMC */
    bnn_dual_avg dual_avg;
    bnn_mass_adapt mass;
    bnn_chain_files files;
    size_t iter;              /* iterations completed */
    double *probs;            /* (n_test, n_out) outputs at the current state */
    int probs_valid;
    double *bma_sum;          /* (n_test, n_out) Σ over sampling iterations */
    double *bma_logdens;      /* (n_test) regression: running log Σ p(y | θ) */
    double *bma_sumsq;        /* (n_test) regression: Σ E[y² | θ] = Σ (μ² + σ²) */
    size_t n_bma;
    void *row;                /* conversion buffer for one recorded row */
    double *fs_row;           /* (fs_points, n_out) the recorded function-space outputs */
    size_t *unit_scratch;     /* --symmetry-moves: one hidden layer's permutation */
    /* progress, read by bnn_run_poll under the run's lock */
    double accept_sum, step_size;
    size_t divergences, gradients;
    int restored;             /* state read from a checkpoint (resume) */
    double last_checkpoint;   /* time of the last checkpoint */
};

struct group {
    struct bnn_run *run;
    size_t index;
    bnn_backend backend;      /* shared by the group's chains */
    bnn_cuda_hmc *cuda_hmc;   /* --device cuda: the device sampler its chains take turns on,
                                 or (n_batch > 0) the one that runs them in lockstep */
    /* --device cuda with an MLP (bnn_run_cuda_batched): all the process's chains in one group,
     * one batched device iteration per round (n_batch = 0: the chains take turns) */
    size_t n_batch;
    struct chain **batch_chains; /* (n_batch) */
    int *batch_active, *batch_metropolis; /* (n_batch) this round's */
    bnn_hmc_stats *batch_stats;  /* (n_batch) */
    bnn_hmc **batch_hmc;         /* (n_batch) the chains' states */
    double **batch_probs;        /* (n_batch) the chains' predictive outputs */
    int *batch_want;             /* (n_batch) this round's chains whose outputs are computed */
    bnn_cuda_batch *cuda_batch;
    pthread_t thread;
    int started;
    bnn_status status;
    char error[1024];
};

struct bnn_run {
    bnn_run_config cfg;
    const bnn_dataset *data;
    bnn_net model;
    size_t n_out;             /* outputs per test input */
    size_t n_test;
    size_t *fs_index;         /* (fs_points) rows of the test set */
    bnn_cpu_data *cpu_data;
    bnn_cuda_data *cuda_data; /* --device cuda: the training data on the GPU (run_cuda.c) */
    struct chain *chains;
    struct group *groups;
    size_t n_groups;
    json_t *json;             /* run.json being built */
    pthread_mutex_t lock;
    double start_time;
    int finished_groups;
    int resume;               /* continue the chains from their checkpoints */
    /* data parallelism (run_mpi.c): this process is rank `rank` of n_ranks; only the writer
     * (rank 0) writes the run directory; comm is NULL for a single process */
    size_t rank, n_ranks;
    int writer;
    int json_writer;          /* writes run.json and the run-level arrays (world rank 0) */
    size_t rank_group, n_rank_groups; /* this process runs chains c ≡ rank_group (mod n) */
    size_t *owned;            /* the chains this process runs */
    size_t n_owned;
    bnn_init_source *init;    /* --init-from: where the chains start, or NULL */
    const struct run_comm *comm;
    void *comm_ctx;
    char warning[8192];       /* a recoverable problem met while resuming, for the caller */
};

/* What a multi-process run adds to the chains (see run_mpi.c). */
struct run_comm {
    /* wraps a group's CPU backend (over this rank's shards) into a data-parallel one */
    bnn_status (*wrap_backend)(struct bnn_run *r, bnn_backend *backend);
    /* after an iteration: fails if any rank's chain state differs from the others' */
    bnn_status (*check_state)(struct bnn_run *r, struct group *g, const struct chain *ch);
    void (*barrier)(struct bnn_run *r);     /* over every rank of the run */
    /* after the chains: gives every process the iteration and row counts of every chain
     * (chains of other rank groups) */
    bnn_status (*share_counts)(struct bnn_run *r);
    void (*free_ctx)(struct bnn_run *r);   /* releases what comm_ctx holds (not comm_ctx) */
};

/* Starts a run (after r->comm, rank fields are set): shared by bnn_run_start and the MPI
 * variant. */
bnn_status bnn_run_launch(struct bnn_run *r, const bnn_dataset_options *data_opt);

/* --device cuda: checks what the GPU backend supports and copies the data to the device
 * (run_cuda.c); a no-op for the CPU. */
bnn_status bnn_run_cuda_setup(struct bnn_run *r);

/* A chain group's backend: the CPU's over r->cpu_data, or the GPU's over r->cuda_data. */
bnn_status bnn_run_backend_alloc(struct bnn_run *r, size_t n_threads, bnn_backend *out);

/* 1 if the run's chains run batched in lockstep on the device (--device cuda with an MLP). */
int bnn_run_cuda_batched(const struct bnn_run *r);

/* One device iteration of the chains of g with g->batch_active set (their Metropolis tests as
 * g->batch_metropolis says), their states uploaded before and downloaded after (all chains at
 * once); statistics to g->batch_stats. Then the predictive outputs (ch->probs) of the active
 * chains whose outputs are not valid (accepted, or none yet), from the device state, all chains
 * in one forward pass, where the run records them. */
bnn_status bnn_run_cuda_iterate_batch(struct group *g);

/* One HMC iteration of a chain of group g: bnn_hmc_iterate on the CPU; with --device cuda the
 * whole trajectory on the device (the chain's state uploaded before and downloaded after). */
bnn_status bnn_run_hmc_iterate(struct group *g, struct chain *ch, int metropolis,
                               bnn_hmc_stats *st);

/* run.json: everything but the manifest (config, data, model, status "running"). */
json_t *bnn_run_describe(const struct bnn_run *r, const bnn_dataset_options *data_opt);

/* Adds the manifest of arrays with their final shapes, and sets the status. */
void bnn_run_describe_arrays(const struct bnn_run *r, json_t *root, const char *status);

/* If out_dir holds a run.json: decides whether this run resumes it (same configuration) or is
 * refused, naming the first setting that differs. Sets r->resume. */
bnn_status bnn_run_check_existing(struct bnn_run *r);

/* Writes chain ch's state (after fsync of its arrays) as its newest checkpoint. */
bnn_status bnn_run_chain_checkpoint(struct bnn_run *r, struct chain *ch);

/* Restores chain ch from its newest readable checkpoint: fills rows (stats, weights, fs,
 * warmup_fs, log records) with the lengths it recorded and sets *restored; leaves
 * *restored = 0 when the chain has no checkpoint. */
bnn_status bnn_run_chain_restore(struct bnn_run *r, struct chain *ch, size_t rows[5],
                                 int *restored);

#endif
