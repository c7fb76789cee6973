/* Shared by the CUDA backend's files: the backend's device state, its error macro, and the
 * device-side building blocks the whole-trajectory sampler (hmc.cu) reuses. */
#ifndef BNN_BACKEND_CUDA_INTERNAL_CUH
#define BNN_BACKEND_CUDA_INTERNAL_CUH

#include <cublas_v2.h>
#include <cuda_runtime.h>

extern "C" {
#include "backend/cuda.h"
}

/* Returns a bnn_status naming the failed call and the CUDA error. */
#define BNN_CUDA_TRY(call)                                                                     \
    do {                                                                                       \
        cudaError_t bnn_cuda_err_ = (call);                                                    \
        if (bnn_cuda_err_ != cudaSuccess)                                                      \
            return BNN_ERROR(bnn_cuda_err_ == cudaErrorMemoryAllocation ? BNN_ENOMEM : BNN_EIO, \
                             "CUDA: %s failed: %s", #call, cudaGetErrorString(bnn_cuda_err_)); \
    } while (0)

#define BNN_CUBLAS_TRY(call)                                                                   \
    do {                                                                                       \
        cublasStatus_t bnn_cublas_st_ = (call);                                                \
        if (bnn_cublas_st_ != CUBLAS_STATUS_SUCCESS)                                           \
            return BNN_ERROR(BNN_EIO, "cuBLAS: %s failed: %s", #call,                          \
                             cublasGetStatusString(bnn_cublas_st_));                           \
    } while (0)

/* Threads per block of every elementwise kernel, and numbers per block of the first level of
 * the fixed-order sums (each thread adds BNN_CUDA_SUM_PER_THREAD numbers, then a tree). */
#define BNN_CUDA_THREADS 256
#define BNN_CUDA_SUM_PER_THREAD 16
#define BNN_CUDA_SUM_BLOCK (BNN_CUDA_THREADS * BNN_CUDA_SUM_PER_THREAD)

struct bnn_cuda_data {
    size_t d, n_train, n_predict;
    float *x_train;   /* device (n_train, d) */
    double *y_train;  /* device (n_train) */
    float *x_predict; /* device (n_predict, d) or NULL */
};

/* One chain's backend (n_chains = 1, the vtable's), or K chains batched into the same kernels
 * (bnn_cuda_batch): θ and gradients are K copies one after the other ((K, P)); activations
 * (rows, K·width), the chains side by side in each row, so that the first layer of all chains
 * is one product with the shared inputs and each later layer one strided-batched product. */
struct cuda_backend {
    const bnn_net *net;
    const bnn_mlp *mlp;
    const bnn_cuda_data *data;
    size_t n_chains;  /* K */
    int tf32;         /* TF32 tensor cores allowed (--tf32) */
    cudaStream_t stream;
    cublasHandle_t blas;
    size_t rows_max;  /* rows of the workspaces: max(n_train, n_predict) */
    /* device workspaces */
    float *z[BNN_MLP_MAX_LAYERS + 1]; /* (rows, K·width[l]) pre-activations, l = 1..L: the
                                         logits, and hidden layers' only for activations whose
                                         derivative needs them (swish, erf) */
    float *a[BNN_MLP_MAX_LAYERS + 1]; /* (rows, K·width[l]) activations, l = 1..L-1 */
    float *g0, *g1;   /* (rows, K·max width) backward buffers */
    float *w_all;     /* K > 1: (width[0], K·width[1]) first-layer weights or their gradient */
    float *db_all;    /* K > 1: (K·max width) bias gradients of one layer */
    float *ones;      /* (rows_max) for the bias gradients */
    size_t fuse_tile; /* rows per tile of the fused top layers (backend.cu), 0: not fused */
    float *fuse_part; /* their block sums of the output layer's gradient */
    double *ll_rows;  /* (K, rows) per-row log-likelihood */
    double *partial;  /* first-level sums of the fixed-order reduction */
    double *ll;       /* (K) the log-likelihoods */
    float *theta_f;   /* (K, P) θ as float */
    float *grad_f;    /* (K, P) gradient of the log-likelihood as float */
    double *grad_d;   /* (K, P) the same as double */
    /* host buffers */
    float *logits_h;  /* (n_predict, K·n_logits), then (K > 1) one chain's (n_predict, n_logits) */
    double *grad_h;   /* pinned (K, P) */
    /* a convolutional net (cnn.cu; K = 1, no MLP buffers), or NULL for an MLP */
    struct bnn_cuda_cnn *cnn;
};

/* Enqueues on b->stream the log-likelihoods at b->theta_f (device, K chains) into b->ll and,
 * if want_grad, their gradients into b->grad_f. Nothing is copied to the host. */
bnn_status bnn_cuda_loglik_grad_device(struct cuda_backend *b, int want_grad);

/* Enqueues out[0] = Σ v[0..n) (device, double) in a fixed order: sums of consecutive blocks of
 * BNN_CUDA_SUM_BLOCK numbers (each a fixed tree), then the block sums in order. */
bnn_status bnn_cuda_sum(struct cuda_backend *b, const double *v, size_t n, double *out);

/* The same for k consecutive segments of n numbers each: out[c] = Σ v[c·n .. (c+1)·n). */
bnn_status bnn_cuda_sum_segments(struct cuda_backend *b, const double *v, size_t n, size_t k,
                                 double *out);

/* The second level of bnn_cuda_sum_segments alone, for a kernel that has written the first
 * level (n_blocks block sums of each of k segments) into b->partial. */
bnn_status bnn_cuda_sum_partials(struct cuda_backend *b, size_t n_blocks, size_t k, double *out);

/* Enqueues, for `rows` rows of logits f (device, (rows, n_logits)) and targets y (device,
 * (rows)): ll_rows[r] = log p(y_r | f_r) under the net's likelihood and, if g is not NULL,
 * g (rows, n_logits) = d ll_rows[r] / d f_r. One row per thread (one chain's layout). */
bnn_status bnn_cuda_head(struct cuda_backend *b, const float *f, const double *y, size_t rows,
                         float *g, double *ll_rows);

/* Whether the derivative of act needs z: tanh' = 1 - a², and relu's z > 0 is a > 0, so those
 * keep only a = act(z) of the hidden layers (one pass over memory less each way). */
static inline int bnn_cuda_needs_z(bnn_activation act)
{
    return act != BNN_ACT_TANH && act != BNN_ACT_RELU;
}

/* ---- the fused top of an MLP (fused_top.cu) ------------------------------------------- */

/* Rows per shared-memory tile of the fused top for b's MLP, or 0 where it does not apply (no
 * hidden layer, a top too large for it, or BNNMC_CUDA_FUSE=0). */
size_t bnn_cuda_fuse_tile(const struct cuda_backend *b);

/* Floats of b->fuse_part, the fused top's block sums, for b->fuse_tile > 0. */
size_t bnn_cuda_fuse_part_len(const struct cuda_backend *b);

/* For b->fuse_tile > 0: from zin (rows, K·H), the last hidden layer's product without its bias
 * (forward's raw top), the per-row log-likelihoods into b->ll_rows and, if want_grad, the
 * gradient of the last hidden layer's pre-activation into b->g0 and the output layer's weights
 * and biases and the last hidden layer's biases into b->grad_f. */
bnn_status bnn_cuda_fused_top(struct cuda_backend *b, const float *zin, size_t rows,
                              int want_grad);

/* Predictive outputs of each chain c with want[c] at b->theta_f (device, K chains) for the
 * data's prediction rows: out[c] (n_predict, n_outputs). One forward pass of all K chains. */
bnn_status bnn_cuda_predict_chains(struct cuda_backend *b, const int *want, double *const *out);

/* The buffers of b that do not depend on the kind of net, for K = b->n_chains chains and
 * b->rows_max rows: ll_rows, partial, ll, theta_f, grad_f, grad_d, grad_h, logits_h. */
bnn_status bnn_cuda_common_buffers(struct cuda_backend *b);

/* The K-chain backend inside a batch. */
struct cuda_backend *bnn_cuda_batch_backend(bnn_cuda_batch *batch);

/* ---- convolutional nets (cnn.cu) ------------------------------------------------------ */

/* The device state of a CNN backend: micro-batch workspaces and the rows per micro-batch. */
struct bnn_cuda_cnn;

/* For b->net a CNN (net->impl a bnn_cnn) and K = 1: allocates b->cnn and the backend's common
 * buffers (bnn_cuda_common_buffers). Rows per
 * micro-batch: from a fixed 2 GiB workspace budget, or BNNMC_CUDA_MICRO_ROWS if set. On error
 * b->cnn may be partly allocated; cuda_free frees it. */
bnn_status bnn_cuda_cnn_create(struct cuda_backend *b);
void bnn_cuda_cnn_free(struct bnn_cuda_cnn *cnn);

/* bnn_cuda_loglik_grad_device for a CNN: micro-batch by micro-batch, forward, head and (if
 * want_grad) backward, the gradient accumulated in order into b->grad_f, the log-likelihood
 * into b->ll[0]. */
bnn_status bnn_cuda_cnn_loglik_grad(struct cuda_backend *b, int want_grad);

/* Predictive outputs (n_predict, n_outputs) at b->theta_f for the data's prediction rows
 * (which the caller has checked exist). */
bnn_status bnn_cuda_cnn_predict(struct cuda_backend *b, double *out);

/* Blocks covering n elements. */
static inline unsigned bnn_cuda_blocks(size_t n)
{
    return (unsigned)((n + BNN_CUDA_THREADS - 1) / BNN_CUDA_THREADS);
}

/* BNN_OK if the kernels just enqueued could be launched, else an error naming them. */
static inline bnn_status bnn_cuda_launched(const char *what)
{
    cudaError_t e = cudaGetLastError();
    return e == cudaSuccess ? BNN_OK
                            : BNN_ERROR(BNN_EIO, "CUDA: the %s kernels could not be launched: %s",
                                        what, cudaGetErrorString(e));
}

#endif
