/* Tables of examples: allocation, the .npy feature/target pair, and choosing a reader from a
 * "FILE" or "XFILE,YFILE" spec by the files' magic bytes. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/data_internal.h"
#include "data/dataset.h"
#include "data/npy.h"

int bnn_size_mul_ok(size_t a, size_t b, size_t *out) { return !__builtin_mul_overflow(a, b, out); }

void bnn_table_free(bnn_table *t)
{
    if (!t) return;
    free(t->x);
    free(t->y);
    memset(t, 0, sizeof *t);
}

bnn_status bnn_table_alloc(bnn_table *t, size_t n, size_t d, const char *path)
{
    size_t nd;
    memset(t, 0, sizeof *t);
    if (!bnn_size_mul_ok(n, d, &nd) || nd > SIZE_MAX / sizeof(double))
        return BNN_ERROR(BNN_ERANGE, "%s: %zu x %zu values overflow the address space", path, n, d);
    t->x = calloc(nd ? nd : 1, sizeof(double));
    t->y = calloc(n ? n : 1, sizeof(double));
    if (!t->x || !t->y) {
        bnn_table_free(t);
        return BNN_ERROR(BNN_ENOMEM, "%s: out of memory for %zu x %zu values", path, n, d);
    }
    t->n = n;
    t->d = d;
    return BNN_OK;
}

bnn_status bnn_file_kind_of(const char *path, bnn_file_kind *kind)
{
    unsigned char b[6] = {0};
    FILE *f = fopen(path, "rb");
    if (!f) return BNN_ERROR(BNN_EIO, "%s: cannot open: %s", path, strerror(errno));
    size_t got = fread(b, 1, sizeof b, f);
    fclose(f);
    if (got >= 6 && memcmp(b, "\x93NUMPY", 6) == 0) *kind = BNN_FILE_NPY;
    else if (got >= 2 && b[0] == 0x1f && b[1] == 0x8b) *kind = BNN_FILE_GZIP;
    else if (got >= 4 && b[0] == 0 && b[1] == 0 && b[2] == 0x08) *kind = BNN_FILE_IDX;
    else *kind = BNN_FILE_TEXT;
    return BNN_OK;
}

/* Maps the feature array's shape to (n, d) and the image shape; 2-D, 3-D or 4-D only. */
static bnn_status npy_feature_shape(const bnn_npy_header *h, const char *path, bnn_table *t)
{
    if (h->ndim < 2 || h->ndim > 4)
        return BNN_ERROR(BNN_EFORMAT, "%s: .npy header field 'shape': features must be (n, d), "
                         "(n, h, w) or (n, h, w, c), not %zu-D", path, h->ndim);
    t->n = h->shape[0];
    if (h->ndim == 2) {
        t->d = h->shape[1];
        return BNN_OK;
    }
    t->height = h->shape[1];
    t->width = h->shape[2];
    t->channels = h->ndim == 4 ? h->shape[3] : 1;
    if (!bnn_size_mul_ok(t->height, t->width, &t->d) || !bnn_size_mul_ok(t->d, t->channels, &t->d))
        return BNN_ERROR(BNN_ERANGE, "%s: .npy header field 'shape': image size overflows", path);
    return BNN_OK;
}

/* Opens path and reads its header; on success the caller closes *f. */
static bnn_status npy_open(const char *path, FILE **f, bnn_npy_header *h)
{
    *f = fopen(path, "rb");
    if (!*f) return BNN_ERROR(BNN_EIO, "%s: cannot open: %s", path, strerror(errno));
    bnn_status st = bnn_npy_read_header(*f, path, h);
    if (st != BNN_OK) fclose(*f);
    return st;
}

/* Every value finite; names the file and the 1-based row of the first that is not. */
static bnn_status check_finite(const double *v, size_t n, size_t per_row, const char *path)
{
    for (size_t i = 0; i < n * per_row; i++)
        if (!isfinite(v[i]))
            return BNN_ERROR(BNN_ENUM, "%s: row %zu: non-finite value %g", path, i / per_row + 1,
                             v[i]);
    return BNN_OK;
}

static bnn_status npy_read_pair_open(FILE *fx, const bnn_npy_header *hx, const char *x_path,
                                     FILE *fy, const bnn_npy_header *hy, const char *y_path,
                                     bnn_table *out)
{
    bnn_table shape = {0};
    BNN_TRY(npy_feature_shape(hx, x_path, &shape));
    if (hy->ndim < 1 || hy->ndim > 2 || (hy->ndim == 2 && hy->shape[1] != 1))
        return BNN_ERROR(BNN_EFORMAT, "%s: .npy header field 'shape': targets must be (n) or "
                         "(n, 1)", y_path);
    if (hy->shape[0] != shape.n)
        return BNN_ERROR(BNN_EFORMAT, "%s has %zu rows but %s has %zu targets", x_path, shape.n,
                         y_path, hy->shape[0]);
    BNN_TRY(bnn_table_alloc(out, shape.n, shape.d, x_path));
    out->height = shape.height;
    out->width = shape.width;
    out->channels = shape.channels;
    bnn_status st = bnn_npy_read_doubles(fx, x_path, hx, 0, hx->count, out->x);
    if (st == BNN_OK) st = bnn_npy_read_doubles(fy, y_path, hy, 0, hy->count, out->y);
    if (st == BNN_OK) st = check_finite(out->x, out->n, out->d, x_path);
    if (st == BNN_OK) st = check_finite(out->y, out->n, 1, y_path);
    if (st != BNN_OK) bnn_table_free(out);
    return st;
}

bnn_status bnn_read_npy_pair(const char *x_path, const char *y_path, bnn_table *out)
{
    FILE *fx, *fy;
    bnn_npy_header hx, hy;
    memset(out, 0, sizeof *out);
    BNN_TRY(npy_open(x_path, &fx, &hx));
    bnn_status st = npy_open(y_path, &fy, &hy);
    if (st == BNN_OK) {
        st = npy_read_pair_open(fx, &hx, x_path, fy, &hy, y_path, out);
        fclose(fy);
    }
    fclose(fx);
    return st;
}

bnn_status bnn_read_table(const char *spec, const bnn_csv_options *opt, bnn_table *out)
{
    bnn_file_kind kind;
    memset(out, 0, sizeof *out);
    if (!spec || !*spec) return BNN_ERROR(BNN_EINVAL, "empty data file name");
    const char *comma = strchr(spec, ',');
    if (!comma || access(spec, F_OK) == 0) {
        BNN_TRY(bnn_file_kind_of(spec, &kind));
        if (kind != BNN_FILE_TEXT)
            return BNN_ERROR(BNN_EINVAL, "%s: an IDX or .npy file holds features or targets only; "
                             "give both as XFILE,YFILE", spec);
        return bnn_read_csv(spec, opt, out);
    }
    size_t len = (size_t)(comma - spec);
    char *x_path = malloc(len + 1);
    if (!x_path) return BNN_ERROR(BNN_ENOMEM, "%s: out of memory", spec);
    memcpy(x_path, spec, len);
    x_path[len] = '\0';
    const char *y_path = comma + 1;
    bnn_status st = bnn_file_kind_of(x_path, &kind);
    if (st == BNN_OK) {
        if (kind == BNN_FILE_NPY) st = bnn_read_npy_pair(x_path, y_path, out);
        else if (kind == BNN_FILE_IDX || kind == BNN_FILE_GZIP) st = bnn_read_idx_pair(x_path, y_path, out);
        else st = BNN_ERROR(BNN_EFORMAT, "%s: neither .npy nor IDX (by its first bytes); a CSV "
                            "file is given alone, without ',YFILE'", x_path);
    }
    free(x_path);
    return st;
}
