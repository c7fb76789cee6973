/* CUDA backend for convolutional nets (nn/cnn.h: LeNet-5, ResNet-20-FRN, any cnn: spec): the
 * CPU's layer graph run on the device, node by node, over micro-batches of rows, with the
 * parameter gradients in the CPU's layout (HWIO convolution weights, the same offsets).
 *
 * Kernels: convolutions direct (conv.cu: tiled products gathering the im2col operand tile by tile;
 * the input gradient of a strided one as below), or with BNNMC_CUDA_CONV=im2col as im2col of a
 * micro-batch + one cuBLAS SGEMM (through b->blas, so --tf32 applies), their input gradient as dcol
 * = dout · wᵀ then col2im written as a gather (each input element sums its own contributions), or
 * with BNNMC_CUDA_CONV=cudnn by cuDNN (conv_cudnn.cu; the im2col buffer its workspace) where it can
 * pad them, else direct; their bias gradient a two-level column sum and FRN with fixed-tree sums
 * over the positions (cnn_reduce.cu); pooling, GAP, residual additions and activations one output
 * element per thread; an FRN or a residual sum whose output only the activation after it reads, one
 * kernel with it (find_fused); dense layers by cuBLAS; the likelihood head bnn_cuda_head.
 *
 * Determinism: no atomics anywhere. Parameter gradients are accumulated over the micro-batches
 * in order (cuBLAS beta = 1, atomics off; bias and FRN sums in double, then added in order),
 * the log-likelihood is the fixed-order bnn_cuda_sum of the per-row values, and the rows per
 * micro-batch depend on the net only (not on free memory), so the same θ gives the same bits on
 * every call and in every run.
 *
 * Layout: row-major (rows, width) arrays and row-major (in, out) weights are, to column-major
 * cuBLAS, the transposes; every product below is written as the column-major call it is. */
#include "backend/cuda/internal.cuh"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "backend/cuda/cnn_reduce.cuh"
#include "backend/cuda/conv.cuh"
#include "backend/cuda/conv_cudnn.cuh"
#include "backend/cuda/device_math.h"

extern "C" {
#include "nn/cnn.h"
}

/* Bytes of activations, their gradients and the im2col buffer one micro-batch may use; the
 * rows per micro-batch follow from it and the net alone, so the bits do not depend on the
 * GPU's free memory. BNNMC_CUDA_MICRO_ROWS=<rows> in the environment overrides the choice
 * (tests use it to force several micro-batches on a few rows). */
#define CNN_BUDGET_BYTES ((size_t)2 << 30)
#define CNN_ALIGN 32 /* floats: each view of the workspace starts on 128 bytes */


struct bnn_cuda_cnn {
    const bnn_cnn *c;
    size_t micro;                       /* rows per micro-batch, M */
    float *work;                        /* the one allocation behind a, g and col */
    float *a[BNN_CNN_MAX_NODES + 1];    /* (M, act_len[i]) activations, i ≥ 1; a[0] is set to
                                           the micro-batch's input rows */
    float *g[BNN_CNN_MAX_NODES + 1];    /* (M, act_len[i]) their gradients; g[0] = NULL */
    size_t g_zero_len;                  /* numbers from g[1] up to g[last]: zeroed per batch */
    float *col;                         /* (M · max_col) im2col of a micro-batch, or its gradient */
    double *bias_part;                  /* (chunks, max outputs) first-level bias gradient sums */
    double *frn_part;                   /* (3, M, max FRN channels) per-image FRN sums */
    size_t max_frn_c;
    unsigned char fused[BNN_CNN_MAX_NODES]; /* FRN or ADD node k and activation k + 1 as one */
    /* convolution node k by conv.cu (direct[k]), by cuDNN (by_cudnn[k]) or im2col + cuBLAS */
    unsigned char direct[BNN_CNN_MAX_NODES], by_cudnn[BNN_CNN_MAX_NODES];
    float *wg_part;                     /* direct: the weight gradients' block sums, */
    size_t wg_at[BNN_CNN_MAX_NODES];    /* at these offsets for each direct convolution */
    float *wt;                          /* direct: a convolution's weights flipped */
    struct bnn_cuda_cudnn *cudnn;       /* cuDNN's state where a node is by_cudnn, else NULL */
};

/* ---- kernels -------------------------------------------------------------------------- */

/* Checks that the kernels just enqueued could be launched. */
#define CNN_LAUNCHED(what)                                                                     \
    do {                                                                                       \
        cudaError_t bnn_cnn_err_ = cudaGetLastError();                                         \
        if (bnn_cnn_err_ != cudaSuccess)                                                       \
            return BNN_ERROR(BNN_EIO, "CUDA: the %s kernel could not be launched: %s", what,   \
                             cudaGetErrorString(bnn_cnn_err_));                                \
    } while (0)

/* Grid-stride-free launches: one thread per element, n > 0 (callers check). */
#define CNN_GRID(n) bnn_cuda_blocks(n), BNN_CUDA_THREADS, 0, b->stream

__global__ void cnn_im2col_kernel(float *col, const float *in, bnn_conv_shape s, size_t n)
{
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) col[i] = bnn_dm_im2col_entry(in, &s, i);
}

/* din (n, h, w, c) += the gather of dcol. */
__global__ void cnn_col2im_add_kernel(float *din, const float *dcol, bnn_conv_shape s, size_t n)
{
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) din[i] += bnn_dm_col2im_entry(dcol, &s, i);
}

/* out (rows, o) = b (o) in every row: the start of a product accumulated with beta = 1. */
__global__ void cnn_bias_fill_kernel(float *out, const float *bias, size_t o, size_t n)
{
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = bias[i % o];
}

__global__ void cnn_act_forward_kernel(float *out, const float *in, size_t n, bnn_activation act)
{
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = bnn_dm_activate(act, in[i]);
}

/* din += dout · act'(in), out = act(in). */
__global__ void cnn_act_backward_kernel(float *din, const float *dout, const float *in,
                                        const float *out, size_t n, bnn_activation act)
{
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) din[i] += bnn_dm_activate_backward(act, dout[i], in[i], out[i]);
}

__global__ void cnn_add_kernel(float *out, const float *x, const float *y, size_t n)
{
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = x[i] + y[i];
}

/* A sum and the activation node after it (the sum stored nowhere): out = act(x + y). */
__global__ void cnn_add_act_kernel(float *out, const float *x, const float *y, size_t n,
                                   bnn_activation act)
{
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = bnn_dm_activate(act, x[i] + y[i]);
}

/* Their backward from dout, the gradient of the activation's output: the sum and the
 * activation recomputed, the sum's gradient added to dx, then to dy (either NULL: an input
 * without one), as the two nodes apart do it. */
__global__ void cnn_add_act_backward_kernel(float *dx, float *dy, const float *dout,
                                            const float *x, const float *y, size_t n,
                                            bnn_activation act)
{
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const float z = x[i] + y[i];
    const float g = 0.0f + bnn_dm_activate_backward(act, dout[i], z, bnn_dm_activate(act, z));
    if (dx) dx[i] += g;
    if (dy) dy[i] += g;
}

/* d += s. */
__global__ void cnn_accumulate_kernel(float *d, const float *s, size_t n)
{
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) d[i] += s[i];
}


/* One output element of (n, oh, ow, c) per thread. */
__global__ void cnn_maxpool_forward_kernel(float *out, const float *in, bnn_pool_shape p, size_t n)
{
    size_t o = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (o < n) out[o] = in[bnn_dm_maxpool_argmax(in, &p, o)];
}

/* din += dout at each window's first maximum. The windows do not overlap (stride ≥ k, checked
 * at creation), so each input element is written by one thread at most. */
__global__ void cnn_maxpool_backward_kernel(float *din, const float *dout, const float *in,
                                            bnn_pool_shape p, size_t n)
{
    size_t o = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (o < n) din[bnn_dm_maxpool_argmax(in, &p, o)] += dout[o];
}

__global__ void cnn_avgpool_forward_kernel(float *out, const float *in, bnn_pool_shape p, size_t n)
{
    size_t o = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (o < n) out[o] = bnn_dm_avgpool_entry(in, &p, o);
}

/* din += dout / k² over each window (windows disjoint, as for the max). */
__global__ void cnn_avgpool_backward_kernel(float *din, const float *dout, bnn_pool_shape p,
                                            size_t n)
{
    size_t o = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (o >= n) return;
    const size_t origin = bnn_dm_pool_origin(&p, o);
    const float g = dout[o] * (1.0f / (float)(p.k * p.k));
    for (size_t ky = 0; ky < p.k; ky++)
        for (size_t kx = 0; kx < p.k; kx++) din[origin + (ky * p.w + kx) * p.c] += g;
}

/* out (n, c) = mean over the hw positions of in (n, hw, c): one (image, channel) per thread,
 * the positions added in order, then divided (as bnn_gap_forward). */
__global__ void cnn_gap_forward_kernel(float *out, const float *in, size_t hw, size_t c, size_t n)
{
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const float *x = in + i / c * hw * c + i % c;
    float acc = 0.0f;
    for (size_t q = 0; q < hw; q++) acc += x[q * c];
    out[i] = acc / (float)hw;
}

/* din (n, hw, c) += dout (n, c) / hw. */
__global__ void cnn_gap_backward_kernel(float *din, const float *dout, size_t hw, size_t c,
                                        size_t n)
{
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) din[i] += dout[i / (hw * c) * c + i % c] / (float)hw;
}

/* ---- layers --------------------------------------------------------------------------- */

static const float k_one = 1.0f, k_zero = 0.0f;

/* out (m·oh·ow, o) = conv(in) + b for convolution node k. */
static bnn_status conv_forward(struct cuda_backend *b, size_t k, float *out, const float *in,
                               size_t m)
{
    const bnn_cnn_node *nd = &b->cnn->c->node[k];
    const bnn_conv_shape *s = &nd->conv;
    const size_t rows = m * s->oh * s->ow, kkc = s->k * s->k * s->c;
    const float *w = b->theta_f + nd->p[0], *bias = b->theta_f + nd->p[1];
    if (b->cnn->direct[k]) return bnn_cuda_conv_forward(b, s, out, in, w, bias, m);
    cnn_bias_fill_kernel<<<CNN_GRID(rows * s->o)>>>(out, bias, s->o, rows * s->o);
    CNN_LAUNCHED("convolution bias");
    if (b->cnn->by_cudnn[k]) return bnn_cuda_cudnn_forward(b, b->cnn->cudnn, k, out, in, m);
    float *col = b->cnn->col;
    cnn_im2col_kernel<<<CNN_GRID(rows * kkc)>>>(col, in, *s, rows * kkc);
    CNN_LAUNCHED("convolution (im2col)");
    /* outᵀ (o, rows) += wᵀ (o, kkc) · colᵀ (kkc, rows) */
    BNN_CUBLAS_TRY(cublasSgemm(b->blas, CUBLAS_OP_N, CUBLAS_OP_N, (int)s->o, (int)rows, (int)kkc,
                               &k_one, w, (int)s->o, col, (int)kkc, &k_one, out, (int)s->o));
    return BNN_OK;
}

/* dw, db += from dout (direct: dw's block sums into the node's part, first: the first
 * micro-batch); din (NULL for the input images) += the input gradient. */
static bnn_status conv_backward(struct cuda_backend *b, size_t node, float *din,
                                const float *dout, const float *in, size_t m, int first)
{
    const bnn_cnn_node *nd = &b->cnn->c->node[node];
    const bnn_conv_shape *s = &nd->conv;
    const size_t rows = m * s->oh * s->ow, kkc = s->k * s->k * s->c;
    const float *w = b->theta_f + nd->p[0];
    float *dw = b->grad_f + nd->p[0], *db = b->grad_f + nd->p[1], *col = b->cnn->col;
    BNN_TRY(bnn_cuda_bias_grad(b, db, b->cnn->bias_part, dout, rows, s->o));
    if (b->cnn->by_cudnn[node])
        return bnn_cuda_cudnn_backward(b, b->cnn->cudnn, node, din, dout, in, m, first);
    if (b->cnn->direct[node]) {
        float *part = b->cnn->wg_part + b->cnn->wg_at[node];
        BNN_TRY(bnn_cuda_conv_weight_grad(b, s, part, dout, in, m, b->cnn->micro, first));
        if (!din) return BNN_OK;
        if (bnn_cuda_conv_direct_input_grad(s))
            return bnn_cuda_conv_input_grad(b, s, din, dout, w, b->cnn->wt, m);
    } else {
        cnn_im2col_kernel<<<CNN_GRID(rows * kkc)>>>(col, in, *s, rows * kkc);
        CNN_LAUNCHED("convolution backward (im2col)");
        /* dwᵀ (o, kkc) += doutᵀ (o, rows) · col (rows, kkc) */
        BNN_CUBLAS_TRY(cublasSgemm(b->blas, CUBLAS_OP_N, CUBLAS_OP_T, (int)s->o, (int)kkc,
                                   (int)rows, &k_one, dout, (int)s->o, col, (int)kkc, &k_one, dw,
                                   (int)s->o));
        if (!din) return BNN_OK;
    }
    /* dcolᵀ (kkc, rows) = w (kkc, o) · doutᵀ (o, rows), into col (the product above has read
     * it: the stream orders them) */
    BNN_CUBLAS_TRY(cublasSgemm(b->blas, CUBLAS_OP_T, CUBLAS_OP_N, (int)kkc, (int)rows, (int)s->o,
                               &k_one, w, (int)s->o, dout, (int)s->o, &k_zero, col, (int)kkc));
    const size_t n_in = m * s->h * s->w * s->c;
    cnn_col2im_add_kernel<<<CNN_GRID(n_in)>>>(din, col, *s, n_in);
    CNN_LAUNCHED("convolution backward (col2im)");
    return BNN_OK;
}

/* out (m, o) = in (m, i) · w (i, o) + b. */
static bnn_status dense_forward(struct cuda_backend *b, const bnn_cnn_node *nd, float *out,
                                const float *in, size_t m)
{
    const int i = (int)nd->n_in, o = (int)nd->n_out;
    cnn_bias_fill_kernel<<<CNN_GRID(m * nd->n_out)>>>(out, b->theta_f + nd->p[1], nd->n_out,
                                                      m * nd->n_out);
    CNN_LAUNCHED("dense bias");
    BNN_CUBLAS_TRY(cublasSgemm(b->blas, CUBLAS_OP_N, CUBLAS_OP_N, o, (int)m, i, &k_one,
                               b->theta_f + nd->p[0], o, in, i, &k_one, out, o));
    return BNN_OK;
}

static bnn_status dense_backward(struct cuda_backend *b, const bnn_cnn_node *nd, float *din,
                                 const float *dout, const float *in, size_t m)
{
    const int i = (int)nd->n_in, o = (int)nd->n_out, r = (int)m;
    const float *w = b->theta_f + nd->p[0];
    /* dwᵀ (o, i) += doutᵀ (o, m) · in (m, i) */
    BNN_CUBLAS_TRY(cublasSgemm(b->blas, CUBLAS_OP_N, CUBLAS_OP_T, o, i, r, &k_one, dout, o, in, i,
                               &k_one, b->grad_f + nd->p[0], o));
    BNN_TRY(bnn_cuda_bias_grad(b, b->grad_f + nd->p[1], b->cnn->bias_part, dout, m,
                               nd->n_out));
    /* dinᵀ (i, m) += w (i, o) · doutᵀ (o, m) */
    if (din)
        BNN_CUBLAS_TRY(cublasSgemm(b->blas, CUBLAS_OP_T, CUBLAS_OP_N, i, r, o, &k_one, w, o, dout,
                                   o, &k_one, din, i));
    return BNN_OK;
}

/* The forward pass of m rows whose inputs the caller has put in cnn->a[0]. */
static bnn_status forward(struct cuda_backend *b, size_t m)
{
    struct bnn_cuda_cnn *cn = b->cnn;
    const bnn_cnn *c = cn->c;
    for (size_t k = 0; k < c->n_nodes; k++) {
        const bnn_cnn_node *nd = &c->node[k];
        float *out = cn->a[nd->out];
        const float *in = cn->a[nd->in];
        const size_t n_in = m * c->act_len[nd->in], n_out = m * c->act_len[nd->out];
        switch (nd->op) {
        case BNN_CNN_CONV: BNN_TRY(conv_forward(b, k, out, in, m)); break;
        case BNN_CNN_FRN:
            if (cn->fused[k]) { /* with the activation after it: its output, and skip it */
                BNN_TRY(bnn_cuda_frn_forward(b, nd, cn->a[c->node[k + 1].out], in, m, 1,
                                             c->act));
                k++;
            } else {
                BNN_TRY(bnn_cuda_frn_forward(b, nd, out, in, m, 0, c->act));
            }
            break;
        case BNN_CNN_ACT:
            cnn_act_forward_kernel<<<CNN_GRID(n_in)>>>(out, in, n_in, c->act);
            break;
        case BNN_CNN_MAXPOOL:
            cnn_maxpool_forward_kernel<<<CNN_GRID(n_out)>>>(out, in, nd->pool, n_out);
            break;
        case BNN_CNN_AVGPOOL:
            cnn_avgpool_forward_kernel<<<CNN_GRID(n_out)>>>(out, in, nd->pool, n_out);
            break;
        case BNN_CNN_GAP:
            cnn_gap_forward_kernel<<<CNN_GRID(n_out)>>>(out, in, nd->hw, nd->c, n_out);
            break;
        case BNN_CNN_ADD:
            if (cn->fused[k]) { /* with the activation after it: its output, and skip it */
                cnn_add_act_kernel<<<CNN_GRID(n_in)>>>(cn->a[c->node[k + 1].out], in,
                                                       cn->a[nd->in2], n_in, c->act);
                k++;
            } else {
                cnn_add_kernel<<<CNN_GRID(n_in)>>>(out, in, cn->a[nd->in2], n_in);
            }
            break;
        case BNN_CNN_DENSE: BNN_TRY(dense_forward(b, nd, out, in, m)); break;
        }
        CNN_LAUNCHED("CNN forward");
    }
    return BNN_OK;
}

/* One node's backward: parameter gradients into b->grad_f, input gradients into cnn->g (+=);
 * first: the gradient's first micro-batch. */
static bnn_status node_backward(struct cuda_backend *b, size_t node, size_t m, int first)
{
    struct bnn_cuda_cnn *cn = b->cnn;
    const bnn_cnn_node *nd = &cn->c->node[node];
    const bnn_cnn *c = cn->c;
    float *din = cn->g[nd->in];
    const float *dout = cn->g[nd->out], *in = cn->a[nd->in];
    const size_t n_in = m * c->act_len[nd->in], n_out = m * c->act_len[nd->out];
    if (node > 0 && cn->fused[node - 1]) return BNN_OK; /* an activation fused (FRN or sum) */
    switch (nd->op) {
    case BNN_CNN_CONV: return conv_backward(b, node, din, dout, in, m, first);
    case BNN_CNN_FRN: /* fused: from the gradient of the activation's output */
        return bnn_cuda_frn_backward(b, nd, din, cn->frn_part,
                                     cn->fused[node] ? cn->g[c->node[node + 1].out] : dout, in,
                                     m, cn->fused[node], c->act);
    case BNN_CNN_DENSE: return dense_backward(b, nd, din, dout, in, m);
    case BNN_CNN_ACT:
        if (din)
            cnn_act_backward_kernel<<<CNN_GRID(n_in)>>>(din, dout, in, cn->a[nd->out], n_in,
                                                       c->act);
        break;
    case BNN_CNN_MAXPOOL:
        if (din)
            cnn_maxpool_backward_kernel<<<CNN_GRID(n_out)>>>(din, dout, in, nd->pool, n_out);
        break;
    case BNN_CNN_AVGPOOL:
        if (din) cnn_avgpool_backward_kernel<<<CNN_GRID(n_out)>>>(din, dout, nd->pool, n_out);
        break;
    case BNN_CNN_GAP:
        if (din) cnn_gap_backward_kernel<<<CNN_GRID(n_in)>>>(din, dout, nd->hw, nd->c, n_in);
        break;
    case BNN_CNN_ADD:
        if (cn->fused[node]) { /* from the gradient of the activation's output */
            cnn_add_act_backward_kernel<<<CNN_GRID(n_in)>>>(din, cn->g[nd->in2],
                                                            cn->g[c->node[node + 1].out], in,
                                                            cn->a[nd->in2], n_in, c->act);
            break;
        }
        if (din) cnn_accumulate_kernel<<<CNN_GRID(n_in)>>>(din, dout, n_in);
        if (cn->g[nd->in2]) cnn_accumulate_kernel<<<CNN_GRID(n_in)>>>(cn->g[nd->in2], dout, n_in);
        break;
    }
    CNN_LAUNCHED("CNN backward");
    return BNN_OK;
}

/* ---- the backend's entry points (internal.cuh) ----------------------------------------- */

bnn_status bnn_cuda_cnn_loglik_grad(struct cuda_backend *b, int want_grad)
{
    struct bnn_cuda_cnn *cn = b->cnn;
    const bnn_cnn *c = cn->c;
    const bnn_cuda_data *d = b->data;
    const size_t M = cn->micro, last = c->n_acts - 1, P = b->net->n_params;
    if (want_grad) BNN_CUDA_TRY(cudaMemsetAsync(b->grad_f, 0, P * sizeof(float), b->stream));
    if (cn->cudnn) BNN_TRY(bnn_cuda_cudnn_weights(b, cn->cudnn));
    for (size_t r0 = 0; r0 < d->n_train; r0 += M) { /* micro-batches in order */
        const size_t m = d->n_train - r0 < M ? d->n_train - r0 : M;
        cn->a[0] = d->x_train + r0 * c->n_inputs;
        BNN_TRY(forward(b, m));
        BNN_TRY(bnn_cuda_head(b, cn->a[last], d->y_train + r0, m, want_grad ? cn->g[last] : NULL,
                              b->ll_rows + r0));
        if (!want_grad) continue;
        if (cn->g_zero_len)
            BNN_CUDA_TRY(cudaMemsetAsync(cn->g[1], 0, cn->g_zero_len * sizeof(float), b->stream));
        for (size_t k = c->n_nodes; k-- > 0;) BNN_TRY(node_backward(b, k, m, r0 == 0));
    }
    if (want_grad && cn->cudnn) BNN_TRY(bnn_cuda_cudnn_weight_totals(b, cn->cudnn));
    if (want_grad) /* the direct convolutions' weight gradients: their block sums */
        for (size_t k = 0; k < c->n_nodes; k++)
            if (cn->direct[k])
                BNN_TRY(bnn_cuda_conv_weight_total(b, &c->node[k].conv,
                                                   b->grad_f + c->node[k].p[0],
                                                   cn->wg_part + cn->wg_at[k],
                                                   d->n_train < M ? d->n_train : M, M));
    return bnn_cuda_sum(b, b->ll_rows, d->n_train, b->ll);
}

bnn_status bnn_cuda_cnn_predict(struct cuda_backend *b, double *out)
{
    struct bnn_cuda_cnn *cn = b->cnn;
    const bnn_cnn *c = cn->c;
    const bnn_cuda_data *d = b->data;
    const size_t M = cn->micro, last = c->n_acts - 1, k = c->n_logits;
    if (cn->cudnn) BNN_TRY(bnn_cuda_cudnn_weights(b, cn->cudnn));
    for (size_t r0 = 0; r0 < d->n_predict; r0 += M) {
        const size_t m = d->n_predict - r0 < M ? d->n_predict - r0 : M;
        cn->a[0] = d->x_predict + r0 * c->n_inputs;
        BNN_TRY(forward(b, m));
        BNN_CUDA_TRY(cudaMemcpyAsync(b->logits_h + r0 * k, cn->a[last], m * k * sizeof(float),
                                     cudaMemcpyDeviceToHost, b->stream));
    }
    BNN_CUDA_TRY(cudaStreamSynchronize(b->stream));
    /* the head on the host: the CPU backend's own function, on the GPU's logits */
    bnn_likelihood_predict_f32(c->lik, b->logits_h, d->n_predict, k, out);
    return BNN_OK;
}

/* ---- creation ------------------------------------------------------------------------- */

static size_t round_up(size_t n) { return (n + CNN_ALIGN - 1) / CNN_ALIGN * CNN_ALIGN; }

/* Numbers (floats) of the workspace per row: activations and their gradients, the im2col
 * buffer, FRN's sums (doubles). */
static size_t per_row_floats(const bnn_cnn *c, size_t max_frn_c)
{
    size_t n = c->max_col + 3 * 2 * max_frn_c;
    for (size_t i = 1; i < c->n_acts; i++) n += 2 * c->act_len[i];
    return n;
}

/* Rows per micro-batch: BNNMC_CUDA_MICRO_ROWS if set, else what fits CNN_BUDGET_BYTES; at
 * most the larger of the training and prediction rows, at least 1. */
static bnn_status choose_micro(const struct cuda_backend *b, size_t per_row, size_t *out)
{
    const bnn_cuda_data *d = b->data;
    size_t rows = d->n_train > d->n_predict ? d->n_train : d->n_predict, m;
    const char *env = getenv("BNNMC_CUDA_MICRO_ROWS");
    if (env && *env) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(env, &end, 10);
        /* digits only: strtoull would take "-1" (as ULLONG_MAX), leading blanks and overflow */
        if (*env < '0' || *env > '9' || *end || errno || v == 0)
            return BNN_ERROR(BNN_EINVAL, "BNNMC_CUDA_MICRO_ROWS must be a positive number of "
                                         "rows, not '%s'", env);
        m = (size_t)v;
    } else {
        m = CNN_BUDGET_BYTES / (per_row * sizeof(float));
    }
    if (m > rows) m = rows;
    if (m < 1) m = 1;
    /* cuBLAS takes int sizes: every product's dimensions are at most M · per_row */
    if (m * per_row > (size_t)INT_MAX)
        return BNN_ERROR(BNN_EINVAL, "--device cuda: %zu rows per micro-batch need %zu numbers "
                         "of workspace, more than cuBLAS can index (lower "
                         "BNNMC_CUDA_MICRO_ROWS)", m, m * per_row);
    *out = m;
    return BNN_OK;
}

static bnn_status device_alloc(void **p, size_t n, size_t size, const char *what)
{
    cudaError_t e = cudaMalloc(p, (n ? n : 1) * size);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        return BNN_ERROR(e == cudaErrorMemoryAllocation ? BNN_ENOMEM : BNN_EIO,
                         "CUDA: allocating %zu MiB for the %s failed: %s",
                         (n * size) >> 20, what, cudaGetErrorString(e));
    }
    return BNN_OK;
}

/* Views of cn->work for M rows: activations 1..n-1, then their gradients (contiguous, so one
 * memset zeroes g[1..last)), then the im2col buffer. */
static void point_views(struct bnn_cuda_cnn *cn)
{
    const bnn_cnn *c = cn->c;
    const size_t M = cn->micro, last = c->n_acts - 1;
    float *p = cn->work;
    for (size_t i = 1; i < c->n_acts; i++) {
        cn->a[i] = p;
        p += round_up(M * c->act_len[i]);
    }
    for (size_t i = 1; i < c->n_acts; i++) {
        cn->g[i] = p;
        p += round_up(M * c->act_len[i]);
    }
    cn->g_zero_len = last > 1 ? (size_t)(cn->g[last] - cn->g[1]) : 0;
    cn->col = p;
}

static bnn_status cnn_alloc(struct cuda_backend *b, struct bnn_cuda_cnn *cn)
{
    const bnn_cnn *c = cn->c;
    size_t max_positions = 1, max_o = 1; /* rows per image and outputs of a layer's product */
    size_t wg_len = 0;
    for (size_t k = 0; k < c->n_nodes; k++) {
        const bnn_cnn_node *nd = &c->node[k];
        if (nd->op == BNN_CNN_CONV && nd->conv.oh * nd->conv.ow > max_positions)
            max_positions = nd->conv.oh * nd->conv.ow;
        if (nd->op == BNN_CNN_CONV && nd->conv.o > max_o) max_o = nd->conv.o;
        if (nd->op == BNN_CNN_DENSE && nd->n_out > max_o) max_o = nd->n_out;
        if (nd->op == BNN_CNN_FRN && nd->c > cn->max_frn_c) cn->max_frn_c = nd->c;
        if ((nd->op == BNN_CNN_MAXPOOL || nd->op == BNN_CNN_AVGPOOL) &&
            nd->pool.stride < nd->pool.k)
            return BNN_ERROR(BNN_EUNSUP, "--device cuda: overlapping pooling windows (window "
                             "%zu, stride %zu) are not supported", nd->pool.k, nd->pool.stride);
    }
    const size_t per_row = per_row_floats(c, cn->max_frn_c);
    BNN_TRY(choose_micro(b, per_row, &cn->micro));
    const size_t M = cn->micro;
    enum bnn_cuda_conv_path path;
    BNN_TRY(bnn_cuda_conv_path(&path));
    int any_direct = 0, any_cudnn = 0;
    for (size_t k = 0; k < c->n_nodes; k++)
        if (c->node[k].op == BNN_CNN_CONV) {
            cn->by_cudnn[k] = path == BNN_CONV_CUDNN && bnn_cuda_cudnn_takes(&c->node[k].conv);
            cn->direct[k] = path != BNN_CONV_IM2COL && !cn->by_cudnn[k];
            any_cudnn |= cn->by_cudnn[k];
            any_direct |= cn->direct[k];
            if (!cn->direct[k]) continue;
            cn->wg_at[k] = wg_len;
            wg_len += round_up(bnn_cuda_conv_weight_part_len(&c->node[k].conv, M));
        }
    if (any_direct) {
        BNN_TRY(device_alloc((void **)&cn->wg_part, wg_len, sizeof(float),
                             "convolution weight-gradient sums"));
        BNN_TRY(device_alloc((void **)&cn->wt, c->max_conv_params, sizeof(float),
                             "flipped convolution weights"));
    }
    size_t work = round_up(M * c->max_col) + CNN_ALIGN;
    for (size_t i = 1; i < c->n_acts; i++) work += 2 * round_up(M * c->act_len[i]);
    BNN_TRY(device_alloc((void **)&cn->work, work, sizeof(float), "CNN activations"));
    point_views(cn);
    if (any_cudnn) /* the im2col buffer is cuDNN's workspace */
        BNN_TRY(bnn_cuda_cudnn_create(b, c, cn->by_cudnn, M, cn->col,
                                      M * c->max_col * sizeof(float), &cn->cudnn));
    BNN_TRY(device_alloc((void **)&cn->bias_part,
                         bnn_cuda_bias_part_len(M * max_positions, max_o), sizeof(double),
                         "bias gradient sums"));
    BNN_TRY(device_alloc((void **)&cn->frn_part, 3 * M * (cn->max_frn_c ? cn->max_frn_c : 1),
                         sizeof(double), "FRN sums"));
    return BNN_OK;
}

/* cn->fused[k] = 1 for each FRN or ADD node k whose output only the activation node k + 1
 * reads (ResNet-20-FRN: the FRN after the stem and each block's first convolution, the sum
 * ending each block), unless BNNMC_CUDA_FUSE=0 (to compare): the pair is then one kernel
 * forward (the FRN's or ADD's output not stored) and one backward (that output and the
 * activation recomputed from the inputs). */
static void find_fused(struct bnn_cuda_cnn *cn)
{
    const bnn_cnn *c = cn->c;
    const char *env = getenv("BNNMC_CUDA_FUSE");
    if (env && !strcmp(env, "0")) return;
    for (size_t k = 0; k + 1 < c->n_nodes; k++) {
        const bnn_cnn_node *f = &c->node[k], *a = &c->node[k + 1];
        if ((f->op != BNN_CNN_FRN && f->op != BNN_CNN_ADD) || a->op != BNN_CNN_ACT ||
            a->in != f->out)
            continue;
        int read_elsewhere = 0;
        for (size_t j = 0; j < c->n_nodes; j++)
            if (j != k + 1 && (c->node[j].in == f->out ||
                               (c->node[j].op == BNN_CNN_ADD && c->node[j].in2 == f->out)))
                read_elsewhere = 1;
        cn->fused[k] = !read_elsewhere && f->out != c->n_acts - 1;
    }
}

bnn_status bnn_cuda_cnn_create(struct cuda_backend *b)
{
    struct bnn_cuda_cnn *cn = (struct bnn_cuda_cnn *)calloc(1, sizeof *cn);
    if (!cn) return BNN_ERROR(BNN_ENOMEM, "out of memory for the CUDA CNN");
    cn->c = (const bnn_cnn *)b->net->impl;
    b->cnn = cn; /* freed with b (cuda_free) whatever happens below */
    find_fused(cn);
    BNN_TRY(bnn_cuda_common_buffers(b));
    return cnn_alloc(b, cn);
}

void bnn_cuda_cnn_free(struct bnn_cuda_cnn *cn)
{
    if (!cn) return;
    cudaFree(cn->work);
    cudaFree(cn->bias_part);
    cudaFree(cn->frn_part);
    cudaFree(cn->wg_part);
    cudaFree(cn->wt);
    bnn_cuda_cudnn_free(cn->cudnn);
    free(cn);
}
