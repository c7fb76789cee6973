/* The per-element and per-row arithmetic of the CUDA backend's kernels, written once for the
 * device and the host: under nvcc the functions are __host__ __device__, under a C compiler plain
 * static inline C, so that a CPU test (tests/cuda/test_device_math.c) checks them against the CPU
 * backend's own kernels (activation.c, likelihood_kernels.inc, rng.c, hmc.c) without a GPU.
 *
 * Conventions are those of the CPU code: gradients are of the log-likelihood (ascent
 * direction); log-scale arithmetic of the heads in double; momenta p ~ N(0, M) with
 * M = diag(1 / inv_mass), positions move by θ += ε · M⁻¹ · p. The convolutional layers' index
 * math (im2col and its gather inverse, pooling windows) and FRN's element math follow
 * nn/layers/layers.h: NHWC images, HWIO weights, TensorFlow "same" padding (pad_top/pad_left). */
#ifndef BNN_BACKEND_CUDA_DEVICE_MATH_H
#define BNN_BACKEND_CUDA_DEVICE_MATH_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include <Random123/philox.h>

#ifdef __cplusplus
extern "C" {
#endif
#include "model/likelihood.h"
#include "nn/layers/layers.h"
#include "nn/mlp.h"
#ifdef __cplusplus
}
#endif

#ifdef __CUDACC__
#define BNN_HD __host__ __device__ static inline
#else
#define BNN_HD static inline
#endif

/* act(z) for one number (bnn_activate_f32). */
BNN_HD float bnn_dm_activate(bnn_activation act, float z)
{
    switch (act) {
    case BNN_ACT_TANH: return tanhf(z);
    case BNN_ACT_RELU: return z > 0 ? z : 0.0f;
    case BNN_ACT_SWISH: return z / (1 + expf(-z));
    default: return erff(z); /* BNN_ACT_ERF */
    }
}

/* g · act'(z) for one number, a = act(z) (bnn_activate_backward_f32). */
BNN_HD float bnn_dm_activate_backward(bnn_activation act, float g, float z, float a)
{
    switch (act) {
    case BNN_ACT_TANH: return g * (1 - a * a);
    case BNN_ACT_RELU: return z > 0 ? g : 0.0f;
    case BNN_ACT_SWISH: {
        float s = 1 / (1 + expf(-z));
        return g * (s + z * s * (1 - s));
    }
    default: return g * (1.1283791670955125738961589031215452f * expf(-z * z));
    }
}

/* log p(y | f) for one row f (k) and, if g is not NULL, g (k) = d log p / d f (written): the
 * row loop body of bnn_likelihood_block_f32. */
BNN_HD double bnn_dm_head_row(bnn_likelihood lik, double noise_sd, const float *f, double y,
                              size_t k, float *g)
{
    if (lik == BNN_LIK_CATEGORICAL) {
        double top = f[0], s = 0;
        for (size_t j = 1; j < k; j++) top = f[j] > top ? f[j] : top;
        for (size_t j = 0; j < k; j++) {
            double e = exp((double)f[j] - top);
            s += e;
            if (g) g[j] = (float)e;
        }
        double lse = top + log(s), inv_s = 1 / s;
        size_t label = (size_t)y;
        if (g)
            for (size_t j = 0; j < k; j++) g[j] = (float)((j == label) - (double)g[j] * inv_s);
        return (double)f[label] - lse;
    }
    if (lik == BNN_LIK_GAUSSIAN) {
        const double inv_var = 1 / (noise_sd * noise_sd);
        const double log_norm = -log(noise_sd) - 0.91893853320467274178032973640562;
        double resid = y - (double)f[0];
        if (g) g[0] = (float)(resid * inv_var);
        return -0.5 * resid * resid * inv_var + log_norm;
    }
    double fr = (double)f[0]; /* Bernoulli with logit f */
    double softplus = (fr > 0 ? fr : 0) + log1p(exp(-fabs(fr)));
    if (g) g[0] = (float)(y - 1 / (1 + exp(-fr)));
    return y * fr - softplus;
}

/* Block `counter` of the Philox stream (seed, stream): the words bnn_rng_block draws when the
 * stream's counter is `counter`. */
BNN_HD void bnn_dm_philox_block(uint64_t seed, uint32_t stream, uint64_t counter, uint32_t out[4])
{
    philox4x32_ctr_t ctr = {{(uint32_t)counter, (uint32_t)(counter >> 32), (uint32_t)(seed >> 32),
                             0x626e6e6du /* "bnnm" */}};
    philox4x32_key_t key = {{(uint32_t)seed, stream}};
    philox4x32_ctr_t v = philox4x32(ctr, key);
    for (int i = 0; i < 4; i++) out[i] = v.v[i];
}

/* 53 bits from two words, mapped to (0, 1): (k + 0.5) / 2^53 (as rng.c). */
BNN_HD double bnn_dm_open_unit(uint32_t hi, uint32_t lo)
{
    uint64_t k = ((uint64_t)hi << 21) ^ (lo >> 11);
    return ((double)k + 0.5) * 0x1p-53;
}

/* Standard normal number i of a bnn_rng_normals call that starts at stream counter `counter0`:
 * normals 2j and 2j+1 come from block counter0 + j by Box-Muller (cos, then sin). */
BNN_HD double bnn_dm_normal(uint64_t seed, uint32_t stream, uint64_t counter0, size_t i)
{
    const double two_pi = 6.283185307179586476925286766559;
    uint32_t w[4];
    bnn_dm_philox_block(seed, stream, counter0 + i / 2, w);
    double u1 = bnn_dm_open_unit(w[0], w[1]), u2 = bnn_dm_open_unit(w[2], w[3]);
    double radius = sqrt(-2.0 * log(u1));
    return i % 2 ? radius * sin(two_pi * u2) : radius * cos(two_pi * u2);
}

/* Momentum coordinate from a standard normal z: p = z / √(M⁻¹) (hmc.c, draw_momentum). */
BNN_HD double bnn_dm_momentum(double z, double inv_mass) { return z / sqrt(inv_mass); }

/* One coordinate's kinetic-energy term p² M⁻¹ (the sum is halved once, as hmc.c does). */
BNN_HD double bnn_dm_kinetic_term(double p, double inv_mass) { return p * p * inv_mass; }

/* Leapfrog half or full momentum step: p + scale · ∇ logp. */
BNN_HD double bnn_dm_momentum_step(double p, double scale, double grad) { return p + scale * grad; }

/* Leapfrog position step: θ + ε · M⁻¹ · p. */
BNN_HD double bnn_dm_position_step(double theta, double eps, double inv_mass, double p)
{
    return theta + eps * inv_mass * p;
}

/* Gradient of the tempered log posterior from the log-likelihood gradient (posterior.c). */
BNN_HD double bnn_dm_posterior_grad(double lik_grad, double theta, double prior_var,
                                    double inv_temperature)
{
    return (lik_grad - theta / prior_var) * inv_temperature;
}

/* ---- convolutional layers (the CUDA CNN kernels, cnn.cu) ------------------------------ */

/* Entry i of the im2col matrix col (n·oh·ow, k·k·c) of the images in (n, h, w, c): row
 * (img, oy, ox), column (ky, kx, ch) holds in[img, oy·stride + ky - pad_top,
 * ox·stride + kx - pad_left, ch], or 0 in the padding (layers_kernels.inc, im2col). */
BNN_HD float bnn_dm_im2col_entry(const float *in, const bnn_conv_shape *s, size_t i)
{
    const size_t kc = s->k * s->c, kkc = s->k * kc, positions = s->oh * s->ow;
    const size_t row = i / kkc, j = i % kkc;
    const size_t img = row / positions, oy = row % positions / s->ow, ox = row % s->ow;
    const size_t ky = j / kc, kx = j % kc / s->c, ch = j % s->c;
    const long y = (long)(oy * s->stride + ky) - (long)s->pad_top;
    const long x = (long)(ox * s->stride + kx) - (long)s->pad_left;
    if (y < 0 || x < 0 || y >= (long)s->h || x >= (long)s->w) return 0.0f;
    return in[((img * s->h + (size_t)y) * s->w + (size_t)x) * s->c + ch];
}

/* The inverse of im2col as a gather: for input element i of (n, h, w, c), the sum of the
 * entries of dcol (n·oh·ow, k·k·c) that im2col copied it to, taken in the order ky, then kx
 * (each input element sums its own contributions: no atomics, a fixed order). */
BNN_HD float bnn_dm_col2im_entry(const float *dcol, const bnn_conv_shape *s, size_t i)
{
    const size_t kc = s->k * s->c, kkc = s->k * kc;
    const size_t ch = i % s->c, x = i / s->c % s->w, y = i / s->c / s->w % s->h;
    const size_t img = i / s->c / s->w / s->h;
    float acc = 0.0f;
    for (size_t ky = 0; ky < s->k; ky++) {
        const long ny = (long)(y + s->pad_top) - (long)ky; /* = oy · stride */
        if (ny < 0 || ny % (long)s->stride) continue;
        const size_t oy = (size_t)ny / s->stride;
        if (oy >= s->oh) continue;
        for (size_t kx = 0; kx < s->k; kx++) {
            const long nx = (long)(x + s->pad_left) - (long)kx;
            if (nx < 0 || nx % (long)s->stride) continue;
            const size_t ox = (size_t)nx / s->stride;
            if (ox >= s->ow) continue;
            acc += dcol[((img * s->oh + oy) * s->ow + ox) * kkc + ky * kc + kx * s->c + ch];
        }
    }
    return acc;
}

/* Position in in (n, h, w, c) of the first pixel of the window of output element o of
 * (n, oh, ow, c) of a pooling layer. */
BNN_HD size_t bnn_dm_pool_origin(const bnn_pool_shape *p, size_t o)
{
    const size_t ch = o % p->c, ox = o / p->c % p->ow, oy = o / p->c / p->ow % p->oh;
    const size_t img = o / p->c / p->ow / p->oh;
    return ((img * p->h + oy * p->stride) * p->w + ox * p->stride) * p->c + ch;
}

/* Position in in (n, h, w, c) of the first maximum of output element o's window: the pixels
 * in the order ky, then kx, a later one winning only if larger (the CPU's tie rule). */
BNN_HD size_t bnn_dm_maxpool_argmax(const float *in, const bnn_pool_shape *p, size_t o)
{
    const size_t origin = bnn_dm_pool_origin(p, o);
    size_t best = origin;
    for (size_t ky = 0; ky < p->k; ky++)
        for (size_t kx = 0; kx < p->k; kx++) {
            const size_t at = origin + (ky * p->w + kx) * p->c;
            if (in[at] > in[best]) best = at;
        }
    return best;
}

/* Mean of output element o's window: the sum in the order ky, then kx, times 1/k² (as the
 * CPU's bnn_avgpool_forward). */
BNN_HD float bnn_dm_avgpool_entry(const float *in, const bnn_pool_shape *p, size_t o)
{
    const size_t origin = bnn_dm_pool_origin(p, o);
    float acc = 0.0f;
    for (size_t ky = 0; ky < p->k; ky++)
        for (size_t kx = 0; kx < p->k; kx++) acc += in[origin + (ky * p->w + kx) * p->c];
    return acc * (1.0f / (float)(p->k * p->k));
}

/* FRN's 1/√(ν² + ε) from the sum of squares over the hw positions (in double, as the CPU). */
BNN_HD float bnn_dm_frn_scale(double sum_sq, size_t hw)
{
    return (float)(1 / sqrt(sum_sq / (double)hw + BNN_FRN_EPS));
}

/* FRN with TLU for one number: max(γ · x · r + β, τ), r = bnn_dm_frn_scale. */
BNN_HD float bnn_dm_frn_forward(float x, float r, float gamma, float beta, float tau)
{
    const float y = gamma * (x * r) + beta;
    return y > tau ? y : tau;
}

/* The part of dout = g that reaches y = γ x̂ + β through max(y, τ): all of it where y > τ,
 * none where y < τ, half at a tie (and for NaN), as bnn_frn_backward; τ gets g minus it. */
BNN_HD float bnn_dm_frn_dy(float g, float y, float tau)
{
    if (y > tau) return g;
    if (y < tau) return 0.0f;
    return g * 0.5f;
}

#endif
