/* Symmetry alignment of MLP draws ("weight matching", Ainsworth et al., Git Re-Basin, ICLR 2023):
 * each draw is carried, by hidden-unit permutations and (odd activations) sign flips that leave
 * its network function unchanged, as close as possible to a reference draw.
 *
 * For hidden layer l the similarity of the draw's unit j to the reference's unit k is
 *     S[j,k] = Σ_i w_l[i,j] w*_l[i,k] + b_l[j] b*_l[k] + Σ_o w_{l+1}[j,o] w*_{l+1}[k,o]
 * (incoming weights and bias, outgoing weights), computed on the draw as already transformed
 * for the other layers. For odd activations the sign of unit j is chosen per pair as sign
 * S[j,k] (flip when the correlation is negative), so the score is |S[j,k]|. A linear assignment
 * (Hungarian method, shortest augmenting paths, O(H^3)) maximises Σ_j score[j, k(j)]. Layers are
 * swept from the input; sweeps repeat until one changes nothing (one sweep suffices for a single
 * hidden layer) or max_sweeps is reached. */
#ifndef BNN_DIAG_ALIGN_H
#define BNN_DIAG_ALIGN_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "nn/mlp.h"

/* Linear assignment: assign[i] (n) = the column given to row i, maximising Σ_i score[i, assign[i]]
 * over permutations; score (n, n) row-major, finite (BNN_ENUM otherwise). work holds 3 (n + 1)
 * doubles and iwork 3 (n + 1) size_t values. */
bnn_status bnn_assign_max(const double *score, size_t n, size_t *assign, double *work,
                          size_t *iwork);

/* Workspace for aligning draws of one model; one per thread. */
typedef struct bnn_align bnn_align;

bnn_status bnn_align_alloc(const bnn_mlp *m, size_t max_sweeps, bnn_align **out);
void bnn_align_free(bnn_align *a);

/* Aligns theta (n_params) in place to ref (n_params). The transform found is kept in the
 * workspace until the next call (bnn_align_apply_last). *sweeps (may be NULL) = sweeps used. */
bnn_status bnn_align_draw(bnn_align *a, const double *ref, double *theta, size_t *sweeps);

/* 1 if the last bnn_align_draw changed anything (its transform is not the identity). */
int bnn_align_last_changed(const bnn_align *a);

/* Applies the transform found by the last bnn_align_draw to another vector (n_params): the
 * per-chain alignment carries every draw of a chain by the transform of one of them. */
bnn_status bnn_align_apply_last(bnn_align *a, double *theta);

#endif
