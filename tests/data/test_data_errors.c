/* A catalogue of malformed data files: each read must fail with a message naming the file (and,
 * for CSV, the line and column; for binary formats, the offset or header field). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "data/dataset.h"
#include "data/npy.h"
#include "data_test_util.h"

/* The call failed, left the table empty, and its message holds every non-NULL needle. */
static void expect_error(bnn_status st, const char *needle1, const char *needle2)
{
    const char *msg = bnn_last_error();
    print_message("  %s: %s\n", bnn_status_name(st), msg);
    assert_int_not_equal(st, BNN_OK);
    if (needle1 && !strstr(msg, needle1)) fail_msg("message lacks '%s'", needle1);
    if (needle2 && !strstr(msg, needle2)) fail_msg("message lacks '%s'", needle2);
}

/* A CSV file read with default options fails at "PATH:where" (where = "LINE:" or "LINE:COL:"). */
static void csv_case(const char *name, const char *text, long target_col, const char *where)
{
    char path[TEST_PATH_MAX], want[TEST_PATH_MAX + 32];
    bnn_table t;
    bnn_csv_options opt = {-1, target_col};
    assert_int_equal(test_write_text(test_tmp, name, text, path), 0);
    bnn_status st = bnn_read_csv(path, &opt, &t);
    snprintf(want, sizeof want, "%s:%s", path, where);
    expect_error(st, want, NULL);
    assert_null(t.x);
}

static void test_csv_ragged(void **state)
{
    (void)state;
    csv_case("long.csv", "a,b,c\n1,2,3\n1,2,3,4\n", -1, "3:4:");
    csv_case("short.csv", "1,2,3\n4,5,6\n7,8\n", -1, "3:2:");
    csv_case("single.csv", "1\n2\n", -1, "1:1:");
}

static void test_csv_cells(void **state)
{
    (void)state;
    csv_case("text.csv", "1,2,3\n4,x,6\n", -1, "2:2:");
    csv_case("nan.csv", "1,2,3\nnan,2,3\n", -1, "2:1:");
    csv_case("nan1.csv", "NaN,2,3\n", -1, "1:1:");
    csv_case("inf.csv", "x,y,t\n1,2,3\n1,-inf,3\n", -1, "3:2:");
    csv_case("huge.csv", "1,2,3\n1,2,1e999\n", -1, "2:3:");
    csv_case("emptycell.csv", "1,,3\n", -1, "1:2:");
    csv_case("trailing.csv", "1,2,3\n1,2,3x\n", -1, "2:3:");
}

static void test_csv_empty(void **state)
{
    (void)state;
    csv_case("empty.csv", "", -1, "1:");
    csv_case("blank.csv", "\n  \n", -1, "3:");
    csv_case("header.csv", "a,b,c\n", -1, "2:");
    csv_case("target.csv", "1,2,3\n", 3, "1:");
}

/* Two 2x2 images and their labels, or one of them malformed. */
static const unsigned char pixels[8] = {0, 1, 2, 3, 4, 5, 6, 255};
static const unsigned char labels[2] = {1, 0};
static const uint32_t image_dims[3] = {2, 2, 2}, label_dims[1] = {2};

static void idx_case(const char *images, const char *labels_path, const char *needle2)
{
    bnn_table t;
    bnn_status st = bnn_read_idx_pair(images, labels_path, &t);
    expect_error(st, strrchr(images, '/') + 1, needle2);
    assert_null(t.x);
}

static void test_idx_magic(void **state)
{
    (void)state;
    char im[TEST_PATH_MAX], lb[TEST_PATH_MAX], bad[TEST_PATH_MAX];
    test_write_idx(test_tmp, "im", 0x803, image_dims, 3, pixels, 8, 0, im);
    test_write_idx(test_tmp, "lb", 0x801, label_dims, 1, labels, 2, 0, lb);
    test_write_idx(test_tmp, "im-magic", 0x801, image_dims, 3, pixels, 8, 0, bad);
    idx_case(bad, lb, "offset 0");
    test_write_idx(test_tmp, "im-float", 0x0d03, image_dims, 3, pixels, 8, 1, bad);
    idx_case(bad, lb, "magic");
    test_write_idx(test_tmp, "lb-magic", 0x803, image_dims, 3, pixels, 8, 0, bad);
    bnn_table t;
    expect_error(bnn_read_idx_pair(im, bad, &t), "lb-magic", "offset 0");
    test_write_text(test_tmp, "im-text", "hello\n", bad);
    idx_case(bad, lb, "magic");
    expect_error(bnn_read_idx_pair("/nonexistent/dir/images", lb, &t), "/nonexistent/dir/images",
                 NULL);
}

static void test_idx_truncated(void **state)
{
    (void)state;
    char im[TEST_PATH_MAX], lb[TEST_PATH_MAX];
    test_write_idx(test_tmp, "lb", 0x801, label_dims, 1, labels, 2, 0, lb);
    test_write_idx(test_tmp, "im-short", 0x803, image_dims, 3, pixels, 7, 0, im);
    idx_case(im, lb, "truncated");
    test_write_idx(test_tmp, "im-short.gz", 0x803, image_dims, 3, pixels, 7, 1, im);
    idx_case(im, lb, "truncated");
    test_write_idx(test_tmp, "im-dims", 0x803, image_dims, 2, NULL, 0, 0, im);
    idx_case(im, lb, "truncated");
    const unsigned char long_px[9] = {0};
    test_write_idx(test_tmp, "im-long", 0x803, image_dims, 3, long_px, 9, 0, im);
    idx_case(im, lb, "unexpected bytes");
    test_write_idx(test_tmp, "im-long.gz", 0x803, image_dims, 3, long_px, 9, 1,
                   im);
    idx_case(im, lb, "unexpected bytes");
}

static void test_idx_dims(void **state)
{
    (void)state;
    char im[TEST_PATH_MAX], lb[TEST_PATH_MAX];
    const uint32_t three[1] = {3}, huge[3] = {0xffffffffu, 0xffffffffu, 0xffffffffu};
    const uint32_t zero[3] = {2, 0, 2};
    unsigned char three_labels[3] = {0, 1, 2};
    test_write_idx(test_tmp, "im", 0x803, image_dims, 3, pixels, 8, 1, im);
    test_write_idx(test_tmp, "lb3", 0x801, three, 1, three_labels, 3, 0, lb);
    bnn_table t;
    bnn_status st = bnn_read_idx_pair(im, lb, &t);
    expect_error(st, im, lb); /* count mismatch names both files */
    test_write_idx(test_tmp, "lb", 0x801, label_dims, 1, labels, 2, 0, lb);
    test_write_idx(test_tmp, "im-huge", 0x803, huge, 3, NULL, 0, 0, im);
    idx_case(im, lb, "overflow");
    test_write_idx(test_tmp, "im-zero", 0x803, zero, 3, NULL, 0, 0, im);
    idx_case(im, lb, "is 0");
}

/* A feature .npy file that must be refused, read with a valid target file. */
static void npy_case(const char *name, int major, const char *dict, const void *data, size_t len,
                     const char *needle2)
{
    char x[TEST_PATH_MAX], y[TEST_PATH_MAX];
    const double targets[2] = {0, 1};
    test_write_npy(test_tmp, "y.npy", "<f8", "(2,)", targets, sizeof targets, y);
    assert_int_equal(test_write_npy_raw(test_tmp, name, major, dict, data, len, x), 0);
    bnn_table t;
    bnn_status st = bnn_read_npy_pair(x, y, &t);
    expect_error(st, x, needle2);
    assert_null(t.x);
}

#define DICT(descr, order, shape) \
    "{'descr': '" descr "', 'fortran_order': " order ", 'shape': " shape ", }"

static void test_npy_header(void **state)
{
    (void)state;
    const double v[6] = {1, 2, 3, 4, 5, 6};
    npy_case("fortran.npy", 1, DICT("<f8", "True", "(2, 3)"), v, sizeof v, "fortran_order");
    npy_case("complex.npy", 1, DICT("<c8", "False", "(2, 3)"), v, sizeof v, "descr");
    npy_case("object.npy", 1, DICT("|O", "False", "(2, 3)"), v, sizeof v, "descr");
    npy_case("bigend.npy", 1, DICT(">f8", "False", "(2, 3)"), v, sizeof v, "big-endian");
    npy_case("overflow.npy", 1, DICT("<f8", "False", "(4294967296, 4294967296, 4294967296)"), v,
             sizeof v, "shape");
    npy_case("bigdim.npy", 1, DICT("<f8", "False", "(99999999999999999999999, 2)"), v, sizeof v,
             "shape");
    npy_case("noshape.npy", 1, "{'descr': '<f8', 'fortran_order': False}", v, sizeof v, "shape");
    npy_case("extra.npy", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), "
             "'units': 'm'}", v, sizeof v, "units");
    npy_case("twice.npy", 2, "{'descr': '<f8', 'descr': '<f4', 'fortran_order': False, "
             "'shape': (2, 3)}", v, sizeof v, "descr");
    npy_case("notdict.npy", 1, "[1, 2, 3]", v, sizeof v, "dict");
    npy_case("badshape.npy", 1, DICT("<f8", "False", "(2, x)"), v, sizeof v, "shape");
    npy_case("badbool.npy", 1, DICT("<f8", "0", "(2, 3)"), v, sizeof v, "fortran_order");
    npy_case("unterminated.npy", 1, "{'descr': '<f8", v, sizeof v, "descr");
    npy_case("trailing.npy", 3, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3)} x", v,
             sizeof v, "after");
    npy_case("oned.npy", 1, DICT("<f8", "False", "(6,)"), v, sizeof v, "shape");
    npy_case("version4.npy", 4, DICT("<f8", "False", "(2, 3)"), v, sizeof v, "version");
}

static void test_npy_data(void **state)
{
    (void)state;
    const double v[6] = {1, 2, 3, 4, 5, 6}, nan_v[6] = {1, 2, 3, 4, NAN, 6};
    npy_case("short.npy", 1, DICT("<f8", "False", "(2, 3)"), v, sizeof v - 8, "truncated");
    npy_case("nan.npy", 1, DICT("<f8", "False", "(2, 3)"), nan_v, sizeof nan_v, "row 2");
    npy_case("rows.npy", 1, DICT("<f8", "False", "(3, 2)"), v, sizeof v, "y.npy");

    char path[TEST_PATH_MAX], y[TEST_PATH_MAX];
    bnn_table t;
    test_write(test_tmp, "magic.npy", "\x93NUMPX\x01\x00\x10\x00{}", 12, 0, path);
    test_write_npy(test_tmp, "y.npy", "<f8", "(2,)", v, 16, y);
    expect_error(bnn_read_npy_pair(path, y, &t), "magic.npy", "offset 0");
    /* header length announces more bytes than the file holds */
    test_write(test_tmp, "cut.npy", "\x93NUMPY\x01\x00\x00\x01{'descr'", 18, 0, path);
    expect_error(bnn_read_npy_pair(path, y, &t), "cut.npy", "header");
    /* a single binary file is not a table: bnn_read_table wants XFILE,YFILE */
    expect_error(bnn_read_table(y, NULL, &t), "y.npy", "XFILE,YFILE");
}

/* Writes a train and a test CSV and loads them as a classification data set. */
static bnn_status load_pair(const char *train_text, const char *test_text, size_t n_classes,
                            size_t subset, char *train, char *test, bnn_dataset *ds)
{
    test_write_text(test_tmp, "train.csv", train_text, train);
    test_write_text(test_tmp, "test.csv", test_text, test);
    bnn_dataset_options opt = {.train_spec = train, .test_spec = test, .csv = {-1, -1},
                               .task = BNN_TASK_CLASSIFY, .n_classes = n_classes,
                               .train_subset = subset, .standardize = 1};
    return bnn_dataset_load(&opt, ds);
}

static void test_dataset_labels(void **state)
{
    (void)state;
    char train[TEST_PATH_MAX], test[TEST_PATH_MAX];
    bnn_dataset ds;
    const char *good = "1,0\n2,1\n3,2\n";
    expect_error(load_pair(good, "1,0\n1,3\n", 0, 0, train, test, &ds), test, "row 2");
    assert_null(ds.train.x);
    expect_error(load_pair("1,0\n2,1.5\n", good, 0, 0, train, test, &ds), train, "row 2");
    expect_error(load_pair("1,0\n2,-1\n", good, 0, 0, train, test, &ds), train, "row 2");
    expect_error(load_pair(good, good, 2, 0, train, test, &ds), train, "row 3");
    expect_error(load_pair("1,0\n2,1e300\n", good, 0, 0, train, test, &ds), train, "row 2");
}

static void test_dataset_shapes(void **state)
{
    (void)state;
    char train[TEST_PATH_MAX], test[TEST_PATH_MAX];
    bnn_dataset ds;
    expect_error(load_pair("1,0\n2,1\n", "1,2,0\n", 0, 0, train, test, &ds), train, test);
    expect_error(load_pair("1,0\n2,1\n", "1,0\n", 0, 3, train, test, &ds), train, "subset");
    bnn_dataset_options opt = {.name = "cifar-10"};
    expect_error(bnn_dataset_load(&opt, &ds), "cifar-10", "digits, mnist, fashion-mnist");
    opt = (bnn_dataset_options){.train_spec = train};
    expect_error(bnn_dataset_load(&opt, &ds), "train and test", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_ragged),     cmocka_unit_test(test_csv_cells),
        cmocka_unit_test(test_csv_empty),      cmocka_unit_test(test_idx_magic),
        cmocka_unit_test(test_idx_truncated),  cmocka_unit_test(test_idx_dims),
        cmocka_unit_test(test_npy_header),     cmocka_unit_test(test_npy_data),
        cmocka_unit_test(test_dataset_labels), cmocka_unit_test(test_dataset_shapes),
    };
    return cmocka_run_group_tests(tests, test_tmp_setup, test_tmp_teardown);
}
