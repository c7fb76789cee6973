/* 2-D convolutions through oneDNN (C API), float32 only: the fast path of the reference
 * bnn_conv2d_*_f32 in layers.h, with the same layouts (NHWC images, HWIO weights).
 *
 * Determinism: every call runs oneDNN single-threaded (OpenMP team of one on the calling
 * thread), so a block's result does not depend on how many blocks run at once. Primitives are
 * created once per (shape, rows, key) and cached; `key` names the caller's private workspace,
 * so two threads never execute the same primitive object. */
#ifndef BNN_NN_LAYERS_CONV_DNNL_H
#define BNN_NN_LAYERS_CONV_DNNL_H

#include <stddef.h>

#include "core/status.h"
#include "nn/layers/layers.h"

typedef struct bnn_dnnl bnn_dnnl; /* engine and primitive cache; thread-safe */

bnn_status bnn_dnnl_alloc(bnn_dnnl **out);
void bnn_dnnl_free(bnn_dnnl *d);

/* out (n,oh,ow,o) = conv(in (n,h,w,c), w (k,k,c,o)) + b (o). Returns 0, or -1 if oneDNN
 * failed (the caller then uses the reference). */
int bnn_dnnl_conv_forward(bnn_dnnl *d, const bnn_conv_shape *s, const void *key, size_t n,
                          float *out, const float *in, const float *w, const float *b);

/* Gradients from dout (n,oh,ow,o), WRITTEN (oneDNN's convention, unlike layers.h): dw (k,k,c,o),
 * db (o) and, unless din is NULL, din (n,h,w,c). Returns 0 or -1 as above. */
int bnn_dnnl_conv_backward(bnn_dnnl *d, const bnn_conv_shape *s, const void *key, size_t n,
                           float *din, float *dw, float *db, const float *dout, const float *in,
                           const float *w);

#endif
