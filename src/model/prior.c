/* The prior families: parsing, normalising constants, log density with its gradient, draws. */
#include "model/prior.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_2PI 1.8378770664093454835606594728112
#define PI 3.1415926535897932384626433832795

/* Reads n comma-separated finite numbers from text (nothing after them). */
static int parse_numbers(const char *text, double *v, size_t n)
{
    const char *p = text;
    for (size_t i = 0; i < n; i++) {
        char *end;
        errno = 0;
        v[i] = strtod(p, &end);
        if (end == p || errno || !isfinite(v[i]) || *end != (i + 1 < n ? ',' : '\0')) return -1;
        p = end + 1;
    }
    return 0;
}

bnn_status bnn_prior_family_parse(const char *text, bnn_prior_family *out)
{
    bnn_prior_family f = {.kind = BNN_PRIOR_GAUSSIAN};
    double v[3];
    if (!strcmp(text, "gaussian")) {
    } else if (!strcmp(text, "laplace")) {
        f.kind = BNN_PRIOR_LAPLACE;
    } else if (!strcmp(text, "logistic")) {
        f.kind = BNN_PRIOR_LOGISTIC;
    } else if (!strncmp(text, "student-t:", 10)) {
        if (parse_numbers(text + 10, v, 1) != 0 || !(v[0] > 0))
            return BNN_ERROR(BNN_EINVAL, "--prior '%s': student-t:NU needs degrees of freedom "
                                         "NU > 0", text);
        f = (bnn_prior_family){.kind = BNN_PRIOR_STUDENT_T, .nu = v[0]};
    } else if (!strncmp(text, "mixture:", 8)) {
        if (parse_numbers(text + 8, v, 3) != 0 || !(v[0] > 0 && v[0] < 1) || !(v[1] > 0) ||
            !(v[2] > 0))
            return BNN_ERROR(BNN_EINVAL, "--prior '%s': mixture:PI,S1,S2 needs 0 < PI < 1 and "
                                         "scale factors S1, S2 > 0", text);
        f = (bnn_prior_family){.kind = BNN_PRIOR_MIXTURE, .pi = v[0], .s1 = v[1], .s2 = v[2]};
    } else {
        return BNN_ERROR(BNN_EINVAL, "unknown prior '%s' (known: gaussian, laplace, "
                                     "student-t:NU, logistic, mixture:PI,S1,S2)", text);
    }
    *out = f;
    return BNN_OK;
}

void bnn_format_double(char *buf, size_t len, double x)
{
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, len, "%.*g", digits, x);
        if (strtod(buf, NULL) == x) return;
    }
}

void bnn_prior_family_format(const bnn_prior_family *f, char *buf, size_t len)
{
    char a[32], b[32], c[32];
    switch (f->kind) {
    case BNN_PRIOR_GAUSSIAN: snprintf(buf, len, "gaussian"); break;
    case BNN_PRIOR_LAPLACE: snprintf(buf, len, "laplace"); break;
    case BNN_PRIOR_LOGISTIC: snprintf(buf, len, "logistic"); break;
    case BNN_PRIOR_STUDENT_T:
        bnn_format_double(a, sizeof a, f->nu);
        snprintf(buf, len, "student-t:%s", a);
        break;
    case BNN_PRIOR_MIXTURE:
        bnn_format_double(a, sizeof a, f->pi);
        bnn_format_double(b, sizeof b, f->s1);
        bnn_format_double(c, sizeof c, f->s2);
        snprintf(buf, len, "mixture:%s,%s,%s", a, b, c);
        break;
    }
}

double bnn_prior_variance_factor(const bnn_prior_family *f)
{
    if (f->kind == BNN_PRIOR_MIXTURE) return f->pi * f->s1 * f->s1 + (1 - f->pi) * f->s2 * f->s2;
    if (f->kind == BNN_PRIOR_STUDENT_T && !(f->nu > 2)) return INFINITY;
    return 1;
}

/* The family's scale s_i = c·√v_i (b of Laplace and logistic, s of Student-t; 1 for the
 * Gaussian and the mixture, whose components carry their own factors). */
static double scale_factor(const bnn_prior_family *f)
{
    switch (f->kind) {
    case BNN_PRIOR_LAPLACE: return sqrt(0.5);
    case BNN_PRIOR_STUDENT_T: return f->nu > 2 ? sqrt((f->nu - 2) / f->nu) : 1;
    case BNN_PRIOR_LOGISTIC: return sqrt(3.0) / PI;
    default: return 1;
    }
}

double bnn_prior_log_norm(const bnn_prior_family *f, const double *var, size_t n)
{
    double norm = 0;
    if (f->kind == BNN_PRIOR_GAUSSIAN) {
        for (size_t i = 0; i < n; i++) norm += -0.5 * (LOG_2PI + log(var[i]));
        return norm;
    }
    /* log p = k − log s_i + (a function of θ_i / s_i), s_i = c √v_i */
    double k = -log(scale_factor(f));
    if (f->kind == BNN_PRIOR_LAPLACE) k -= log(2.0);
    if (f->kind == BNN_PRIOR_MIXTURE) k -= 0.5 * LOG_2PI;
    if (f->kind == BNN_PRIOR_STUDENT_T)
        k += lgamma(0.5 * (f->nu + 1)) - lgamma(0.5 * f->nu) - 0.5 * log(f->nu * PI);
    for (size_t i = 0; i < n; i++) norm += k - 0.5 * log(var[i]);
    return norm;
}

/* Mixture: log(π/S1 e^{−z²/2S1²} + (1−π)/S2 e^{−z²/2S2²}) and its derivative in z. */
static double mixture_kernel(const bnn_prior_family *f, double z, double *dz)
{
    const double a1 = log(f->pi / f->s1) - 0.5 * z * z / (f->s1 * f->s1);
    const double a2 = log((1 - f->pi) / f->s2) - 0.5 * z * z / (f->s2 * f->s2);
    const double hi = a1 > a2 ? a1 : a2, lo = a1 > a2 ? a2 : a1;
    const double lse = hi + log1p(exp(lo - hi)), w1 = exp(a1 - lse);
    *dz = -z * (w1 / (f->s1 * f->s1) + (1 - w1) / (f->s2 * f->s2));
    return lse;
}

double bnn_prior_log_kernel(const bnn_prior_family *f, const double *theta, const double *var,
                            size_t n, double *grad)
{
    double sum = 0;
    const double c = scale_factor(f);
    switch (f->kind) {
    case BNN_PRIOR_GAUSSIAN:
        for (size_t i = 0; i < n; i++) sum += theta[i] * theta[i] / var[i];
        if (grad)
            for (size_t i = 0; i < n; i++) grad[i] -= theta[i] / var[i];
        return -0.5 * sum;
    case BNN_PRIOR_LAPLACE:
        for (size_t i = 0; i < n; i++) {
            const double inv_b = 1 / (c * sqrt(var[i]));
            sum -= fabs(theta[i]) * inv_b;
            if (grad) grad[i] -= (double)((theta[i] > 0) - (theta[i] < 0)) * inv_b;
        }
        return sum;
    case BNN_PRIOR_STUDENT_T:
        for (size_t i = 0; i < n; i++) {
            const double s = c * sqrt(var[i]), z = theta[i] / s;
            sum -= 0.5 * (f->nu + 1) * log1p(z * z / f->nu);
            if (grad) grad[i] -= (f->nu + 1) * z / ((f->nu + z * z) * s);
        }
        return sum;
    case BNN_PRIOR_LOGISTIC:
        for (size_t i = 0; i < n; i++) {
            const double b = c * sqrt(var[i]), z = theta[i] / b, a = fabs(z);
            sum -= a + 2 * log1p(exp(-a));
            if (grad) grad[i] -= tanh(0.5 * z) / b;
        }
        return sum;
    case BNN_PRIOR_MIXTURE:
        for (size_t i = 0; i < n; i++) {
            const double sd = sqrt(var[i]);
            double dz;
            sum += mixture_kernel(f, theta[i] / sd, &dz);
            if (grad) grad[i] += dz / sd;
        }
        return sum;
    }
    return NAN;
}

/* One standardised draw (scale 1) of a non-Gaussian family. */
static double draw_standard(const bnn_prior_family *f, bnn_rng *rng)
{
    double z, u;
    switch (f->kind) {
    case BNN_PRIOR_LAPLACE:
        u = bnn_rng_uniform(rng);
        return u < 0.5 ? log(2 * u) : -log(2 * (1 - u));
    case BNN_PRIOR_STUDENT_T: /* Z / √(χ²_ν / ν), χ²_ν = 2 Gamma(ν/2) */
        bnn_rng_normals(rng, &z, 1);
        return z / sqrt(2 * bnn_rng_gamma(rng, 0.5 * f->nu) / f->nu);
    case BNN_PRIOR_LOGISTIC:
        u = bnn_rng_uniform(rng);
        return log(u / (1 - u));
    case BNN_PRIOR_MIXTURE:
        u = bnn_rng_uniform(rng);
        bnn_rng_normals(rng, &z, 1);
        return (u < f->pi ? f->s1 : f->s2) * z;
    default:
        bnn_rng_normals(rng, &z, 1);
        return z;
    }
}

void bnn_prior_draw(const bnn_prior_family *f, const double *var, size_t n, double scale,
                    bnn_rng *rng, double *theta)
{
    if (f->kind == BNN_PRIOR_GAUSSIAN) {
        bnn_rng_normals(rng, theta, n);
        for (size_t i = 0; i < n; i++) theta[i] *= scale * sqrt(var[i]);
        return;
    }
    const double c = scale_factor(f);
    for (size_t i = 0; i < n; i++) theta[i] = scale * c * sqrt(var[i]) * draw_standard(f, rng);
}
