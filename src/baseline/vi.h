/* Mean-field Gaussian variational inference (Blundell et al. 2015, "Bayes by Backprop"):
 * q(θ) = Π_i N(μ_i, σ_i²) with σ_i = softplus(ρ_i), fitted by maximising the ELBO
 *     E_q[log π(θ)] + H[q],   log π = (log-lik + log prior) / T (the target of `bnnmc sample`),
 * with the reparameterisation θ = μ + σ ⊙ ξ (one ξ ~ N(0, I) per step), the mini-batch
 * log-likelihood scaled by N/B, the entropy in closed form and Adam on (μ, ρ). With T = 1 this
 * is the usual ELBO, E_q[log p(y | θ)] − KL(q ‖ prior) (the prior term by Monte Carlo, so that
 * any prior works). */
#ifndef BNN_BASELINE_VI_H
#define BNN_BASELINE_VI_H

#include "baseline/adam.h"
#include "core/rng.h"
#include "sample/target.h"

typedef struct {
    bnn_target target;   /* stochastic: every call a new mini-batch */
    size_t dim;
    double *params;      /* (2·dim): μ (dim) then ρ (dim), one block for Adam */
    double *mu, *rho;    /* views into params */
    double *grad;        /* (2·dim) ∇ of the ELBO estimate */
    double *theta;       /* (dim) the reparameterised draw of the last step */
    double *xi;          /* (dim) its standard normals */
    double *grad_theta;  /* (dim) ∇log π̂ at theta */
    double elbo;         /* the last step's ELBO estimate */
    bnn_adam adam;
    bnn_rng rng;
} bnn_vi;

bnn_status bnn_vi_alloc(bnn_target target, bnn_vi **out);
void bnn_vi_free(bnn_vi *vi);

/* μ = mu0, every σ = sd0 (> 0); fresh Adam moments; rng for the reparameterisation. */
bnn_status bnn_vi_set(bnn_vi *vi, const double *mu0, double sd0, bnn_rng rng);

/* One Adam step of size lr on a one-draw estimate of the ELBO (stored in vi->elbo). Fails with
 * BNN_ENUM when the estimate or its gradient is not finite. */
bnn_status bnn_vi_step(bnn_vi *vi, double lr);

/* σ_i = softplus(ρ_i). */
double bnn_vi_sd(const bnn_vi *vi, size_t i);

/* A draw θ = μ + σ ⊙ ξ from q, ξ from rng. */
void bnn_vi_draw(const bnn_vi *vi, bnn_rng *rng, double *theta);

#endif
