/* Bayesian linear regression (Gaussian prior, known noise) with its closed-form posterior, for
 * the samplers' statistical tests: the data, the exact mean and covariance, a run of the chains
 * through the run API, and the check of every mean and covariance entry within TOL MCSE. The
 * including file defines _XOPEN_SOURCE 700 (for core_test_util.h). */
#ifndef BNN_TESTS_CORE_LINREG_UTIL_H
#define BNN_TESTS_CORE_LINREG_UTIL_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "core_test_util.h"
#include "diag/diag.h"
#include "sample/run.h"
#include "store/run_store.h"

#include "linreg_model.h"

#define N_TRAIN LINREG_N_TRAIN
#define N_TEST LINREG_N_TEST
#define D LINREG_D
#define P LINREG_P
#define NOISE_SD LINREG_NOISE_SD
#define PRIOR_VAR LINREG_PRIOR_VAR

/* The model and recording settings of the linear-regression run in DIR/run; the sampler's are
 * the caller's. */
static void linreg_configure(bnn_run_config *c, const char *dir)
{
    bnn_run_config_defaults(c);
    snprintf(c->arch, sizeof c->arch, "linear");
    c->lik = BNN_LIK_GAUSSIAN;
    c->noise_sd = NOISE_SD;
    c->prior = (bnn_prior_options){.n_var = 1, .var = {PRIOR_VAR}, .temperature = 1};
    c->precision = BNN_F64;
    c->threads = 2;
    c->block_rows = 16; /* 50 rows: blocks of 16, 16, 16, 2 */
    c->fs_points = N_TEST;
    if (snprintf(c->out_dir, sizeof c->out_dir, "%.1000s/run", dir) >= (int)sizeof c->out_dir)
        c->out_dir[0] = 0;
}

/* Runs the chains of cfg and reads the draws into draws (chains, samples, P). */
static int linreg_sample(const bnn_run_config *cfg, const double *x, const double *y,
                         double *draws)
{
    bnn_dataset data;
    bnn_dataset_options opt;
    linreg_dataset((double *)x, (double *)y, &data, &opt);
    bnn_run *run = NULL;
    bnn_status s = bnn_run_start(cfg, &data, &opt, &run);
    if (s == BNN_OK) s = bnn_run_finish(run);
    bnn_run_free(run);
    if (s != BNN_OK) {
        printf("not ok sampling: %s\n", bnn_last_error());
        return -1;
    }
    const size_t S = cfg->samples;
    for (size_t c = 0; c < cfg->chains; c++) {
        char path[4200];
        double *w = NULL;
        bnn_npy_header h;
        bnn_store_chain_path(path, sizeof path, cfg->out_dir, c, "weights.npy");
        if (core_read_npy(path, &w, &h) != 0 || h.ndim != 2 || h.shape[0] != S ||
            h.shape[1] != P) {
            printf("not ok reading %s: %s\n", path, bnn_last_error());
            free(w);
            return -1;
        }
        memcpy(draws + c * S * P, w, S * P * sizeof(double));
        free(w);
    }
    return 0;
}

/* Every mean and covariance entry within tol MCSE of the exact values, and R-hat of every
 * parameter below max_rhat; returns the number of failed checks. */
static int linreg_check(bnn_diag_ws *ws, const double *draws, size_t chains, size_t samples,
                        const double *mu, const double *cov, double tol, double max_rhat)
{
    static const char *const names[P] = {"w0", "w1", "w2", "b"};
    double *q = malloc(chains * samples * sizeof(double));
    int failures = 0;
    if (!q) return 1;
    for (size_t i = 0; i < P; i++)
        for (size_t j = i; j <= P; j++) { /* j == P: the mean of θ_i */
            char what[64];
            linreg_quantity(draws, chains * samples, mu, i, j, q);
            if (j == P) snprintf(what, sizeof what, "mean %s", names[i]);
            else snprintf(what, sizeof what, "cov %s,%s", names[i], names[j]);
            double est = bnn_diag_mean(q, samples, chains, samples);
            double mcse = bnn_diag_mcse_mean(ws, q, samples, chains, samples);
            double ess = bnn_diag_ess_mean(ws, q, samples, chains, samples);
            failures += !core_check_mcse(what, est, j == P ? mu[i] : cov[i * P + j], mcse, ess,
                                         tol);
        }
    double worst = 0;
    for (size_t i = 0; i < P; i++) {
        linreg_quantity(draws, chains * samples, mu, i, P, q);
        double r = bnn_diag_rhat(ws, q, samples, chains, samples);
        worst = r > worst || isnan(r) ? r : worst;
    }
    int ok = worst < max_rhat;
    printf("%s rhat: max over parameters %.4f (tol %.2f)\n", ok ? "ok" : "not ok", worst,
           max_rhat);
    free(q);
    return failures + !ok;
}

/* The statistical test of a sampler on the model: the data and the exact posterior; a run in a
 * new temporary directory (named after tag) with linreg_configure's model and recording
 * settings, then tune's (the sampler, chains, warm-up, samples, seed, device); every mean and
 * covariance entry within tol MCSE of the exact values and R-hat below max_rhat; then extra, if
 * not NULL, on the finished run (its directory still there; it returns its failures). Returns
 * the number of failed checks (1 where the set-up or the run failed). */
static int linreg_test(const char *tag, void (*tune)(bnn_run_config *), double tol,
                       double max_rhat, int (*extra)(const bnn_run_config *, const double *cov))
{
    double x[N_TRAIN * D], y[N_TRAIN], mu[P], cov[P * P];
    char dir[4096];
    linreg_make_data(x, y);
    if (linreg_exact_posterior(x, y, mu, cov, NULL) != 0 ||
        core_mkdtemp(dir, sizeof dir, tag) != 0) {
        printf("not ok set-up\n");
        return 1;
    }
    bnn_run_config cfg;
    linreg_configure(&cfg, dir);
    tune(&cfg);
    double *draws = malloc(cfg.chains * cfg.samples * P * sizeof(double));
    bnn_diag_ws *ws = NULL;
    int failures = 1;
    if (draws && linreg_sample(&cfg, x, y, draws) == 0 &&
        bnn_diag_ws_alloc(cfg.samples, cfg.chains, &ws) == BNN_OK) {
        failures = linreg_check(ws, draws, cfg.chains, cfg.samples, mu, cov, tol, max_rhat);
        if (extra) failures += extra(&cfg, cov);
    }
    bnn_diag_ws_free(ws);
    free(draws);
    core_rmtree(dir);
    return failures;
}

#endif
