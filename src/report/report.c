/* bnnmc report: one self-contained HTML page (inline SVG) with the R-hat tables and histograms
 * of every space against the null, trace plots of the worst quantities, the island heat maps,
 * the prior-marginal table and the sample statistics. */
#include "report/report.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/npy.h"
#include "report/svg.h"

/* The value at a '/'-separated path of object keys ("weight/rhat/q50"), or NULL. */
static json_t *jget(json_t *o, const char *path)
{
    char key[128];
    while (o && *path) {
        size_t n = strcspn(path, "/");
        if (n >= sizeof key) return NULL;
        memcpy(key, path, n);
        key[n] = 0;
        o = json_object_get(o, key);
        path += n + (path[n] == '/');
    }
    return o;
}

static double jnum(json_t *o, const char *path)
{
    json_t *v = jget(o, path);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* Copies a JSON array of numbers (null -> NaN) into out (n); returns the count read. */
static size_t jarray(json_t *a, double *out, size_t n)
{
    size_t k = 0;
    for (; k < n && k < json_array_size(a); k++) {
        json_t *v = json_array_get(a, k);
        out[k] = json_is_number(v) ? json_number_value(v) : NAN;
    }
    return k;
}

static const char *const space_keys[3] = {"weight", "weight_aligned", "function"};
static const char *const space_titles[3] = {"weight space (raw)", "weight space (aligned)",
                                            "function space"};

static void cell(FILE *f, double v, const char *fmt)
{
    if (isfinite(v)) {
        fprintf(f, "<td>");
        fprintf(f, fmt, v);
        fprintf(f, "</td>");
    } else {
        fprintf(f, "<td>-</td>");
    }
}

static void rhat_table(FILE *f, json_t *root)
{
    fprintf(f, "<h2>R-hat by space</h2>\n<table><tr><th>space</th><th>quantities</th>"
               "<th>draws/chain</th><th>q50</th><th>q90</th><th>q99</th><th>max</th>"
               "<th>&gt;1.01 observed (null)</th><th>&gt;1.05 observed (null)</th>"
               "<th>&gt;1.1 observed (null)</th><th>nested q50 / q99</th><th>ESS bulk median</th></tr>\n");
    for (int s = 0; s < 3; s++) {
        json_t *sp = json_object_get(root, space_keys[s]);
        if (!json_is_object(sp)) continue;
        fprintf(f, "<tr><td>%s</td>", space_titles[s]);
        cell(f, jnum(sp, "n_quantities"), "%.0f");
        cell(f, jnum(sp, "draws_per_chain"), "%.0f");
        const char *q[4] = {"rhat/q50", "rhat/q90", "rhat/q99", "rhat/max"};
        for (int k = 0; k < 4; k++) cell(f, jnum(sp, q[k]), "%.4f");
        json_t *thr = jget(sp, "null/thresholds");
        for (size_t t = 0; t < 3; t++) {
            json_t *e = json_array_get(thr, t);
            if (!e) {
                fprintf(f, "<td>-</td>");
                continue;
            }
            fprintf(f, "<td>%.0f (%.1f &plusmn; %.1f)</td>", jnum(e, "observed"),
                    jnum(e, "expected"), jnum(e, "expected_sd"));
        }
        double n50 = jnum(sp, "rhat_nested/q50"), n99 = jnum(sp, "rhat_nested/q99");
        if (isfinite(n50)) fprintf(f, "<td>%.4f / %.4f</td>", n50, n99);
        else fprintf(f, "<td>-</td>");
        cell(f, jnum(sp, "ess_bulk/median"), "%.1f");
        fprintf(f, "</tr>\n");
    }
    fprintf(f, "</table>\n<p>Null: the counts expected if every chain had converged, with the "
               "run's chains and draws and each quantity's bulk ESS (simulated AR(1) chains); "
               "&plusmn; one standard deviation.</p>\n");
}

static void histograms(FILE *f, json_t *root)
{
    fprintf(f, "<h2>R-hat histograms (log count axis)</h2>\n<div class=\"row\">\n");
    const double lines[3] = {1.01, 1.05, 1.1};
    for (int s = 0; s < 3; s++) {
        json_t *h = jget(root, s == 0 ? "weight/null/hist" : s == 1 ? "weight_aligned/null/hist"
                                                                    : "function/null/hist");
        size_t bins = (size_t)jnum(h, "bins");
        if (!h || bins == 0 || bins > 10000) continue;
        double *obs = calloc(2 * bins, sizeof *obs), *exp_ = obs ? obs + bins : NULL;
        if (!obs) return;
        jarray(json_object_get(h, "observed"), obs, bins);
        jarray(json_object_get(h, "expected"), exp_, bins);
        svg_histogram(f, space_titles[s], "R-hat (values beyond the axis in the end bins)",
                      jnum(h, "lo"), jnum(h, "hi"), bins, obs, exp_, lines, 3);
        free(obs);
    }
    fprintf(f, "</div>\n");
}

/* Draws of quantity `index` of DIR/chain_NNN/NAME for every chain into y (K, n). */
static int read_trace(const char *dir, const char *name, size_t index, size_t K, size_t n,
                      double *y)
{
    for (size_t c = 0; c < K; c++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/chain_%03zu/%s", dir, c, name);
        FILE *fp = fopen(path, "rb");
        bnn_npy_header h;
        if (!fp) return -1;
        int bad = bnn_npy_read_header(fp, path, &h) != BNN_OK || h.ndim < 2 || h.shape[0] < n;
        size_t Q = bad ? 0 : h.count / h.shape[0];
        bad |= index >= Q;
        for (size_t i = 0; !bad && i < n; i++)
            bad = bnn_npy_read_doubles(fp, path, &h, i * Q + index, 1, &y[c * n + i]) != BNN_OK;
        fclose(fp);
        if (bad) return -1;
    }
    return 0;
}

static void traces(FILE *f, json_t *root, const char *dir)
{
    fprintf(f, "<h2>Traces of the worst quantities</h2>\n<div class=\"row\">\n");
    const char *files[3] = {"weights.npy", "aligned_weights.npy", "fs.npy"};
    size_t K = (size_t)jnum(root, "chains");
    for (int s = 0; s < 3; s++) {
        json_t *sp = json_object_get(root, space_keys[s]);
        json_t *worst = jget(sp, "worst");
        size_t n = (size_t)jnum(sp, "draws_per_chain");
        for (size_t k = 0; k < 2 && k < json_array_size(worst) && n > 0 && K > 0; k++) {
            json_t *w = json_array_get(worst, k);
            double *y = malloc(K * n * sizeof *y);
            if (!y) return;
            if (read_trace(dir, files[s], (size_t)jnum(w, "index"), K, n, y) == 0) {
                char title[256];
                snprintf(title, sizeof title, "%s: %s (R-hat %.3f)", space_titles[s],
                         json_string_value(json_object_get(w, "name")), jnum(w, "rhat"));
                svg_traces(f, title, y, n, K);
            }
            free(y);
        }
    }
    fprintf(f, "</div>\n");
}

static void islands(FILE *f, json_t *root)
{
    json_t *is = json_object_get(root, "islands");
    if (!json_is_object(is)) return;
    size_t K = json_array_size(json_object_get(is, "island_of_chain"));
    fprintf(f, "<h2>Chain islands</h2>\n<p>%zu island(s). Rule: ", (size_t)jnum(is, "n_islands"));
    html_text(f, json_string_value(json_object_get(is, "rule")) ? json_string_value(json_object_get(is, "rule")) : "");
    fprintf(f, " (threshold %.3g). Islands:", jnum(is, "threshold"));
    json_t *g;
    size_t i;
    json_array_foreach(json_object_get(is, "islands"), i, g) {
        fprintf(f, " {");
        json_t *c;
        size_t j;
        json_array_foreach(g, j, c) fprintf(f, j ? ", %lld" : "%lld", (long long)json_integer_value(c));
        fprintf(f, "}");
    }
    fprintf(f, "</p>\n<div class=\"row\">\n");
    double *m = K ? malloc(K * K * sizeof *m) : NULL;
    const char *keys[3] = {"rhat_q90", "tv", "agreement"};
    const char *titles[3] = {"2-chain function-space R-hat, 90% quantile",
                             "total variation of chain-mean predictions", "argmax agreement"};
    const double lo[3] = {1.0, 0.0, 1.0}, hi[3] = {1.2, 0.2, 0.8};
    for (int k = 0; m && k < 3; k++) {
        json_t *rows = json_object_get(is, keys[k]);
        for (size_t a = 0; a < K; a++) jarray(json_array_get(rows, a), m + a * K, K);
        svg_heatmap(f, titles[k], m, K, lo[k], hi[k]);
    }
    free(m);
    fprintf(f, "</div>\n");
}

static void marginals(FILE *f, json_t *root)
{
    json_t *mg = json_object_get(root, "marginals");
    if (!json_is_object(mg)) return;
    fprintf(f, "<h2>Posterior marginals against the prior</h2>\n<p>Rule: ");
    html_text(f, json_string_value(json_object_get(mg, "rule")) ? json_string_value(json_object_get(mg, "rule")) : "");
    fprintf(f, " (moments from %s draws): %.0f prior-like, %.0f data-informed.</p>\n<table><tr>"
               "<th>block</th><th>size</th><th>prior var</th><th>mean</th><th>var / prior</th>"
               "<th>excess kurtosis</th><th>rms norm</th><th>prior radius</th><th>prior-like</th></tr>\n",
            json_string_value(json_object_get(mg, "moments_from")), jnum(mg, "n_prior_like"),
            jnum(mg, "n_data_informed"));
    json_t *b;
    size_t i;
    json_array_foreach(json_object_get(mg, "blocks"), i, b) {
        fprintf(f, "<tr><td>%s</td>", json_string_value(json_object_get(b, "name")));
        cell(f, jnum(b, "size"), "%.0f");
        cell(f, jnum(b, "prior_var"), "%.4g");
        cell(f, jnum(b, "mean"), "%.4f");
        cell(f, jnum(b, "var_ratio"), "%.3f");
        cell(f, jnum(b, "excess_kurtosis"), "%.3f");
        cell(f, jnum(b, "norm_rms"), "%.2f");
        cell(f, jnum(b, "prior_radius"), "%.2f");
        cell(f, jnum(b, "n_prior_like"), "%.0f");
        fprintf(f, "</tr>\n");
    }
    fprintf(f, "</table>\n<table><tr><th>R-hat</th><th>group</th><th>n</th><th>q50</th>"
               "<th>q90</th><th>q99</th><th>max</th><th>&gt;1.01</th></tr>\n");
    const char *sp[2] = {"raw", "aligned"}, *grp[2] = {"prior_like", "data_informed"};
    for (int s = 0; s < 2; s++)
        for (int g = 0; g < 2; g++) {
            char path[64];
            snprintf(path, sizeof path, "rhat/%s/%s", sp[s], grp[g]);
            json_t *o = jget(mg, path);
            if (!o) continue;
            fprintf(f, "<tr><td>%s</td><td>%s</td>", sp[s], grp[g]);
            const char *k[6] = {"n", "q50", "q90", "q99", "max", "frac_gt_1.01"};
            for (int j = 0; j < 6; j++) cell(f, jnum(o, k[j]), j == 0 ? "%.0f" : "%.4f");
            fprintf(f, "</tr>\n");
        }
    fprintf(f, "</table>\n");
}

static void sample_stats(FILE *f, json_t *root)
{
    fprintf(f, "<h2>Sample statistics</h2>\n<table><tr><th>chain</th><th>iterations</th>"
               "<th>accept prob</th><th>divergences</th><th>step size</th><th>leapfrog</th>"
               "<th>E-BFMI</th></tr>\n");
    json_t *c;
    size_t i;
    json_array_foreach(jget(root, "sample_stats/chains"), i, c) {
        fprintf(f, "<tr><td>%zu</td>", i);
        cell(f, jnum(c, "iterations"), "%.0f");
        cell(f, jnum(c, "accept_prob"), "%.3f");
        cell(f, jnum(c, "divergences"), "%.0f");
        cell(f, jnum(c, "step_size"), "%.4g");
        cell(f, jnum(c, "n_leapfrog"), "%.1f");
        cell(f, jnum(c, "ebfmi"), "%.3f");
        fprintf(f, "</tr>\n");
    }
    fprintf(f, "</table>\n");
}

bnn_status bnn_report_write(const char *run_dir, const char *out_path)
{
    char path[1024], out[1100];
    snprintf(path, sizeof path, "%s/diagnostics.json", run_dir);
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (!root)
        return BNN_ERROR(BNN_EIO, "%s: %s (run `bnnmc diagnose %s` first)", path, err.text, run_dir);
    snprintf(out, sizeof out, "%s", out_path ? out_path : "");
    if (!out_path) snprintf(out, sizeof out, "%s/report.html", run_dir);
    FILE *f = fopen(out, "w");
    if (!f) {
        json_decref(root);
        return BNN_ERROR(BNN_EIO, "%s: cannot write", out);
    }
    fprintf(f, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>bnnmc report</title>"
               "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;"
               "margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
               ".row{display:flex;flex-wrap:wrap;gap:10px}</style></head><body>\n<h1>bnnmc report: ");
    html_text(f, run_dir);
    fprintf(f, "</h1>\n<p>%.0f chains", jnum(root, "chains"));
    if (jnum(root, "superchains") > 1) fprintf(f, " in %.0f superchains", jnum(root, "superchains"));
    json_t *al = json_object_get(root, "alignment");
    if (json_is_object(al)) {
        fprintf(f, "; alignment %s to the ", json_string_value(json_object_get(al, "mode")));
        html_text(f, json_string_value(json_object_get(al, "reference")) ? json_string_value(json_object_get(al, "reference")) : "");
    } else {
        fprintf(f, "; no alignment (run <code>bnnmc diagnose RUN --align</code> to add it)");
    }
    fprintf(f, ".</p>\n");
    rhat_table(f, root);
    histograms(f, root);
    traces(f, root, run_dir);
    islands(f, root);
    marginals(f, root);
    sample_stats(f, root);
    fprintf(f, "</body></html>\n");
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    json_decref(root);
    return bad ? BNN_ERROR(BNN_EIO, "%s: write failed", out) : BNN_OK;
}
