/* A built-in IDX data set (BNN_TEST_SET: "mnist" or "fashion-mnist") loads as 60000 + 10000
 * 28x28 images with the known first labels and pixel sums; skipped (exit 77) when absent. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "data/dataset.h"
#include "data_test_util.h"

#ifndef BNN_TEST_SET
#define BNN_TEST_SET "mnist"
#endif

/* What the files hold, checked once with numpy. */
typedef struct {
    const char *name;
    double train_labels[10], test_labels[10];
    double train_sum, test_sum;       /* sums of all pixels */
    double train_first, test_first;   /* pixel sums of the first image */
} idx_set_facts;

static const idx_set_facts facts[2] = {
    {"mnist", {5, 0, 4, 1, 9, 2, 1, 3, 1, 4}, {7, 2, 1, 0, 4, 1, 4, 9, 5, 9},
     1567298545.0, 264923200.0, 27525, 18454},
    {"fashion-mnist", {9, 0, 0, 3, 0, 2, 7, 2, 5, 5}, {9, 2, 1, 1, 6, 1, 4, 6, 5, 7},
     3431114169.0, 573469082.0, 76247, 33456},
};

static const idx_set_facts *set_facts(void)
{
    return strcmp(BNN_TEST_SET, "mnist") == 0 ? &facts[0] : &facts[1];
}

static void check_table(const bnn_table *t, size_t n, const double *labels, double sum,
                        double first)
{
    assert_int_equal(t->n, n);
    assert_int_equal(t->d, 784);
    assert_true(t->height == 28 && t->width == 28 && t->channels == 1);
    for (int i = 0; i < 10; i++) assert_true(t->y[i] == labels[i]);
    double total = 0, first_total = 0;
    for (size_t i = 0; i < n * 784; i++) total += t->x[i];
    for (size_t i = 0; i < 784; i++) first_total += t->x[i];
    assert_true(total == sum);
    assert_true(first_total == first);
}

static bnn_dataset ds;        /* loaded once by main */
static bnn_status load_status;

static void test_builtin_idx(void **state)
{
    (void)state;
    const idx_set_facts *f = set_facts();
    if (load_status != BNN_OK) fail_msg("%s: %s", bnn_status_name(load_status), bnn_last_error());
    assert_int_equal(ds.n_classes, 10);
    check_table(&ds.train, 60000, f->train_labels, f->train_sum, f->train_first);
    check_table(&ds.test, 10000, f->test_labels, f->test_sum, f->test_first);
    assert_non_null(strstr(ds.train_source, "train-labels-idx1-ubyte"));
    print_message("  %s: %s\n", f->name, ds.train_source);
}

int main(void)
{
    bnn_dataset_options opt = {.name = set_facts()->name, .task = BNN_TASK_CLASSIFY};
    load_status = bnn_dataset_load(&opt, &ds);
    /* absent files fail before anything is read; any other failure is the test's to report */
    if (load_status == BNN_EIO && strstr(bnn_last_error(), "not found")) {
        printf("skip: %s\n", bnn_last_error());
        return 77;
    }
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_builtin_idx)};
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    bnn_dataset_free(&ds);
    return failed;
}
