/* Convolutions by cuDNN for the CUDA CNN backend (cnn.cu), asked for with
 * BNNMC_CUDA_CONV=cudnn (the default is conv.cu's direct convolutions; the GPU check times
 * the three paths side by side). cuDNN's legacy convolution API runs the forward pass, the
 * input gradient and the weight gradient on bnnmc's NHWC activations; the weights go into
 * cuDNN's NHWC filter layout (o, k, k, c), the transpose of bnnmc's HWIO (k·k·c, o), once per
 * gradient, and the weight gradient sums over the micro-batches in that layout (beta = 1) and
 * comes back once per gradient.
 *
 * cuDNN is loaded when this path is asked for (dlopen of BNNMC_CUDNN_LIBRARY, else of
 * libcudnn.so.9 unless the program has cuDNN's functions linked in, as tools/cuda-emu's has),
 * so a CUDA bnnmc needs no cuDNN to run otherwise, and says which library is missing when
 * asked for it.
 *
 * Reproducibility: each product takes the first algorithm of cuDNN's heuristics (the _v7 Get
 * calls, which time nothing) that is deterministic, float32 FMA (TF32 tensor cores only under
 * --tf32) and fits the workspace (cnn.cu's im2col buffer, sized by the net alone): the choice,
 * and so the bits, follow from the shapes, the GPU and cuDNN's version. cuDNN pads both sides
 * alike; a convolution whose "same" padding puts the extra row after (stride 2, or an even
 * kernel) stays with conv.cu (bnn_cuda_cudnn_takes). */
#include "backend/cuda/conv_cudnn.cuh"

#include <cudnn.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

/* The cuDNN functions used here, called through pointers found at run time. */
#define CUDNN_FUNCTIONS(X)                                                                      \
    X(cudnnGetVersion)                                                                          \
    X(cudnnGetErrorString)                                                                      \
    X(cudnnCreate)                                                                              \
    X(cudnnDestroy)                                                                             \
    X(cudnnSetStream)                                                                           \
    X(cudnnCreateTensorDescriptor)                                                              \
    X(cudnnSetTensor4dDescriptor)                                                               \
    X(cudnnDestroyTensorDescriptor)                                                             \
    X(cudnnCreateFilterDescriptor)                                                              \
    X(cudnnSetFilter4dDescriptor)                                                               \
    X(cudnnDestroyFilterDescriptor)                                                             \
    X(cudnnCreateConvolutionDescriptor)                                                         \
    X(cudnnSetConvolution2dDescriptor)                                                          \
    X(cudnnSetConvolutionMathType)                                                              \
    X(cudnnDestroyConvolutionDescriptor)                                                        \
    X(cudnnGetConvolutionForwardAlgorithm_v7)                                                   \
    X(cudnnGetConvolutionBackwardDataAlgorithm_v7)                                              \
    X(cudnnGetConvolutionBackwardFilterAlgorithm_v7)                                            \
    X(cudnnConvolutionForward)                                                                  \
    X(cudnnConvolutionBackwardData)                                                             \
    X(cudnnConvolutionBackwardFilter)

struct cudnn_api {
#define CUDNN_POINTER(f) decltype(&::f) f;
    CUDNN_FUNCTIONS(CUDNN_POINTER)
#undef CUDNN_POINTER
    void *lib; /* dlopen's handle, or NULL (the program's own functions, or none) */
};

/* Finds cuDNN's functions; BNN_EUNSUP saying why where it cannot. */
static bnn_status load_api(cudnn_api *api)
{
    const char *name = getenv("BNNMC_CUDNN_LIBRARY");
    int own = 0; /* the program's own functions */
    if (!name || !*name) {
        name = "libcudnn.so.9";
        own = dlsym(RTLD_DEFAULT, "cudnnCreate") != NULL;
    }
    if (!own && !(api->lib = dlopen(name, RTLD_NOW)))
        return BNN_ERROR(BNN_EUNSUP, "BNNMC_CUDA_CONV=cudnn: %s could not be loaded (%s; unset "
                         "BNNMC_CUDA_CONV for bnnmc's own convolutions)", name, dlerror());
    void *lib = own ? RTLD_DEFAULT : api->lib;
#define CUDNN_FIND(f)                                                                          \
    if (!(api->f = (decltype(&::f))dlsym(lib, #f)))                                            \
        return BNN_ERROR(BNN_EUNSUP, "BNNMC_CUDA_CONV=cudnn: %s has no %s", name, #f);
    CUDNN_FUNCTIONS(CUDNN_FIND)
#undef CUDNN_FIND
    const size_t v = api->cudnnGetVersion();
    if (v < 90000 || v >= 100000)
        return BNN_ERROR(BNN_EUNSUP, "BNNMC_CUDA_CONV=cudnn: %s is cuDNN %zu.%zu; bnnmc takes "
                         "cuDNN 9", name, v / 10000, v / 100 % 100);
    return BNN_OK;
}

#define BNN_CUDNN_TRY(call)                                                                    \
    do {                                                                                       \
        cudnnStatus_t bnn_cudnn_st_ = d->api.call;                                             \
        if (bnn_cudnn_st_ != CUDNN_STATUS_SUCCESS)                                             \
            return BNN_ERROR(BNN_EIO, "cuDNN: %s failed: %s", #call,                           \
                             d->api.cudnnGetErrorString(bnn_cudnn_st_));                       \
    } while (0)

/* A convolution's descriptors and algorithms for one micro-batch size m (0: not set up). */
struct cudnn_slot {
    size_t m;
    cudnnTensorDescriptor_t x, y;
    cudnnConvolutionFwdAlgo_t fwd;
    cudnnConvolutionBwdDataAlgo_t data;
    cudnnConvolutionBwdFilterAlgo_t filter;
    cudnnMathType_t fwd_math, data_math, filter_math; /* each algorithm's, as cuDNN says */
};

struct cudnn_conv {
    cudnnFilterDescriptor_t w;
    cudnnConvolutionDescriptor_t conv;
    cudnn_slot slot[2]; /* the full micro-batch, and the last (shorter) one */
    size_t at;          /* offset of its weights in wk and dwk */
};

struct bnn_cuda_cudnn {
    cudnn_api api;
    cudnnHandle_t handle;
    const bnn_cnn *c;
    unsigned char on[BNN_CNN_MAX_NODES];
    cudnn_conv conv[BNN_CNN_MAX_NODES];
    float *wk;  /* the cuDNN nodes' weights in cuDNN's layout, one after another */
    float *dwk; /* their gradient sums over the micro-batches of a gradient */
    void *ws;
    size_t ws_bytes;
    cudnnMathType_t math; /* CUDNN_FMA_MATH, or CUDNN_DEFAULT_MATH (TF32 allowed) */
};

/* ---- kernels -------------------------------------------------------------------------- */

/* wk (o, kkc) = w (kkc, o)ᵀ, n = kkc · o. */
__global__ void cudnn_weights_kernel(float *wk, const float *w, size_t kkc, size_t o, size_t n)
{
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) wk[i] = w[i % kkc * o + i / kkc];
}

/* dw (kkc, o) += dwk (o, kkc)ᵀ, n = kkc · o. */
__global__ void cudnn_weight_grad_kernel(float *dw, const float *dwk, size_t kkc, size_t o,
                                         size_t n)
{
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) dw[i] += dwk[i % o * kkc + i / o];
}

/* ---- host side ------------------------------------------------------------------------- */

int bnn_cuda_cudnn_takes(const bnn_conv_shape *s)
{
    /* cuDNN's output size: (h + 2·pad - k) / stride + 1 */
    return s->h + 2 * s->pad_top >= s->k && s->w + 2 * s->pad_left >= s->k &&
           (s->h + 2 * s->pad_top - s->k) / s->stride + 1 == s->oh &&
           (s->w + 2 * s->pad_left - s->k) / s->stride + 1 == s->ow;
}

/* The first of cuDNN's n candidates, best first, that is deterministic, fits the workspace and
 * keeps to float32 FMA unless TF32 is allowed; -1 if none. */
template <typename Perf>
static int pick(const Perf *p, int n, const bnn_cuda_cudnn *d)
{
    for (int i = 0; i < n; i++)
        if (p[i].status == CUDNN_STATUS_SUCCESS && p[i].determinism == CUDNN_DETERMINISTIC &&
            p[i].memory <= d->ws_bytes &&
            (d->math != CUDNN_FMA_MATH || p[i].mathType == CUDNN_FMA_MATH))
            return i;
    return -1;
}

static bnn_status none_fits(const bnn_cuda_cudnn *d, const bnn_conv_shape *s, const char *what,
                            int n)
{
    return BNN_ERROR(BNN_EUNSUP, "cuDNN offers no %s algorithm for the %zux%zu convolution of "
                     "%zu to %zu channels on %zux%zu inputs that is deterministic, %s and fits "
                     "the %zu MiB workspace (of %d candidates; BNNMC_CUDA_CONV=direct takes it)",
                     what, s->k, s->k, s->c, s->o, s->h, s->w,
                     d->math == CUDNN_FMA_MATH ? "float32 FMA" : "float32 or TF32",
                     d->ws_bytes >> 20, n);
}

/* Sets up slot q of node k for micro-batches of m rows: descriptors and algorithms. */
static bnn_status set_up_slot(bnn_cuda_cudnn *d, size_t k, cudnn_slot *q, size_t m)
{
    const bnn_conv_shape *s = &d->c->node[k].conv;
    cudnn_conv *cv = &d->conv[k];
    BNN_CUDNN_TRY(cudnnSetTensor4dDescriptor(q->x, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, (int)m,
                                             (int)s->c, (int)s->h, (int)s->w));
    BNN_CUDNN_TRY(cudnnSetTensor4dDescriptor(q->y, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, (int)m,
                                             (int)s->o, (int)s->oh, (int)s->ow));
    /* the heuristics answer for the descriptor's math type: the one asked for */
    BNN_CUDNN_TRY(cudnnSetConvolutionMathType(cv->conv, d->math));
    enum { N = 16 }; /* more than cuDNN has algorithms of each kind */
    int n = 0, i;
    cudnnConvolutionFwdAlgoPerf_t fwd[N];
    BNN_CUDNN_TRY(cudnnGetConvolutionForwardAlgorithm_v7(d->handle, q->x, cv->w, cv->conv, q->y,
                                                         N, &n, fwd));
    if ((i = pick(fwd, n, d)) < 0) return none_fits(d, s, "forward", n);
    q->fwd = fwd[i].algo;
    q->fwd_math = fwd[i].mathType;
    cudnnConvolutionBwdDataAlgoPerf_t data[N];
    BNN_CUDNN_TRY(cudnnGetConvolutionBackwardDataAlgorithm_v7(d->handle, cv->w, q->y, cv->conv,
                                                              q->x, N, &n, data));
    if ((i = pick(data, n, d)) < 0) return none_fits(d, s, "input-gradient", n);
    q->data = data[i].algo;
    q->data_math = data[i].mathType;
    cudnnConvolutionBwdFilterAlgoPerf_t filter[N];
    BNN_CUDNN_TRY(cudnnGetConvolutionBackwardFilterAlgorithm_v7(d->handle, q->x, q->y, cv->conv,
                                                                cv->w, N, &n, filter));
    if ((i = pick(filter, n, d)) < 0) return none_fits(d, s, "weight-gradient", n);
    q->filter = filter[i].algo;
    q->filter_math = filter[i].mathType;
    q->m = m;
    return BNN_OK;
}

/* Node k's slot for micro-batches of m rows: the full micro-batch's, else the other one, set
 * up again when m changes (the last micro-batch of training, then of prediction rows). */
static bnn_status slot_for(bnn_cuda_cudnn *d, size_t k, size_t m, cudnn_slot **out)
{
    cudnn_conv *cv = &d->conv[k];
    cudnn_slot *q = cv->slot[0].m == m ? &cv->slot[0] : &cv->slot[1];
    if (q->m != m) BNN_TRY(set_up_slot(d, k, q, m));
    *out = q;
    return BNN_OK;
}

bnn_status bnn_cuda_cudnn_create(struct cuda_backend *b, const bnn_cnn *c,
                                 const unsigned char *on, size_t M, void *workspace,
                                 size_t ws_bytes, struct bnn_cuda_cudnn **out)
{
    bnn_cuda_cudnn *d = (bnn_cuda_cudnn *)calloc(1, sizeof *d);
    if (!d) return BNN_ERROR(BNN_ENOMEM, "out of memory for cuDNN's convolution state");
    *out = d;
    d->c = c;
    d->ws = workspace;
    d->ws_bytes = ws_bytes;
    d->math = b->tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH;
    BNN_TRY(load_api(&d->api));
    BNN_CUDNN_TRY(cudnnCreate(&d->handle));
    BNN_CUDNN_TRY(cudnnSetStream(d->handle, b->stream));
    size_t total = 0;
    for (size_t k = 0; k < c->n_nodes; k++) {
        if (!on[k]) continue;
        const bnn_conv_shape *s = &c->node[k].conv;
        cudnn_conv *cv = &d->conv[k];
        d->on[k] = 1; /* from here on freed with d */
        BNN_CUDNN_TRY(cudnnCreateFilterDescriptor(&cv->w));
        BNN_CUDNN_TRY(cudnnCreateConvolutionDescriptor(&cv->conv));
        for (int j = 0; j < 2; j++) {
            BNN_CUDNN_TRY(cudnnCreateTensorDescriptor(&cv->slot[j].x));
            BNN_CUDNN_TRY(cudnnCreateTensorDescriptor(&cv->slot[j].y));
        }
        BNN_CUDNN_TRY(cudnnSetFilter4dDescriptor(cv->w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NHWC,
                                                 (int)s->o, (int)s->c, (int)s->k, (int)s->k));
        BNN_CUDNN_TRY(cudnnSetConvolution2dDescriptor(cv->conv, (int)s->pad_top,
                                                      (int)s->pad_left, (int)s->stride,
                                                      (int)s->stride, 1, 1,
                                                      CUDNN_CROSS_CORRELATION,
                                                      CUDNN_DATA_FLOAT));
        BNN_TRY(set_up_slot(d, k, &cv->slot[0], M));
        cv->at = total;
        total += (s->k * s->k * s->c * s->o + 31) / 32 * 32;
    }
    const size_t bytes = (total ? total : 1) * sizeof(float);
    if (cudaMalloc((void **)&d->wk, bytes) != cudaSuccess ||
        cudaMalloc((void **)&d->dwk, bytes) != cudaSuccess) {
        (void)cudaGetLastError();
        return BNN_ERROR(BNN_ENOMEM, "CUDA: allocating 2 x %zu KiB for cuDNN's weights failed",
                         bytes >> 10);
    }
    return BNN_OK;
}

void bnn_cuda_cudnn_free(struct bnn_cuda_cudnn *d)
{
    if (!d) return;
    const cudnn_api &a = d->api;
    for (size_t k = 0; k < d->c->n_nodes; k++) {
        if (!d->on[k]) continue;
        cudnn_conv *cv = &d->conv[k];
        for (int j = 0; j < 2; j++) {
            if (cv->slot[j].x) a.cudnnDestroyTensorDescriptor(cv->slot[j].x);
            if (cv->slot[j].y) a.cudnnDestroyTensorDescriptor(cv->slot[j].y);
        }
        if (cv->w) a.cudnnDestroyFilterDescriptor(cv->w);
        if (cv->conv) a.cudnnDestroyConvolutionDescriptor(cv->conv);
    }
    if (d->handle) a.cudnnDestroy(d->handle);
    if (a.lib) dlclose(a.lib);
    cudaFree(d->wk);
    cudaFree(d->dwk);
    free(d);
}

bnn_status bnn_cuda_cudnn_weights(struct cuda_backend *b, struct bnn_cuda_cudnn *d)
{
    for (size_t k = 0; k < d->c->n_nodes; k++) {
        if (!d->on[k]) continue;
        const bnn_cnn_node *nd = &d->c->node[k];
        const size_t kkc = nd->conv.k * nd->conv.k * nd->conv.c, n = kkc * nd->conv.o;
        cudnn_weights_kernel<<<bnn_cuda_blocks(n), BNN_CUDA_THREADS, 0, b->stream>>>(
            d->wk + d->conv[k].at, b->theta_f + nd->p[0], kkc, nd->conv.o, n);
    }
    return bnn_cuda_launched("cuDNN weight layout");
}

static const float k_one = 1.0f, k_zero = 0.0f;

bnn_status bnn_cuda_cudnn_forward(struct cuda_backend *b, struct bnn_cuda_cudnn *d, size_t k,
                                  float *out, const float *in, size_t m)
{
    (void)b;
    cudnn_conv *cv = &d->conv[k];
    cudnn_slot *q;
    BNN_TRY(slot_for(d, k, m, &q));
    BNN_CUDNN_TRY(cudnnSetConvolutionMathType(cv->conv, q->fwd_math));
    BNN_CUDNN_TRY(cudnnConvolutionForward(d->handle, &k_one, q->x, in, cv->w, d->wk + cv->at,
                                          cv->conv, q->fwd, d->ws, d->ws_bytes, &k_one, q->y,
                                          out));
    return BNN_OK;
}

bnn_status bnn_cuda_cudnn_backward(struct cuda_backend *b, struct bnn_cuda_cudnn *d, size_t k,
                                   float *din, const float *dout, const float *in, size_t m,
                                   int first)
{
    (void)b;
    cudnn_conv *cv = &d->conv[k];
    cudnn_slot *q;
    BNN_TRY(slot_for(d, k, m, &q));
    BNN_CUDNN_TRY(cudnnSetConvolutionMathType(cv->conv, q->filter_math));
    BNN_CUDNN_TRY(cudnnConvolutionBackwardFilter(d->handle, &k_one, q->x, in, q->y, dout,
                                                 cv->conv, q->filter, d->ws, d->ws_bytes,
                                                 first ? &k_zero : &k_one, cv->w,
                                                 d->dwk + cv->at));
    if (!din) return BNN_OK;
    BNN_CUDNN_TRY(cudnnSetConvolutionMathType(cv->conv, q->data_math));
    BNN_CUDNN_TRY(cudnnConvolutionBackwardData(d->handle, &k_one, cv->w, d->wk + cv->at, q->y,
                                               dout, cv->conv, q->data, d->ws, d->ws_bytes,
                                               &k_one, q->x, din));
    return BNN_OK;
}

bnn_status bnn_cuda_cudnn_weight_totals(struct cuda_backend *b, struct bnn_cuda_cudnn *d)
{
    for (size_t k = 0; k < d->c->n_nodes; k++) {
        if (!d->on[k]) continue;
        const bnn_cnn_node *nd = &d->c->node[k];
        const size_t kkc = nd->conv.k * nd->conv.k * nd->conv.c, n = kkc * nd->conv.o;
        cudnn_weight_grad_kernel<<<bnn_cuda_blocks(n), BNN_CUDA_THREADS, 0, b->stream>>>(
            b->grad_f + nd->p[0], d->dwk + d->conv[k].at, kkc, nd->conv.o, n);
    }
    return bnn_cuda_launched("cuDNN weight gradient");
}
