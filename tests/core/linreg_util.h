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

#define N_TRAIN 50
#define N_TEST 5
#define D 3             /* features */
#define P (D + 1)       /* weights, then the bias (layout of mlp.h for arch "linear") */
#define NOISE_SD 0.5
#define PRIOR_VAR 1.0

/* x (N_TRAIN, D) with correlated columns, y = x·w + b + σ ε. */
static void make_data(double *x, double *y)
{
    static const double w[D] = {0.5, -1.0, 0.3}, b = 0.2;
    bnn_rng rng;
    bnn_rng_init(&rng, 99, 0);
    for (size_t r = 0; r < N_TRAIN; r++) {
        double z[D + 1];
        bnn_rng_normals(&rng, z, D + 1);
        x[r * D + 0] = z[0];
        x[r * D + 1] = 0.6 * z[0] + 0.8 * z[1];
        x[r * D + 2] = 1.5 * z[2] + 0.5;
        y[r] = b + NOISE_SD * z[3];
        for (size_t j = 0; j < D; j++) y[r] += x[r * D + j] * w[j];
    }
}

/* Inverts the symmetric positive definite a (P, P) into inv by Gauss-Jordan elimination. */
static int invert(const double *a, double *inv)
{
    double m[P][2 * P];
    for (size_t i = 0; i < P; i++)
        for (size_t j = 0; j < 2 * P; j++) m[i][j] = j < P ? a[i * P + j] : (j - P == i);
    for (size_t c = 0; c < P; c++) {
        if (!(m[c][c] > 0)) return -1; /* no pivoting needed for a positive definite matrix */
        double piv = m[c][c];
        for (size_t j = 0; j < 2 * P; j++) m[c][j] /= piv;
        for (size_t i = 0; i < P; i++) {
            if (i == c) continue;
            double f = m[i][c];
            for (size_t j = 0; j < 2 * P; j++) m[i][j] -= f * m[c][j];
        }
    }
    for (size_t i = 0; i < P; i++)
        for (size_t j = 0; j < P; j++) inv[i * P + j] = m[i][P + j];
    return 0;
}

/* Exact posterior: precision A = X̃ᵀX̃/σ² + I/v with X̃ = [x, 1]; cov = A⁻¹; mean = cov X̃ᵀy/σ². */
static int exact_posterior(const double *x, const double *y, double *mean, double *cov)
{
    double a[P * P] = {0}, xty[P] = {0};
    for (size_t r = 0; r < N_TRAIN; r++) {
        double row[P];
        memcpy(row, x + r * D, D * sizeof(double));
        row[D] = 1;
        for (size_t i = 0; i < P; i++) {
            xty[i] += row[i] * y[r] / (NOISE_SD * NOISE_SD);
            for (size_t j = 0; j < P; j++) a[i * P + j] += row[i] * row[j] / (NOISE_SD * NOISE_SD);
        }
    }
    for (size_t i = 0; i < P; i++) a[i * P + i] += 1 / PRIOR_VAR;
    if (invert(a, cov) != 0) return -1;
    for (size_t i = 0; i < P; i++) {
        mean[i] = 0;
        for (size_t j = 0; j < P; j++) mean[i] += cov[i * P + j] * xty[j];
    }
    return 0;
}

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
    bnn_dataset data = {.task = BNN_TASK_REGRESS};
    data.train = (bnn_table){.n = N_TRAIN, .d = D, .x = (double *)x, .y = (double *)y};
    data.test = (bnn_table){.n = N_TEST, .d = D, .x = (double *)x, .y = (double *)y};
    snprintf(data.train_source, sizeof data.train_source, "generated");
    snprintf(data.test_source, sizeof data.test_source, "generated (first training rows)");
    bnn_dataset_options opt = {.task = BNN_TASK_REGRESS, .csv = {-1, -1}};
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

/* One quantity q(θ) per draw into q (n): θ_i, or (θ_i - μ_i)(θ_j - μ_j) when j < P (centred at
 * the exact mean μ, so that its expectation is exactly cov_ij). */
static void quantity(const double *draws, size_t n, const double *mu, size_t i, size_t j,
                     double *q)
{
    for (size_t k = 0; k < n; k++) {
        const double *t = draws + k * P;
        q[k] = j < P ? (t[i] - mu[i]) * (t[j] - mu[j]) : t[i];
    }
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
            quantity(draws, chains * samples, mu, i, j, q);
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
        quantity(draws, chains * samples, mu, i, P, q);
        double r = bnn_diag_rhat(ws, q, samples, chains, samples);
        worst = r > worst || isnan(r) ? r : worst;
    }
    int ok = worst < max_rhat;
    printf("%s rhat: max over parameters %.4f (tol %.2f)\n", ok ? "ok" : "not ok", worst,
           max_rhat);
    free(q);
    return failures + !ok;
}

#endif
