/* The Adam update. */
#include "baseline/adam.h"

#include <math.h>
#include <stdlib.h>

bnn_status bnn_adam_init(bnn_adam *a, size_t dim)
{
    *a = (bnn_adam){.dim = dim, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
    a->m = calloc(dim ? dim : 1, sizeof(double));
    a->v = calloc(dim ? dim : 1, sizeof(double));
    if (a->m && a->v) return BNN_OK;
    bnn_adam_free(a);
    return BNN_ERROR(BNN_ENOMEM, "out of memory for the optimiser");
}

void bnn_adam_free(bnn_adam *a)
{
    free(a->m);
    free(a->v);
    a->m = a->v = NULL;
}

void bnn_adam_step(bnn_adam *a, double *x, const double *g, double lr)
{
    a->t++;
    const double c1 = 1 - pow(a->beta1, (double)a->t), c2 = 1 - pow(a->beta2, (double)a->t);
    for (size_t i = 0; i < a->dim; i++) {
        a->m[i] = a->beta1 * a->m[i] + (1 - a->beta1) * g[i];
        a->v[i] = a->beta2 * a->v[i] + (1 - a->beta2) * g[i] * g[i];
        x[i] += lr * (a->m[i] / c1) / (sqrt(a->v[i] / c2) + a->eps);
    }
}
