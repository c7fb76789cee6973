/* Philox4x32-10 streams and the distributions the samplers need. */
#include "core/rng.h"

#include <math.h>

#include <Random123/philox.h>

void bnn_rng_init(bnn_rng *r, uint64_t seed, uint32_t stream)
{
    r->seed = seed;
    r->stream = stream;
    r->counter = 0;
}

void bnn_rng_block(bnn_rng *r, uint32_t out[4])
{
    philox4x32_ctr_t ctr = {{(uint32_t)r->counter, (uint32_t)(r->counter >> 32),
                             (uint32_t)(r->seed >> 32), 0x626e6e6du /* "bnnm" */}};
    philox4x32_key_t key = {{(uint32_t)r->seed, r->stream}};
    philox4x32_ctr_t v = philox4x32(ctr, key);
    for (int i = 0; i < 4; i++) out[i] = v.v[i];
    r->counter++;
}

/* 53 bits from two words, mapped to (0, 1): (k + 0.5) / 2^53. */
static double open_unit(uint32_t hi, uint32_t lo)
{
    uint64_t k = ((uint64_t)hi << 21) ^ (lo >> 11);
    return ((double)k + 0.5) * 0x1p-53;
}

double bnn_rng_uniform(bnn_rng *r)
{
    uint32_t w[4];
    bnn_rng_block(r, w);
    return open_unit(w[0], w[1]);
}

void bnn_rng_normals(bnn_rng *r, double *out, size_t n)
{
    const double two_pi = 6.283185307179586476925286766559;
    for (size_t i = 0; i < n; i += 2) {
        uint32_t w[4];
        bnn_rng_block(r, w);
        double u1 = open_unit(w[0], w[1]), u2 = open_unit(w[2], w[3]);
        double radius = sqrt(-2.0 * log(u1));
        out[i] = radius * cos(two_pi * u2);
        if (i + 1 < n) out[i + 1] = radius * sin(two_pi * u2);
    }
}

double bnn_rng_gamma(bnn_rng *r, double shape)
{
    if (shape < 1) { /* Gamma(a) = Gamma(a + 1) · U^(1/a) */
        double u = bnn_rng_uniform(r);
        return bnn_rng_gamma(r, shape + 1) * pow(u, 1 / shape);
    }
    const double d = shape - 1.0 / 3.0, c = 1 / sqrt(9 * d);
    for (;;) {
        double x, v;
        do {
            bnn_rng_normals(r, &x, 1);
            v = 1 + c * x;
        } while (v <= 0);
        v = v * v * v;
        double u = bnn_rng_uniform(r), x2 = x * x;
        if (u < 1 - 0.0331 * x2 * x2) return d * v;
        if (log(u) < 0.5 * x2 + d * (1 - v + log(v))) return d * v;
    }
}
