/* The No-U-Turn sampler as Stan runs it (Betancourt 2017; Stan's base_nuts): the trajectory
 * doubles in a random direction until the generalised no-U-turn criterion fails between its ends
 * or across any pair of merged subtrees (including the checks across neighbouring subtrees that
 * Stan added in 2.21), a leapfrog step's energy error exceeds max_energy_error (a divergence),
 * or the tree reaches max_depth (at most 2^max_depth - 1 leapfrog steps). The draw is taken by
 * multinomial sampling: uniformly (in proportion to exp(-H)) within each subtree, and biased
 * progressive sampling towards the newer subtree at the top level.
 *
 * A NUTS transition works on a bnn_hmc: the same position, cached gradient, log density,
 * diagonal inverse metric, step size (jittered by opt.jitter as in HMC) and RNG, with the same
 * conventions (p ~ N(0, M), θ += ε M⁻¹ p), so checkpoints, adaptation and the step-size
 * heuristic (bnn_hmc_find_step_size) are shared. The sampler holds only scratch space. */
#ifndef BNN_SAMPLE_NUTS_H
#define BNN_SAMPLE_NUTS_H

#include "sample/hmc.h"

#define BNN_NUTS_MAX_DEPTH_LIMIT 30 /* largest accepted max_depth */

typedef struct bnn_nuts bnn_nuts;

/* A NUTS sampler moving the state s (which must outlive it); max_depth in [1, 30]. */
bnn_status bnn_nuts_alloc(bnn_hmc *s, size_t max_depth, bnn_nuts **out);
void bnn_nuts_free(bnn_nuts *n);

/* One transition from the state's current position. Fills st: accept_prob is Stan's adaptation
 * statistic (mean over every leapfrog step of the tree, rejected subtrees included, of
 * min(1, exp(H0 - H))); accepted = the draw differs from the starting point; energy = H of the
 * draw; energy_error = that minus H0; n_leapfrog and tree_depth (0 when the very first step
 * diverged). */
bnn_status bnn_nuts_iterate(bnn_nuts *n, bnn_hmc_stats *st);

#endif
