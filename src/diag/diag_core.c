/* Building blocks of the diagnostics (spec section 1): the workspace, R's way of summing,
 * bad(), sorting, splitting, rank normalisation, quantile7 and rhat_core. */
#define MATHLIB_STANDALONE 1
#include <Rmath.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "diag/diag_internal.h"

/* ---- workspace ---------------------------------------------------------------------------- */

bnn_status bnn_diag_ws_alloc(size_t max_iter, size_t max_chain, bnn_diag_ws **out)
{
    if (!out) return BNN_ERROR(BNN_EINVAL, "diag workspace: out is NULL");
    *out = NULL;
    if (max_iter == 0 || max_chain == 0 || max_iter > SIZE_MAX / 16 / max_chain)
        return BNN_ERROR(BNN_EINVAL, "diag workspace: bad size %zu x %zu", max_iter, max_chain);
    bnn_diag_ws *ws = calloc(1, sizeof *ws);
    if (!ws) return BNN_ERROR(BNN_ENOMEM, "diag workspace: out of memory");
    size_t N = max_iter * max_chain, C = 2 * max_chain + 2;
    ws->cap = N;
    ws->cap_chain = max_chain;
    ws->raw = malloc(N * sizeof(double));
    ws->sval = malloc(N * sizeof(double));
    ws->sidx = malloc(N * sizeof(size_t));
    ws->arr = malloc(N * sizeof(double));
    ws->arr2 = malloc(N * sizeof(double));
    ws->dest = malloc(N * sizeof(size_t));
    ws->key = malloc(N * sizeof(uint64_t));
    ws->key2 = malloc(N * sizeof(uint64_t));
    ws->idx2 = malloc(N * sizeof(size_t));
    ws->ztab = malloc(2 * N * sizeof(double));
    ws->yc = malloc(N * sizeof(double));
    ws->acov = malloc(N * sizeof(double));
    ws->abar = malloc(N * sizeof(double));
    ws->rho = malloc(N * sizeof(double));
    ws->chain_raw0 = malloc(C * sizeof(double));
    ws->chain_scale = malloc(C * sizeof(double));
    ws->chain_mean = malloc(C * sizeof(double));
    if (!ws->raw || !ws->sval || !ws->sidx || !ws->arr || !ws->arr2 || !ws->dest || !ws->key ||
        !ws->key2 || !ws->idx2 || !ws->ztab || !ws->yc || !ws->acov || !ws->abar || !ws->rho ||
        !ws->chain_raw0 || !ws->chain_scale || !ws->chain_mean) {
        bnn_diag_ws_free(ws);
        return BNN_ERROR(BNN_ENOMEM, "diag workspace: out of memory for %zu draws", N);
    }
    *out = ws;
    return BNN_OK;
}

void bnn_diag_ws_free(bnn_diag_ws *ws)
{
    if (!ws) return;
    diag_fft_free(ws);
    free(ws->raw);
    free(ws->sval);
    free(ws->sidx);
    free(ws->arr);
    free(ws->arr2);
    free(ws->dest);
    free(ws->key);
    free(ws->key2);
    free(ws->idx2);
    free(ws->ztab);
    free(ws->yc);
    free(ws->acov);
    free(ws->abar);
    free(ws->rho);
    free(ws->chain_raw0);
    free(ws->chain_scale);
    free(ws->chain_mean);
    free(ws);
}

/* ---- R's arithmetic ------------------------------------------------------------------------ */

/* R sums in long double and rounds once; we do the same so that ill-conditioned sums agree. */
double diag_r_mean(const double *v, size_t len)
{
    long double s = 0.0L;
    for (size_t i = 0; i < len; i++) s += v[i];
    s /= (long double)len;
    if (isfinite((double)s)) {
        long double t = 0.0L;
        for (size_t i = 0; i < len; i++) t += v[i] - s;
        s += t / (long double)len;
    }
    return (double)s;
}

double diag_r_var(const double *v, size_t len)
{
    return len < 2 ? NAN : diag_r_var_about(v, len, diag_r_mean(v, len));
}

double diag_r_var_about(const double *v, size_t len, double xm)
{
    if (len < 2) return NAN;
    long double sum = 0.0L;
    for (size_t i = 0; i < len; i++) {
        double d = v[i] - xm; /* difference and product in double, as R's cov.c */
        sum += d * d;
    }
    return (double)(sum / (long double)(len - 1));
}

double diag_col_mean(const double *v, size_t len)
{
    double s = 0.0; /* matrixStats 0.63 sums in double (base R's colMeans would not) */
    for (size_t i = 0; i < len; i++) s += v[i];
    return s / (double)len;
}

double diag_col_var_centred(const double *v, size_t len, double centre)
{
    if (len < 2) return NAN;
    long double s = 0.0L; /* base R's colMeans of the squares: long double */
    for (size_t i = 0; i < len; i++) {
        double d = v[i] - centre;
        s += d * d;
    }
    return (double)(s / (long double)len) * ((double)len / (double)(len - 1));
}

int diag_bad(const double *a, size_t len)
{
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < len; i++) {
        if (!isfinite(a[i])) return 1;
        if (a[i] < lo) lo = a[i];
        if (a[i] > hi) hi = a[i];
    }
    return !(fabs(hi - lo) >= DIAG_EPS);
}

/* ---- preparing one quantity: copy, sort, split map ------------------------------------------ */

/* Order-preserving map of a (non-NaN) double to an unsigned key: negative numbers have all bits
 * flipped, positive ones only the sign bit. -0 sorts just below +0; ties are tested on the
 * doubles, so they still count as equal. */
static uint64_t sort_key(double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return (u >> 63) ? ~u : (u | 0x8000000000000000ull);
}

/* LSD radix sort of ws->raw[0..N) into ws->sval / ws->sidx, 8 bits per pass; passes in which
 * every key has the same byte are skipped (common: draws share sign and exponent bits). */
static void radix_sort(bnn_diag_ws *ws, size_t N)
{
    static const size_t passes = 8;
    size_t count[8][256];
    memset(count, 0, sizeof count);
    uint64_t *key = ws->key, *key2 = ws->key2;
    size_t *idx = ws->sidx, *idx2 = ws->idx2;
    for (size_t i = 0; i < N; i++) {
        key[i] = sort_key(ws->raw[i]);
        idx[i] = i;
        for (size_t b = 0; b < passes; b++) count[b][(key[i] >> (8 * b)) & 255]++;
    }
    for (size_t b = 0; b < passes; b++) {
        if (count[b][(key[0] >> (8 * b)) & 255] == N) continue;
        size_t pos = 0;
        for (size_t d = 0; d < 256; d++) {
            size_t c = count[b][d];
            count[b][d] = pos;
            pos += c;
        }
        for (size_t i = 0; i < N; i++) {
            size_t at = count[b][(key[i] >> (8 * b)) & 255]++;
            key2[at] = key[i];
            idx2[at] = idx[i];
        }
        uint64_t *tk = key; key = key2; key2 = tk;
        size_t *ti = idx; idx = idx2; idx2 = ti;
    }
    if (idx != ws->sidx) memcpy(ws->sidx, idx, N * sizeof(size_t));
    for (size_t k = 0; k < N; k++) ws->sval[k] = ws->raw[ws->sidx[k]];
}

void diag_split_shape(size_t n, size_t m, size_t *n_out, size_t *m_out)
{
    size_t h = n / 2;
    if (n == 1) { *n_out = 1; *m_out = m; }
    else if (h == 1) { *n_out = m; *m_out = 2; } /* the n = 2, 3 quirk (spec 1.2) */
    else { *n_out = h; *m_out = 2 * m; }
}

/* Where draw i of chain c goes in split(X): first halves are chains 0..m-1, second halves
 * m..2m-1, the middle draw of an odd chain is dropped. Quirk for h = 1: the array is m x 2,
 * column 0 the first draws of all chains, column 1 their last draws. */
static void split_map(bnn_diag_ws *ws, size_t n, size_t m)
{
    size_t h = n / 2;
    for (size_t c = 0; c < m; c++)
        for (size_t i = 0; i < n; i++) {
            size_t d = DIAG_DROPPED;
            if (n == 1) d = c;
            else if (h == 1) d = i == 0 ? c : i == n - 1 ? m + c : DIAG_DROPPED;
            else if (i < h) d = c * h + i;
            else if (i >= n - h) d = (m + c) * h + (i - (n - h));
            ws->dest[c * n + i] = d;
        }
    ws->dest_n = n;
    ws->dest_m = m;
}

void diag_split_copy(const bnn_diag_ws *ws, const double *src, double *dst)
{
    for (size_t p = 0; p < ws->N; p++)
        if (ws->dest[p] != DIAG_DROPPED) dst[ws->dest[p]] = src[p];
}

bnn_status diag_prepare(bnn_diag_ws *ws, const double *x, size_t n_iter, size_t n_chain,
                        size_t stride)
{
    if (!ws || !x) return BNN_ERROR(BNN_EINVAL, "diag: NULL workspace or draws");
    if (n_iter == 0 || n_chain == 0 || stride < n_iter)
        return BNN_ERROR(BNN_EINVAL, "diag: bad shape %zu iterations x %zu chains, stride %zu",
                         n_iter, n_chain, stride);
    if (n_chain > ws->cap_chain || n_iter > ws->cap / n_chain)
        return BNN_ERROR(BNN_EINVAL, "diag: %zu x %zu draws exceed the workspace (%zu draws)",
                         n_iter, n_chain, ws->cap);
    size_t N = n_iter * n_chain;
    ws->n = n_iter;
    ws->m = n_chain;
    ws->N = N;
    ws->has_nan = ws->has_inf = 0;
    for (size_t c = 0; c < n_chain; c++) {
        memcpy(ws->raw + c * n_iter, x + c * stride, n_iter * sizeof(double));
        for (size_t i = 0; i < n_iter; i++) {
            double v = x[c * stride + i];
            if (isnan(v)) ws->has_nan = 1;
            else if (isinf(v)) ws->has_inf = 1;
        }
    }
    if (!ws->has_nan) radix_sort(ws, N);
    if (ws->dest_n != n_iter || ws->dest_m != n_chain) split_map(ws, n_iter, n_chain);
    diag_split_shape(n_iter, n_chain, &ws->split_n, &ws->split_m);
    return BNN_OK;
}

/* ---- rank normalisation (spec 1.3, 1.4) ------------------------------------------------------ */

/* ztab[t] = Phi^-1((r - 3/8) / (S + 1/4)) for the rank r = (t + 2) / 2, t = 0 .. 2S - 2: every
 * average rank is a multiple of 1/2, so one table serves all quantities with S split draws.
 * The expression is R's backtransform_ranks, term for term. */
static void ztab_fill(bnn_diag_ws *ws, size_t S)
{
    if (ws->ztab_S == S) return;
    const double c = 3.0 / 8.0;
    for (size_t t = 0; t + 1 < 2 * S; t++) {
        double r = (double)(t + 2) / 2.0;
        ws->ztab[t] = qnorm5((r - c) / ((double)S - 2 * c + 1), 0.0, 1.0, 1, 0);
    }
    ws->ztab_S = S;
}

/* Appends the split-kept draws of an ascending sequence to (kval, kdest). */
static size_t keep_split(const bnn_diag_ws *ws, double v, size_t pos, size_t S)
{
    size_t d = ws->dest[pos];
    if (d == DIAG_DROPPED) return S;
    ws->arr2[S] = v;
    ws->idx2[S] = d;
    return S + 1;
}

/* The folded draws |x - med| in ascending order, from the sorted draws without a second sort:
 * below the median, |x - med| decreases with x; above, it increases (rounding is monotone);
 * merging the two runs by their computed values gives the sorted folded draws. */
static size_t fold_sorted_kept(bnn_diag_ws *ws, double med)
{
    size_t N = ws->N, lo_end = 0, S = 0;
    while (lo_end < N && ws->sval[lo_end] < med) lo_end++;
    size_t a = lo_end, b = lo_end; /* a walks down through [0, lo_end), b up through [lo_end, N) */
    while (a > 0 || b < N) {
        double fa = a > 0 ? fabs(ws->sval[a - 1] - med) : INFINITY;
        double fb = b < N ? fabs(ws->sval[b] - med) : INFINITY;
        if (b >= N || (a > 0 && fa <= fb)) {
            S = keep_split(ws, fa, ws->sidx[a - 1], S);
            a--;
        } else {
            S = keep_split(ws, fb, ws->sidx[b], S);
            b++;
        }
    }
    return S;
}

int diag_z_split(bnn_diag_ws *ws, int folded)
{
    if (ws->has_nan) return 0;
    size_t N = ws->N, S = 0;
    if (folded) {
        /* R's median: middle value, or mean() of the two middle values (long double). */
        double med = N % 2 ? ws->sval[N / 2] : diag_r_mean(ws->sval + N / 2 - 1, 2);
        if (!isfinite(med)) return 0; /* x - med is NaN for some x: posterior gives NA */
        S = fold_sorted_kept(ws, med);
    } else {
        for (size_t k = 0; k < N; k++) S = keep_split(ws, ws->sval[k], ws->sidx[k], S);
    }
    ztab_fill(ws, S);
    /* Ties (equal doubles, +0 == -0) share the average of their ranks i+1 .. j+1. */
    for (size_t i = 0; i < S;) {
        size_t j = i;
        while (j + 1 < S && ws->arr2[j + 1] == ws->arr2[i]) j++;
        double z = ws->ztab[i + j];
        for (size_t k = i; k <= j; k++) ws->arr[ws->idx2[k]] = z;
        i = j + 1;
    }
    return 1;
}

/* ---- quantile7 and rhat_core ---------------------------------------------------------------- */

double diag_quantile7_sorted(const double *s, size_t len, double p)
{
    double idx = 1.0 + (double)(len - 1) * p;
    double lo = floor(idx), hi = ceil(idx);
    double q = s[(size_t)lo - 1];
    if (idx > lo && s[(size_t)hi - 1] != q) {
        double h = idx - lo;
        q = (1 - h) * q + h * s[(size_t)hi - 1];
    }
    return q;
}

/* posterior's .rhat: chain means by colMeans2, chain variances by colVars(center = mean),
 * i.e. mean((x - mean)^2) * (n / (n - 1)), then sqrt((n var(means) / W + n - 1) / n). */
double diag_rhat_core(bnn_diag_ws *ws, const double *a, size_t n, size_t m)
{
    if (diag_bad(a, n * m) || n < 2) return NAN;
    double *mu = ws->chain_mean, *s2 = ws->chain_scale;
    for (size_t c = 0; c < m; c++) {
        const double *col = a + c * n;
        mu[c] = diag_col_mean(col, n);
        s2[c] = diag_col_var_centred(col, n, mu[c]);
    }
    double var_between = (double)n * diag_r_var(mu, m);
    double var_within = diag_r_mean(s2, m);
    return sqrt((var_between / var_within + (double)n - 1) / (double)n);
}
