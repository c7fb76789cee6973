/* Reading NumPy .npy files (format versions 1.0, 2.0 and 3.0): a validated header, then
 * element ranges converted to double. Writing lives in store/npy_writer.h. */
#ifndef BNN_DATA_NPY_H
#define BNN_DATA_NPY_H

#include <stddef.h>
#include <stdio.h>

#include "core/status.h"

typedef enum { BNN_NPY_F32, BNN_NPY_F64, BNN_NPY_U8, BNN_NPY_I64, BNN_NPY_I32 } bnn_npy_dtype;

#define BNN_NPY_MAX_DIMS 8

typedef struct {
    bnn_npy_dtype dtype;
    size_t itemsize;                 /* bytes per element */
    size_t ndim;
    size_t shape[BNN_NPY_MAX_DIMS];
    size_t count;                    /* product of shape (1 for a 0-d array) */
    long data_offset;                /* bytes from the start of the file to the first element */
} bnn_npy_header;

/* Parses and validates the header of an open file (little-endian or '|' dtypes, C order only,
 * no overflow in the element count, file long enough for the data). path is for messages. */
bnn_status bnn_npy_read_header(FILE *f, const char *path, bnn_npy_header *h);

/* Reads elements [first, first + count) in C order and converts them to double. */
bnn_status bnn_npy_read_doubles(FILE *f, const char *path, const bnn_npy_header *h, size_t first,
                                size_t count, double *out);

/* Opens path and reads the whole array into a new double array *out (free it); with expect > 0
 * the array must hold exactly that many elements. *h (may be NULL) receives the header. The
 * message of a missing file suggests `hint` (may be NULL). */
bnn_status bnn_npy_load_doubles(const char *path, size_t expect, const char *hint,
                                bnn_npy_header *h, double **out);

#endif
