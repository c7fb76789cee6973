/* IDX reader (the MNIST format): big-endian header (magic 0x00000803 for uint8 images of
 * (n, h, w), 0x00000801 for uint8 labels of (n)), then the bytes; raw or gzip through zlib. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "data/data_internal.h"
#include "data/dataset.h"

#define IDX_IMAGES_MAGIC 0x00000803u
#define IDX_LABELS_MAGIC 0x00000801u

/* One IDX file opened with zlib (which reads raw files unchanged) and its header parsed. */
typedef struct {
    gzFile gz;
    const char *path;
    size_t ndim;
    size_t dims[3];
    size_t count;        /* product of dims */
    size_t header_bytes; /* 4 + 4 * ndim */
} idx_file;

static uint32_t idx_be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

/* Reads exactly len bytes or says where the file ended. */
static bnn_status idx_read_exact(idx_file *f, void *buf, size_t len, size_t offset,
                                 const char *what)
{
    int got = gzread(f->gz, buf, (unsigned)len);
    if (got < 0) {
        int code;
        const char *msg = gzerror(f->gz, &code);
        return BNN_ERROR(BNN_EIO, "%s: byte offset %zu: cannot read %s: %s", f->path, offset,
                         what, msg);
    }
    if ((size_t)got != len)
        return BNN_ERROR(BNN_EFORMAT, "%s: truncated IDX file: %s ends at byte offset %zu, "
                         "%zu bytes expected", f->path, what, offset + (size_t)got, len);
    return BNN_OK;
}

/* Deflate expands at most 1032-fold, so a gzip file of n bytes holds at most 1032 n. */
#define IDX_GZIP_MAX_RATIO 1032u

/* Checked before allocating: an uncompressed file's size must be exactly header + data; a
 * gzip file must be large enough to hold them at deflate's best ratio. */
static bnn_status idx_check_size(const idx_file *f)
{
    struct stat st;
    if (stat(f->path, &st) != 0) return BNN_OK;
    uint64_t want = (uint64_t)f->header_bytes + f->count, have = (uint64_t)st.st_size;
    if (!gzdirect(f->gz)) {
        if (want / IDX_GZIP_MAX_RATIO > have)
            return BNN_ERROR(BNN_EFORMAT, "%s: truncated IDX file: the dimensions need %llu "
                             "bytes, more than %llu bytes of gzip data can hold", f->path,
                             (unsigned long long)want, (unsigned long long)have);
        return BNN_OK;
    }
    if (have < want)
        return BNN_ERROR(BNN_EFORMAT, "%s: truncated IDX file: the data needs %llu bytes, the "
                         "file ends at byte offset %llu", f->path, (unsigned long long)want,
                         (unsigned long long)have);
    if (have > want)
        return BNN_ERROR(BNN_EFORMAT, "%s: byte offset %llu: %llu unexpected bytes after the "
                         "IDX data", f->path, (unsigned long long)want,
                         (unsigned long long)(have - want));
    return BNN_OK;
}

static bnn_status idx_parse_header(idx_file *f, uint32_t expected_magic)
{
    unsigned char b[12];
    BNN_TRY(idx_read_exact(f, b, 4, 0, "the magic number"));
    uint32_t magic = idx_be32(b);
    if (magic != expected_magic)
        return BNN_ERROR(BNN_EFORMAT, "%s: byte offset 0: IDX magic 0x%08x, expected 0x%08x (%s)",
                         f->path, magic, expected_magic,
                         expected_magic == IDX_IMAGES_MAGIC ? "uint8 images (n, h, w)"
                                                            : "uint8 labels (n)");
    f->ndim = magic & 0xffu;
    f->header_bytes = 4 + 4 * f->ndim;
    BNN_TRY(idx_read_exact(f, b, 4 * f->ndim, 4, "the dimensions"));
    f->count = 1;
    for (size_t i = 0; i < f->ndim; i++) {
        f->dims[i] = idx_be32(b + 4 * i);
        if (f->dims[i] == 0)
            return BNN_ERROR(BNN_EFORMAT, "%s: byte offset %zu: IDX dimension %zu is 0", f->path,
                             4 + 4 * i, i + 1);
        if (!bnn_size_mul_ok(f->count, f->dims[i], &f->count) ||
            f->count > SIZE_MAX / sizeof(double))
            return BNN_ERROR(BNN_ERANGE, "%s: byte offset %zu: IDX dimensions overflow", f->path,
                             4 + 4 * i);
    }
    return idx_check_size(f);
}

static bnn_status idx_open(const char *path, uint32_t expected_magic, idx_file *f)
{
    memset(f, 0, sizeof *f);
    f->path = path;
    errno = 0;
    f->gz = gzopen(path, "rb");
    if (!f->gz)
        return BNN_ERROR(BNN_EIO, "%s: cannot open: %s", path,
                         errno ? strerror(errno) : "out of memory");
    gzbuffer(f->gz, 1u << 17);
    bnn_status st = idx_parse_header(f, expected_magic);
    if (st != BNN_OK) {
        gzclose(f->gz);
        f->gz = NULL;
    }
    return st;
}

/* The f->count bytes as doubles into out, then nothing more. */
static bnn_status idx_read_values(idx_file *f, double *out)
{
    unsigned char buf[1 << 16];
    for (size_t done = 0; done < f->count;) {
        size_t want = f->count - done < sizeof buf ? f->count - done : sizeof buf;
        BNN_TRY(idx_read_exact(f, buf, want, f->header_bytes + done, "the data"));
        for (size_t i = 0; i < want; i++) out[done + i] = (double)buf[i];
        done += want;
    }
    if (gzread(f->gz, buf, 1) > 0)
        return BNN_ERROR(BNN_EFORMAT, "%s: byte offset %zu: unexpected bytes after the IDX data",
                         f->path, f->header_bytes + f->count);
    return BNN_OK;
}

static bnn_status idx_read_pair_open(idx_file *fi, idx_file *fl, bnn_table *out)
{
    if (fi->dims[0] != fl->dims[0])
        return BNN_ERROR(BNN_EFORMAT, "%s has %zu images but %s has %zu labels", fi->path,
                         fi->dims[0], fl->path, fl->dims[0]);
    BNN_TRY(bnn_table_alloc(out, fi->dims[0], fi->dims[1] * fi->dims[2], fi->path));
    out->height = fi->dims[1];
    out->width = fi->dims[2];
    out->channels = 1;
    bnn_status st = idx_read_values(fi, out->x);
    if (st == BNN_OK) st = idx_read_values(fl, out->y);
    if (st != BNN_OK) bnn_table_free(out);
    return st;
}

bnn_status bnn_read_idx_pair(const char *images_path, const char *labels_path, bnn_table *out)
{
    idx_file fi, fl;
    memset(out, 0, sizeof *out);
    BNN_TRY(idx_open(images_path, IDX_IMAGES_MAGIC, &fi));
    bnn_status st = idx_open(labels_path, IDX_LABELS_MAGIC, &fl);
    if (st == BNN_OK) {
        st = idx_read_pair_open(&fi, &fl, out);
        gzclose(fl.gz);
    }
    gzclose(fi.gz);
    return st;
}
