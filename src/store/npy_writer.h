/* Append-only writing of NumPy .npy files: the header reserves room for the shape, and the
 * leading dimension (rows appended so far) is rewritten in place, so the file is a valid .npy
 * after every bnn_npy_writer_sync. */
#ifndef BNN_STORE_NPY_WRITER_H
#define BNN_STORE_NPY_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

#define BNN_NPY_WRITER_MAX_DIMS 7
#define BNN_NPY_WRITER_HEADER_BYTES 256 /* magic, version, length, padded dict: 64-aligned */

typedef struct {
    int fd;
    char path[1024];
    char descr[8];                        /* "<f4", "<f8", ... */
    size_t itemsize;
    size_t n_tail;                        /* dimensions after the leading one */
    size_t tail[BNN_NPY_WRITER_MAX_DIMS];
    size_t row_bytes;                     /* bytes per leading-dimension row */
    size_t rows;                          /* rows written */
    size_t synced_rows;                   /* rows the header announces */
    uint32_t last_crc;                    /* CRC-32 of the bytes of the last append */
} bnn_npy_writer;

/* Creates (truncates) path for an array of shape (rows, tail...). descr is a NumPy dtype string
 * such as "<f4" or "<f8". */
bnn_status bnn_npy_writer_open(bnn_npy_writer *w, const char *path, const char *descr,
                               size_t n_tail, const size_t *tail);

/* Reopens an array written by bnn_npy_writer_open for appending after its first `rows` rows:
 * anything after them (rows written after a checkpoint, a torn row) is cut away. Fails if the
 * file holds fewer rows than that. */
bnn_status bnn_npy_writer_reopen(bnn_npy_writer *w, const char *path, const char *descr,
                                 size_t n_tail, const size_t *tail, size_t rows);

/* Forces the written rows and header to stable storage (fsync). */
bnn_status bnn_npy_writer_flush(bnn_npy_writer *w);

/* Appends n rows (n · row_bytes bytes). */
bnn_status bnn_npy_writer_append(bnn_npy_writer *w, const void *rows, size_t n);

/* Rewrites the header with the current row count. */
bnn_status bnn_npy_writer_sync(bnn_npy_writer *w);

/* Syncs and closes; safe on a writer that was never opened (fd < 0 or zeroed with fd = -1). */
bnn_status bnn_npy_writer_close(bnn_npy_writer *w);

/* Writes a whole array at once: shape (ndim) of `descr` numbers. */
bnn_status bnn_npy_write(const char *path, const char *descr, size_t ndim, const size_t *shape,
                         const void *data);

#endif
