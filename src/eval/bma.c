/* Running sums of the Bayesian model average. */
#include "eval/bma.h"

#include <math.h>

void bnn_bma_add(bnn_likelihood lik, double noise_sd, const double *y, size_t n_test,
                 size_t n_out, const double *out, double *sum, double *logdens)
{
    for (size_t i = 0; i < n_test * n_out; i++) sum[i] += out[i];
    if (lik != BNN_LIK_GAUSSIAN) return;
    for (size_t i = 0; i < n_test; i++) {
        double z = (y[i] - out[i]) / noise_sd;
        double ld = -0.5 * z * z - log(noise_sd) - 0.91893853320467274178032973640562;
        double a = logdens[i], hi = a > ld ? a : ld;
        logdens[i] = hi + log(exp(a - hi) + exp(ld - hi));
    }
}
