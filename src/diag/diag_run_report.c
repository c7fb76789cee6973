/* Summaries of a diagnosed run: quantiles of R-hat, ESS minima and medians, the worst
 * quantities by name, and their output as diagnostics.json plus per-quantity .npy arrays. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag/diag_internal.h"
#include "diag/diag_run.h"
#include "diag/diag_run_internal.h"
#include "store/npy_writer.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The non-NaN values of v, sorted ascending, into tmp; returns their count. */
static size_t sorted_finite(const double *v, size_t n, double *tmp)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i])) tmp[k++] = v[i];
    qsort(tmp, k, sizeof *tmp, cmp_double);
    return k;
}

/* Is quantity a worse (higher rhat, NaN last) than b? */
static int worse(const double *rhat, size_t a, size_t b)
{
    if (isnan(rhat[b])) return !isnan(rhat[a]) ? 1 : a < b;
    if (isnan(rhat[a])) return 0;
    return rhat[a] > rhat[b] || (rhat[a] == rhat[b] && a < b);
}

static void worst_list(bnn_diag_space *sp)
{
    sp->n_worst = 0;
    for (size_t i = 0; i < sp->n; i++) {
        size_t k = sp->n_worst < BNN_DIAG_N_WORST ? sp->n_worst++ : BNN_DIAG_N_WORST;
        if (k == BNN_DIAG_N_WORST && !worse(sp->rhat, i, sp->worst[k - 1])) continue;
        if (k == BNN_DIAG_N_WORST) k--;
        while (k > 0 && worse(sp->rhat, i, sp->worst[k - 1])) {
            sp->worst[k] = sp->worst[k - 1];
            k--;
        }
        sp->worst[k] = i;
    }
}

bnn_status diag_space_summarise(bnn_diag_space *sp)
{
    double *tmp = malloc((sp->n ? sp->n : 1) * sizeof *tmp);
    if (!tmp) return BNN_ERROR(BNN_ENOMEM, "diagnose: out of memory");
    size_t k = sorted_finite(sp->rhat, sp->n, tmp);
    sp->n_nan = sp->n - k;
    sp->rhat_q50 = sp->rhat_q90 = sp->rhat_q99 = sp->rhat_max = NAN;
    sp->frac_gt_101 = sp->frac_gt_105 = sp->frac_gt_110 = NAN;
    if (k) {
        sp->rhat_q50 = diag_quantile7_sorted(tmp, k, 0.5);
        sp->rhat_q90 = diag_quantile7_sorted(tmp, k, 0.9);
        sp->rhat_q99 = diag_quantile7_sorted(tmp, k, 0.99);
        sp->rhat_max = tmp[k - 1];
        size_t c101 = 0, c105 = 0, c110 = 0;
        for (size_t i = 0; i < k; i++) {
            c101 += tmp[i] > 1.01;
            c105 += tmp[i] > 1.05;
            c110 += tmp[i] > 1.1;
        }
        sp->frac_gt_101 = (double)c101 / (double)k;
        sp->frac_gt_105 = (double)c105 / (double)k;
        sp->frac_gt_110 = (double)c110 / (double)k;
    }
    k = sorted_finite(sp->ess_bulk, sp->n, tmp);
    sp->ess_bulk_min = k ? tmp[0] : NAN;
    sp->ess_bulk_median = k ? diag_quantile7_sorted(tmp, k, 0.5) : NAN;
    k = sorted_finite(sp->ess_tail, sp->n, tmp);
    sp->ess_tail_min = k ? tmp[0] : NAN;
    sp->ess_tail_median = k ? diag_quantile7_sorted(tmp, k, 0.5) : NAN;
    free(tmp);
    worst_list(sp);
    return BNN_OK;
}

/* ---- names ------------------------------------------------------------------------------------ */

void bnn_diag_weight_name(const bnn_diag_run *r, size_t i, char *buf, size_t len)
{
    for (size_t b = 0; b < r->n_blocks; b++) {
        const bnn_diag_param_block *blk = &r->blocks[b];
        if (i < blk->offset || i >= blk->offset + blk->size) continue;
        size_t rest = i - blk->offset, idx[4] = {0};
        for (size_t d = blk->ndim; d-- > 0;) { /* row-major: last index fastest */
            idx[d] = rest % blk->shape[d];
            rest /= blk->shape[d];
        }
        int w = snprintf(buf, len, "%s[", blk->name);
        for (size_t d = 0; d < blk->ndim && w > 0 && (size_t)w < len; d++)
            w += snprintf(buf + w, len - (size_t)w, d ? ",%zu" : "%zu", idx[d]);
        if (w > 0 && (size_t)w < len) snprintf(buf + w, len - (size_t)w, "]");
        return;
    }
    snprintf(buf, len, "theta[%zu]", i);
}

void bnn_diag_function_name(const bnn_diag_run *r, size_t i, char *buf, size_t len)
{
    size_t C = r->fs_outputs ? r->fs_outputs : 1;
    snprintf(buf, len, "p[%zu,%zu]", i / C, i % C);
}

void bnn_diag_quantity_name(const bnn_diag_run *r, const bnn_diag_space *sp, size_t i, char *buf,
                            size_t len)
{
    if (sp == &r->function) bnn_diag_function_name(r, i, buf, len);
    else if (sp == &r->hyper && i < r->n_hyper) snprintf(buf, len, "%s", r->hyper_names[i]);
    else bnn_diag_weight_name(r, i, buf, len);
}

/* ---- diagnostics.json ----------------------------------------------------------------------- */

static json_t *num(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static json_t *space_json(const bnn_diag_run *r, const bnn_diag_space *sp, const char *prefix)
{
    json_t *worst = json_array();
    for (size_t k = 0; k < sp->n_worst; k++) {
        char name[128];
        size_t i = sp->worst[k];
        bnn_diag_quantity_name(r, sp, i, name, sizeof name);
        json_array_append_new(worst, json_pack("{s:s, s:I, s:o, s:o, s:o}", "name", name,
                                               "index", (json_int_t)i, "rhat", num(sp->rhat[i]),
                                               "ess_bulk", num(sp->ess_bulk[i]), "ess_tail",
                                               num(sp->ess_tail[i])));
    }
    char a_rhat[64], a_bulk[64], a_tail[64];
    snprintf(a_rhat, sizeof a_rhat, "diag_%s_rhat.npy", prefix);
    snprintf(a_bulk, sizeof a_bulk, "diag_%s_ess_bulk.npy", prefix);
    snprintf(a_tail, sizeof a_tail, "diag_%s_ess_tail.npy", prefix);
    json_t *o = json_pack(
        "{s:I, s:I, s:I, s:{s:o, s:o, s:o, s:o, s:o, s:o, s:o}, s:{s:o, s:o}, s:{s:o, s:o}, "
        "s:o, s:{s:s, s:s, s:s}}",
        "n_quantities", (json_int_t)sp->n, "draws_per_chain", (json_int_t)sp->draws, "n_nan",
        (json_int_t)sp->n_nan, "rhat", "q50", num(sp->rhat_q50), "q90", num(sp->rhat_q90), "q99",
        num(sp->rhat_q99), "max", num(sp->rhat_max), "frac_gt_1.01", num(sp->frac_gt_101),
        "frac_gt_1.05", num(sp->frac_gt_105), "frac_gt_1.1", num(sp->frac_gt_110), "ess_bulk",
        "min", num(sp->ess_bulk_min), "median", num(sp->ess_bulk_median), "ess_tail", "min",
        num(sp->ess_tail_min), "median", num(sp->ess_tail_median), "worst", worst, "arrays",
        "rhat", a_rhat, "ess_bulk", a_bulk, "ess_tail", a_tail);
    if (sp->rhat_nested) {
        char a_nested[80];
        snprintf(a_nested, sizeof a_nested, "diag_%s_rhat_nested.npy", prefix);
        json_object_set_new(o, "rhat_nested", json_pack(
            "{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "q50", num(sp->nested_q50), "q90",
            num(sp->nested_q90), "q99", num(sp->nested_q99), "max", num(sp->nested_max),
            "frac_gt_1.01", num(sp->nested_frac_gt_101), "frac_gt_1.05",
            num(sp->nested_frac_gt_105), "frac_gt_1.1", num(sp->nested_frac_gt_110)));
        json_object_set_new(json_object_get(o, "arrays"), "rhat_nested", json_string(a_nested));
    }
    if (sp->has_null) json_object_set_new(o, "null", bnn_null_rhat_json(&sp->null));
    return o;
}

/* The hyperparameters: the space's summary plus every one by name, with its mean. */
static json_t *hyper_json(const bnn_diag_run *r)
{
    const bnn_diag_space *sp = &r->hyper;
    json_t *o = space_json(r, sp, "hyper"), *list = json_array();
    for (size_t i = 0; i < sp->n; i++)
        json_array_append_new(list, json_pack("{s:s, s:o, s:o, s:o, s:o}", "name",
                                              r->hyper_names[i], "mean", num(sp->moments[i]),
                                              "rhat", num(sp->rhat[i]), "ess_bulk",
                                              num(sp->ess_bulk[i]), "ess_tail",
                                              num(sp->ess_tail[i])));
    json_object_set_new(o, "quantities", list);
    return o;
}

static json_t *stats_json(const bnn_diag_run *r)
{
    json_t *chains = json_array();
    size_t div = 0;
    for (size_t c = 0; c < r->n_chain; c++) {
        const bnn_diag_chain_stats *s = &r->chain[c];
        div += s->divergences;
        json_array_append_new(
            chains, json_pack("{s:I, s:I, s:o, s:o, s:I, s:o, s:o, s:o, s:o}", "chain",
                              (json_int_t)c, "iterations", (json_int_t)s->iterations,
                              "accept_prob", num(s->accept_prob), "accept_rate",
                              num(s->accept_rate), "divergences", (json_int_t)s->divergences,
                              "step_size", num(s->step_size), "n_leapfrog", num(s->n_leapfrog),
                              "tree_depth", num(s->tree_depth), "ebfmi", num(s->ebfmi)));
    }
    return json_pack("{s:I, s:o}", "divergences", (json_int_t)div, "chains", chains);
}

static bnn_status write_arrays(const bnn_diag_space *sp, const char *dir, const char *prefix,
                               size_t ndim, const size_t *shape)
{
    if (sp->rhat_nested) {
        char path[1024];
        snprintf(path, sizeof path, "%s/diag_%s_rhat_nested.npy", dir, prefix);
        BNN_TRY(bnn_npy_write(path, "<f8", ndim, shape, sp->rhat_nested));
    }
    const char *what[3] = {"rhat", "ess_bulk", "ess_tail"};
    const double *data[3] = {sp->rhat, sp->ess_bulk, sp->ess_tail};
    for (size_t k = 0; k < 3; k++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/diag_%s_%s.npy", dir, prefix, what[k]);
        BNN_TRY(bnn_npy_write(path, "<f8", ndim, shape, data[k]));
    }
    return BNN_OK;
}

bnn_status bnn_diag_run_write(const bnn_diag_run *r, const char *run_dir)
{
    json_t *root = json_pack("{s:s, s:i, s:I}", "format", "bnnmc-diagnostics", "format_version",
                             1, "chains", (json_int_t)r->n_chain);
    json_object_set_new(root, "weight", r->weight.present ? space_json(r, &r->weight, "weight")
                                                          : json_null());
    json_object_set_new(root, "function", r->function.present
                                              ? space_json(r, &r->function, "function")
                                              : json_null());
    json_object_set_new(root, "superchains", json_integer((json_int_t)r->superchains));
    json_object_set_new(root, "weight_aligned", r->weight_aligned.present
                                                    ? space_json(r, &r->weight_aligned,
                                                                 "weight_aligned")
                                                    : json_null());
    if (r->weight_aligned.present)
        json_object_set_new(root, "alignment", json_pack(
            "{s:s, s:s, s:I, s:f, s:s}", "mode", r->align_mode == 2 ? "per-chain" : "per-draw",
            "reference", "mean of chain 0's draws, each aligned to chain 0's last draw",
            "draws_changed", (json_int_t)r->align_changed, "mean_sweeps", r->align_mean_sweeps,
            "reference_array", "align_reference.npy"));
    json_object_set_new(root, "islands", r->has_islands ? bnn_islands_json(&r->islands)
                                                        : json_null());
    json_object_set_new(root, "marginals", r->has_marginals ? bnn_marginals_json(&r->marginals)
                                                            : json_null());
    json_object_set_new(root, "hyper", r->hyper.present ? hyper_json(r) : json_null());
    json_object_set_new(root, "sample_stats", stats_json(r));
    char path[1024], tmp[1100];
    snprintf(path, sizeof path, "%s/diagnostics.json", run_dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fail = json_dump_file(root, tmp, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
                                             JSON_REAL_PRECISION(17));
    json_decref(root);
    if (fail || rename(tmp, path))
        return BNN_ERROR(BNN_EIO, "%s: cannot write", path);
    if (r->weight.present) BNN_TRY(write_arrays(&r->weight, run_dir, "weight", 1, &r->weight.n));
    if (r->weight_aligned.present)
        BNN_TRY(write_arrays(&r->weight_aligned, run_dir, "weight_aligned", 1, &r->weight_aligned.n));
    if (r->hyper.present) BNN_TRY(write_arrays(&r->hyper, run_dir, "hyper", 1, &r->hyper.n));
    if (r->function.present) {
        size_t shape[2] = {r->fs_points, r->fs_outputs};
        if (shape[0] * shape[1] != r->function.n) {
            shape[0] = r->function.n;
            shape[1] = 1;
        }
        BNN_TRY(write_arrays(&r->function, run_dir, "function", 2, shape));
    }
    return BNN_OK;
}
