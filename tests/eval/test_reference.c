/* Reference evaluation: the exact 1-Wasserstein distance (unequal sample counts included),
 * agreement, total variation and the per-side metrics on hand-made prediction sets whose values
 * were computed by hand, and the CSV checks (each error names the file, line and column). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../data/data_test_util.h"
#include "eval/reference.h"

static void assert_close(double got, double want, double tol, const char *what)
{
    print_message("  %-34s %.17g (want %.17g)\n", what, got, want);
    if (!(fabs(got - want) <= tol)) fail_msg("%s: %.17g, want %.17g", what, got, want);
}

static void test_w1_exact(void **state)
{
    (void)state;
    const double a[2] = {1, 2}, b[3] = {0, 3, 6}, c[1] = {0}, d[4] = {-1, 0, 0.5, 4};
    /* A⁻¹ = 1 on (0, ½], 2 on (½, 1]; B⁻¹ = 0, 3, 6 on thirds: |1-0|/3 + |1-3|/6 + |2-3|/6
     * + |2-6|/3 = 13/6. */
    assert_close(bnn_wasserstein1_sorted(a, 2, b, 3), 13.0 / 6, 1e-15, "W1 {1,2} vs {0,3,6}");
    assert_close(bnn_wasserstein1_sorted(b, 3, a, 2), 13.0 / 6, 1e-15, "symmetric");
    /* One sample against several: the mean absolute difference, (1 + 0 + 0.5 + 4)/4. */
    assert_close(bnn_wasserstein1_sorted(c, 1, d, 4), 5.5 / 4, 1e-15, "W1 {0} vs 4 samples");
    /* Equal counts: mean |a_(i) - b_(i)| of the sorted samples. */
    const double e[4] = {0, 1, 2, 3};
    assert_close(bnn_wasserstein1_sorted(d, 4, e, 4), (1 + 1 + 1.5 + 1) / 4.0, 1e-15,
                 "W1 equal counts");
    assert_close(bnn_wasserstein1_sorted(e, 4, e, 4), 0, 0, "W1 of a set with itself");
    /* 2 vs 3 samples with a shift: W1 of {x}, {x + 1} in any counts is 1. */
    const double f[2] = {5, 5}, g[3] = {6, 6, 6};
    assert_close(bnn_wasserstein1_sorted(f, 2, g, 3), 1, 1e-15, "W1 point masses");
}

/* Writes text to name in the scratch directory and reads it as a prediction set. */
static bnn_status read_set(const char *name, const char *text, bnn_pred_kind kind, int transpose,
                           bnn_predset *p)
{
    char path[TEST_PATH_MAX];
    assert_int_equal(test_write_text(test_tmp, name, text, path), 0);
    bnn_predset_options o = {.kind = kind, .transpose = transpose, .tolerance = 1e-4};
    return bnn_predset_read_csv(path, &o, p);
}

static void test_classes_by_hand(void **state)
{
    (void)state;
    bnn_predset p, q;
    assert_int_equal(read_set("p.csv", "0.7,0.2,0.1\n0.1,0.6,0.3\n0.3,0.3,0.4\n0.5,0.25,0.25\n",
                              BNN_PRED_CLASSES, 0, &p), BNN_OK);
    /* Blank-separated with a header line, as numpy.savetxt(header=...) writes. */
    assert_int_equal(read_set("q.csv", "# c0 c1 c2\n0.6 0.3 0.1\n0.2 0.3 0.5\n0.3 0.3 0.4\n"
                              "0.2 0.5 0.3\n", BNN_PRED_CLASSES, 0, &q), BNN_OK);
    const double labels[4] = {0, 1, 2, 1};
    bnn_reference_eval e;
    assert_int_equal(bnn_reference_compare(&p, &q, labels, 4, "labels", &e), BNN_OK);
    /* argmax 0/0, 1/2, 2/2, 0/1; TV ½(.1+.1+0), ½(.1+.3+.2), 0, ½(.3+.25+.05). */
    assert_close(e.agreement, 0.5, 1e-15, "agreement");
    assert_close(e.total_variation, (0.1 + 0.3 + 0 + 0.3) / 4, 1e-15, "total variation");
    assert_true(e.have_targets);
    assert_close(e.pred_class.accuracy, 0.75, 1e-15, "pred accuracy");
    assert_close(e.pred_class.nll, -(log(0.7) + log(0.6) + log(0.4) + log(0.25)) / 4, 1e-15,
                 "pred NLL");
    /* 4 inputs in 20 equal-count bins: one input per bin, so ECE = mean |correct - conf|:
     * (.3 + .4 + .6 + .5)/4 and (.4 + .5 + .6 + .5)/4. */
    assert_close(e.pred_class.ece, 0.45, 1e-15, "pred ECE");
    assert_close(e.pred_class.brier, (0.14 + 0.26 + 0.54 + 0.875) / 4, 1e-15, "pred Brier");
    assert_close(e.ref_class.accuracy, 0.75, 1e-15, "reference accuracy");
    assert_close(e.ref_class.nll, -(log(0.6) + log(0.3) + log(0.4) + log(0.5)) / 4, 1e-15,
                 "reference NLL");
    assert_close(e.ref_class.ece, 0.5, 1e-15, "reference ECE");
    bnn_predset_free(&p);
    bnn_predset_free(&q);
}

static void test_samples_by_hand(void **state)
{
    (void)state;
    bnn_predset p, q;
    /* Unsorted samples in a row; the reference transposed (one column per input). */
    assert_int_equal(read_set("ps.csv", "2,1\n0,0\n", BNN_PRED_SAMPLES, 0, &p), BNN_OK);
    assert_int_equal(read_set("qs.csv", "6 1\n0 1\n3 1\n", BNN_PRED_SAMPLES, 1, &q), BNN_OK);
    assert_int_equal(q.n, 2);
    assert_int_equal(q.k, 3);
    const double y[2] = {2, 0};
    bnn_reference_eval e;
    assert_int_equal(bnn_reference_compare(&p, &q, y, 2, "y", &e), BNN_OK);
    /* Input 1: {1,2} vs {0,3,6} = 13/6; input 2: {0,0} vs {1,1,1} = 1. */
    assert_close(e.w1, (13.0 / 6 + 1) / 2, 1e-15, "mean W1");
    assert_close(e.w1_max, 13.0 / 6, 1e-15, "largest W1");
    /* Predictive means 1.5, 0 and 3, 1 against targets 2, 0. */
    assert_close(e.pred_rmse, sqrt(0.25 / 2), 1e-15, "pred RMSE");
    assert_close(e.ref_rmse, 1, 1e-15, "reference RMSE");
    bnn_predset_free(&p);
    bnn_predset_free(&q);
}

/* Reading name fails with a message holding "PATH:where". */
static void bad_set(const char *name, const char *text, bnn_pred_kind kind, const char *where)
{
    char path[TEST_PATH_MAX + 128];
    bnn_predset p;
    bnn_status st = read_set(name, text, kind, 0, &p);
    snprintf(path, sizeof path, "%s/%s:%s", test_tmp, name, where);
    print_message("  %s: %s\n", bnn_status_name(st), bnn_last_error());
    assert_int_not_equal(st, BNN_OK);
    if (!strstr(bnn_last_error(), path)) fail_msg("message lacks '%s'", path);
    assert_null(p.values);
}

static void test_bad_csv(void **state)
{
    (void)state;
    bad_set("neg.csv", "0.5,0.5\n1.2,-0.2\n", BNN_PRED_CLASSES, "2:2: negative probability");
    bad_set("sum.csv", "0.5,0.5\n\n0.5,0.6\n", BNN_PRED_CLASSES, "3: probabilities sum to 1.1");
    bad_set("text.csv", "0.5,0.5\n0.5,abc\n", BNN_PRED_CLASSES, "2:2: 'abc' is not a number");
    bad_set("text2.csv", "1 2 3\n4 x 6\n", BNN_PRED_SAMPLES, "2:2: 'x' is not a number");
    bad_set("ragged.csv", "0.5,0.5\n0.2,0.3,0.5\n", BNN_PRED_CLASSES, "2:3: more than 2 columns");
    bad_set("short.csv", "1 2 3\n4 5\n", BNN_PRED_SAMPLES, "2:2: 2 columns, expected 3");
    bad_set("nan.csv", "1,2\nnan,2\n", BNN_PRED_SAMPLES, "2:1: non-finite");
    bad_set("one.csv", "1\n1\n", BNN_PRED_CLASSES, " a single column");
    bad_set("empty.csv", "\n", BNN_PRED_CLASSES, "2: empty file");
    bad_set("header.csv", "a,b\n", BNN_PRED_CLASSES, "2: no data rows after the header");
}

static void test_mismatch(void **state)
{
    (void)state;
    bnn_predset p, q, r;
    bnn_reference_eval e;
    assert_int_equal(read_set("m1.csv", "0.5,0.5\n0.5,0.5\n", BNN_PRED_CLASSES, 0, &p), BNN_OK);
    assert_int_equal(read_set("m2.csv", "0.5,0.5\n", BNN_PRED_CLASSES, 0, &q), BNN_OK);
    assert_int_equal(read_set("m3.csv", "0.2,0.3,0.5\n0.2,0.3,0.5\n", BNN_PRED_CLASSES, 0, &r),
                     BNN_OK);
    assert_int_not_equal(bnn_reference_compare(&p, &q, NULL, 0, NULL, &e), BNN_OK);
    print_message("  %s\n", bnn_last_error());
    assert_non_null(strstr(bnn_last_error(), "has 2 test inputs"));
    assert_int_not_equal(bnn_reference_compare(&p, &r, NULL, 0, NULL, &e), BNN_OK);
    print_message("  %s\n", bnn_last_error());
    assert_non_null(strstr(bnn_last_error(), "has 2 classes (columns) but"));
    const double bad_labels[2] = {0, 2};
    assert_int_not_equal(bnn_reference_compare(&p, &p, bad_labels, 2, "y.csv", &e), BNN_OK);
    print_message("  %s\n", bnn_last_error());
    assert_non_null(strstr(bnn_last_error(), "y.csv: the label of test input 2 (2)"));
    assert_int_not_equal(bnn_reference_compare(&p, &p, bad_labels, 1, "y.csv", &e), BNN_OK);
    assert_non_null(strstr(bnn_last_error(), "y.csv has 1 labels"));
    assert_int_equal(bnn_reference_compare(&p, &p, NULL, 0, NULL, &e), BNN_OK);
    assert_false(e.have_targets);
    assert_close(e.agreement, 1, 0, "agreement with itself");
    assert_close(e.total_variation, 0, 0, "TV with itself");
    bnn_predset_free(&p);
    bnn_predset_free(&q);
    bnn_predset_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_w1_exact),        cmocka_unit_test(test_classes_by_hand),
        cmocka_unit_test(test_samples_by_hand), cmocka_unit_test(test_bad_csv),
        cmocka_unit_test(test_mismatch),
    };
    return cmocka_run_group_tests(tests, test_tmp_setup, test_tmp_teardown);
}
