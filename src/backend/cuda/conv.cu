/* Direct convolutions for the CUDA CNN backend (cnn.cu): the forward pass, the input gradient
 * (stride 1) and the weight gradient as tiled products ("implicit GEMM") whose im2col operand is
 * gathered from the images into shared memory one tile at a time and never written out. The
 * im2col path reads and writes k·k times the input per product (ResNet-20-FRN's first stage: a
 * 210 MB buffer per 3x3 convolution of a micro-batch of 357 images, written once and read once
 * per product); here each tile is read from the input, which the caches hold across the taps.
 *
 * Each kernel is a block-tiled product C (BM × BN) = A (BM × K) · B (K × BN), K in steps of
 * CONV_BK: 256 threads, each computing TM rows × CONV_TN columns of C in registers from A and B
 * tiles in shared memory; the next step's tiles are loaded into registers while the current
 * ones are used. The products:
 *   forward       rows: output positions (m·oh·ow); K: taps (ky, kx, ch); columns: outputs o.
 *   input grad    the forward product of dout with the weights flipped and transposed, on the
 *                 input positions (a stride-1 convolution's gradient is one), added to din.
 *   weight grad   rows: taps (k·k·c); K: a chunk of output positions (rounds of WG_ROWS);
 *                 columns: outputs o. Block z adds its chunk's sum to its own slot of a
 *                 buffer over the micro-batches of a gradient; a second kernel then adds the
 *                 slots in order.
 * Every output is one thread's sum over K in order and the blocks are added in order, the
 * chunks following from the shapes and the micro-batch size alone: the same inputs give the
 * same bits (no atomics), whatever the GPU. The products are float32 (no TF32),
 * also under --tf32.
 *
 * BNNMC_CUDA_CONV=im2col keeps cnn.cu's im2col + cuBLAS convolutions, BNNMC_CUDA_CONV=cudnn
 * takes cuDNN's (conv_cudnn.cu), to compare: the GPU check times the three. */
#include "backend/cuda/conv.cuh"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CONV_THREADS 256
#define CONV_BK 8           /* K per step */
#define CONV_TN 4           /* columns per thread */
#define WG_ROWS 512         /* output positions per round of the weight gradient */
#define CONV_NONE (-(1 << 29)) /* a window origin no tap reaches */

/* The shape as ints: every offset fits (cnn.cu's choose_micro keeps a micro-batch's arrays
 * under INT_MAX numbers). */
struct conv_dims {
    int h, w, c, oh, ow, o, k, stride, pad_top, pad_left;
};

/* Where output position r's window starts: its image's offset in the input and the top-left
 * tap's (y, x), which may lie in the padding; past the last position, nowhere. */
struct conv_row {
    int base, y0, x0, unused;
};

/* A tap (ky, kx, ch) of the kernel; ky = CONV_NONE past the last one. */
struct conv_tap {
    int ky, kx, ch, unused;
};

__device__ conv_row conv_row_of(const conv_dims &s, int r, int rows)
{
    conv_row q = {0, CONV_NONE, CONV_NONE, 0};
    if (r < rows) {
        const int pos = s.oh * s.ow, img = r / pos, oy = r % pos / s.ow, ox = r % s.ow;
        q.base = img * s.h * s.w * s.c;
        q.y0 = oy * s.stride - s.pad_top;
        q.x0 = ox * s.stride - s.pad_left;
    }
    return q;
}

__device__ conv_tap conv_tap_of(const conv_dims &s, int j)
{
    conv_tap t = {CONV_NONE, CONV_NONE, 0, 0};
    if (j < s.k * s.k * s.c) {
        t.ch = j % s.c;
        t.kx = j / s.c % s.k;
        t.ky = j / s.c / s.k;
    }
    return t;
}

/* The im2col entry (position q, tap (ky, kx, ch)) of in: 0 in the padding. */
__device__ float conv_gather(const float *in, const conv_dims &s, const conv_row &q, int ky,
                             int kx, int ch)
{
    const int y = q.y0 + ky, x = q.x0 + kx;
    if ((unsigned)y >= (unsigned)s.h || (unsigned)x >= (unsigned)s.w) return 0.0f;
    return in[q.base + (y * s.w + x) * s.c + ch];
}

/* Taps ch..ch+3 of the im2col entry (position q, tap (ky, kx, ch)), c a multiple of 4 (so the
 * four share (ky, kx) and are 16-byte aligned): 0 in the padding. */
__device__ float4 conv_gather4(const float *in, const conv_dims &s, const conv_row &q,
                               const conv_tap &t)
{
    const int y = q.y0 + t.ky, x = q.x0 + t.kx;
    if ((unsigned)y >= (unsigned)s.h || (unsigned)x >= (unsigned)s.w) {
        const float4 zero = {0.0f, 0.0f, 0.0f, 0.0f};
        return zero;
    }
    return *reinterpret_cast<const float4 *>(in + q.base + (y * s.w + x) * s.c + t.ch);
}

/* acc += As · Bs over one step: thread (ty, tx) takes rows ty·TM.., columns tx·CONV_TN... */
template <int BM, int BN, int TM>
__device__ void conv_tile_product(float (*acc)[CONV_TN], const float (*As)[BM + 4],
                                  const float (*Bs)[BN], int ty, int tx)
{
#pragma unroll
    for (int kk = 0; kk < CONV_BK; kk++) {
        float a[TM], bv[CONV_TN];
#pragma unroll
        for (int i = 0; i < TM; i++) a[i] = As[kk][ty * TM + i];
#pragma unroll
        for (int j = 0; j < CONV_TN; j++) bv[j] = Bs[kk][tx * CONV_TN + j];
#pragma unroll
        for (int i = 0; i < TM; i++)
#pragma unroll
            for (int j = 0; j < CONV_TN; j++) acc[i][j] = fmaf(a[i], bv[j], acc[i][j]);
    }
}

/* The next tap of a thread that takes every CONV_BK-th: index j (tap) → j + CONV_BK, of kkc. */
__device__ void conv_tap_advance(conv_tap &tap, const conv_dims &s, int j, int kkc)
{
    if (tap.ky == CONV_NONE) return;
    if (j + CONV_BK >= kkc) {
        tap.ky = CONV_NONE;
        return;
    }
    tap.ch += CONV_BK;
    while (tap.ch >= s.c) {
        tap.ch -= s.c;
        if (++tap.kx == s.k) {
            tap.kx = 0;
            tap.ky++;
        }
    }
}

/* B elements t + 256 i of the tile of rows k0.. of b (K, ld), columns n0.. (BN of them). */
template <int BN, int B_PER>
__device__ void conv_load_b(float *breg, const float *b, int k0, int K, int n0, int ld, int t)
{
#pragma unroll
    for (int i = 0; i < B_PER; i++) {
        const int e = t + CONV_THREADS * i, kk = e / BN, n = e % BN;
        breg[i] = e < BN * CONV_BK && k0 + kk < K && n0 + n < ld
                      ? b[(size_t)(k0 + kk) * ld + n0 + n]
                      : 0.0f;
    }
}

template <int BN, int B_PER> __device__ void conv_store_b(float (*Bs)[BN], const float *breg, int t)
{
#pragma unroll
    for (int i = 0; i < B_PER; i++) {
        const int e = t + CONV_THREADS * i;
        if (e < BN * CONV_BK) Bs[e / BN][e % BN] = breg[i];
    }
}

/* A tile of BM = TM·TY rows × BN columns: TX threads across, TY down, each TM × CONV_TN;
 * B_PER elements of the B tile (CONV_BK × BN) per thread. */
template <int BN, int TM> struct conv_tiling {
    static constexpr int TX = BN / CONV_TN, TY = CONV_THREADS / TX, BM = TM * TY;
    static constexpr int B_PER = (BN * CONV_BK + CONV_THREADS - 1) / CONV_THREADS;
};

/* A thread's outputs: rows r0.. (below rows) and columns n0.. (below ld) of c (rows, ld):
 * c += acc (add), else c = acc (+ bias, unless NULL). */
template <int TM>
__device__ void conv_store_tile(const float (*acc)[CONV_TN], float *c, int r0, int rows, int n0,
                                int ld, int add, const float *bias)
{
#pragma unroll
    for (int i = 0; i < TM; i++) {
        if (r0 + i >= rows) break;
#pragma unroll
        for (int j = 0; j < CONV_TN; j++) {
            if (n0 + j >= ld) break;
            float *o = c + (size_t)(r0 + i) * ld + n0 + j;
            *o = add ? *o + acc[i][j] : bias ? acc[i][j] + bias[n0 + j] : acc[i][j];
        }
    }
}

/* One thread's share of the forward product's A tile (BM positions × CONV_BK taps): TAPS
 * consecutive taps (VEC: 4, one 16-byte load, for c a multiple of 4; else 1) of the positions
 * am + STRIDE·i below BM, from tap kk of the step on (the tap advances by CONV_BK a step). Its
 * stores to As hit distinct banks (As rows are BM + 4 apart). */
template <int BM, bool VEC> struct conv_forward_a {
    static constexpr int TAPS = VEC ? 4 : 1, LANES = CONV_BK / TAPS;
    static constexpr int STRIDE = CONV_THREADS / LANES, N = (BM + STRIDE - 1) / STRIDE;
    static_assert(BM % STRIDE == 0 || BM < STRIDE, "a tile's rows in whole passes");
    float v[N][TAPS];
    int kk, am;
    conv_tap tap;

    __device__ void init(const conv_dims &s, int t)
    {
        kk = t % LANES * TAPS;
        am = t / LANES;
        tap = conv_tap_of(s, kk);
    }
    __device__ void load(const float *in, const conv_dims &s, const conv_row *rinfo)
    {
#pragma unroll
        for (int i = 0; i < N; i++) {
            if (BM < STRIDE && am >= BM) break; /* a tile smaller than one pass */
            const conv_row &q = rinfo[am + STRIDE * i];
            if constexpr (VEC) {
                const float4 x = conv_gather4(in, s, q, tap);
                v[i][0] = x.x, v[i][1] = x.y, v[i][2] = x.z, v[i][3] = x.w;
            } else {
                v[i][0] = conv_gather(in, s, q, tap.ky, tap.kx, tap.ch);
            }
        }
    }
    __device__ void store(float (*As)[BM + 4]) const
    {
#pragma unroll
        for (int i = 0; i < N; i++) {
            if (BM < STRIDE && am >= BM) break;
#pragma unroll
            for (int j = 0; j < TAPS; j++) As[kk + j][am + STRIDE * i] = v[i][j];
        }
    }
    __device__ void advance(const conv_dims &s, int k0, int kkc)
    {
        conv_tap_advance(tap, s, k0 + kk, kkc);
    }
};

/* out (rows, o) = conv(in) · w + bias, or (accumulate) out += conv(in) · w. Grid
 * (⌈rows / BM⌉, ⌈o / BN⌉), CONV_THREADS threads, each loading its conv_forward_a share and B
 * elements t + 256 i. */
template <int BN, int TM, bool VEC>
__global__ void __launch_bounds__(CONV_THREADS)
    conv_forward_kernel(float *out, const float *in, const float *w, const float *bias,
                        conv_dims s, int rows, int accumulate)
{
    constexpr int TX = conv_tiling<BN, TM>::TX, BM = conv_tiling<BN, TM>::BM;
    constexpr int B_PER = conv_tiling<BN, TM>::B_PER;
    __shared__ __align__(16) float As[CONV_BK][BM + 4], Bs[CONV_BK][BN];
    __shared__ conv_row rinfo[BM];
    const int t = threadIdx.x, r0 = blockIdx.x * BM, n0 = blockIdx.y * BN;
    const int ty = t / TX, tx = t % TX, kkc = s.k * s.k * s.c;
    for (int i = t; i < BM; i += CONV_THREADS) rinfo[i] = conv_row_of(s, r0 + i, rows);
    __syncthreads();
    conv_forward_a<BM, VEC> a;
    a.init(s, t);
    float breg[B_PER], acc[TM][CONV_TN];
#pragma unroll
    for (int i = 0; i < TM; i++)
#pragma unroll
        for (int j = 0; j < CONV_TN; j++) acc[i][j] = 0.0f;
    a.load(in, s, rinfo);
    conv_load_b<BN, B_PER>(breg, w, 0, kkc, n0, s.o, t);
    for (int k0 = 0; k0 < kkc; k0 += CONV_BK) {
        a.store(As);
        conv_store_b<BN, B_PER>(Bs, breg, t);
        __syncthreads();
        if (k0 + CONV_BK < kkc) { /* the next step's loads overlap this step's product */
            a.advance(s, k0, kkc);
            a.load(in, s, rinfo);
            conv_load_b<BN, B_PER>(breg, w, k0 + CONV_BK, kkc, n0, s.o, t);
        }
        conv_tile_product<BM, BN, TM>(acc, As, Bs, ty, tx);
        __syncthreads(); /* the tiles are no longer read */
    }
    conv_store_tile<TM>(acc, out, r0 + ty * TM, rows, n0 + tx * CONV_TN, s.o, accumulate,
                        bias);
}

/* One thread's share of the weight gradient's A tile (CONV_BK positions × BM taps): elements
 * e = t + 256 i of TOTAL, each TAPS consecutive taps (VEC: 4, one 16-byte load and store, for
 * c a multiple of 4; else 1), group e % GROUPS of the tile's taps, position e / GROUPS. */
template <int BM, bool VEC> struct conv_weight_a {
    static constexpr int TAPS = VEC ? 4 : 1, GROUPS = BM / TAPS, TOTAL = GROUPS * CONV_BK;
    static constexpr int N = (TOTAL + CONV_THREADS - 1) / CONV_THREADS;
    float v[N][TAPS];

    __device__ void load(const float *in, const conv_dims &s, const conv_row *rinfo,
                         const conv_tap *tinfo, int k0, int t)
    {
#pragma unroll
        for (int i = 0; i < N; i++) {
            const int e = t + CONV_THREADS * i;
            if (TOTAL % CONV_THREADS && e >= TOTAL) { /* past the tile: not stored */
#pragma unroll
                for (int j = 0; j < TAPS; j++) v[i][j] = 0.0f;
                continue;
            }
            const conv_tap &tp = tinfo[e % GROUPS * TAPS];
            const conv_row &q = rinfo[k0 + e / GROUPS];
            if constexpr (VEC) {
                const float4 x = conv_gather4(in, s, q, tp);
                v[i][0] = x.x, v[i][1] = x.y, v[i][2] = x.z, v[i][3] = x.w;
            } else {
                v[i][0] = conv_gather(in, s, q, tp.ky, tp.kx, tp.ch);
            }
        }
    }
    __device__ void store(float (*As)[BM + 4], int t) const
    {
#pragma unroll
        for (int i = 0; i < N; i++) {
            const int e = t + CONV_THREADS * i;
            if (TOTAL % CONV_THREADS && e >= TOTAL) break;
            float *d = &As[e / GROUPS][e % GROUPS * TAPS];
            if constexpr (VEC) {
                const float4 x = {v[i][0], v[i][1], v[i][2], v[i][3]};
                *reinterpret_cast<float4 *>(d) = x;
            } else {
                d[0] = v[i][0];
            }
        }
    }
};

/* First level of the weight gradient: block z = blockIdx.x adds (first: writes) to part (z, kkc,
 * o) its sum over output positions z·chunk_rows.. (chunk_rows of them, a multiple of WG_ROWS) of
 * col (position, tap) · dout (position, o), for taps blockIdx.y·BM.. and outputs blockIdx.z·BN..;
 * the positions in rounds of WG_ROWS (their windows' origins in shared memory). Each thread
 * loads its conv_weight_a share and B elements t + 256 i. */
template <int BN, int TM, bool VEC>
__global__ void __launch_bounds__(CONV_THREADS)
    conv_weight_grad_kernel(float *part, const float *dout, const float *in, conv_dims s,
                            int rows, int chunk_rows, int first)
{
    constexpr int TX = conv_tiling<BN, TM>::TX, BM = conv_tiling<BN, TM>::BM;
    constexpr int B_PER = conv_tiling<BN, TM>::B_PER;
    __shared__ __align__(16) float As[CONV_BK][BM + 4], Bs[CONV_BK][BN];
    __shared__ conv_row rinfo[WG_ROWS];
    __shared__ conv_tap tinfo[BM];
    const int t = threadIdx.x, m0 = blockIdx.y * BM, n0 = blockIdx.z * BN;
    const int ty = t / TX, tx = t % TX, kkc = s.k * s.k * s.c;
    const int z0 = blockIdx.x * chunk_rows;
    const int z1 = rows - z0 < chunk_rows ? rows : z0 + chunk_rows;
    for (int i = t; i < BM; i += CONV_THREADS) tinfo[i] = conv_tap_of(s, m0 + i);
    conv_weight_a<BM, VEC> a;
    float breg[B_PER], acc[TM][CONV_TN];
#pragma unroll
    for (int i = 0; i < TM; i++)
#pragma unroll
        for (int j = 0; j < CONV_TN; j++) acc[i][j] = 0.0f;
    for (int q0 = z0; q0 < z1; q0 += WG_ROWS) { /* a round of WG_ROWS positions */
        const int q1 = z1 - q0 < WG_ROWS ? z1 : q0 + WG_ROWS, K = q1 - q0;
        for (int i = t; i < WG_ROWS; i += CONV_THREADS) rinfo[i] = conv_row_of(s, q0 + i, q1);
        __syncthreads();
        const float *dq = dout + (size_t)q0 * s.o; /* the round's rows of dout */
        for (int k0 = 0; k0 < K; k0 += CONV_BK) {
            a.load(in, s, rinfo, tinfo, k0, t);
            conv_load_b<BN, B_PER>(breg, dq, k0, K, n0, s.o, t);
            a.store(As, t);
            conv_store_b<BN, B_PER>(Bs, breg, t);
            __syncthreads();
            conv_tile_product<BM, BN, TM>(acc, As, Bs, ty, tx);
            __syncthreads(); /* the tiles (and, after the last step, rinfo) are free */
        }
    }
    conv_store_tile<TM>(acc, part + (size_t)blockIdx.x * kkc * s.o, m0 + ty * TM, kkc,
                        n0 + tx * CONV_TN, s.o, !first, NULL);
}

/* dw (len) += the chunks' sums part (chunks, len), in order, in double; one entry per thread. */
__global__ void conv_weight_total_kernel(float *dw, const float *part, size_t chunks, size_t len)
{
    const size_t j = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= len) return;
    double acc = 0;
    for (size_t z = 0; z < chunks; z++) acc += part[z * len + j];
    dw[j] += (float)acc;
}

/* w (k, k, c, o) → wt (k, k, o, c), the taps reversed: wt[ky'][kx'][o][c] =
 * w[k-1-ky'][k-1-kx'][c][o], the weights of the input gradient as a forward convolution. */
__global__ void conv_flip_kernel(float *wt, const float *w, conv_dims s, size_t n)
{
    const size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const size_t c = i % s.c, o = i / s.c % s.o, kx = i / s.c / s.o % s.k;
    const size_t ky = i / s.c / s.o / s.k;
    const size_t src = (((s.k - 1 - ky) * s.k + (s.k - 1 - kx)) * s.c + c) * s.o + o;
    wt[i] = w[src];
}

/* ---- host side ------------------------------------------------------------------------- */

bnn_status bnn_cuda_conv_path(enum bnn_cuda_conv_path *out)
{
    const char *env = getenv("BNNMC_CUDA_CONV");
    if (!env || !*env || !strcmp(env, "direct")) *out = BNN_CONV_DIRECT;
    else if (!strcmp(env, "im2col")) *out = BNN_CONV_IM2COL;
    else if (!strcmp(env, "cudnn")) *out = BNN_CONV_CUDNN;
    else
        return BNN_ERROR(BNN_EINVAL, "BNNMC_CUDA_CONV must be direct, im2col or cudnn, not "
                                     "'%s'", env);
    return BNN_OK;
}

int bnn_cuda_conv_direct_input_grad(const bnn_conv_shape *s)
{
    return s->stride == 1 && s->pad_top < s->k && s->pad_left < s->k;
}

static conv_dims dims_of(const bnn_conv_shape *s)
{
    conv_dims d = {(int)s->h,  (int)s->w, (int)s->c,      (int)s->oh,      (int)s->ow,
                   (int)s->o,  (int)s->k, (int)s->stride, (int)s->pad_top, (int)s->pad_left};
    return d;
}

/* Columns per tile: the smallest of 16, 32, 64 that holds n, else 64. */
static int tile_columns(size_t n) { return n <= 16 ? 16 : n <= 32 ? 32 : 64; }

/* 16-byte loads of 4 taps where the channels come in fours (and the input is 16-byte
 * aligned: cnn.cu's views start on 128 bytes, the images rows of c multiples of 4 floats). */
static bool vector_taps(const conv_dims &d, const float *in)
{
    return d.c % 4 == 0 && (uintptr_t)in % 16 == 0;
}

template <int BN, int TM>
static void launch_forward_tm(const struct cuda_backend *b, float *out, const float *in,
                              const float *w, const float *bias, conv_dims d, int rows, int acc)
{
    constexpr int BM = conv_tiling<BN, TM>::BM;
    const dim3 grid((unsigned)((rows + BM - 1) / BM), (unsigned)((d.o + BN - 1) / BN));
    if (vector_taps(d, in))
        conv_forward_kernel<BN, TM, true><<<grid, CONV_THREADS, 0, b->stream>>>(
            out, in, w, bias, d, rows, acc);
    else
        conv_forward_kernel<BN, TM, false><<<grid, CONV_THREADS, 0, b->stream>>>(
            out, in, w, bias, d, rows, acc);
}

/* Blocks below which a forward product takes smaller tiles (fewer rows per thread): about two
 * per SM of an H100/H200 (132 SMs). Each output is one thread's sum over the taps in order
 * whatever the tile, so the choice does not change the bits. */
#define FORWARD_MIN_BLOCKS 256

template <int BN>
static void launch_forward(const struct cuda_backend *b, float *out, const float *in,
                           const float *w, const float *bias, conv_dims d, int rows, int acc)
{
    const int tiles_n = (d.o + BN - 1) / BN, per_tm = CONV_THREADS / (BN / CONV_TN);
    const auto blocks = [&](int tm) { return (rows + tm * per_tm - 1) / (tm * per_tm) * tiles_n; };
    if (blocks(8) >= FORWARD_MIN_BLOCKS)
        launch_forward_tm<BN, 8>(b, out, in, w, bias, d, rows, acc);
    else if (blocks(4) >= FORWARD_MIN_BLOCKS)
        launch_forward_tm<BN, 4>(b, out, in, w, bias, d, rows, acc);
    else
        launch_forward_tm<BN, 2>(b, out, in, w, bias, d, rows, acc);
}

static bnn_status forward_product(struct cuda_backend *b, float *out, const float *in,
                                  const float *w, const float *bias, conv_dims d, size_t rows,
                                  int accumulate)
{
    switch (tile_columns((size_t)d.o)) {
    case 16: launch_forward<16>(b, out, in, w, bias, d, (int)rows, accumulate); break;
    case 32: launch_forward<32>(b, out, in, w, bias, d, (int)rows, accumulate); break;
    default: launch_forward<64>(b, out, in, w, bias, d, (int)rows, accumulate); break;
    }
    return bnn_cuda_launched("convolution");
}

bnn_status bnn_cuda_conv_forward(struct cuda_backend *b, const bnn_conv_shape *s, float *out,
                                 const float *in, const float *w, const float *bias, size_t m)
{
    return forward_product(b, out, in, w, bias, dims_of(s), m * s->oh * s->ow, 0);
}

bnn_status bnn_cuda_conv_input_grad(struct cuda_backend *b, const bnn_conv_shape *s, float *din,
                                    const float *dout, const float *w, float *wt, size_t m)
{
    const conv_dims d = dims_of(s);
    const size_t n = s->k * s->k * s->c * s->o;
    conv_flip_kernel<<<bnn_cuda_blocks(n), BNN_CUDA_THREADS, 0, b->stream>>>(wt, w, d, n);
    /* the gradient of a stride-1 convolution: dout (m, oh, ow, o) convolved with wt, padded by
     * k - 1 - pad, on the h × w input positions */
    const conv_dims g = {d.oh, d.ow, d.o, d.h, d.w, d.c, d.k, 1, d.k - 1 - d.pad_top,
                         d.k - 1 - d.pad_left};
    return forward_product(b, din, dout, wt, NULL, g, m * s->h * s->w, 1);
}

/* Rows per thread of the weight gradient: the kkc taps fill tiles of TM·(256 / (BN/4)) rows,
 * TM = 2, 4 or 8; the largest TM (fewest loads per multiply-add) unless a smaller one wastes
 * fewer padded rows, weighed by the loads (relative speeds 0.6, 0.85, 1 by the loads per
 * multiply-add: (TM + 4) / (4·TM)). */
static int weight_tm(size_t kkc, int bn)
{
    const double speed[3] = {0.6, 0.85, 1.0};
    int best = 8;
    double best_rate = 0;
    for (int i = 0; i < 3; i++) {
        const int tm = 2 << i;
        const size_t bm = (size_t)tm * CONV_THREADS / (bn / CONV_TN);
        const double rate = speed[i] * (double)kkc / (double)((kkc + bm - 1) / bm * bm);
        if (rate > best_rate) {
            best_rate = rate;
            best = tm;
        }
    }
    return best;
}

/* Blocks of the weight gradient's product for one chunk of positions: tiles of taps × tiles of
 * outputs. */
static size_t weight_tiles(const bnn_conv_shape *s)
{
    const size_t bn = (size_t)tile_columns(s->o), kkc = s->k * s->k * s->c;
    const size_t bm = (size_t)weight_tm(kkc, (int)bn) * CONV_THREADS / (bn / CONV_TN);
    return (kkc + bm - 1) / bm * ((s->o + bn - 1) / bn);
}

/* Chunks of positions of the weight gradient of m images in micro-batches of M: rounds of
 * WG_ROWS positions, for M images about WG_BLOCKS blocks in all (enough to fill a GPU, few sums
 * to add at the end); from the shape and M alone, so that the bits do not depend on the GPU, and
 * the same chunks for every micro-batch (a shorter one has fewer). */
#define WG_BLOCKS 1024
static size_t weight_chunks(const bnn_conv_shape *s, size_t m, size_t M, size_t *chunk_rows)
{
    const size_t rounds = (M * s->oh * s->ow + WG_ROWS - 1) / WG_ROWS;
    size_t want = (WG_BLOCKS + weight_tiles(s) - 1) / weight_tiles(s);
    if (want > rounds) want = rounds;
    if (want < 1) want = 1;
    *chunk_rows = (rounds + want - 1) / want * WG_ROWS;
    return (m * s->oh * s->ow + *chunk_rows - 1) / *chunk_rows;
}

size_t bnn_cuda_conv_weight_part_len(const bnn_conv_shape *s, size_t M)
{
    size_t chunk_rows;
    return weight_chunks(s, M, M, &chunk_rows) * s->k * s->k * s->c * s->o;
}

/* The launch of one weight-gradient product (its arguments, to pass them through the
 * template dispatch). */
struct weight_launch {
    float *part;
    const float *dout, *in;
    conv_dims d;
    int rows, chunk_rows, first;
    size_t chunks;
};

template <int BN, int TM>
static void launch_weight(const struct cuda_backend *b, const weight_launch &w)
{
    constexpr int BM = conv_tiling<BN, TM>::BM;
    const int kkc = w.d.k * w.d.k * w.d.c;
    const dim3 grid((unsigned)w.chunks, (unsigned)((kkc + BM - 1) / BM),
                    (unsigned)((w.d.o + BN - 1) / BN));
    if (vector_taps(w.d, w.in))
        conv_weight_grad_kernel<BN, TM, true><<<grid, CONV_THREADS, 0, b->stream>>>(
            w.part, w.dout, w.in, w.d, w.rows, w.chunk_rows, w.first);
    else
        conv_weight_grad_kernel<BN, TM, false><<<grid, CONV_THREADS, 0, b->stream>>>(
            w.part, w.dout, w.in, w.d, w.rows, w.chunk_rows, w.first);
}

template <int BN> static void launch_weight_tm(const struct cuda_backend *b, const weight_launch &w)
{
    switch (weight_tm((size_t)(w.d.k * w.d.k * w.d.c), BN)) {
    case 2: launch_weight<BN, 2>(b, w); break;
    case 4: launch_weight<BN, 4>(b, w); break;
    default: launch_weight<BN, 8>(b, w); break;
    }
}

bnn_status bnn_cuda_conv_weight_grad(struct cuda_backend *b, const bnn_conv_shape *s,
                                     float *part, const float *dout, const float *in, size_t m,
                                     size_t M, int first)
{
    weight_launch w = {part, dout, in, dims_of(s), (int)(m * s->oh * s->ow), 0, first, 0};
    size_t chunk_rows;
    w.chunks = weight_chunks(s, m, M, &chunk_rows);
    w.chunk_rows = (int)chunk_rows;
    switch (tile_columns(s->o)) {
    case 16: launch_weight_tm<16>(b, w); break;
    case 32: launch_weight_tm<32>(b, w); break;
    default: launch_weight_tm<64>(b, w); break;
    }
    return bnn_cuda_launched("convolution weight-gradient");
}

bnn_status bnn_cuda_conv_weight_total(struct cuda_backend *b, const bnn_conv_shape *s, float *dw,
                                      const float *part, size_t m_first, size_t M)
{
    size_t chunk_rows;
    const size_t chunks = weight_chunks(s, m_first, M, &chunk_rows);
    const size_t len = s->k * s->k * s->c * s->o;
    conv_weight_total_kernel<<<bnn_cuda_blocks(len), BNN_CUDA_THREADS, 0, b->stream>>>(
        dw, part, chunks, len);
    return bnn_cuda_launched("convolution weight-gradient sum");
}
