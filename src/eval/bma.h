/* The running sums of a Bayesian model average, added to one draw at a time by every method
 * that writes a run directory (HMC chains, SG-MCMC, ensembles, VI); bnn_predict_run reads them. */
#ifndef BNN_EVAL_BMA_H
#define BNN_EVAL_BMA_H

#include <stddef.h>

#include "model/likelihood.h"

/* Adds one draw's predictive outputs out (n_test, n_out) to sum (n_test, n_out). For the
 * regression heads (out = μ, or μ and σ for hetero-gaussian; σ = noise_sd for gaussian) also
 * logdens[i] := log(exp(logdens[i]) + N(y_i | μ_i, σ_i²)), logdens starting at -inf, and
 * sumsq[i] += μ_i² + σ_i² (the predictive mixture's second moment). */
void bnn_bma_add(bnn_likelihood lik, double noise_sd, const double *y, size_t n_test,
                 size_t n_out, const double *out, double *sum, double *logdens, double *sumsq);

#endif
