/* .npy writer with a fixed-size header whose shape is updated as rows are appended. */
#include "store/npy_writer.h"

#include "store/record_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEADER_BYTES BNN_NPY_WRITER_HEADER_BYTES

static bnn_status write_all(int fd, const char *path, const void *buf, size_t len, off_t offset,
                            int at_offset)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t k = at_offset ? pwrite(fd, p, len, offset) : write(fd, p, len);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0)
            return BNN_ERROR(BNN_EIO, "%s: write failed: %s", path,
                             k < 0 ? strerror(errno) : "no progress");
        p += k;
        len -= (size_t)k;
        offset += k;
    }
    return BNN_OK;
}

static bnn_status write_header(int fd, const char *path, const char *descr, size_t rows,
                               size_t n_tail, const size_t *tail)
{
    char dict[HEADER_BYTES];
    int len = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%zu,",
                       descr, rows);
    for (size_t i = 0; i < n_tail; i++)
        len += snprintf(dict + len, sizeof dict - (size_t)len, "%s%zu", i ? ", " : " ", tail[i]);
    len += snprintf(dict + len, sizeof dict - (size_t)len, "), }");
    const int dict_room = HEADER_BYTES - 10;
    if (len >= dict_room) return BNN_ERROR(BNN_EINVAL, "%s: array shape too long for header", path);
    unsigned char header[HEADER_BYTES];
    memcpy(header, "\x93NUMPY\x01\x00", 8);
    header[8] = (unsigned char)(dict_room & 0xff);
    header[9] = (unsigned char)(dict_room >> 8);
    memcpy(header + 10, dict, (size_t)len);
    memset(header + 10 + len, ' ', (size_t)(dict_room - len));
    header[HEADER_BYTES - 1] = '\n';
    return write_all(fd, path, header, HEADER_BYTES, 0, 1);
}

static size_t descr_itemsize(const char *descr)
{
    size_t n = strlen(descr);
    if (n < 3 || (descr[0] != '<' && descr[0] != '|')) return 0;
    return (size_t)(descr[2] - '0');
}

/* Fills the writer's layout fields from descr and the tail shape. */
static bnn_status set_layout(bnn_npy_writer *w, const char *path, const char *descr,
                             size_t n_tail, const size_t *tail)
{
    memset(w, 0, sizeof *w);
    w->fd = -1;
    if (n_tail > BNN_NPY_WRITER_MAX_DIMS || strlen(descr) >= sizeof w->descr ||
        !descr_itemsize(descr))
        return BNN_ERROR(BNN_EINVAL, "%s: unsupported array layout", path);
    snprintf(w->path, sizeof w->path, "%s", path);
    snprintf(w->descr, sizeof w->descr, "%s", descr);
    w->itemsize = descr_itemsize(descr);
    w->n_tail = n_tail;
    w->row_bytes = w->itemsize;
    for (size_t i = 0; i < n_tail; i++) {
        w->tail[i] = tail[i];
        w->row_bytes *= tail[i];
    }
    return BNN_OK;
}

bnn_status bnn_npy_writer_open(bnn_npy_writer *w, const char *path, const char *descr,
                               size_t n_tail, const size_t *tail)
{
    BNN_TRY(set_layout(w, path, descr, n_tail, tail));
    w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w->fd < 0) return BNN_ERROR(BNN_EIO, "%s: cannot create: %s", path, strerror(errno));
    bnn_status s = write_header(w->fd, path, descr, 0, n_tail, tail);
    if (s == BNN_OK && lseek(w->fd, HEADER_BYTES, SEEK_SET) < 0)
        s = BNN_ERROR(BNN_EIO, "%s: seek failed: %s", path, strerror(errno));
    return s;
}

bnn_status bnn_npy_writer_reopen(bnn_npy_writer *w, const char *path, const char *descr,
                                 size_t n_tail, const size_t *tail, size_t rows)
{
    BNN_TRY(set_layout(w, path, descr, n_tail, tail));
    w->fd = open(path, O_WRONLY | O_CLOEXEC);
    if (w->fd < 0) return BNN_ERROR(BNN_EIO, "%s: cannot reopen: %s", path, strerror(errno));
    struct stat st;
    const off_t keep = (off_t)(HEADER_BYTES + rows * w->row_bytes);
    if (fstat(w->fd, &st) != 0 || st.st_size < keep)
        return BNN_ERROR(BNN_EFORMAT, "%s: holds %lld bytes, fewer than the %zu rows (%lld bytes) "
                                      "its checkpoint recorded", path,
                         (long long)st.st_size, rows, (long long)keep);
    if (ftruncate(w->fd, keep) != 0 || lseek(w->fd, keep, SEEK_SET) < 0)
        return BNN_ERROR(BNN_EIO, "%s: cannot cut back to %zu rows: %s", path, rows,
                         strerror(errno));
    w->rows = rows;
    w->synced_rows = (size_t)-1; /* force a header rewrite */
    return bnn_npy_writer_sync(w);
}

bnn_status bnn_npy_writer_flush(bnn_npy_writer *w)
{
    BNN_TRY(bnn_npy_writer_sync(w));
    if (fsync(w->fd) != 0) return BNN_ERROR(BNN_EIO, "%s: fsync failed: %s", w->path, strerror(errno));
    return BNN_OK;
}

bnn_status bnn_npy_writer_append(bnn_npy_writer *w, const void *rows, size_t n)
{
    BNN_TRY(write_all(w->fd, w->path, rows, n * w->row_bytes, 0, 0));
    w->last_crc = bnn_crc32(rows, n * w->row_bytes);
    w->rows += n;
    return BNN_OK;
}

bnn_status bnn_npy_writer_sync(bnn_npy_writer *w)
{
    if (w->synced_rows == w->rows) return BNN_OK;
    BNN_TRY(write_header(w->fd, w->path, w->descr, w->rows, w->n_tail, w->tail));
    w->synced_rows = w->rows;
    return BNN_OK;
}

bnn_status bnn_npy_writer_close(bnn_npy_writer *w)
{
    if (w->fd < 0) return BNN_OK;
    bnn_status s = bnn_npy_writer_sync(w);
    if (close(w->fd) != 0 && s == BNN_OK)
        s = BNN_ERROR(BNN_EIO, "%s: close failed: %s", w->path, strerror(errno));
    w->fd = -1;
    return s;
}

bnn_status bnn_npy_write(const char *path, const char *descr, size_t ndim, const size_t *shape,
                         const void *data)
{
    if (ndim == 0) return BNN_ERROR(BNN_EINVAL, "%s: 0-d arrays are not written", path);
    bnn_npy_writer w;
    bnn_status s = bnn_npy_writer_open(&w, path, descr, ndim - 1, shape + 1);
    if (s == BNN_OK) s = bnn_npy_writer_append(&w, data, shape[0]);
    bnn_status c = bnn_npy_writer_close(&w);
    return s != BNN_OK ? s : c;
}
