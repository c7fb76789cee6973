/* The committed digits data set: sizes, labels, raw values, standardisation with training
 * statistics, training subsets, and the errors of the built-in data set lookup. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "data/dataset.h"
#include "data_test_util.h"

static void expect_ok(bnn_status st)
{
    if (st != BNN_OK) fail_msg("%s: %s", bnn_status_name(st), bnn_last_error());
}

static bnn_status load_digits(int standardize, size_t subset, bnn_dataset *ds)
{
    bnn_dataset_options opt = {.name = "digits", .task = BNN_TASK_CLASSIFY,
                               .train_subset = subset, .standardize = standardize};
    return bnn_dataset_load(&opt, ds);
}

static void test_digits_raw(void **state)
{
    (void)state;
    bnn_dataset ds;
    expect_ok(load_digits(0, 0, &ds));
    assert_int_equal(ds.train.n, 1437);
    assert_int_equal(ds.test.n, 360);
    assert_int_equal(ds.train.d, 64);
    assert_int_equal(ds.test.d, 64);
    assert_int_equal(ds.n_classes, 10);
    assert_true(ds.task == BNN_TASK_CLASSIFY);
    assert_non_null(strstr(ds.train_source, "digits/train.csv"));
    assert_non_null(strstr(ds.test_source, "digits/test.csv"));
    /* first training row as written by scripts/make_digits.py */
    const double row0[8] = {0, 0, 11, 16, 15, 3, 0, 0};
    for (int j = 0; j < 8; j++) assert_true(ds.train.x[j] == row0[j]);
    size_t count[10] = {0};
    bnn_table *tables[2] = {&ds.train, &ds.test};
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < tables[k]->n * 64; i++) {
            double v = tables[k]->x[i];
            assert_true(v >= 0 && v <= 16 && v == floor(v));
        }
        for (size_t i = 0; i < tables[k]->n; i++) count[(size_t)tables[k]->y[i]]++;
    }
    for (int c = 0; c < 10; c++) assert_in_range(count[c], 170, 190); /* 174..183 in sklearn */
    bnn_dataset_free(&ds);
}

/* Standardised training features: mean 0 and sd 1 for every non-constant feature, 0 for the
 * constant ones (whose sd is taken as 1); the test features use the training statistics. */
static void test_digits_standardized(void **state)
{
    (void)state;
    bnn_dataset raw, ds;
    expect_ok(load_digits(0, 0, &raw));
    expect_ok(load_digits(1, 0, &ds));
    size_t n = ds.train.n, d = ds.train.d, constant = 0;
    for (size_t j = 0; j < d; j++) {
        double sum = 0, ss = 0;
        for (size_t i = 0; i < n; i++) sum += ds.train.x[i * d + j];
        for (size_t i = 0; i < n; i++) ss += pow(ds.train.x[i * d + j] - sum / n, 2);
        double mean = sum / n, sd = sqrt(ss / n);
        assert_true(fabs(mean) < 1e-12);
        if (sd == 0) {
            constant++;
            assert_true(ds.sd[j] == 1);
        } else if (fabs(sd - 1) > 1e-12) {
            fail_msg("feature %zu: sd %.15g after standardising", j, sd);
        }
        double want = (raw.test.x[j] - ds.mean[j]) / ds.sd[j];
        assert_true(ds.test.x[j] == want);
    }
    assert_in_range(constant, 1, 4); /* pixel 0 is always 0 in digits */
    bnn_dataset_free(&raw);
    bnn_dataset_free(&ds);
}

static void test_digits_subset(void **state)
{
    (void)state;
    bnn_dataset ds;
    expect_ok(load_digits(0, 100, &ds));
    assert_int_equal(ds.train.n, 100);
    assert_int_equal(ds.test.n, 360);
    assert_true(ds.train.x[2] == 11);
    bnn_dataset_free(&ds);
    assert_int_not_equal(load_digits(0, 1438, &ds), BNN_OK);
    assert_non_null(strstr(bnn_last_error(), "digits/train.csv"));
    bnn_dataset_options opt = {.name = "digits", .n_classes = 9};
    assert_int_not_equal(bnn_dataset_load(&opt, &ds), BNN_OK);
    assert_non_null(strstr(bnn_last_error(), "train.csv: row"));
}

/* $BNNMC_DATA_DIR moves the built-in data; absent files give errors that say what to do. */
static void test_builtin_lookup(void **state)
{
    (void)state;
    char dir[TEST_PATH_MAX];
    bnn_dataset ds;
    assert_int_equal(test_mkdtemp(dir, sizeof dir), 0);
    setenv("BNNMC_DATA_DIR", dir, 1);
    assert_string_equal(bnn_data_dir(), dir);
    bnn_dataset_options opt = {.name = "digits"};
    assert_int_not_equal(bnn_dataset_load(&opt, &ds), BNN_OK);
    assert_non_null(strstr(bnn_last_error(), dir));
    opt.name = "mnist";
    assert_int_not_equal(bnn_dataset_load(&opt, &ds), BNN_OK);
    assert_non_null(strstr(bnn_last_error(), "scripts/fetch-mnist.sh"));
    assert_non_null(strstr(bnn_last_error(), dir));
    opt.name = "Digits";
    assert_int_not_equal(bnn_dataset_load(&opt, &ds), BNN_OK);
    assert_non_null(strstr(bnn_last_error(), "known: digits, mnist, fashion-mnist"));
    unsetenv("BNNMC_DATA_DIR");
    test_rmtree(dir);
    assert_string_not_equal(bnn_data_dir(), dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_digits_raw),
        cmocka_unit_test(test_digits_standardized),
        cmocka_unit_test(test_digits_subset),
        cmocka_unit_test(test_builtin_lookup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
