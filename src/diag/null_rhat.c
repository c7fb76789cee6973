/* Simulated R-hat of converged AR(1) chains matched to each quantity's bulk ESS: expected counts
 * above the usual thresholds and the expected histogram. */
#include "diag/null_rhat.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "diag/diag.h"

#define NULL_MAX_BINS 8

typedef struct {
    double ess;
    size_t index;
} ess_item;

static int cmp_ess(const void *a, const void *b)
{
    double x = ((const ess_item *)a)->ess, y = ((const ess_item *)b)->ess;
    return x < y ? -1 : x > y;
}

/* K stationary AR(1) chains of n draws with coefficient rho into x (K, n). */
static void simulate_ar1(bnn_rng *rng, double rho, size_t n, size_t K, double *x, double *eps)
{
    double s = sqrt(1 - rho * rho);
    for (size_t c = 0; c < K; c++) {
        bnn_rng_normals(rng, eps, n);
        double *xc = x + c * n;
        xc[0] = eps[0];
        for (size_t i = 1; i < n; i++) xc[i] = rho * xc[i - 1] + s * eps[i];
    }
}

static size_t hist_bin(const bnn_null_rhat *o, double v)
{
    double f = (v - o->hist_lo) / (o->hist_hi - o->hist_lo) * BNN_NULL_N_HIST;
    return f < 0 ? 0 : f >= BNN_NULL_N_HIST ? BNN_NULL_N_HIST - 1 : (size_t)f;
}

/* Observed counts and histogram; the histogram range from the finite R-hats. */
static void observe(bnn_null_rhat *o, const double *rhat, const ess_item *items)
{
    double hi = 1.15;
    for (size_t k = 0; k < o->n; k++) hi = fmax(hi, rhat[items[k].index]);
    o->hist_lo = 0.98;
    o->hist_hi = fmin(hi, 2.0);
    for (size_t k = 0; k < o->n; k++) {
        double v = rhat[items[k].index];
        o->hist_observed[hist_bin(o, v)] += 1;
        for (size_t t = 0; t < BNN_NULL_N_THRESHOLDS; t++) o->observed[t] += v > o->thresholds[t];
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Simulates one ESS bin of `count` quantities; adds to the expectations; sims (reps) kept. */
static bnn_status simulate_bin(bnn_null_rhat *o, bnn_diag_ws *ws, bnn_rng *rng, double ess,
                               double count, size_t n_iter, size_t K, double *x, double *eps,
                               double *sims)
{
    double N = (double)(n_iter * K);
    double rho = fmin(0.999, fmax(-0.9, (N - ess) / (N + ess)));
    for (size_t r = 0; r < o->reps; r++) {
        simulate_ar1(rng, rho, n_iter, K, x, eps);
        sims[r] = bnn_diag_rhat(ws, x, n_iter, K, n_iter);
        if (isnan(sims[r])) return BNN_ERROR(BNN_ENUM, "null R-hat: NaN from a simulation");
    }
    for (size_t t = 0; t < BNN_NULL_N_THRESHOLDS; t++) {
        double p = 0;
        for (size_t r = 0; r < o->reps; r++) p += sims[r] > o->thresholds[t];
        p /= (double)o->reps;
        o->expected[t] += count * p;
        o->expected_sd[t] += count * p * (1 - p); /* a variance until the end */
    }
    for (size_t r = 0; r < o->reps; r++)
        o->hist_expected[hist_bin(o, sims[r])] += count / (double)o->reps;
    return BNN_OK;
}

bnn_status bnn_null_rhat_compute(const double *rhat, const double *ess_bulk, size_t n,
                                 size_t n_iter, size_t n_chain, size_t reps, uint64_t seed,
                                 bnn_null_rhat *out)
{
    if (!rhat || !ess_bulk || !out || n_iter < 4 || n_chain < 1 || reps < 10)
        return BNN_ERROR(BNN_EINVAL, "null R-hat: bad arguments (n_iter %zu, reps %zu)", n_iter, reps);
    memset(out, 0, sizeof *out);
    out->reps = reps;
    out->thresholds[0] = 1.01, out->thresholds[1] = 1.05, out->thresholds[2] = 1.1;
    ess_item *items = malloc((n ? n : 1) * sizeof *items);
    double *x = malloc(n_iter * n_chain * sizeof *x), *eps = malloc(n_iter * sizeof *eps);
    double *sims = malloc(reps * NULL_MAX_BINS * sizeof *sims);
    bnn_diag_ws *ws = NULL;
    bnn_status st = items && x && eps && sims ? bnn_diag_ws_alloc(n_iter, n_chain, &ws)
                                              : BNN_ERROR(BNN_ENOMEM, "null R-hat: out of memory");
    for (size_t i = 0; st == BNN_OK && i < n; i++)
        if (isfinite(rhat[i]) && isfinite(ess_bulk[i]) && ess_bulk[i] > 0)
            items[out->n++] = (ess_item){ess_bulk[i], i};
    if (st == BNN_OK && out->n > 0) {
        qsort(items, out->n, sizeof *items, cmp_ess);
        observe(out, rhat, items);
        bnn_rng rng;
        bnn_rng_init(&rng, seed, 0);
        out->n_bins = out->n < NULL_MAX_BINS ? out->n : NULL_MAX_BINS;
        for (size_t b = 0; st == BNN_OK && b < out->n_bins; b++) {
            size_t lo = b * out->n / out->n_bins, hi = (b + 1) * out->n / out->n_bins;
            double ess = items[lo + (hi - lo) / 2].ess;
            st = simulate_bin(out, ws, &rng, ess, (double)(hi - lo), n_iter, n_chain, x, eps,
                              sims + b * reps);
        }
        for (size_t t = 0; t < BNN_NULL_N_THRESHOLDS; t++) out->expected_sd[t] = sqrt(out->expected_sd[t]);
        /* Quantiles of the null mixture (bins have equal counts up to rounding). */
        size_t m = out->n_bins * reps;
        qsort(sims, m, sizeof *sims, cmp_double);
        out->null_q50 = sims[m / 2];
        out->null_q99 = sims[(size_t)(0.99 * (double)(m - 1))];
    }
    bnn_diag_ws_free(ws);
    free(items);
    free(x);
    free(eps);
    free(sims);
    return st;
}

static json_t *num(double v) { return isfinite(v) ? json_real(v) : json_null(); }

json_t *bnn_null_rhat_json(const bnn_null_rhat *o)
{
    json_t *thr = json_array(), *ho = json_array(), *he = json_array();
    for (size_t t = 0; t < BNN_NULL_N_THRESHOLDS; t++)
        json_array_append_new(thr, json_pack("{s:f, s:f, s:o, s:o}", "threshold",
                                             o->thresholds[t], "observed", o->observed[t],
                                             "expected", num(o->expected[t]), "expected_sd",
                                             num(o->expected_sd[t])));
    for (size_t b = 0; b < BNN_NULL_N_HIST; b++) {
        json_array_append_new(ho, json_real(o->hist_observed[b]));
        json_array_append_new(he, json_real(o->hist_expected[b]));
    }
    return json_pack("{s:I, s:I, s:I, s:o, s:o, s:o, s:{s:f, s:f, s:I, s:o, s:o}}", "n",
                     (json_int_t)o->n, "ess_bins", (json_int_t)o->n_bins, "replicates_per_bin",
                     (json_int_t)o->reps, "null_q50", num(o->null_q50), "null_q99",
                     num(o->null_q99), "thresholds", thr, "hist", "lo", o->hist_lo, "hi",
                     o->hist_hi, "bins", (json_int_t)BNN_NULL_N_HIST, "observed", ho,
                     "expected", he);
}
