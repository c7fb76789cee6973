/* Predictive metrics of a set of predicted class probabilities (or regression means). */
#ifndef BNN_EVAL_METRICS_H
#define BNN_EVAL_METRICS_H

#include <stddef.h>

#include "core/status.h"

typedef struct {
    double accuracy;  /* fraction with argmax p = label */
    double nll;       /* mean of -log p[label] */
    double ece;       /* expected calibration error, 20 equal-count bins of the confidence */
    double brier;     /* mean over inputs of Σ_k (p_k - [k = label])² */
} bnn_class_metrics;

/* The first index of the largest of p[0..k) (as numpy.argmax: ties go to the lowest). */
size_t bnn_argmax(const double *p, size_t k);

/* probs (n, k), labels (n) exact integers in [0, k). */
bnn_status bnn_class_metrics_compute(const double *probs, const double *labels, size_t n,
                                     size_t k, bnn_class_metrics *out);

/* ECE with equal-count bins: inputs sorted by confidence (max p) are cut into n_bins bins of
 * sizes differing by at most one; ECE = Σ_b (n_b / n) |accuracy_b - mean confidence_b|. */
bnn_status bnn_ece_equal_count(const double *probs, const double *labels, size_t n, size_t k,
                               size_t n_bins, double *ece);

typedef struct {
    double rmse;    /* of the predictive mean */
    double nll;     /* mean of -log p(y | data), the predictive density a mixture over draws */
    double mean_sd; /* mean over inputs of the predictive standard deviation (NaN if unknown) */
} bnn_regress_metrics;

/* mean (n) predictive means; sd (n) their standard deviations, or NULL; logdens (n) log of the
 * predictive density at each target. */
void bnn_regress_metrics_compute(const double *mean, const double *sd, const double *logdens,
                                 const double *y, size_t n, bnn_regress_metrics *out);

#endif
