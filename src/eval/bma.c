/* Running sums of the Bayesian model average. */
#include "eval/bma.h"

#include <math.h>

void bnn_bma_add(bnn_likelihood lik, double noise_sd, const double *y, size_t n_test,
                 size_t n_out, const double *out, double *sum, double *logdens, double *sumsq)
{
    for (size_t i = 0; i < n_test * n_out; i++) sum[i] += out[i];
    if (!bnn_likelihood_is_regression(lik)) return;
    for (size_t i = 0; i < n_test; i++) {
        const double mu = out[i * n_out];
        const double sd = lik == BNN_LIK_HETERO_GAUSSIAN ? out[i * n_out + 1] : noise_sd;
        const double z = (y[i] - mu) / sd;
        const double ld = -0.5 * z * z - log(sd) - 0.91893853320467274178032973640562;
        const double a = logdens[i], hi = a > ld ? a : ld;
        logdens[i] = hi + log(exp(a - hi) + exp(ld - hi));
        sumsq[i] += mu * mu + sd * sd;
    }
}
