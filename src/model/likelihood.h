/* The likelihood heads shared by every network: log-likelihood of a block of rows from the
 * network's last-layer outputs ("logits") and its gradient with respect to them, and the
 * predictive outputs (probabilities or means) that are recorded. */
#ifndef BNN_MODEL_LIKELIHOOD_H
#define BNN_MODEL_LIKELIHOOD_H

#include <stddef.h>

#include "core/status.h"

typedef enum { BNN_LIK_CATEGORICAL, BNN_LIK_GAUSSIAN, BNN_LIK_BERNOULLI } bnn_likelihood;

bnn_status bnn_likelihood_parse(const char *name, bnn_likelihood *out);
const char *bnn_likelihood_name(bnn_likelihood l);

/* Outputs recorded per input: classes (categorical), 2 (Bernoulli: P(y=0), P(y=1)) or 1
 * (Gaussian: the mean), for a network with k last-layer outputs. */
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
