/* The tempered log posterior of a Bayesian network: (log-likelihood + log prior) / T, with a
 * prior of one family (model/prior.h) whose variance is set per layer (weights optionally
 * divided by the fan-in). */
#ifndef BNN_MODEL_POSTERIOR_H
#define BNN_MODEL_POSTERIOR_H

#include "backend/backend.h"
#include "core/rng.h"
#include "model/hyper.h"
#include "model/prior.h"
#include "nn/net.h"
#include "sample/target.h"

typedef struct {
    size_t n_var;                           /* 1 (same for all layers) or one per layer */
    double var[BNN_NET_MAX_TENSORS];        /* prior variance (not precision) per layer; with
                                               hyper.layers the initial 1/τ */
    int divide_by_fan_in;                   /* weights of layer l get var_l / width[l] */
    double temperature;                     /* T > 0; divides likelihood and prior alike */
    bnn_prior_family family;                /* zero value: Gaussian */
    bnn_hyper_options hyper;                /* zero value: no hyperparameters */
} bnn_prior_options;

/* Parses "v" or "v1,v2,..." into o->var (positive finite numbers). */
bnn_status bnn_prior_var_parse(const char *text, bnn_prior_options *o);

/* Refuses options the model cannot have: a number of variances that is neither 1 nor one per
 * layer, a temperature that is not positive, hyperparameters with a non-Gaussian prior family
 * or that the model lacks (bnn_hyper_check). */
bnn_status bnn_prior_options_check(const bnn_prior_options *prior, const bnn_net *model);

typedef struct {
    const bnn_net *model;
    bnn_backend backend;   /* borrowed */
    bnn_prior_options prior;
    double *prior_var;     /* (n_params) each parameter's v_i (its variance for most families,
                              see model/prior.h) */
    double log_prior_norm; /* the θ-free part of the log prior (bnn_prior_log_norm) */
    size_t n_hyper;
    double *hyper;         /* (n_hyper) the precisions of model/hyper.h; NULL when none */
    double noise_sd;       /* the Gaussian likelihood's σ: model->noise_sd, or τ_noise^(-1/2) */
    size_t n_obs;          /* training rows; the caller sets it when prior.hyper.noise is on */
} bnn_posterior;

/* A posterior over the model's training data on backend; with hyperparameters, they start at
 * their initial values (model/hyper.h). One per chain when there are hyperparameters: they are
 * part of the chain's state. */
bnn_status bnn_posterior_init(bnn_posterior *post, const bnn_net *model,
                              const bnn_prior_options *prior, bnn_backend backend);
void bnn_posterior_free(bnn_posterior *post);

/* The sampler's view of the posterior (of θ given the hyperparameters). */
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

/* Sets the hyperparameters to hyper (n_hyper; may be post->hyper itself) and what they
 * determine: prior_var, log_prior_norm, noise_sd. A sampler's cached log density and gradient
 * are stale afterwards. */
void bnn_posterior_set_hyper(bnn_posterior *post, const double *hyper);

/* One Gibbs sweep over the hyperparameters given θ, whose untempered log-likelihood is log_lik
 * (it gives the residual sum of squares for the noise precision); then as set_hyper. */
bnn_status bnn_posterior_gibbs(bnn_posterior *post, const double *theta, double log_lik,
                               bnn_rng *rng);

#endif
