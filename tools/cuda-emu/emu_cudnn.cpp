/* CPU emulation of the cuDNN subset conv_cudnn.cu uses (tools/cuda-emu/README.md): NHWC float
 * tensors, NHWC (k, r, s, c) filters, cross-correlation with symmetric padding and strides, as
 * cuDNN's legacy API defines them, written here from those definitions (plain loops, sums in
 * double), with cuDNN's argument checks. The heuristics offer a fixed list of candidates, best
 * first, that only a correct choice gets through: a non-deterministic one, one needing more
 * workspace than any, one not supported, then the one to take (deterministic, 4 KiB of
 * workspace, the math type asked for: FMA, or tensor cores where that was allowed), then
 * another; running any but that one is an error here. Each call fills the workspace it was
 * promised with NaN first, so a workspace shared with live data shows. */
#include "cudnn.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

struct emu_cudnn_context {
    int unused;
};
struct emu_cudnn_tensor {
    int n, c, h, w; /* 0 until set */
};
struct emu_cudnn_filter {
    int k, c, r, s;
};
struct emu_cudnn_conv {
    int pad_h, pad_w, u, v;
    cudnnMathType_t math;
};

enum { EMU_ALGO_TAKE = 3, EMU_ALGO_COUNT = 5, EMU_WORKSPACE = 4096 };

static cudnnStatus_t fail(const char *what)
{
    fprintf(stderr, "EMU cuDNN: %s\n", what);
    return CUDNN_STATUS_BAD_PARAM;
}

extern "C" {

size_t cudnnGetVersion(void) { return 91900; }

const char *cudnnGetErrorString(cudnnStatus_t s)
{
    return s == CUDNN_STATUS_SUCCESS       ? "CUDNN_STATUS_SUCCESS"
           : s == CUDNN_STATUS_NOT_SUPPORTED ? "CUDNN_STATUS_NOT_SUPPORTED"
                                             : "CUDNN_STATUS_BAD_PARAM";
}

cudnnStatus_t cudnnCreate(cudnnHandle_t *h)
{
    *h = new emu_cudnn_context();
    return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnDestroy(cudnnHandle_t h)
{
    delete h;
    return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetStream(cudnnHandle_t, cudaStream_t) { return CUDNN_STATUS_SUCCESS; }

cudnnStatus_t cudnnCreateTensorDescriptor(cudnnTensorDescriptor_t *d)
{
    *d = new emu_cudnn_tensor();
    return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetTensor4dDescriptor(cudnnTensorDescriptor_t d, cudnnTensorFormat_t format,
                                         cudnnDataType_t type, int n, int c, int h, int w)
{
    if (format != CUDNN_TENSOR_NHWC || type != CUDNN_DATA_FLOAT)
        return CUDNN_STATUS_NOT_SUPPORTED; /* not emulated */
    if (n <= 0 || c <= 0 || h <= 0 || w <= 0) return fail("tensor dimensions must be positive");
    *d = {n, c, h, w};
    return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnDestroyTensorDescriptor(cudnnTensorDescriptor_t d)
{
    delete d;
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnCreateFilterDescriptor(cudnnFilterDescriptor_t *d)
{
    *d = new emu_cudnn_filter();
    return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetFilter4dDescriptor(cudnnFilterDescriptor_t d, cudnnDataType_t type,
                                         cudnnTensorFormat_t format, int k, int c, int h, int w)
{
    if (format != CUDNN_TENSOR_NHWC || type != CUDNN_DATA_FLOAT) return CUDNN_STATUS_NOT_SUPPORTED;
    if (k <= 0 || c <= 0 || h <= 0 || w <= 0) return fail("filter dimensions must be positive");
    *d = {k, c, h, w};
    return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnDestroyFilterDescriptor(cudnnFilterDescriptor_t d)
{
    delete d;
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnCreateConvolutionDescriptor(cudnnConvolutionDescriptor_t *d)
{
    *d = new emu_cudnn_conv();
    (*d)->math = CUDNN_DEFAULT_MATH;
    return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetConvolution2dDescriptor(cudnnConvolutionDescriptor_t d, int pad_h,
                                              int pad_w, int u, int v, int dilation_h,
                                              int dilation_w, cudnnConvolutionMode_t mode,
                                              cudnnDataType_t compute)
{
    if (dilation_h != 1 || dilation_w != 1 || mode != CUDNN_CROSS_CORRELATION ||
        compute != CUDNN_DATA_FLOAT)
        return CUDNN_STATUS_NOT_SUPPORTED;
    if (pad_h < 0 || pad_w < 0 || u <= 0 || v <= 0) return fail("bad padding or stride");
    d->pad_h = pad_h;
    d->pad_w = pad_w;
    d->u = u;
    d->v = v;
    return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetConvolutionMathType(cudnnConvolutionDescriptor_t d, cudnnMathType_t math)
{
    d->math = math;
    return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnDestroyConvolutionDescriptor(cudnnConvolutionDescriptor_t d)
{
    delete d;
    return CUDNN_STATUS_SUCCESS;
}

} /* extern "C" */

/* cuDNN's checks of a convolution's shapes: x (n, c, h, w), w (k, c, r, s), y (n, k, oh, ow)
 * with oh = (h + 2·pad_h - r) / u + 1 and ow likewise. */
static cudnnStatus_t check(const emu_cudnn_tensor *x, const emu_cudnn_filter *w,
                           const emu_cudnn_conv *cv, const emu_cudnn_tensor *y)
{
    if (!x->n || !y->n || !w->k || !cv->u) return fail("a descriptor was not set");
    if (x->c != w->c || y->c != w->k || x->n != y->n) return fail("channels or images differ");
    if (x->h + 2 * cv->pad_h < w->r || x->w + 2 * cv->pad_w < w->s)
        return fail("the filter is larger than the padded input");
    if (y->h != (x->h + 2 * cv->pad_h - w->r) / cv->u + 1 ||
        y->w != (x->w + 2 * cv->pad_w - w->s) / cv->v + 1)
        return fail("the output size is not the convolution's");
    return CUDNN_STATUS_SUCCESS;
}

template <typename Perf>
static cudnnStatus_t heuristics(const emu_cudnn_tensor *x, const emu_cudnn_filter *w,
                                const emu_cudnn_conv *cv, const emu_cudnn_tensor *y,
                                int requested, int *returned, Perf *perf)
{
    cudnnStatus_t st = check(x, w, cv, y);
    if (st) return st;
    const cudnnMathType_t asked = cv->math, tensor_ok = asked == CUDNN_FMA_MATH
                                                            ? CUDNN_FMA_MATH
                                                            : CUDNN_TENSOR_OP_MATH;
    const Perf all[EMU_ALGO_COUNT] = {
        {0, CUDNN_STATUS_SUCCESS, 1, 0, CUDNN_NON_DETERMINISTIC, asked, {}},
        {1, CUDNN_STATUS_SUCCESS, 2, (size_t)1 << 40, CUDNN_DETERMINISTIC, asked, {}},
        {2, CUDNN_STATUS_NOT_SUPPORTED, -1, 0, CUDNN_DETERMINISTIC, asked, {}},
        {EMU_ALGO_TAKE, CUDNN_STATUS_SUCCESS, 3, EMU_WORKSPACE, CUDNN_DETERMINISTIC, tensor_ok,
         {}},
        {4, CUDNN_STATUS_SUCCESS, 4, 0, CUDNN_DETERMINISTIC, CUDNN_FMA_MATH, {}},
    };
    if (requested <= 0) return fail("requestedAlgoCount must be positive");
    *returned = requested < EMU_ALGO_COUNT ? requested : EMU_ALGO_COUNT;
    for (int i = 0; i < *returned; i++) perf[i] = all[i];
    return CUDNN_STATUS_SUCCESS;
}

/* The checks of a run: the shapes, the algorithm the heuristics meant, its math type set on
 * the descriptor (a tensor-core algorithm under the default math type is what cuDNN's
 * heuristics would not have offered), its workspace; then the workspace filled with NaN. */
static cudnnStatus_t check_run(const emu_cudnn_tensor *x, const emu_cudnn_filter *w,
                               const emu_cudnn_conv *cv, const emu_cudnn_tensor *y, int algo,
                               void *ws, size_t ws_bytes)
{
    cudnnStatus_t st = check(x, w, cv, y);
    if (st) return st;
    if (algo != EMU_ALGO_TAKE)
        return fail("an algorithm that is non-deterministic, too large or unsupported ran");
    if (cv->math == CUDNN_DEFAULT_MATH)
        return fail("the descriptor's math type is not the algorithm's (set it from the "
                    "heuristics' mathType)");
    if (!ws || ws_bytes < EMU_WORKSPACE) return fail("the algorithm's workspace is missing");
    const float nan = NAN;
    for (size_t i = 0; i < EMU_WORKSPACE / sizeof(float); i++)
        memcpy((char *)ws + i * sizeof(float), &nan, sizeof nan);
    return CUDNN_STATUS_SUCCESS;
}

/* out[i] = alpha · sum[i] + beta · out[i] over the sums, out not read where beta = 0 (as
 * cuDNN). */
static void blend(float *out, const std::vector<double> &sum, const void *alpha, const void *beta)
{
    const float a = *(const float *)alpha, b = *(const float *)beta;
    for (size_t i = 0; i < sum.size(); i++)
        out[i] = b == 0 ? (float)(a * sum[i]) : (float)(a * sum[i] + (double)b * out[i]);
}

/* Calls f(xo, yo, wo) for every pair of an output position and a filter tap that meets the
 * input inside it: xo, yo, wo the offsets of x (n, iy, ix, 0), y (n, oy, ox, 0) and the tap's
 * w (0, r, s, 0), where iy = oy·u - pad_h + r and ix = ox·v - pad_w + s. */
template <typename F>
static void each_tap(const emu_cudnn_tensor *x, const emu_cudnn_filter *w,
                     const emu_cudnn_conv *cv, const emu_cudnn_tensor *y, F f)
{
    for (int n = 0; n < y->n; n++)
        for (int oy = 0; oy < y->h; oy++)
            for (int ox = 0; ox < y->w; ox++)
                for (int r = 0; r < w->r; r++)
                    for (int s = 0; s < w->s; s++) {
                        const int iy = oy * cv->u - cv->pad_h + r, ix = ox * cv->v - cv->pad_w + s;
                        if (iy < 0 || iy >= x->h || ix < 0 || ix >= x->w) continue;
                        f((((size_t)n * x->h + iy) * x->w + ix) * x->c,
                          (((size_t)n * y->h + oy) * y->w + ox) * y->c,
                          ((size_t)r * w->s + s) * w->c);
                    }
}

extern "C" {

cudnnStatus_t cudnnGetConvolutionForwardAlgorithm_v7(
    cudnnHandle_t, const cudnnTensorDescriptor_t x, const cudnnFilterDescriptor_t w,
    const cudnnConvolutionDescriptor_t conv, const cudnnTensorDescriptor_t y, const int requested,
    int *returned, cudnnConvolutionFwdAlgoPerf_t *perf)
{
    return heuristics(x, w, conv, y, requested, returned, perf);
}
cudnnStatus_t cudnnGetConvolutionBackwardDataAlgorithm_v7(
    cudnnHandle_t, const cudnnFilterDescriptor_t w, const cudnnTensorDescriptor_t dy,
    const cudnnConvolutionDescriptor_t conv, const cudnnTensorDescriptor_t dx,
    const int requested, int *returned, cudnnConvolutionBwdDataAlgoPerf_t *perf)
{
    return heuristics(dx, w, conv, dy, requested, returned, perf);
}
cudnnStatus_t cudnnGetConvolutionBackwardFilterAlgorithm_v7(
    cudnnHandle_t, const cudnnTensorDescriptor_t x, const cudnnTensorDescriptor_t dy,
    const cudnnConvolutionDescriptor_t conv, const cudnnFilterDescriptor_t dw,
    const int requested, int *returned, cudnnConvolutionBwdFilterAlgoPerf_t *perf)
{
    return heuristics(x, dw, conv, dy, requested, returned, perf);
}

/* y (n, oy, ox, k) = alpha · Σ_{r, s, c} x (n, oy·u - pad_h + r, ox·v - pad_w + s, c) ·
 * w (k, r, s, c) + beta · y. */
cudnnStatus_t cudnnConvolutionForward(cudnnHandle_t, const void *alpha,
                                      const cudnnTensorDescriptor_t xd, const void *xv,
                                      const cudnnFilterDescriptor_t wd, const void *wv,
                                      const cudnnConvolutionDescriptor_t cv,
                                      cudnnConvolutionFwdAlgo_t algo, void *ws, size_t ws_bytes,
                                      const void *beta, const cudnnTensorDescriptor_t yd, void *yv)
{
    cudnnStatus_t st = check_run(xd, wd, cv, yd, algo, ws, ws_bytes);
    if (st) return st;
    const float *x = (const float *)xv, *w = (const float *)wv;
    const size_t K = wd->k, C = wd->c, krsc = (size_t)wd->r * wd->s * C;
    std::vector<double> y((size_t)yd->n * yd->h * yd->w * K, 0.0);
    each_tap(xd, wd, cv, yd, [&](size_t xo, size_t yo, size_t wo) {
        for (size_t k = 0; k < K; k++)
            for (size_t c = 0; c < C; c++) y[yo + k] += (double)x[xo + c] * w[k * krsc + wo + c];
    });
    blend((float *)yv, y, alpha, beta);
    return CUDNN_STATUS_SUCCESS;
}

/* dx (n, iy, ix, c) = alpha · Σ dy (n, oy, ox, k) · w (k, r, s, c) over the (oy, ox, r, s)
 * with oy·u - pad_h + r = iy, ox·v - pad_w + s = ix, and k; + beta · dx. */
cudnnStatus_t cudnnConvolutionBackwardData(cudnnHandle_t, const void *alpha,
                                           const cudnnFilterDescriptor_t wd, const void *wv,
                                           const cudnnTensorDescriptor_t dyd, const void *dyv,
                                           const cudnnConvolutionDescriptor_t cv,
                                           cudnnConvolutionBwdDataAlgo_t algo, void *ws,
                                           size_t ws_bytes, const void *beta,
                                           const cudnnTensorDescriptor_t dxd, void *dxv)
{
    cudnnStatus_t st = check_run(dxd, wd, cv, dyd, algo, ws, ws_bytes);
    if (st) return st;
    const float *w = (const float *)wv, *dy = (const float *)dyv;
    const size_t K = wd->k, C = wd->c, krsc = (size_t)wd->r * wd->s * C;
    std::vector<double> dx((size_t)dxd->n * dxd->h * dxd->w * C, 0.0);
    each_tap(dxd, wd, cv, dyd, [&](size_t xo, size_t yo, size_t wo) {
        for (size_t k = 0; k < K; k++)
            for (size_t c = 0; c < C; c++) dx[xo + c] += (double)dy[yo + k] * w[k * krsc + wo + c];
    });
    blend((float *)dxv, dx, alpha, beta);
    return CUDNN_STATUS_SUCCESS;
}

/* dw (k, r, s, c) = alpha · Σ_{n, oy, ox} dy (n, oy, ox, k) · x (n, oy·u - pad_h + r,
 * ox·v - pad_w + s, c) + beta · dw. */
cudnnStatus_t cudnnConvolutionBackwardFilter(cudnnHandle_t, const void *alpha,
                                             const cudnnTensorDescriptor_t xd, const void *xv,
                                             const cudnnTensorDescriptor_t dyd, const void *dyv,
                                             const cudnnConvolutionDescriptor_t cv,
                                             cudnnConvolutionBwdFilterAlgo_t algo, void *ws,
                                             size_t ws_bytes, const void *beta,
                                             const cudnnFilterDescriptor_t dwd, void *dwv)
{
    cudnnStatus_t st = check_run(xd, dwd, cv, dyd, algo, ws, ws_bytes);
    if (st) return st;
    const float *x = (const float *)xv, *dy = (const float *)dyv;
    const size_t K = dwd->k, C = dwd->c, krsc = (size_t)dwd->r * dwd->s * C;
    std::vector<double> dw(K * krsc, 0.0);
    each_tap(xd, dwd, cv, dyd, [&](size_t xo, size_t yo, size_t wo) {
        for (size_t k = 0; k < K; k++)
            for (size_t c = 0; c < C; c++) dw[k * krsc + wo + c] += (double)dy[yo + k] * x[xo + c];
    });
    blend((float *)dwv, dw, alpha, beta);
    return CUDNN_STATUS_SUCCESS;
}

} /* extern "C" */
