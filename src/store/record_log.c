/* The per-chain record log: append, reopen after a checkpoint, and verification of every
 * stored row against its CRC. */
#include "store/record_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "data/npy.h"

static const char magic[8] = {'B', 'N', 'N', 'M', 'C', 'L', 'O', 'G'};
_Static_assert(sizeof(bnn_log_record) + 8 == BNN_LOG_RECORD_BYTES, "record layout");

uint32_t bnn_crc32(const void *data, size_t n)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    const unsigned char *p = data;
    while (n > 0) {
        uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
        crc = crc32(crc, p, chunk);
        p += chunk;
        n -= chunk;
    }
    return (uint32_t)crc;
}

uint32_t bnn_crc32_combine(uint32_t crc_a, uint32_t crc_b, size_t len_b)
{
    return (uint32_t)crc32_combine(crc_a, crc_b, (z_off_t)len_b);
}

static bnn_status write_at(int fd, const char *path, const void *buf, size_t len, off_t off)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t k = pwrite(fd, p, len, off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return BNN_ERROR(BNN_EIO, "%s: write failed: %s", path, strerror(errno));
        p += k;
        len -= (size_t)k;
        off += k;
    }
    return BNN_OK;
}

static void header_bytes(unsigned char h[BNN_LOG_HEADER_BYTES], uint32_t flags)
{
    const uint32_t version = BNN_LOG_VERSION, mark = 0x01020304u, width = sizeof(double);
    memset(h, 0, BNN_LOG_HEADER_BYTES);
    memcpy(h, magic, 8);
    memcpy(h + 8, &version, 4);
    memcpy(h + 12, &mark, 4);
    memcpy(h + 16, &width, 4);
    memcpy(h + 20, &flags, 4);
}

/* The flags of header h (bytes 20-23). */
static uint32_t header_flags(const unsigned char h[BNN_LOG_HEADER_BYTES])
{
    uint32_t flags;
    memcpy(&flags, h + 20, 4);
    return flags;
}

bnn_status bnn_log_open(bnn_record_log *log, const char *path, uint32_t flags)
{
    snprintf(log->path, sizeof log->path, "%s", path);
    log->n_records = 0;
    log->flags = flags;
    log->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log->fd < 0) return BNN_ERROR(BNN_EIO, "%s: cannot create: %s", path, strerror(errno));
    unsigned char h[BNN_LOG_HEADER_BYTES];
    header_bytes(h, flags);
    return write_at(log->fd, path, h, sizeof h, 0);
}

bnn_status bnn_log_reopen(bnn_record_log *log, const char *path, uint64_t n_records)
{
    snprintf(log->path, sizeof log->path, "%s", path);
    log->fd = open(path, O_RDWR | O_CLOEXEC);
    if (log->fd < 0) return BNN_ERROR(BNN_EIO, "%s: cannot reopen: %s", path, strerror(errno));
    unsigned char h[BNN_LOG_HEADER_BYTES], want[BNN_LOG_HEADER_BYTES];
    header_bytes(want, 0);
    const off_t keep = BNN_LOG_HEADER_BYTES + (off_t)n_records * BNN_LOG_RECORD_BYTES;
    struct stat st;
    if (pread(log->fd, h, sizeof h, 0) != (ssize_t)sizeof h || memcmp(h, want, 20) != 0)
        return BNN_ERROR(BNN_EFORMAT, "%s: offset 0: not a bnnmc record log of version %u", path,
                         BNN_LOG_VERSION);
    log->flags = header_flags(h);
    if (fstat(log->fd, &st) != 0 || st.st_size < keep)
        return BNN_ERROR(BNN_EFORMAT, "%s: holds fewer than the %llu records its checkpoint "
                                      "recorded", path, (unsigned long long)n_records);
    if (ftruncate(log->fd, keep) != 0)
        return BNN_ERROR(BNN_EIO, "%s: cannot cut back: %s", path, strerror(errno));
    log->n_records = n_records;
    return BNN_OK;
}

bnn_status bnn_log_append(bnn_record_log *log, const bnn_log_record *rec)
{
    unsigned char buf[BNN_LOG_RECORD_BYTES];
    const uint32_t len = sizeof *rec, crc = bnn_crc32(rec, sizeof *rec);
    memcpy(buf, &len, 4);
    memcpy(buf + 4, &crc, 4);
    memcpy(buf + 8, rec, sizeof *rec);
    const off_t at = BNN_LOG_HEADER_BYTES + (off_t)log->n_records * BNN_LOG_RECORD_BYTES;
    BNN_TRY(write_at(log->fd, log->path, buf, sizeof buf, at));
    log->n_records++;
    return BNN_OK;
}

bnn_status bnn_log_flush(bnn_record_log *log)
{
    if (fsync(log->fd) != 0)
        return BNN_ERROR(BNN_EIO, "%s: fsync failed: %s", log->path, strerror(errno));
    return BNN_OK;
}

bnn_status bnn_log_close(bnn_record_log *log)
{
    if (log->fd < 0) return BNN_OK;
    int rc = close(log->fd);
    log->fd = -1;
    return rc == 0 ? BNN_OK : BNN_ERROR(BNN_EIO, "%s: close failed", log->path);
}

/* One of a chain's arrays, opened for checking rows. */
struct array {
    FILE *f;
    char path[1100];
    bnn_npy_header h;
    size_t row_bytes;
};

static bnn_status array_open(struct array *a, const char *dir, const char *name)
{
    snprintf(a->path, sizeof a->path, "%s/%s", dir, name);
    a->f = fopen(a->path, "rb");
    if (!a->f) return BNN_ERROR(BNN_EIO, "%s: cannot open: %s", a->path, strerror(errno));
    BNN_TRY(bnn_npy_read_header(a->f, a->path, &a->h));
    a->row_bytes = a->h.shape[0] ? a->h.count / a->h.shape[0] * a->h.itemsize : 0;
    return BNN_OK;
}

/* The CRC-32 of row `row` of array a into *crc and its byte offset into *off; buf holds
 * row_bytes. */
static bnn_status row_crc(struct array *a, uint64_t row, unsigned char *buf, uint64_t record,
                          uint32_t *crc, long *off)
{
    *off = a->h.data_offset + (long)(row * a->row_bytes);
    if (a->h.ndim == 0 || row >= a->h.shape[0] || fseek(a->f, *off, SEEK_SET) != 0 ||
        fread(buf, 1, a->row_bytes, a->f) != a->row_bytes)
        return BNN_ERROR(BNN_EFORMAT, "%s: row %llu (named by record %llu) is missing", a->path,
                         (unsigned long long)row, (unsigned long long)record);
    *crc = bnn_crc32(buf, a->row_bytes);
    return BNN_OK;
}

/* Compares row `row` of array a with crc, or, with a second array b (hyper.npy), the same row
 * of a followed by that of b. */
static bnn_status check_row(struct array *a, struct array *b, uint64_t row, uint32_t crc,
                            unsigned char *buf, uint64_t record)
{
    uint32_t got, got_b;
    long off, off_b = 0;
    BNN_TRY(row_crc(a, row, buf, record, &got, &off));
    if (b) {
        BNN_TRY(row_crc(b, row, buf, record, &got_b, &off_b));
        got = bnn_crc32_combine(got, got_b, b->row_bytes);
    }
    if (got == crc) return BNN_OK;
    if (b)
        return BNN_ERROR(BNN_EFORMAT, "%s: offset %ld, or %s: offset %ld: row %llu does not match "
                                      "its checksum (record %llu): the iteration is damaged",
                         a->path, off, b->path, off_b, (unsigned long long)row,
                         (unsigned long long)record);
    return BNN_ERROR(BNN_EFORMAT, "%s: offset %ld: row %llu does not match its checksum "
                                  "(record %llu): the draw is damaged", a->path, off,
                     (unsigned long long)row, (unsigned long long)record);
}

/* arr: stats, weights, fs, warmup_fs and, if the log's flags say so, hyper (else unopened). */
static bnn_status verify_records(FILE *lf, const char *path, struct array *arr,
                                 unsigned char *buf, uint64_t *n)
{
    struct array *hyper = arr[4].f ? &arr[4] : NULL;
    unsigned char raw[BNN_LOG_RECORD_BYTES];
    size_t got;
    for (*n = 0; (got = fread(raw, 1, sizeof raw, lf)) > 0; (*n)++) {
        const long off = BNN_LOG_HEADER_BYTES + (long)(*n * BNN_LOG_RECORD_BYTES);
        bnn_log_record rec;
        uint32_t len, crc;
        memcpy(&len, raw, 4);
        memcpy(&crc, raw + 4, 4);
        memcpy(&rec, raw + 8, sizeof rec);
        if (got != sizeof raw || len != sizeof rec || bnn_crc32(&rec, sizeof rec) != crc)
            return BNN_ERROR(BNN_EFORMAT, "%s: offset %ld: record %llu is %s", path, off,
                             (unsigned long long)*n, got != sizeof raw ? "torn" : "damaged");
        BNN_TRY(check_row(&arr[0], hyper, rec.stats_row, rec.stats_crc, buf, *n));
        if (rec.weights_row != UINT64_MAX)
            BNN_TRY(check_row(&arr[1], NULL, rec.weights_row, rec.weights_crc, buf, *n));
        BNN_TRY(check_row(&arr[rec.fs_array == BNN_LOG_FS_SAMPLING ? 2 : 3], NULL, rec.fs_row,
                          rec.fs_crc, buf, *n));
    }
    return BNN_OK;
}

bnn_status bnn_log_verify(const char *dir, uint64_t *n_records)
{
    static const char *const names[5] = {"stats.npy", "weights.npy", "fs.npy", "warmup_fs.npy",
                                         "hyper.npy"};
    struct array arr[5] = {{0}};
    char path[1100];
    snprintf(path, sizeof path, "%s/records.log", dir);
    FILE *lf = fopen(path, "rb");
    if (!lf) return BNN_ERROR(BNN_EIO, "%s: cannot open: %s", path, strerror(errno));
    unsigned char h[BNN_LOG_HEADER_BYTES], want[BNN_LOG_HEADER_BYTES];
    header_bytes(want, 0);
    bnn_status s = fread(h, 1, sizeof h, lf) == sizeof h && !memcmp(h, want, 20)
                       ? BNN_OK
                       : BNN_ERROR(BNN_EFORMAT, "%s: offset 0: not a bnnmc record log of "
                                                "version %u", path, BNN_LOG_VERSION);
    const int n_arrays = s == BNN_OK && (header_flags(h) & BNN_LOG_FLAG_HYPER) ? 5 : 4;
    size_t widest = 0;
    for (int i = 0; s == BNN_OK && i < n_arrays; i++) {
        s = array_open(&arr[i], dir, names[i]);
        if (s == BNN_OK && arr[i].row_bytes > widest) widest = arr[i].row_bytes;
    }
    unsigned char *buf = s == BNN_OK ? malloc(widest ? widest : 1) : NULL;
    if (s == BNN_OK && !buf) s = BNN_ERROR(BNN_ENOMEM, "out of memory");
    if (s == BNN_OK) s = verify_records(lf, path, arr, buf, n_records);
    free(buf);
    for (int i = 0; i < 5; i++)
        if (arr[i].f) fclose(arr[i].f);
    fclose(lf);
    return s;
}
