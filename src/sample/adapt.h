/* Warm-up adaptation as in Stan: dual averaging of log ε towards a target acceptance rate, and
 * a diagonal inverse metric estimated over doubling windows (75-iteration initial buffer, 25-
 * iteration first window, 50-iteration terminal buffer, shrunk proportionally for short
 * warm-ups). */
#ifndef BNN_SAMPLE_ADAPT_H
#define BNN_SAMPLE_ADAPT_H

#include <stddef.h>

#include "core/status.h"

/* Nesterov dual averaging (Hoffman & Gelman 2014, Stan's stepsize_adaptation). */
typedef struct {
    double delta;  /* target acceptance probability */
    double gamma, t0, kappa;
    double mu;     /* log(10 ε₀) */
    double counter, s_bar, x_bar;
} bnn_dual_avg;

void bnn_dual_avg_init(bnn_dual_avg *d, double delta, double eps0);
void bnn_dual_avg_restart(bnn_dual_avg *d, double eps0);
/* Learns from one iteration's acceptance probability; returns the next ε. */
double bnn_dual_avg_update(bnn_dual_avg *d, double accept_prob);
/* The final ε = exp(x̄). */
double bnn_dual_avg_final(const bnn_dual_avg *d);

/* Windowed variance estimation (Stan's windowed_adaptation + var_adaptation). */
typedef struct {
    size_t dim;
    int enabled;                      /* 0 when warm-up < 20 iterations or mass adaptation off */
    size_t n_warmup, init_buffer, term_buffer, base_window;
    size_t window_counter, window_size, next_window;
    size_t n;                         /* samples in the current window */
    double *mean, *m2;                /* (dim) Welford accumulators */
} bnn_mass_adapt;

bnn_status bnn_mass_adapt_init(bnn_mass_adapt *a, size_t dim, size_t n_warmup, int enabled);
void bnn_mass_adapt_free(bnn_mass_adapt *a);
/* Learns from the position after one warm-up iteration. At the end of a window, writes the
 * regularised variance estimate into inv_mass and returns 1; else returns 0. */
int bnn_mass_adapt_update(bnn_mass_adapt *a, const double *theta, double *inv_mass);

#endif
