/* Prior-marginal check ("marble shell"): per parameter block (layerL.w, layerL.b), the posterior
 * marginal pooled over units, draws and chains — mean, variance, excess kurtosis — against the
 * prior's N(0, σ²) (mean 0, variance σ², excess kurtosis 0), and the root-mean-square norm of
 * the block against the prior's typical-set radius √(size · σ²).
 *
 * Rule for "prior-like" weights: parameter i is prior-like when its posterior variance is at
 * least half its prior variance (var_i / σ_i² >= 0.5) and its posterior mean lies within half a
 * prior standard deviation of 0 (|mean_i| <= 0.5 σ_i); every other parameter is data-informed.
 * The per-parameter moments come from the aligned draws when they exist (raw draws mix the
 * marginals of permuted units), else from the raw draws. R-hat is then summarised separately
 * for the two groups, raw and aligned. */
#ifndef BNN_DIAG_MARGINALS_H
#define BNN_DIAG_MARGINALS_H

#include <stddef.h>

#include <jansson.h>

#include "core/status.h"

#define BNN_MARGINAL_VAR_RATIO 0.5
#define BNN_MARGINAL_MEAN_SDS 0.5

typedef struct {
    char name[64];
    size_t offset, size;
    double prior_var;
    double mean, var, excess_kurtosis;  /* pooled posterior marginal */
    double norm_rms, prior_radius;      /* √(E ||w||²) and √(size · prior_var) */
    size_t n_prior_like;
} bnn_marginal_block;

/* R-hat summary of one group of parameters. */
typedef struct {
    size_t n;                    /* parameters in the group with finite R-hat */
    double q50, q90, q99, max, frac_gt_101;
} bnn_marginal_rhat;

typedef struct {
    size_t n_blocks;
    bnn_marginal_block *blocks;
    size_t n_prior_like, n_informed;
    int from_aligned;            /* the classification used aligned moments */
    bnn_marginal_rhat raw[2], aligned[2]; /* [0] prior-like, [1] data-informed */
} bnn_marginals;

/* moments (4, P): per parameter the means over all draws of x, x², x³, x⁴ (raw draws);
 * moments_aligned the same for aligned draws or NULL; prior_var (P) per parameter; blocks as
 * (name, offset, size) triples in `blocks` (n_blocks; prior_var, moments filled here);
 * rhat / rhat_aligned (P) or NULL. */
bnn_status bnn_marginals_compute(const double *moments, const double *moments_aligned,
                                 const double *prior_var, size_t P,
                                 const bnn_marginal_block *blocks, size_t n_blocks,
                                 const double *rhat, const double *rhat_aligned,
                                 bnn_marginals *out);
void bnn_marginals_free(bnn_marginals *m);

/* prior_var (P) per parameter from RUN/run.json (config.prior_var, one per dense layer or one
 * for all; config.prior_var_divided_by_fan_in; model.widths), times the variance factor of the
 * prior family config.prior (INFINITY for Student-t with ν ≤ 2; see model/prior.h). */
bnn_status bnn_marginals_prior_var(const char *run_dir, size_t P, double *prior_var);

/* The check as JSON (docs/diagnostics-json.md, MARGINALS). */
json_t *bnn_marginals_json(const bnn_marginals *m);

#endif
