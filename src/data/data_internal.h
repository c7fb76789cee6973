/* Helpers shared by the data readers (not part of the public API). */
#ifndef BNN_DATA_INTERNAL_H
#define BNN_DATA_INTERNAL_H

#include <stddef.h>

#include "data/dataset.h"

/* *out = a * b; returns 1, or 0 if the product overflows size_t. */
int bnn_size_mul_ok(size_t a, size_t b, size_t *out);

/* Allocates t->x (n, d) and t->y (n), zero-filled, and sets n and d (image shape 0).
 * path names the file in the out-of-memory or overflow message. */
bnn_status bnn_table_alloc(bnn_table *t, size_t n, size_t d, const char *path);

/* Kind of a data file, told from its first bytes. */
typedef enum { BNN_FILE_TEXT, BNN_FILE_NPY, BNN_FILE_IDX, BNN_FILE_GZIP } bnn_file_kind;

/* Opens path and classifies it by its magic bytes. */
bnn_status bnn_file_kind_of(const char *path, bnn_file_kind *kind);

#endif
