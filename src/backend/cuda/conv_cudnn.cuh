/* Convolutions by cuDNN (conv_cudnn.cu), the third of cnn.cu's convolution paths
 * (BNNMC_CUDA_CONV=cudnn). */
#ifndef BNN_BACKEND_CUDA_CONV_CUDNN_CUH
#define BNN_BACKEND_CUDA_CONV_CUDNN_CUH

#include "backend/cuda/internal.cuh"

extern "C" {
#include "nn/cnn.h"
}

/* cuDNN's state for a CNN: its handle, each convolution's descriptors and algorithms, the
 * weights in cuDNN's layout and their gradient sums. */
struct bnn_cuda_cudnn;

/* 1 if cuDNN's convolution takes s as it is: cuDNN pads both sides alike, so s's output size
 * must follow from pad_top and pad_left on both sides ("same" padding of a stride-2 or
 * even-sized kernel puts the extra row after: conv.cu takes those). */
int bnn_cuda_cudnn_takes(const bnn_conv_shape *s);

/* Loads cuDNN (libcudnn.so.9, at run time) and sets up the convolution nodes k of c with
 * on[k] for micro-batches of at most M rows; workspace: ws_bytes of device memory the products
 * may use (their algorithms are chosen to fit it). Math: float32 FMA, or TF32 tensor cores
 * where b->tf32. On error *out may be partly set up; bnn_cuda_cudnn_free frees it. */
bnn_status bnn_cuda_cudnn_create(struct cuda_backend *b, const bnn_cnn *c,
                                 const unsigned char *on, size_t M, void *workspace,
                                 size_t ws_bytes, struct bnn_cuda_cudnn **out);
void bnn_cuda_cudnn_free(struct bnn_cuda_cudnn *d);

/* Before a gradient or prediction: the weights of the cuDNN nodes at b->theta_f, transposed
 * from bnnmc's (k·k·c, o) into cuDNN's (o, k, k, c). */
bnn_status bnn_cuda_cudnn_weights(struct cuda_backend *b, struct bnn_cuda_cudnn *d);

/* out (m, oh, ow, o) += conv(in (m, h, w, c)) for node k (the caller has put the bias in). */
bnn_status bnn_cuda_cudnn_forward(struct cuda_backend *b, struct bnn_cuda_cudnn *d, size_t k,
                                  float *out, const float *in, size_t m);

/* For node k and a micro-batch of m rows: the weight gradient's sums (first: the first
 * micro-batch of the gradient, which sets them) and, if din is not NULL, din += the input
 * gradient of dout. */
bnn_status bnn_cuda_cudnn_backward(struct cuda_backend *b, struct bnn_cuda_cudnn *d, size_t k,
                                   float *din, const float *dout, const float *in, size_t m,
                                   int first);

/* After the last micro-batch: each cuDNN node's weight gradient, back in bnnmc's layout, added
 * to b->grad_f. */
bnn_status bnn_cuda_cudnn_weight_totals(struct cuda_backend *b, struct bnn_cuda_cudnn *d);

#endif
