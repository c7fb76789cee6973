/* Export of a run directory to one NetCDF-4 file in ArviZ's InferenceData layout (a group per
 * InferenceData group, coordinates as coordinate variables), streamed chain by chain. */
#include <netcdf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/export_internal.h"
#include "store/run_store.h"

/* Every netCDF call goes through this: a failure becomes a bnn_status naming the file. */
#define NC_TRY(path, call)                                                                     \
    do {                                                                                       \
        int nc_try_status_ = (call);                                                           \
        if (nc_try_status_ != NC_NOERR)                                                        \
            return BNN_ERROR(BNN_EIO, "%s: netCDF: %s", (path), nc_strerror(nc_try_status_));  \
    } while (0)

/* The open file and the ids the writers need. */
typedef struct {
    const char *path;         /* the temporary file being written */
    int ncid;
    int post, pred, stats, obs; /* group ids */
    int *block_var;           /* (n_blocks) posterior variables */
    int *hyper_var;           /* (n_hyper) posterior variables of the hierarchical prior */
    int p_var;                /* predictions/p */
    int stat_var[BNN_N_STATS + 1]; /* sample_stats variables by source column; [N_STATS] = lp */
} nc_file;

/* ArviZ's sample_stats names for stats.npy's columns (NULL: not exported). */
static const char *const stat_var_names[BNN_N_STATS] = {
    [BNN_STAT_ACCEPT_PROB] = "acceptance_rate", [BNN_STAT_ACCEPTED] = "accepted",
    [BNN_STAT_DIVERGENT] = "diverging",         [BNN_STAT_ENERGY] = "energy",
    [BNN_STAT_ENERGY_ERROR] = "energy_error",   [BNN_STAT_STEP_SIZE] = "step_size",
    [BNN_STAT_N_LEAPFROG] = "n_steps",          [BNN_STAT_LOG_LIK] = "log_lik",
    [BNN_STAT_LOG_PRIOR] = "log_prior",         [BNN_STAT_TREE_DEPTH] = "tree_depth"};

static bnn_status put_text(const nc_file *f, int grp, int var, const char *name, const char *text)
{
    NC_TRY(f->path, nc_put_att_text(grp, var, name, strlen(text), text));
    return BNN_OK;
}

/* created_at, inference_library(_version) and the run's config, model and data as JSON. */
static bnn_status put_group_attrs(const nc_file *f, int grp, const bnn_export_run *r,
                                  const char *created)
{
    const char *version = json_string_value(json_object_get(r->root, "bnnmc_version"));
    BNN_TRY(put_text(f, grp, NC_GLOBAL, "created_at", created));
    BNN_TRY(put_text(f, grp, NC_GLOBAL, "inference_library", "bnnmc"));
    BNN_TRY(put_text(f, grp, NC_GLOBAL, "inference_library_version", version ? version : "unknown"));
    static const char *const keys[] = {"config", "model", "data"};
    for (size_t k = 0; k < 3; k++) {
        json_t *v = json_object_get(r->root, keys[k]);
        if (!v) continue;
        char *text = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
        if (!text) return BNN_ERROR(BNN_ENOMEM, "export: out of memory");
        bnn_status st = put_text(f, grp, NC_GLOBAL, keys[k], text);
        free(text);
        BNN_TRY(st);
    }
    return BNN_OK;
}

/* A dimension of length n with its int64 coordinate variable: values[i], or i when NULL. */
static bnn_status def_coord(const nc_file *f, int grp, const char *name, size_t n,
                            const long long *values, size_t step, int *dimid)
{
    int var;
    NC_TRY(f->path, nc_def_dim(grp, name, n, dimid));
    NC_TRY(f->path, nc_def_var(grp, name, NC_INT64, 1, dimid, &var));
    long long *v = malloc((n ? n : 1) * sizeof *v);
    if (!v) return BNN_ERROR(BNN_ENOMEM, "export: out of memory");
    for (size_t i = 0; i < n; i++) v[i] = values ? values[i] : (long long)(i * step);
    size_t start = 0;
    int rc = n ? nc_put_vara_longlong(grp, var, &start, &n, v) : NC_NOERR;
    free(v);
    NC_TRY(f->path, rc);
    return BNN_OK;
}

/* A variable (chain, draw, dims...) chunked one chain and about 1 MiB at a time. */
static bnn_status def_draw_var(const nc_file *f, int grp, const char *name, nc_type type,
                               size_t ndim, const int *dimids, const size_t *lens, int *var)
{
    NC_TRY(f->path, nc_def_var(grp, name, type, (int)ndim, dimids, var));
    size_t chunk[BNN_EXPORT_MAX_DIMS + 2], per_draw = 1;
    for (size_t d = 2; d < ndim; d++) per_draw *= (chunk[d] = lens[d]);
    chunk[0] = 1;
    chunk[1] = (size_t)(1u << 20) / (8 * per_draw);
    if (chunk[1] < 1) chunk[1] = 1;
    if (chunk[1] > lens[1]) chunk[1] = lens[1] ? lens[1] : 1;
    NC_TRY(f->path, nc_def_var_chunking(grp, *var, NC_CHUNKED, chunk));
    return BNN_OK;
}

static nc_type float_type(const bnn_export_run *r)
{
    return r->dtype == BNN_NPY_F64 ? NC_DOUBLE : NC_FLOAT;
}

/* Draws of the posterior group: the weights' (thinned) draws, or, in a run that recorded no
 * weights, the hyperparameters' (the same iterations). */
static size_t posterior_draws(const bnn_export_run *r)
{
    return r->has_weights ? r->weight_draws : r->hyper_draws;
}

static bnn_status def_posterior(nc_file *f, const bnn_export_run *r)
{
    int dims[BNN_EXPORT_MAX_DIMS + 2];
    size_t lens[BNN_EXPORT_MAX_DIMS + 2] = {r->n_chain, posterior_draws(r)};
    BNN_TRY(def_coord(f, f->post, "chain", r->n_chain, NULL, 1, &dims[0]));
    BNN_TRY(def_coord(f, f->post, "draw", posterior_draws(r), NULL, r->thin, &dims[1]));
    for (size_t k = 0; r->has_hyper && k < r->n_hyper; k++) {
        BNN_TRY(def_draw_var(f, f->post, r->hyper_vars[k], NC_DOUBLE, 2, dims, lens,
                             &f->hyper_var[k]));
        BNN_TRY(put_text(f, f->post, f->hyper_var[k], "bnnmc_name", r->hyper_names[k]));
        BNN_TRY(put_text(f, f->post, f->hyper_var[k], "description",
                         "hierarchical prior: a precision, Gibbs-updated after each iteration"));
    }
    for (size_t b = 0; r->has_weights && b < r->n_blocks; b++) {
        const bnn_export_block *blk = &r->blocks[b];
        for (size_t d = 0; d < blk->ndim; d++) {
            char name[96];
            snprintf(name, sizeof name, "%s_dim_%zu", blk->var_name, d);
            BNN_TRY(def_coord(f, f->post, name, blk->shape[d], NULL, 1, &dims[d + 2]));
            lens[d + 2] = blk->shape[d];
        }
        BNN_TRY(def_draw_var(f, f->post, blk->var_name, float_type(r), blk->ndim + 2, dims, lens,
                             &f->block_var[b]));
        BNN_TRY(put_text(f, f->post, f->block_var[b], "bnnmc_name", blk->name));
    }
    return BNN_OK;
}

/* predictions/p and observed_data/y share the point coordinate: the test-set rows. */
static bnn_status def_predictions(nc_file *f, const bnn_export_run *r)
{
    bnn_export_array idx, targets;
    BNN_TRY(bnn_export_array_open(r->dir, -1, "fs_index.npy", &idx, NULL));
    size_t n = r->fs_points;
    double *rows = malloc(2 * (n ? n : 1) * sizeof *rows);
    long long *coord = malloc((n ? n : 1) * sizeof *coord);
    bnn_status st = rows && coord ? BNN_OK : BNN_ERROR(BNN_ENOMEM, "export: out of memory");
    if (st == BNN_OK && (idx.h.ndim != 1 || idx.h.shape[0] != n))
        st = BNN_ERROR(BNN_EFORMAT, "%s: expected shape (%zu)", idx.path, n);
    if (st == BNN_OK) st = bnn_export_array_rows(&idx, 0, n, rows);
    bnn_export_array_close(&idx);
    if (st == BNN_OK) st = bnn_export_array_open(r->dir, -1, "test_targets.npy", &targets, NULL);
    for (size_t i = 0; st == BNN_OK && i < n; i++) {
        coord[i] = (long long)rows[i];
        if (!(rows[i] >= 0 && rows[i] < (double)targets.h.count))
            st = BNN_ERROR(BNN_EFORMAT, "%s: row %g is not in the test set", idx.path, rows[i]);
        else
            st = bnn_npy_read_doubles(targets.f, targets.path, &targets.h, (size_t)rows[i], 1,
                                      &rows[n + i]);
    }
    bnn_export_array_close(&targets);
    int dims[4], ydim, yvar;
    size_t lens[4] = {r->n_chain, r->draws, n, r->fs_outputs}, start = 0;
    if (st == BNN_OK) st = def_coord(f, f->pred, "chain", r->n_chain, NULL, 1, &dims[0]);
    if (st == BNN_OK) st = def_coord(f, f->pred, "draw", r->draws, NULL, 1, &dims[1]);
    if (st == BNN_OK) st = def_coord(f, f->pred, "point", n, coord, 1, &dims[2]);
    if (st == BNN_OK) st = def_coord(f, f->pred, "output", r->fs_outputs, NULL, 1, &dims[3]);
    if (st == BNN_OK) st = def_draw_var(f, f->pred, "p", float_type(r), 4, dims, lens, &f->p_var);
    const char *meaning = json_string_value(json_object_get(r->root, "fs_output_meaning"));
    if (st == BNN_OK) st = put_text(f, f->pred, f->p_var, "long_name", meaning ? meaning : "output");
    if (st == BNN_OK) st = def_coord(f, f->obs, "point", n, coord, 1, &ydim);
    if (st == BNN_OK && nc_def_var(f->obs, "y", NC_DOUBLE, 1, &ydim, &yvar) != NC_NOERR)
        st = BNN_ERROR(BNN_EIO, "%s: netCDF: cannot define observed_data/y", f->path);
    if (st == BNN_OK && n && nc_put_vara_double(f->obs, yvar, &start, &n, rows + n) != NC_NOERR)
        st = BNN_ERROR(BNN_EIO, "%s: netCDF: cannot write observed_data/y", f->path);
    free(rows);
    free(coord);
    return st;
}

static bnn_status def_sample_stats(nc_file *f, const bnn_export_run *r)
{
    int dims[2];
    size_t lens[2] = {r->n_chain, r->draws};
    BNN_TRY(def_coord(f, f->stats, "chain", r->n_chain, NULL, 1, &dims[0]));
    BNN_TRY(def_coord(f, f->stats, "draw", r->draws, NULL, 1, &dims[1]));
    for (size_t k = 0; k < BNN_N_STATS; k++) {
        f->stat_var[k] = -1;
        if (!stat_var_names[k]) continue;
        int boolean = k == BNN_STAT_DIVERGENT || k == BNN_STAT_ACCEPTED;
        int integer = k == BNN_STAT_N_LEAPFROG || k == BNN_STAT_TREE_DEPTH;
        nc_type type = boolean ? NC_BYTE : integer ? NC_INT64 : NC_DOUBLE;
        BNN_TRY(def_draw_var(f, f->stats, stat_var_names[k], type, 2, dims, lens, &f->stat_var[k]));
        /* xarray decodes an int8 variable with dtype = "bool" as booleans, as ArviZ writes them. */
        if (boolean) BNN_TRY(put_text(f, f->stats, f->stat_var[k], "dtype", "bool"));
    }
    BNN_TRY(def_draw_var(f, f->stats, "lp", NC_DOUBLE, 2, dims, lens, &f->stat_var[BNN_N_STATS]));
    return put_text(f, f->stats, f->stat_var[BNN_N_STATS], "description",
                    "(log_lik + log_prior) / temperature: the log density HMC targets");
}

/* One chain's weight draws, block by block, scattered into one variable per tensor. */
static bnn_status write_posterior(const nc_file *f, const bnn_export_run *r, size_t c,
                                  double *buf, size_t block)
{
    bnn_export_array a;
    BNN_TRY(bnn_export_array_open(r->dir, (long)c, "weights.npy", &a, NULL));
    double *gather = buf + block * r->n_params;
    bnn_status st = BNN_OK;
    for (size_t d0 = 0; st == BNN_OK && d0 < r->weight_draws; d0 += block) {
        size_t n = r->weight_draws - d0 < block ? r->weight_draws - d0 : block;
        st = bnn_export_array_rows(&a, d0, n, buf);
        for (size_t b = 0; st == BNN_OK && b < r->n_blocks; b++) {
            const bnn_export_block *blk = &r->blocks[b];
            for (size_t i = 0; i < n; i++)
                memcpy(gather + i * blk->size, buf + i * r->n_params + blk->offset,
                       blk->size * sizeof *buf);
            size_t start[BNN_EXPORT_MAX_DIMS + 2] = {c, d0}, count[BNN_EXPORT_MAX_DIMS + 2] = {1, n};
            memcpy(count + 2, blk->shape, blk->ndim * sizeof *count);
            if (nc_put_vara_double(f->post, f->block_var[b], start, count, gather) != NC_NOERR)
                st = BNN_ERROR(BNN_EIO, "%s: netCDF: cannot write posterior/%s", f->path,
                               blk->var_name);
        }
    }
    bnn_export_array_close(&a);
    return st;
}

/* One chain's hyperparameter draws: hyper.npy rows first_sampling + d · thin. buf holds
 * 2 · block rows of at least n_params ≥ n_hyper numbers (write_all). */
static bnn_status write_hyper(const nc_file *f, const bnn_export_run *r, size_t c, double *buf,
                              size_t block)
{
    bnn_export_array a;
    BNN_TRY(bnn_export_array_open(r->dir, (long)c, "hyper.npy", &a, NULL));
    const size_t n_draws = posterior_draws(r);
    double *column = buf + block * r->n_hyper;
    bnn_status st = BNN_OK;
    for (size_t d0 = 0; st == BNN_OK && d0 < n_draws; d0 += block) {
        size_t n = n_draws - d0 < block ? n_draws - d0 : block;
        for (size_t i = 0; st == BNN_OK && i < n; i++)
            st = bnn_export_array_rows(&a, r->first_sampling + (d0 + i) * r->thin, 1,
                                       buf + i * r->n_hyper);
        for (size_t k = 0; st == BNN_OK && k < r->n_hyper; k++) {
            for (size_t i = 0; i < n; i++) column[i] = buf[i * r->n_hyper + k];
            size_t start[2] = {c, d0}, count[2] = {1, n};
            if (nc_put_vara_double(f->post, f->hyper_var[k], start, count, column) != NC_NOERR)
                st = BNN_ERROR(BNN_EIO, "%s: netCDF: cannot write posterior/%s", f->path,
                               r->hyper_vars[k]);
        }
    }
    bnn_export_array_close(&a);
    return st;
}

static bnn_status write_predictions(const nc_file *f, const bnn_export_run *r, size_t c,
                                    double *buf, size_t block)
{
    bnn_export_array a;
    BNN_TRY(bnn_export_array_open(r->dir, (long)c, "fs.npy", &a, NULL));
    bnn_status st = BNN_OK;
    for (size_t d0 = 0; st == BNN_OK && d0 < r->draws; d0 += block) {
        size_t n = r->draws - d0 < block ? r->draws - d0 : block;
        size_t start[4] = {c, d0, 0, 0}, count[4] = {1, n, r->fs_points, r->fs_outputs};
        st = bnn_export_array_rows(&a, d0, n, buf);
        if (st == BNN_OK && nc_put_vara_double(f->pred, f->p_var, start, count, buf) != NC_NOERR)
            st = BNN_ERROR(BNN_EIO, "%s: netCDF: cannot write predictions/p", f->path);
    }
    bnn_export_array_close(&a);
    return st;
}

static bnn_status write_sample_stats(const nc_file *f, const bnn_export_run *r, size_t c,
                                     double *buf, size_t block)
{
    bnn_export_array a;
    BNN_TRY(bnn_export_array_open(r->dir, (long)c, "stats.npy", &a, NULL));
    double *column = buf + block * BNN_N_STATS;
    bnn_status st = BNN_OK;
    for (size_t d0 = 0; st == BNN_OK && d0 < r->draws; d0 += block) {
        size_t n = r->draws - d0 < block ? r->draws - d0 : block, start[2] = {c, d0}, count[2] = {1, n};
        st = bnn_export_sampling_stats(&a, r, d0, n, buf);
        for (size_t k = 0; st == BNN_OK && k <= BNN_N_STATS; k++) {
            if (k < BNN_N_STATS && f->stat_var[k] < 0) continue;
            for (size_t i = 0; i < n; i++) {
                const double *row = buf + i * BNN_N_STATS;
                column[i] = k < BNN_N_STATS ? row[k]
                          : (row[BNN_STAT_LOG_LIK] + row[BNN_STAT_LOG_PRIOR]) / r->temperature;
            }
            if (nc_put_vara_double(f->stats, f->stat_var[k], start, count, column) != NC_NOERR)
                st = BNN_ERROR(BNN_EIO, "%s: netCDF: cannot write sample_stats column %zu",
                               f->path, k);
        }
    }
    bnn_export_array_close(&a);
    return st;
}

static bnn_status define_all(nc_file *f, const bnn_export_run *r)
{
    char created[32];
    bnn_export_timestamp(created, sizeof created);
    BNN_TRY(put_group_attrs(f, f->ncid, r, created));
    NC_TRY(f->path, nc_def_grp(f->ncid, "posterior", &f->post));
    NC_TRY(f->path, nc_def_grp(f->ncid, "predictions", &f->pred));
    NC_TRY(f->path, nc_def_grp(f->ncid, "sample_stats", &f->stats));
    NC_TRY(f->path, nc_def_grp(f->ncid, "observed_data", &f->obs));
    int groups[4] = {f->post, f->pred, f->stats, f->obs};
    for (size_t g = 0; g < 4; g++) BNN_TRY(put_group_attrs(f, groups[g], r, created));
    if (r->has_weights || r->has_hyper) BNN_TRY(def_posterior(f, r));
    if (r->has_fs) BNN_TRY(def_predictions(f, r));
    return def_sample_stats(f, r);
}

static bnn_status write_all(nc_file *f, const bnn_export_run *r, const bnn_export_options *opt)
{
    BNN_TRY(define_all(f, r));
    NC_TRY(f->path, nc_enddef(f->ncid));
    size_t row = r->n_params > BNN_N_STATS ? r->n_params : BNN_N_STATS;
    if (r->fs_points * r->fs_outputs > row) row = r->fs_points * r->fs_outputs;
    size_t block = bnn_export_block_rows(opt, 2 * row);
    double *buf = malloc(2 * block * row * sizeof *buf);
    if (!buf) return BNN_ERROR(BNN_ENOMEM, "export: out of memory");
    bnn_status st = BNN_OK;
    for (size_t c = 0; st == BNN_OK && c < r->n_chain; c++) {
        if (r->has_weights) st = write_posterior(f, r, c, buf, block);
        if (st == BNN_OK && r->has_hyper) st = write_hyper(f, r, c, buf, block);
        if (st == BNN_OK && r->has_fs) st = write_predictions(f, r, c, buf, block);
        if (st == BNN_OK) st = write_sample_stats(f, r, c, buf, block);
    }
    free(buf);
    return st;
}

bnn_status bnn_export_netcdf(const char *run_dir, const char *out_path,
                             const bnn_export_options *opt)
{
    bnn_export_run r;
    BNN_TRY(bnn_export_run_open(run_dir, &r));
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", out_path);
    nc_file f = {.path = tmp, .ncid = -1};
    bnn_status st = BNN_OK;
    f.block_var = calloc(r.n_blocks ? r.n_blocks : 1, sizeof *f.block_var);
    f.hyper_var = calloc(r.n_hyper ? r.n_hyper : 1, sizeof *f.hyper_var);
    if (!f.block_var || !f.hyper_var) st = BNN_ERROR(BNN_ENOMEM, "export: out of memory");
    int rc = st == BNN_OK ? nc_create(tmp, NC_NETCDF4 | NC_CLOBBER, &f.ncid) : NC_NOERR;
    if (rc != NC_NOERR) st = BNN_ERROR(BNN_EIO, "%s: cannot create: %s", tmp, nc_strerror(rc));
    if (st == BNN_OK) st = write_all(&f, &r, opt);
    if (f.ncid >= 0 && (rc = nc_close(f.ncid)) != NC_NOERR && st == BNN_OK)
        st = BNN_ERROR(BNN_EIO, "%s: netCDF: %s", tmp, nc_strerror(rc));
    if (st == BNN_OK && rename(tmp, out_path) != 0)
        st = BNN_ERROR(BNN_EIO, "%s: cannot rename to %s", tmp, out_path);
    if (st != BNN_OK) remove(tmp);
    free(f.block_var);
    free(f.hyper_var);
    bnn_export_run_close(&r);
    return st;
}
