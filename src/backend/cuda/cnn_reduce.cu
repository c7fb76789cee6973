/* Reductions over positions and rows of the CUDA CNN backend (cnn.cu): FRN with TLU (the sums
 * over an image's positions of x², dy·x̂, dy, g − dy; fused with the activation after it where
 * cnn.cu finds that only it reads the FRN output) and the bias gradients (sums over rows). All
 * in double by fixed trees and in order, no atomics: the same inputs give the same bits. */
#include "backend/cuda/cnn_reduce.cuh"

#include "backend/cuda/device_math.h"

/* Reductions over positions (FRN) or rows (bias gradients): a block of BNN_CUDA_THREADS is CH
 * channels (threadIdx.x, consecutive in memory) × LANES lanes (threadIdx.y), CH = 16 for at
 * most 16 channels (no thread idle), else 32; each lane sums its positions or rows in order,
 * then a fixed tree over the lanes. */
#define TILE_CH(c) ((c) <= 16 ? 16 : 32)
template <int CH> struct lanes {
    static constexpr int n = BNN_CUDA_THREADS / CH;
};
#define BIAS_CHUNK 1024 /* rows per block of the bias gradients' first-level sums */

/* ---- kernels -------------------------------------------------------------------------- */

/* s[ty][tx] summed over ty by a fixed tree into s[0][tx]; all threads of the block call it. */
template <int CH> __device__ void cnn_lane_tree(double (*s)[CH])
{
    __syncthreads();
    for (unsigned w = lanes<CH>::n / 2; w > 0; w /= 2) {
        if (threadIdx.y < w) s[threadIdx.y][threadIdx.x] += s[threadIdx.y + w][threadIdx.x];
        __syncthreads();
    }
}

/* First level of the bias gradient db (o) += Σ over rows of dout (rows, o): block (chunk
 * blockIdx.x, outputs blockIdx.y·CH + threadIdx.x) sums its BIAS_CHUNK rows into part
 * (chunks, o), in double. Grid (chunks, ⌈o / CH⌉), block (CH, lanes). */
template <int CH>
__global__ void cnn_bias_partial_kernel(double *part, const float *dout, size_t rows, size_t o)
{
    __shared__ double s[lanes<CH>::n][CH];
    const size_t j = (size_t)blockIdx.y * CH + threadIdx.x;
    const size_t r0 = (size_t)blockIdx.x * BIAS_CHUNK;
    const size_t r1 = rows - r0 < BIAS_CHUNK ? rows : r0 + BIAS_CHUNK;
    double acc = 0;
    if (j < o)
        for (size_t r = r0 + threadIdx.y; r < r1; r += lanes<CH>::n) acc += dout[r * o + j];
    s[threadIdx.y][threadIdx.x] = acc;
    cnn_lane_tree(s);
    if (threadIdx.y == 0 && j < o) part[blockIdx.x * o + j] = s[0][threadIdx.x];
}

/* Second level: db[j] += the chunks' sums in order; one output per thread. */
__global__ void cnn_bias_total_kernel(float *db, const double *part, size_t chunks, size_t o)
{
    size_t j = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= o) return;
    double acc = 0;
    for (size_t k = 0; k < chunks; k++) acc += part[k * o + j];
    db[j] += (float)acc;
}

/* Block (image blockIdx.x, channels blockIdx.y·CH + threadIdx.x) of x (n, hw, c): the sum
 * over positions of x² into r[threadIdx.x] = 1/√(ν² + ε). All threads call it. */
template <int CH>
__device__ void cnn_frn_block_scale(const float *x, size_t hw, size_t c, size_t ch, bool on,
                                    double (*s)[CH], float *r)
{
    double acc = 0;
    if (on)
        for (size_t q = threadIdx.y; q < hw; q += lanes<CH>::n) {
            const float v = x[q * c + ch];
            acc += (double)v * v;
        }
    s[threadIdx.y][threadIdx.x] = acc;
    cnn_lane_tree(s);
    if (threadIdx.y == 0) r[threadIdx.x] = on ? bnn_dm_frn_scale(s[0][threadIdx.x], hw) : 0.0f;
    __syncthreads();
}

/* FRN with TLU forward, in, out (n, hw, c), then (fuse: an activation node's output, the FRN
 * output written nowhere) the activation act; grid (n, ⌈c / CH⌉), block (CH, lanes). */
template <int CH>
__global__ void cnn_frn_forward_kernel(float *out, const float *in, const float *gamma,
                                       const float *beta, const float *tau, size_t hw, size_t c,
                                       int fuse, bnn_activation act)
{
    __shared__ double s[lanes<CH>::n][CH];
    __shared__ float r[CH];
    const size_t ch = (size_t)blockIdx.y * CH + threadIdx.x, at = (size_t)blockIdx.x * hw * c;
    const bool on = ch < c;
    cnn_frn_block_scale(in + at, hw, c, ch, on, s, r);
    if (!on) return;
    const float rr = r[threadIdx.x], ga = gamma[ch], be = beta[ch], ta = tau[ch];
    for (size_t q = threadIdx.y; q < hw; q += lanes<CH>::n) {
        const float y = bnn_dm_frn_forward(in[at + q * c + ch], rr, ga, be, ta);
        out[at + q * c + ch] = fuse ? bnn_dm_activate(act, y) : y;
    }
}

/* The gradient reaching the FRN output y from the gradient g of its activation's output
 * (fused: the FRN output and the activation recomputed from x̂, as the activation node's
 * backward computes it from the stored ones), or g itself. */
__device__ float cnn_frn_out_grad(float g, float xhat, float ga, float be, float ta, int fuse,
                                  bnn_activation act)
{
    if (!fuse) return g;
    const float y = bnn_dm_frn_forward(xhat, 1.0f, ga, be, ta);
    return 0.0f + bnn_dm_activate_backward(act, g, y, bnn_dm_activate(act, y));
}

/* FRN backward (bnn_frn_backward): per (image, channel) the sums over positions of
 * dy · x̂, dy and g - dy (double) into part (3, n, c), and, unless din is NULL,
 * din += r · (dy · γ - x̂ · s) with s = Σ dy · x̂ · γ / hw. Grid and block as the forward. */
template <int CH>
__global__ void cnn_frn_backward_kernel(float *din, double *part, const float *dout,
                                        const float *in, const float *gamma, const float *beta,
                                        const float *tau, size_t n, size_t hw, size_t c,
                                        int fuse, bnn_activation act)
{
    __shared__ double s[3][lanes<CH>::n][CH];
    __shared__ float r[CH], sx[CH];
    const size_t img = blockIdx.x, ch = (size_t)blockIdx.y * CH + threadIdx.x;
    const size_t at = img * hw * c;
    const bool on = ch < c;
    cnn_frn_block_scale(in + at, hw, c, ch, on, s[0], r);
    const float rr = r[threadIdx.x];
    const float ga = on ? gamma[ch] : 0.0f, be = on ? beta[ch] : 0.0f, ta = on ? tau[ch] : 0.0f;
    double sg = 0, sb = 0, st = 0;
    if (on)
        for (size_t q = threadIdx.y; q < hw; q += lanes<CH>::n) {
            const float xhat = in[at + q * c + ch] * rr;
            const float g = cnn_frn_out_grad(dout[at + q * c + ch], xhat, ga, be, ta, fuse, act);
            const float dy = bnn_dm_frn_dy(g, ga * xhat + be, ta);
            st += g - dy;
            sg += (double)dy * xhat;
            sb += dy;
        }
    s[0][threadIdx.y][threadIdx.x] = sg;
    s[1][threadIdx.y][threadIdx.x] = sb;
    s[2][threadIdx.y][threadIdx.x] = st;
    cnn_lane_tree(s[0]);
    cnn_lane_tree(s[1]);
    cnn_lane_tree(s[2]);
    if (threadIdx.y == 0 && on) {
        part[img * c + ch] = s[0][0][threadIdx.x];
        part[(n + img) * c + ch] = s[1][0][threadIdx.x];
        part[(2 * n + img) * c + ch] = s[2][0][threadIdx.x];
        sx[threadIdx.x] = (float)(s[0][0][threadIdx.x] * ga / (double)hw);
    }
    __syncthreads();
    if (!on || !din) return;
    const float ss = sx[threadIdx.x];
    for (size_t q = threadIdx.y; q < hw; q += lanes<CH>::n) {
        const float xhat = in[at + q * c + ch] * rr;
        const float g = cnn_frn_out_grad(dout[at + q * c + ch], xhat, ga, be, ta, fuse, act);
        const float dy = bnn_dm_frn_dy(g, ga * xhat + be, ta);
        din[at + q * c + ch] += rr * (dy * ga - xhat * ss);
    }
}

/* dgamma, dbeta, dtau (c) += part (3, n, c) summed over the n images in order; one channel per
 * thread. */
__global__ void cnn_frn_params_kernel(float *dgamma, float *dbeta, float *dtau, const double *part,
                                      size_t n, size_t c)
{
    size_t ch = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (ch >= c) return;
    double sg = 0, sb = 0, st = 0;
    for (size_t i = 0; i < n; i++) {
        sg += part[i * c + ch];
        sb += part[(n + i) * c + ch];
        st += part[(2 * n + i) * c + ch];
    }
    dgamma[ch] += (float)sg;
    dbeta[ch] += (float)sb;
    dtau[ch] += (float)st;
}

/* ---- host side ------------------------------------------------------------------------- */

static size_t bias_chunks(size_t rows) { return (rows + BIAS_CHUNK - 1) / BIAS_CHUNK; }

size_t bnn_cuda_bias_part_len(size_t rows, size_t o) { return bias_chunks(rows) * o; }

/* A block of CH channels × lanes over (grid.x) images or chunks and ⌈c / CH⌉ channel groups. */
static void reduce_shape(size_t c, size_t n, dim3 *grid, dim3 *block)
{
    const unsigned ch = TILE_CH(c);
    *grid = dim3((unsigned)n, (unsigned)((c + ch - 1) / ch));
    *block = dim3(ch, BNN_CUDA_THREADS / ch);
}

bnn_status bnn_cuda_bias_grad(struct cuda_backend *b, float *db, double *part, const float *dout,
                              size_t rows, size_t o)
{
    dim3 grid, block;
    reduce_shape(o, bias_chunks(rows), &grid, &block);
    if (block.x == 16)
        cnn_bias_partial_kernel<16><<<grid, block, 0, b->stream>>>(part, dout, rows, o);
    else
        cnn_bias_partial_kernel<32><<<grid, block, 0, b->stream>>>(part, dout, rows, o);
    cnn_bias_total_kernel<<<bnn_cuda_blocks(o), BNN_CUDA_THREADS, 0, b->stream>>>(
        db, part, bias_chunks(rows), o);
    return bnn_cuda_launched("bias gradient");
}

bnn_status bnn_cuda_frn_forward(struct cuda_backend *b, const bnn_cnn_node *nd, float *out,
                                const float *in, size_t m, int fuse, bnn_activation act)
{
    const float *g = b->theta_f + nd->p[0], *be = b->theta_f + nd->p[1];
    const float *ta = b->theta_f + nd->p[2];
    dim3 grid, block;
    reduce_shape(nd->c, m, &grid, &block);
    if (block.x == 16)
        cnn_frn_forward_kernel<16><<<grid, block, 0, b->stream>>>(out, in, g, be, ta, nd->hw,
                                                                  nd->c, fuse, act);
    else
        cnn_frn_forward_kernel<32><<<grid, block, 0, b->stream>>>(out, in, g, be, ta, nd->hw,
                                                                  nd->c, fuse, act);
    return bnn_cuda_launched("FRN");
}

bnn_status bnn_cuda_frn_backward(struct cuda_backend *b, const bnn_cnn_node *nd, float *din,
                                 double *part, const float *dout, const float *in, size_t m,
                                 int fuse, bnn_activation act)
{
    const float *g = b->theta_f + nd->p[0], *be = b->theta_f + nd->p[1];
    const float *ta = b->theta_f + nd->p[2];
    float *gr = b->grad_f;
    dim3 grid, block;
    reduce_shape(nd->c, m, &grid, &block);
    if (block.x == 16)
        cnn_frn_backward_kernel<16><<<grid, block, 0, b->stream>>>(din, part, dout, in, g, be, ta,
                                                                   m, nd->hw, nd->c, fuse, act);
    else
        cnn_frn_backward_kernel<32><<<grid, block, 0, b->stream>>>(din, part, dout, in, g, be, ta,
                                                                   m, nd->hw, nd->c, fuse, act);
    cnn_frn_params_kernel<<<bnn_cuda_blocks(nd->c), BNN_CUDA_THREADS, 0, b->stream>>>(
        gr + nd->p[0], gr + nd->p[1], gr + nd->p[2], part, m, nd->c);
    return bnn_cuda_launched("FRN backward");
}
