/* Gradient check of any network (bnn_net): the analytic gradient of the log-likelihood of a few
 * rows against central finite differences in double, on a random sample of coordinates from
 * every parameter tensor. What `bnnmc gradcheck` runs; useful whenever a layer is added. */
#ifndef BNN_NN_CNN_GRADCHECK_H
#define BNN_NN_CNN_GRADCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "nn/net.h"

typedef struct {
    size_t per_tensor;  /* coordinates drawn per tensor (all of a smaller tensor) */
    double step;        /* central-difference step h (on θ); h/2 is used too, to find kinks */
    double kink_tol;    /* steps h and h/2 differing by more than this (relative) = a kink */
    uint64_t seed;      /* θ ~ N(0, 1/fan_in) for weights, N(0, 0.1²) for offsets; coordinates */
    bnn_precision prec; /* precision of the analytic gradient; differences are always double */
} bnn_gradcheck_options;

typedef struct {
    double max_rel_err;          /* max over the coordinates without a kink of
                                  * |a - fd| / max(|a|, |fd|, floor) */
    double floor;                /* 1e-3 · the largest |analytic| gradient (the rounding of
                                  * the differences is absolute: tiny coordinates need it) */
    char worst[64];              /* parameter name of the largest error */
    double worst_analytic, worst_numeric;
    size_t n_checked;
    size_t n_kinks;              /* coordinates skipped: a kink within the stencil */
    double tensor_err[BNN_NET_MAX_TENSORS]; /* max relative error per tensor */
} bnn_gradcheck_result;

/* x (rows, net->n_inputs), y (rows) as doubles. */
bnn_status bnn_net_gradcheck(const bnn_net *net, const double *x, const double *y, size_t rows,
                             const bnn_gradcheck_options *opt, bnn_gradcheck_result *out);

#endif
