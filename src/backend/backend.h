/* Where the arithmetic runs: a small vtable (ggml-backend style) behind which the CPU, and later
 * MPI and CUDA, compute the log-likelihood over all training data and predictions. θ and the
 * gradient cross this interface as double; a backend may compute in lower precision inside. */
#ifndef BNN_BACKEND_BACKEND_H
#define BNN_BACKEND_BACKEND_H

#include <stddef.h>

#include "core/status.h"

typedef struct bnn_backend_ops {
    const char *name;
    /* Log-likelihood of all training data at θ (n_params) and, if grad is not NULL, its
     * gradient (written, n_params). Bit-identical for any thread count. */
    bnn_status (*loglik_grad)(void *ctx, const double *theta, double *grad, double *loglik);
    /* The same over the training rows rows[0..n_rows) only (a mini-batch; indices into the
     * training data, repeats allowed), unscaled: the caller multiplies by N/B. Rows are summed
     * in fixed blocks of the batch in order, so bit-identical for any thread count. NULL if the
     * backend has no mini-batches (MPI). */
    bnn_status (*loglik_grad_rows)(void *ctx, const double *theta, const size_t *rows,
                                   size_t n_rows, double *grad, double *loglik);
    /* Network outputs (n_predict, n_outputs) for the prediction inputs at θ; NULL if none. */
    bnn_status (*predict)(void *ctx, const double *theta, double *out);
    void (*free)(void *ctx);
} bnn_backend_ops;

/* Where a run's arithmetic runs (`--device`). */
typedef enum { BNN_DEVICE_CPU = 0, BNN_DEVICE_CUDA = 1 } bnn_device;

typedef struct {
    const bnn_backend_ops *ops;
    void *ctx;
} bnn_backend;

static inline void bnn_backend_free(bnn_backend *b)
{
    if (b->ops && b->ops->free) b->ops->free(b->ctx);
    b->ops = NULL;
    b->ctx = NULL;
}

#endif
