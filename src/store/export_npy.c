/* Export of a run directory as plain .npy files (each chain's cut to the common number of
 * draws, copied byte for byte in blocks) with arrays.json, which names every file's dtype,
 * shape, dims and coordinates. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store/export_internal.h"
#include "store/run_store.h"

static const char *dtype_descr(bnn_npy_dtype t)
{
    switch (t) {
    case BNN_NPY_F32: return "<f4";
    case BNN_NPY_F64: return "<f8";
    case BNN_NPY_U8: return "|u1";
    case BNN_NPY_I64: return "<i8";
    case BNN_NPY_I32: return "<i4";
    }
    return "?";
}

static const char *dtype_name(bnn_npy_dtype t)
{
    static const char *const names[] = {"float32", "float64", "uint8", "int64", "int32"};
    return names[t];
}

/* Copies the first `rows` rows (all when rows is (size_t)-1) of src to dst; *shape_out gets
 * the copy's shape as a JSON array. */
static bnn_status copy_rows(bnn_export_array *a, const char *dst, size_t rows, void *buf,
                            size_t buf_bytes, json_t **shape_out)
{
    size_t n_rows = a->h.ndim ? a->h.shape[0] : 1;
    if (rows < n_rows) n_rows = rows;
    size_t row_bytes = a->row_len * a->h.itemsize, block = buf_bytes / (row_bytes ? row_bytes : 1);
    if (block == 0) return BNN_ERROR(BNN_EINVAL, "%s: a row is larger than the export block", a->path);
    bnn_npy_writer w;
    BNN_TRY(bnn_npy_writer_open(&w, dst, dtype_descr(a->h.dtype), a->h.ndim ? a->h.ndim - 1 : 0,
                                a->h.shape + 1));
    bnn_status st = BNN_OK;
    if (fseek(a->f, a->h.data_offset, SEEK_SET) != 0)
        st = BNN_ERROR(BNN_EIO, "%s: seek failed", a->path);
    for (size_t i = 0; st == BNN_OK && i < n_rows; i += block) {
        size_t n = n_rows - i < block ? n_rows - i : block;
        if (fread(buf, row_bytes, n, a->f) != n) st = BNN_ERROR(BNN_EIO, "%s: short read", a->path);
        else st = bnn_npy_writer_append(&w, buf, n);
    }
    bnn_status close_st = bnn_npy_writer_close(&w);
    if (st == BNN_OK) st = close_st;
    *shape_out = json_array();
    json_array_append_new(*shape_out, json_integer((json_int_t)n_rows));
    for (size_t d = 1; d < a->h.ndim; d++)
        json_array_append_new(*shape_out, json_integer((json_int_t)a->h.shape[d]));
    return st;
}

/* One array's entry in arrays.json. */
typedef struct {
    const char *name;     /* file name in the run (and the copy) */
    size_t rows;          /* rows to keep; (size_t)-1: all */
    const char *dims;     /* JSON array of dimension names */
    const char *about;    /* what it holds */
} array_spec;

static bnn_status copy_one(const bnn_export_run *r, const char *out_dir, long chain,
                           const array_spec *s, void *buf, size_t bytes, json_t *list)
{
    bnn_export_array a;
    int missing;
    BNN_TRY(bnn_export_array_open(r->dir, chain, s->name, &a, &missing));
    if (missing) return BNN_OK;
    char rel[64], dst[1200];
    if (chain >= 0) snprintf(rel, sizeof rel, "chain_%03ld/%s", chain, s->name);
    else snprintf(rel, sizeof rel, "%s", s->name);
    snprintf(dst, sizeof dst, "%s/%s", out_dir, rel);
    json_t *shape = NULL;
    bnn_status st = copy_rows(&a, dst, s->rows, buf, bytes, &shape);
    bnn_export_array_close(&a);
    json_t *e = json_pack("{s:s, s:s, s:s, s:o, s:o, s:s}", "name", s->name, "path", rel, "dtype",
                          dtype_name(a.h.dtype), "shape", shape, "dims",
                          json_loads(s->dims, 0, NULL), "description", s->about);
    if (chain >= 0) json_object_set_new(e, "chain", json_integer(chain));
    json_array_append_new(list, e);
    return st;
}

static bnn_status copy_chain(const bnn_export_run *r, const char *out_dir, size_t c, void *buf,
                             size_t bytes, json_t *list)
{
    char sub[1200];
    snprintf(sub, sizeof sub, "%s/chain_%03zu", out_dir, c);
    if (mkdir(sub, 0755) != 0 && errno != EEXIST)
        return BNN_ERROR(BNN_EIO, "cannot create directory %s: %s", sub, strerror(errno));
    const array_spec specs[] = {
        {"stats.npy", r->first_sampling + r->draws, "[\"iteration\", \"stat\"]",
         "per iteration: coords.stat names the columns; phase 0 burn-in, 1 warm-up, 2 sampling"},
        {"weights.npy", r->weight_draws, "[\"draw\", \"param\"]",
         "weight draw d is sampling iteration d * thin; coords.param maps columns to tensors"},
        {"fs.npy", r->draws, "[\"draw\", \"point\", \"output\"]",
         "function-space outputs at every sampling iteration; coords.point, coords.output"},
        {"warmup_fs.npy", (size_t)-1, "[\"iteration\", \"point\", \"output\"]",
         "function-space outputs during burn-in and warm-up"},
        {"bma_sum.npy", (size_t)-1, "[\"test_point\", \"output\"]",
         "sum over all of this chain's sampling iterations of the test-set predictions"},
        {"bma_logdens.npy", (size_t)-1, "[\"test_point\"]",
         "regression: log of the sum over draws of p(y | theta) at each test point"},
        {"bma_sumsq.npy", (size_t)-1, "[\"test_point\"]",
         "regression: sum over draws of E[y^2 | theta] = mu^2 + sigma^2 at each test point"},
        {"inv_mass.npy", (size_t)-1, "[\"param\"]", "the adapted inverse metric (diagonal)"},
        {"hyper.npy", (size_t)-1, "[\"iteration\", \"hyper\"]",
         "hierarchical prior: the precisions after every iteration; run.hyper_names"},
    };
    for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++)
        BNN_TRY(copy_one(r, out_dir, (long)c, &specs[k], buf, bytes, list));
    return BNN_OK;
}

/* The coordinates of every dimension named in the arrays list. */
static json_t *coords_json(const bnn_export_run *r)
{
    json_t *blocks = json_array();
    for (size_t b = 0; b < r->n_blocks; b++) {
        const bnn_export_block *blk = &r->blocks[b];
        json_t *shape = json_array();
        for (size_t d = 0; d < blk->ndim; d++) json_array_append_new(shape, json_integer((json_int_t)blk->shape[d]));
        json_array_append_new(blocks, json_pack("{s:s, s:I, s:I, s:o}", "name", blk->name, "offset",
                                                (json_int_t)blk->offset, "size",
                                                (json_int_t)blk->size, "shape", shape));
    }
    json_t *stats = json_array();
    for (size_t k = 0; k < r->stat_cols; k++) json_array_append_new(stats, json_string(bnn_stat_names[k]));
    json_t *meaning = json_object_get(r->root, "fs_output_meaning");
    return json_pack(
        "{s:I, s:{s:I, s:o, s:s}, s:s, s:{s:I, s:O*}, s:o, s:s, s:s}", "chain", (json_int_t)r->n_chain,
        "param", "size", (json_int_t)r->n_params, "blocks", blocks, "layout",
        "per tensor: C order at [offset, offset + size) of each row", "point",
        "position p: test-set row fs_index[p] (fs_index.npy)", "output", "count",
        (json_int_t)r->fs_outputs, "meaning", meaning, "stat", stats, "draw",
        "sampling iteration (weights: draw d = iteration d * thin)", "test_point",
        "row of the test set (test_targets.npy)");
}

static bnn_status write_sidecar(const bnn_export_run *r, const char *out_dir, json_t *list)
{
    char created[32], path[1200];
    bnn_export_timestamp(created, sizeof created);
    json_t *root = json_pack("{s:s, s:i, s:s, s:s, s:O*, s:I, s:I, s:I, s:I, s:I, s:o, s:O, s:O}",
                             "format", "bnnmc-npy-export", "format_version", 1, "created_at",
                             created, "source_run", r->dir, "bnnmc_version",
                             json_object_get(r->root, "bnnmc_version"), "chains",
                             (json_int_t)r->n_chain, "draws", (json_int_t)r->draws,
                             "weight_draws", (json_int_t)r->weight_draws, "thin",
                             (json_int_t)r->thin, "first_sampling_iteration",
                             (json_int_t)r->first_sampling, "coords", coords_json(r), "arrays",
                             list, "run", r->root);
    snprintf(path, sizeof path, "%s/arrays.json", out_dir);
    int rc = root ? json_dump_file(root, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : -1;
    json_decref(root);
    return rc ? BNN_ERROR(BNN_EIO, "%s: cannot write", path) : BNN_OK;
}

bnn_status bnn_export_npy(const char *run_dir, const char *out_dir, const bnn_export_options *opt)
{
    bnn_export_run r;
    BNN_TRY(bnn_export_run_open(run_dir, &r));
    size_t bytes = opt && opt->block_bytes ? opt->block_bytes : (size_t)64 << 20;
    void *buf = malloc(bytes);
    json_t *list = json_array();
    bnn_status st = buf && list ? BNN_OK : BNN_ERROR(BNN_ENOMEM, "export: out of memory");
    if (st == BNN_OK && mkdir(out_dir, 0755) != 0 && errno != EEXIST)
        st = BNN_ERROR(BNN_EIO, "cannot create directory %s: %s", out_dir, strerror(errno));
    const array_spec top[] = {
        {"test_targets.npy", (size_t)-1, "[\"test_point\"]", "targets of the whole test set"},
        {"fs_index.npy", (size_t)-1, "[\"point\"]", "test-set row of each recorded point"}};
    for (size_t k = 0; st == BNN_OK && k < 2; k++)
        st = copy_one(&r, out_dir, -1, &top[k], buf, bytes, list);
    for (size_t c = 0; st == BNN_OK && c < r.n_chain; c++)
        st = copy_chain(&r, out_dir, c, buf, bytes, list);
    if (st == BNN_OK) st = write_sidecar(&r, out_dir, list);
    json_decref(list);
    free(buf);
    bnn_export_run_close(&r);
    return st;
}
