/* Diagnosis of a run directory (what `bnnmc sample` writes): R-hat and ESS of every weight and of
 * every recorded function-space output, plus sample statistics per chain. The JSON it writes is
 * documented in docs/diagnostics-json.md. */
#ifndef BNN_DIAG_DIAG_RUN_H
#define BNN_DIAG_DIAG_RUN_H

#include <stddef.h>

#include "core/status.h"
#include "diag/islands.h"
#include "diag/marginals.h"
#include "diag/null_rhat.h"
#include "store/run_store.h"

#define BNN_DIAG_N_WORST 10

/* One space (weights, or function-space outputs): per-quantity values and their summary. */
typedef struct {
    int present;                 /* 0: the run has no such arrays */
    size_t n;                    /* quantities (parameters, or points x outputs) */
    size_t draws;                /* draws per chain used (the common minimum over chains) */
    double *rhat, *ess_bulk, *ess_tail; /* (n) posterior's rhat, ess_bulk, ess_tail */
    size_t n_nan;                /* quantities whose rhat is NaN (e.g. constant draws) */
    /* Over the quantities whose value is not NaN; R's type-7 quantiles. */
    double rhat_q50, rhat_q90, rhat_q99, rhat_max;
    double frac_gt_101, frac_gt_105, frac_gt_110; /* fraction with rhat > 1.01, 1.05, 1.1 */
    double ess_bulk_min, ess_bulk_median, ess_tail_min, ess_tail_median;
    size_t worst[BNN_DIAG_N_WORST]; /* quantities by decreasing rhat (NaN last) */
    size_t n_worst;
    /* Nested R-hat (posterior's rhat_nested) with the run's superchains; NULL without them. */
    double *rhat_nested;         /* (n) */
    double nested_q50, nested_q90, nested_q99, nested_max;
    double nested_frac_gt_101, nested_frac_gt_105, nested_frac_gt_110;
    /* Weight spaces: (4, n) per quantity the means over all draws of x, x², x³, x⁴. */
    double *moments;
    /* Function space: (K, n) per-chain means, and (K (K - 1) / 2, n) the 2-chain R-hat of
     * every pair of chains (order of bnn_islands_pair_index). */
    double *chain_mean, *pair_rhat;
    int has_null;
    bnn_null_rhat null;          /* the null reference for this space's R-hat */
} bnn_diag_space;

/* Sample statistics of one chain over its sampling-phase iterations (phase 2). */
typedef struct {
    size_t iterations;           /* sampling iterations recorded */
    double accept_prob;          /* mean Metropolis acceptance probability */
    double accept_rate;          /* fraction of accepted proposals */
    size_t divergences;
    double step_size;            /* mean step size */
    double n_leapfrog;           /* mean leapfrog steps per iteration */
    double tree_depth;           /* mean NUTS tree depth (0 for static HMC) */
    double ebfmi;                /* sum (E_t - E_{t-1})^2 / sum (E_t - mean E)^2 */
} bnn_diag_chain_stats;

/* A parameter block of the model, as run.json lists it ("layer0.w", offset, shape). */
typedef bnn_param_block bnn_diag_param_block;

typedef struct {
    size_t n_chain;
    size_t superchains;           /* from run.json config.superchains (1: none) */
    bnn_diag_space weight, function;
    bnn_diag_space weight_aligned; /* present with --align */
    int align_mode;               /* 0 none, 1 per draw, 2 per chain */
    size_t align_changed;         /* aligned draws whose transform was not the identity */
    double align_mean_sweeps;
    int has_islands, has_marginals;
    bnn_islands islands;
    bnn_marginals marginals;
    size_t fs_points, fs_outputs;
    /* Hyperparameters of a hierarchical prior (run.json hyper_names, chain_NNN/hyper.npy) over
     * the sampling iterations; absent (n_hyper 0) without them. Moments give their means. */
    size_t n_hyper, first_sampling;
    char (*hyper_names)[64];      /* (n_hyper) */
    bnn_diag_space hyper;
    bnn_diag_param_block *blocks; /* (n_blocks) from run.json's model.params */
    size_t n_blocks;
    bnn_diag_chain_stats *chain;  /* (n_chain) */
} bnn_diag_run;

typedef struct {
    size_t threads;      /* worker threads, >= 1 */
    size_t block_bytes;  /* memory for one streamed block of draws (0: 64 MiB) */
    int align;           /* 0 none, 1 per draw, 2 per chain (diag/align_run.h) */
    double island_threshold; /* 0: BNN_ISLANDS_DEFAULT_THRESHOLD */
    size_t null_reps;    /* replicates per ESS bin of the null reference (0: 200) */
} bnn_diag_run_options;

/* Reads RUN/run.json and every chain's arrays, streams over parameters in blocks with bounded
 * memory, and fills *out (free with bnn_diag_run_free). Chains of unequal length are cut to the
 * shortest. */
bnn_status bnn_diag_run_compute(const char *run_dir, const bnn_diag_run_options *opt,
                                bnn_diag_run **out);
void bnn_diag_run_free(bnn_diag_run *r);

/* Name of weight i ("layer0.w[3,17]", 0-based indices) or function-space quantity i
 * ("p[point,output]"); hyperparameters are named by hyper_names. */
void bnn_diag_weight_name(const bnn_diag_run *r, size_t i, char *buf, size_t len);
void bnn_diag_function_name(const bnn_diag_run *r, size_t i, char *buf, size_t len);
/* Name of quantity i of space sp, one of r's spaces. */
void bnn_diag_quantity_name(const bnn_diag_run *r, const bnn_diag_space *sp, size_t i, char *buf,
                            size_t len);

/* Writes RUN/diagnostics.json and the per-quantity arrays RUN/diag_{weight,function,hyper}_
 * {rhat,ess_bulk,ess_tail}.npy (float64; weights shape (n_params), function space shape
 * (points, outputs), hyperparameters (n_hyper)). */
bnn_status bnn_diag_run_write(const bnn_diag_run *r, const char *run_dir);

#endif
