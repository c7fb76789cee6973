/* Activation kernels, vectorised through libmvec: the SIMD variants of tanh, exp and erf are
 * declared here (glibc only declares them under -ffast-math, which this project never uses), and
 * the file is compiled with -fno-math-errno so that the loops may call them. */
#include "nn/activation.h"

#include <math.h>

#define SIMD __attribute__((simd("notinbranch")))
float tanhf(float) SIMD;
float expf(float) SIMD;
float erff(float) SIMD;
double tanh(double) SIMD;
double exp(double) SIMD;
double erf(double) SIMD;
double expm1(double) SIMD;

/* tanh in double through expm1: tanh(x) = e / (e + 2) with e = expm1(2x). libmvec's 8-wide
 * expm1 takes half the time of its tanh (1.0 vs 2.0 ns per number on Zen 4) at the same
 * accuracy (within 3 ulp; tests/core/test_activation checks it). |x| > 20 is clamped, where
 * tanh rounds to ±1 in double anyway (1 - tanh(20) < 2^-55); a NaN stays NaN. */
static inline double tanh_expm1(double x)
{
    double c = x > 20 ? 20 : x < -20 ? -20 : x;
    double e = expm1(2 * c);
    return e / (e + 2);
}

/* AVX-512 first: its 16-wide libmvec tanhf is twice as fast per number as the 8-wide one. */
#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

#define REAL float
#define FN(name) name##_f32
#define EXP expf
#define TANH tanhf
#define ERF erff
#include "nn/activation_kernels.inc"
#undef REAL
#undef FN
#undef EXP
#undef TANH
#undef ERF

#define REAL double
#define FN(name) name##_f64
#define EXP exp
#define TANH tanh_expm1
#define ERF erf
#include "nn/activation_kernels.inc"
