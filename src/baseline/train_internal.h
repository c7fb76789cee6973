/* Shared between train.c (configuration, chains and their steps), train_store.c (what a chain
 * records, and run.json) and train_resume.c (checkpoints). */
#ifndef BNN_BASELINE_TRAIN_INTERNAL_H
#define BNN_BASELINE_TRAIN_INTERNAL_H

#include <jansson.h>
#include <pthread.h>

#include "backend/cpu.h"
#include "baseline/adam.h"
#include "baseline/minibatch.h"
#include "baseline/sgmcmc.h"
#include "baseline/train.h"
#include "baseline/vi.h"
#include "store/run_store.h"

struct train_chain {
    size_t index;
    bnn_minibatch batches;
    bnn_sgmcmc *sg;           /* sgld, sghmc, csgmcmc */
    bnn_vi *vi;               /* vi */
    double *theta, *grad;     /* map, ensemble: the weights and a gradient (n_params) */
    bnn_adam adam;            /* map, ensemble */
    double *draw;             /* (n_params) vi: a draw from q */
    bnn_rng draw_rng;         /* vi: the stream of the draws from q, (seed, 2^29 + chain) */
    size_t step;              /* mini-batch steps done */
    double eps;               /* the step size (or Adam's α) of the last step */
    uint64_t *order;          /* (n_train) the epoch's batch order, as a checkpoint holds it */
    int restored;             /* state read from a checkpoint (resume) */
    int unsaved;              /* steps or draws since the last checkpoint */
    double last_checkpoint;   /* time of the last checkpoint */
    bnn_chain_files files;
    double *probs;            /* (n_test, n_out) predictions at the draw being recorded */
    double *bma_sum;          /* (n_test, n_out) Σ over draws */
    double *bma_logdens;      /* (n_test) regression: log Σ_draws p(y | θ) */
    double *bma_sumsq;        /* (n_test) regression: Σ_draws (μ² + σ²) */
    double *fs_row;           /* (fs_points, n_out) */
    void *row;                /* conversion buffer for one recorded row */
    size_t n_bma;
    size_t grads_since_draw;  /* mini-batch gradients since the last draw */
    /* progress, read by bnn_train_poll under the run's lock */
    size_t steps_done, draws;
    double objective, step_size;
};

struct train_group {
    struct bnn_train *run;
    size_t index;
    bnn_backend backend;
    bnn_posterior post;
    pthread_t thread;
    int started;
    bnn_status status;
    char error[1024];
};

struct bnn_train {
    bnn_train_config cfg;
    const bnn_dataset *data;
    bnn_net model;
    size_t n_out, n_test, n_train;
    size_t total_steps;       /* per chain */
    size_t *fs_index;         /* (fs_points) rows of the test set */
    bnn_cpu_data *cpu_data;
    struct train_chain *chains;
    struct train_group *groups;
    size_t n_groups;
    json_t *json;             /* run.json being built */
    pthread_mutex_t lock;
    double start_time;
    size_t finished_groups;
    int launched;             /* every group's thread was started */
    int resume;               /* continue the chains from their checkpoints */
    char warning[8192];       /* a recoverable problem met while resuming, for the caller */
};

/* run.json without the manifest (status "running"). */
json_t *bnn_train_describe(const struct bnn_train *t, const bnn_dataset_options *data_opt);

/* Adds the manifest of arrays with their final shapes, the draw counts, and the status. */
void bnn_train_describe_arrays(const struct bnn_train *t, json_t *root, const char *status);

/* Records one draw θ of chain ch: its full-data log-likelihood and prior, its predictions
 * (function-space row and the model-average sums), the stats row and the weights. */
bnn_status bnn_train_record_draw(struct bnn_train *t, struct train_group *g,
                                 struct train_chain *ch, const double *theta, double step_size,
                                 size_t step);

/* If the run directory holds a run.json: decides whether this run resumes it (the same
 * configuration) or is refused, naming the first setting that differs. Sets t->resume. */
bnn_status bnn_train_check_existing(struct bnn_train *t);

/* Writes chain ch's whole state (after fsync of its arrays) as its newest checkpoint. */
bnn_status bnn_train_chain_checkpoint(struct bnn_train *t, struct train_chain *ch);

/* Restores chain ch from its newest readable checkpoint: fills rows (stats, weights, fs,
 * warmup_fs, log records) with the lengths it recorded and sets ch->restored; leaves
 * ch->restored = 0 when the chain has no checkpoint. */
bnn_status bnn_train_chain_restore(struct bnn_train *t, struct train_chain *ch, size_t rows[5]);

/* The finished chain's model-average sums, final weights (and VI's σ). */
bnn_status bnn_train_write_chain_results(struct bnn_train *t, struct train_chain *ch,
                                         const double *final);

#endif
