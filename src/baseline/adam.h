/* Adam (Kingma & Ba, ICLR 2015) as an ascent on an objective to maximise (a log posterior, an
 * ELBO): x += α · m̂ / (√v̂ + ε̂) with the bias-corrected moment estimates of the gradient. */
#ifndef BNN_BASELINE_ADAM_H
#define BNN_BASELINE_ADAM_H

#include <stddef.h>

#include "core/status.h"

typedef struct {
    size_t dim;
    double *m, *v;       /* (dim) first and second moment estimates */
    size_t t;            /* steps taken */
    double beta1, beta2; /* 0.9, 0.999 */
    double eps;          /* 1e-8 */
} bnn_adam;

bnn_status bnn_adam_init(bnn_adam *a, size_t dim);
void bnn_adam_free(bnn_adam *a);

/* One step on x (dim) along the gradient g (dim) of the objective, with step size lr (α). */
void bnn_adam_step(bnn_adam *a, double *x, const double *g, double lr);

#endif
