/* ess_core (spec 1.7, 1.8): autocovariances of every chain, Geyer's initial positive and
 * monotone sequences, and the capped ESS. Lags are computed on demand by direct sums while the
 * truncation point is near (the usual case for mixing chains); when the sequence runs long, all
 * lags come at once from FFTW in O(n log n) per chain. */
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "diag/diag_internal.h"

/* FFTW's planner (plan creation and destruction) is not thread-safe; executing a plan is. Every
 * workspace plans under this one lock. FFTW_ESTIMATE keeps plans, hence results, independent
 * of timing. */
static pthread_mutex_t fftw_planner_lock = PTHREAD_MUTEX_INITIALIZER;

void diag_fft_free(bnn_diag_ws *ws)
{
    pthread_mutex_lock(&fftw_planner_lock);
    if (ws->fft_fwd) fftw_destroy_plan(ws->fft_fwd);
    if (ws->fft_bwd) fftw_destroy_plan(ws->fft_bwd);
    fftw_free(ws->fft_in);
    fftw_free(ws->fft_out);
    pthread_mutex_unlock(&fftw_planner_lock);
    ws->fft_fwd = ws->fft_bwd = NULL;
    ws->fft_in = NULL;
    ws->fft_out = NULL;
    ws->fft_len = 0;
}

/* R's nextn(): the smallest 2^a 3^b 5^c >= n. posterior pads each chain to twice that. */
static size_t next_smooth(size_t n)
{
    for (size_t k = n;; k++) {
        size_t r = k;
        while (r % 2 == 0) r /= 2;
        while (r % 3 == 0) r /= 3;
        while (r % 5 == 0) r /= 5;
        if (r == 1) return k;
    }
}

static bnn_status fft_plan(bnn_diag_ws *ws, size_t len)
{
    if (ws->fft_len == len) return BNN_OK;
    diag_fft_free(ws);
    pthread_mutex_lock(&fftw_planner_lock);
    ws->fft_in = fftw_alloc_real(len);
    ws->fft_out = fftw_alloc_complex(len / 2 + 1);
    if (ws->fft_in && ws->fft_out) {
        ws->fft_fwd = fftw_plan_dft_r2c_1d((int)len, ws->fft_in, ws->fft_out, FFTW_ESTIMATE);
        ws->fft_bwd = fftw_plan_dft_c2r_1d((int)len, ws->fft_out, ws->fft_in, FFTW_ESTIMATE);
    }
    pthread_mutex_unlock(&fftw_planner_lock);
    if (!ws->fft_fwd || !ws->fft_bwd) {
        diag_fft_free(ws);
        return BNN_ERROR(BNN_ENOMEM, "diag: cannot plan an FFT of length %zu", len);
    }
    ws->fft_len = len;
    return BNN_OK;
}

/* Per chain: centre it (R's mean), keep var(x) and colMeans2. A chain whose var(x) is exactly 0
 * has autocovariance 0 at every lag (posterior's early return). */
static void chains_centre(bnn_diag_ws *ws, const double *a, size_t n, size_t m)
{
    for (size_t c = 0; c < m; c++) {
        const double *col = a + c * n;
        double *yc = ws->yc + c * n;
        double mu = diag_r_mean(col, n);
        ws->chain_scale[c] = diag_r_var_about(col, n, mu);
        ws->chain_mean[c] = diag_col_mean(col, n);
        double raw0 = 0.0;
        for (size_t i = 0; i < n; i++) {
            yc[i] = col[i] - mu;
            raw0 += yc[i] * yc[i];
        }
        ws->chain_raw0[c] = raw0;
    }
    ws->abar_done = 0;
}

/* posterior's scaling: acov = ac / ac[0] * var(x) * (n - 1) / n, left to right. */
static double acov_scale(double rawk, double raw0, double varx, size_t n)
{
    if (varx == 0) return 0.0;
    return rawk / raw0 * varx * (double)(n - 1) / (double)n;
}

/* Mean over chains (matrixStats::rowMeans2: double sum / m) of one lag. */
static double acov_mean(const double *acov_lag, size_t stride, size_t m)
{
    double s = 0.0;
    for (size_t c = 0; c < m; c++) s += acov_lag[c * stride];
    return s / (double)m;
}

static void lag_direct(bnn_diag_ws *ws, size_t n, size_t m, size_t k)
{
    for (size_t c = 0; c < m; c++) {
        const double *yc = ws->yc + c * n;
        double s = ws->chain_raw0[c]; /* lag 0: the same sum, already done */
        if (k > 0) {
            /* Four partial sums break the dependency chain of one running sum (4x faster);
             * posterior's FFT sums in yet another order, so nothing is lost. */
            double s4[4] = {0, 0, 0, 0};
            size_t t = 0, len = n - k;
            for (; t + 4 <= len; t += 4)
                for (size_t u = 0; u < 4; u++) s4[u] += yc[t + u] * yc[t + u + k];
            for (; t < len; t++) s4[0] += yc[t] * yc[t + k];
            s = (s4[0] + s4[1]) + (s4[2] + s4[3]);
        }
        ws->acov[c] = acov_scale(s, ws->chain_raw0[c], ws->chain_scale[c], n);
    }
    ws->abar[k] = acov_mean(ws->acov, 1, m);
}

/* All lags of all chains by FFT: zero-pad to 2 * nextn(n) (no circular wrap), |F|^2, inverse. */
static bnn_status lags_fft(bnn_diag_ws *ws, size_t n, size_t m)
{
    size_t len = 2 * next_smooth(n);
    BNN_TRY(fft_plan(ws, len));
    for (size_t c = 0; c < m; c++) {
        double *acov = ws->acov + c * n;
        memcpy(ws->fft_in, ws->yc + c * n, n * sizeof(double));
        memset(ws->fft_in + n, 0, (len - n) * sizeof(double));
        fftw_execute(ws->fft_fwd);
        for (size_t f = 0; f < len / 2 + 1; f++) {
            double re = ws->fft_out[f][0], im = ws->fft_out[f][1];
            ws->fft_out[f][0] = re * re + im * im;
            ws->fft_out[f][1] = 0.0;
        }
        fftw_execute(ws->fft_bwd); /* unnormalised: the scale cancels in ac / ac[0] */
        for (size_t k = 0; k < n; k++)
            acov[k] = acov_scale(ws->fft_in[k], ws->fft_in[0], ws->chain_scale[c], n);
    }
    for (size_t k = 0; k < n; k++) ws->abar[k] = acov_mean(ws->acov + k, n, m);
    ws->abar_done = n;
    return BNN_OK;
}

/* Mean autocovariance at lag k, computing lags on demand. Direct sums cost n*m per lag; past a
 * few dozen lags one FFT pass over every lag is cheaper. Returns NaN if the FFT cannot be set
 * up (the error is recorded). */
static double abar_at(bnn_diag_ws *ws, size_t n, size_t m, size_t k)
{
    size_t direct_max = 24 + 4 * (size_t)log2((double)n);
    while (ws->abar_done <= k) {
        if (ws->abar_done >= direct_max) {
            if (lags_fft(ws, n, m) != BNN_OK) return NAN;
            break;
        }
        lag_direct(ws, n, m, ws->abar_done++);
    }
    return ws->abar[k];
}

/* Geyer's initial positive sequence then initial monotone sequence, exactly as posterior's
 * .ess loop (strict > 0 to continue, >= 0 to store; the last even term kept if positive).
 * Fills ws->rho[0..n) and returns max_t. */
static size_t geyer(bnn_diag_ws *ws, size_t n, size_t m, double mean_var, double var_plus)
{
    double *rho = ws->rho;
    memset(rho, 0, n * sizeof(double));
    size_t t = 0;
    double even = 1.0;
    double odd = 1 - (mean_var - abar_at(ws, n, m, 1)) / var_plus;
    rho[0] = even;
    rho[1] = odd;
    while ((long long)t < (long long)n - 5 && !isnan(even + odd) && even + odd > 0) {
        t += 2;
        even = 1 - (mean_var - abar_at(ws, n, m, t)) / var_plus;
        odd = 1 - (mean_var - abar_at(ws, n, m, t + 1)) / var_plus;
        if (even + odd >= 0) {
            rho[t] = even;
            rho[t + 1] = odd;
        }
    }
    size_t max_t = t;
    if (even > 0) rho[max_t] = even;
    for (t = 0; (long long)t <= (long long)max_t - 4;) {
        t += 2;
        if (rho[t] + rho[t + 1] > rho[t - 2] + rho[t - 1]) {
            rho[t] = (rho[t - 2] + rho[t - 1]) / 2;
            rho[t + 1] = rho[t];
        }
    }
    return max_t;
}

double diag_ess_core(bnn_diag_ws *ws, const double *a, size_t n, size_t m)
{
    if (n < 3 || diag_bad(a, n * m)) return NAN;
    chains_centre(ws, a, n, m);
    double a0 = abar_at(ws, n, m, 0);
    double mean_var = a0 * (double)n / (double)(n - 1);
    double var_plus = mean_var * (double)(n - 1) / (double)n;
    if (m > 1) var_plus += diag_r_var(ws->chain_mean, m);
    size_t max_t = geyer(ws, n, m, mean_var, var_plus);
    /* tau = -1 + 2 sum(rho[1:max_t]) + rho[max_t + 1] in R's 1-based indexing; when max_t = 0,
     * R's 1:0 is c(1, 0) and the sum still holds rho[0] = 1 (spec 1.8 step 7). */
    size_t K = max_t > 0 ? max_t - 1 : 0;
    long double sum = 0.0L;
    for (size_t k = 0; k <= K; k++) sum += ws->rho[k];
    double tau = -1 + 2 * (double)sum + ws->rho[max_t];
    double ess = (double)m * (double)n;
    double tau_bound = 1 / log10(ess);
    if (tau < tau_bound) tau = tau_bound;
    return ess / tau;
}
