/* libFuzzer target: the data CSV reader (bnn_read_csv). The first byte picks the options
 * (header detect / none / one row; target column last or first); the rest is the file. */
#include <stddef.h>
#include <stdint.h>

#include "data/dataset.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    bnn_csv_options opt = {.header = (int)(data[0] % 3) - 1, .target_col = (data[0] >> 2) & 1 ? 0 : -1};
    bnn_table t;
    if (bnn_read_csv(fuzz_file(0, data + 1, size - 1), &opt, &t) == BNN_OK) bnn_table_free(&t);
    return 0;
}
