/* libFuzzer target: the .npy reader. The input is one .npy file: its header is parsed and,
 * when it validates, every element is converted (header + data); the same file is then given
 * as the features of a feature/target pair whose targets are a second file after the
 * separator "\n--Y--\n" (bnn_read_npy_pair: shape mapping, row counts, finiteness). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "data/dataset.h"
#include "data/npy.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *x, *y;
    size_t x_size, y_size;
    fuzz_split(data, size, "\n--Y--\n", &x, &x_size, &y, &y_size);
    const char *x_path = fuzz_file(0, x, x_size);
    FILE *f = fopen(x_path, "rb");
    if (!f) abort();
    bnn_npy_header h;
    if (bnn_npy_read_header(f, x_path, &h) == BNN_OK) {
        /* The header check guarantees the file holds count elements, so count is bounded by
         * the input size. */
        double *v = malloc((h.count ? h.count : 1) * sizeof *v);
        if (!v) abort();
        (void)bnn_npy_read_doubles(f, x_path, &h, 0, h.count, v);
        if (h.count > 1) (void)bnn_npy_read_doubles(f, x_path, &h, h.count / 2, h.count - h.count / 2, v);
        free(v);
    }
    fclose(f);
    bnn_table t;
    if (bnn_read_npy_pair(x_path, fuzz_file(1, y, y_size), &t) == BNN_OK) bnn_table_free(&t);
    return 0;
}
