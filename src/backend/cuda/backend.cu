/* CUDA backend for MLPs: the training data resident on the device, cuBLAS float32 products in
 * the CPU's parameter layout (mlp.h), fused bias + activation kernels, the likelihood heads one
 * row per thread, and the log-likelihood summed in double in a fixed order (no atomics), so a
 * run on one GPU gives the same bits every time.
 *
 * Layout: row-major (rows, width) activations and row-major w_l (in, out) are, to column-major
 * cuBLAS, the transposes; every product below is written as the column-major call it is. */
#include "backend/cuda/internal.cuh"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/cuda/device_math.h"

/* ---- kernels -------------------------------------------------------------------------- */

/* z (rows, K·o) += chain c's b (o) (at b + c·P) in columns c·o .. (c+1)·o of every row;
 * a = act(z) unless a is NULL (the output layer). With a == z, only act(z) is kept (in place).
 * n = rows·K·o numbers. */
__global__ void bias_activate_kernel(float *z, float *a, const float *b, size_t n, size_t o,
                                     size_t K, size_t P, bnn_activation act)
{
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const size_t col = i % (K * o);
    float v = z[i] + b[col / o * P + col % o];
    if (a != z) z[i] = v;
    if (a) a[i] = bnn_dm_activate(act, v);
}


/* g *= act'(z), a = act(z) (z may be a itself when !bnn_cuda_needs_z(act)). */
__global__ void activate_backward_kernel(float *g, const float *z, const float *a, size_t n,
                                         bnn_activation act)
{
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) g[i] = bnn_dm_activate_backward(act, g[i], z[i], a[i]);
}

/* One row of one chain per thread, t = c·rows + r < n = K·rows: ll_rows[t] = log p(y_r | f_rc)
 * for the logits f_rc of chain c in row r of f (rows, K·k) and, if g is not NULL, g in the same
 * layout as f. */
__global__ void head_kernel(const float *f, const double *y, size_t n, size_t rows, size_t K,
                            size_t k, bnn_likelihood lik, double noise_sd, float *g,
                            double *ll_rows)
{
    size_t t = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= n) return;
    const size_t r = t % rows, at = (r * K + t / rows) * k;
    ll_rows[t] = bnn_dm_head_row(lik, noise_sd, f + at, y[r], k, g ? g + at : NULL);
}

/* The first layer's weights of the K chains side by side: w_all (i, K·o) row-major, chain c's
 * w (i, o) (at theta + c·P) in columns c·o .. (c+1)·o, so that the shared inputs meet every
 * chain's first layer in one wide product. n = i·K·o. */
__global__ void gather_weights_kernel(float *w_all, const float *theta, size_t n, size_t o,
                                      size_t K, size_t P)
{
    size_t t = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= n) return;
    const size_t row = t / (K * o), col = t % (K * o);
    w_all[t] = theta[col / o * P + row * o + col % o];
}

/* The inverse for gradients: chain c's block (rows_m, o) of m (rows_m, K·o) to grad + c·P.
 * n = rows_m·K·o. */
__global__ void scatter_chains_kernel(float *grad, const float *m, size_t n, size_t o, size_t K,
                                      size_t P)
{
    size_t t = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= n) return;
    const size_t row = t / (K * o), col = t % (K * o);
    grad[col / o * P + row * o + col % o] = m[t];
}

/* First level of the fixed-order sum over segment c = blockIdx.y (v + c·n): block k adds
 * v[k·B .. (k+1)·B) (B = BNN_CUDA_SUM_BLOCK), each thread a strided run in order, then a fixed
 * tree over the threads, into partial[c·gridDim.x + k]. */
__global__ void block_sum_kernel(const double *v, size_t n, double *partial)
{
    __shared__ double s[BNN_CUDA_THREADS];
    v += (size_t)blockIdx.y * n;
    partial += (size_t)blockIdx.y * gridDim.x;
    size_t base = (size_t)blockIdx.x * BNN_CUDA_SUM_BLOCK;
    double acc = 0;
    for (size_t j = 0; j < BNN_CUDA_SUM_PER_THREAD; j++) {
        size_t i = base + j * BNN_CUDA_THREADS + threadIdx.x;
        if (i < n) acc += v[i];
    }
    s[threadIdx.x] = acc;
    __syncthreads();
    for (unsigned w = BNN_CUDA_THREADS / 2; w > 0; w /= 2) {
        if (threadIdx.x < w) s[threadIdx.x] += s[threadIdx.x + w];
        __syncthreads();
    }
    if (threadIdx.x == 0) partial[blockIdx.x] = s[0];
}

/* Second level: each segment's block sums added in order by one thread. */
__global__ void ordered_sum_kernel(const double *partial, size_t n_blocks, size_t n_segments,
                                   double *out)
{
    size_t c = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= n_segments) return;
    double acc = 0;
    for (size_t k = 0; k < n_blocks; k++) acc += partial[c * n_blocks + k];
    out[c] = acc;
}

__global__ void float_to_double_kernel(const float *src, double *dst, size_t n)
{
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) dst[i] = (double)src[i];
}

__global__ void fill_kernel(float *dst, float value, size_t n)
{
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) dst[i] = value;
}

/* ---- data ----------------------------------------------------------------------------- */

/* Copies n doubles to a new device array of floats. */
static bnn_status upload_floats(const double *src, size_t n, float **dst)
{
    *dst = NULL;
    float *h = (float *)malloc((n ? n : 1) * sizeof(float));
    if (!h) return BNN_ERROR(BNN_ENOMEM, "out of memory converting %zu inputs for the GPU", n);
    for (size_t i = 0; i < n; i++) h[i] = (float)src[i];
    cudaError_t e = cudaMalloc((void **)dst, (n ? n : 1) * sizeof(float));
    if (e == cudaSuccess) e = cudaMemcpy(*dst, h, n * sizeof(float), cudaMemcpyHostToDevice);
    free(h);
    if (e != cudaSuccess)
        return BNN_ERROR(e == cudaErrorMemoryAllocation ? BNN_ENOMEM : BNN_EIO,
                         "CUDA: copying %zu inputs to the GPU failed: %s", n,
                         cudaGetErrorString(e));
    return BNN_OK;
}

extern "C" int bnn_cuda_device_count(void)
{
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        (void)cudaGetLastError(); /* no driver or no device: clear the sticky error */
        return 0;
    }
    return n;
}

extern "C" const char *bnn_cuda_build(void) { return "cuda"; }

static bnn_status data_alloc(size_t d, const double *x_train, const double *y_train,
                             size_t n_train, const double *x_predict, size_t n_predict,
                             bnn_cuda_data *c)
{
    if (bnn_cuda_device_count() == 0)
        return BNN_ERROR(BNN_EUNSUP, "--device cuda: no CUDA device is present");
    BNN_TRY(upload_floats(x_train, n_train * d, &c->x_train));
    BNN_CUDA_TRY(cudaMalloc((void **)&c->y_train, (n_train ? n_train : 1) * sizeof(double)));
    BNN_CUDA_TRY(cudaMemcpy(c->y_train, y_train, n_train * sizeof(double),
                            cudaMemcpyHostToDevice));
    if (x_predict) BNN_TRY(upload_floats(x_predict, n_predict * d, &c->x_predict));
    /* the copies ran on the legacy stream, which the backends' streams do not wait for */
    BNN_CUDA_TRY(cudaDeviceSynchronize());
    return BNN_OK;
}

extern "C" bnn_status bnn_cuda_data_alloc(size_t d, const double *x_train, const double *y_train,
                                          size_t n_train, const double *x_predict,
                                          size_t n_predict, bnn_cuda_data **out)
{
    bnn_cuda_data *c = (bnn_cuda_data *)calloc(1, sizeof *c);
    if (!c) return BNN_ERROR(BNN_ENOMEM, "out of memory for the GPU training data");
    c->d = d;
    c->n_train = n_train;
    c->n_predict = x_predict ? n_predict : 0;
    bnn_status s = data_alloc(d, x_train, y_train, n_train, x_predict, n_predict, c);
    if (s != BNN_OK) {
        bnn_cuda_data_free(c);
        return s;
    }
    *out = c;
    return BNN_OK;
}

extern "C" void bnn_cuda_data_free(bnn_cuda_data *c)
{
    if (!c) return;
    cudaFree(c->x_train);
    cudaFree(c->y_train);
    cudaFree(c->x_predict);
    free(c);
}

/* ---- forward and backward ------------------------------------------------------------- */

static const float k_one = 1.0f, k_zero = 0.0f;

/* C = op(A) · op(B) (column-major, m × n, inner k) for each of the K chains: one SGEMM when
 * K = 1, else one strided-batched SGEMM (stride 0: the operand is shared by the chains). */
static bnn_status gemm(struct cuda_backend *b, cublasOperation_t ta, cublasOperation_t tb, int m,
                       int n, int k, const float *A, int lda, size_t stride_a, const float *B,
                       int ldb, size_t stride_b, float *C, int ldc, size_t stride_c)
{
    if (b->n_chains == 1)
        BNN_CUBLAS_TRY(cublasSgemm(b->blas, ta, tb, m, n, k, &k_one, A, lda, B, ldb, &k_zero, C,
                                   ldc));
    else
        BNN_CUBLAS_TRY(cublasSgemmStridedBatched(b->blas, ta, tb, m, n, k, &k_one, A, lda,
                                                 (long long)stride_a, B, ldb, (long long)stride_b,
                                                 &k_zero, C, ldc, (long long)stride_c,
                                                 (int)b->n_chains));
    return BNN_OK;
}

/* The buffer layer l's product lands in: its activations in place for hidden layers of tanh
 * and relu, else its pre-activations. */
static float *layer_out(const struct cuda_backend *b, size_t l)
{
    return l < b->mlp->n_layers && !bnn_cuda_needs_z(b->mlp->act) ? b->a[l] : b->z[l];
}

/* Forward pass over `rows` rows of x (device, shared by the chains): leaves the logits in
 * b->z[L] or, if raw_top, stops after the last hidden layer's product, its bias not added
 * (layer_out(b, L - 1); fused_top_kernel takes it from there). Layout of the K chains'
 * activations: (rows, K·width), chain c in columns c·width .. (c+1)·width of each row (for K =
 * 1, the CPU's (rows, width)). The first layer is one product for all chains (x times the
 * chains' weights side by side); each later layer one strided-batched product, chain c reading
 * and writing its columns (leading dimension K·width). */
static bnn_status forward(struct cuda_backend *b, const float *x, size_t rows, int raw_top)
{
    const bnn_mlp *m = b->mlp;
    const size_t P = b->net->n_params, K = b->n_chains, top = m->n_layers - (raw_top ? 1 : 0);
    for (size_t l = 1; l <= top; l++) {
        const int i = (int)m->width[l - 1], o = (int)m->width[l], Ko = (int)K * o;
        const float *w = b->theta_f + m->w_offset[l - 1], *bias = b->theta_f + m->b_offset[l - 1];
        float *a = l < m->n_layers ? b->a[l] : NULL, *z = layer_out(b, l);
        if (l == 1) {
            int ldw = o;
            if (K > 1) {
                const size_t n_w = (size_t)i * K * o;
                gather_weights_kernel<<<bnn_cuda_blocks(n_w), BNN_CUDA_THREADS, 0, b->stream>>>(
                    b->w_all, w, n_w, (size_t)o, K, P);
                w = b->w_all;
                ldw = Ko;
            }
            /* zᵀ (K·o, rows) = w_allᵀ (K·o, i) · xᵀ (i, rows) in column-major terms */
            BNN_CUBLAS_TRY(cublasSgemm(b->blas, CUBLAS_OP_N, CUBLAS_OP_N, Ko, (int)rows, i, &k_one,
                                       w, ldw, x, i, &k_zero, z, Ko));
        } else {
            /* chain c: zᵀ (o, rows) = wᵀ (o, i) · inᵀ (i, rows), in and z its columns */
            BNN_TRY(gemm(b, CUBLAS_OP_N, CUBLAS_OP_N, o, (int)rows, i, w, o, P, b->a[l - 1],
                         (int)K * i, (size_t)i, z, Ko, (size_t)o));
        }
        if (raw_top && l == top) break;
        const size_t n = rows * (size_t)Ko;
        bias_activate_kernel<<<bnn_cuda_blocks(n), BNN_CUDA_THREADS, 0, b->stream>>>(
            z, a, bias, n, (size_t)o, K, P, m->act);
    }
    return cudaGetLastError() == cudaSuccess
               ? BNN_OK
               : BNN_ERROR(BNN_EIO, "CUDA: a forward kernel could not be launched");
}

/* Backward pass from g = d loglik / d (pre-activation of layer top) (in b->g0, the layout of
 * forward; top = L: the logits) into the gradients of layers 1..top in b->grad_f (but layer
 * top's bias gradient if top_bias_done: fused_top_kernel's). The first layer's weight gradient
 * is one product for all chains (xᵀ times the chains' g side by side), each bias gradient one
 * matrix-vector product for all chains; the K > 1 results are scattered to the chains'
 * gradients. */
static bnn_status backward(struct cuda_backend *b, const float *x, size_t rows, size_t top,
                           int top_bias_done)
{
    const bnn_mlp *m = b->mlp;
    const size_t P = b->net->n_params, K = b->n_chains;
    float *g = b->g0, *g_prev = b->g1;
    for (size_t l = top; l >= 1; l--) {
        const int i = (int)m->width[l - 1], o = (int)m->width[l], r = (int)rows, Ko = (int)K * o;
        float *dw = b->grad_f + m->w_offset[l - 1], *db = b->grad_f + m->b_offset[l - 1];
        if (l == 1) {
            /* dw_allᵀ (K·o, i) = gᵀ (K·o, rows) · x (rows, i) */
            float *dst = K > 1 ? b->w_all : dw;
            BNN_CUBLAS_TRY(cublasSgemm(b->blas, CUBLAS_OP_N, CUBLAS_OP_T, Ko, i, r, &k_one, g, Ko,
                                       x, i, &k_zero, dst, Ko));
            if (K > 1) {
                const size_t n_w = (size_t)i * K * o;
                scatter_chains_kernel<<<bnn_cuda_blocks(n_w), BNN_CUDA_THREADS, 0, b->stream>>>(
                    dw, b->w_all, n_w, (size_t)o, K, P);
            }
        } else {
            /* chain c: dwᵀ (o, i) = gᵀ (o, rows) · in (rows, i), g and in its columns */
            BNN_TRY(gemm(b, CUBLAS_OP_N, CUBLAS_OP_T, o, i, r, g, Ko, (size_t)o, b->a[l - 1],
                         (int)K * i, (size_t)i, dw, o, P));
        }
        /* db_all (K·o) = gᵀ (K·o, rows) · 1 (rows) */
        if (!(top_bias_done && l == top)) {
            BNN_CUBLAS_TRY(cublasSgemv(b->blas, CUBLAS_OP_N, Ko, r, &k_one, g, Ko, b->ones, 1,
                                       &k_zero, K > 1 ? b->db_all : db, 1));
            if (K > 1)
                scatter_chains_kernel<<<bnn_cuda_blocks((size_t)Ko), BNN_CUDA_THREADS, 0,
                                        b->stream>>>(db, b->db_all, (size_t)Ko, (size_t)o, K, P);
        }
        if (l == 1) break;
        /* chain c: g_prevᵀ (i, rows) = w (i, o) · gᵀ (o, rows), g_prev and g its columns */
        BNN_TRY(gemm(b, CUBLAS_OP_T, CUBLAS_OP_N, i, r, o, b->theta_f + m->w_offset[l - 1], o, P, g,
                     Ko, (size_t)o, g_prev, (int)K * i, (size_t)i));
        const size_t n = K * rows * (size_t)i;
        activate_backward_kernel<<<bnn_cuda_blocks(n), BNN_CUDA_THREADS, 0, b->stream>>>(
            g_prev, bnn_cuda_needs_z(m->act) ? b->z[l - 1] : b->a[l - 1], b->a[l - 1], n, m->act);
        float *t = g;
        g = g_prev;
        g_prev = t;
    }
    return cudaGetLastError() == cudaSuccess
               ? BNN_OK
               : BNN_ERROR(BNN_EIO, "CUDA: a backward kernel could not be launched");
}

bnn_status bnn_cuda_sum_segments(struct cuda_backend *b, const double *v, size_t n, size_t k,
                                 double *out)
{
    const size_t n_blocks = (n + BNN_CUDA_SUM_BLOCK - 1) / BNN_CUDA_SUM_BLOCK;
    if (n_blocks > 0)
        block_sum_kernel<<<dim3((unsigned)n_blocks, (unsigned)k), BNN_CUDA_THREADS, 0,
                           b->stream>>>(v, n, b->partial);
    ordered_sum_kernel<<<bnn_cuda_blocks(k), BNN_CUDA_THREADS, 0, b->stream>>>(b->partial,
                                                                              n_blocks, k, out);
    return cudaGetLastError() == cudaSuccess
               ? BNN_OK
               : BNN_ERROR(BNN_EIO, "CUDA: a reduction kernel could not be launched");
}

bnn_status bnn_cuda_sum_partials(struct cuda_backend *b, size_t n_blocks, size_t k, double *out)
{
    ordered_sum_kernel<<<bnn_cuda_blocks(k), BNN_CUDA_THREADS, 0, b->stream>>>(b->partial,
                                                                              n_blocks, k, out);
    return cudaGetLastError() == cudaSuccess
               ? BNN_OK
               : BNN_ERROR(BNN_EIO, "CUDA: a reduction kernel could not be launched");
}

bnn_status bnn_cuda_sum(struct cuda_backend *b, const double *v, size_t n, double *out)
{
    return bnn_cuda_sum_segments(b, v, n, 1, out);
}

bnn_status bnn_cuda_head(struct cuda_backend *b, const float *f, const double *y, size_t rows,
                         float *g, double *ll_rows)
{
    if (rows > 0)
        head_kernel<<<bnn_cuda_blocks(rows), BNN_CUDA_THREADS, 0, b->stream>>>(
            f, y, rows, rows, 1, b->net->n_logits, b->net->lik, b->net->noise_sd, g, ll_rows);
    return cudaGetLastError() == cudaSuccess
               ? BNN_OK
               : BNN_ERROR(BNN_EIO, "CUDA: the likelihood kernel could not be launched");
}

bnn_status bnn_cuda_loglik_grad_device(struct cuda_backend *b, int want_grad)
{
    if (b->cnn) return bnn_cuda_cnn_loglik_grad(b, want_grad); /* convolutional nets: cnn.cu */
    const bnn_cuda_data *d = b->data;
    const size_t rows = d->n_train, k = b->net->n_logits, n = b->n_chains * rows;
    if (b->fuse_tile) {
        BNN_TRY(forward(b, d->x_train, rows, 1));
        BNN_TRY(bnn_cuda_fused_top(b, layer_out(b, b->mlp->n_layers - 1), rows, want_grad));
        BNN_TRY(bnn_cuda_sum_segments(b, b->ll_rows, rows, b->n_chains, b->ll));
        if (want_grad) BNN_TRY(backward(b, d->x_train, rows, b->mlp->n_layers - 1, 1));
        return BNN_OK;
    }
    BNN_TRY(forward(b, d->x_train, rows, 0));
    if (n > 0)
        head_kernel<<<bnn_cuda_blocks(n), BNN_CUDA_THREADS, 0, b->stream>>>(
            b->z[b->mlp->n_layers], d->y_train, n, rows, b->n_chains, k, b->mlp->lik,
            b->mlp->noise_sd, want_grad ? b->g0 : NULL, b->ll_rows);
    BNN_TRY(bnn_cuda_sum_segments(b, b->ll_rows, rows, b->n_chains, b->ll));
    if (want_grad) BNN_TRY(backward(b, d->x_train, rows, b->mlp->n_layers, 0));
    return BNN_OK;
}

/* ---- the vtable ----------------------------------------------------------------------- */

/* θ of the K chains (double, host, (K, P)) to b->theta_f (float, device). */
static bnn_status upload_theta(struct cuda_backend *b, const double *theta)
{
    const size_t n = b->n_chains * b->net->n_params;
    float *h = (float *)b->grad_h; /* the pinned buffer is free between calls */
    for (size_t i = 0; i < n; i++) h[i] = (float)theta[i];
    BNN_CUDA_TRY(cudaMemcpyAsync(b->theta_f, h, n * sizeof(float), cudaMemcpyHostToDevice,
                                 b->stream));
    BNN_CUDA_TRY(cudaStreamSynchronize(b->stream)); /* h is reused below */
    return BNN_OK;
}

/* Log-likelihoods (K) and, if grad is not NULL, gradients (K, P) of the K chains at theta. */
static bnn_status loglik_grad_host(struct cuda_backend *b, const double *theta, double *grad,
                                   double *loglik)
{
    const size_t n = b->n_chains * b->net->n_params;
    BNN_TRY(upload_theta(b, theta));
    BNN_TRY(bnn_cuda_loglik_grad_device(b, grad != NULL));
    if (grad) {
        float_to_double_kernel<<<bnn_cuda_blocks(n), BNN_CUDA_THREADS, 0, b->stream>>>(
            b->grad_f, b->grad_d, n);
        BNN_CUDA_TRY(cudaMemcpyAsync(b->grad_h, b->grad_d, n * sizeof(double),
                                     cudaMemcpyDeviceToHost, b->stream));
    }
    BNN_CUDA_TRY(cudaMemcpyAsync(loglik, b->ll, b->n_chains * sizeof(double),
                                 cudaMemcpyDeviceToHost, b->stream));
    BNN_CUDA_TRY(cudaStreamSynchronize(b->stream));
    if (grad) memcpy(grad, b->grad_h, n * sizeof(double));
    return BNN_OK;
}

static bnn_status cuda_loglik_grad(void *ctx, const double *theta, double *grad, double *loglik)
{
    return loglik_grad_host((struct cuda_backend *)ctx, theta, grad, loglik);
}

bnn_status bnn_cuda_predict_chains(struct cuda_backend *b, const int *want, double *const *out)
{
    const bnn_cuda_data *d = b->data;
    if (!d->x_predict) return BNN_ERROR(BNN_EINVAL, "no prediction inputs were given");
    if (b->cnn) return bnn_cuda_cnn_predict(b, out[0]); /* convolutional nets (K = 1): cnn.cu */
    const size_t k = b->net->n_logits, K = b->n_chains, rows = d->n_predict;
    BNN_TRY(forward(b, d->x_predict, rows, 0));
    BNN_CUDA_TRY(cudaMemcpyAsync(b->logits_h, b->z[b->mlp->n_layers],
                                 rows * K * k * sizeof(float), cudaMemcpyDeviceToHost,
                                 b->stream));
    BNN_CUDA_TRY(cudaStreamSynchronize(b->stream));
    for (size_t c = 0; c < K; c++) {
        if (!want[c]) continue;
        const float *f = b->logits_h;
        if (K > 1) { /* chain c's logits out of the rows (rows, K·k), in place of the first */
            float *own = b->logits_h + rows * K * k;
            for (size_t r = 0; r < rows; r++)
                memcpy(own + r * k, b->logits_h + (r * K + c) * k, k * sizeof(float));
            f = own;
        }
        /* the head on the host: the CPU backend's own function, on the GPU's logits */
        bnn_likelihood_predict_f32(b->mlp->lik, f, rows, k, out[c]);
    }
    return BNN_OK;
}

static bnn_status cuda_predict(void *ctx, const double *theta, double *out)
{
    struct cuda_backend *b = (struct cuda_backend *)ctx;
    const int want = 1;
    BNN_TRY(upload_theta(b, theta));
    return bnn_cuda_predict_chains(b, &want, &out);
}

static void cuda_free(void *ctx)
{
    struct cuda_backend *b = (struct cuda_backend *)ctx;
    if (!b) return;
    for (size_t l = 0; l <= BNN_MLP_MAX_LAYERS; l++) {
        cudaFree(b->z[l]);
        cudaFree(b->a[l]);
    }
    void *dev[] = {b->g0, b->g1, b->ones, b->ll_rows, b->partial, b->ll, b->theta_f, b->grad_f,
                   b->grad_d, b->w_all, b->db_all, b->fuse_part};
    for (size_t i = 0; i < sizeof dev / sizeof dev[0]; i++) cudaFree(dev[i]);
    cudaFreeHost(b->grad_h);
    free(b->logits_h);
    bnn_cuda_cnn_free(b->cnn);
    if (b->blas) cublasDestroy(b->blas);
    if (b->stream) cudaStreamDestroy(b->stream);
    free(b);
}

/* No mini-batch gradient (loglik_grad_rows): `bnnmc train` runs on the CPU. */
static bnn_backend_ops make_cuda_ops()
{
    bnn_backend_ops o{};
    o.name = "cuda";
    o.loglik_grad = cuda_loglik_grad;
    o.predict = cuda_predict;
    o.free = cuda_free;
    return o;
}
static const bnn_backend_ops cuda_ops = make_cuda_ops();

/* cudaMalloc of n numbers of `size` bytes (at least one). */
static bnn_status device_alloc(void **p, size_t n, size_t size)
{
    BNN_CUDA_TRY(cudaMalloc(p, (n ? n : 1) * size));
    return BNN_OK;
}

bnn_status bnn_cuda_common_buffers(struct cuda_backend *b)
{
    const size_t R = b->rows_max, P = b->net->n_params, K = b->n_chains;
    /* first-level sums: of K segments of P (the samplers' kinetic and prior terms) or of R */
    const size_t B = BNN_CUDA_SUM_BLOCK, sums_p = K * ((P + B - 1) / B);
    const size_t sums_r = K * ((R + B - 1) / B);
    BNN_TRY(device_alloc((void **)&b->ll_rows, K * R, sizeof(double)));
    BNN_TRY(device_alloc((void **)&b->partial, (sums_p > sums_r ? sums_p : sums_r) + 1,
                         sizeof(double)));
    BNN_TRY(device_alloc((void **)&b->ll, K, sizeof(double)));
    BNN_TRY(device_alloc((void **)&b->theta_f, K * P, sizeof(float)));
    BNN_TRY(device_alloc((void **)&b->grad_f, K * P, sizeof(float)));
    BNN_TRY(device_alloc((void **)&b->grad_d, K * P, sizeof(double)));
    BNN_CUDA_TRY(cudaMallocHost((void **)&b->grad_h, (K * P > 0 ? K * P : 1) * sizeof(double)));
    /* K chains' logits, side by side, and room for one chain's taken out of them */
    const size_t n_logits = (b->data->n_predict ? b->data->n_predict : 1) * b->net->n_logits *
                            (K > 1 ? K + 1 : 1);
    b->logits_h = (float *)malloc(n_logits * sizeof(float));
    if (!b->logits_h) return BNN_ERROR(BNN_ENOMEM, "out of memory for the GPU predictions");
    return BNN_OK;
}

/* Device and host buffers of b for its net (an MLP), data and K chains. */
static bnn_status backend_buffers(struct cuda_backend *b)
{
    const bnn_mlp *m = b->mlp;
    const size_t R = b->rows_max, K = b->n_chains;
    size_t max_width = 0;
    for (size_t l = 1; l <= m->n_layers; l++) {
        if (l == m->n_layers || bnn_cuda_needs_z(m->act))
            BNN_TRY(device_alloc((void **)&b->z[l], K * R * m->width[l], sizeof(float)));
        if (l < m->n_layers)
            BNN_TRY(device_alloc((void **)&b->a[l], K * R * m->width[l], sizeof(float)));
        if (m->width[l] > max_width) max_width = m->width[l];
    }
    BNN_TRY(device_alloc((void **)&b->g0, K * R * max_width, sizeof(float)));
    BNN_TRY(device_alloc((void **)&b->g1, K * R * max_width, sizeof(float)));
    BNN_TRY(device_alloc((void **)&b->ones, R, sizeof(float)));
    if (K > 1) { /* the chains side by side: first-layer weights, bias gradients */
        BNN_TRY(device_alloc((void **)&b->w_all, K * m->width[0] * m->width[1], sizeof(float)));
        BNN_TRY(device_alloc((void **)&b->db_all, K * max_width, sizeof(float)));
    }
    b->fuse_tile = bnn_cuda_fuse_tile(b);
    if (b->fuse_tile) /* the block sums of the top layer's gradient */
        BNN_TRY(device_alloc((void **)&b->fuse_part, bnn_cuda_fuse_part_len(b), sizeof(float)));
    BNN_TRY(bnn_cuda_common_buffers(b));
    if (R > 0)
        fill_kernel<<<bnn_cuda_blocks(R), BNN_CUDA_THREADS, 0, b->stream>>>(b->ones, 1.0f, R);
    BNN_CUDA_TRY(cudaStreamSynchronize(b->stream));
    return BNN_OK;
}

static bnn_status backend_init(struct cuda_backend *b, int tf32)
{
    b->tf32 = tf32;
    BNN_CUDA_TRY(cudaStreamCreateWithFlags(&b->stream, cudaStreamNonBlocking));
    BNN_CUBLAS_TRY(cublasCreate(&b->blas));
    BNN_CUBLAS_TRY(cublasSetStream(b->blas, b->stream));
    /* float32 exact by default; TF32 tensor cores only when asked (run.json records which) */
    BNN_CUBLAS_TRY(cublasSetMathMode(b->blas, tf32 ? CUBLAS_TF32_TENSOR_OP_MATH
                                                   : CUBLAS_DEFAULT_MATH));
    /* no atomics in cuBLAS: the same products give the same bits every time */
    BNN_CUBLAS_TRY(cublasSetAtomicsMode(b->blas, CUBLAS_ATOMICS_NOT_ALLOWED));
    if (!b->mlp) return bnn_cuda_cnn_create(b); /* a CNN (backend_create checked): cnn.cu */
    return backend_buffers(b);
}

/* A backend for K chains (K = 1: the vtable's). */
static bnn_status backend_create(const bnn_net *net, const bnn_cuda_data *data, size_t K,
                                 int tf32, struct cuda_backend **out)
{
    const int cnn = !net->mlp && !strcmp(net->kind, "cnn"); /* else an MLP */
    if (!net->mlp && !cnn)
        return BNN_ERROR(BNN_EUNSUP, "--device cuda supports MLP and CNN architectures only, "
                                     "not '%s' nets", net->kind);
    if (cnn && K > 1)
        return BNN_ERROR(BNN_EUNSUP, "--device cuda batches chains of MLPs only (%zu chains of "
                                     "a CNN were asked for; use one chain)", K);
    if (net->lik == BNN_LIK_HETERO_GAUSSIAN) /* bnn_dm_head_row has no such head */
        return BNN_ERROR(BNN_EUNSUP, "--device cuda: the hetero-gaussian likelihood runs on the "
                                     "CPU only");
    if (net->n_inputs != data->d)
        return BNN_ERROR(BNN_EINVAL, "the net has %zu inputs but the GPU data %zu columns",
                         net->n_inputs, data->d);
    if (K == 0) return BNN_ERROR(BNN_EINVAL, "a GPU batch needs at least one chain");
    struct cuda_backend *b = (struct cuda_backend *)calloc(1, sizeof *b);
    if (!b) return BNN_ERROR(BNN_ENOMEM, "out of memory for the CUDA backend");
    b->net = net;
    b->mlp = net->mlp;
    b->data = data;
    b->n_chains = K;
    b->rows_max = data->n_predict > data->n_train ? data->n_predict : data->n_train;
    bnn_status s = backend_init(b, tf32);
    if (s != BNN_OK) {
        cuda_free(b);
        return s;
    }
    *out = b;
    return BNN_OK;
}

extern "C" bnn_status bnn_cuda_backend_alloc(const bnn_net *net, const bnn_cuda_data *data,
                                             int tf32, bnn_backend *out)
{
    struct cuda_backend *b = NULL;
    BNN_TRY(backend_create(net, data, 1, tf32, &b));
    out->ops = &cuda_ops;
    out->ctx = b;
    return BNN_OK;
}

/* ---- batched chains ------------------------------------------------------------------- */

struct bnn_cuda_batch {
    struct cuda_backend *b = NULL;
};

extern "C" bnn_status bnn_cuda_batch_alloc(const bnn_net *net, const bnn_cuda_data *data,
                                           size_t n_chains, int tf32, bnn_cuda_batch **out)
{
    bnn_cuda_batch *batch = (bnn_cuda_batch *)calloc(1, sizeof *batch);
    if (!batch) return BNN_ERROR(BNN_ENOMEM, "out of memory for the GPU batch");
    bnn_status s = backend_create(net, data, n_chains, tf32, &batch->b);
    if (s != BNN_OK) {
        free(batch);
        return s;
    }
    *out = batch;
    return BNN_OK;
}

struct cuda_backend *bnn_cuda_batch_backend(bnn_cuda_batch *batch) { return batch->b; }

extern "C" void bnn_cuda_batch_free(bnn_cuda_batch *batch)
{
    if (!batch) return;
    cuda_free(batch->b);
    free(batch);
}

extern "C" bnn_status bnn_cuda_batch_loglik_grad(bnn_cuda_batch *batch, const double *theta,
                                                 double *grad, double *loglik)
{
    return loglik_grad_host(batch->b, theta, grad, loglik);
}

/* ---- benchmark ------------------------------------------------------------------------ */

static double wall_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

extern "C" bnn_status bnn_cuda_batch_time(bnn_cuda_batch *batch, const double *theta,
                                          size_t reps, double *ms)
{
    struct cuda_backend *b = batch->b;
    BNN_TRY(upload_theta(b, theta));
    for (size_t i = 0; i <= reps; i++) { /* round 0: warm-up, untimed */
        double t0 = wall_ms();
        BNN_TRY(bnn_cuda_loglik_grad_device(b, 1));
        BNN_CUDA_TRY(cudaStreamSynchronize(b->stream));
        if (i > 0) ms[i - 1] = wall_ms() - t0;
    }
    return BNN_OK;
}
