/* Comparing a predictive distribution with a reference one on the same test inputs, with the
 * metrics of the NeurIPS 2021 "Approximate inference in Bayesian deep learning" competition:
 * agreement and total variation of class probabilities, and the 1-Wasserstein distance between
 * regression predictive samples; plus each side's own metrics when the test targets are known.
 * Either side is a bnnmc run directory or a CSV file in the competition's layout. */
#ifndef BNN_EVAL_REFERENCE_H
#define BNN_EVAL_REFERENCE_H

#include <stddef.h>

#include "core/status.h"
#include "eval/metrics.h"

typedef enum { BNN_PRED_CLASSES = 0, BNN_PRED_SAMPLES = 1 } bnn_pred_kind;

/* A predictive distribution at n test inputs. Owns its arrays. */
typedef struct {
    bnn_pred_kind kind;
    size_t n;          /* test inputs */
    size_t k;          /* classes, or predictive samples per input */
    double *values;    /* (n, k) class probabilities, or samples sorted ascending within a row */
    double *mean;      /* (n) samples: a run's exact predictive mean (the model average); NULL
                        * for a CSV, whose mean is that of its samples */
    double *targets;   /* (n) a run's test targets at these inputs, else NULL */
    size_t *rows;      /* (n) ascending test-set rows of the inputs when they are a subset (a run's
                        * function-space points in regression), else NULL: rows 0..n-1 */
    size_t n_test;     /* rows of the test set the inputs come from (n when rows is NULL) */
    size_t *line;      /* CSV: 1-based file line of each matrix row, for messages; else NULL */
    int transposed;    /* CSV read with one column per test input */
    int from_run;
    char source[1024]; /* the file or run directory, for messages */
} bnn_predset;

typedef struct {
    bnn_pred_kind kind; /* CSV: what its numbers are (a run knows its own task) */
    int transpose;      /* CSV: one column per test input, one row per class or sample */
    double tolerance;   /* CSV, classes: |Σ_c p_c − 1| allowed per input (e.g. 1e-4) */
    size_t quantiles;   /* regression runs: predictive samples per input, the quantiles at
                         * (j − ½)/quantiles of the Gaussian-mixture predictive; 0: the per-draw
                         * predictive means instead (no observation noise) */
} bnn_predset_options;

/* 1 if path is a directory (taken for a run), 0 otherwise. */
int bnn_predset_path_is_run(const char *path);

/* A CSV of class probabilities (one row per test input, one column per class; rows >= 0 and
 * summing to 1 within the tolerance) or of predictive samples (one column per sample); comma or
 * blank separated, an optional header line. Errors name the file, line and column. */
bnn_status bnn_predset_read_csv(const char *path, const bnn_predset_options *o, bnn_predset *out);

/* A finished run's predictive. Classification: the Bayesian model average on the whole test
 * set (bnn_predict_run). Regression: at the run's function-space points, the predictive means
 * μ_s of every sampling iteration s of every chain (fs.npy); the samples are the quantiles of
 * the mixture (1/S) Σ_s N(μ_s, noise_sd²), or the μ_s themselves (quantiles = 0). */
bnn_status bnn_predset_read_run(const char *dir, const bnn_predset_options *o, bnn_predset *out);

void bnn_predset_free(bnn_predset *p);

/* Labels from a text file: the last column of every row (one number per line, or a data set's
 * CSV with its target last); header optional. *labels (n) is allocated. */
bnn_status bnn_labels_read_csv(const char *path, double **labels, size_t *n);

/* Exact 1-Wasserstein distance between the empirical distributions of a (na) and b (nb), each
 * sorted ascending: ∫₀¹ |A⁻¹(u) − B⁻¹(u)| du over their quantile functions, any na and nb. */
double bnn_wasserstein1_sorted(const double *a, size_t na, const double *b, size_t nb);

typedef struct {
    bnn_pred_kind kind;
    size_t n;                /* test inputs compared */
    size_t k_pred, k_ref;    /* classes, or samples per input, of each side */
    double agreement;        /* classes: mean over inputs of [argmax p = argmax q] */
    double total_variation;  /* classes: mean over inputs of ½ Σ_c |p_c − q_c| */
    double w1;               /* samples: mean over inputs of W1(pred, ref) */
    double w1_max;           /* samples: the largest per-input W1 */
    int have_targets;        /* the metrics below are set */
    char targets_source[1100];
    bnn_class_metrics pred_class, ref_class; /* classes: accuracy, NLL, ECE, Brier */
    double pred_rmse, ref_rmse;              /* samples: RMSE of the predictive mean */
} bnn_reference_eval;

/* Pairs the inputs of pred and ref (the same count; or one side at a subset of test rows and
 * the other with the whole test set, whose rows are then selected in place), takes the targets
 * (labels (n_labels) when given, for all test rows or the compared ones; else a run's) and
 * computes the metrics. */
bnn_status bnn_reference_compare(bnn_predset *pred, bnn_predset *ref, const double *labels,
                                 size_t n_labels, const char *labels_source,
                                 bnn_reference_eval *out);

#endif
