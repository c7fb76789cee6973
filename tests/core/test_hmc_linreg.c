/* HMC on Bayesian linear regression (Gaussian prior, known noise): 4 chains through the run API;
 * posterior mean and every covariance entry within 4 MCSE of the closed-form posterior. */
#define _XOPEN_SOURCE 700
#include "linreg_util.h"

#define TOL_MCSE 4.0 /* every check: |estimate - exact| <= 4 MCSE */
#define MAX_RHAT 1.01

static void tune(bnn_run_config *cfg)
{
    cfg->chains = 4;
    cfg->warmup = 500;
    cfg->samples = 10000;
    cfg->hmc.jitter = 0.2; /* against resonance of a fixed trajectory length on a Gaussian */
    cfg->seed = 11;
}

int main(void)
{
    int failures = linreg_test("linreg", tune, TOL_MCSE, MAX_RHAT, NULL);
    printf("%s\n", failures ? "FAILED" : "PASSED");
    return failures ? 1 : 0;
}
