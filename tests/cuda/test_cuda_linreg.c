/* The device's HMC against an analytic posterior (issue 8: "a longer run agrees in
 * distribution"): Bayesian linear regression (Gaussian prior, known noise; tests/core's model)
 * sampled through the run API with --device cuda, float32: 4 chains in lockstep on one batch,
 * whole trajectories on the device; the posterior mean and every covariance entry within 4 MCSE
 * of the closed-form posterior, R-hat below 1.01. The CPU's test of the same model
 * (test_hmc_linreg) holds the CPU to the same. The float32 products change the target by about
 * 1e-7 relative, far below the MCSE. Without a CUDA device: "skipped: no CUDA device", exit
 * 77. */
#define _XOPEN_SOURCE 700
#include "../core/linreg_util.h"

#include "backend/cuda.h"

#define CHAINS 4
#define WARMUP 300
#define SAMPLES 3000
#define SEED 12
#define TOL_MCSE 4.0 /* every check: |estimate - exact| <= 4 MCSE */
#define MAX_RHAT 1.01

int main(void)
{
    if (bnn_cuda_device_count() == 0) {
        printf("skipped: no CUDA device\n");
        return 77;
    }
    double x[N_TRAIN * D], y[N_TRAIN], mu[P], cov[P * P];
    char dir[4096];
    linreg_make_data(x, y);
    if (linreg_exact_posterior(x, y, mu, cov, NULL) != 0 ||
        core_mkdtemp(dir, sizeof dir, "cuda_linreg") != 0) {
        printf("not ok set-up\n");
        return 1;
    }
    bnn_run_config cfg;
    linreg_configure(&cfg, dir);
    cfg.device = BNN_DEVICE_CUDA;
    cfg.precision = BNN_F32;
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
