/* A run directory opened for export: run.json's layout, every chain's array headers checked
 * against it, and the common number of draws over chains. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/export_internal.h"
#include "store/run_store.h"

bnn_status bnn_export_array_open(const char *dir, long chain, const char *name,
                                 bnn_export_array *a, int *missing)
{
    memset(a, 0, sizeof *a);
    if (chain < 0) snprintf(a->path, sizeof a->path, "%s/%s", dir, name);
    else bnn_store_chain_path(a->path, sizeof a->path, dir, (size_t)chain, name);
    if (missing) *missing = 0;
    a->f = fopen(a->path, "rb");
    if (!a->f) {
        if (errno == ENOENT && missing) {
            *missing = 1;
            return BNN_OK;
        }
        return BNN_ERROR(BNN_EIO, "%s: cannot open: %s", a->path, strerror(errno));
    }
    bnn_status st = bnn_npy_read_header(a->f, a->path, &a->h);
    if (st != BNN_OK) {
        bnn_export_array_close(a);
        return st;
    }
    a->row_len = 1;
    for (size_t d = 1; d < a->h.ndim; d++) a->row_len *= a->h.shape[d];
    return BNN_OK;
}

bnn_status bnn_export_array_rows(bnn_export_array *a, size_t first, size_t n, double *out)
{
    return bnn_npy_read_doubles(a->f, a->path, &a->h, first * a->row_len, n * a->row_len, out);
}

void bnn_export_array_close(bnn_export_array *a)
{
    if (a->f) fclose(a->f);
    a->f = NULL;
}

bnn_status bnn_export_sampling_stats(bnn_export_array *a, const bnn_export_run *r, size_t draw,
                                     size_t n, double *out)
{
    BNN_TRY(bnn_stats_read_rows(a->f, a->path, &a->h, r->first_sampling + draw, n, out));
    for (size_t i = 0; i < n; i++)
        if (out[i * BNN_N_STATS + BNN_STAT_PHASE] != 2)
            return BNN_ERROR(BNN_EFORMAT, "%s: row %zu is not a sampling iteration (phase %g), "
                             "but run.json's burn_in + warmup = %zu says it should be", a->path,
                             r->first_sampling + draw + i, out[i * BNN_N_STATS + BNN_STAT_PHASE],
                             r->first_sampling);
    return BNN_OK;
}

size_t bnn_export_block_rows(const bnn_export_options *opt, size_t row_len)
{
    size_t bytes = opt && opt->block_bytes ? opt->block_bytes : (size_t)64 << 20;
    size_t rows = bytes / ((row_len ? row_len : 1) * sizeof(double));
    return rows ? rows : 1;
}

void bnn_export_timestamp(char *buf, size_t len)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* model.params, each tensor with its NetCDF / Stan CSV name ('.' becomes '_'). */
static bnn_status read_blocks(json_t *params, const char *path, bnn_export_run *r)
{
    bnn_param_block *p;
    BNN_TRY(bnn_store_read_params(params, path, r->n_params, &p, &r->n_blocks));
    r->blocks = calloc(r->n_blocks ? r->n_blocks : 1, sizeof *r->blocks);
    if (!r->blocks) {
        free(p);
        return BNN_ERROR(BNN_ENOMEM, "export: out of memory");
    }
    for (size_t b = 0; b < r->n_blocks; b++) {
        bnn_export_block *blk = &r->blocks[b];
        memcpy(blk->name, p[b].name, sizeof blk->name);
        blk->offset = p[b].offset;
        blk->size = p[b].size;
        blk->ndim = p[b].ndim;
        memcpy(blk->shape, p[b].shape, sizeof blk->shape);
        snprintf(blk->var_name, sizeof blk->var_name, "%s", p[b].name);
        for (char *c = blk->var_name; *c; c++)
            if (*c == '.') *c = '_';
    }
    free(p);
    return BNN_OK;
}

/* run.json's optional hyper_names: the columns of each chain's hyper.npy. */
static bnn_status read_hyper_names(const char *path, bnn_export_run *r)
{
    json_t *names = json_object_get(r->root, "hyper_names");
    if (!names) return BNN_OK;
    if (!json_is_array(names))
        return BNN_ERROR(BNN_EFORMAT, "%s: hyper_names is not a list of names", path);
    r->n_hyper = json_array_size(names);
    r->hyper_names = calloc(r->n_hyper ? r->n_hyper : 1, sizeof *r->hyper_names);
    r->hyper_vars = calloc(r->n_hyper ? r->n_hyper : 1, sizeof *r->hyper_vars);
    if (!r->hyper_names || !r->hyper_vars) return BNN_ERROR(BNN_ENOMEM, "export: out of memory");
    for (size_t k = 0; k < r->n_hyper; k++) {
        const char *name = json_string_value(json_array_get(names, k));
        if (!name || !*name || strlen(name) >= sizeof r->hyper_names[k])
            return BNN_ERROR(BNN_EFORMAT, "%s: hyper_names[%zu] is not a name of 1 to 63 characters",
                             path, k);
        snprintf(r->hyper_names[k], sizeof r->hyper_names[k], "%s", name);
        for (size_t i = 0; name[i]; i++) r->hyper_vars[k][i] = name[i] == '.' ? '_' : name[i];
    }
    return BNN_OK;
}

static bnn_status read_json(const char *dir, bnn_export_run *r)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/run.json", dir);
    json_error_t err;
    r->root = json_load_file(path, 0, &err);
    if (!r->root && err.line < 1) return BNN_ERROR(BNN_EIO, "%s", err.text);
    if (!r->root) return BNN_ERROR(BNN_EFORMAT, "%s:%d:%d: %s", path, err.line, err.column, err.text);
    json_int_t chains = 0, thin = 1, burn = 0, warm = 0, np = 0, points = 0, outputs = 0;
    json_t *params = NULL;
    r->temperature = 1;
    if (json_unpack_ex(r->root, &err, 0, "{s:{s:I, s?:I, s?:I, s?:I, s?:F}, s:{s:I, s:o}, s?:I, s?:I}",
                       "config", "chains", &chains, "thin", &thin, "burn_in", &burn, "warmup",
                       &warm, "temperature", &r->temperature, "model", "n_params", &np, "params",
                       &params, "fs_points", &points, "fs_outputs", &outputs))
        return BNN_ERROR(BNN_EFORMAT, "%s: needs config.chains, model.n_params, model.params (%s)",
                         path, err.text);
    if (chains <= 0 || chains > BNN_EXPORT_MAX_CHAINS || thin < 1 || burn < 0 || warm < 0 ||
        np < 0 || points < 0 || outputs < 0 || !(r->temperature > 0))
        return BNN_ERROR(BNN_EFORMAT, "%s: config.chains, thin, burn_in, warmup, temperature, "
                         "model.n_params, fs_points or fs_outputs out of range", path);
    r->n_chain = (size_t)chains;
    r->thin = (size_t)thin;
    r->first_sampling = (size_t)burn + (size_t)warm;
    r->n_params = (size_t)np;
    r->fs_points = (size_t)points;
    r->fs_outputs = (size_t)outputs;
    BNN_TRY(read_hyper_names(path, r));
    return read_blocks(params, path, r);
}

static size_t min_size(size_t a, size_t b) { return a < b ? a : b; }

/* Checks one chain's array shape (leading dimension free) and narrows *rows to its length;
 * float_data: weights or outputs, whose dtype (float32 or float64) goes to r->dtype. */
static bnn_status check_array(const char *dir, size_t c, const char *name, size_t n_tail,
                              const size_t *tail, int float_data, int *present, size_t *rows,
                              bnn_export_run *r)
{
    bnn_export_array a;
    int missing;
    BNN_TRY(bnn_export_array_open(dir, (long)c, name, &a, &missing));
    if (missing) {
        *present = 0;
        return BNN_OK;
    }
    bnn_status st = BNN_OK;
    int same = a.h.ndim == n_tail + 1;
    for (size_t d = 0; same && d < n_tail; d++) same = a.h.shape[d + 1] == tail[d];
    if (!same) st = BNN_ERROR(BNN_EFORMAT, "%s: shape does not match run.json", a.path);
    if (float_data) {
        if (a.h.dtype != BNN_NPY_F32 && a.h.dtype != BNN_NPY_F64)
            st = BNN_ERROR(BNN_EFORMAT, "%s: expected float32 or float64", a.path);
        r->dtype = a.h.dtype;
    }
    *rows = min_size(*rows, a.h.shape[0]);
    bnn_export_array_close(&a);
    return st;
}

bnn_status bnn_export_run_open(const char *dir, bnn_export_run *r)
{
    memset(r, 0, sizeof *r);
    r->dir = dir;
    r->dtype = BNN_NPY_F32;
    bnn_status st = read_json(dir, r);
    size_t stat_tail = BNN_N_STATS, fs_tail[2] = {r->fs_points, r->fs_outputs};
    size_t stat_rows = (size_t)-1, fs_rows = (size_t)-1, hyper_rows = (size_t)-1;
    int stats_present = 1;
    r->has_weights = r->has_fs = 1;
    r->has_hyper = r->n_hyper > 0;
    r->weight_draws = (size_t)-1;
    for (size_t c = 0; st == BNN_OK && c < r->n_chain; c++) {
        size_t old_tail = BNN_N_STATS_V1; /* a run written before the tree_depth column */
        st = check_array(dir, c, "stats.npy", 1, &stat_tail, 0, &stats_present, &stat_rows, r);
        r->stat_cols = BNN_N_STATS;
        if (st != BNN_OK) {
            st = check_array(dir, c, "stats.npy", 1, &old_tail, 0, &stats_present, &stat_rows, r);
            r->stat_cols = BNN_N_STATS_V1;
        }
        if (st == BNN_OK && !stats_present) {
            char path[1100];
            bnn_store_chain_path(path, sizeof path, dir, c, "stats.npy");
            st = BNN_ERROR(BNN_EIO, "%s: missing", path);
        }
        if (st == BNN_OK)
            st = check_array(dir, c, "weights.npy", 1, &r->n_params, 1, &r->has_weights,
                             &r->weight_draws, r);
        if (st == BNN_OK && r->fs_points)
            st = check_array(dir, c, "fs.npy", 2, fs_tail, 1, &r->has_fs, &fs_rows, r);
        if (st == BNN_OK && r->n_hyper)
            st = check_array(dir, c, "hyper.npy", 1, &r->n_hyper, 0, &r->has_hyper, &hyper_rows,
                             r);
    }
    if (st != BNN_OK) {
        bnn_export_run_close(r);
        return st;
    }
    r->has_fs = r->has_fs && r->fs_points && r->fs_outputs;
    r->draws = stat_rows > r->first_sampling ? stat_rows - r->first_sampling : 0;
    if (r->has_fs) r->draws = min_size(r->draws, fs_rows);
    if (!r->has_weights || r->weight_draws == 0) {
        r->has_weights = 0;
        r->weight_draws = 0;
    }
    if (r->has_hyper) { /* the draws of the weights, or every thin-th sampling iteration */
        size_t rows = min_size(hyper_rows, stat_rows);
        rows = rows > r->first_sampling ? rows - r->first_sampling : 0;
        r->hyper_sampling = rows;
        r->hyper_draws = (rows + r->thin - 1) / r->thin;
        r->has_hyper = r->hyper_draws > 0;
        if (r->has_hyper && r->has_weights) /* one draw dimension for both */
            r->weight_draws = r->hyper_draws = min_size(r->weight_draws, r->hyper_draws);
    }
    if (r->draws == 0) {
        bnn_export_run_close(r);
        return BNN_ERROR(BNN_EINVAL, "%s: no chain has a sampling iteration yet (every chain "
                         "needs one to export)", dir);
    }
    return BNN_OK;
}

void bnn_export_run_close(bnn_export_run *r)
{
    json_decref(r->root);
    free(r->blocks);
    free(r->hyper_names);
    free(r->hyper_vars);
    r->root = NULL;
    r->blocks = NULL;
    r->hyper_names = r->hyper_vars = NULL;
}
