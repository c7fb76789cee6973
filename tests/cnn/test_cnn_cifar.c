/* The CIFAR-10 binary reader on small generated batches (CHW planes in the file, HWC in the
 * table), its refusals, and zero-padding images to 32×32. */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "data/dataset.h"

#define RECORD 3073

/* The pixel byte of record r at (y, x, channel) in the generated files. */
static unsigned char pixel(size_t r, size_t y, size_t x, size_t ch)
{
    return (unsigned char)((r * 31 + y * 7 + x * 3 + ch * 101) % 256);
}

/* Writes n records with labels label0, label0+1, ... (mod 10 unless bad_label) to dir/name. */
static void write_batch(const char *dir, const char *name, size_t n, size_t first, int bad_label,
                        size_t extra_bytes)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    unsigned char rec[RECORD];
    for (size_t r = first; r < first + n; r++) {
        rec[0] = bad_label ? 10 : (unsigned char)(r % 10);
        for (size_t ch = 0; ch < 3; ch++)
            for (size_t y = 0; y < 32; y++)
                for (size_t x = 0; x < 32; x++)
                    rec[1 + ch * 1024 + y * 32 + x] = pixel(r, y, x, ch);
        assert_int_equal(fwrite(rec, 1, RECORD, f), RECORD);
    }
    for (size_t i = 0; i < extra_bytes; i++) fputc(0, f);
    fclose(f);
}

static void make_dir(char *dir, size_t cap)
{
    const char *base = getenv("TMPDIR");
    snprintf(dir, cap, "%s/bnnmc-cifar-XXXXXX", base && *base ? base : "/tmp");
    assert_non_null(mkdtemp(dir));
}

static void remove_dir(const char *dir)
{
    const char *names[] = {"data_batch_1.bin", "data_batch_2.bin", "test_batch.bin"};
    char path[512];
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

static void test_reader(void **state)
{
    (void)state;
    char dir[256], name[300];
    make_dir(dir, sizeof dir);
    write_batch(dir, "data_batch_1.bin", 3, 0, 0, 0);
    write_batch(dir, "data_batch_2.bin", 2, 3, 0, 0);
    write_batch(dir, "test_batch.bin", 2, 100, 0, 0);
    snprintf(name, sizeof name, "cifar10:%s", dir);
    bnn_dataset_options opt = {.name = name, .n_classes = 10};
    bnn_dataset ds;
    assert_int_equal(bnn_dataset_load(&opt, &ds), BNN_OK);
    int ok = ds.train.n == 5 && ds.test.n == 2 && ds.train.d == 3072 && ds.train.height == 32 &&
             ds.train.width == 32 && ds.train.channels == 3;
    for (size_t r = 0; r < 5; r++) {
        ok &= ds.train.y[r] == (double)(r % 10);
        for (size_t y = 0; y < 32; y++)
            for (size_t x = 0; x < 32; x++)
                for (size_t ch = 0; ch < 3; ch++)
                    ok &= ds.train.x[r * 3072 + (y * 32 + x) * 3 + ch] == pixel(r, y, x, ch);
    }
    ok &= ds.test.y[1] == 1 && ds.test.x[3072 + (5 * 32 + 9) * 3 + 2] == pixel(101, 5, 9, 2);
    printf("%s cifar10 reader: 5+2 records, labels, CHW file planes -> HWC\n",
           ok ? "ok" : "not ok");
    bnn_dataset_free(&ds);
    assert_true(ok);

    write_batch(dir, "data_batch_2.bin", 1, 0, 0, 17);
    bnn_status s = bnn_dataset_load(&opt, &ds);
    printf("%s refused a batch of 1 record + 17 bytes: %s\n", s ? "ok" : "not ok",
           bnn_last_error());
    assert_int_not_equal(s, BNN_OK);
    write_batch(dir, "data_batch_2.bin", 1, 0, 1, 0);
    s = bnn_dataset_load(&opt, &ds);
    printf("%s refused label 10: %s\n", s ? "ok" : "not ok", bnn_last_error());
    assert_int_not_equal(s, BNN_OK);
    remove_dir(dir);
    s = bnn_dataset_load(&opt, &ds);
    printf("%s refused a missing directory: %s\n", s ? "ok" : "not ok", bnn_last_error());
    assert_int_not_equal(s, BNN_OK);
}

static void test_pad(void **state)
{
    (void)state;
    bnn_table t = {.n = 2, .d = 2 * 3 * 2, .height = 2, .width = 3, .channels = 2};
    t.x = malloc(t.n * t.d * sizeof(double));
    t.y = malloc(t.n * sizeof(double));
    for (size_t i = 0; i < t.n * t.d; i++) t.x[i] = (double)i + 1;
    t.y[0] = 4;
    t.y[1] = 7;
    assert_int_equal(bnn_table_pad_images(&t, 5, "test"), BNN_OK);
    /* 2x3 centred in 5x5: rows 1-2, columns 1-3 */
    int ok = t.d == 50 && t.height == 5 && t.width == 5 && t.channels == 2 && t.y[1] == 7;
    double sum = 0;
    for (size_t i = 0; i < t.n * t.d; i++) sum += t.x[i];
    ok &= sum == 300.0; /* 1 + 2 + ... + 24: nothing lost, zeros added */
    ok &= t.x[50 + (1 * 5 + 1) * 2 + 0] == 13 && t.x[(2 * 5 + 3) * 2 + 1] == 12 && t.x[0] == 0;
    printf("%s pad 2x3x2 images to 5x5x2, centred\n", ok ? "ok" : "not ok");
    bnn_status s = bnn_table_pad_images(&t, 4, "test");
    printf("%s refused padding 5x5 to 4x4\n", s ? "ok" : "not ok");
    bnn_table_free(&t);
    assert_true(ok && s != BNN_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_reader), cmocka_unit_test(test_pad)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
