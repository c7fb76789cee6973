/* Shared by the libFuzzer targets: the readers take paths, so each input is written to an
 * in-memory file (memfd) and read back through its /proc/self/fd path. */
#ifndef BNN_FUZZ_COMMON_H
#define BNN_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* A memfd holding exactly bytes[0, size); path receives "/proc/self/fd/N". One per slot
 * (0..3), created once and rewritten on every call. Aborts if the kernel refuses. */
const char *fuzz_file(int slot, const uint8_t *bytes, size_t size);

/* Same, but the bytes are gzip-compressed first (so the fuzzer explores the contents of a
 * gzip file, not only the gzip container). */
const char *fuzz_file_gz(int slot, const uint8_t *bytes, size_t size);

/* Splits data at the first occurrence of sep (not included in either part) and returns 1; when
 * sep does not occur, returns 0 with the first part everything and the second empty. */
int fuzz_split(const uint8_t *data, size_t size, const char *sep, const uint8_t **a,
                size_t *a_size, const uint8_t **b, size_t *b_size);

#endif
