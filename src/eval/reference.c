/* Reference evaluation: predictive distributions from CSV files (the NeurIPS 2021 BDL
 * competition's layout) or run directories, paired input by input and compared with the
 * competition's agreement, total variation and 1-Wasserstein distance. */
#define MATHLIB_STANDALONE 1
#include <Rmath.h>

#include "eval/reference.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/dataset.h"
#include "data/npy.h"
#include "eval/predict.h"

#define SQRT1_2 0.70710678118654752440
#define INV_SQRT_2PI 0.39894228040143267794

int bnn_predset_path_is_run(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

void bnn_predset_free(bnn_predset *p)
{
    if (!p) return;
    free(p->values);
    free(p->mean);
    free(p->targets);
    free(p->rows);
    free(p->line);
    memset(p, 0, sizeof *p);
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* "FILE:LINE:COL" of input i's class or sample c in a CSV. */
static void csv_where(const bnn_predset *p, size_t i, size_t c, char *buf, size_t cap)
{
    if (p->transposed) snprintf(buf, cap, "%s:%zu:%zu", p->source, p->line[c], i + 1);
    else snprintf(buf, cap, "%s:%zu:%zu", p->source, p->line[i], c + 1);
}

/* Every row of class probabilities is >= 0 and sums to 1 within the tolerance. */
static bnn_status check_probabilities(const bnn_predset *p, double tolerance)
{
    char where[1200];
    if (p->k < 2)
        return BNN_ERROR(BNN_EFORMAT, "%s: a single column; class probabilities need two or "
                         "more (regression samples: --task regression)", p->source);
    for (size_t i = 0; i < p->n; i++) {
        double sum = 0;
        for (size_t c = 0; c < p->k; c++) {
            double v = p->values[i * p->k + c];
            if (v < 0) {
                csv_where(p, i, c, where, sizeof where);
                return BNN_ERROR(BNN_ERANGE, "%s: negative probability %g", where, v);
            }
            sum += v;
        }
        if (!(fabs(sum - 1) <= tolerance)) {
            if (p->transposed)
                return BNN_ERROR(BNN_ERANGE, "%s: column %zu: probabilities sum to %.9g, not 1 "
                                 "(tolerance %g)", p->source, i + 1, sum, tolerance);
            return BNN_ERROR(BNN_ERANGE, "%s:%zu: probabilities sum to %.9g, not 1 (tolerance %g)",
                             p->source, p->line[i], sum, tolerance);
        }
    }
    return BNN_OK;
}

bnn_status bnn_predset_read_csv(const char *path, const bnn_predset_options *o, bnn_predset *out)
{
    memset(out, 0, sizeof *out);
    bnn_csv_matrix m;
    BNN_TRY(bnn_read_csv_matrix(path, -1, &m));
    snprintf(out->source, sizeof out->source, "%s", path);
    out->kind = o->kind;
    out->transposed = o->transpose;
    out->line = m.line;
    if (!o->transpose) {
        out->n = m.rows;
        out->k = m.cols;
        out->values = m.v;
    } else {
        out->n = m.cols;
        out->k = m.rows;
        out->values = malloc(m.rows * m.cols * sizeof(double));
        if (!out->values) {
            bnn_csv_matrix_free(&m);
            memset(out, 0, sizeof *out);
            return BNN_ERROR(BNN_ENOMEM, "%s: out of memory", path);
        }
        for (size_t r = 0; r < m.rows; r++)
            for (size_t c = 0; c < m.cols; c++) out->values[c * m.rows + r] = m.v[r * m.cols + c];
        free(m.v);
    }
    out->n_test = out->n;
    bnn_status s = BNN_OK;
    if (o->kind == BNN_PRED_CLASSES) s = check_probabilities(out, o->tolerance);
    else
        for (size_t i = 0; i < out->n; i++)
            qsort(out->values + i * out->k, out->k, sizeof(double), by_value);
    if (s != BNN_OK) bnn_predset_free(out);
    return s;
}

/* The quantiles at u_j = (j + ½)/m, j < m, of the mixture (1/S) Σ_s N(mu_s, sigma²), mu (S)
 * sorted: each solved by Newton steps kept inside the bracket
 * [mu_min + σ z_u, mu_max + σ z_u] (z_u the standard normal quantile), which holds it, until
 * the Newton step is below 1e-14 of the scale (or the bracket closes). */
static void mixture_quantiles(const double *mu, size_t S, double sigma, size_t m, double *q)
{
    double t = mu[0];
    for (size_t j = 0; j < m; j++) {
        double u = ((double)j + 0.5) / (double)m, z = qnorm5(u, 0, 1, 1, 0);
        double lo = mu[0] + sigma * z, hi = mu[S - 1] + sigma * z;
        if (!(t > lo && t < hi)) t = 0.5 * (lo + hi);
        for (int it = 0; it < 200 && hi > lo; it++) {
            double cdf = 0, dens = 0;
            for (size_t s = 0; s < S; s++) {
                double x = (t - mu[s]) / sigma;
                cdf += 0.5 * erfc(-x * SQRT1_2);
                dens += exp(-0.5 * x * x);
            }
            double g = cdf / (double)S - u;
            dens *= INV_SQRT_2PI / (sigma * (double)S);
            if (g == 0 || (dens > 0 && fabs(g / dens) <= 1e-14 * (fabs(t) + sigma))) break;
            if (g < 0) lo = t;
            else hi = t;
            double next = dens > 0 ? t - g / dens : 0.5 * (lo + hi);
            t = next > lo && next < hi ? next : 0.5 * (lo + hi);
        }
        q[j] = t;
    }
    qsort(q, m, sizeof *q, by_value); /* monotone already, up to rounding */
}

/* Reads a whole .npy array of any size into a new double array. */
static bnn_status read_npy(const char *path, bnn_npy_header *h, double **out)
{
    return bnn_npy_load_doubles(path, 0, "is this a finished bnnmc run?", h, out);
}

/* noise_sd and the function-space rows (fs_index.npy) of a regression run. */
static bnn_status read_fs_layout(const char *dir, size_t n_test, double *noise_sd, size_t **rows,
                                 size_t *m)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/run.json", dir);
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (!root) return BNN_ERROR(BNN_EFORMAT, "%s: line %d: %s", path, err.line, err.text);
    int bad = json_unpack(root, "{s:{s:F}}", "config", "noise_sd", noise_sd) != 0 ||
              !(*noise_sd > 0) || !isfinite(*noise_sd);
    json_decref(root);
    if (bad) return BNN_ERROR(BNN_EFORMAT, "%s: config.noise_sd missing or not > 0", path);
    snprintf(path, sizeof path, "%s/fs_index.npy", dir);
    bnn_npy_header h;
    double *idx = NULL;
    BNN_TRY(read_npy(path, &h, &idx));
    *m = h.count;
    *rows = malloc((*m ? *m : 1) * sizeof **rows);
    bnn_status s = *rows ? BNN_OK : BNN_ERROR(BNN_ENOMEM, "out of memory");
    for (size_t i = 0; s == BNN_OK && i < *m; i++) {
        if (!(idx[i] >= 0 && idx[i] < (double)n_test) || (i && idx[i] <= idx[i - 1]))
            s = BNN_ERROR(BNN_EFORMAT, "%s: element %zu (%g) is not an ascending row of the %zu "
                          "test inputs", path, i, idx[i], n_test);
        else (*rows)[i] = (size_t)idx[i];
    }
    if (s == BNN_OK && *m == 0) s = BNN_ERROR(BNN_EFORMAT, "%s: no function-space points", path);
    free(idx);
    if (s != BNN_OK) {
        free(*rows);
        *rows = NULL;
    }
    return s;
}

/* mu (m, S): the predictive mean of every sampling iteration of every chain at the m points. */
static bnn_status read_fs_draws(const char *dir, const bnn_predict_result *r, size_t m,
                                double **mu, size_t *S)
{
    char path[1200];
    *S = r->n_draws;
    *mu = malloc((m * *S + 1) * sizeof **mu);
    if (!*mu) return BNN_ERROR(BNN_ENOMEM, "out of memory for %zu x %zu draws", m, *S);
    size_t base = 0;
    for (size_t c = 0; c < r->n_chains; c++) {
        snprintf(path, sizeof path, "%s/chain_%03zu/fs.npy", dir, c);
        bnn_npy_header h;
        double *v = NULL;
        BNN_TRY(read_npy(path, &h, &v));
        if (h.ndim != 3 || h.shape[1] != m || h.shape[2] != 1 || h.shape[0] != r->chain_draws[c]) {
            free(v);
            return BNN_ERROR(BNN_EFORMAT, "%s: shape is not (%zu draws, %zu points, 1)", path,
                             r->chain_draws[c], m);
        }
        for (size_t d = 0; d < h.shape[0]; d++)
            for (size_t i = 0; i < m; i++) (*mu)[i * *S + base + d] = v[d * m + i];
        base += h.shape[0];
        free(v);
    }
    return BNN_OK;
}

/* The regression part of bnn_predset_read_run: samples at the function-space points. */
static bnn_status read_run_samples(const char *dir, const bnn_predset_options *o,
                                   const bnn_predict_result *r, bnn_predset *out)
{
    double sigma = 0, *mu = NULL;
    size_t m = 0, S = 0;
    BNN_TRY(read_fs_layout(dir, r->n_test, &sigma, &out->rows, &m));
    out->n = m;
    out->k = o->quantiles ? o->quantiles : r->n_draws;
    bnn_status s = read_fs_draws(dir, r, m, &mu, &S);
    out->values = s == BNN_OK ? malloc(m * out->k * sizeof(double)) : NULL;
    out->mean = malloc(m * sizeof(double));
    out->targets = malloc(m * sizeof(double));
    if (s == BNN_OK && (!out->values || !out->mean || !out->targets))
        s = BNN_ERROR(BNN_ENOMEM, "out of memory for %zu x %zu samples", m, out->k);
    for (size_t i = 0; s == BNN_OK && i < m; i++) {
        double *row = mu + i * S;
        qsort(row, S, sizeof *row, by_value);
        if (o->quantiles) mixture_quantiles(row, S, sigma, o->quantiles, out->values + i * out->k);
        else memcpy(out->values + i * out->k, row, S * sizeof *row);
        out->mean[i] = r->bma[out->rows[i]];
        out->targets[i] = r->targets[out->rows[i]];
    }
    free(mu);
    if (s == BNN_OK && m == r->n_test) { /* every test row: 0..n-1 in order */
        free(out->rows);
        out->rows = NULL;
    }
    return s;
}

bnn_status bnn_predset_read_run(const char *dir, const bnn_predset_options *o, bnn_predset *out)
{
    memset(out, 0, sizeof *out);
    bnn_predict_result r;
    BNN_TRY(bnn_predict_run(dir, &r));
    snprintf(out->source, sizeof out->source, "%s", dir);
    out->from_run = 1;
    out->n_test = r.n_test;
    bnn_status s = BNN_OK;
    if (r.classification) {
        out->kind = BNN_PRED_CLASSES;
        out->n = r.n_test;
        out->k = r.n_out;
        out->values = r.bma;
        out->targets = r.targets;
        r.bma = r.targets = NULL;
    } else {
        out->kind = BNN_PRED_SAMPLES;
        s = read_run_samples(dir, o, &r, out);
    }
    bnn_predict_result_free(&r);
    if (s != BNN_OK) bnn_predset_free(out);
    return s;
}

bnn_status bnn_labels_read_csv(const char *path, double **labels, size_t *n)
{
    bnn_csv_matrix m;
    BNN_TRY(bnn_read_csv_matrix(path, -1, &m));
    for (size_t i = 0; i < m.rows; i++) m.v[i] = m.v[i * m.cols + m.cols - 1];
    *labels = m.v;
    *n = m.rows;
    m.v = NULL;
    bnn_csv_matrix_free(&m);
    return BNN_OK;
}

double bnn_wasserstein1_sorted(const double *a, size_t na, const double *b, size_t nb)
{
    /* u ∈ (0, 1] in units of 1/(na·nb): A⁻¹ steps at multiples of nb, B⁻¹ at multiples of na;
     * between two consecutive steps both quantile functions are constant. */
    size_t i = 0, j = 0;
    uint64_t u = 0;
    double sum = 0;
    while (i < na && j < nb) {
        uint64_t ea = (uint64_t)(i + 1) * nb, eb = (uint64_t)(j + 1) * na;
        uint64_t e = ea < eb ? ea : eb;
        sum += fabs(a[i] - b[j]) * (double)(e - u);
        u = e;
        i += ea == e;
        j += eb == e;
    }
    return sum / ((double)na * (double)nb);
}

/* Keeps the rows `rows` (m, ascending, < p->n) of p's per-input arrays. */
static void select_rows(bnn_predset *p, const size_t *rows, size_t m)
{
    for (size_t i = 0; i < m; i++) {
        size_t r = rows[i];
        memmove(p->values + i * p->k, p->values + r * p->k, p->k * sizeof(double));
        if (p->mean) p->mean[i] = p->mean[r];
        if (p->targets) p->targets[i] = p->targets[r];
        if (p->line && !p->transposed) p->line[i] = p->line[r];
    }
    p->n = m;
}

/* Makes pred and ref hold the same inputs in the same order; *rows the test rows (or NULL). */
static bnn_status align(bnn_predset *pred, bnn_predset *ref, const size_t **rows)
{
    *rows = pred->rows ? pred->rows : ref->rows;
    if (pred->rows && ref->rows) {
        if (pred->n != ref->n || memcmp(pred->rows, ref->rows, pred->n * sizeof *pred->rows))
            return BNN_ERROR(BNN_EINVAL, "%s and %s recorded different test inputs "
                             "(fs_index.npy differs)", pred->source, ref->source);
        return BNN_OK;
    }
    if (pred->n == ref->n) return BNN_OK;
    bnn_predset *sub = pred->rows ? pred : ref->rows ? ref : NULL, *full = sub == pred ? ref : pred;
    if (sub && full->n == sub->n_test) {
        select_rows(full, sub->rows, sub->n);
        return BNN_OK;
    }
    if (sub)
        return BNN_ERROR(BNN_EINVAL, "%s has %zu test inputs; %s has its %zu recorded points of "
                         "%zu test inputs", full->source, full->n, sub->source, sub->n, sub->n_test);
    return BNN_ERROR(BNN_EINVAL, "%s has %zu test inputs (rows) but %s has %zu", pred->source,
                     pred->n, ref->source, ref->n);
}

/* The targets of the compared inputs into y (n): labels if given, else a run's. */
static bnn_status choose_targets(const bnn_predset *pred, const bnn_predset *ref,
                                 const size_t *rows, const double *labels, size_t n_labels,
                                 const char *labels_source, double *y, bnn_reference_eval *out)
{
    size_t n = pred->n, n_full = !rows ? n : pred->rows ? pred->n_test : ref->n_test;
    if (labels) {
        if (n_labels != n && n_labels != n_full)
            return BNN_ERROR(BNN_EINVAL, "%s has %zu labels but %zu test inputs are compared",
                             labels_source, n_labels, n);
        for (size_t i = 0; i < n; i++) y[i] = labels[n_labels == n ? i : rows[i]];
        snprintf(out->targets_source, sizeof out->targets_source, "%s", labels_source);
    } else {
        const bnn_predset *a = pred->targets ? pred : ref->targets ? ref : NULL;
        if (!a) return BNN_OK;
        if (pred->targets && ref->targets)
            for (size_t i = 0; i < n; i++)
                if (pred->targets[i] != ref->targets[i])
                    return BNN_ERROR(BNN_EINVAL, "%s and %s have different test targets (input "
                                     "%zu: %g vs %g)", pred->source, ref->source, i,
                                     pred->targets[i], ref->targets[i]);
        memcpy(y, a->targets, n * sizeof *y);
        snprintf(out->targets_source, sizeof out->targets_source, "%s", a->source);
    }
    out->have_targets = 1;
    if (pred->kind == BNN_PRED_CLASSES)
        for (size_t i = 0; i < n; i++)
            if (!(y[i] >= 0 && y[i] < (double)pred->k && y[i] == floor(y[i])))
                return BNN_ERROR(BNN_ERANGE, "%s: the label of test input %zu (%g) is not a "
                                 "class 0..%zu", out->targets_source, rows ? rows[i] + 1 : i + 1,
                                 y[i], pred->k - 1);
    return BNN_OK;
}

/* RMSE of the predictive mean: a run's model average, else the mean of the samples. */
static double sample_rmse(const bnn_predset *p, const double *y)
{
    double se = 0;
    for (size_t i = 0; i < p->n; i++) {
        double m = 0;
        if (p->mean) m = p->mean[i];
        else {
            for (size_t c = 0; c < p->k; c++) m += p->values[i * p->k + c];
            m /= (double)p->k;
        }
        se += (m - y[i]) * (m - y[i]);
    }
    return sqrt(se / (double)p->n);
}

static void compare_classes(const bnn_predset *pred, const bnn_predset *ref,
                            bnn_reference_eval *out)
{
    double agree = 0, tv = 0;
    const size_t k = pred->k;
    for (size_t i = 0; i < pred->n; i++) {
        const double *p = pred->values + i * k, *q = ref->values + i * k;
        agree += bnn_argmax(p, k) == bnn_argmax(q, k);
        double d = 0;
        for (size_t c = 0; c < k; c++) d += fabs(p[c] - q[c]);
        tv += 0.5 * d;
    }
    out->agreement = agree / (double)pred->n;
    out->total_variation = tv / (double)pred->n;
}

bnn_status bnn_reference_compare(bnn_predset *pred, bnn_predset *ref, const double *labels,
                                 size_t n_labels, const char *labels_source,
                                 bnn_reference_eval *out)
{
    memset(out, 0, sizeof *out);
    if (pred->kind != ref->kind)
        return BNN_ERROR(BNN_EINVAL, "%s holds %s but %s holds %s", pred->source,
                         pred->kind == BNN_PRED_CLASSES ? "class probabilities" : "regression samples",
                         ref->source,
                         ref->kind == BNN_PRED_CLASSES ? "class probabilities" : "regression samples");
    if (pred->kind == BNN_PRED_CLASSES && pred->k != ref->k)
        return BNN_ERROR(BNN_EINVAL, "%s has %zu classes (columns) but %s has %zu", pred->source,
                         pred->k, ref->source, ref->k);
    const size_t *rows = NULL;
    BNN_TRY(align(pred, ref, &rows));
    const size_t n = pred->n;
    if (n == 0) return BNN_ERROR(BNN_EINVAL, "%s: no test inputs to compare", pred->source);
    out->kind = pred->kind;
    out->n = n;
    out->k_pred = pred->k;
    out->k_ref = ref->k;
    double *y = malloc(n * sizeof *y);
    if (!y) return BNN_ERROR(BNN_ENOMEM, "out of memory");
    bnn_status s = choose_targets(pred, ref, rows, labels, n_labels, labels_source, y, out);
    if (s == BNN_OK && pred->kind == BNN_PRED_CLASSES) {
        compare_classes(pred, ref, out);
        if (out->have_targets) s = bnn_class_metrics_compute(pred->values, y, n, pred->k, &out->pred_class);
        if (s == BNN_OK && out->have_targets)
            s = bnn_class_metrics_compute(ref->values, y, n, ref->k, &out->ref_class);
    } else if (s == BNN_OK) {
        double sum = 0;
        for (size_t i = 0; i < n; i++) {
            double w = bnn_wasserstein1_sorted(pred->values + i * pred->k, pred->k,
                                               ref->values + i * ref->k, ref->k);
            sum += w;
            if (w > out->w1_max) out->w1_max = w;
        }
        out->w1 = sum / (double)n;
        if (out->have_targets) {
            out->pred_rmse = sample_rmse(pred, y);
            out->ref_rmse = sample_rmse(ref, y);
        }
    }
    free(y);
    return s;
}
