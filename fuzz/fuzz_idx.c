/* libFuzzer target: the IDX reader (bnn_read_idx_pair), raw and gzip. The input is
 * IMAGES "\n--LABELS--\n" LABELS; the first byte's low bits choose whether the harness gzips
 * the images and/or the labels (bytes that are already gzip are read as such by zlib). */
#include <stddef.h>
#include <stdint.h>

#include "data/dataset.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    const int gz_images = data[0] & 1, gz_labels = data[0] & 2;
    const uint8_t *img, *lab;
    size_t img_size, lab_size;
    fuzz_split(data + 1, size - 1, "\n--LABELS--\n", &img, &img_size, &lab, &lab_size);
    const char *img_path = gz_images ? fuzz_file_gz(0, img, img_size) : fuzz_file(0, img, img_size);
    const char *lab_path = gz_labels ? fuzz_file_gz(1, lab, lab_size) : fuzz_file(1, lab, lab_size);
    bnn_table t;
    if (bnn_read_idx_pair(img_path, lab_path, &t) == BNN_OK) bnn_table_free(&t);
    return 0;
}
