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
    bnn_class_metrics overall;      /* classification */
    bnn_regress_metrics overall_reg;/* regression */
    bnn_class_metrics *chain;       /* (n_chains) */
    bnn_regress_metrics *chain_reg; /* (n_chains) */
    size_t *chain_draws;            /* (n_chains) */
    bnn_chain_summary *chain_stats; /* (n_chains) sampling-phase statistics */
} bnn_predict_result;

/* Reads RUN/run.json, RUN/test_targets.npy and each chain's model-average sums. */
bnn_status bnn_predict_run(const char *run_dir, bnn_predict_result *out);
void bnn_predict_result_free(bnn_predict_result *r);

#endif
