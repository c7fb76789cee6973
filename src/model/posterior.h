/* The tempered log posterior of a Bayesian network: (log-likelihood + log prior) / T, with a
 * prior of one family (model/prior.h) whose variance is set per layer (weights optionally
 * divided by the fan-in). */
#ifndef BNN_MODEL_POSTERIOR_H
#define BNN_MODEL_POSTERIOR_H

#include "backend/backend.h"
#include "core/rng.h"
#include "model/prior.h"
#include "nn/net.h"
#include "sample/target.h"

typedef struct {
    size_t n_var;                           /* 1 (same for all layers) or one per layer */
    double var[BNN_NET_MAX_TENSORS];        /* prior variance (not precision) per layer */
    int divide_by_fan_in;                   /* weights of layer l get var_l / width[l] */
    double temperature;                     /* T > 0; divides likelihood and prior alike */
    bnn_prior_family family;                /* zero value: Gaussian */
} bnn_prior_options;

/* Parses "v" or "v1,v2,..." into o->var (positive finite numbers). */
bnn_status bnn_prior_var_parse(const char *text, bnn_prior_options *o);

typedef struct {
    const bnn_net *model;
    bnn_backend backend;   /* borrowed */
    bnn_prior_family family;
    double *prior_var;     /* (n_params) each parameter's v_i (its variance for most families,
                              see model/prior.h) */
    double log_prior_norm; /* the θ-free part of the log prior (bnn_prior_log_norm) */
    double temperature;
} bnn_posterior;

bnn_status bnn_posterior_init(bnn_posterior *post, const bnn_net *model,
                              const bnn_prior_options *prior, bnn_backend backend);
void bnn_posterior_free(bnn_posterior *post);

/* The sampler's view of the posterior. */
bnn_target bnn_posterior_target(bnn_posterior *post);

/* Draws θ from the prior, each coordinate scaled by `scale` (1 = the prior itself). */
void bnn_posterior_draw_prior(const bnn_posterior *post, bnn_rng *rng, double scale,
                              double *theta);

#endif
