/* bnnmc report: one self-contained HTML page (inline SVG) with the R-hat tables and histograms
 * of every space against the null, trace plots of the worst quantities, the island heat maps,
 * the test images with the worst function-space R-hat beside each chain's predictions, the
 * prior-marginal table and the sample statistics; every figure also as a PNG file. */
#include "report/report.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <sys/stat.h>

#include "data/dataset.h"
#include "data/npy.h"
#include "report/plot.h"
#include "sample/run.h"

/* Where the figures go: inline SVG in the page and, unless fig_dir is "", fig_dir/NAME.png. */
typedef struct {
    FILE *html;
    char fig_dir[1024];
    bnn_status status; /* the first PNG that could not be written */
    size_t n_png;
} report_out;

/* Starts pass `pass` of a figure of height h: 0 the SVG, 1 the PNG; returns 0 when done. */
static int fig_begin(report_out *o, int pass, canvas *c, double h)
{
    if (pass == 0) {
        canvas_begin_svg(c, o->html, PLOT_WIDTH, h);
        return 1;
    }
    if (pass > 1 || !o->fig_dir[0] || o->status != BNN_OK) return 0;
    o->status = canvas_begin_png(c, PLOT_WIDTH, h);
    return o->status == BNN_OK;
}

static void fig_end(report_out *o, canvas *c, const char *name)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s.png", o->fig_dir, name);
    int png = c->kind == CANVAS_PNG;
    bnn_status s = canvas_end(c, path);
    if (png && s == BNN_OK) o->n_png++;
    if (o->status == BNN_OK) o->status = s;
}

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

static void histograms(report_out *o, json_t *root)
{
    static const char *const names[3] = {"rhat_hist_weight", "rhat_hist_weight_aligned",
                                         "rhat_hist_function"};
    FILE *f = o->html;
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
        canvas c;
        for (int pass = 0; fig_begin(o, pass, &c, PLOT_HEIGHT); pass++) {
            plot_histogram(&c, space_titles[s], "R-hat (values beyond the axis in the end bins)",
                           jnum(h, "lo"), jnum(h, "hi"), bins, obs, exp_, lines, 3);
            fig_end(o, &c, names[s]);
        }
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

static void traces(report_out *o, json_t *root, const char *dir)
{
    FILE *f = o->html;
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
                char name[64];
                snprintf(name, sizeof name, "trace_%s_%zu", space_keys[s], k + 1);
                canvas c;
                for (int pass = 0; fig_begin(o, pass, &c, PLOT_HEIGHT); pass++) {
                    plot_traces(&c, title, y, n, K);
                    fig_end(o, &c, name);
                }
            }
            free(y);
        }
    }
    fprintf(f, "</div>\n");
}

static void islands(report_out *o, json_t *root)
{
    FILE *f = o->html;
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
        char name[64];
        snprintf(name, sizeof name, "islands_%s", keys[k]);
        canvas c;
        for (int pass = 0; fig_begin(o, pass, &c, PLOT_HEIGHT); pass++) {
            plot_heatmap(&c, titles[k], m, K, lo[k], hi[k]);
            fig_end(o, &c, name);
        }
    }
    free(m);
    fprintf(f, "</div>\n");
}

#define N_INPUTS 6 /* test inputs shown with the worst function-space R-hat */

/* (ph, pw, 3) RGB bytes of test row `row`: features un-standardised, then scaled to 0..255 over
 * the image; one channel is drawn dark on white, as digits are printed. */
static void input_image(const bnn_dataset *ds, size_t row, unsigned char *rgb)
{
    const bnn_table *t = &ds->test;
    const size_t d = t->d, ch = t->channels ? t->channels : 1;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t j = 0; j < d; j++) {
        double v = t->x[row * d + j] * ds->sd[j] + ds->mean[j];
        lo = fmin(lo, v), hi = fmax(hi, v);
    }
    double scale = hi > lo ? 255.0 / (hi - lo) : 0;
    for (size_t p = 0; p < t->height * t->width; p++)
        for (size_t k = 0; k < 3; k++) {
            size_t j = p * ch + (ch == 3 ? k : 0);
            double v = (t->x[row * d + j] * ds->sd[j] + ds->mean[j] - lo) * scale;
            rgb[3 * p + k] = (unsigned char)lround(ch == 3 ? v : 255.0 - v);
        }
}

/* probs (n, K, C): chain means over each chain's n_draws rows of fs.npy of the columns of
 * fs points point[i]. */
static bnn_status chain_means(const char *dir, const size_t *point, size_t n, size_t K, size_t C,
                              size_t n_draws, double *probs)
{
    double *row = malloc(C * sizeof *row);
    if (!row) return BNN_ERROR(BNN_ENOMEM, "out of memory");
    bnn_status s = BNN_OK;
    for (size_t c = 0; c < K && s == BNN_OK; c++) {
        char path[1200];
        snprintf(path, sizeof path, "%s/chain_%03zu/fs.npy", dir, c);
        FILE *fp = fopen(path, "rb");
        bnn_npy_header h;
        if (!fp) {
            s = BNN_ERROR(BNN_EIO, "%s: cannot open: %s", path, strerror(errno));
            break;
        }
        s = bnn_npy_read_header(fp, path, &h);
        size_t Q = s == BNN_OK && h.ndim >= 2 && h.shape[0] ? h.count / h.shape[0] : 0;
        if (s == BNN_OK && (h.ndim != 3 || h.shape[0] < n_draws || h.shape[2] != C))
            s = BNN_ERROR(BNN_EFORMAT, "%s: not (draws, points, %zu classes)", path, C);
        for (size_t i = 0; s == BNN_OK && i < n; i++) {
            double *out = probs + (i * K + c) * C;
            for (size_t k = 0; k < C; k++) out[k] = 0;
            for (size_t t = 0; s == BNN_OK && t < n_draws; t++) {
                s = bnn_npy_read_doubles(fp, path, &h, t * Q + point[i] * C, C, row);
                for (size_t k = 0; s == BNN_OK && k < C; k++) out[k] += row[k] / (double)n_draws;
            }
        }
        fclose(fp);
    }
    free(row);
    return s;
}

/* The data set of the run in dir (its run.json), or an error saying why it cannot be had. */
static bnn_status run_dataset(const char *dir, bnn_dataset *ds, size_t **fs_index, size_t *M)
{
    bnn_run_config cfg;
    bnn_dataset_options dopt;
    bnn_run_data_strings strings;
    BNN_TRY(bnn_run_config_read(dir, &cfg, &dopt, &strings));
    BNN_TRY(bnn_dataset_load(&dopt, ds));
    char path[1200];
    snprintf(path, sizeof path, "%s/fs_index.npy", dir);
    FILE *fp = fopen(path, "rb");
    bnn_npy_header h;
    bnn_status s = fp ? bnn_npy_read_header(fp, path, &h)
                      : BNN_ERROR(BNN_EIO, "%s: cannot open: %s", path, strerror(errno));
    double *v = s == BNN_OK ? malloc((h.count ? h.count : 1) * sizeof *v) : NULL;
    *fs_index = v ? malloc((h.count ? h.count : 1) * sizeof **fs_index) : NULL;
    if (s == BNN_OK && !*fs_index) s = BNN_ERROR(BNN_ENOMEM, "out of memory");
    if (s == BNN_OK) s = bnn_npy_read_doubles(fp, path, &h, 0, h.count, v);
    for (size_t i = 0; s == BNN_OK && i < h.count; i++) {
        if (!(v[i] >= 0 && v[i] < (double)ds->test.n))
            s = BNN_ERROR(BNN_EFORMAT, "%s: entry %zu: %g is not a test row", path, i, v[i]);
        else
            (*fs_index)[i] = (size_t)v[i];
    }
    if (s == BNN_OK) *M = h.count;
    free(v);
    if (fp) fclose(fp);
    if (s != BNN_OK) {
        free(*fs_index);
        *fs_index = NULL;
        bnn_dataset_free(ds);
    }
    return s;
}

/* Thumbnails of the test inputs with the worst function-space R-hat beside each chain's
 * mean predicted probabilities (image classification only). */
static void worst_inputs(report_out *o, json_t *root, const char *dir)
{
    json_t *sp = json_object_get(root, "function");
    json_t *worst = jget(sp, "worst");
    size_t K = (size_t)jnum(root, "chains"), n_draws = (size_t)jnum(sp, "draws_per_chain");
    if (!json_is_object(sp) || json_array_size(worst) == 0 || K == 0 || n_draws == 0) return;
    FILE *f = o->html;
    bnn_dataset ds;
    size_t *fs_index = NULL, M = 0;
    if (run_dataset(dir, &ds, &fs_index, &M) != BNN_OK) {
        fprintf(f, "<p>Test images not shown: ");
        html_text(f, bnn_last_error());
        fprintf(f, "</p>\n");
        return;
    }
    const size_t C = ds.n_classes, ph = ds.test.height, pw = ds.test.width;
    size_t point[N_INPUTS], n = 0;
    double rhat[N_INPUTS];
    json_t *w;
    size_t i;
    json_array_foreach(worst, i, w) {
        if (!(ds.task == BNN_TASK_CLASSIFY && C > 0 && ph > 0 && M > 0) || n == N_INPUTS) break;
        size_t q = (size_t)jnum(w, "index"), p = q / C, seen = 0;
        for (size_t k = 0; k < n; k++) seen |= point[k] == p;
        if (seen || p >= M) continue;
        rhat[n] = jnum(w, "rhat");
        point[n++] = p;
    }
    unsigned char *images = n ? malloc(n * ph * pw * 3) : NULL;
    double *probs = n ? malloc(n * K * C * sizeof *probs) : NULL;
    char captions[N_INPUTS][96];
    const char *caption_of[N_INPUTS];
    if (n && images && probs && chain_means(dir, point, n, K, C, n_draws, probs) == BNN_OK) {
        for (size_t k = 0; k < n; k++) {
            size_t row = fs_index[point[k]];
            input_image(&ds, row, images + k * ph * pw * 3);
            snprintf(captions[k], sizeof captions[k], "test row %zu, label %.0f, R-hat %.3f", row,
                     ds.test.y[row], rhat[k]);
            caption_of[k] = captions[k];
        }
        fprintf(f, "<h2>Test inputs with the worst function-space R-hat</h2>\n");
        plot_inputs_data d = {.n = n, .pw = pw, .ph = ph, .images = images,
                              .captions = caption_of, .probs = probs, .K = K, .C = C};
        canvas c;
        for (int pass = 0; fig_begin(o, pass, &c, plot_inputs_height(n)); pass++) {
            plot_inputs(&c, "predicted probabilities by chain", &d);
            fig_end(o, &c, "worst_inputs");
        }
    } else if (n) {
        fprintf(f, "<p>Test images not shown: ");
        html_text(f, bnn_last_error());
        fprintf(f, "</p>\n");
    }
    free(images);
    free(probs);
    free(fs_index);
    bnn_dataset_free(&ds);
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

bnn_status bnn_report_write(const char *run_dir, const char *out_path, const char *fig_dir)
{
    char path[1024], out[1100];
    snprintf(path, sizeof path, "%s/diagnostics.json", run_dir);
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (!root)
        return BNN_ERROR(BNN_EIO, "%s: %s (run `bnnmc diagnose %s` first)", path, err.text, run_dir);
    snprintf(out, sizeof out, "%s", out_path ? out_path : "");
    if (!out_path) snprintf(out, sizeof out, "%s/report.html", run_dir);
    report_out o = {.status = BNN_OK};
    snprintf(o.fig_dir, sizeof o.fig_dir, "%s", fig_dir ? fig_dir : "");
    if (!fig_dir) snprintf(o.fig_dir, sizeof o.fig_dir, "%s/figures", run_dir);
    if (o.fig_dir[0] && mkdir(o.fig_dir, 0755) != 0 && errno != EEXIST) {
        json_decref(root);
        return BNN_ERROR(BNN_EIO, "%s: cannot create: %s", o.fig_dir, strerror(errno));
    }
    FILE *f = fopen(out, "w");
    if (!f) {
        json_decref(root);
        return BNN_ERROR(BNN_EIO, "%s: cannot write", out);
    }
    o.html = f;
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
    histograms(&o, root);
    traces(&o, root, run_dir);
    islands(&o, root);
    worst_inputs(&o, root, run_dir);
    marginals(f, root);
    sample_stats(f, root);
    if (o.fig_dir[0] && o.status == BNN_OK) {
        fprintf(f, "<p>Every figure is also a PNG file in ");
        html_text(f, o.fig_dir);
        fprintf(f, " (%zu files).</p>\n", o.n_png);
    }
    fprintf(f, "</body></html>\n");
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    json_decref(root);
    if (o.status != BNN_OK) return o.status;
    return bad ? BNN_ERROR(BNN_EIO, "%s: write failed", out) : BNN_OK;
}
