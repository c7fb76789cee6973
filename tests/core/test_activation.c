/* The vectorised activation kernels against long-double references: the error in units in the
 * last place over a grid from 1e-300 to 800 in magnitude, and the special values (±0, ±inf,
 * NaN; tanh saturating to exactly ±1). */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "nn/activation.h"

#define N 4096

static long double reference(bnn_activation act, long double z)
{
    switch (act) {
    case BNN_ACT_TANH: return tanhl(z);
    case BNN_ACT_RELU: return z > 0 ? z : 0;
    case BNN_ACT_SWISH: return z / (1 + expl(-z));
    case BNN_ACT_ERF: return erfl(z);
    }
    return NAN;
}

/* |got - want| in units of the last place of want at precision eps; an error below the
 * smallest normal number `tiny` (a subnormal result flushed to zero) counts as none. */
static double ulps(long double got, long double want, double eps, double tiny)
{
    if (isnan(want) || isnan(got)) return isnan(want) == isnan(got) ? 0 : INFINITY;
    if (isinf(want) || isinf(got)) return got == want ? 0 : INFINITY;
    if (fabsl(got - want) < tiny) return 0;
    long double unit = fmaxl(fabsl(want) * eps, tiny * eps);
    return (double)(fabsl(got - want) / unit);
}

int main(void)
{
    static double z64[N], a64[N];
    static float z32[N], a32[N];
    size_t n = 0;
    for (int e = -300; e <= 2; e++) /* magnitudes 1e-300 .. 800, both signs */
        for (int m = 1; m <= 4; m++) {
            double v = m * pow(10, e) * 1.07;
            z64[n++] = v;
            z64[n++] = -v;
        }
    while (n < N - 16) /* and densely over [-110, 110], where the curves bend and saturate */
        z64[n] = -110 + 220 * (double)n / (N - 16), n++;
    const double special[] = {0.0, -0.0, 19.999, 20.0, 20.001, -20.001, 88.8, -89.5, 710, -745,
                              INFINITY, -INFINITY, NAN};
    for (size_t k = 0; k < sizeof special / sizeof *special; k++) z64[n++] = special[k];
    for (size_t i = 0; i < n; i++) z32[i] = (float)z64[i];

    const char *names[4] = {"tanh", "relu", "swish", "erf"};
    const bnn_activation acts[4] = {BNN_ACT_TANH, BNN_ACT_RELU, BNN_ACT_SWISH, BNN_ACT_ERF};
    int failures = 0;
    for (int k = 0; k < 4; k++) {
        bnn_activate_f64(acts[k], a64, z64, n);
        bnn_activate_f32(acts[k], a32, z32, n);
        double worst64 = 0, worst32 = 0;
        for (size_t i = 0; i < n; i++) {
            worst64 = fmax(worst64, ulps(a64[i], reference(acts[k], z64[i]), DBL_EPSILON, DBL_MIN));
            worst32 = fmax(worst32, ulps(a32[i], reference(acts[k], z32[i]), FLT_EPSILON, FLT_MIN));
        }
        /* libmvec's promise is 4 ulp; swish adds a division (one more rounding) */
        int ok = worst64 <= 5 && worst32 <= 5;
        printf("%s %s: worst error %.2f ulp (double), %.2f ulp (float) over %zu inputs\n",
               ok ? "ok" : "not ok", names[k], worst64, worst32, n);
        failures += !ok;
    }
    /* tanh saturates to exactly ±1, keeps the sign of zero and propagates NaN */
    const double s_in[5] = {25, -25, -0.0, NAN, INFINITY};
    double s_out[5];
    bnn_activate_f64(BNN_ACT_TANH, s_out, s_in, 5);
    int ok = s_out[0] == 1 && s_out[1] == -1 && s_out[2] == 0 && isnan(s_out[3]) && s_out[4] == 1;
    printf("%s tanh(25) = 1, tanh(-25) = -1, tanh(-0) = 0, tanh(NaN) = NaN, tanh(inf) = 1\n",
           ok ? "ok" : "not ok");
    failures += !ok;
    printf("%d failed\n", failures);
    return failures != 0;
}
