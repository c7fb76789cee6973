/* Reductions over positions and rows of the CUDA CNN backend (cnn_reduce.cu), used by cnn.cu:
 * FRN (with TLU, and fused with the activation after it) and the bias gradients. */
#ifndef BNN_BACKEND_CUDA_CNN_REDUCE_CUH
#define BNN_BACKEND_CUDA_CNN_REDUCE_CUH

#include "backend/cuda/internal.cuh"

extern "C" {
#include "nn/cnn.h"
}

/* Doubles of the first-level sums bnn_cuda_bias_grad needs for rows × o. */
size_t bnn_cuda_bias_part_len(size_t rows, size_t o);

/* db (o) += Σ over rows of dout (rows, o), in a fixed order (two levels through part, no
 * atomics). */
bnn_status bnn_cuda_bias_grad(struct cuda_backend *b, float *db, double *part, const float *dout,
                              size_t rows, size_t o);

/* FRN node nd's forward on m images: out = FRN(in), or (fuse) out = act(FRN(in)), the output of
 * the activation node after it (the FRN output not stored). */
bnn_status bnn_cuda_frn_forward(struct cuda_backend *b, const bnn_cnn_node *nd, float *out,
                                const float *in, size_t m, int fuse, bnn_activation act);

/* Its backward: γ, β, τ gradients (into b->grad_f, through part: 3·m·c doubles) and, unless din
 * is NULL, din += the input gradient; dout is the gradient of the FRN output or (fuse) of the
 * activation's output, the FRN output and activation then recomputed. */
bnn_status bnn_cuda_frn_backward(struct cuda_backend *b, const bnn_cnn_node *nd, float *din,
                                 double *part, const float *dout, const float *in, size_t m,
                                 int fuse, bnn_activation act);

#endif
