/* The diagnostics of spec section 2 (and nested R-hat, section 5) on top of the building blocks:
 * each public function prepares the draws once (copy, sort, split map) and combines pieces. */
#define MATHLIB_STANDALONE 1
#include <Rmath.h>

#include <math.h>
#include <string.h>

#include "diag/diag_internal.h"

/* posterior's mcse_quantile probabilities: these literal constants, not pnorm(+-1). */
#define MCSE_Q_LO 0.1586553
#define MCSE_Q_HI 0.8413447

/* R's max()/min() of two values: NaN if either is NaN. */
static double max_na(double a, double b) { return isnan(a) || isnan(b) ? NAN : a > b ? a : b; }
static double min_na(double a, double b) { return isnan(a) || isnan(b) ? NAN : a < b ? a : b; }

/* ---- pieces over the prepared draws ---------------------------------------------------------- */

static double rhat_z(bnn_diag_ws *ws, int folded)
{
    if (!diag_z_split(ws, folded)) return NAN;
    return diag_rhat_core(ws, ws->arr, ws->split_n, ws->split_m);
}

static double ess_bulk_prepared(bnn_diag_ws *ws)
{
    if (!diag_z_split(ws, 0)) return NAN;
    return diag_ess_core(ws, ws->arr, ws->split_n, ws->split_m);
}

/* should_return_NA(x) of the raw draws: NaN, +-Inf, or a range below EPS. */
static int raw_bad(const bnn_diag_ws *ws)
{
    return ws->has_nan || ws->has_inf || !(fabs(ws->sval[ws->N - 1] - ws->sval[0]) >= DIAG_EPS);
}

static double ess_quantile_prepared(bnn_diag_ws *ws, double p)
{
    if (raw_bad(ws)) return NAN;
    size_t N = ws->N;
    if (p == 1) p = ((double)N - 0.5) / (double)N;
    double q = diag_quantile7_sorted(ws->sval, N, p);
    for (size_t i = 0; i < N; i++)
        if (ws->dest[i] != DIAG_DROPPED) ws->arr[ws->dest[i]] = ws->raw[i] <= q ? 1.0 : 0.0;
    return diag_ess_core(ws, ws->arr, ws->split_n, ws->split_m);
}

static double mcse_quantile_from_ess(const bnn_diag_ws *ws, double p, double ess)
{
    if (isnan(ess)) return NAN;
    double a_lo = qbeta(MCSE_Q_LO, ess * p + 1, ess * (1 - p) + 1, 1, 0);
    double a_hi = qbeta(MCSE_Q_HI, ess * p + 1, ess * (1 - p) + 1, 1, 0);
    if (isnan(a_lo) || isnan(a_hi)) return NAN;
    double S = (double)ws->N;
    double i_lo = fmax(floor(a_lo * S), 1), i_hi = fmin(ceil(a_hi * S), S);
    return (ws->sval[(size_t)i_hi - 1] - ws->sval[(size_t)i_lo - 1]) / 2;
}

static double basic_prepared(bnn_diag_ws *ws, int split, int want_ess)
{
    const double *a = ws->raw;
    size_t n = ws->n, m = ws->m;
    if (split) {
        diag_split_copy(ws, ws->raw, ws->arr);
        a = ws->arr;
        n = ws->split_n;
        m = ws->split_m;
    }
    return want_ess ? diag_ess_core(ws, a, n, m) : diag_rhat_core(ws, a, n, m);
}

static double ess_sd_prepared(bnn_diag_ws *ws)
{
    double mu = diag_r_mean(ws->raw, ws->N);
    for (size_t i = 0; i < ws->N; i++) ws->arr2[i] = fabs(ws->raw[i] - mu);
    diag_split_copy(ws, ws->arr2, ws->arr);
    return diag_ess_core(ws, ws->arr, ws->split_n, ws->split_m);
}

/* posterior >= 1.2.2: moments of the centred draws c, ESS of c^2 (split). */
static double mcse_sd_prepared(bnn_diag_ws *ws)
{
    size_t N = ws->N;
    double mu = diag_r_mean(ws->raw, N);
    for (size_t i = 0; i < N; i++) {
        double c = ws->raw[i] - mu;
        ws->arr2[i] = c * c;
    }
    double ev = diag_r_mean(ws->arr2, N);
    diag_split_copy(ws, ws->arr2, ws->arr);
    double ess = diag_ess_core(ws, ws->arr, ws->split_n, ws->split_m);
    for (size_t i = 0; i < N; i++) ws->arr2[i] = pow(ws->raw[i] - mu, 4.0); /* R's c^4 */
    double varvar = (diag_r_mean(ws->arr2, N) - ev * ev) / ess;
    double varsd = varvar / ev / 4;
    return sqrt(varsd);
}

static double sd_prepared(const bnn_diag_ws *ws) { return sqrt(diag_r_var(ws->raw, ws->N)); }

/* ---- summary --------------------------------------------------------------------------------- */

static void summary_nan(bnn_diag_summary *s)
{
    double *f = &s->mean;
    for (size_t i = 0; i < sizeof *s / sizeof(double); i++) f[i] = NAN;
}

bnn_status bnn_diag_summarise(bnn_diag_ws *ws, const double *x, size_t n_iter, size_t n_chain,
                              size_t stride, unsigned what, bnn_diag_summary *out)
{
    if (!out) return BNN_ERROR(BNN_EINVAL, "diag summary: out is NULL");
    summary_nan(out);
    BNN_TRY(diag_prepare(ws, x, n_iter, n_chain, stride));
    if (what & BNN_DIAG_MOMENTS) {
        out->mean = diag_r_mean(ws->raw, ws->N);
        out->sd = sd_prepared(ws);
        if (!ws->has_nan) { /* quantile2 returns NA for NaN draws */
            out->q05 = diag_quantile7_sorted(ws->sval, ws->N, 0.05);
            out->q50 = diag_quantile7_sorted(ws->sval, ws->N, 0.5);
            out->q95 = diag_quantile7_sorted(ws->sval, ws->N, 0.95);
        }
    }
    double ess_q05 = NAN, ess_q95 = NAN;
    if (what & (BNN_DIAG_CONVERGENCE | BNN_DIAG_MCSE)) {
        ess_q05 = ess_quantile_prepared(ws, 0.05);
        ess_q95 = ess_quantile_prepared(ws, 0.95);
    }
    if (what & BNN_DIAG_CONVERGENCE) {
        if (diag_z_split(ws, 0)) { /* one rank normalisation serves rhat_bulk and ess_bulk */
            out->rhat_bulk = diag_rhat_core(ws, ws->arr, ws->split_n, ws->split_m);
            out->ess_bulk = diag_ess_core(ws, ws->arr, ws->split_n, ws->split_m);
        }
        out->rhat_tail = rhat_z(ws, 1);
        out->rhat = max_na(out->rhat_bulk, out->rhat_tail);
        out->ess_tail = min_na(ess_q05, ess_q95);
    }
    if (what & BNN_DIAG_MCSE) {
        out->rhat_basic = basic_prepared(ws, 1, 0);
        out->ess_basic = basic_prepared(ws, 1, 1);
        out->mcse_mean = sd_prepared(ws) / sqrt(out->ess_basic);
        out->mcse_sd = mcse_sd_prepared(ws);
        out->mcse_q05 = mcse_quantile_from_ess(ws, 0.05, ess_q05);
        out->mcse_q95 = mcse_quantile_from_ess(ws, 0.95, ess_q95);
    }
    return BNN_OK;
}

/* ---- single diagnostics ---------------------------------------------------------------------- */

#define PREPARE_OR_NAN(ws, x, n, m, s)                                                         \
    do {                                                                                       \
        if (diag_prepare((ws), (x), (n), (m), (s)) != BNN_OK) return NAN;                      \
    } while (0)

double bnn_diag_rhat_bulk(bnn_diag_ws *ws, const double *x, size_t n_iter, size_t n_chain,
                          size_t stride)
{
    PREPARE_OR_NAN(ws, x, n_iter, n_chain, stride);
    return rhat_z(ws, 0);
}

double bnn_diag_rhat_tail(bnn_diag_ws *ws, const double *x, size_t n_iter, size_t n_chain,
                          size_t stride)
{
    PREPARE_OR_NAN(ws, x, n_iter, n_chain, stride);
    return rhat_z(ws, 1);
}

double bnn_diag_rhat(bnn_diag_ws *ws, const double *x, size_t n_iter, size_t n_chain,
                     size_t stride)
{
    PREPARE_OR_NAN(ws, x, n_iter, n_chain, stride);
    return max_na(rhat_z(ws, 0), rhat_z(ws, 1));
}

double bnn_diag_rhat_basic(bnn_diag_ws *ws, const double *x, size_t n_iter, size_t n_chain,
                           size_t stride, int split)
{
    PREPARE_OR_NAN(ws, x, n_iter, n_chain, stride);
    return basic_prepared(ws, split, 0);
}

double bnn_diag_ess_bulk(bnn_diag_ws *ws, const double *x, size_t n_iter, size_t n_chain,
                         size_t stride)
{
    PREPARE_OR_NAN(ws, x, n_iter, n_chain, stride);
    return ess_bulk_prepared(ws);
}

double bnn_diag_ess_tail(bnn_diag_ws *ws, const double *x, size_t n_iter, size_t n_chain,
                         size_t stride)
{
    PREPARE_OR_NAN(ws, x, n_iter, n_chain, stride);
    return min_na(ess_quantile_prepared(ws, 0.05), ess_quantile_prepared(ws, 0.95));
}

double bnn_diag_ess_basic(bnn_diag_ws *ws, const double *x, size_t n_iter, size_t n_chain,
                          size_t stride, int split)
{
    PREPARE_OR_NAN(ws, x, n_iter, n_chain, stride);
    return basic_prepared(ws, split, 1);
}

double bnn_diag_ess_mean(bnn_diag_ws *ws, const double *x, size_t n_iter, size_t n_chain,
                         size_t stride)
{
    return bnn_diag_ess_basic(ws, x, n_iter, n_chain, stride, 1);
}

double bnn_diag_ess_sd(bnn_diag_ws *ws, const double *x, size_t n_iter, size_t n_chain,
                       size_t stride)
{
    PREPARE_OR_NAN(ws, x, n_iter, n_chain, stride);
    return ess_sd_prepared(ws);
}

static int p_ok(double p)
{
    if (p >= 0 && p <= 1) return 1;
    BNN_ERROR(BNN_EINVAL, "diag: probability %g is outside [0, 1]", p);
    return 0;
}

double bnn_diag_ess_quantile(bnn_diag_ws *ws, const double *x, size_t n_iter, size_t n_chain,
                             size_t stride, double p)
{
    if (!p_ok(p)) return NAN;
    PREPARE_OR_NAN(ws, x, n_iter, n_chain, stride);
    return ess_quantile_prepared(ws, p);
}

double bnn_diag_mcse_mean(bnn_diag_ws *ws, const double *x, size_t n_iter, size_t n_chain,
                          size_t stride)
{
    PREPARE_OR_NAN(ws, x, n_iter, n_chain, stride);
    return sd_prepared(ws) / sqrt(basic_prepared(ws, 1, 1));
}

double bnn_diag_mcse_sd(bnn_diag_ws *ws, const double *x, size_t n_iter, size_t n_chain,
                        size_t stride)
{
    PREPARE_OR_NAN(ws, x, n_iter, n_chain, stride);
    return mcse_sd_prepared(ws);
}

double bnn_diag_mcse_quantile(bnn_diag_ws *ws, const double *x, size_t n_iter, size_t n_chain,
                              size_t stride, double p)
{
    if (!p_ok(p)) return NAN;
    PREPARE_OR_NAN(ws, x, n_iter, n_chain, stride);
    return mcse_quantile_from_ess(ws, p, ess_quantile_prepared(ws, p));
}

double bnn_diag_quantile7(bnn_diag_ws *ws, const double *x, size_t n_iter, size_t n_chain,
                          size_t stride, double p)
{
    if (!p_ok(p)) return NAN;
    PREPARE_OR_NAN(ws, x, n_iter, n_chain, stride);
    return ws->has_nan ? NAN : diag_quantile7_sorted(ws->sval, ws->N, p);
}

/* mean() and sd() need no workspace: R's long double sums walk the chains in order. */
static double moment(const double *x, size_t n_iter, size_t n_chain, size_t stride, int sd)
{
    if (!x || n_iter == 0 || n_chain == 0 || stride < n_iter) {
        BNN_ERROR(BNN_EINVAL, "diag: bad draws (%zu x %zu, stride %zu)", n_iter, n_chain, stride);
        return NAN;
    }
    long double s = 0.0L, N = (long double)n_iter * (long double)n_chain;
    for (size_t c = 0; c < n_chain; c++)
        for (size_t i = 0; i < n_iter; i++) s += x[c * stride + i];
    s /= N;
    if (isfinite((double)s)) {
        long double t = 0.0L;
        for (size_t c = 0; c < n_chain; c++)
            for (size_t i = 0; i < n_iter; i++) t += x[c * stride + i] - s;
        s += t / N;
    }
    if (!sd) return (double)s;
    if (N < 2) return NAN;
    double xm = (double)s;
    long double v = 0.0L;
    for (size_t c = 0; c < n_chain; c++)
        for (size_t i = 0; i < n_iter; i++) {
            double d = x[c * stride + i] - xm;
            v += d * d;
        }
    return sqrt((double)(v / (N - 1)));
}

double bnn_diag_mean(const double *x, size_t n_iter, size_t n_chain, size_t stride)
{
    return moment(x, n_iter, n_chain, stride, 0);
}

double bnn_diag_sd(const double *x, size_t n_iter, size_t n_chain, size_t stride)
{
    return moment(x, n_iter, n_chain, stride, 1);
}
