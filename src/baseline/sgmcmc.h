/* Stochastic-gradient MCMC on a stochastic target (each gradient call sees a new mini-batch):
 * SGLD (Welling & Teh, ICML 2011), SGHMC (Chen, Fox & Guestrin, ICML 2014) and the step-size
 * schedules, polynomial and cyclical cosine (Zhang et al., ICLR 2020).
 *
 * Conventions: the target is the tempered log posterior log π = (log-lik + log prior) / T,
 * with the batch log-likelihood scaled by N/B; "step size" ε is Welling & Teh's: an SGLD step
 * moves θ by ε/2 · ∇log π̂ plus N(0, ε) noise, so a small ε samples π itself (the variance of
 * the noise is ε, not ε·T: the temperature lives in π, as in `bnnmc sample`). */
#ifndef BNN_BASELINE_SGMCMC_H
#define BNN_BASELINE_SGMCMC_H

#include "core/rng.h"
#include "sample/target.h"

/* Polynomial decay ε_t = ε₀ (1 + t/b)^(−γ): Welling & Teh's a (b + t)^(−γ) with a = ε₀ b^γ,
 * so ε₀ is the first step (t = 0); γ = 0 is a constant step. */
double bnn_step_poly(double eps0, double b, double gamma, size_t t);

/* Cosine cycles of L steps: ε_t = ε₀/2 · (cos(π · (t mod L) / L) + 1), from ε₀ down to ~0 in
 * every cycle (one cycle of the whole run: cosine decay). */
double bnn_step_cosine(double eps0, size_t cycle_len, size_t t);

/* Position in the current cycle, (t mod L) / L in [0, 1): the exploration phase of cyclical
 * SG-MCMC is the start of each cycle, below the exploration fraction β. */
double bnn_cycle_position(size_t cycle_len, size_t t);

typedef struct {
    bnn_target target;  /* stochastic: every call a new mini-batch */
    size_t dim;
    double *theta;      /* (dim) position */
    double *grad;       /* (dim) ∇log π̂ at the position before the last step */
    double *velocity;   /* (dim) SGHMC's v (zero for SGLD) */
    double *noise;      /* (dim) workspace */
    bnn_logp last;      /* the estimate at the last gradient call */
    bnn_rng rng;
} bnn_sgmcmc;

bnn_status bnn_sgmcmc_alloc(bnn_target target, bnn_sgmcmc **out);
void bnn_sgmcmc_free(bnn_sgmcmc *s);

/* Sets the position, zero velocity, and the stream of the injected noise. */
void bnn_sgmcmc_set(bnn_sgmcmc *s, const double *theta0, bnn_rng rng);

/* One SGLD step: θ += ε/2 · ∇log π̂(θ) + noise_scale · √ε · ξ, ξ ~ N(0, I). noise_scale 1 is
 * SGLD; 0 is the noise-free step of cyclical SG-MCMC's exploration phase (SGD). Fails with
 * BNN_ENUM when the gradient or the new position is not finite (the step is too large). */
bnn_status bnn_sgld_step(bnn_sgmcmc *s, double eps, double noise_scale);

/* One SGHMC step, Chen et al. eq. (15) with the gradient-noise estimate β̂ = 0:
 * v ← (1 − α) v + η ∇log π̂(θ) + N(0, 2αη), then θ += v. η is the learning rate (ε² of HMC
 * with unit mass: α = 1 gives SGLD with ε = 2η), α the friction (1 − momentum). */
bnn_status bnn_sghmc_step(bnn_sgmcmc *s, double eta, double alpha);

#endif
