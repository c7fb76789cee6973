/* Direct convolutions of the CUDA CNN backend (conv.cu), used by cnn.cu. */
#ifndef BNN_BACKEND_CUDA_CONV_CUH
#define BNN_BACKEND_CUDA_CONV_CUH

#include "backend/cuda/internal.cuh"

extern "C" {
#include "nn/layers/layers.h"
}

/* cnn.cu's convolution paths: conv.cu's direct ones (the default), im2col + cuBLAS, cuDNN
 * (conv_cudnn.cu; conv.cu takes the convolutions cuDNN cannot pad). */
enum bnn_cuda_conv_path { BNN_CONV_DIRECT, BNN_CONV_IM2COL, BNN_CONV_CUDNN };

/* The path BNNMC_CUDA_CONV asks for: unset, empty or "direct", "im2col", "cudnn"; anything
 * else is an error naming the variable. */
bnn_status bnn_cuda_conv_path(enum bnn_cuda_conv_path *out);

/* 1 if the input gradient of s can be taken directly (stride 1, padding below k), 0 if it takes
 * the im2col path (dcol = dout · wᵀ, then the col2im gather). */
int bnn_cuda_conv_direct_input_grad(const bnn_conv_shape *s);

/* out (m·oh·ow, o) = conv(in (m, h, w, c), w (k, k, c, o)) + bias. */
bnn_status bnn_cuda_conv_forward(struct cuda_backend *b, const bnn_conv_shape *s, float *out,
                                 const float *in, const float *w, const float *bias, size_t m);

/* din (m, h, w, c) += the input gradient of dout (m, oh, ow, o); wt: k·k·c·o floats of scratch
 * (the weights flipped and transposed). Only where bnn_cuda_conv_direct_input_grad(s). */
bnn_status bnn_cuda_conv_input_grad(struct cuda_backend *b, const bnn_conv_shape *s, float *din,
                                    const float *dout, const float *w, float *wt, size_t m);

/* The weight gradient's first level for a micro-batch of m images (of at most M): part (chunks,
 * k·k·c, o) += (first: =) the sums over chunks of the m·oh·ow output positions of col ⊗ dout,
 * each in a fixed order. Over the micro-batches of a gradient (the first with first = 1), part's
 * block z adds up chunk z of each; then bnn_cuda_conv_weight_total. */
bnn_status bnn_cuda_conv_weight_grad(struct cuda_backend *b, const bnn_conv_shape *s,
                                     float *part, const float *dout, const float *in, size_t m,
                                     size_t M, int first);

/* dw (k·k·c, o) += the sums in part, in order; m_first: the images of the first micro-batch. */
bnn_status bnn_cuda_conv_weight_total(struct cuda_backend *b, const bnn_conv_shape *s, float *dw,
                                      const float *part, size_t m_first, size_t M);

/* Floats of part for s and micro-batches of at most M images. */
size_t bnn_cuda_conv_weight_part_len(const bnn_conv_shape *s, size_t M);

#endif
