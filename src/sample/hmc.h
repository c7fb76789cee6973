/* Hamiltonian Monte Carlo with a diagonal mass matrix, as in the paper: L = ceil(τ/ε) leapfrog
 * steps (optionally jittered ε), Metropolis correction that can be switched off per iteration
 * (burn-in), and the gradient cached between iterations so one leapfrog step costs one gradient.
 *
 * Conventions: `inv_mass` is the inverse metric M⁻¹ (an estimate of the posterior variances);
 * momenta are drawn as p ~ N(0, M); positions move by θ += ε · M⁻¹ · p, so "step size" is ε in
 * that update (with identity mass, the plain leapfrog ε). */
#ifndef BNN_SAMPLE_HMC_H
#define BNN_SAMPLE_HMC_H

#include "core/rng.h"
#include "sample/target.h"

typedef struct {
    double step_size;        /* ε (the starting value when adapting) */
    double traj_len;         /* τ; L = ceil(τ / ε) */
    size_t max_leapfrog;     /* cap on L */
    double jitter;           /* 0: off; else ε is multiplied by U(1 - jitter, 1 + jitter) */
    double max_energy_error; /* a larger energy error is a divergence (1000, as in Stan) */
} bnn_hmc_options;

/* One iteration's statistics (NUTS fills them as sample/nuts.h says). */
typedef struct {
    double accept_prob;  /* min(1, exp(-energy_error)); 0 for a divergence */
    int accepted;
    int divergent;
    double energy;       /* Hamiltonian of the state kept at the end of the iteration */
    double energy_error; /* H(proposal) - H(start) */
    double step_size;    /* ε used (after jitter) */
    size_t n_leapfrog;
    size_t tree_depth;   /* NUTS: doublings of the trajectory; 0 for static HMC */
    bnn_logp logp;       /* at the kept state */
} bnn_hmc_stats;

/* The sampler's state: position, cached gradient and log density, mass, step size, RNG. All
 * of it is plain data so that a checkpoint can store and restore it exactly. */
typedef struct {
    bnn_target target;
    bnn_hmc_options opt;
    size_t dim;
    double *theta;    /* (dim) current position */
    double *grad;     /* (dim) ∇ logp at theta */
    bnn_logp current; /* logp at theta */
    double *inv_mass; /* (dim) M⁻¹ diagonal */
    double step_size; /* current ε before jitter */
    bnn_rng rng;
    double *theta_new, *grad_new, *momentum; /* (dim) workspaces */
} bnn_hmc;

bnn_status bnn_hmc_alloc(bnn_target target, const bnn_hmc_options *opt, bnn_hmc **out);
void bnn_hmc_free(bnn_hmc *s);

/* Sets the position (and computes logp and gradient there), unit mass, ε from the options. */
bnn_status bnn_hmc_set(bnn_hmc *s, const double *theta0, bnn_rng rng);

/* Recomputes the cached log density and gradient at the current position, after the target
 * changed (a Gibbs update of its hyperparameters): one gradient evaluation. */
bnn_status bnn_hmc_refresh(bnn_hmc *s);

/* One HMC iteration; metropolis = 0 accepts every finite proposal (burn-in). Consumes the same
 * random numbers whether or not the proposal is accepted. */
bnn_status bnn_hmc_iterate(bnn_hmc *s, int metropolis, bnn_hmc_stats *st);

/* Stan's heuristic for a starting ε: double or halve until the acceptance probability of one
 * leapfrog step crosses 0.8. Moves nothing. */
bnn_status bnn_hmc_find_step_size(bnn_hmc *s);

#endif
