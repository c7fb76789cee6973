/* Building blocks shared by the diagnostics (spec section 1): R's arithmetic for means and
 * variances, the workspace, sorting, splitting, rank normalisation, rhat_core and ess_core. */
#ifndef BNN_DIAG_INTERNAL_H
#define BNN_DIAG_INTERNAL_H

#include <fftw3.h>
#include <stddef.h>
#include <stdint.h>

#include "diag/diag.h"

#define DIAG_EPS 2.220446049250313e-16 /* 2^-52, posterior's absolute tolerance in bad() */
#define DIAG_DROPPED SIZE_MAX          /* split_dest(): the draw is not in the split array */

struct bnn_diag_ws {
    size_t cap, cap_chain; /* capacity: draws in all, chains */
    /* The prepared quantity (diag_prepare). */
    size_t n, m, N;        /* iterations, chains, n * m */
    double *raw;           /* (m, n) chain-major packed copy of the draws */
    double *sval;          /* (N) the draws sorted ascending (valid unless has_nan) */
    size_t *sidx;          /* (N) position in raw of sval[k] */
    int has_nan, has_inf;
    /* Scratch. */
    double *arr, *arr2;    /* (N) a transformed or split array, chain-major */
    size_t *dest;          /* (N) diag_split_dest of every raw position, for shape dest_n x dest_m */
    size_t dest_n, dest_m;
    size_t split_n, split_m; /* shape of split(X) for the prepared n x m */
    uint64_t *key, *key2;  /* (N) radix-sort keys */
    size_t *idx2;          /* (N) radix-sort scratch */
    double *ztab;          /* (2N) normal scores of the ranks 1, 1.5, 2, ..., ztab_S */
    size_t ztab_S;
    /* ess_core. */
    double *yc;            /* (N) centred chains */
    double *acov;          /* (N) autocovariances of every chain (FFT path) */
    double *abar;          /* (N) mean over chains of the autocovariance at each lag */
    double *rho;           /* (N) Geyer's truncated autocorrelations */
    size_t abar_done;      /* lags [0, abar_done) of abar are computed */
    double *chain_raw0, *chain_scale, *chain_mean; /* (2 * cap_chain + 2) per split chain */
    /* FFT of one chain: length fft_len, plans made under a global lock (FFTW's planner is
     * not thread-safe). */
    size_t fft_len;
    double *fft_in;
    fftw_complex *fft_out;
    fftw_plan fft_fwd, fft_bwd;
};

/* R's mean(): long double sum, divided, then one refinement pass (summary.c). */
double diag_r_mean(const double *v, size_t len);
/* R's var(): the mean as above, then a long double sum of double products over len - 1. */
double diag_r_var(const double *v, size_t len);
/* The same with the mean xm = diag_r_mean(v, len) already known. */
double diag_r_var_about(const double *v, size_t len, double xm);
/* matrixStats::colMeans2 / rowMeans2: a double sum divided by len. */
double diag_col_mean(const double *v, size_t len);
/* matrixStats::colVars(v, center = centre) = base colMeans((v - centre)^2) * len / (len - 1),
 * the mean summed in long double; NaN for len < 2. */
double diag_col_var_centred(const double *v, size_t len, double centre);

/* bad(A) of spec 1.1: any NaN or +-Inf, or max - min < EPS. */
int diag_bad(const double *a, size_t len);

/* Checks the arguments, copies the draws into ws->raw and sorts them. */
bnn_status diag_prepare(bnn_diag_ws *ws, const double *x, size_t n_iter, size_t n_chain,
                        size_t stride);

/* Shape of split(X) for an n x m array (spec 1.2, quirk included). */
void diag_split_shape(size_t n, size_t m, size_t *n_out, size_t *m_out);
/* dst = split(src) for src of the prepared shape n x m (ws->dest), both chain-major packed. */
void diag_split_copy(const bnn_diag_ws *ws, const double *src, double *dst);

/* Releases the FFT plans (under the planner lock). */
void diag_fft_free(bnn_diag_ws *ws);

/* Rank-normalised split(X) (bulk) or split(fold(X)) (tail) of the prepared draws, into ws->arr.
 * Returns 0 if the result is NaN (NaN draws, or a non-finite median for the tail). */
int diag_z_split(bnn_diag_ws *ws, int folded);

/* quantile7 of spec 1.5 over sorted s[0..len). */
double diag_quantile7_sorted(const double *s, size_t len, double p);

/* rhat_core (spec 1.6) and ess_core (spec 1.8) of a chain-major packed n x m array. */
double diag_rhat_core(bnn_diag_ws *ws, const double *a, size_t n, size_t m);
double diag_ess_core(bnn_diag_ws *ws, const double *a, size_t n, size_t m);

#endif
