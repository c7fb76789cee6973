/* The likelihood heads shared by every network: log-likelihood of a block of rows from the
 * network's last-layer outputs ("logits") and its gradient with respect to them, and the
 * predictive outputs (probabilities or means) that are recorded. */
#ifndef BNN_MODEL_LIKELIHOOD_H
#define BNN_MODEL_LIKELIHOOD_H

#include <stddef.h>

#include "core/status.h"

/* The heads, by their --likelihood names:
 *   categorical      softmax over k outputs
 *   gaussian         N(y | f, σ²), σ = --noise-sd (1 output)
 *   bernoulli        y ∈ {0, 1} with logit f (1 output)
 *   hetero-gaussian  N(y | μ, σ²) with (μ, s) = the 2 outputs and σ = softplus(s) + 1e-6 (the
 *                    paper's regression head: mean and inverse-softplus standard deviation) */
typedef enum {
    BNN_LIK_CATEGORICAL,
    BNN_LIK_GAUSSIAN,
    BNN_LIK_BERNOULLI,
    BNN_LIK_HETERO_GAUSSIAN
} bnn_likelihood;

/* The hetero-gaussian head's σ never falls below this (softplus(s) underflows for s ≪ 0). */
#define BNN_LIK_SD_FLOOR 1e-6

bnn_status bnn_likelihood_parse(const char *name, bnn_likelihood *out);
const char *bnn_likelihood_name(bnn_likelihood l);

/* 1 for the heads of real-valued targets (gaussian, hetero-gaussian). */
int bnn_likelihood_is_regression(bnn_likelihood lik);

/* Network outputs the head needs per input: classes (categorical), 2 (hetero-gaussian: μ, s)
 * or 1 (gaussian, bernoulli). */
size_t bnn_likelihood_n_logits(bnn_likelihood lik, size_t n_classes);

/* Outputs recorded per input: classes (categorical), 2 (Bernoulli: P(y=0), P(y=1);
 * hetero-gaussian: the mean μ and the standard deviation σ) or 1 (Gaussian: the mean), for a
 * network with k last-layer outputs. */
size_t bnn_likelihood_n_outputs(bnn_likelihood lik, size_t k);

/* Σ over rows of log p(y_r | f_r), f (rows, k); if g is not NULL, g (rows, k) receives
 * d loglik / d f (written, not accumulated). Sums in double. */
double bnn_likelihood_block_f32(bnn_likelihood lik, double noise_sd, const float *f,
                                const double *y, size_t rows, size_t k, float *g);
double bnn_likelihood_block_f64(bnn_likelihood lik, double noise_sd, const double *f,
                                const double *y, size_t rows, size_t k, double *g);

/* Predictive outputs from f (rows, k) into out (rows, bnn_likelihood_n_outputs). */
void bnn_likelihood_predict_f32(bnn_likelihood lik, const float *f, size_t rows, size_t k,
                                double *out);
void bnn_likelihood_predict_f64(bnn_likelihood lik, const double *f, size_t rows, size_t k,
                                double *out);

#endif
