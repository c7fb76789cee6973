/* Reading small generated files in every supported format (CSV variants, IDX raw and gzip, .npy
 * of each dtype and layout) and loading them as data sets: values, shapes and statistics. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "data/dataset.h"
#include "data/npy.h"
#include "data_test_util.h"

/* Fails with the library's message when st is not BNN_OK. */
static void expect_ok(bnn_status st)
{
    if (st != BNN_OK) fail_msg("%s: %s", bnn_status_name(st), bnn_last_error());
}

static void expect_values(const double *got, const double *want, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (got[i] != want[i]) fail_msg("value %zu: %g, expected %g", i, got[i], want[i]);
}

static void test_csv_variants(void **state)
{
    (void)state;
    char path[TEST_PATH_MAX];
    bnn_table t;
    const double x[4] = {1.5, -2, 3e2, 0.25}, y[2] = {0, 1};
    /* header detected, CRLF endings, blanks around cells, quoted names, a blank last line */
    test_write_text(test_tmp, "a.csv", "\"x1\", x2 ,label\r\n1.5, -2 ,0\r\n3e2,0.25,1\r\n\r\n", path);
    expect_ok(bnn_read_csv(path, NULL, &t));
    assert_int_equal(t.n, 2);
    assert_int_equal(t.d, 2);
    assert_int_equal(t.height, 0);
    expect_values(t.x, x, 4);
    expect_values(t.y, y, 2);
    bnn_table_free(&t);
    assert_null(t.x);
    /* no header, target in column 0, no final newline */
    bnn_csv_options first = {-1, 0};
    test_write_text(test_tmp, "b.csv", "0,1.5,-2\n1,3e2,0.25", path);
    expect_ok(bnn_read_csv(path, &first, &t));
    assert_int_equal(t.n, 2);
    expect_values(t.x, x, 4);
    expect_values(t.y, y, 2);
    bnn_table_free(&t);
    /* header forced on an all-numeric first row; and through bnn_read_table */
    bnn_csv_options header = {1, -1};
    test_write_text(test_tmp, "c.csv", "9,9,9\n1.5,-2,0\n3e2,0.25,1\n", path);
    expect_ok(bnn_read_table(path, &header, &t));
    assert_int_equal(t.n, 2);
    expect_values(t.x, x, 4);
    bnn_table_free(&t);
    /* no header forced: the first row is data */
    bnn_csv_options none = {0, -1};
    expect_ok(bnn_read_csv(path, &none, &t));
    assert_int_equal(t.n, 3);
    bnn_table_free(&t);
}

/* Three 2x3 images with pixel values 0..255 and labels 2, 0, 1, raw or gzip. */
static void idx_round_trip(int gz)
{
    unsigned char px[18], lb[3] = {2, 0, 1};
    for (int i = 0; i < 18; i++) px[i] = (unsigned char)(i * 15);
    const uint32_t dims[3] = {3, 2, 3}, ldims[1] = {3};
    char im[TEST_PATH_MAX], lbp[TEST_PATH_MAX], spec[2 * TEST_PATH_MAX + 2];
    test_write_idx(test_tmp, gz ? "im.gz" : "im", 0x803, dims, 3, px, 18, gz, im);
    test_write_idx(test_tmp, gz ? "lb.gz" : "lb", 0x801, ldims, 1, lb, 3, gz, lbp);
    bnn_table t;
    expect_ok(bnn_read_idx_pair(im, lbp, &t));
    assert_int_equal(t.n, 3);
    assert_int_equal(t.d, 6);
    assert_int_equal(t.height, 2);
    assert_int_equal(t.width, 3);
    assert_int_equal(t.channels, 1);
    for (int i = 0; i < 18; i++) assert_true(t.x[i] == i * 15.0);
    const double want[3] = {2, 0, 1};
    expect_values(t.y, want, 3);
    bnn_table_free(&t);
    snprintf(spec, sizeof spec, "%s,%s", im, lbp);
    expect_ok(bnn_read_table(spec, NULL, &t));
    assert_int_equal(t.n, 3);
    bnn_table_free(&t);
}

static void test_idx_raw(void **state)
{
    (void)state;
    idx_round_trip(0);
}

static void test_idx_gzip(void **state)
{
    (void)state;
    idx_round_trip(1);
}

/* x = (2, 3) values 0, 1, 5, -3, 7, 100 in the given dtype, y = (2,) f8 {1, 0}; read as a pair. */
static void npy_dtype_case(const char *descr, const void *data, size_t len)
{
    char x[TEST_PATH_MAX], y[TEST_PATH_MAX];
    const double targets[2] = {1, 0}, want[6] = {0, 1, 5, -3, 7, 100};
    test_write_npy(test_tmp, "x.npy", descr, "(2, 3)", data, len, x);
    test_write_npy(test_tmp, "y.npy", "<f8", "(2,)", targets, sizeof targets, y);
    bnn_table t;
    expect_ok(bnn_read_npy_pair(x, y, &t));
    assert_int_equal(t.n, 2);
    assert_int_equal(t.d, 3);
    assert_int_equal(t.height, 0);
    expect_values(t.x, want, 6);
    expect_values(t.y, targets, 2);
    bnn_table_free(&t);
}

static void test_npy_dtypes(void **state)
{
    (void)state;
    const float f4[6] = {0, 1, 5, -3, 7, 100};
    const double f8[6] = {0, 1, 5, -3, 7, 100};
    const int64_t i8[6] = {0, 1, 5, -3, 7, 100};
    const int32_t i4[6] = {0, 1, 5, -3, 7, 100};
    npy_dtype_case("<f4", f4, sizeof f4);
    npy_dtype_case("<f8", f8, sizeof f8);
    npy_dtype_case("<i8", i8, sizeof i8);
    npy_dtype_case("<i4", i4, sizeof i4);

    const unsigned char u1[6] = {0, 1, 5, 253, 7, 100}; /* uint8: 253, not -3 */
    char x[TEST_PATH_MAX], y[TEST_PATH_MAX];
    const int64_t labels[2] = {3, 4};
    test_write_npy(test_tmp, "x.npy", "|u1", "(2, 3)", u1, sizeof u1, x);
    test_write_npy(test_tmp, "y.npy", "<i8", "(2, 1)", labels, sizeof labels, y);
    bnn_table t;
    expect_ok(bnn_read_npy_pair(x, y, &t));
    assert_true(t.x[3] == 253.0 && t.x[5] == 100.0);
    assert_true(t.y[0] == 3.0 && t.y[1] == 4.0);
    bnn_table_free(&t);
}

static void test_npy_images(void **state)
{
    (void)state;
    char x[TEST_PATH_MAX], y[TEST_PATH_MAX], spec[2 * TEST_PATH_MAX + 2];
    float v[24];
    for (int i = 0; i < 24; i++) v[i] = (float)i / 4;
    const uint8_t labels[2] = {0, 1};
    test_write_npy(test_tmp, "y.npy", "|u1", "(2,)", labels, sizeof labels, y);
    bnn_table t;
    /* (n, h, w) */
    test_write_npy(test_tmp, "hw.npy", "<f4", "(2, 3, 4)", v, sizeof v, x);
    expect_ok(bnn_read_npy_pair(x, y, &t));
    assert_true(t.n == 2 && t.d == 12 && t.height == 3 && t.width == 4 && t.channels == 1);
    assert_true(t.x[23] == 23 / 4.0);
    bnn_table_free(&t);
    /* (n, h, w, c), format version 2.0, via bnn_read_table */
    test_write_npy_raw(test_tmp, "hwc.npy", 2, "{'shape': (2, 2, 3, 2), 'fortran_order': False, "
                       "'descr': '<f4'}", v, sizeof v, x);
    snprintf(spec, sizeof spec, "%s,%s", x, y);
    expect_ok(bnn_read_table(spec, NULL, &t));
    assert_true(t.n == 2 && t.d == 12 && t.height == 2 && t.width == 3 && t.channels == 2);
    bnn_table_free(&t);
}

static void test_npy_ranges(void **state)
{
    (void)state;
    char x[TEST_PATH_MAX];
    const int32_t v[5] = {10, -20, 30, -40, 50};
    test_write_npy(test_tmp, "r.npy", "<i4", "(5,)", v, sizeof v, x);
    FILE *f = fopen(x, "rb");
    assert_non_null(f);
    bnn_npy_header h;
    expect_ok(bnn_npy_read_header(f, x, &h));
    assert_true(h.dtype == BNN_NPY_I32 && h.itemsize == 4 && h.ndim == 1 && h.count == 5);
    assert_int_equal(h.data_offset, 128); /* 10 + 118: padded to 64 bytes */
    double out[3];
    expect_ok(bnn_npy_read_doubles(f, x, &h, 2, 3, out));
    assert_true(out[0] == 30 && out[1] == -40 && out[2] == 50);
    assert_int_not_equal(bnn_npy_read_doubles(f, x, &h, 3, 3, out), BNN_OK);
    assert_non_null(strstr(bnn_last_error(), x));
    fclose(f);
}

/* Train x columns (1, 2, 3) and (5, 5, 5): mean 2 and 5, sd sqrt(2/3) and (constant) 1. */
static void test_dataset_standardize(void **state)
{
    (void)state;
    char train[TEST_PATH_MAX], test[TEST_PATH_MAX];
    test_write_text(test_tmp, "train.csv", "a,b,y\n1,5,0\n2,5,2\n3,5,1\n", train);
    test_write_text(test_tmp, "test.csv", "a,b,y\n4,6,2\n", test);
    bnn_dataset_options opt = {.train_spec = train, .test_spec = test, .csv = {-1, -1},
                               .task = BNN_TASK_CLASSIFY, .standardize = 1};
    bnn_dataset ds;
    expect_ok(bnn_dataset_load(&opt, &ds));
    double sd = sqrt(2.0 / 3.0);
    assert_int_equal(ds.n_classes, 3);
    assert_true(ds.mean[0] == 2 && ds.mean[1] == 5 && fabs(ds.sd[0] - sd) < 1e-15 && ds.sd[1] == 1);
    assert_true(fabs(ds.train.x[0] + 1 / sd) < 1e-12 && ds.train.x[1] == 0);
    assert_true(fabs(ds.test.x[0] - 2 / sd) < 1e-12 && ds.test.x[1] == 1);
    assert_non_null(strstr(ds.train_source, "train.csv"));
    assert_non_null(strstr(ds.test_source, "test.csv"));
    bnn_dataset_free(&ds);
    /* subset of 2 rows, explicit class count, no standardisation */
    opt.train_subset = 2;
    opt.n_classes = 4;
    opt.standardize = 0;
    expect_ok(bnn_dataset_load(&opt, &ds));
    assert_true(ds.train.n == 2 && ds.n_classes == 4 && ds.train.x[2] == 2 && ds.sd[0] == 1);
    bnn_dataset_free(&ds);
    /* regression: any finite target, no class count */
    test_write_text(test_tmp, "test.csv", "a,b,y\n4,6,-2.5\n", test);
    opt = (bnn_dataset_options){.train_spec = train, .test_spec = test, .csv = {-1, -1},
                                .task = BNN_TASK_REGRESS};
    expect_ok(bnn_dataset_load(&opt, &ds));
    assert_true(ds.n_classes == 0 && ds.test.y[0] == -2.5);
    bnn_dataset_free(&ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_variants), cmocka_unit_test(test_idx_raw),
        cmocka_unit_test(test_idx_gzip),     cmocka_unit_test(test_npy_dtypes),
        cmocka_unit_test(test_npy_images),   cmocka_unit_test(test_npy_ranges),
        cmocka_unit_test(test_dataset_standardize),
    };
    return cmocka_run_group_tests(tests, test_tmp_setup, test_tmp_teardown);
}
