/* Hierarchical priors, as in Neal's Flexible Bayesian Modelling: the precision τ = 1/variance of
 * a group of parameters, or of the Gaussian noise, is itself unknown with a Gamma prior, and is
 * redrawn between HMC iterations from its conditional distribution given the parameters (Gibbs
 * sampling). The conditional is a Gamma again because the parameters' prior is Gaussian given τ
 * (conjugacy); other prior families are refused.
 *
 * The hyperparameters of a model, in this order (k = their index, names as run.json lists them):
 *   tau.GROUP     --prior-hyper: one per prior group (layer: "tau.layer0", "tau.conv1", ...); its
 *                 parameters θ_i ~ N(0, m_i / τ) with m_i = 1/fan_in for weights under
 *                 --prior-fan-in, else 1
 *   tau.ard[j]    --ard: one per input unit j of the first layer, for the weights leaving it (row
 *                 j of layer0.w, instead of tau.layer0, which keeps the first layer's biases)
 *   tau.noise     --noise-hyper: the precision 1/σ² of the Gaussian likelihood
 * Initial values: 1/v of each layer's --prior-var value v (the first layer's for tau.ard[j]),
 * and 1/σ² of --noise-sd.
 *
 * Tempering: the target is [p(y | θ, τ_noise) p(θ | τ) p(τ)]^(1/T), so a precision with a
 * Gamma(a, b) prior (shape a, rate b: density ∝ τ^(a−1) e^(−b τ)) that governs n numbers with
 * sum of squares S (Σ θ_i²/m_i, or the residual sum of squares for the noise) has the conditional
 *   Gamma(shape (n/2 + a − 1)/T + 1, rate (S/2 + b)/T),   Gamma(a + n/2, b + S/2) at T = 1. */
#ifndef BNN_MODEL_HYPER_H
#define BNN_MODEL_HYPER_H

#include <stddef.h>

#include "core/rng.h"
#include "core/status.h"
#include "nn/net.h"

typedef struct {
    int on;             /* 0: no such hyperparameter */
    double shape, rate; /* Gamma(shape, rate), both > 0 */
} bnn_gamma_prior;

typedef struct {
    bnn_gamma_prior layers; /* --prior-hyper */
    int ard;                /* --ard (needs --prior-hyper and an MLP) */
    bnn_gamma_prior noise;  /* --noise-hyper (needs the Gaussian likelihood) */
} bnn_hyper_options;

/* Parses "gamma:SHAPE,RATE" (both positive and finite); flag names the option in messages. */
bnn_status bnn_gamma_prior_parse(const char *flag, const char *text, bnn_gamma_prior *out);

/* The canonical text "gamma:SHAPE,RATE". */
void bnn_gamma_prior_format(const bnn_gamma_prior *g, char *buf, size_t len);

/* Draws τ from the conditional of a precision with prior g over n numbers whose sum of squares
 * is S, at temperature T (see above). BNN_ENUM if that Gamma's shape is not positive. */
bnn_status bnn_gamma_conditional_draw(const bnn_gamma_prior *g, double n, double S, double T,
                                      bnn_rng *rng, double *tau);

/* Refuses options the model cannot have (--ard without --prior-hyper or an MLP, --noise-hyper
 * without the Gaussian likelihood). */
bnn_status bnn_hyper_check(const bnn_net *net, const bnn_hyper_options *o);

/* Number of hyperparameters (0 without any) and the name of the k-th ("tau.layer0"). */
size_t bnn_hyper_count(const bnn_net *net, const bnn_hyper_options *o);
void bnn_hyper_name(const bnn_net *net, const bnn_hyper_options *o, size_t k, char *buf,
                    size_t len);

/* Initial values from the per-layer variances var (n_var: 1 or one per layer) and the noise σ. */
void bnn_hyper_initial(const bnn_net *net, const bnn_hyper_options *o, const double *var,
                       size_t n_var, double noise_sd, double *hyper);

/* prior_var[i] = m_i / τ for every parameter a precision governs (the others are left alone). */
void bnn_hyper_prior_var(const bnn_net *net, const bnn_hyper_options *o, int divide_by_fan_in,
                         const double *hyper, double *prior_var);

/* One Gibbs sweep: every precision of hyper redrawn from its conditional at temperature T, given
 * θ (n_params) and, for the noise, the residual sum of squares ssr over n_obs training rows.
 * Draws from rng in the order of the hyperparameters. */
bnn_status bnn_hyper_gibbs(const bnn_net *net, const bnn_hyper_options *o, int divide_by_fan_in,
                           const double *theta, double ssr, size_t n_obs, double temperature,
                           bnn_rng *rng, double *hyper);

#endif
