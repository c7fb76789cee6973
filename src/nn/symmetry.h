/* Symmetries of an MLP's parameter block that leave the network function unchanged: permuting
 * the units of a hidden layer and, for odd activations, flipping the sign of a unit.
 *
 * Hidden layer `layer` (0 <= layer < n_layers - 1) is the output of dense layer `layer`; its
 * H = width[layer + 1] units own column j of w_layer (in, H), entry j of b_layer (H) and row j
 * of w_{layer+1} (H, out). Odd activations (act(-x) = -act(x)): tanh and erf. ReLU and swish are
 * not odd, so only permutations apply to them (ReLU's positive rescaling is not handled here). */
#ifndef BNN_NN_SYMMETRY_H
#define BNN_NN_SYMMETRY_H

#include <stddef.h>
#include <stdint.h>

#include "core/rng.h"
#include "core/status.h"
#include "nn/mlp.h"

/* 1 for tanh and erf, 0 otherwise. */
int bnn_activation_is_odd(bnn_activation a);

/* Number of hidden layers (n_layers - 1) and the widest one (0 for a linear model). */
size_t bnn_mlp_n_hidden(const bnn_mlp *m);
size_t bnn_mlp_max_hidden_width(const bnn_mlp *m);

/* Reorders the units of hidden layer `layer` in place: new unit k = old unit perm[k].
 * perm (width[layer + 1]) must be a permutation of 0..H-1 (not checked). */
bnn_status bnn_mlp_permute_units(const bnn_mlp *m, size_t layer, const size_t *perm,
                                 double *theta);

/* Flips the units j of hidden layer `layer` with sign[j] = -1 (sign[j] = +1 leaves unit j):
 * negates its incoming weights, its bias and its outgoing weights. Valid (function-preserving)
 * only for odd activations; BNN_EINVAL otherwise. sign (width[layer + 1]). */
bnn_status bnn_mlp_flip_units(const bnn_mlp *m, size_t layer, const int8_t *sign,
                              double *theta);

/* The sampler's symmetry move: for every hidden layer a uniformly random permutation
 * (Fisher-Yates from rng) and, for odd activations, independent uniformly random signs, applied
 * alike to theta (n_params) and, when grad is not NULL, to the cached gradient grad (n_params):
 * both maps are orthogonal, so ∇logp(Tθ) = T ∇logp(θ) and the cached gradient stays exact.
 * scratch holds bnn_mlp_max_hidden_width(m) size_t values (no allocation here). Leaves the
 * posterior, and every prediction, invariant. */
bnn_status bnn_mlp_symmetry_move(const bnn_mlp *m, double *theta, double *grad, bnn_rng *rng,
                                 size_t *scratch);

#endif
