/* The CIFAR-10 binary format (1 label byte + 3072 pixel bytes in R, G, B planes per record)
 * read into HWC images, and zero-padding images to a larger square (MNIST 28×28 → 32×32). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/data_internal.h"
#include "data/dataset.h"

#define CIFAR_SIDE 32
#define CIFAR_PIXELS (CIFAR_SIDE * CIFAR_SIDE * 3)
#define CIFAR_RECORD (1 + CIFAR_PIXELS)
#define CIFAR_CLASSES 10

/* Records in path (0 if absent); an error if its size is not a whole number of records. */
static bnn_status count_records(const char *path, size_t *n)
{
    struct stat st;
    *n = 0;
    if (stat(path, &st) != 0) return BNN_OK;
    if (st.st_size % CIFAR_RECORD != 0)
        return BNN_ERROR(BNN_EFORMAT, "%s: %lld bytes is not a whole number of %d-byte CIFAR-10 "
                         "records", path, (long long)st.st_size, CIFAR_RECORD);
    *n = (size_t)st.st_size / CIFAR_RECORD;
    return BNN_OK;
}

/* Reads n records of path into rows first.. of t, converting CHW planes to HWC. */
static bnn_status read_records(const char *path, size_t n, size_t first, bnn_table *t)
{
    unsigned char rec[CIFAR_RECORD];
    FILE *f = fopen(path, "rb");
    if (!f) return BNN_ERROR(BNN_EIO, "%s: cannot open: %s", path, strerror(errno));
    for (size_t r = 0; r < n; r++) {
        if (fread(rec, 1, CIFAR_RECORD, f) != CIFAR_RECORD) {
            fclose(f);
            return BNN_ERROR(BNN_EIO, "%s: short read at offset %zu", path, r * CIFAR_RECORD);
        }
        if (rec[0] >= CIFAR_CLASSES) {
            fclose(f);
            return BNN_ERROR(BNN_EFORMAT, "%s: offset %zu: label %d is not a CIFAR-10 class "
                             "(0-9)", path, r * CIFAR_RECORD, rec[0]);
        }
        double *x = t->x + (first + r) * CIFAR_PIXELS;
        t->y[first + r] = rec[0];
        for (size_t ch = 0; ch < 3; ch++)
            for (size_t p = 0; p < CIFAR_SIDE * CIFAR_SIDE; p++)
                x[p * 3 + ch] = rec[1 + ch * CIFAR_SIDE * CIFAR_SIDE + p];
    }
    fclose(f);
    return BNN_OK;
}

bnn_status bnn_read_cifar10(const char *dir, int train, bnn_table *out)
{
    char paths[5][4096];
    size_t counts[5] = {0}, n_files = train ? 5 : 1, total = 0;
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n_files; i++) {
        int len = train ? snprintf(paths[i], sizeof paths[i], "%s/data_batch_%zu.bin", dir, i + 1)
                        : snprintf(paths[i], sizeof paths[i], "%s/test_batch.bin", dir);
        if (len < 0 || (size_t)len >= sizeof paths[i])
            return BNN_ERROR(BNN_EINVAL, "%s: path too long", dir);
        BNN_TRY(count_records(paths[i], &counts[i]));
        total += counts[i];
    }
    if (total == 0)
        return BNN_ERROR(BNN_EIO, "%s: no CIFAR-10 %s (%s) with records", dir,
                         train ? "training batches" : "test batch",
                         train ? "data_batch_1.bin .. data_batch_5.bin" : "test_batch.bin");
    BNN_TRY(bnn_table_alloc(out, total, CIFAR_PIXELS, dir));
    out->height = out->width = CIFAR_SIDE;
    out->channels = 3;
    size_t row = 0;
    for (size_t i = 0; i < n_files; i++) {
        bnn_status s = counts[i] ? read_records(paths[i], counts[i], row, out) : BNN_OK;
        if (s != BNN_OK) {
            bnn_table_free(out);
            return s;
        }
        row += counts[i];
    }
    return BNN_OK;
}

bnn_status bnn_table_pad_images(bnn_table *t, size_t size, const char *what)
{
    const size_t h = t->height, w = t->width, c = t->channels;
    if (!h || !w || !c || h * w * c != t->d)
        return BNN_ERROR(BNN_EINVAL, "%s: --pad-to needs images; the data have plain rows",
                         what);
    if (h > size || w > size)
        return BNN_ERROR(BNN_EINVAL, "%s: --pad-to %zu is smaller than the %zux%zu images", what,
                         size, h, w);
    bnn_table padded;
    BNN_TRY(bnn_table_alloc(&padded, t->n, size * size * c, what));
    const size_t top = (size - h) / 2, left = (size - w) / 2;
    for (size_t i = 0; i < t->n; i++)
        for (size_t y = 0; y < h; y++)
            memcpy(padded.x + ((i * size + top + y) * size + left) * c,
                   t->x + (i * h + y) * w * c, w * c * sizeof(double));
    memcpy(padded.y, t->y, t->n * sizeof(double));
    free(t->x);
    free(t->y);
    padded.height = padded.width = size;
    padded.channels = c;
    *t = padded;
    return BNN_OK;
}
