/* Helpers for the data tests: a scratch directory and writers of small CSV, IDX and .npy files. */
#ifndef BNN_TESTS_DATA_TEST_UTIL_H
#define BNN_TESTS_DATA_TEST_UTIL_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "core/status.h"

#define TEST_PATH_MAX 4096

/* Creates a fresh directory under $TMPDIR (or /tmp) into dir; returns 0 on success. */
static inline int test_mkdtemp(char *dir, size_t cap)
{
    const char *base = getenv("TMPDIR");
    snprintf(dir, cap, "%s/bnnmc-data-XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

/* Removes the files in dir (no subdirectories), then dir. */
static inline void test_rmtree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char path[TEST_PATH_MAX + 256];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) < (int)sizeof path) unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

/* The scratch directory of one test program, made and removed by the cmocka group fixtures
 * test_tmp_setup and test_tmp_teardown. */
static char test_tmp[TEST_PATH_MAX];

static inline int test_tmp_setup(void **state)
{
    (void)state;
    return test_mkdtemp(test_tmp, sizeof test_tmp);
}

static inline int test_tmp_teardown(void **state)
{
    (void)state;
    test_rmtree(test_tmp);
    return 0;
}

/* Writes len bytes to dir/name (gzip-compressed if gz) and puts the path into path. */
static inline int test_write(const char *dir, const char *name, const void *bytes, size_t len,
                             int gz, char *path)
{
    if (snprintf(path, TEST_PATH_MAX, "%s/%s", dir, name) >= TEST_PATH_MAX) return -1;
    if (gz) {
        gzFile g = gzopen(path, "wb");
        if (!g) return -1;
        int ok = len == 0 || gzwrite(g, bytes, (unsigned)len) == (int)len;
        return gzclose(g) == Z_OK && ok ? 0 : -1;
    }
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t put = fwrite(bytes, 1, len, f);
    return fclose(f) == 0 && put == len ? 0 : -1;
}

static inline int test_write_text(const char *dir, const char *name, const char *text, char *path)
{
    return test_write(dir, name, text, strlen(text), 0, path);
}

static inline void test_put_be32(unsigned char *b, uint32_t v)
{
    b[0] = (unsigned char)(v >> 24);
    b[1] = (unsigned char)(v >> 16);
    b[2] = (unsigned char)(v >> 8);
    b[3] = (unsigned char)v;
}

/* An IDX file: magic, ndim big-endian dims, then len data bytes (not checked against dims). */
static inline int test_write_idx(const char *dir, const char *name, uint32_t magic,
                                 const uint32_t *dims, size_t ndim, const unsigned char *data,
                                 size_t len, int gz, char *path)
{
    size_t total = 4 + 4 * ndim + len;
    unsigned char *b = malloc(total);
    if (!b) return -1;
    test_put_be32(b, magic);
    for (size_t i = 0; i < ndim; i++) test_put_be32(b + 4 + 4 * i, dims[i]);
    if (len) memcpy(b + 4 + 4 * ndim, data, len);
    int r = test_write(dir, name, b, total, gz, path);
    free(b);
    return r;
}

/* A .npy file of format version major.0 with the given header dict text (padded with spaces
 * and a newline to a multiple of 64 bytes, as numpy does) and len data bytes. */
static inline int test_write_npy_raw(const char *dir, const char *name, int major,
                                     const char *dict, const void *data, size_t len, char *path)
{
    size_t pre = major == 1 ? 10 : 12, dict_len = strlen(dict);
    size_t header_len = ((pre + dict_len + 1 + 63) / 64) * 64 - pre;
    size_t total = pre + header_len + len;
    unsigned char *b = malloc(total);
    if (!b) return -1;
    memcpy(b, "\x93NUMPY", 6);
    b[6] = (unsigned char)major;
    b[7] = 0;
    for (size_t k = 0; k < pre - 8; k++) b[8 + k] = (unsigned char)(header_len >> (8 * k));
    memset(b + pre, ' ', header_len);
    memcpy(b + pre, dict, dict_len);
    b[pre + header_len - 1] = '\n';
    if (len) memcpy(b + pre + header_len, data, len);
    int r = test_write(dir, name, b, total, 0, path);
    free(b);
    return r;
}

/* A version 1.0 .npy file with dtype descr, C order and the shape tuple text, e.g. "(2, 3)". */
static inline int test_write_npy(const char *dir, const char *name, const char *descr,
                                 const char *shape, const void *data, size_t len, char *path)
{
    char dict[256];
    snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr,
             shape);
    return test_write_npy_raw(dir, name, 1, dict, data, len, path);
}

#endif
