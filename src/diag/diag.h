/* Convergence diagnostics (R-hat family, ESS, MCSE, nested R-hat) computed exactly as the R
 * package posterior 1.4.0 computes them; shared/docs/diagnostics-spec.md gives every formula.
 *
 * Draws layout, used by every function here (chain-major):
 *
 *     x[c * stride + i]  is iteration i (0 <= i < n_iter) of chain c (0 <= c < n_chain)
 *
 * Each chain is contiguous; stride (>= n_iter) is the distance, in doubles, between the first
 * draws of two consecutive chains. A packed (n_chain, n_iter) array has stride = n_iter.
 *
 * Where posterior returns NA these functions return NaN. Misuse (NULL pointers, n_iter or
 * n_chain of 0, stride < n_iter, a problem larger than the workspace, p outside [0, 1]) also
 * returns NaN and records an error (bnn_last_error); the summary function returns the status.
 *
 * Deliberate quirk copied from posterior (spec 1.2): with 2 or 3 iterations per chain the split
 * halves have one draw each, R drops the matrix dimension, and every split-based diagnostic is
 * computed on an (n_chain iterations x 2 chains) array: first draws of all chains as one "chain",
 * last draws as the other. We copy it so that results equal posterior's on every input. */
#ifndef BNN_DIAG_DIAG_H
#define BNN_DIAG_DIAG_H

#include <stddef.h>

#include "core/status.h"

/* Scratch memory and FFT plans for problems of up to max_iter x max_chain draws. One per thread:
 * functions taking a workspace are thread-safe as long as threads do not share it. */
typedef struct bnn_diag_ws bnn_diag_ws;

bnn_status bnn_diag_ws_alloc(size_t max_iter, size_t max_chain, bnn_diag_ws **out);
void bnn_diag_ws_free(bnn_diag_ws *ws);

/* Everything summarise_draws reports, plus the basic R-hat/ESS and the MCSEs. */
typedef struct {
    double mean, sd;        /* over all draws (sd with denominator N - 1) */
    double q05, q50, q95;   /* R's type-7 quantiles over all draws */
    double rhat;            /* max(rhat_bulk, rhat_tail) */
    double rhat_bulk;       /* rank-normalised split R-hat */
    double rhat_tail;       /* rank-normalised split R-hat of |x - median| */
    double rhat_basic;      /* split R-hat of the raw draws */
    double ess_bulk;        /* ESS of the rank-normalised split draws */
    double ess_tail;        /* min(ESS of I(x <= q05), ESS of I(x <= q95)) */
    double ess_basic;       /* ESS of the raw split draws (= ess_mean) */
    double mcse_mean, mcse_sd, mcse_q05, mcse_q95;
} bnn_diag_summary;

/* Which groups of bnn_diag_summary to compute; fields left out are NaN. */
enum {
    BNN_DIAG_MOMENTS = 1u,     /* mean, sd, q05, q50, q95 */
    BNN_DIAG_CONVERGENCE = 2u, /* rhat, rhat_bulk, rhat_tail, ess_bulk, ess_tail */
    BNN_DIAG_MCSE = 4u,        /* rhat_basic, ess_basic, mcse_mean, mcse_sd, mcse_q05, mcse_q95 */
    BNN_DIAG_ALL = 7u
};

/* All requested diagnostics of one quantity at once, sharing the work (one sort, one split). */
bnn_status bnn_diag_summarise(bnn_diag_ws *ws, const double *x, size_t n_iter, size_t n_chain,
                              size_t stride, unsigned what, bnn_diag_summary *out);

/* The single diagnostics (spec section 2). */
double bnn_diag_rhat(bnn_diag_ws *ws, const double *x, size_t n_iter, size_t n_chain,
                     size_t stride);
double bnn_diag_rhat_bulk(bnn_diag_ws *ws, const double *x, size_t n_iter, size_t n_chain,
                          size_t stride);
double bnn_diag_rhat_tail(bnn_diag_ws *ws, const double *x, size_t n_iter, size_t n_chain,
                          size_t stride);
/* split = 0 gives the unsplit Gelman-Rubin (BDA3) R-hat. */
double bnn_diag_rhat_basic(bnn_diag_ws *ws, const double *x, size_t n_iter, size_t n_chain,
                           size_t stride, int split);
double bnn_diag_ess_bulk(bnn_diag_ws *ws, const double *x, size_t n_iter, size_t n_chain,
                         size_t stride);
double bnn_diag_ess_tail(bnn_diag_ws *ws, const double *x, size_t n_iter, size_t n_chain,
                         size_t stride);
double bnn_diag_ess_basic(bnn_diag_ws *ws, const double *x, size_t n_iter, size_t n_chain,
                          size_t stride, int split);
/* ess_mean is ess_basic with split = 1. */
double bnn_diag_ess_mean(bnn_diag_ws *ws, const double *x, size_t n_iter, size_t n_chain,
                         size_t stride);
double bnn_diag_ess_sd(bnn_diag_ws *ws, const double *x, size_t n_iter, size_t n_chain,
                       size_t stride);
/* ESS of the indicator x <= quantile7(x, p); p in [0, 1]. ess_median is p = 0.5. */
double bnn_diag_ess_quantile(bnn_diag_ws *ws, const double *x, size_t n_iter, size_t n_chain,
                             size_t stride, double p);
double bnn_diag_mcse_mean(bnn_diag_ws *ws, const double *x, size_t n_iter, size_t n_chain,
                          size_t stride);
double bnn_diag_mcse_sd(bnn_diag_ws *ws, const double *x, size_t n_iter, size_t n_chain,
                        size_t stride);
/* MCSE of the p-quantile; mcse_median is p = 0.5. */
double bnn_diag_mcse_quantile(bnn_diag_ws *ws, const double *x, size_t n_iter, size_t n_chain,
                              size_t stride, double p);

/* Nested R-hat (spec section 5): superchain_ids[c] labels chain c; chains with equal labels
 * form a superchain (they share a start). Unequal superchain sizes or one superchain: NaN. */
double bnn_diag_rhat_nested(bnn_diag_ws *ws, const double *x, size_t n_iter, size_t n_chain,
                            size_t stride, const int *superchain_ids);

/* Moments and R's type-7 quantile over all draws (NaN if any draw is NaN). */
double bnn_diag_mean(const double *x, size_t n_iter, size_t n_chain, size_t stride);
double bnn_diag_sd(const double *x, size_t n_iter, size_t n_chain, size_t stride);
double bnn_diag_quantile7(bnn_diag_ws *ws, const double *x, size_t n_iter, size_t n_chain,
                          size_t stride, double p);

#endif
