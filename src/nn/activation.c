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
#define TANH tanh
#define ERF erf
#include "nn/activation_kernels.inc"
