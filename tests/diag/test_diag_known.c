/* Known-answer tests of the diagnostics: AR(1) ESS, R-hat of mixed and shifted chains, nested
 * R-hat, NaN handling and API misuse. Fixed seeds; each check can fail. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "diag/diag.h"

/* splitmix64 + Box-Muller: a reproducible standard normal stream for the tests. */
static uint64_t rng_state;
static double unif(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return ((double)(z >> 11) + 0.5) / 9007199254740992.0;
}
static double normal(void)
{
    return sqrt(-2 * log(unif())) * cos(6.283185307179586 * unif());
}

/* n x m chain-major AR(1) draws x_t = rho x_{t-1} + sqrt(1 - rho^2) e_t, stationary start. */
static double *ar1(size_t n, size_t m, double rho, uint64_t seed)
{
    rng_state = seed;
    double *x = malloc(n * m * sizeof *x);
    assert_non_null(x);
    for (size_t c = 0; c < m; c++) {
        double v = normal();
        for (size_t i = 0; i < n; i++) {
            x[c * n + i] = v;
            v = rho * v + sqrt(1 - rho * rho) * normal();
        }
    }
    return x;
}

/* ESS of the mean of AR(1) chains is N (1 - rho) / (1 + rho). Tolerance 10 %: the estimator's
 * relative sd at N = 40000, rho = 0.9 is about 3 % (the truncated sum covers ~40 lags). */
static void test_ar1_ess(void **state)
{
    (void)state;
    size_t n = 10000, m = 4;
    double *x = ar1(n, m, 0.9, 42);
    bnn_diag_ws *ws;
    assert_int_equal(bnn_diag_ws_alloc(n, m, &ws), BNN_OK);
    double expect = (double)(n * m) * 0.1 / 1.9;
    double ess_mean = bnn_diag_ess_mean(ws, x, n, m, n);
    double ess_bulk = bnn_diag_ess_bulk(ws, x, n, m, n);
    print_message("AR(1) rho=0.9: ess_mean %.1f ess_bulk %.1f expected %.1f\n", ess_mean,
                  ess_bulk, expect);
    assert_true(fabs(ess_mean / expect - 1) < 0.10);
    assert_true(fabs(ess_bulk / expect - 1) < 0.10);
    /* independent draws: ESS close to N */
    double *y = ar1(n, m, 0.0, 7);
    double ess_iid = bnn_diag_ess_bulk(ws, y, n, m, n);
    print_message("iid: ess_bulk %.1f of %zu\n", ess_iid, n * m);
    assert_true(fabs(ess_iid / (double)(n * m) - 1) < 0.10);
    bnn_diag_ws_free(ws);
    free(x);
    free(y);
}

static void test_rhat_mixed_and_shifted(void **state)
{
    (void)state;
    size_t n = 1000, m = 4;
    double *x = ar1(n, m, 0.0, 3);
    bnn_diag_ws *ws;
    assert_int_equal(bnn_diag_ws_alloc(n, m, &ws), BNN_OK);
    bnn_diag_summary s;
    assert_int_equal(bnn_diag_summarise(ws, x, n, m, n, BNN_DIAG_ALL, &s), BNN_OK);
    print_message("iid normal: rhat %.5f rhat_basic %.5f\n", s.rhat, s.rhat_basic);
    assert_true(s.rhat < 1.01 && s.rhat > 0.99);
    assert_true(fabs(s.mean) < 5 * s.mcse_mean); /* true mean 0, within 5 MCSE */
    for (size_t i = 0; i < n; i++) x[2 * n + i] += 3.0; /* chain 2 sits 3 sd away */
    double r = bnn_diag_rhat(ws, x, n, m, n);
    print_message("one chain shifted by 3 sd: rhat %.4f\n", r);
    assert_true(r > 1.1);
    bnn_diag_ws_free(ws);
    free(x);
}

/* stride > n_iter: chains embedded in a wider buffer give the same answer as packed ones. */
static void test_stride(void **state)
{
    (void)state;
    size_t n = 200, m = 3, stride = 257;
    double *x = ar1(n, m, 0.5, 11);
    double *wide = calloc(stride * m, sizeof *wide);
    assert_non_null(wide);
    for (size_t c = 0; c < m; c++)
        for (size_t i = 0; i < n; i++) wide[c * stride + i] = x[c * n + i];
    bnn_diag_ws *ws;
    assert_int_equal(bnn_diag_ws_alloc(n, m, &ws), BNN_OK);
    bnn_diag_summary a, b;
    assert_int_equal(bnn_diag_summarise(ws, x, n, m, n, BNN_DIAG_ALL, &a), BNN_OK);
    assert_int_equal(bnn_diag_summarise(ws, wide, n, m, stride, BNN_DIAG_ALL, &b), BNN_OK);
    const double *fa = &a.mean, *fb = &b.mean;
    for (size_t i = 0; i < sizeof a / sizeof(double); i++) assert_true(fa[i] == fb[i]);
    bnn_diag_ws_free(ws);
    free(x);
    free(wide);
}

/* Nested R-hat: two superchains of two chains; one superchain displaced raises it, and with one
 * chain per superchain nRhat^2 = Rhat_unsplit^2 + 1/n (spec 5). */
static void test_nested(void **state)
{
    (void)state;
    size_t n = 500, m = 4;
    double *x = ar1(n, m, 0.3, 5);
    bnn_diag_ws *ws;
    assert_int_equal(bnn_diag_ws_alloc(n, m, &ws), BNN_OK);
    int ids[4] = {1, 1, 2, 2}, solo[4] = {1, 2, 3, 4}, uneven[4] = {1, 1, 1, 2};
    double mixed = bnn_diag_rhat_nested(ws, x, n, m, n, ids);
    double r = bnn_diag_rhat_basic(ws, x, n, m, n, 0);
    double one = bnn_diag_rhat_nested(ws, x, n, m, n, solo);
    print_message("nested: mixed %.5f, solo %.6f vs sqrt(R^2 + 1/n) %.6f\n", mixed, one,
                  sqrt(r * r + 1.0 / (double)n));
    assert_true(mixed >= 1 && mixed < 1.01);
    assert_true(fabs(one - sqrt(r * r + 1.0 / (double)n)) < 1e-12);
    assert_true(isnan(bnn_diag_rhat_nested(ws, x, n, m, n, uneven)));
    for (size_t i = 0; i < 2 * n; i++) x[2 * n + i] += 2.0;
    double far = bnn_diag_rhat_nested(ws, x, n, m, n, ids);
    print_message("nested: superchain 2 displaced %.4f\n", far);
    assert_true(far > 1.1);
    bnn_diag_ws_free(ws);
    free(x);
}

static void test_nan_and_misuse(void **state)
{
    (void)state;
    double x[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    bnn_diag_ws *ws;
    assert_int_equal(bnn_diag_ws_alloc(6, 2, &ws), BNN_OK);
    assert_false(isnan(bnn_diag_rhat(ws, x, 6, 2, 6)));
    x[3] = NAN;
    bnn_diag_summary s;
    assert_int_equal(bnn_diag_summarise(ws, x, 6, 2, 6, BNN_DIAG_ALL, &s), BNN_OK);
    const double *f = &s.mean;
    for (size_t i = 0; i < sizeof s / sizeof(double); i++) assert_true(isnan(f[i]));
    /* larger than the workspace, stride too small, p outside [0, 1] */
    assert_true(isnan(bnn_diag_rhat(ws, x, 12, 2, 12)));
    assert_true(isnan(bnn_diag_rhat(ws, x, 6, 2, 5)));
    assert_true(isnan(bnn_diag_ess_quantile(ws, x, 6, 2, 6, 1.5)));
    assert_int_not_equal(bnn_diag_summarise(ws, x, 7, 2, 7, BNN_DIAG_ALL, &s), BNN_OK);
    bnn_diag_ws_free(ws);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ar1_ess),
        cmocka_unit_test(test_rhat_mixed_and_shifted),
        cmocka_unit_test(test_stride),
        cmocka_unit_test(test_nested),
        cmocka_unit_test(test_nan_and_misuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
