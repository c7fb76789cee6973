/* The baselines on Bayesian linear regression, whose posterior is known in closed form
 * (tests/core/linreg_model.h), through the train API and its run directory:
 *  - SGLD on mini-batches of 25 of the 50 rows, constant step ε: posterior mean within 4 MCSE,
 *    every covariance entry within 4 MCSE plus the bias that ε and the gradient noise leave
 *    (derived below, computed from the data);
 *  - mean-field VI: μ equals the posterior mean and σ² the mean-field optimum 1/diag(A) (A the
 *    posterior precision), to 3 %;
 *  - MAP with Adam (an ensemble of 3 members, full batch): every member at the posterior mode
 *    (= the mean) to 1e-6 posterior standard deviations. */
#define _XOPEN_SOURCE 700
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/core_test_util.h"
#include "../core/linreg_model.h"
#include "baseline/train.h"
#include "diag/diag.h"
#include "store/run_store.h"

#define P LINREG_P
#define N LINREG_N_TRAIN
#define SEED 7
#define TOL_MCSE 4.0

/* SGLD: ε = EPS_FACTOR / λ_max(A): a step-size bias of a few % of the smallest variance. */
#define SGLD_EPS_FACTOR 0.05
#define SGLD_BATCH 25
#define SGLD_CHAINS 4
#define SGLD_BURN_IN 20000
#define SGLD_THIN 50
#define SGLD_DRAWS 20000

static double x[N * LINREG_D], y[N], mu[P], cov[P * P], prec[P * P];

static void configure(bnn_train_config *c, const char *dir, bnn_train_method m)
{
    bnn_train_config_defaults(c);
    c->method = m;
    bnn_run_config *r = &c->run;
    snprintf(r->arch, sizeof r->arch, "linear");
    r->lik = BNN_LIK_GAUSSIAN;
    r->noise_sd = LINREG_NOISE_SD;
    r->prior = (bnn_prior_options){.n_var = 1, .var = {LINREG_PRIOR_VAR}, .temperature = 1};
    r->precision = BNN_F64;
    r->seed = SEED;
    r->threads = 2;
    r->block_rows = 16;
    r->fs_points = LINREG_N_TEST;
    r->overwrite = 1;
    snprintf(r->out_dir, sizeof r->out_dir, "%.1000s/%s", dir, bnn_train_method_name(m));
}

static int train(bnn_train_config *cfg)
{
    bnn_dataset data;
    bnn_dataset_options opt;
    linreg_dataset(x, y, &data, &opt);
    bnn_train *t = NULL;
    bnn_status s = bnn_train_start(cfg, &data, &opt, &t);
    if (s == BNN_OK) s = bnn_train_finish(t);
    bnn_train_free(t);
    if (s != BNN_OK) printf("not ok %s: %s\n", bnn_train_method_name(cfg->method), bnn_last_error());
    return s == BNN_OK ? 0 : -1;
}

/* chain_NNN/NAME of the run into out (count doubles); 0 if it has exactly that many. */
static int read_chain_array(const bnn_train_config *cfg, size_t chain, const char *name,
                            size_t count, double *out)
{
    char path[1200];
    double *v = NULL;
    bnn_npy_header h;
    bnn_store_chain_path(path, sizeof path, cfg->run.out_dir, chain, name);
    int ok = core_read_npy(path, &v, &h) == 0 && h.count == count;
    if (ok) memcpy(out, v, count * sizeof(double));
    else printf("not ok reading %s (%zu numbers expected)\n", path, count);
    free(v);
    return ok ? 0 : -1;
}

/* Largest eigenvalue of the symmetric positive semi-definite m (P, P), by power iteration. */
static double lambda_max(const double *m)
{
    double v[P] = {1, 1, 1, 1}, lambda = 0;
    for (int it = 0; it < 1000; it++) {
        double w[P] = {0}, norm = 0;
        for (size_t i = 0; i < P; i++)
            for (size_t j = 0; j < P; j++) w[i] += m[i * P + j] * v[j];
        for (size_t i = 0; i < P; i++) norm += w[i] * w[i];
        norm = sqrt(norm);
        if (!(norm > 0)) return 0;
        for (size_t i = 0; i < P; i++) v[i] = w[i] / norm;
        lambda = norm;
    }
    return lambda;
}

/* Covariance (P, P) of the mini-batch gradient (N/B)·Σ_{i∈batch} a_i at θ = μ, the batch a
 * uniform subset of B rows (a permutation's slice): N²(1 − B/N)/B · S, S the sample covariance
 * of a_i = x̃_i (y_i − x̃_i·θ)/σ². */
static void gradient_noise_cov(size_t batch, double *c)
{
    double a[N][P], mean[P] = {0};
    for (size_t r = 0; r < N; r++) {
        double resid = y[r] - mu[LINREG_D];
        for (size_t j = 0; j < LINREG_D; j++) resid -= x[r * LINREG_D + j] * mu[j];
        for (size_t j = 0; j < P; j++) {
            a[r][j] = (j < LINREG_D ? x[r * LINREG_D + j] : 1) * resid /
                      (LINREG_NOISE_SD * LINREG_NOISE_SD);
            mean[j] += a[r][j] / N;
        }
    }
    const double f = (double)N * N * (1 - (double)batch / N) / (double)batch / (N - 1);
    for (size_t i = 0; i < P; i++)
        for (size_t j = 0; j < P; j++) {
            c[i * P + j] = 0;
            for (size_t r = 0; r < N; r++) c[i * P + j] += (a[r][i] - mean[i]) * (a[r][j] - mean[j]);
            c[i * P + j] *= f;
        }
}

/* SGLD with a constant ε on the linear-Gaussian target is a linear recursion
 *     θ' = M θ + (ε/2) A μ + (ε/2) ξ + √ε z,   M = I − (ε/2) A,
 * ξ the mini-batch gradient noise (mean 0, covariance C), z ~ N(0, I). Its stationary mean is
 * μ exactly; its covariance is Σ_ε = A⁻¹ (I − εA/4)⁻¹ + Δ, with Δ = M Δ Mᵀ + (ε²/4) C. So every
 * covariance entry is off by at most
 *     ε / (4 − ε λ_max(A))                                 (discretisation)
 *   + ε ‖C‖ / (4 λ_min(A) (1 − ε λ_min(A)/4))              (gradient noise)
 * where C is taken at θ = μ with a 25 % margin (it varies with θ by a few % over the posterior). */
static int test_sgld(const char *dir, bnn_diag_ws *ws)
{
    double c_noise[P * P];
    gradient_noise_cov(SGLD_BATCH, c_noise);
    const double lmax = lambda_max(prec), lmin = 1 / lambda_max(cov);
    const double eps = SGLD_EPS_FACTOR / lmax, c_norm = 1.25 * lambda_max(c_noise);
    const double bias = eps / (4 - eps * lmax) + eps * c_norm / (4 * lmin * (1 - eps * lmin / 4));
    printf("# SGLD: eps %.3g, lambda(A) in [%.1f, %.1f], |C| %.1f: covariance bias bound %.3g "
           "(%.2f %% of the smallest variance)\n", eps, lmin, lmax, c_norm, bias,
           100 * bias * lmin);
    bnn_train_config cfg;
    configure(&cfg, dir, BNN_TRAIN_SGLD);
    cfg.batch_size = SGLD_BATCH;
    cfg.lr = eps;
    cfg.lr_gamma = 0;
    cfg.run.chains = SGLD_CHAINS;
    cfg.run.burn_in = SGLD_BURN_IN;
    cfg.run.thin = SGLD_THIN;
    cfg.run.samples = SGLD_DRAWS;
    if (train(&cfg) != 0) return 1;
    const size_t n = SGLD_DRAWS;
    double *draws = malloc(SGLD_CHAINS * n * P * sizeof(double));
    double *q = malloc(SGLD_CHAINS * n * sizeof(double));
    int failures = !draws || !q;
    for (size_t c = 0; !failures && c < SGLD_CHAINS; c++)
        failures += read_chain_array(&cfg, c, "weights.npy", n * P, draws + c * n * P) != 0;
    static const char *const names[P] = {"w0", "w1", "w2", "b"};
    for (size_t i = 0; !failures && i < P; i++)
        for (size_t j = i; j <= P; j++) { /* j == P: the mean of θ_i */
            char what[64];
            linreg_quantity(draws, SGLD_CHAINS * n, mu, i, j, q);
            const double est = bnn_diag_mean(q, n, SGLD_CHAINS, n);
            const double mcse = bnn_diag_mcse_mean(ws, q, n, SGLD_CHAINS, n);
            const double exact = j == P ? mu[i] : cov[i * P + j];
            const double allow = j == P ? 0 : bias; /* the mean is exact */
            const double diff = fabs(est - exact), tol = TOL_MCSE * mcse + allow;
            const int ok = diff <= tol; /* false for NaN */
            if (j == P) snprintf(what, sizeof what, "mean %s", names[i]);
            else snprintf(what, sizeof what, "cov %s,%s", names[i], names[j]);
            printf("%s SGLD %s: estimate %.6g, exact %.6g, |diff| %.3g <= 4 MCSE (%.3g) + bias "
                   "bound (%.3g)\n", ok ? "ok" : "not ok", what, est, exact, diff,
                   TOL_MCSE * mcse, allow);
            failures += !ok;
        }
    free(draws);
    free(q);
    return failures;
}

/* For a Gaussian target N(μ, A⁻¹) the best mean-field Gaussian has mean μ and variances
 * 1/A_ii. With mini-batches and one draw per step the fit is noisy until the cosine decay of
 * Adam's step has settled it. */
#define VI_CHAINS 2
#define VI_TOL 0.03
static int test_vi(const char *dir)
{
    bnn_train_config cfg;
    configure(&cfg, dir, BNN_TRAIN_VI);
    cfg.batch_size = 25;
    cfg.lr = 0.001;
    cfg.epochs = 200000;
    cfg.vi_init_sd = 0.1;
    cfg.run.chains = VI_CHAINS;
    cfg.run.samples = 10;
    if (train(&cfg) != 0) return 1;
    int failures = 0;
    for (size_t c = 0; c < VI_CHAINS; c++) {
        double m[P], sd[P];
        if (read_chain_array(&cfg, c, "final.npy", P, m) || read_chain_array(&cfg, c, "vi_sd.npy", P, sd))
            return failures + 1;
        for (size_t i = 0; i < P; i++) {
            const double post_sd = sqrt(cov[i * P + i]), var_mf = 1 / prec[i * P + i];
            const double mean_err = fabs(m[i] - mu[i]) / post_sd;
            const double var_err = fabs(sd[i] * sd[i] / var_mf - 1);
            const int ok = mean_err <= VI_TOL && var_err <= VI_TOL;
            printf("%s VI chain %zu, parameter %zu: mean %.6g (exact %.6g, off by %.2f %% of the "
                   "posterior sd), variance %.4g (mean-field optimum %.4g, off by %.2f %%); "
                   "tol %.0f %%\n", ok ? "ok" : "not ok", c, i, m[i], mu[i], 100 * mean_err,
                   sd[i] * sd[i], var_mf, 100 * var_err, 100 * VI_TOL);
            failures += !ok;
        }
    }
    return failures;
}

/* Adam on the full batch with a cosine decay reaches the mode of the (convex) log posterior;
 * for a Gaussian posterior the mode is the mean. Three members from different starts. */
#define MAP_CHAINS 3
#define MAP_TOL 1e-6
static int test_map(const char *dir)
{
    bnn_train_config cfg;
    configure(&cfg, dir, BNN_TRAIN_ENSEMBLE);
    cfg.batch_size = N;
    cfg.lr = 0.01;
    cfg.epochs = 5000;
    cfg.run.chains = MAP_CHAINS;
    if (train(&cfg) != 0) return 1;
    int failures = 0;
    for (size_t c = 0; c < MAP_CHAINS; c++) {
        double m[P], worst = 0;
        if (read_chain_array(&cfg, c, "final.npy", P, m)) return failures + 1;
        for (size_t i = 0; i < P; i++) {
            const double err = fabs(m[i] - mu[i]) / sqrt(cov[i * P + i]);
            worst = err > worst || isnan(err) ? err : worst;
        }
        const int ok = worst <= MAP_TOL;
        printf("%s MAP member %zu: farthest coordinate from the mode %.3g posterior sd (tol "
               "%.0e)\n", ok ? "ok" : "not ok", c, worst, MAP_TOL);
        failures += !ok;
    }
    return failures;
}

int main(void)
{
    char dir[4096];
    linreg_make_data(x, y);
    if (linreg_exact_posterior(x, y, mu, cov, prec) != 0 ||
        core_mkdtemp(dir, sizeof dir, "baseline-linreg") != 0) {
        printf("not ok set-up\n");
        return 1;
    }
    bnn_diag_ws *ws = NULL;
    int failures = bnn_diag_ws_alloc(SGLD_DRAWS, SGLD_CHAINS, &ws) != BNN_OK;
    if (!failures) failures += test_map(dir) + test_vi(dir) + test_sgld(dir, ws);
    bnn_diag_ws_free(ws);
    core_rmtree(dir);
    printf("%s\n", failures ? "FAILED" : "PASSED");
    return failures ? 1 : 0;
}
