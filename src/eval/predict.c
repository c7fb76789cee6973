/* Bayesian model average metrics of a run directory; regression: the predictive mixture's
 * mean and standard deviation at every test input. */
#include "eval/predict.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/npy.h"
#include "store/run_store.h"

/* Reads a whole .npy array of `expect` elements into a new double array. */
static bnn_status read_npy(const char *path, size_t expect, double **out)
{
    return bnn_npy_load_doubles(path, expect, "is this a finished bnnmc run?", NULL, out);
}

/* One chain's model-average sums: probabilities (or regression outputs) and, for regression,
 * log densities and second moments (NULL for runs written before bma_sumsq.npy existed). */
struct chain_sums {
    double *sum, *logdens, *sumsq;
};

static bnn_status read_chain(const char *dir, size_t c, size_t n, size_t k, int classification,
                             struct chain_sums *cs)
{
    char path[1200];
    *cs = (struct chain_sums){0};
    snprintf(path, sizeof path, "%s/chain_%03zu/bma_sum.npy", dir, c);
    BNN_TRY(read_npy(path, n * k, &cs->sum));
    if (classification) return BNN_OK;
    snprintf(path, sizeof path, "%s/chain_%03zu/bma_logdens.npy", dir, c);
    BNN_TRY(read_npy(path, n, &cs->logdens));
    snprintf(path, sizeof path, "%s/chain_%03zu/bma_sumsq.npy", dir, c);
    return access(path, F_OK) == 0 ? read_npy(path, n, &cs->sumsq) : BNN_OK;
}

static void chain_sums_free(struct chain_sums *cs)
{
    free(cs->sum);
    free(cs->logdens);
    free(cs->sumsq);
}

/* Regression over `draws` draws: the mixture's mean (n) from the sums of the k outputs (the
 * mean is output 0) and, when sumsq is not NULL, its standard deviation (n) from Σ E[y² | θ]. */
static void regression_moments(const double *sum, const double *sumsq, size_t n, size_t k,
                               double draws, double *mean, double *sd)
{
    for (size_t i = 0; i < n; i++) {
        mean[i] = sum[i * k] / draws;
        double var = sumsq ? sumsq[i] / draws - mean[i] * mean[i] : NAN;
        sd[i] = var > 0 ? sqrt(var) : sumsq ? 0 : NAN;
    }
}

/* log(e^a + e^b) without overflow. */
static double log_add(double a, double b)
{
    double hi = a > b ? a : b;
    return hi == -INFINITY ? hi : hi + log(exp(a - hi) + exp(b - hi));
}

static bnn_status read_manifest(const char *dir, bnn_predict_result *out, size_t *k,
                                json_t **counts)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/run.json", dir);
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (!root)
        return BNN_ERROR(BNN_EFORMAT, "%s: line %d: %s", path, err.line, err.text);
    const char *status = NULL, *meaning = NULL;
    json_int_t n_out = 0;
    if (json_unpack(root, "{s:s, s:I, s:s, s:o}", "status", &status, "fs_outputs", &n_out,
                    "fs_output_meaning", &meaning, "bma_count", counts) != 0 ||
        !json_is_array(*counts) || n_out <= 0 || n_out > 1000000) {
        json_decref(root);
        return BNN_ERROR(BNN_EFORMAT, "%s: not a finished bnnmc run (fields status, fs_outputs, "
                                      "bma_count missing or malformed)", path);
    }
    if (strcmp(status, "complete") != 0) {
        bnn_status s = BNN_ERROR(BNN_EINVAL, "%s: the run's status is '%s', not 'complete'",
                                 path, status);
        json_decref(root);
        return s;
    }
    json_incref(*counts);
    json_t *sd = json_object_get(json_object_get(root, "data"), "target_sd");
    out->target_sd = json_is_number(sd) && json_number_value(sd) > 0 ? json_number_value(sd) : 1;
    out->classification = strcmp(meaning, "class probability") == 0;
    out->n_chains = json_array_size(*counts);
    *k = (size_t)n_out;
    json_decref(root);
    return BNN_OK;
}

bnn_status bnn_chain_summary_read(const char *dir, size_t chain, bnn_chain_summary *out)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/chain_%03zu/stats.npy", dir, chain);
    FILE *f = fopen(path, "rb");
    if (!f) return BNN_ERROR(BNN_EIO, "%s: cannot open", path);
    bnn_npy_header h;
    bnn_status s = bnn_npy_read_header(f, path, &h);
    if (s == BNN_OK) s = bnn_stats_check_header(&h, path);
    memset(out, 0, sizeof *out);
    double row[BNN_N_STATS];
    for (size_t i = 0; s == BNN_OK && i < h.shape[0]; i++) {
        s = bnn_stats_read_rows(f, path, &h, i, 1, row);
        if (s != BNN_OK || row[BNN_STAT_PHASE] != 2) continue;
        out->iterations++;
        out->accept_rate += row[BNN_STAT_ACCEPT_PROB];
        out->accepted += row[BNN_STAT_ACCEPTED];
        out->divergences += row[BNN_STAT_DIVERGENT] != 0;
        out->step_size += row[BNN_STAT_STEP_SIZE];
        out->n_leapfrog += row[BNN_STAT_N_LEAPFROG];
        out->tree_depth += row[BNN_STAT_TREE_DEPTH];
    }
    fclose(f);
    if (out->iterations) {
        double n = (double)out->iterations;
        out->accept_rate /= n;
        out->accepted /= n;
        out->step_size /= n;
        out->n_leapfrog /= n;
        out->tree_depth /= n;
    }
    return s;
}

/* Adds chain c's sums into the totals and computes its own metrics. */
static bnn_status add_chain(bnn_predict_result *out, size_t c, size_t draws, size_t k,
                            const double *y, struct chain_sums *cs, double *total,
                            double *total_ld, double *total_sq, int *have_sq)
{
    const size_t n = out->n_test;
    for (size_t i = 0; i < n * k; i++) total[i] += cs->sum[i];
    if (out->classification) {
        for (size_t i = 0; i < n * k; i++) cs->sum[i] /= (double)draws;
        return bnn_class_metrics_compute(cs->sum, y, n, k, &out->chain[c]);
    }
    *have_sq &= cs->sumsq != NULL;
    for (size_t i = 0; i < n; i++) {
        total_ld[i] = log_add(total_ld[i], cs->logdens[i]);
        cs->logdens[i] -= log((double)draws);
        if (cs->sumsq) total_sq[i] += cs->sumsq[i];
    }
    /* out->mean and out->sd hold this chain's moments until the overall ones replace them */
    regression_moments(cs->sum, cs->sumsq, n, k, (double)draws, out->mean, out->sd);
    bnn_regress_metrics_compute(out->mean, cs->sumsq ? out->sd : NULL, cs->logdens, y, n,
                                &out->chain_reg[c]);
    return BNN_OK;
}

bnn_status bnn_predict_run(const char *dir, bnn_predict_result *out)
{
    memset(out, 0, sizeof *out);
    size_t k = 0;
    json_t *counts = NULL;
    BNN_TRY(read_manifest(dir, out, &k, &counts));
    char path[1100];
    snprintf(path, sizeof path, "%s/test_targets.npy", dir);
    FILE *f = fopen(path, "rb");
    bnn_npy_header h;
    bnn_status s = f ? bnn_npy_read_header(f, path, &h) : BNN_ERROR(BNN_EIO, "%s: cannot open", path);
    if (f) fclose(f);
    const size_t n = s == BNN_OK ? h.count : 0, C = out->n_chains;
    size_t nk;
    if (s == BNN_OK && (__builtin_mul_overflow(n, k, &nk) || nk > ((size_t)1 << 40)))
        s = BNN_ERROR(BNN_EFORMAT, "%s/run.json: fs_outputs %zu × %zu test inputs is too large",
                      dir, k, n);
    double *y = NULL, *total = s == BNN_OK ? calloc(n * k + 1, sizeof(double)) : NULL;
    double *total_ld = s == BNN_OK ? malloc((n + 1) * sizeof(double)) : NULL;
    double *total_sq = s == BNN_OK ? calloc(n + 1, sizeof(double)) : NULL;
    int have_sq = 1;
    out->chain = calloc(C + 1, sizeof *out->chain);
    out->chain_reg = calloc(C + 1, sizeof *out->chain_reg);
    out->chain_draws = calloc(C + 1, sizeof *out->chain_draws);
    out->chain_stats = calloc(C + 1, sizeof *out->chain_stats);
    out->mean = calloc(n + 1, sizeof *out->mean);
    out->sd = calloc(n + 1, sizeof *out->sd);
    if (s == BNN_OK && (!total || !total_ld || !total_sq || !out->chain || !out->chain_reg ||
                        !out->chain_draws || !out->chain_stats || !out->mean || !out->sd))
        s = BNN_ERROR(BNN_ENOMEM, "out of memory");
    if (s == BNN_OK) s = read_npy(path, n, &y);
    out->n_test = n;
    for (size_t i = 0; s == BNN_OK && i < n; i++) total_ld[i] = -INFINITY;
    for (size_t c = 0; s == BNN_OK && c < C; c++) {
        json_int_t count = json_integer_value(json_array_get(counts, c));
        if (count < 0 || count > ((json_int_t)1 << 40)) {
            s = BNN_ERROR(BNN_EFORMAT, "%s/run.json: bma_count[%zu] = %lld is not a draw count",
                          dir, c, (long long)count);
            break;
        }
        size_t draws = (size_t)count;
        struct chain_sums cs;
        s = read_chain(dir, c, n, k, out->classification, &cs);
        if (s == BNN_OK) s = bnn_chain_summary_read(dir, c, &out->chain_stats[c]);
        if (s == BNN_OK && draws == 0)
            s = BNN_ERROR(BNN_EINVAL, "%s: chain %zu has no sampling iterations", dir, c);
        if (s == BNN_OK) {
            out->chain_draws[c] = draws;
            out->n_draws += draws;
            s = add_chain(out, c, draws, k, y, &cs, total, total_ld, total_sq, &have_sq);
        }
        chain_sums_free(&cs);
    }
    if (s == BNN_OK && out->classification) {
        for (size_t i = 0; i < n * k; i++) total[i] /= (double)out->n_draws;
        s = bnn_class_metrics_compute(total, y, n, k, &out->overall);
    } else if (s == BNN_OK) {
        for (size_t i = 0; i < n; i++) total_ld[i] -= log((double)out->n_draws);
        regression_moments(total, have_sq ? total_sq : NULL, n, k, (double)out->n_draws,
                           out->mean, out->sd);
        bnn_regress_metrics_compute(out->mean, have_sq ? out->sd : NULL, total_ld, y, n,
                                    &out->overall_reg);
    }
    out->n_out = k;
    out->bma = total;
    out->targets = y;
    free(total_ld);
    free(total_sq);
    json_decref(counts);
    if (s != BNN_OK) bnn_predict_result_free(out);
    return s;
}

void bnn_predict_result_free(bnn_predict_result *r)
{
    free(r->chain);
    free(r->chain_reg);
    free(r->chain_draws);
    free(r->chain_stats);
    free(r->bma);
    free(r->targets);
    r->bma = NULL;
    r->targets = NULL;
    free(r->mean);
    free(r->sd);
    r->mean = r->sd = NULL;
    r->chain_stats = NULL;
    r->chain = NULL;
    r->chain_reg = NULL;
    r->chain_draws = NULL;
}
