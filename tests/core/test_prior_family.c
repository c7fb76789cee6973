/* Every prior family of model/prior.h, one parameter at a time: the log density against R's
 * nmath (dnorm, dt, dlogis; Laplace and the mixture written out), its gradient by finite
 * differences, its normalisation and documented variance by numerical integration, and draws
 * whose CDF at fixed points, mean and variance agree within TOL_SE standard errors; plus the
 * Gamma sampler's first two moments and the parser. */
#define MATHLIB_STANDALONE 1
#include <Rmath.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/prior.h"
#include "prior_ref.h"

#define FD_STEP 1e-5
#define GRAD_TOL 1e-7    /* relative, floor 1e-3 */
#define VALUE_TOL 1e-12  /* absolute on the log density */
#define INT_TOL 1e-7     /* ∫ p and ∫ θ² p / variance, relative */
#define INT_STEPS 400000 /* Simpson intervals on u ∈ (−π/2, π/2), θ = a·tan u */
#define N_DRAWS 200000
#define TOL_SE 4.0
#define SEED 77

struct family_case {
    const char *text;
    double v; /* the parameter's v (see model/prior.h) */
};

static const struct family_case cases[] = {
    {"gaussian", 0.7},       {"laplace", 0.7},          {"student-t:5", 0.7},
    {"student-t:1.5", 0.7},  {"logistic", 0.7},         {"mixture:0.3,1,0.1", 0.7},
    {"mixture:0.8,2.5,0.5", 0.05}, {"laplace", 3.0},   {"student-t:30", 2.0},
};
#define N_CASES (sizeof cases / sizeof cases[0])

static int failures;

static void verdict(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void verdict(int ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%s ", ok ? "ok" : "not ok");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    failures += !ok;
}

static double log_density(const bnn_prior_family *f, double v, double theta, double *grad)
{
    if (grad) *grad = 0;
    return bnn_prior_log_norm(f, &v, 1) + bnn_prior_log_kernel(f, &theta, &v, 1, grad);
}

static double cdf_ref(const bnn_prior_family *f, double v, double x)
{
    double b, s;
    switch (f->kind) {
    case BNN_PRIOR_GAUSSIAN: return pnorm(x, 0, sqrt(v), 1, 0);
    case BNN_PRIOR_LAPLACE:
        b = sqrt(v / 2);
        return x < 0 ? 0.5 * exp(x / b) : 1 - 0.5 * exp(-x / b);
    case BNN_PRIOR_STUDENT_T:
        s = f->nu > 2 ? sqrt(v * (f->nu - 2) / f->nu) : sqrt(v);
        return pt(x / s, f->nu, 1, 0);
    case BNN_PRIOR_LOGISTIC: return plogis(x, 0, sqrt(3 * v) / M_PI, 1, 0);
    case BNN_PRIOR_MIXTURE:
        return f->pi * pnorm(x, 0, f->s1 * sqrt(v), 1, 0) +
               (1 - f->pi) * pnorm(x, 0, f->s2 * sqrt(v), 1, 0);
    }
    return NAN;
}

static void check_values(const char *name, const bnn_prior_family *f, double v)
{
    static const double at[] = {-7.3, -1.1, -0.2, -1e-3, 0, 2e-4, 0.35, 0.9, 2.4, 11.0};
    double worst_val = 0, worst_grad = 0, sd = sqrt(v);
    for (size_t k = 0; k < sizeof at / sizeof at[0]; k++) {
        double x = at[k] * sd, g;
        double lp = log_density(f, v, x, &g);
        worst_val = fmax(worst_val, fabs(lp - prior_log_density_ref(f, v, x)));
        if (f->kind == BNN_PRIOR_LAPLACE && fabs(x) < 2 * FD_STEP) continue; /* the kink */
        double h = FD_STEP * sd;
        double fd = (log_density(f, v, x - 2 * h, NULL) - 8 * log_density(f, v, x - h, NULL) +
                     8 * log_density(f, v, x + h, NULL) - log_density(f, v, x + 2 * h, NULL)) /
                    (12 * h);
        double d = fmax(fmax(fabs(fd), fabs(g)), 1e-3 / sd);
        worst_grad = fmax(worst_grad, fabs(fd - g) / d);
    }
    verdict(worst_val < VALUE_TOL && !isnan(worst_val), "%s value: max |log p - R nmath| %.2e "
            "(tol %.0e)", name, worst_val, VALUE_TOL);
    verdict(worst_grad < GRAD_TOL && !isnan(worst_grad), "%s gradient: max rel err %.2e vs "
            "finite differences (tol %.0e)", name, worst_grad, GRAD_TOL);
}

/* ∫ p and ∫ θ² p by Simpson's rule after θ = a·tan u (heavy tails included). */
static void check_integrals(const char *name, const bnn_prior_family *f, double v)
{
    const double a = sqrt(v), lo = -M_PI / 2, h = M_PI / INT_STEPS;
    double mass = 0, second = 0, within[2] = {0, 0}; /* θ² p over |θ| ≤ 1e2 a, 1e4 a */
    for (size_t k = 1; k < INT_STEPS; k++) {
        double u = lo + (double)k * h, t = tan(u), c = cos(u);
        double p = exp(log_density(f, v, a * t, NULL)) * a / (c * c), w = k % 2 ? 4 : 2;
        mass += w * p;
        second += w * p * a * t * a * t;
        for (int j = 0; j < 2; j++) within[j] += fabs(t) <= (j ? 1e4 : 1e2) ? w * p * t * t : 0;
    }
    mass *= h / 3;
    second *= h / 3;
    verdict(fabs(mass - 1) < INT_TOL, "%s normalised: integral of p = %.12f (tol %.0e)", name,
            mass, INT_TOL);
    double var = bnn_prior_variance_factor(f) * v;
    if (!isfinite(var)) {
        /* ν = 1.5: ∫ over |θ| ≤ R of θ² p grows like √R, 10-fold from R = 1e2 a to 1e4 a */
        double growth = within[1] / within[0];
        verdict(growth > 5, "%s variance infinite: integral of theta^2 p grows %.2f-fold from "
                "|theta| <= 1e2 sd to 1e4 sd (want > 5)", name, growth);
        return;
    }
    verdict(fabs(second / var - 1) < INT_TOL, "%s variance: integral of theta^2 p = %.10g, "
            "documented %.10g (tol %.0e)", name, second, var, INT_TOL);
}

static void check_draws(const char *name, const bnn_prior_family *f, double v)
{
    double *var = malloc(N_DRAWS * sizeof *var), *x = malloc(N_DRAWS * sizeof *x);
    if (!var || !x) {
        verdict(0, "%s draws: out of memory", name);
        free(var);
        free(x);
        return;
    }
    for (size_t i = 0; i < N_DRAWS; i++) var[i] = v;
    bnn_rng rng;
    bnn_rng_init(&rng, SEED, 3);
    bnn_prior_draw(f, var, N_DRAWS, 1, &rng, x);
    static const double at[] = {-2, -1, -0.3, 0.1, 0.5, 1.5};
    double worst = 0;
    for (size_t k = 0; k < sizeof at / sizeof at[0]; k++) {
        double q = at[k] * sqrt(v), p = cdf_ref(f, v, q), below = 0;
        for (size_t i = 0; i < N_DRAWS; i++) below += x[i] <= q;
        double z = (below / N_DRAWS - p) / sqrt(p * (1 - p) / N_DRAWS);
        worst = fmax(worst, fabs(z));
    }
    verdict(worst < TOL_SE, "%s draws: CDF at 6 points within %.2f SE (tol %.0f)", name,
            worst, TOL_SE);
    double var_doc = bnn_prior_variance_factor(f) * v;
    if (isfinite(var_doc)) {
        long double m1 = 0, m2 = 0, m4 = 0;
        for (size_t i = 0; i < N_DRAWS; i++) {
            long double t = x[i], t2 = t * t;
            m1 += t, m2 += t2, m4 += t2 * t2;
        }
        double mean = (double)(m1 / N_DRAWS), sq = (double)(m2 / N_DRAWS);
        double z_mean = mean / sqrt(sq / N_DRAWS);
        double z_var = (sq - var_doc) / sqrt(((double)(m4 / N_DRAWS) - sq * sq) / N_DRAWS);
        verdict(fabs(z_mean) < TOL_SE && fabs(z_var) < TOL_SE, "%s draws: mean %.4g (%+.2f "
                "SE), E[theta^2] %.5g vs documented variance %.5g (%+.2f SE; tol %.0f)", name,
                mean, z_mean, sq, var_doc, z_var, TOL_SE);
    }
    free(var);
    free(x);
}

static void check_gamma(void)
{
    static const double shapes[] = {0.3, 1, 2.5, 40};
    bnn_rng rng;
    bnn_rng_init(&rng, SEED, 9);
    for (size_t k = 0; k < 4; k++) {
        const double a = shapes[k];
        long double m1 = 0, m2 = 0;
        for (size_t i = 0; i < N_DRAWS; i++) {
            double g = bnn_rng_gamma(&rng, a);
            m1 += g, m2 += (long double)g * g;
        }
        double mean = (double)(m1 / N_DRAWS), var = (double)(m2 / N_DRAWS) - mean * mean;
        /* Gamma(a, 1): mean a, variance a; Var(x²) = E x⁴ − (E x²)² with E x^k = Γ(a+k)/Γ(a) */
        double e2 = a * (a + 1), e4 = e2 * (a + 2) * (a + 3);
        double z_mean = (mean - a) / sqrt(a / N_DRAWS);
        double z_var = (var - a) / sqrt((e4 - e2 * e2) / N_DRAWS);
        verdict(fabs(z_mean) < TOL_SE && fabs(z_var) < TOL_SE, "gamma(%g) draws: mean %.5g "
                "(%+.2f SE), variance %.5g (%+.2f SE; tol %.0f)", a, mean, z_mean, var, z_var,
                TOL_SE);
    }
}

static void check_parser(void)
{
    static const char *const bad[] = {"", "normal", "student-t", "student-t:", "student-t:0",
                                      "student-t:-1", "student-t:3,4", "mixture:0.5,1",
                                      "mixture:1,1,1", "mixture:0.5,0,1", "mixture:0.5,1,nan",
                                      "laplace:1", "gaussian "};
    int ok = 1;
    bnn_prior_family f;
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
        if (bnn_prior_family_parse(bad[k], &f) == BNN_OK) {
            printf("# accepted '%s'\n", bad[k]);
            ok = 0;
        }
    verdict(ok, "parser refuses %zu malformed families", sizeof bad / sizeof bad[0]);
    ok = 1;
    for (size_t k = 0; k < N_CASES; k++) {
        char text[128];
        bnn_prior_family a, b;
        ok &= bnn_prior_family_parse(cases[k].text, &a) == BNN_OK;
        bnn_prior_family_format(&a, text, sizeof text);
        ok &= bnn_prior_family_parse(text, &b) == BNN_OK && a.kind == b.kind && a.nu == b.nu &&
              a.pi == b.pi && a.s1 == b.s1 && a.s2 == b.s2 && !strcmp(text, cases[k].text);
    }
    verdict(ok, "parse and format round trip for %zu families", N_CASES);
}

int main(void)
{
    check_parser();
    check_gamma();
    for (size_t k = 0; k < N_CASES; k++) {
        bnn_prior_family f;
        char name[96];
        snprintf(name, sizeof name, "%s (v %g)", cases[k].text, cases[k].v);
        if (bnn_prior_family_parse(cases[k].text, &f) != BNN_OK) {
            verdict(0, "%s: parse: %s", name, bnn_last_error());
            continue;
        }
        check_values(name, &f, cases[k].v);
        check_integrals(name, &f, cases[k].v);
        check_draws(name, &f, cases[k].v);
    }
    printf("%s\n", failures ? "FAILED" : "PASSED");
    return failures ? 1 : 0;
}
