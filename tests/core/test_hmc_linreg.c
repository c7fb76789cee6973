/* HMC on Bayesian linear regression (Gaussian prior, known noise): 4 chains through the run API;
 * posterior mean and every covariance entry within 4 MCSE of the closed-form posterior. */
#define _XOPEN_SOURCE 700
#include "linreg_util.h"

#define CHAINS 4
#define WARMUP 500
#define SAMPLES 10000
#define SEED 11
#define TOL_MCSE 4.0    /* every check: |estimate - exact| <= 4 MCSE */
#define MAX_RHAT 1.01

int main(void)
{
    double x[N_TRAIN * D], y[N_TRAIN], mu[P], cov[P * P];
    char dir[4096];
    linreg_make_data(x, y);
    if (linreg_exact_posterior(x, y, mu, cov, NULL) != 0 ||
        core_mkdtemp(dir, sizeof dir, "linreg") != 0) {
        printf("not ok set-up\n");
        return 1;
    }
    bnn_run_config cfg;
    linreg_configure(&cfg, dir);
    cfg.chains = CHAINS;
    cfg.warmup = WARMUP;
    cfg.samples = SAMPLES;
    cfg.hmc.jitter = 0.2; /* against resonance of a fixed trajectory length on a Gaussian */
    cfg.seed = SEED;
    double *draws = malloc(CHAINS * SAMPLES * P * sizeof(double));
    bnn_diag_ws *ws = NULL;
    int failures = 1;
    if (draws && linreg_sample(&cfg, x, y, draws) == 0 &&
        bnn_diag_ws_alloc(SAMPLES, CHAINS, &ws) == BNN_OK)
        failures = linreg_check(ws, draws, CHAINS, SAMPLES, mu, cov, TOL_MCSE, MAX_RHAT);
    bnn_diag_ws_free(ws);
    free(draws);
    core_rmtree(dir);
    printf("%s\n", failures ? "FAILED" : "PASSED");
    return failures ? 1 : 0;
}
