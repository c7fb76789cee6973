/* Export of a run directory to CmdStan-style CSV files, one per chain: '#' configuration
 * comments, the sampler columns and the selected quantities, the adaptation (step size and
 * inverse metric), then one row per draw, read and written one draw at a time. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store/export_select.h"
#include "store/run_store.h"

/* CmdStan's sampler columns and where each comes from (stats.npy column; -1: computed). */
static const struct {
    const char *name;
    int stat;
} sampler_cols[] = {{"lp__", -1},          {"accept_stat__", BNN_STAT_ACCEPT_PROB},
                    {"stepsize__", BNN_STAT_STEP_SIZE}, {"treedepth__", BNN_STAT_TREE_DEPTH},
                    {"n_leapfrog__", BNN_STAT_N_LEAPFROG}, {"divergent__", BNN_STAT_DIVERGENT},
                    {"energy__", BNN_STAT_ENERGY}};
#define N_SAMPLER_COLS (sizeof sampler_cols / sizeof sampler_cols[0])

/* Shortest-exact output: %.17g reads back as the same double (a float32 value exactly). */
static void put_number(FILE *f, double v)
{
    if (isnan(v)) fputs("NaN", f);
    else if (isinf(v)) fputs(v > 0 ? "Inf" : "-Inf", f);
    else fprintf(f, "%.17g", v);
}

static void put_config(FILE *f, const char *indent_key, json_t *config, const char *key)
{
    json_t *v = json_object_get(config, key);
    fprintf(f, "# %s = ", indent_key);
    if (json_is_boolean(v)) fputs(json_is_true(v) ? "1" : "0", f);
    else if (json_is_number(v)) put_number(f, json_number_value(v));
    else if (json_is_string(v)) fputs(json_string_value(v), f);
    else fputs("NA", f);
    fputc('\n', f);
}

/* The configuration block, in CmdStan's "# key = value" form where a key has a Stan meaning,
 * then bnnmc's own keys. */
static void put_preamble(FILE *f, const bnn_export_run *r, size_t chain, size_t rows, size_t step,
                         const char *spec)
{
    json_t *cfg = json_object_get(r->root, "config");
    json_int_t burn = 0, warm = 0;
    json_unpack(cfg, "{s?:I, s?:I}", "burn_in", &burn, "warmup", &warm);
    fprintf(f, "# model = bnnmc_mlp\n# method = sample (Default)\n#   sample\n");
    fprintf(f, "#     num_samples = %zu\n#     num_warmup = %lld\n#     save_warmup = 0\n"
               "#     thin = %zu\n#     adapt\n", rows * step, (long long)(burn + warm), step);
    put_config(f, "      engaged", cfg, "adapt_step_size");
    put_config(f, "      delta", cfg, "target_accept");
    fprintf(f, "#     algorithm = hmc\n");
    const char *sampler = json_string_value(json_object_get(cfg, "sampler"));
    if (sampler && !strcmp(sampler, "nuts")) {
        fprintf(f, "#       engine = nuts\n");
        put_config(f, "        max_depth", cfg, "max_depth");
    } else {
        fprintf(f, "#       engine = static\n");
        put_config(f, "        int_time", cfg, "traj_len");
    }
    fprintf(f, "#       metric = %s\n",
            json_is_false(json_object_get(cfg, "adapt_mass")) ? "unit_e" : "diag_e");
    put_config(f, "      stepsize", cfg, "step_size");
    put_config(f, "      stepsize_jitter", cfg, "jitter");
    fprintf(f, "# id = %zu\n# random\n", chain + 1);
    put_config(f, "  seed", cfg, "seed");
    fprintf(f, "# output\n#   file = output_%zu.csv\n", chain + 1);
    const char *version = json_string_value(json_object_get(r->root, "bnnmc_version"));
    fprintf(f, "# bnnmc_version = %s\n# bnnmc_run = %s\n", version ? version : "unknown", r->dir);
    const char *method = json_string_value(json_object_get(r->root, "method"));
    if (method) /* a baseline of `bnnmc train`: the HMC keys above are placeholders */
        fprintf(f, "# bnnmc_method = %s\n", method);
    char *text = json_dumps(cfg, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    fprintf(f, "# bnnmc_config = %s\n", text ? text : "{}");
    free(text);
    fprintf(f, "# bnnmc_vars = %s\n", spec ? spec : "p[0:3,*] (default)");
    fprintf(f, "# bnnmc_draws = %zu (common to all chains; sampling iterations 0, %zu, ...)\n",
            rows, step);
    fprintf(f, "# lp__ = (log_lik + log_prior) / temperature; treedepth__ = 0 (static HMC)\n");
    fprintf(f, "# p.P.K = output K of the P-th recorded test point (1-based; run's fs_index.npy "
               "gives its test-set row)\n");
    if (r->has_hyper)
        fprintf(f, "# %s%s = precisions of the hierarchical prior (run.json hyper_names, '.' as "
                   "'_'), after the iteration's Gibbs update; always written\n",
                r->hyper_vars[0], r->n_hyper > 1 ? ", ..." : "");
}

static void put_header(FILE *f, const bnn_export_run *r, const bnn_export_selection *sel)
{
    for (size_t k = 0; k < N_SAMPLER_COLS; k++) fprintf(f, "%s%s", k ? "," : "", sampler_cols[k].name);
    for (size_t k = 0; r->has_hyper && k < r->n_hyper; k++) fprintf(f, ",%s", r->hyper_vars[k]);
    char name[160];
    for (size_t i = 0; i < sel->n; i++) {
        bnn_export_column_name(r, &sel->col[i], name, sizeof name);
        fprintf(f, ",%s", name);
    }
    fputc('\n', f);
}

/* "# Adaptation terminated", the step size of the first sampling iteration and the chain's
 * adapted inverse metric (streamed from inv_mass.npy when the run has one). */
static bnn_status put_adaptation(FILE *f, const bnn_export_run *r, size_t chain, double step_size,
                                 double *buf, size_t block)
{
    fprintf(f, "# Adaptation terminated\n# Step size = ");
    put_number(f, step_size);
    fputc('\n', f);
    bnn_export_array a;
    int missing;
    BNN_TRY(bnn_export_array_open(r->dir, (long)chain, "inv_mass.npy", &a, &missing));
    if (missing) return BNN_OK;
    bnn_status st = BNN_OK;
    fprintf(f, "# Diagonal elements of inverse mass matrix:\n# ");
    for (size_t i = 0; st == BNN_OK && i < a.h.count; i += block) {
        size_t n = a.h.count - i < block ? a.h.count - i : block;
        st = bnn_npy_read_doubles(a.f, a.path, &a.h, i, n, buf);
        for (size_t k = 0; st == BNN_OK && k < n; k++) {
            if (i + k) fputs(", ", f);
            put_number(f, buf[k]);
        }
    }
    fputc('\n', f);
    bnn_export_array_close(&a);
    return st;
}

/* The open arrays of one chain and one row of each. */
typedef struct {
    bnn_export_array stats, weights, fs, hyper;
    double stat_row[BNN_N_STATS], *weight_row, *fs_row, *hyper_row;
} chain_rows;

static bnn_status put_rows(FILE *f, const bnn_export_run *r, const bnn_export_selection *sel,
                           chain_rows *c, size_t rows, size_t step)
{
    for (size_t i = 0; i < rows; i++) {
        BNN_TRY(bnn_export_sampling_stats(&c->stats, r, i * step, 1, c->stat_row));
        if (c->fs.f) BNN_TRY(bnn_export_array_rows(&c->fs, i * step, 1, c->fs_row));
        if (c->weights.f) BNN_TRY(bnn_export_array_rows(&c->weights, i, 1, c->weight_row));
        if (c->hyper.f)
            BNN_TRY(bnn_export_array_rows(&c->hyper, r->first_sampling + i * step, 1, c->hyper_row));
        const double *s = c->stat_row;
        for (size_t k = 0; k < N_SAMPLER_COLS; k++) {
            int col = sampler_cols[k].stat;
            if (k) fputc(',', f);
            put_number(f, col >= 0 ? s[col]
                                   : (s[BNN_STAT_LOG_LIK] + s[BNN_STAT_LOG_PRIOR]) / r->temperature);
        }
        for (size_t k = 0; c->hyper.f && k < r->n_hyper; k++) {
            fputc(',', f);
            put_number(f, c->hyper_row[k]);
        }
        for (size_t j = 0; j < sel->n; j++) {
            const bnn_export_column *col = &sel->col[j];
            fputc(',', f);
            put_number(f, col->fs ? c->fs_row[col->index]
                                  : c->weight_row[r->blocks[col->block].offset + col->index]);
        }
        fputc('\n', f);
    }
    return BNN_OK;
}

static bnn_status write_chain(const bnn_export_run *r, const bnn_export_selection *sel,
                              const char *spec, const char *out_dir, size_t chain, size_t rows,
                              size_t step, double *buf, size_t block)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/output_%zu.csv", out_dir, chain + 1);
    chain_rows c = {.weight_row = buf, .fs_row = buf + r->n_params,
                    .hyper_row = buf + r->n_params + r->fs_points * r->fs_outputs};
    int any_fs = 0;
    for (size_t j = 0; j < sel->n; j++) any_fs |= sel->col[j].fs;
    BNN_TRY(bnn_export_array_open(r->dir, (long)chain, "stats.npy", &c.stats, NULL));
    bnn_status st = BNN_OK;
    if (sel->any_weight) st = bnn_export_array_open(r->dir, (long)chain, "weights.npy", &c.weights, NULL);
    if (st == BNN_OK && any_fs) st = bnn_export_array_open(r->dir, (long)chain, "fs.npy", &c.fs, NULL);
    if (st == BNN_OK && r->has_hyper)
        st = bnn_export_array_open(r->dir, (long)chain, "hyper.npy", &c.hyper, NULL);
    if (st == BNN_OK) st = bnn_export_sampling_stats(&c.stats, r, 0, 1, c.stat_row);
    FILE *f = st == BNN_OK ? fopen(path, "w") : NULL;
    if (st == BNN_OK && !f) st = BNN_ERROR(BNN_EIO, "%s: cannot create: %s", path, strerror(errno));
    if (st == BNN_OK) {
        put_preamble(f, r, chain, rows, step, spec);
        put_header(f, r, sel);
        st = put_adaptation(f, r, chain, c.stat_row[BNN_STAT_STEP_SIZE], buf, block);
    }
    if (st == BNN_OK) st = put_rows(f, r, sel, &c, rows, step);
    if (f && (ferror(f) | fclose(f)) && st == BNN_OK)
        st = BNN_ERROR(BNN_EIO, "%s: write failed", path);
    bnn_export_array_close(&c.stats);
    bnn_export_array_close(&c.weights);
    bnn_export_array_close(&c.fs);
    bnn_export_array_close(&c.hyper);
    return st;
}

bnn_status bnn_export_stan_csv(const char *run_dir, const char *out_dir,
                               const bnn_export_options *opt, size_t *n_files)
{
    bnn_export_run r;
    bnn_export_selection sel;
    *n_files = 0;
    BNN_TRY(bnn_export_run_open(run_dir, &r));
    bnn_status st = bnn_export_select(&r, opt ? opt->vars : NULL, &sel);
    if (st != BNN_OK) {
        bnn_export_run_close(&r);
        return st;
    }
    if (mkdir(out_dir, 0755) != 0 && errno != EEXIST)
        st = BNN_ERROR(BNN_EIO, "cannot create directory %s: %s", out_dir, strerror(errno));
    size_t step = sel.any_weight ? r.thin : 1;
    size_t rows = sel.any_weight ? (r.draws + step - 1) / step : r.draws;
    if (sel.any_weight && r.weight_draws < rows) rows = r.weight_draws;
    if (r.has_hyper && rows > (r.hyper_sampling + step - 1) / step)
        rows = (r.hyper_sampling + step - 1) / step;
    size_t row_len = r.n_params + r.fs_points * r.fs_outputs + r.n_hyper;
    size_t block = bnn_export_block_rows(opt, 1) < 65536 ? bnn_export_block_rows(opt, 1) : 65536;
    double *buf = malloc((row_len > block ? row_len : block) * sizeof *buf);
    if (st == BNN_OK && !buf) st = BNN_ERROR(BNN_ENOMEM, "export: out of memory");
    for (size_t c = 0; st == BNN_OK && c < r.n_chain; c++) {
        st = write_chain(&r, &sel, opt ? opt->vars : NULL, out_dir, c, rows, step, buf, block);
        if (st == BNN_OK) ++*n_files;
    }
    free(buf);
    bnn_export_selection_free(&sel);
    bnn_export_run_close(&r);
    return st;
}
