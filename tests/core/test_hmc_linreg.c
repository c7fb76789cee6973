/* HMC on Bayesian linear regression (Gaussian prior, known noise): 4 chains through the run API;
 * posterior mean and every covariance entry within 4 MCSE of the closed-form posterior. */
#define _XOPEN_SOURCE 700
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "core_test_util.h"
#include "diag/diag.h"
#include "linreg_model.h"
#include "sample/run.h"
#include "store/run_store.h"

#define N_TRAIN LINREG_N_TRAIN
#define N_TEST LINREG_N_TEST
#define P LINREG_P
#define CHAINS 4
#define WARMUP 500
#define SAMPLES 10000
#define SEED 11
#define TOL_MCSE 4.0    /* every check: |estimate - exact| <= 4 MCSE */
#define MAX_RHAT 1.01

static void configure(bnn_run_config *c, const char *dir)
{
    bnn_run_config_defaults(c);
    snprintf(c->arch, sizeof c->arch, "linear");
    c->lik = BNN_LIK_GAUSSIAN;
    c->noise_sd = LINREG_NOISE_SD;
    c->prior = (bnn_prior_options){.n_var = 1, .var = {LINREG_PRIOR_VAR}, .temperature = 1};
    c->precision = BNN_F64;
    c->chains = CHAINS;
    c->warmup = WARMUP;
    c->samples = SAMPLES;
    c->hmc.jitter = 0.2; /* against resonance of a fixed trajectory length on a Gaussian */
    c->seed = SEED;
    c->threads = 2;
    c->block_rows = 16; /* 50 rows: blocks of 16, 16, 16, 2 */
    c->fs_points = N_TEST;
    if (snprintf(c->out_dir, sizeof c->out_dir, "%.1000s/run", dir) >= (int)sizeof c->out_dir)
        c->out_dir[0] = 0;
}

/* Runs the chains and reads the draws into draws (CHAINS, SAMPLES, P). */
static int sample(const char *dir, double *x, double *y, double *draws)
{
    bnn_dataset data;
    bnn_dataset_options opt;
    linreg_dataset(x, y, &data, &opt);
    bnn_run_config cfg;
    configure(&cfg, dir);
    bnn_run *run = NULL;
    bnn_status s = bnn_run_start(&cfg, &data, &opt, &run);
    if (s == BNN_OK) s = bnn_run_finish(run);
    bnn_run_free(run);
    if (s != BNN_OK) {
        printf("not ok sampling: %s\n", bnn_last_error());
        return -1;
    }
    for (size_t c = 0; c < CHAINS; c++) {
        char path[4200];
        double *w = NULL;
        bnn_npy_header h;
        bnn_store_chain_path(path, sizeof path, cfg.out_dir, c, "weights.npy");
        if (core_read_npy(path, &w, &h) != 0 || h.ndim != 2 || h.shape[0] != SAMPLES ||
            h.shape[1] != P) {
            printf("not ok reading %s: %s\n", path, bnn_last_error());
            free(w);
            return -1;
        }
        memcpy(draws + c * SAMPLES * P, w, SAMPLES * P * sizeof(double));
        free(w);
    }
    return 0;
}

static int check_all(bnn_diag_ws *ws, const double *draws, const double *mu, const double *cov)
{
    static const char *const names[P] = {"w0", "w1", "w2", "b"};
    double *q = malloc(CHAINS * SAMPLES * sizeof(double));
    int failures = 0;
    if (!q) return 1;
    for (size_t i = 0; i < P; i++)
        for (size_t j = i; j <= P; j++) { /* j == P: the mean of θ_i */
            char what[64];
            linreg_quantity(draws, CHAINS * SAMPLES, mu, i, j, q);
            if (j == P) snprintf(what, sizeof what, "mean %s", names[i]);
            else snprintf(what, sizeof what, "cov %s,%s", names[i], names[j]);
            double est = bnn_diag_mean(q, SAMPLES, CHAINS, SAMPLES);
            double mcse = bnn_diag_mcse_mean(ws, q, SAMPLES, CHAINS, SAMPLES);
            double ess = bnn_diag_ess_mean(ws, q, SAMPLES, CHAINS, SAMPLES);
            failures += !core_check_mcse(what, est, j == P ? mu[i] : cov[i * P + j], mcse, ess,
                                         TOL_MCSE);
        }
    double worst = 0;
    for (size_t i = 0; i < P; i++) {
        linreg_quantity(draws, CHAINS * SAMPLES, mu, i, P, q);
        double r = bnn_diag_rhat(ws, q, SAMPLES, CHAINS, SAMPLES);
        worst = r > worst || isnan(r) ? r : worst;
    }
    int ok = worst < MAX_RHAT;
    printf("%s rhat: max over parameters %.4f (tol %.2f)\n", ok ? "ok" : "not ok", worst,
           MAX_RHAT);
    free(q);
    return failures + !ok;
}

int main(void)
{
    double x[N_TRAIN * LINREG_D], y[N_TRAIN], mu[P], cov[P * P];
    char dir[4096];
    linreg_make_data(x, y);
    if (linreg_exact_posterior(x, y, mu, cov, NULL) != 0 || core_mkdtemp(dir, sizeof dir, "linreg") != 0) {
        printf("not ok set-up\n");
        return 1;
    }
    double *draws = malloc(CHAINS * SAMPLES * P * sizeof(double));
    bnn_diag_ws *ws = NULL;
    int failures = 1;
    if (draws && sample(dir, x, y, draws) == 0 &&
        bnn_diag_ws_alloc(SAMPLES, CHAINS, &ws) == BNN_OK)
        failures = check_all(ws, draws, mu, cov);
    bnn_diag_ws_free(ws);
    free(draws);
    core_rmtree(dir);
    printf("%s\n", failures ? "FAILED" : "PASSED");
    return failures ? 1 : 0;
}
