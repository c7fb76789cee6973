/* The Bayesian model average of a run: the predictive distribution averaged over every
 * post-warm-up iteration of every chain (a rejected iteration counts the repeated state again),
 * evaluated on the whole test set, overall and per chain. */
#ifndef BNN_EVAL_PREDICT_H
#define BNN_EVAL_PREDICT_H

#include "eval/metrics.h"

/* Sampling-phase statistics of one chain, from its stats.npy. */
typedef struct {
    size_t iterations;   /* sampling iterations recorded */
    double accept_rate;  /* mean acceptance probability */
    double accepted;     /* fraction of accepted proposals */
    size_t divergences;
    double step_size;    /* mean ε */
    double n_leapfrog;   /* mean leapfrog steps per iteration */
    double tree_depth;   /* mean NUTS tree depth (0 for static HMC) */
} bnn_chain_summary;

/* Reads RUN/chain_NNN/stats.npy. */
bnn_status bnn_chain_summary_read(const char *run_dir, size_t chain, bnn_chain_summary *out);

typedef struct {
    int classification;
    size_t n_chains;
    size_t n_test;
    size_t n_draws;                 /* sampling iterations averaged, all chains */
    size_t n_out;                   /* outputs per test input: classes, or 1 (regression mean) */
    double *bma;                    /* (n_test, n_out) the model average over all chains */
    double *targets;                /* (n_test) the run's test targets */
    double target_sd;               /* regression: the sd the targets were divided by (the
                                     * data's target_sd; 1 if not standardised), so that
                                     * rmse * target_sd is in the original units */
    bnn_class_metrics overall;      /* classification */
    bnn_regress_metrics overall_reg;/* regression */
    bnn_class_metrics *chain;       /* (n_chains) */
    bnn_regress_metrics *chain_reg; /* (n_chains) */
    size_t *chain_draws;            /* (n_chains) */
    bnn_chain_summary *chain_stats; /* (n_chains) sampling-phase statistics */
    /* Regression, all chains: the predictive distribution, a mixture over draws of N(μ, σ²),
     * at each test input: its mean and standard deviation (NaN for runs that recorded no
     * second moments). */
    double *mean, *sd;              /* (n_test) */
} bnn_predict_result;

/* Reads RUN/run.json, RUN/test_targets.npy and each chain's model-average sums. */
bnn_status bnn_predict_run(const char *run_dir, bnn_predict_result *out);
void bnn_predict_result_free(bnn_predict_result *r);

#endif
