/* libFuzzer target: the CSV readers. The first byte picks the reader (bit 3: the plain matrix
 * reader of prediction files, else the data table reader) and the options (header detect /
 * none / one row; target column last or first); the rest is the file. */
#include <stddef.h>
#include <stdint.h>

#include "data/dataset.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    int header = (int)(data[0] % 3) - 1;
    const char *path = fuzz_file(0, data + 1, size - 1);
    if (data[0] & 8) {
        bnn_csv_matrix m;
        if (bnn_read_csv_matrix(path, header, &m) == BNN_OK) bnn_csv_matrix_free(&m);
        return 0;
    }
    bnn_csv_options opt = {.header = header, .target_col = (data[0] >> 2) & 1 ? 0 : -1};
    bnn_table t;
    if (bnn_read_csv(path, &opt, &t) == BNN_OK) bnn_table_free(&t);
    return 0;
}
