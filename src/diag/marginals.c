/* Posterior marginals pooled per parameter block against the Gaussian prior, and R-hat of the
 * prior-like and data-informed parameters. */
#include "diag/marginals.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag/diag_internal.h"
#include "model/prior.h"

bnn_status bnn_marginals_prior_var(const char *run_dir, size_t P, double *prior_var)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/run.json", run_dir);
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (!root) return BNN_ERROR(BNN_EFORMAT, "%s: %s", path, err.text);
    json_t *pv = NULL, *widths = NULL;
    int fan_in = 0;
    bnn_status st = BNN_OK;
    if (json_unpack(root, "{s:{s:o, s:b}, s:{s:o}}", "config", "prior_var", &pv,
                    "prior_var_divided_by_fan_in", &fan_in, "model", "widths", &widths) ||
        !json_is_array(pv) || !json_is_array(widths) || json_array_size(widths) < 2)
        st = BNN_ERROR(BNN_EFORMAT, "%s: needs config.prior_var, "
                       "config.prior_var_divided_by_fan_in and model.widths", path);
    size_t L = st == BNN_OK ? json_array_size(widths) - 1 : 0, nv = json_array_size(pv), i = 0;
    if (st == BNN_OK && nv != 1 && nv != L)
        st = BNN_ERROR(BNN_EFORMAT, "%s: config.prior_var has %zu entries for %zu layers", path, nv, L);
    /* the family's variance is a multiple of v (model/prior.h); absent in older runs: Gaussian */
    bnn_prior_family family = {.kind = BNN_PRIOR_GAUSSIAN};
    json_t *fam = json_object_get(json_object_get(root, "config"), "prior");
    if (st == BNN_OK && fam &&
        (!json_is_string(fam) || bnn_prior_family_parse(json_string_value(fam), &family) != BNN_OK))
        st = BNN_ERROR(BNN_EFORMAT, "%s: config.prior is not a prior family", path);
    const double factor = bnn_prior_variance_factor(&family);
    for (size_t l = 0; st == BNN_OK && l < L; l++) {
        double v = json_number_value(json_array_get(pv, nv == 1 ? 0 : l));
        size_t in = (size_t)json_integer_value(json_array_get(widths, l));
        size_t out = (size_t)json_integer_value(json_array_get(widths, l + 1));
        if (!(v > 0) || in == 0 || out == 0 || i + in * out + out > P) {
            st = BNN_ERROR(BNN_EFORMAT, "%s: prior or widths do not fit %zu parameters", path, P);
            break;
        }
        for (size_t k = 0; k < in * out; k++) prior_var[i++] = factor * (fan_in ? v / (double)in : v);
        for (size_t k = 0; k < out; k++) prior_var[i++] = factor * v;
    }
    if (st == BNN_OK && i != P)
        st = BNN_ERROR(BNN_EFORMAT, "%s: widths give %zu parameters, not %zu", path, i, P);
    json_decref(root);
    return st;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* R-hat summary of the parameters whose group (0 prior-like, 1 informed) is `group`. */
static void group_rhat(const double *rhat, const unsigned char *informed, size_t P, int group,
                       double *tmp, bnn_marginal_rhat *out)
{
    size_t k = 0, above = 0;
    for (size_t i = 0; rhat && i < P; i++)
        if (informed[i] == group && !isnan(rhat[i])) {
            tmp[k++] = rhat[i];
            above += rhat[i] > 1.01;
        }
    qsort(tmp, k, sizeof *tmp, cmp_double);
    *out = (bnn_marginal_rhat){.n = k, .q50 = NAN, .q90 = NAN, .q99 = NAN, .max = NAN,
                               .frac_gt_101 = NAN};
    if (!k) return;
    out->q50 = diag_quantile7_sorted(tmp, k, 0.5);
    out->q90 = diag_quantile7_sorted(tmp, k, 0.9);
    out->q99 = diag_quantile7_sorted(tmp, k, 0.99);
    out->max = tmp[k - 1];
    out->frac_gt_101 = (double)above / (double)k;
}

/* Pooled moments of one block from the raw per-parameter moments. */
static void pool_block(bnn_marginal_block *b, const double *mom, size_t P, const double *prior_var)
{
    long double m1 = 0, m2 = 0, m3 = 0, m4 = 0;
    for (size_t i = b->offset; i < b->offset + b->size; i++) {
        m1 += mom[i], m2 += mom[P + i], m3 += mom[2 * P + i], m4 += mom[3 * P + i];
    }
    long double n = (long double)b->size;
    m1 /= n, m2 /= n, m3 /= n, m4 /= n;
    long double c2 = m2 - m1 * m1, c4 = m4 - 4 * m1 * m3 + 6 * m1 * m1 * m2 - 3 * m1 * m1 * m1 * m1;
    b->prior_var = prior_var[b->offset];
    b->mean = (double)m1;
    b->var = (double)c2;
    b->excess_kurtosis = (double)(c4 / (c2 * c2) - 3);
    b->norm_rms = sqrt((double)(m2 * n)); /* E ||w||² = Σ_i E x_i² */
    b->prior_radius = sqrt((double)n * b->prior_var);
}

bnn_status bnn_marginals_compute(const double *moments, const double *moments_aligned,
                                 const double *prior_var, size_t P,
                                 const bnn_marginal_block *blocks, size_t n_blocks,
                                 const double *rhat, const double *rhat_aligned,
                                 bnn_marginals *out)
{
    memset(out, 0, sizeof *out);
    if (!moments || !prior_var || !blocks) return BNN_ERROR(BNN_EINVAL, "marginals: NULL argument");
    out->blocks = malloc((n_blocks ? n_blocks : 1) * sizeof *out->blocks);
    unsigned char *informed = malloc(P ? P : 1);
    double *tmp = malloc((P ? P : 1) * sizeof *tmp);
    if (!out->blocks || !informed || !tmp) {
        free(informed);
        free(tmp);
        bnn_marginals_free(out);
        return BNN_ERROR(BNN_ENOMEM, "marginals: out of memory");
    }
    const double *cls = moments_aligned ? moments_aligned : moments;
    out->from_aligned = moments_aligned != NULL;
    for (size_t i = 0; i < P; i++) {
        double mean = cls[i], var = cls[P + i] - mean * mean;
        int prior_like = var >= BNN_MARGINAL_VAR_RATIO * prior_var[i] &&
                         fabs(mean) <= BNN_MARGINAL_MEAN_SDS * sqrt(prior_var[i]);
        informed[i] = (unsigned char)!prior_like;
        out->n_prior_like += (size_t)prior_like;
    }
    out->n_informed = P - out->n_prior_like;
    out->n_blocks = n_blocks;
    for (size_t b = 0; b < n_blocks; b++) {
        out->blocks[b] = blocks[b];
        if (blocks[b].offset > P || blocks[b].size > P - blocks[b].offset || !blocks[b].size) continue;
        pool_block(&out->blocks[b], moments, P, prior_var);
        out->blocks[b].n_prior_like = 0;
        for (size_t i = blocks[b].offset; i < blocks[b].offset + blocks[b].size; i++)
            out->blocks[b].n_prior_like += !informed[i];
    }
    for (int g = 0; g < 2; g++) {
        group_rhat(rhat, informed, P, g, tmp, &out->raw[g]);
        group_rhat(rhat_aligned, informed, P, g, tmp, &out->aligned[g]);
    }
    free(informed);
    free(tmp);
    return BNN_OK;
}

void bnn_marginals_free(bnn_marginals *m)
{
    if (!m) return;
    free(m->blocks);
    memset(m, 0, sizeof *m);
}

static json_t *num(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static json_t *group_json(const bnn_marginal_rhat *g)
{
    return json_pack("{s:I, s:o, s:o, s:o, s:o, s:o}", "n", (json_int_t)g->n, "q50", num(g->q50),
                     "q90", num(g->q90), "q99", num(g->q99), "max", num(g->max),
                     "frac_gt_1.01", num(g->frac_gt_101));
}

json_t *bnn_marginals_json(const bnn_marginals *m)
{
    json_t *blocks = json_array();
    for (size_t b = 0; b < m->n_blocks; b++) {
        const bnn_marginal_block *k = &m->blocks[b];
        json_array_append_new(blocks, json_pack(
            "{s:s, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I}", "name", k->name, "size",
            (json_int_t)k->size, "prior_var", num(k->prior_var), "mean", num(k->mean), "var",
            num(k->var), "var_ratio", num(k->var / k->prior_var), "excess_kurtosis",
            num(k->excess_kurtosis), "norm_rms", num(k->norm_rms), "prior_radius",
            num(k->prior_radius), "n_prior_like", (json_int_t)k->n_prior_like));
    }
    json_t *rhat = json_pack("{s:{s:o, s:o}}", "raw", "prior_like", group_json(&m->raw[0]),
                             "data_informed", group_json(&m->raw[1]));
    if (m->aligned[0].n + m->aligned[1].n)
        json_object_set_new(rhat, "aligned", json_pack("{s:o, s:o}", "prior_like",
                                                       group_json(&m->aligned[0]),
                                                       "data_informed", group_json(&m->aligned[1])));
    return json_pack("{s:s, s:s, s:I, s:I, s:o, s:o}", "rule",
                     "prior-like: posterior var >= 0.5 prior var and |posterior mean| <= 0.5 "
                     "prior sd; else data-informed",
                     "moments_from", m->from_aligned ? "aligned" : "raw", "n_prior_like",
                     (json_int_t)m->n_prior_like, "n_data_informed", (json_int_t)m->n_informed,
                     "blocks", blocks, "rhat", rhat);
}
