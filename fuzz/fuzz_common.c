/* In-memory files for the fuzz targets (see fuzz_common.h). */
#define _GNU_SOURCE /* memfd_create, memmem */
#include "fuzz_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#define FUZZ_SLOTS 4

static int slot_fd[FUZZ_SLOTS] = {-1, -1, -1, -1};
static char slot_path[FUZZ_SLOTS][32];

const char *fuzz_file(int slot, const uint8_t *bytes, size_t size)
{
    if (slot_fd[slot] < 0) {
        slot_fd[slot] = memfd_create("bnnmc-fuzz", 0);
        if (slot_fd[slot] < 0) {
            perror("memfd_create");
            abort();
        }
        snprintf(slot_path[slot], sizeof slot_path[slot], "/proc/self/fd/%d", slot_fd[slot]);
    }
    int fd = slot_fd[slot];
    if (ftruncate(fd, 0) != 0) abort();
    for (size_t done = 0; done < size;) {
        ssize_t w = pwrite(fd, bytes + done, size - done, (off_t)done);
        if (w <= 0) abort();
        done += (size_t)w;
    }
    return slot_path[slot];
}

const char *fuzz_file_gz(int slot, const uint8_t *bytes, size_t size)
{
    /* A gzip stream: deflate with a gzip wrapper (windowBits 15 + 16). */
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        abort();
    uLong cap = deflateBound(&z, (uLong)size);
    uint8_t *out = malloc(cap);
    if (!out) abort();
    z.next_in = (Bytef *)bytes;
    z.avail_in = (uInt)size;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) abort();
    const char *path = fuzz_file(slot, out, z.total_out);
    deflateEnd(&z);
    free(out);
    return path;
}

int fuzz_split(const uint8_t *data, size_t size, const char *sep, const uint8_t **a,
                size_t *a_size, const uint8_t **b, size_t *b_size)
{
    size_t n = strlen(sep);
    const uint8_t *at = memmem(data, size, sep, n);
    *a = data;
    if (!at) {
        *a_size = size;
        *b = data + size;
        *b_size = 0;
        return 0;
    }
    *a_size = (size_t)(at - data);
    *b = at + n;
    *b_size = size - *a_size - n;
    return 1;
}
