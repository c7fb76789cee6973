/* The fused top of an MLP (docs/gpu.md): the last hidden layer's bias and activation, the
 * output layer, the likelihood head and the backward pass down to the last hidden layer's
 * pre-activation, with the top layers' parameter gradients summed in a fixed order, in one
 * kernel over the rows of each chain, where the unfused path (backend.cu's forward, head and
 * backward) takes nine kernels and products and about eight passes over the activations. */
#include "backend/cuda/internal.cuh"

#include <stdlib.h>
#include <string.h>

#include "backend/cuda/device_math.h"

/* Rows of one block of fused_top_kernel (fixed, so that its sums have the same order on every
 * GPU), the shared floats it may use, and the largest top it takes: each thread keeps in
 * registers the sums of at most FUSE_PER_THREAD of the H·O + O + H gradient entries it sums
 * (784-100-10: 1110 entries, 5 a thread). */
#define FUSE_BLOCK_ROWS 256
#define FUSE_SMEM_FLOATS 11264
#define FUSE_PER_THREAD 16

/* The last hidden layer's bias and activation, the output layer, the likelihood head and, if
 * g is not NULL, the backward pass down to the last hidden layer's pre-activation, in one pass
 * over memory (what forward + head + backward do in nine kernels and products for the top
 * two layers). Block (x, c): rows x·FUSE_BLOCK_ROWS .. of chain c, in tiles of `tile` rows
 * staged in shared memory beside w2 transposed.
 *   zin (rows, K·H): the last hidden layer's product, bias not yet added (chain c's columns
 *     c·H .. (c+1)·H); theta (K, P): b1 = theta + c·P + b_off1 (H), w2 = ... + w_off2 (H, O),
 *     b2 = ... + b_off2 (O).
 *   ll_rows[c·rows + r] = log p(y_r | f_rc).
 *   g (rows, K·H) = d ll / d (pre-activation) of the last hidden layer; part (K, gridDim.x,
 *     H·O + O + H): this block's sums over its rows of d ll / d w2 (H, O row-major), d ll / d b2
 *     and d ll / d b1, each in row order (fused_top_reduce_kernel adds the blocks in order). */
__global__ void __launch_bounds__(BNN_CUDA_THREADS, 4) /* 64 registers: 4 blocks an SM */
    fused_top_kernel(const float *zin, const double *y, size_t rows, size_t K, size_t H,
                     size_t O, size_t P, size_t b_off1, size_t w_off2, size_t b_off2,
                     const float *theta, bnn_activation act, int keep_z, bnn_likelihood lik,
                     double noise_sd, size_t tile, double *ll_rows, float *g, float *part)
{
    __shared__ float s_mem[FUSE_SMEM_FLOATS];
    const size_t c = blockIdx.y, tid = threadIdx.x, nthr = blockDim.x, ld = H + 1;
    const float *b1 = theta + c * P + b_off1, *w2 = theta + c * P + w_off2;
    const float *b2 = theta + c * P + b_off2;
    /* gradient entries summed here: d w2 (H, O), then d b2 (O), then d b1 (H) */
    const size_t n_w = H * O, n_b1 = n_w + O, n_entries = n_b1 + H;
    float *s_w = s_mem;                                         /* (O, H): w2ᵀ */
    float *s_h = s_w + n_w, *s_z = keep_z ? s_h + tile * ld : s_h; /* (tile, H+1): act(z), z */
    float *s_d = s_h + (keep_z ? 2 : 1) * tile * ld; /* (tile, H+1): d ll / d z */
    float *s_f = s_d + tile * ld, *s_g = s_f + tile * O; /* (tile, O): logits, d ll / d logits */
    for (size_t i = tid; i < n_w; i += nthr) s_w[i % O * H + i / O] = w2[i];
    float acc[FUSE_PER_THREAD];
    for (int t = 0; t < FUSE_PER_THREAD; t++) acc[t] = 0;
    __syncthreads();
    const size_t r_begin = (size_t)blockIdx.x * FUSE_BLOCK_ROWS;
    const size_t r_end = r_begin + FUSE_BLOCK_ROWS < rows ? r_begin + FUSE_BLOCK_ROWS : rows;
    for (size_t r0 = r_begin; r0 < r_end; r0 += tile) {
        const size_t nt = r0 + tile < r_end ? tile : r_end - r0;
        for (size_t i = tid; i < nt * H; i += nthr) { /* bias and activation */
            const size_t rr = i / H, j = i % H;
            const float v = zin[(r0 + rr) * K * H + c * H + j] + b1[j];
            s_z[rr * ld + j] = v; /* s_h itself when the derivative needs act(z) only */
            s_h[rr * ld + j] = bnn_dm_activate(act, v);
        }
        __syncthreads();
        for (size_t i = tid; i < nt * O; i += nthr) { /* the output layer */
            const size_t rr = i / O, o = i % O;
            float f = 0;
            for (size_t j = 0; j < H; j++) f += s_h[rr * ld + j] * s_w[o * H + j];
            s_f[rr * O + o] = f + b2[o];
        }
        __syncthreads();
        if (tid < nt) /* the likelihood head, a row per thread */
            ll_rows[c * rows + r0 + tid] = bnn_dm_head_row(lik, noise_sd, s_f + tid * O,
                                                           y[r0 + tid], O, g ? s_g + tid * O
                                                                             : NULL);
        __syncthreads();
        if (g) {
            for (size_t i = tid; i < nt * H; i += nthr) { /* back to the pre-activation */
                const size_t rr = i / H, j = i % H;
                float dh = 0;
                for (size_t o = 0; o < O; o++) dh += s_g[rr * O + o] * s_w[o * H + j];
                const float dz =
                    bnn_dm_activate_backward(act, dh, s_z[rr * ld + j], s_h[rr * ld + j]);
                g[(r0 + rr) * K * H + c * H + j] = dz;
                s_d[rr * ld + j] = dz;
            }
            __syncthreads();
#pragma unroll
            for (int t = 0; t < FUSE_PER_THREAD; t++) { /* the entries' sums: rows in order */
                const size_t e = tid + (size_t)t * nthr;
                if (e >= n_entries) break;
                if (e < n_w) {
                    const size_t j = e / O, o = e % O;
                    for (size_t rr = 0; rr < nt; rr++)
                        acc[t] += s_h[rr * ld + j] * s_g[rr * O + o];
                } else if (e < n_b1) {
                    for (size_t rr = 0; rr < nt; rr++) acc[t] += s_g[rr * O + e - n_w];
                } else {
                    for (size_t rr = 0; rr < nt; rr++) acc[t] += s_d[rr * ld + e - n_b1];
                }
            }
        }
        __syncthreads(); /* the tile's shared memory is reused */
    }
    if (!g) return;
    float *out = part + (c * gridDim.x + blockIdx.x) * n_entries;
#pragma unroll
    for (int t = 0; t < FUSE_PER_THREAD; t++) {
        const size_t e = tid + (size_t)t * nthr;
        if (e < n_entries) out[e] = acc[t];
    }
}

/* Adds fused_top_kernel's block sums in order into the gradients of chain c (at grad + c·P):
 * entries e < H·O to w_off2 + e, the next O to b_off2, the last H to b_off1.
 * n = K·(H·O + O + H). */
__global__ void fused_top_reduce_kernel(const float *part, size_t n_blocks, size_t n, size_t H,
                                        size_t O, size_t P, size_t w_off2, size_t b_off2,
                                        size_t b_off1, float *grad)
{
    size_t t = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= n) return;
    const size_t n_w = H * O, n_b1 = n_w + O, per = n_b1 + H, c = t / per, e = t % per;
    double s = 0;
    for (size_t k = 0; k < n_blocks; k++) s += part[(c * n_blocks + k) * per + e];
    const size_t at = e < n_w ? w_off2 + e : e < n_b1 ? b_off2 + e - n_w : b_off1 + e - n_b1;
    grad[c * P + at] = (float)s;
}

bnn_status bnn_cuda_fused_top(struct cuda_backend *b, const float *zin, size_t rows,
                              int want_grad)
{
    const bnn_mlp *m = b->mlp;
    const size_t L = m->n_layers, H = m->width[L - 1], O = m->width[L], K = b->n_chains;
    const size_t P = b->net->n_params, n_blocks = (rows + FUSE_BLOCK_ROWS - 1) / FUSE_BLOCK_ROWS;
    if (n_blocks > 0)
        fused_top_kernel<<<dim3((unsigned)n_blocks, (unsigned)K), BNN_CUDA_THREADS, 0,
                           b->stream>>>(zin, b->data->y_train, rows, K, H, O, P,
                                        m->b_offset[L - 2], m->w_offset[L - 1],
                                        m->b_offset[L - 1], b->theta_f, m->act,
                                        bnn_cuda_needs_z(m->act), m->lik, m->noise_sd,
                                        b->fuse_tile, b->ll_rows, want_grad ? b->g0 : NULL,
                                        b->fuse_part);
    if (want_grad) {
        const size_t n = K * (H * O + O + H);
        fused_top_reduce_kernel<<<bnn_cuda_blocks(n), BNN_CUDA_THREADS, 0, b->stream>>>(
            b->fuse_part, n_blocks, n, H, O, P, m->w_offset[L - 1], m->b_offset[L - 1],
            m->b_offset[L - 2], b->grad_f);
    }
    return cudaGetLastError() == cudaSuccess
               ? BNN_OK
               : BNN_ERROR(BNN_EIO, "CUDA: the fused output-layer kernels could not be launched");
}

/* (BNNMC_CUDA_FUSE=0 keeps the unfused kernels and products, to compare against.) */
size_t bnn_cuda_fuse_tile(const struct cuda_backend *b)
{
    const bnn_mlp *m = b->mlp;
    const char *env = getenv("BNNMC_CUDA_FUSE");
    if (m->n_layers < 2 || (env && !strcmp(env, "0"))) return 0;
    const size_t H = m->width[m->n_layers - 1], O = m->width[m->n_layers];
    if (H * O + O + H > (size_t)FUSE_PER_THREAD * BNN_CUDA_THREADS) return 0;
    const size_t per_row = (bnn_cuda_needs_z(m->act) ? 3 : 2) * (H + 1) + 2 * O;
    size_t tile = (FUSE_SMEM_FLOATS - H * O) / per_row; /* beside w2ᵀ */
    if (tile > BNN_CUDA_THREADS) tile = BNN_CUDA_THREADS; /* the head: a row per thread */
    if (tile < 4) return 0;
    const size_t n_tiles = (FUSE_BLOCK_ROWS + tile - 1) / tile; /* tiles of equal size */
    return (FUSE_BLOCK_ROWS + n_tiles - 1) / n_tiles;
}

size_t bnn_cuda_fuse_part_len(const struct cuda_backend *b)
{
    const bnn_mlp *m = b->mlp;
    const size_t H = m->width[m->n_layers - 1], O = m->width[m->n_layers];
    const size_t n_blocks = (b->data->n_train + FUSE_BLOCK_ROWS - 1) / FUSE_BLOCK_ROWS;
    return b->n_chains * n_blocks * (H * O + O + H);
}
