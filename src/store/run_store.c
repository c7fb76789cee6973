/* Creating the run directory, the per-chain array files and the run.json manifest. */
#include "store/run_store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *const bnn_stat_names[BNN_N_STATS] = {
    "phase",     "accept_prob", "accepted",   "divergent", "energy",
    "energy_error", "step_size", "n_leapfrog", "log_lik",   "log_prior", "tree_depth"};

bnn_status bnn_stats_check_header(const bnn_npy_header *h, const char *path)
{
    if (h->ndim != 2 || (h->shape[1] != BNN_N_STATS && h->shape[1] != BNN_N_STATS_V1))
        return BNN_ERROR(BNN_EFORMAT, "%s: expected shape (iterations, %d)", path, BNN_N_STATS);
    return BNN_OK;
}

bnn_status bnn_stats_read_rows(FILE *f, const char *path, const bnn_npy_header *h, size_t first,
                               size_t n, double *out)
{
    const size_t cols = h->shape[1];
    BNN_TRY(bnn_npy_read_doubles(f, path, h, first * cols, n * cols, out));
    for (size_t i = n; cols < BNN_N_STATS && i-- > 0;) { /* widen in place, last row first */
        memmove(out + i * BNN_N_STATS, out + i * cols, cols * sizeof(double));
        for (size_t k = cols; k < BNN_N_STATS; k++) out[i * BNN_N_STATS + k] = 0;
    }
    return BNN_OK;
}

static bnn_status make_dirs(const char *dir)
{
    char path[1024];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return BNN_ERROR(BNN_EINVAL, "output directory name too long: %s", dir);
    for (char *p = path + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;
            *p = '\0';
            if (mkdir(path, 0755) != 0 && errno != EEXIST)
                return BNN_ERROR(BNN_EIO, "cannot create directory %s: %s", path, strerror(errno));
            *p = saved;
            if (!saved) break;
        }
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return BNN_ERROR(BNN_EIO, "%s is not a directory", dir);
    if (access(dir, W_OK) != 0)
        return BNN_ERROR(BNN_EIO, "output directory %s is not writable: %s", dir, strerror(errno));
    return BNN_OK;
}

bnn_status bnn_store_create(const char *dir, int overwrite)
{
    BNN_TRY(make_dirs(dir));
    char path[1100];
    snprintf(path, sizeof path, "%s/run.json", dir);
    if (!overwrite && access(path, F_OK) == 0)
        return BNN_ERROR(BNN_EINVAL,
                         "%s already holds a run (%s); choose another --out or pass --overwrite",
                         dir, path);
    return BNN_OK;
}

void bnn_store_chain_path(char *buf, size_t len, const char *dir, size_t chain, const char *name)
{
    snprintf(buf, len, "%s/chain_%03zu/%s", dir, chain, name);
}

bnn_status bnn_store_chain_open(const char *dir, size_t chain, const char *descr,
                                const bnn_chain_shape *shape, bnn_chain_files *f)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/chain_%03zu", dir, chain);
    BNN_TRY(make_dirs(path));
    const size_t n_stats = BNN_N_STATS, fs_shape[2] = {shape->fs_points, shape->fs_outputs};
    f->stats.fd = f->weights.fd = f->fs.fd = f->warmup_fs.fd = f->hyper.fd = f->log.fd = -1;
    /* a fresh chain: checkpoints (and hyperparameters) of a run this one replaces must not be
     * resumed or read later */
    static const char *const stale[] = {"checkpoint.bin", "checkpoint.prev.bin", "hyper.npy"};
    for (size_t i = 0; i < 3; i++) {
        bnn_store_chain_path(path, sizeof path, dir, chain, stale[i]);
        if (unlink(path) != 0 && errno != ENOENT)
            return BNN_ERROR(BNN_EIO, "cannot remove %s: %s", path, strerror(errno));
    }
    bnn_store_chain_path(path, sizeof path, dir, chain, "stats.npy");
    BNN_TRY(bnn_npy_writer_open(&f->stats, path, "<f8", 1, &n_stats));
    bnn_store_chain_path(path, sizeof path, dir, chain, "weights.npy");
    BNN_TRY(bnn_npy_writer_open(&f->weights, path, descr, 1, &shape->n_params));
    bnn_store_chain_path(path, sizeof path, dir, chain, "fs.npy");
    BNN_TRY(bnn_npy_writer_open(&f->fs, path, descr, 2, fs_shape));
    bnn_store_chain_path(path, sizeof path, dir, chain, "warmup_fs.npy");
    BNN_TRY(bnn_npy_writer_open(&f->warmup_fs, path, descr, 2, fs_shape));
    if (shape->n_hyper) {
        bnn_store_chain_path(path, sizeof path, dir, chain, "hyper.npy");
        BNN_TRY(bnn_npy_writer_open(&f->hyper, path, "<f8", 1, &shape->n_hyper));
    }
    bnn_store_chain_path(path, sizeof path, dir, chain, "records.log");
    return bnn_log_open(&f->log, path, shape->n_hyper ? BNN_LOG_FLAG_HYPER : 0);
}

bnn_status bnn_store_chain_reopen(const char *dir, size_t chain, const char *descr,
                                  const bnn_chain_shape *shape, const size_t rows[5],
                                  bnn_chain_files *f)
{
    char path[1200];
    const size_t n_stats = BNN_N_STATS, fs_shape[2] = {shape->fs_points, shape->fs_outputs};
    f->stats.fd = f->weights.fd = f->fs.fd = f->warmup_fs.fd = f->hyper.fd = f->log.fd = -1;
    bnn_store_chain_path(path, sizeof path, dir, chain, "records.log");
    BNN_TRY(bnn_log_reopen(&f->log, path, rows[4]));
    bnn_store_chain_path(path, sizeof path, dir, chain, "stats.npy");
    BNN_TRY(bnn_npy_writer_reopen(&f->stats, path, "<f8", 1, &n_stats, rows[0]));
    bnn_store_chain_path(path, sizeof path, dir, chain, "weights.npy");
    BNN_TRY(bnn_npy_writer_reopen(&f->weights, path, descr, 1, &shape->n_params, rows[1]));
    bnn_store_chain_path(path, sizeof path, dir, chain, "fs.npy");
    BNN_TRY(bnn_npy_writer_reopen(&f->fs, path, descr, 2, fs_shape, rows[2]));
    if (shape->n_hyper) {
        bnn_store_chain_path(path, sizeof path, dir, chain, "hyper.npy");
        BNN_TRY(bnn_npy_writer_reopen(&f->hyper, path, "<f8", 1, &shape->n_hyper, rows[0]));
    }
    bnn_store_chain_path(path, sizeof path, dir, chain, "warmup_fs.npy");
    return bnn_npy_writer_reopen(&f->warmup_fs, path, descr, 2, fs_shape, rows[3]);
}

bnn_status bnn_store_chain_holds(const char *dir, size_t chain, size_t itemsize,
                                 const bnn_chain_shape *shape, const uint64_t rows[5])
{
    static const char *const names[6] = {"stats.npy", "weights.npy", "fs.npy", "warmup_fs.npy",
                                         "records.log", "hyper.npy"};
    const size_t h = BNN_NPY_WRITER_HEADER_BYTES, fs = shape->fs_points * shape->fs_outputs;
    const size_t row_bytes[6] = {BNN_N_STATS * sizeof(double), shape->n_params * itemsize,
                                 fs * itemsize, fs * itemsize, BNN_LOG_RECORD_BYTES,
                                 shape->n_hyper * sizeof(double)};
    const size_t header[6] = {h, h, h, h, BNN_LOG_HEADER_BYTES, h};
    const uint64_t n_rows[6] = {rows[0], rows[1], rows[2], rows[3], rows[4], rows[0]};
    for (size_t i = 0; i < (shape->n_hyper ? 6u : 5u); i++) {
        char path[1200];
        struct stat st;
        bnn_store_chain_path(path, sizeof path, dir, chain, names[i]);
        if (stat(path, &st) != 0 || (uint64_t)st.st_size < header[i] + n_rows[i] * row_bytes[i])
            return BNN_ERROR(BNN_EFORMAT, "%s holds fewer than the %llu rows its checkpoint "
                                          "recorded", path, (unsigned long long)n_rows[i]);
    }
    return BNN_OK;
}

bnn_status bnn_store_chain_checkpoint(const char *dir, size_t chain, const bnn_ckpt_part *parts,
                                      size_t n_parts)
{
    char path[1200], prev[1200];
    bnn_store_chain_path(path, sizeof path, dir, chain, "checkpoint.bin");
    bnn_store_chain_path(prev, sizeof prev, dir, chain, "checkpoint.prev.bin");
    return bnn_ckpt_write(path, prev, parts, n_parts);
}

bnn_status bnn_store_chain_restore(const char *dir, size_t chain, bnn_ckpt_load_fn load,
                                   void *ctx, char *warning, size_t warning_len, int *restored)
{
    char path[1200], prev[1200];
    bnn_store_chain_path(path, sizeof path, dir, chain, "checkpoint.bin");
    bnn_store_chain_path(prev, sizeof prev, dir, chain, "checkpoint.prev.bin");
    *restored = 0;
    const int have = access(path, F_OK) == 0, have_prev = access(prev, F_OK) == 0;
    if (!have && !have_prev) return BNN_OK; /* killed before its first checkpoint: start anew */
    if (have && load(ctx, path) == BNN_OK) {
        *restored = 1;
        return BNN_OK;
    }
    if (have) { /* the newest checkpoint is damaged: say so, fall back to the one before */
        size_t used = strlen(warning); /* several chains may warn: one line each */
        snprintf(warning + used, warning_len - used, "%schain %zu: %.1000s; resuming from %.800s",
                 used ? "\n" : "", chain, bnn_last_error(), prev);
    }
    if (!have_prev) return BNN_ERROR(BNN_EFORMAT, "%s", bnn_last_error());
    BNN_TRY(load(ctx, prev));
    *restored = 1;
    return BNN_OK;
}

bnn_status bnn_store_chain_log(bnn_chain_files *f, uint64_t iteration, int with_weights,
                               int sampling)
{
    const bnn_npy_writer *fs = sampling ? &f->fs : &f->warmup_fs;
    bnn_log_record rec = {
        .iteration = iteration, .stats_row = f->stats.rows - 1, .stats_crc = f->stats.last_crc,
        .weights_row = with_weights ? f->weights.rows - 1 : UINT64_MAX,
        .weights_crc = with_weights ? f->weights.last_crc : 0, .fs_row = fs->rows - 1,
        .fs_crc = fs->last_crc, .fs_array = sampling ? BNN_LOG_FS_SAMPLING : BNN_LOG_FS_WARMUP};
    if (f->log.flags & BNN_LOG_FLAG_HYPER) /* the iteration's hyper.npy row was appended too */
        rec.stats_crc = bnn_crc32_combine(rec.stats_crc, f->hyper.last_crc, f->hyper.row_bytes);
    return bnn_log_append(&f->log, &rec);
}

bnn_status bnn_store_chain_flush(bnn_chain_files *f)
{
    bnn_npy_writer *w[4] = {&f->stats, &f->weights, &f->fs, &f->warmup_fs};
    for (size_t i = 0; i < 4; i++) BNN_TRY(bnn_npy_writer_flush(w[i]));
    if (f->hyper.fd >= 0) BNN_TRY(bnn_npy_writer_flush(&f->hyper));
    return bnn_log_flush(&f->log);
}

bnn_status bnn_store_chain_sync(bnn_chain_files *f)
{
    BNN_TRY(bnn_npy_writer_sync(&f->stats));
    BNN_TRY(bnn_npy_writer_sync(&f->weights));
    BNN_TRY(bnn_npy_writer_sync(&f->fs));
    if (f->hyper.fd >= 0) BNN_TRY(bnn_npy_writer_sync(&f->hyper));
    return bnn_npy_writer_sync(&f->warmup_fs);
}

bnn_status bnn_store_chain_close(bnn_chain_files *f)
{
    bnn_npy_writer *w[] = {&f->stats, &f->weights, &f->fs, &f->warmup_fs, &f->hyper};
    bnn_status first = BNN_OK;
    for (size_t i = 0; i < 5; i++) {
        bnn_status s = bnn_npy_writer_close(w[i]);
        if (first == BNN_OK) first = s;
    }
    bnn_status s = bnn_log_close(&f->log);
    return first != BNN_OK ? first : s;
}

bnn_status bnn_store_write_json(const char *dir, json_t *root)
{
    char tmp[1100], path[1100];
    snprintf(tmp, sizeof tmp, "%s/.run.json.tmp", dir);
    snprintf(path, sizeof path, "%s/run.json", dir);
    if (json_dump_file(root, tmp, JSON_INDENT(2) | JSON_ENSURE_ASCII) != 0)
        return BNN_ERROR(BNN_EIO, "%s: cannot write: %s", tmp, strerror(errno));
    int fd = open(tmp, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        if (fd >= 0) close(fd);
        return BNN_ERROR(BNN_EIO, "%s: cannot sync: %s", tmp, strerror(errno));
    }
    close(fd);
    if (rename(tmp, path) != 0)
        return BNN_ERROR(BNN_EIO, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
    return BNN_OK;
}

json_t *bnn_store_manifest_entry(const char *name, long chain, const char *path, const char *dtype,
                                 size_t ndim, const size_t *shape, const char *const *dims)
{
    json_t *shape_json = json_array(), *dims_json = json_array();
    for (size_t i = 0; i < ndim; i++) {
        json_array_append_new(shape_json, json_integer((json_int_t)shape[i]));
        json_array_append_new(dims_json, json_string(dims[i]));
    }
    json_t *e = json_pack("{s:s, s:s, s:s, s:o, s:o}", "name", name, "path", path, "dtype", dtype,
                          "shape", shape_json, "dims", dims_json);
    if (chain >= 0) json_object_set_new(e, "chain", json_integer(chain));
    return e;
}

bnn_status bnn_store_read_params(const json_t *params, const char *path, size_t n_params,
                                 bnn_param_block **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!json_is_array(params))
        return BNN_ERROR(BNN_EFORMAT, "%s: model.params is not a list", path);
    const size_t count = json_array_size(params);
    bnn_param_block *blocks = calloc(count ? count : 1, sizeof *blocks);
    if (!blocks) return BNN_ERROR(BNN_ENOMEM, "%s: out of memory for model.params", path);
    bnn_status s = BNN_OK;
    for (size_t b = 0; s == BNN_OK && b < count; b++) {
        bnn_param_block *blk = &blocks[b];
        const char *name;
        json_int_t offset;
        json_t *shape;
        if (json_unpack(json_array_get(params, b), "{s:s, s:I, s:o}", "name", &name, "offset",
                        &offset, "shape", &shape) || offset < 0 || !json_is_array(shape) ||
            json_array_size(shape) > BNN_PARAM_MAX_DIMS || strlen(name) >= sizeof blk->name) {
            s = BNN_ERROR(BNN_EFORMAT, "%s: model.params[%zu] needs name, offset, shape", path,
                          b);
            break;
        }
        snprintf(blk->name, sizeof blk->name, "%s", name);
        blk->offset = (size_t)offset;
        blk->ndim = json_array_size(shape);
        blk->size = 1;
        for (size_t d = 0; s == BNN_OK && d < blk->ndim; d++) {
            json_int_t len = json_integer_value(json_array_get(shape, d));
            if (len <= 0 || __builtin_mul_overflow(blk->size, (size_t)len, &blk->size))
                s = BNN_ERROR(BNN_EFORMAT, "%s: model.params[%zu].shape", path, b);
            else
                blk->shape[d] = (size_t)len;
        }
        if (s == BNN_OK && (blk->offset > n_params || blk->size > n_params - blk->offset))
            s = BNN_ERROR(BNN_EFORMAT, "%s: model.params[%zu] (offset %zu, %zu values) lies "
                          "outside model.n_params = %zu", path, b, blk->offset, blk->size,
                          n_params);
    }
    if (s != BNN_OK) {
        free(blocks);
        return s;
    }
    *out = blocks;
    *n = count;
    return BNN_OK;
}
