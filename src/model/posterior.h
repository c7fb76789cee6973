/* The tempered log posterior of a Bayesian MLP: (log-likelihood + log prior) / T, with a
 * Gaussian prior whose variance is set per layer (weights optionally divided by the fan-in). */
#ifndef BNN_MODEL_POSTERIOR_H
#define BNN_MODEL_POSTERIOR_H

#include "backend/backend.h"
#include "core/rng.h"
#include "nn/net.h"
#include "sample/target.h"

typedef struct {
    size_t n_var;                           /* 1 (same for all layers) or one per layer */
    double var[BNN_NET_MAX_TENSORS];        /* prior variance (not precision) per layer */
    int divide_by_fan_in;                   /* weights of layer l get var_l / width[l] */
    double temperature;                     /* T > 0; divides likelihood and prior alike */
} bnn_prior_options;

/* Parses "v" or "v1,v2,..." into o->var (positive finite numbers). */
bnn_status bnn_prior_var_parse(const char *text, bnn_prior_options *o);

typedef struct {
    const bnn_net *model;
    bnn_backend backend;   /* borrowed */
    double *prior_var;     /* (n_params) prior variance of each parameter */
    double log_prior_norm; /* Σ_i -½ log(2π var_i): the constant part of the log prior */
    double temperature;
} bnn_posterior;

bnn_status bnn_posterior_init(bnn_posterior *post, const bnn_net *model,
                              const bnn_prior_options *prior, bnn_backend backend);
void bnn_posterior_free(bnn_posterior *post);

/* The sampler's view of the posterior. */
bnn_target bnn_posterior_target(bnn_posterior *post);

/* The mini-batch estimate of the target: the log-likelihood of the training rows
 * rows[0..n_rows) times `scale` (N/B for a batch of B of the N rows: unbiased for the full sum)
 * in place of the full one; out->log_lik is the scaled estimate. */
bnn_status bnn_posterior_logp_grad_rows(bnn_posterior *post, const double *theta,
                                        const size_t *rows, size_t n_rows, double scale,
                                        double *grad, bnn_logp *out);

/* Draws θ from the prior, each coordinate scaled by `scale` (1 = the prior itself). */
void bnn_posterior_draw_prior(const bnn_posterior *post, bnn_rng *rng, double scale,
                              double *theta);

#endif
