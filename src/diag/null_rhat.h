/* A null reference for R-hat: the distribution of posterior's rhat for chains that have
 * converged, with the run's number of chains and draws and, per quantity, its bulk ESS.
 *
 * Quantities are grouped into equal-count bins of bulk ESS; for each bin, `reps` sets of K
 * stationary Gaussian AR(1) chains of n draws are simulated with ρ = (N - e) / (N + e), N = K n,
 * e the bin's median ESS (an AR(1) chain's ESS is N (1 - ρ) / (1 + ρ); ρ is kept in
 * [-0.9, 0.999]). The expected number of quantities above a threshold is Σ_bins count_bin ×
 * (fraction of the bin's simulated R-hats above it); its standard deviation treats quantities as
 * independent. The same mixture gives the expected histogram. */
#ifndef BNN_DIAG_NULL_RHAT_H
#define BNN_DIAG_NULL_RHAT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/status.h"

#define BNN_NULL_N_THRESHOLDS 3
#define BNN_NULL_N_HIST 60

typedef struct {
    size_t n;                 /* quantities with finite R-hat and ESS */
    size_t n_bins, reps;      /* ESS bins and replicates per bin */
    double thresholds[BNN_NULL_N_THRESHOLDS];     /* 1.01, 1.05, 1.1 */
    double observed[BNN_NULL_N_THRESHOLDS];       /* count above the threshold */
    double expected[BNN_NULL_N_THRESHOLDS];       /* expected count under the null */
    double expected_sd[BNN_NULL_N_THRESHOLDS];
    double null_q50, null_q99;                    /* quantiles of the null mixture */
    /* Histogram on BNN_NULL_N_HIST equal bins over [hist_lo, hist_hi]; values beyond are
     * counted in the first or last bin. */
    double hist_lo, hist_hi;
    double hist_observed[BNN_NULL_N_HIST], hist_expected[BNN_NULL_N_HIST];
} bnn_null_rhat;

/* rhat, ess_bulk (n) per quantity; n_iter draws per chain, n_chain chains. */
bnn_status bnn_null_rhat_compute(const double *rhat, const double *ess_bulk, size_t n,
                                 size_t n_iter, size_t n_chain, size_t reps, uint64_t seed,
                                 bnn_null_rhat *out);

/* The reference as JSON (docs/diagnostics-json.md, NULL). */
json_t *bnn_null_rhat_json(const bnn_null_rhat *o);

#endif
