/* Shared by bench.c and bench_cuda.c. */
#ifndef BNN_BENCH_BENCH_INTERNAL_H
#define BNN_BENCH_BENCH_INTERNAL_H

#include "bench/bench.h"

/* Monotonic clock in milliseconds. */
double bnn_bench_now_ms(void);

/* Median of n values (sorts them). */
double bnn_bench_median(double *v, size_t n);

/* Synthetic data: standard normal inputs x (n_rows, d); labels uniform over the classes, or
 * standard normal targets (Gaussian), or fair coin flips (Bernoulli). Allocates *x and *y. */
bnn_status bnn_bench_synthetic_data(const bnn_bench_options *o, size_t d, double **x, double **y);

#endif
