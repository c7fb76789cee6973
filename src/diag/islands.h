/* Chain islands: which chains agree in function space. For every pair of chains (a, b): the
 * agreement of their argmax predictions, the total variation between their mean predictions, and
 * the 2-chain R-hat (posterior's rhat on chains a and b only) of every recorded output,
 * summarised by its quantiles. Rule: a and b are linked when the 90 % quantile of their 2-chain
 * R-hat is <= threshold (default 1.1); islands are the connected components of that graph. The
 * rule uses R-hat, not agreement, so that it is scale-free and also works for regression. */
#ifndef BNN_DIAG_ISLANDS_H
#define BNN_DIAG_ISLANDS_H

#include <stddef.h>

#include <jansson.h>

#include "core/status.h"

#define BNN_ISLANDS_DEFAULT_THRESHOLD 1.1

typedef struct {
    size_t n_chain;
    double threshold;
    /* (K, K) symmetric matrices; the diagonal is 1 (agreement), 0 (tv) and NaN (rhat). */
    double *agreement;  /* fraction of points whose argmax of the chain-mean outputs agree
                           (classification; NaN for regression) */
    double *tv;         /* mean over points of ½ Σ_o |p_a - p_b| of the chain-mean outputs
                           (regression: mean |μ_a - μ_b|) */
    double *rhat_q50, *rhat_q90, *rhat_max; /* of the 2-chain R-hat over points x outputs */
    size_t *island;     /* (K) island of each chain, numbered by its smallest chain */
    size_t n_islands;
} bnn_islands;

/* chain_mean (K, Q): chain c's mean of quantity q = point * n_outputs + output;
 * pair_rhat (K (K - 1) / 2, Q): 2-chain R-hat of pair (a < b) in the order (0,1), (0,2), ...,
 * (1,2), ...; NaN values are left out of the quantiles. */
bnn_status bnn_islands_compute(const double *chain_mean, const double *pair_rhat, size_t K,
                               size_t n_points, size_t n_outputs, int classification,
                               double threshold, bnn_islands *out);
void bnn_islands_free(bnn_islands *s);

/* Index of pair (a, b), a < b, among K chains. */
size_t bnn_islands_pair_index(size_t a, size_t b, size_t K);

/* The islands as JSON (docs/diagnostics-json.md, ISLANDS). */
json_t *bnn_islands_json(const bnn_islands *s);

#endif
