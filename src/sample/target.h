/* What a sampler sees of a model: a dimension and the log density with its gradient. */
#ifndef BNN_SAMPLE_TARGET_H
#define BNN_SAMPLE_TARGET_H

#include <stddef.h>

#include "core/status.h"

/* The log density and the parts it was made of (recorded per iteration). */
typedef struct {
    double logp;      /* the density the sampler targets */
    double log_lik;   /* untempered log-likelihood of the training data */
    double log_prior; /* untempered log prior density */
} bnn_logp;

typedef struct {
    size_t dim;
    /* Fills out and, when grad is not NULL, grad (dim) = ∇ logp at theta (dim). A non-finite
     * value is not an error: the sampler treats it as a divergence. */
    bnn_status (*logp_grad)(void *ctx, const double *theta, double *grad, bnn_logp *out);
    void *ctx;
} bnn_target;

#endif
