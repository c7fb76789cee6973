/* NUTS against known distributions, every estimate within 4 MCSE (the project's own ESS):
 *  1. Bayesian linear regression through the run API with warm-up adaptation (step size and a
 *     diagonal mass matrix that ends far from the identity): every posterior mean and
 *     covariance entry; the recorded tree depths and leapfrog counts fit the doubling scheme.
 *  2. A 5-D Gaussian with unequal scales under a fixed non-identity mass matrix, no adaptation:
 *     every mean and variance.
 *  3. A 1-D standard normal, and a skew-normal (asymmetric, so that a bias of the multinomial
 *     sampling towards one direction would show): mean and variance.
 *  4. A step size far too large: the transitions are flagged divergent and the state stays the
 *     last valid one; a density that is NaN in a region never lets the chain into it. */
#define _XOPEN_SOURCE 700
#include "linreg_util.h"
#include "sample/nuts.h"

#define TOL_MCSE 4.0
#define CHAINS 4
#define MAX_DEPTH 10

static int failures;

static void verdict(int ok, const char *fmt, double a, double b)
{
    printf("%s ", ok ? "ok" : "not ok");
    printf(fmt, a, b);
    printf("\n");
    failures += !ok;
}

/* The doubling scheme: a tree of depth d that ends by a U-turn across the whole took 2^d - 1
 * steps; one that ends on an invalid (turned or divergent) new subtree took more, up to
 * 2^(d+1) - 1; depth max_depth is reached only with exactly 2^max_depth - 1 steps. */
static int tree_ok(size_t depth, size_t n_leapfrog, int divergent, size_t max_depth)
{
    const size_t lo = ((size_t)1 << depth) - 1, hi = ((size_t)1 << (depth + 1)) - 1;
    if (depth > max_depth || n_leapfrog < lo || n_leapfrog > hi) return 0;
    if (depth == max_depth && n_leapfrog != lo) return 0;
    return !divergent || n_leapfrog > lo;
}

/* ---- 1. linear regression through the run API ------------------------------------------ */

#define LR_WARMUP 500
#define LR_SAMPLES 5000

static void check_run_stats(const bnn_run_config *cfg, const double *cov)
{
    size_t bad = 0, rows = 0, at_max = 0, divergent = 0;
    double depth_sum = 0, worst_ratio = 1;
    for (size_t c = 0; c < cfg->chains; c++) {
        char path[4200];
        double *v = NULL;
        bnn_npy_header h;
        bnn_store_chain_path(path, sizeof path, cfg->out_dir, c, "stats.npy");
        if (core_read_npy(path, &v, &h) != 0 || h.ndim != 2 || h.shape[1] != BNN_N_STATS ||
            h.shape[0] != LR_WARMUP + LR_SAMPLES) {
            printf("not ok reading %s\n", path);
            failures++;
            free(v);
            return;
        }
        for (size_t t = 0; t < h.shape[0]; t++) {
            const double *row = v + t * BNN_N_STATS;
            const double d = row[BNN_STAT_TREE_DEPTH], n = row[BNN_STAT_N_LEAPFROG];
            rows++;
            if (d != floor(d) || d < 0 || n != floor(n) ||
                !tree_ok((size_t)d, (size_t)n, row[BNN_STAT_DIVERGENT] != 0, MAX_DEPTH))
                bad++;
            if (row[BNN_STAT_PHASE] != 2) continue;
            divergent += row[BNN_STAT_DIVERGENT] != 0;
            depth_sum += d;
            at_max += d == MAX_DEPTH;
        }
        free(v);
        bnn_store_chain_path(path, sizeof path, cfg->out_dir, c, "inv_mass.npy");
        if (core_read_npy(path, &v, &h) != 0 || h.count != P) {
            printf("not ok reading %s\n", path);
            failures++;
            free(v);
            return;
        }
        for (size_t i = 0; i < P; i++) {
            double r = v[i] / cov[i * P + i];
            r = r < 1 ? 1 / r : r;
            worst_ratio = r > worst_ratio || isnan(r) ? r : worst_ratio;
        }
        free(v);
    }
    verdict(bad == 0, "tree_depth and n_leapfrog of every iteration fit the doubling scheme "
                      "(%.0f of %.0f rows do not)", (double)bad, (double)rows);
    verdict(at_max == 0 && divergent == 0, "no sampling iteration hit max_depth (%.0f) or "
                                           "diverged (%.0f)", (double)at_max, (double)divergent);
    verdict(depth_sum >= cfg->chains * LR_SAMPLES, "mean sampling tree depth %.2f >= %.0f",
            depth_sum / (double)(cfg->chains * LR_SAMPLES), 1);
    /* posterior variances are 0.003 to 0.007: far from the identity's 1 */
    verdict(worst_ratio < 2, "the adapted inverse metric matches the posterior variances "
                             "within a factor %.2f (< %.0f)", worst_ratio, 2);
}

static void nuts_linreg(bnn_run_config *cfg)
{
    cfg->sampler = BNN_SAMPLER_NUTS;
    cfg->max_depth = MAX_DEPTH;
    cfg->chains = CHAINS;
    cfg->warmup = LR_WARMUP;
    cfg->samples = LR_SAMPLES;
    cfg->seed = 12;
}

static int nuts_run_stats(const bnn_run_config *cfg, const double *cov)
{
    check_run_stats(cfg, cov); /* counts its failures itself */
    return 0;
}

static void linreg(void)
{
    failures += linreg_test("nuts", nuts_linreg, TOL_MCSE, 1.01, nuts_run_stats);
}

/* ---- 2 and 3. Gaussians through the sampler API ----------------------------------------- */

#define GD_MAX 5

typedef struct {
    size_t dim;
    double mean[GD_MAX], sd[GD_MAX];
} gauss;

static bnn_status gauss_logp(void *ctx, const double *theta, double *grad, bnn_logp *out)
{
    const gauss *g = ctx;
    double lp = 0;
    for (size_t i = 0; i < g->dim; i++) {
        double z = (theta[i] - g->mean[i]) / g->sd[i];
        lp -= 0.5 * z * z;
        if (grad) grad[i] = -z / g->sd[i];
    }
    *out = (bnn_logp){.logp = lp, .log_lik = 0, .log_prior = lp};
    return BNN_OK;
}

/* Skew-normal with shape α = 3: density 2 φ(x) Φ(αx). */
#define SKEW_ALPHA 3.0

static bnn_status skew_logp(void *ctx, const double *theta, double *grad, bnn_logp *out)
{
    (void)ctx;
    const double x = theta[0], z = SKEW_ALPHA * x;
    const double log_cdf = log(0.5 * erfc(-z / sqrt(2.0)));
    const double log_pdf = -0.5 * z * z - 0.5 * log(2 * M_PI);
    const double lp = -0.5 * x * x + log_cdf;
    if (grad) grad[0] = -x + SKEW_ALPHA * exp(log_pdf - log_cdf);
    *out = (bnn_logp){.logp = lp, .log_lik = 0, .log_prior = lp};
    return BNN_OK;
}

/* Runs CHAINS NUTS chains of n transitions of the target from g's mean (after `warm` discarded
 * ones) with step size eps and inverse metric inv_mass; checks every coordinate's mean and
 * variance against g (the target's exact moments). */
static void nuts_check(const char *label, bnn_target t, const gauss *g, const double *inv_mass,
                       double eps, size_t warm, size_t n)
{
    bnn_hmc_options o = {.step_size = eps, .traj_len = 1, .max_leapfrog = 1,
                         .max_energy_error = 1000};
    double *draws = malloc(CHAINS * n * g->dim * sizeof(double));
    double *q = malloc(CHAINS * n * sizeof(double));
    bnn_diag_ws *ws = NULL;
    size_t bad_tree = 0, divergent = 0;
    if (!draws || !q || bnn_diag_ws_alloc(n, CHAINS, &ws) != BNN_OK) goto fail;
    for (size_t c = 0; c < CHAINS; c++) {
        bnn_hmc *s = NULL;
        bnn_nuts *u = NULL;
        bnn_rng rng;
        bnn_rng_init(&rng, 2024, (uint32_t)c);
        int ok = bnn_hmc_alloc(t, &o, &s) == BNN_OK && bnn_nuts_alloc(s, MAX_DEPTH, &u) == BNN_OK &&
                 bnn_hmc_set(s, g->mean, rng) == BNN_OK;
        if (ok) memcpy(s->inv_mass, inv_mass, g->dim * sizeof(double));
        for (size_t k = 0; ok && k < warm + n; k++) {
            bnn_hmc_stats st;
            ok = bnn_nuts_iterate(u, &st) == BNN_OK;
            bad_tree += !tree_ok(st.tree_depth, st.n_leapfrog, st.divergent, MAX_DEPTH);
            divergent += (size_t)st.divergent;
            if (k >= warm) memcpy(draws + (c * n + k - warm) * g->dim, s->theta,
                                  g->dim * sizeof(double));
        }
        bnn_nuts_free(u);
        bnn_hmc_free(s);
        if (!ok) goto fail;
    }
    for (size_t i = 0; i < g->dim; i++)
        for (int var = 0; var <= 1; var++) {
            char what[96];
            for (size_t k = 0; k < CHAINS * n; k++) {
                double z = draws[k * g->dim + i] - g->mean[i];
                q[k] = var ? z * z : draws[k * g->dim + i];
            }
            snprintf(what, sizeof what, "%s: %s of x%zu", label, var ? "variance" : "mean", i);
            failures += !core_check_mcse(what, bnn_diag_mean(q, n, CHAINS, n),
                                         var ? g->sd[i] * g->sd[i] : g->mean[i],
                                         bnn_diag_mcse_mean(ws, q, n, CHAINS, n),
                                         bnn_diag_ess_mean(ws, q, n, CHAINS, n), TOL_MCSE);
        }
    printf("%s %s: every tree fits the doubling scheme (%zu do not), %zu divergences\n",
           bad_tree == 0 && divergent == 0 ? "ok" : "not ok", label, bad_tree, divergent);
    failures += bad_tree != 0 || divergent != 0;
    free(draws);
    free(q);
    bnn_diag_ws_free(ws);
    return;
fail:
    printf("not ok %s: sampling failed: %s\n", label, bnn_last_error());
    failures++;
    free(draws);
    free(q);
    bnn_diag_ws_free(ws);
}

/* ---- 4. divergences -------------------------------------------------------------------- */

/* Standard normal in 2-D, with a NaN density for x0 > 1 when ctx is not NULL. */
static bnn_status faulty_logp(void *ctx, const double *theta, double *grad, bnn_logp *out)
{
    const int faulty = ctx != NULL;
    out->logp = faulty && theta[0] > 1 ? NAN : -0.5 * (theta[0] * theta[0] + theta[1] * theta[1]);
    out->log_lik = 0;
    out->log_prior = out->logp;
    if (grad) {
        grad[0] = -theta[0];
        grad[1] = -theta[1];
    }
    return BNN_OK;
}

static void divergences(const char *label, double eps, int faulty, size_t n, double min_share)
{
    static int flag = 1;
    bnn_target t = {.dim = 2, .logp_grad = faulty_logp, .ctx = faulty ? &flag : NULL};
    bnn_hmc_options o = {.step_size = eps, .traj_len = 1, .max_leapfrog = 1,
                         .max_energy_error = 1000};
    bnn_hmc *s = NULL;
    bnn_nuts *u = NULL;
    bnn_rng rng;
    bnn_rng_init(&rng, 7, 0);
    const double theta0[2] = {0.5, -0.5};
    size_t divergent = 0, bad_state = 0, moved = 0, bad_tree = 0;
    int ok = bnn_hmc_alloc(t, &o, &s) == BNN_OK && bnn_nuts_alloc(s, MAX_DEPTH, &u) == BNN_OK &&
             bnn_hmc_set(s, theta0, rng) == BNN_OK;
    for (size_t k = 0; ok && k < n; k++) {
        bnn_hmc_stats st;
        double before[2] = {s->theta[0], s->theta[1]};
        ok = bnn_nuts_iterate(u, &st) == BNN_OK;
        divergent += (size_t)st.divergent;
        moved += s->theta[0] != before[0] || s->theta[1] != before[1];
        bad_tree += !tree_ok(st.tree_depth, st.n_leapfrog, st.divergent, MAX_DEPTH);
        double lp = -0.5 * (s->theta[0] * s->theta[0] + s->theta[1] * s->theta[1]);
        if (!isfinite(s->theta[0]) || !isfinite(s->theta[1]) || (faulty && s->theta[0] > 1) ||
            s->current.logp != lp || s->grad[0] != -s->theta[0] || s->grad[1] != -s->theta[1] ||
            !isfinite(st.energy) || !(st.accept_prob >= 0 && st.accept_prob <= 1) ||
            (st.divergent && st.tree_depth >= MAX_DEPTH))
            bad_state++;
    }
    bnn_nuts_free(u);
    bnn_hmc_free(s);
    if (!ok) {
        printf("not ok %s: %s\n", label, bnn_last_error());
        failures++;
        return;
    }
    verdict(divergent >= min_share * (double)n, "divergences flagged: %.0f of %.0f iterations",
            (double)divergent, (double)n);
    printf("%s %s: state, cached gradient and log density stay valid (%zu bad), trees fit "
           "(%zu do not), chain moved %zu times\n", bad_state || bad_tree ? "not ok" : "ok", label,
           bad_state, bad_tree, moved);
    failures += bad_state != 0 || bad_tree != 0;
}

int main(void)
{
    linreg();
    /* 2. unequal scales; the metric is deliberately neither the identity nor the variances */
    gauss g5 = {.dim = 5, .mean = {1, -2, 0, 3, 0.5}, .sd = {1, 5, 0.2, 2, 0.5}};
    const double m5[5] = {1, 4, 0.09, 1, 1};
    nuts_check("5-D Gaussian, fixed non-identity metric",
               (bnn_target){.dim = 5, .logp_grad = gauss_logp, .ctx = &g5}, &g5, m5, 0.3, 200,
               5000);
    /* 3. */
    gauss g1 = {.dim = 1, .mean = {0}, .sd = {1}};
    const double m1[1] = {1};
    nuts_check("1-D standard normal", (bnn_target){.dim = 1, .logp_grad = gauss_logp, .ctx = &g1},
               &g1, m1, 0.9, 100, 10000);
    const double delta = SKEW_ALPHA / sqrt(1 + SKEW_ALPHA * SKEW_ALPHA);
    gauss skew = {.dim = 1, .mean = {delta * sqrt(2 / M_PI)},
                  .sd = {sqrt(1 - 2 * delta * delta / M_PI)}};
    nuts_check("skew-normal (alpha 3)", (bnn_target){.dim = 1, .logp_grad = skew_logp}, &skew,
               m1, 0.7, 100, 10000);
    /* 4. ε = 10 on a standard normal: from (0.5, -0.5), one leapfrog step multiplies |θ| and
     * |p| about 50-fold, so the energy error passes 1000 at the first step */
    divergences("step size 10", 10, 0, 2000, 0.99);
    divergences("NaN density for x0 > 1", 0.3, 1, 4000, 0.02);
    printf("%s\n", failures ? "FAILED" : "PASSED");
    return failures ? 1 : 0;
}
