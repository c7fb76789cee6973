/* Reading NumPy .npy files: the magic, the header dict ('descr', 'fortran_order', 'shape') and
 * little-endian element data converted to double, independent of the host's byte order. */
#include "data/npy.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "data/data_internal.h"

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6
#define NPY_MAX_HEADER_LEN (1u << 20) /* numpy itself refuses headers above 10 000 bytes */

/* A cursor over the header text; path and offset (of the text's first byte) are for messages. */
typedef struct {
    const char *p, *end;
    const char *path;
} npy_parser;

static void npy_skip_space(npy_parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

/* A Python string literal in single or double quotes (no escapes) into buf. */
static bnn_status npy_parse_string(npy_parser *ps, const char *field, char *buf, size_t cap)
{
    npy_skip_space(ps);
    if (ps->p >= ps->end || (*ps->p != '\'' && *ps->p != '"'))
        return BNN_ERROR(BNN_EFORMAT, "%s: .npy header field %s: expected a quoted string",
                         ps->path, field);
    char quote = *ps->p++;
    size_t len = 0;
    while (ps->p < ps->end && *ps->p != quote) {
        if (len + 1 >= cap)
            return BNN_ERROR(BNN_EFORMAT, "%s: .npy header field %s: string too long", ps->path,
                             field);
        buf[len++] = *ps->p++;
    }
    if (ps->p >= ps->end)
        return BNN_ERROR(BNN_EFORMAT, "%s: .npy header field %s: unterminated string", ps->path,
                         field);
    ps->p++;
    buf[len] = '\0';
    return BNN_OK;
}

static bnn_status npy_parse_bool(npy_parser *ps, int *value)
{
    npy_skip_space(ps);
    size_t left = (size_t)(ps->end - ps->p);
    if (left >= 4 && memcmp(ps->p, "True", 4) == 0) {
        *value = 1;
        ps->p += 4;
    } else if (left >= 5 && memcmp(ps->p, "False", 5) == 0) {
        *value = 0;
        ps->p += 5;
    } else {
        return BNN_ERROR(BNN_EFORMAT, "%s: .npy header field 'fortran_order': expected True or False",
                         ps->path);
    }
    return BNN_OK;
}

/* One non-negative decimal integer that fits size_t. */
static bnn_status npy_parse_dim(npy_parser *ps, size_t *dim)
{
    if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
        return BNN_ERROR(BNN_EFORMAT, "%s: .npy header field 'shape': expected an integer",
                         ps->path);
    size_t v = 0;
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
        size_t digit = (size_t)(*ps->p++ - '0');
        if (!bnn_size_mul_ok(v, 10, &v) || v > SIZE_MAX - digit)
            return BNN_ERROR(BNN_ERANGE, "%s: .npy header field 'shape': dimension overflows",
                             ps->path);
        v += digit;
    }
    if (ps->p < ps->end && *ps->p == 'L') ps->p++; /* Python 2 long suffix */
    *dim = v;
    return BNN_OK;
}

/* A tuple of integers: (), (n,), (n, m), ... */
static bnn_status npy_parse_shape(npy_parser *ps, bnn_npy_header *h)
{
    npy_skip_space(ps);
    if (ps->p >= ps->end || *ps->p != '(')
        return BNN_ERROR(BNN_EFORMAT, "%s: .npy header field 'shape': expected a tuple", ps->path);
    ps->p++;
    h->ndim = 0;
    for (;;) {
        npy_skip_space(ps);
        if (ps->p < ps->end && *ps->p == ')') break;
        if (h->ndim == BNN_NPY_MAX_DIMS)
            return BNN_ERROR(BNN_EUNSUP, "%s: .npy header field 'shape': more than %d dimensions",
                             ps->path, BNN_NPY_MAX_DIMS);
        BNN_TRY(npy_parse_dim(ps, &h->shape[h->ndim++]));
        npy_skip_space(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
        } else if (ps->p >= ps->end || *ps->p != ')') {
            return BNN_ERROR(BNN_EFORMAT, "%s: .npy header field 'shape': expected ',' or ')'",
                             ps->path);
        }
    }
    ps->p++;
    return BNN_OK;
}

/* Maps a numpy type string to our dtype; little-endian ('<') or byte-order-free ('|') only. */
static bnn_status npy_parse_descr(const char *descr, const char *path, bnn_npy_header *h)
{
    static const struct {
        const char *code;
        bnn_npy_dtype dtype;
        size_t itemsize;
    } known[] = {{"f4", BNN_NPY_F32, 4}, {"f8", BNN_NPY_F64, 8}, {"u1", BNN_NPY_U8, 1},
                 {"i8", BNN_NPY_I64, 8}, {"i4", BNN_NPY_I32, 4}};
    if (descr[0] == '>' && strcmp(descr + 1, "u1") != 0)
        return BNN_ERROR(BNN_EUNSUP, "%s: .npy header field 'descr': big-endian dtype '%s' is "
                         "not supported", path, descr);
    const char *code = (descr[0] == '<' || descr[0] == '|' || descr[0] == '>') ? descr + 1 : descr;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (strcmp(code, known[i].code) == 0) {
            h->dtype = known[i].dtype;
            h->itemsize = known[i].itemsize;
            return BNN_OK;
        }
    }
    return BNN_ERROR(BNN_EUNSUP, "%s: .npy header field 'descr': unsupported dtype '%s' (supported: "
                     "<f4, <f8, |u1, <i8, <i4)", path, descr);
}

/* The header dict: exactly the keys 'descr', 'fortran_order' and 'shape'. */
static bnn_status npy_parse_dict(npy_parser *ps, bnn_npy_header *h)
{
    char key[32], descr[32];
    int have_descr = 0, have_order = 0, have_shape = 0, fortran = 0;
    npy_skip_space(ps);
    if (ps->p >= ps->end || *ps->p++ != '{')
        return BNN_ERROR(BNN_EFORMAT, "%s: .npy header is not a dict (no '{')", ps->path);
    for (;;) {
        npy_skip_space(ps);
        if (ps->p < ps->end && *ps->p == '}') break;
        BNN_TRY(npy_parse_string(ps, "key", key, sizeof key));
        npy_skip_space(ps);
        if (ps->p >= ps->end || *ps->p++ != ':')
            return BNN_ERROR(BNN_EFORMAT, "%s: .npy header field '%s': expected ':'", ps->path, key);
        if (strcmp(key, "descr") == 0 && !have_descr) {
            BNN_TRY(npy_parse_string(ps, "'descr'", descr, sizeof descr));
            have_descr = 1;
        } else if (strcmp(key, "fortran_order") == 0 && !have_order) {
            BNN_TRY(npy_parse_bool(ps, &fortran));
            have_order = 1;
        } else if (strcmp(key, "shape") == 0 && !have_shape) {
            BNN_TRY(npy_parse_shape(ps, h));
            have_shape = 1;
        } else {
            return BNN_ERROR(BNN_EFORMAT, "%s: .npy header field '%s': unknown or repeated key",
                             ps->path, key);
        }
        npy_skip_space(ps);
        if (ps->p < ps->end && *ps->p == ',') ps->p++;
        else if (ps->p >= ps->end || *ps->p != '}')
            return BNN_ERROR(BNN_EFORMAT, "%s: .npy header field '%s': expected ',' or '}' after "
                             "the value", ps->path, key);
    }
    ps->p++;
    npy_skip_space(ps);
    if (ps->p != ps->end)
        return BNN_ERROR(BNN_EFORMAT, "%s: .npy header: unexpected text after the dict", ps->path);
    if (!have_descr || !have_order || !have_shape)
        return BNN_ERROR(BNN_EFORMAT, "%s: .npy header field '%s' is missing", ps->path,
                         !have_descr ? "descr" : !have_order ? "fortran_order" : "shape");
    if (fortran)
        return BNN_ERROR(BNN_EUNSUP, "%s: .npy header field 'fortran_order' is True; only C order "
                         "is supported", ps->path);
    return npy_parse_descr(descr, ps->path, h);
}

/* Element count and data size without overflow; the file must hold all the data. */
static bnn_status npy_check_size(FILE *f, const char *path, bnn_npy_header *h)
{
    size_t count = 1, bytes;
    for (size_t i = 0; i < h->ndim; i++)
        if (!bnn_size_mul_ok(count, h->shape[i], &count))
            return BNN_ERROR(BNN_ERANGE, "%s: .npy header field 'shape': element count overflows",
                             path);
    if (!bnn_size_mul_ok(count, h->itemsize, &bytes) || bytes > (size_t)INT64_MAX - 4096)
        return BNN_ERROR(BNN_ERANGE, "%s: .npy header field 'shape': data size overflows", path);
    h->count = count;
    struct stat st;
    if (fstat(fileno(f), &st) != 0)
        return BNN_ERROR(BNN_EIO, "%s: cannot stat: %s", path, strerror(errno));
    if ((uint64_t)st.st_size < (uint64_t)h->data_offset + bytes)
        return BNN_ERROR(BNN_EFORMAT, "%s: truncated .npy data: %zu bytes expected from byte "
                         "offset %ld, the file ends at byte offset %lld", path, bytes,
                         h->data_offset, (long long)st.st_size);
    return BNN_OK;
}

bnn_status bnn_npy_read_header(FILE *f, const char *path, bnn_npy_header *h)
{
    unsigned char pre[12];
    memset(h, 0, sizeof *h);
    if (fseeko(f, 0, SEEK_SET) != 0)
        return BNN_ERROR(BNN_EIO, "%s: cannot seek: %s", path, strerror(errno));
    if (fread(pre, 1, 8, f) != 8 || memcmp(pre, NPY_MAGIC, NPY_MAGIC_LEN) != 0)
        return BNN_ERROR(BNN_EFORMAT, "%s: byte offset 0: not a .npy file (bad magic)", path);
    int major = pre[6], minor = pre[7];
    size_t len_bytes = major == 1 ? 2 : 4;
    if (major < 1 || major > 3)
        return BNN_ERROR(BNN_EUNSUP, "%s: byte offset 6: unsupported .npy format version %d.%d",
                         path, major, minor);
    if (fread(pre + 8, 1, len_bytes, f) != len_bytes)
        return BNN_ERROR(BNN_EFORMAT, "%s: byte offset 8: truncated .npy header length", path);
    size_t header_len = (size_t)pre[8] | (size_t)pre[9] << 8;
    if (len_bytes == 4) header_len |= (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
    if (header_len > NPY_MAX_HEADER_LEN)
        return BNN_ERROR(BNN_EFORMAT, "%s: byte offset 8: .npy header length %zu is implausible",
                         path, header_len);
    char *text = malloc(header_len + 1);
    if (!text) return BNN_ERROR(BNN_ENOMEM, "%s: out of memory for the .npy header", path);
    bnn_status st = BNN_OK;
    if (fread(text, 1, header_len, f) != header_len) {
        st = BNN_ERROR(BNN_EFORMAT, "%s: byte offset %zu: truncated .npy header (%zu bytes "
                       "announced)", path, 8 + len_bytes, header_len);
    } else {
        npy_parser ps = {text, text + header_len, path};
        h->data_offset = (long)(8 + len_bytes + header_len);
        st = npy_parse_dict(&ps, h);
        if (st == BNN_OK) st = npy_check_size(f, path, h);
    }
    free(text);
    return st;
}

/* The n bytes at b as a little-endian unsigned integer. */
static uint64_t npy_le(const unsigned char *b, size_t n)
{
    uint64_t u = 0;
    for (size_t k = n; k-- > 0;) u = u << 8 | b[k];
    return u;
}

/* One little-endian element at b to double. */
static double npy_decode(const unsigned char *b, bnn_npy_dtype dtype)
{
    uint32_t u32 = (uint32_t)npy_le(b, dtype == BNN_NPY_F32 || dtype == BNN_NPY_I32 ? 4 : 0);
    uint64_t u64 = npy_le(b, dtype == BNN_NPY_F64 || dtype == BNN_NPY_I64 ? 8 : 0);
    float f32;
    double f64;
    int32_t i32;
    int64_t i64;
    switch (dtype) {
    case BNN_NPY_U8: return (double)b[0];
    case BNN_NPY_F32: memcpy(&f32, &u32, sizeof f32); return (double)f32;
    case BNN_NPY_I32: memcpy(&i32, &u32, sizeof i32); return (double)i32;
    case BNN_NPY_F64: memcpy(&f64, &u64, sizeof f64); return f64;
    case BNN_NPY_I64: memcpy(&i64, &u64, sizeof i64); return (double)i64;
    }
    return 0.0;
}

bnn_status bnn_npy_read_doubles(FILE *f, const char *path, const bnn_npy_header *h, size_t first,
                                size_t count, double *out)
{
    if (first > h->count || count > h->count - first)
        return BNN_ERROR(BNN_EINVAL, "%s: elements [%zu, %zu) requested from a .npy array of %zu",
                         path, first, first + count, h->count);
    off_t offset = (off_t)h->data_offset + (off_t)(first * h->itemsize);
    if (fseeko(f, offset, SEEK_SET) != 0)
        return BNN_ERROR(BNN_EIO, "%s: cannot seek to byte offset %lld: %s", path,
                         (long long)offset, strerror(errno));
    unsigned char buf[1 << 14]; /* a multiple of every itemsize */
    size_t per_chunk = sizeof buf / h->itemsize;
    for (size_t done = 0; done < count;) {
        size_t want = count - done < per_chunk ? count - done : per_chunk;
        size_t got = fread(buf, h->itemsize, want, f);
        if (got != want)
            return BNN_ERROR(BNN_EFORMAT, "%s: truncated .npy data at byte offset %lld", path,
                             (long long)(offset + (off_t)((done + got) * h->itemsize)));
        for (size_t i = 0; i < want; i++) out[done + i] = npy_decode(buf + i * h->itemsize, h->dtype);
        done += want;
    }
    return BNN_OK;
}

bnn_status bnn_npy_load_doubles(const char *path, size_t expect, const char *hint,
                                bnn_npy_header *hdr, double **out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return BNN_ERROR(BNN_EIO, "%s: cannot open%s%s%s", path, hint ? " (" : "", hint ? hint : "",
                         hint ? ")" : "");
    bnn_npy_header h;
    bnn_status s = bnn_npy_read_header(f, path, &h);
    if (s == BNN_OK && expect && h.count != expect)
        s = BNN_ERROR(BNN_EFORMAT, "%s: %zu elements, expected %zu", path, h.count, expect);
    double *v = NULL;
    if (s == BNN_OK && !(v = malloc((h.count ? h.count : 1) * sizeof *v)))
        s = BNN_ERROR(BNN_ENOMEM, "out of memory reading %s", path);
    if (s == BNN_OK) s = bnn_npy_read_doubles(f, path, &h, 0, h.count, v);
    fclose(f);
    if (s != BNN_OK) {
        free(v);
        return s;
    }
    if (hdr) *hdr = h;
    *out = v;
    return BNN_OK;
}
