/* Bayesian linear regression with a Gaussian prior and known noise: generated data, the
 * closed-form posterior, and the run-API data set over it — the analytic target that the HMC
 * test (test_hmc_linreg.c) and the baseline tests (tests/baseline) check samplers against. */
#ifndef BNN_TESTS_CORE_LINREG_MODEL_H
#define BNN_TESTS_CORE_LINREG_MODEL_H

#include <stdio.h>
#include <string.h>

#include "core/rng.h"
#include "data/dataset.h"

#define LINREG_N_TRAIN 50
#define LINREG_N_TEST 5
#define LINREG_D 3             /* features */
#define LINREG_P (LINREG_D + 1) /* weights, then the bias (layout of mlp.h for arch "linear") */
#define LINREG_NOISE_SD 0.5
#define LINREG_PRIOR_VAR 1.0

/* x (N_TRAIN, D) with correlated columns, y = x·w + b + σ ε. */
static inline void linreg_make_data(double *x, double *y)
{
    static const double w[LINREG_D] = {0.5, -1.0, 0.3}, b = 0.2;
    bnn_rng rng;
    bnn_rng_init(&rng, 99, 0);
    for (size_t r = 0; r < LINREG_N_TRAIN; r++) {
        double z[LINREG_D + 1];
        bnn_rng_normals(&rng, z, LINREG_D + 1);
        x[r * LINREG_D + 0] = z[0];
        x[r * LINREG_D + 1] = 0.6 * z[0] + 0.8 * z[1];
        x[r * LINREG_D + 2] = 1.5 * z[2] + 0.5;
        y[r] = b + LINREG_NOISE_SD * z[3];
        for (size_t j = 0; j < LINREG_D; j++) y[r] += x[r * LINREG_D + j] * w[j];
    }
}

/* Inverts the symmetric positive definite a (P, P) into inv by Gauss-Jordan elimination. */
static inline int linreg_invert(const double *a, double *inv)
{
    enum { P = LINREG_P };
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

/* Exact posterior: precision A = X̃ᵀX̃/σ² + I/v with X̃ = [x, 1]; cov = A⁻¹; mean = cov X̃ᵀy/σ².
 * precision may be NULL. */
static inline int linreg_exact_posterior(const double *x, const double *y, double *mean,
                                         double *cov, double *precision)
{
    enum { P = LINREG_P };
    const double s2 = LINREG_NOISE_SD * LINREG_NOISE_SD;
    double a[P * P] = {0}, xty[P] = {0};
    for (size_t r = 0; r < LINREG_N_TRAIN; r++) {
        double row[P];
        memcpy(row, x + r * LINREG_D, LINREG_D * sizeof(double));
        row[LINREG_D] = 1;
        for (size_t i = 0; i < P; i++) {
            xty[i] += row[i] * y[r] / s2;
            for (size_t j = 0; j < P; j++) a[i * P + j] += row[i] * row[j] / s2;
        }
    }
    for (size_t i = 0; i < P; i++) a[i * P + i] += 1 / LINREG_PRIOR_VAR;
    if (linreg_invert(a, cov) != 0) return -1;
    for (size_t i = 0; i < P; i++) {
        mean[i] = 0;
        for (size_t j = 0; j < P; j++) mean[i] += cov[i * P + j] * xty[j];
    }
    if (precision) memcpy(precision, a, sizeof a);
    return 0;
}

/* The regression data set of the run API over x, y (test set: the first training rows). */
static inline void linreg_dataset(double *x, double *y, bnn_dataset *data,
                                  bnn_dataset_options *opt)
{
    memset(data, 0, sizeof *data);
    data->task = BNN_TASK_REGRESS;
    data->train = (bnn_table){.n = LINREG_N_TRAIN, .d = LINREG_D, .x = x, .y = y};
    data->test = (bnn_table){.n = LINREG_N_TEST, .d = LINREG_D, .x = x, .y = y};
    snprintf(data->train_source, sizeof data->train_source, "generated");
    snprintf(data->test_source, sizeof data->test_source, "generated (first training rows)");
    *opt = (bnn_dataset_options){.task = BNN_TASK_REGRESS, .csv = {-1, -1}};
}

/* One quantity q(θ) per draw of draws (n, P) into q (n): θ_i, or (θ_i - μ_i)(θ_j - μ_j) when
 * j < P (centred at the exact mean μ, so that its expectation is exactly cov_ij). */
static inline void linreg_quantity(const double *draws, size_t n, const double *mu, size_t i,
                                   size_t j, double *q)
{
    for (size_t k = 0; k < n; k++) {
        const double *t = draws + k * LINREG_P;
        q[k] = j < LINREG_P ? (t[i] - mu[i]) * (t[j] - mu[j]) : t[i];
    }
}

#endif
