/* diagnose on synthesised runs: aligned R-hat (per draw and per chain) of chains stuck in
 * different unit labellings, nested R-hat equal to the library's, two islands, the null
 * reference, the prior-marginal check on prior draws, and the diagnostics.json keys. */
#define _XOPEN_SOURCE 700
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/core_test_util.h"
#include "align_synth.h"
#include "diag/diag.h"
#include "diag/diag_run.h"
#include "nn/symmetry.h"
#include "report/report.h"

#define K 4
#define N 300
#define F 20
#define C 2

static int verdict(int ok, const char *what, double value)
{
    printf("%s %s (%.4g)\n", ok ? "ok" : "not ok", what, value);
    return ok;
}

/* Run A: chain c's draws = T_c(base + 0.05 noise) with one random symmetry transform T_c per
 * chain (chains stuck in different labellings); chains 0-1 and 2-3 predict apart. */
static int make_run_a(const char *dir, bnn_mlp *m, double *fs_all, int moves)
{
    bnn_mlp_init(m, "mlp:5", 3, 2, BNN_ACT_TANH, BNN_LIK_CATEGORICAL, 1);
    size_t P = m->n_params, scratch[8];
    double *base = malloc(P * sizeof *base), *w = malloc(N * P * sizeof *w), e[2];
    bnn_rng rng;
    bnn_rng_init(&rng, 5, 0);
    bnn_rng_normals(&rng, base, P);
    for (size_t i = 0; i < P; i++) base[i] *= 2;
    int rc = synth_run_json(dir, m, K, 2, F, C);
    for (size_t c = 0; c < K; c++) {
        bnn_rng chain_rng = rng; /* the same transform for every draw of the chain */
        rng.counter += 1000;
        for (size_t i = 0; i < N; i++) {
            double *x = w + i * P;
            bnn_rng_normals(&rng, x, P);
            for (size_t k = 0; k < P; k++) x[k] = base[k] + 0.05 * x[k];
            bnn_rng t = chain_rng;
            bnn_mlp_symmetry_move(m, x, NULL, moves ? &rng : &t, scratch);
            for (size_t p = 0; p < F; p++) {
                bnn_rng_normals(&rng, e, 2);
                double p0 = (c < 2 ? 0.3 : 0.7) + 0.02 * e[0];
                fs_all[((c * N + i) * F + p) * C] = p0;
                fs_all[((c * N + i) * F + p) * C + 1] = 1 - p0;
            }
        }
        rc |= synth_chain(dir, c, N, P, w, F, C, fs_all + c * N * F * C);
    }
    free(base);
    free(w);
    return rc;
}

/* Nested R-hat of function-space quantity q from the run = the library's on the same draws. */
static int check_nested(const bnn_diag_run *r, const double *fs_all)
{
    size_t q = 7;
    double x[K * N];
    for (size_t c = 0; c < K; c++)
        for (size_t i = 0; i < N; i++) x[c * N + i] = fs_all[(c * N + i) * F * C + q];
    int ids[K] = {0, 0, 1, 1};
    bnn_diag_ws *ws;
    bnn_diag_ws_alloc(N, K, &ws);
    double lib = bnn_diag_rhat_nested(ws, x, N, K, N, ids);
    bnn_diag_ws_free(ws);
    double got = r->function.rhat_nested ? r->function.rhat_nested[q] : NAN;
    return verdict(got == lib && r->superchains == 2, "nested R-hat from the run = library's", got - lib);
}

/* report.html: 3 histograms with the null, 6 traces, 3 heat maps, the marginal table. */
static int check_report(const char *dir)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/report.html", dir);
    if (bnn_report_write(dir, NULL, NULL) != BNN_OK) return verdict(0, bnn_last_error(), 0);
    FILE *f = fopen(path, "r");
    char *buf = calloc(1 << 22, 1);
    size_t len = f ? fread(buf, 1, (1 << 22) - 1, f) : 0;
    if (f) fclose(f);
    size_t svg = 0, null_lines = 0;
    for (const char *p = buf; (p = strstr(p, "<svg")); p++) svg++;
    for (const char *p = buf; (p = strstr(p, "null (converged")); p++) null_lines++;
    int ok = len > 0 && svg == 12 && null_lines == 3 && strstr(buf, "excess kurtosis");
    free(buf);
    return verdict(ok, "report.html: 12 plots (3 histograms with the null overlay)", (double)svg);
}

static int check_moves(const char *dir, double aligned_q50_without);

static int check_run_a(const char *dir)
{
    bnn_mlp m;
    double *fs_all = malloc(K * N * F * C * sizeof *fs_all);
    if (make_run_a(dir, &m, fs_all, 0)) return verdict(0, "synthesise run A", 0);
    bnn_diag_run_options opt = {.threads = 2, .align = 1};
    bnn_diag_run *r;
    if (bnn_diag_run_compute(dir, &opt, &r) != BNN_OK) return verdict(0, bnn_last_error(), 0);
    int ok = verdict(r->weight.rhat_q50 > 1.1, "raw weight R-hat of chains in different labellings is large (q50)", r->weight.rhat_q50);
    ok &= verdict(r->weight_aligned.rhat_max < 1.05, "aligned weight R-hat ~ 1 (max)", r->weight_aligned.rhat_max);
    double aligned_q50 = r->weight_aligned.rhat_q50;
    const bnn_null_rhat *nu = &r->weight_aligned.null;
    ok &= verdict(fabs(nu->observed[0] - nu->expected[0]) <= 4 * nu->expected_sd[0] + 3,
                  "aligned count above 1.01 within the null's 4 sd", nu->observed[0] - nu->expected[0]);
    ok &= check_nested(r, fs_all);
    ok &= verdict(r->has_islands && r->islands.n_islands == 2 && r->islands.island[1] == 0 &&
                  r->islands.island[2] == 1 && r->islands.island[3] == 1,
                  "two islands {0,1} {2,3}", (double)r->islands.n_islands);
    ok &= verdict(bnn_diag_run_write(r, dir) == BNN_OK, "diagnostics.json written", 0);
    bnn_diag_run_free(r);
    /* The written file: weight_aligned has the keys of weight; islands and marginals exist. */
    char path[1024];
    snprintf(path, sizeof path, "%s/diagnostics.json", dir);
    json_t *root = json_load_file(path, 0, NULL), *wj = json_object_get(root, "weight");
    json_t *aj = json_object_get(root, "weight_aligned");
    const char *key;
    json_t *v;
    int same = json_is_object(aj);
    json_object_foreach(wj, key, v) same &= json_object_get(aj, key) != NULL;
    same &= json_is_object(json_object_get(root, "islands")) &&
            json_is_object(json_object_get(root, "marginals"));
    json_decref(root);
    ok &= verdict(same, "diagnostics.json: weight_aligned has weight's keys; islands, marginals", 0);
    ok &= check_report(dir);
    opt.align = 2;
    if (bnn_diag_run_compute(dir, &opt, &r) != BNN_OK) return verdict(0, bnn_last_error(), 0);
    ok &= verdict(r->weight_aligned.rhat_max < 1.05, "per-chain alignment undoes per-chain labellings",
                  r->weight_aligned.rhat_max);
    bnn_diag_run_free(r);
    free(fs_all);
    return ok & check_moves(dir, aligned_q50);
}

/* Run A with a symmetry move after every draw (what sample --symmetry-moves does): raw R-hat is
 * fooled into looking converged; aligned R-hat stays as it was without the moves. */
static int check_moves(const char *dir, double aligned_q50_without)
{
    bnn_mlp m;
    double *fs_all = malloc(K * N * F * C * sizeof *fs_all);
    if (make_run_a(dir, &m, fs_all, 1)) return verdict(0, "synthesise run A with moves", 0);
    free(fs_all);
    bnn_diag_run_options opt = {.threads = 2, .align = 1};
    bnn_diag_run *r;
    if (bnn_diag_run_compute(dir, &opt, &r) != BNN_OK) return verdict(0, bnn_last_error(), 0);
    int ok = verdict(r->weight.rhat_q99 < 1.02, "with moves raw weight R-hat looks converged (q99)",
                     r->weight.rhat_q99);
    double d = r->weight_aligned.rhat_q50 - aligned_q50_without;
    ok &= verdict(r->weight_aligned.rhat_max < 1.05 && fabs(d) < 0.005,
                  "with moves aligned R-hat as without (q50 difference)", d);
    bnn_diag_run_free(r);
    return ok;
}

/* Run B: every draw from the prior N(0, 1); all chains alike. */
static int check_run_b(const char *dir)
{
    bnn_mlp m;
    bnn_mlp_init(&m, "mlp:8", 4, 3, BNN_ACT_RELU, BNN_LIK_CATEGORICAL, 1);
    size_t P = m.n_params;
    double *w = malloc(N * P * sizeof *w), *fs = malloc(N * F * 3 * sizeof *fs);
    bnn_rng rng;
    bnn_rng_init(&rng, 9, 0);
    int rc = synth_run_json(dir, &m, K, 1, F, 3);
    for (size_t c = 0; c < K; c++) {
        bnn_rng_normals(&rng, w, N * P);
        bnn_rng_normals(&rng, fs, N * F * 3);
        rc |= synth_chain(dir, c, N, P, w, F, 3, fs);
    }
    free(w);
    free(fs);
    bnn_diag_run_options opt = {.threads = 1};
    bnn_diag_run *r;
    if (rc || bnn_diag_run_compute(dir, &opt, &r) != BNN_OK) return verdict(0, bnn_last_error(), 0);
    double worst_var = 0, worst_kurt = 0, worst_norm = 0;
    for (size_t b = 0; b < r->marginals.n_blocks; b++) {
        const bnn_marginal_block *k = &r->marginals.blocks[b];
        worst_var = fmax(worst_var, fabs(k->var / k->prior_var - 1));
        worst_kurt = fmax(worst_kurt, fabs(k->excess_kurtosis));
        worst_norm = fmax(worst_norm, fabs(k->norm_rms / k->prior_radius - 1));
    }
    int ok = verdict(r->has_marginals && r->marginals.n_blocks == 4 && worst_var < 0.1,
                     "prior draws: pooled variance = prior's (worst |ratio - 1|)", worst_var);
    ok &= verdict(worst_kurt < 0.3, "prior draws: excess kurtosis ~ 0 (worst)", worst_kurt);
    ok &= verdict(worst_norm < 0.05, "prior draws: norm = prior radius (worst rel. diff)", worst_norm);
    double frac = (double)r->marginals.n_prior_like / (double)P;
    ok &= verdict(frac > 0.95, "prior draws: classified prior-like", frac);
    ok &= verdict(r->islands.n_islands == 1 && !r->weight.rhat_nested, "one island, no nesting",
                  (double)r->islands.n_islands);
    const bnn_null_rhat *nu = &r->function.null;
    ok &= verdict(fabs(nu->observed[0] - nu->expected[0]) <= 4 * nu->expected_sd[0] + 3,
                  "iid function draws: count above 1.01 within the null's 4 sd",
                  nu->observed[0] - nu->expected[0]);
    bnn_diag_run_free(r);
    return ok;
}

int main(void)
{
    char a[512], b[512];
    if (core_mkdtemp(a, sizeof a, "align-a") || core_mkdtemp(b, sizeof b, "align-b")) return 1;
    int ok = check_run_a(a);
    ok &= check_run_b(b);
    core_rmtree(a);
    core_rmtree(b);
    return ok ? 0 : 1;
}
