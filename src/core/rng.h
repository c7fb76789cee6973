/* Counter-based random streams (Random123 Philox4x32-10): one stream per (seed, chain), whose
 * whole state is a 64-bit counter, so a checkpoint stores one integer and resumes exactly. */
#ifndef BNN_CORE_RNG_H
#define BNN_CORE_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t seed;    /* user seed: key word 0 and counter word 2 */
    uint32_t stream;  /* chain index: key word 1 */
    uint64_t counter; /* number of 128-bit blocks drawn so far */
} bnn_rng;

void bnn_rng_init(bnn_rng *r, uint64_t seed, uint32_t stream);

/* The next block of four independent 32-bit words. */
void bnn_rng_block(bnn_rng *r, uint32_t out[4]);

/* Uniform on the open interval (0, 1) with 53 random bits; one block per call. */
double bnn_rng_uniform(bnn_rng *r);

/* n independent standard normals (Box-Muller; one block gives two). */
void bnn_rng_normals(bnn_rng *r, double *out, size_t n);

/* A Gamma(shape, 1) variate (shape > 0; divide by a rate for Gamma(shape, rate)): Marsaglia and
 * Tsang's squeeze-rejection method, with U^(1/shape) boosting for shape < 1. Consumes a varying
 * number of blocks, always the same for the same stream state. */
double bnn_rng_gamma(bnn_rng *r, double shape);

#endif
