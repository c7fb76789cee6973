/* Layers of convolutional networks as forward/backward pairs on raw pointers, in float and
 * double: the readable CPU reference that every faster path (oneDNN) is tested against.
 *
 * Conventions, stated once:
 * - Images are NHWC: (rows, height, width, channels), channels fastest, as the data are read.
 * - Convolution weights are HWIO: (KH, KW, C_in, C_out), so that one image's im2col matrix
 *   (OH·OW, KH·KW·C_in) times w is the output (OH·OW, C_out) in NHWC.
 * - Backward functions ACCUMULATE (+=) into every gradient they receive (parameters and inputs);
 *   a NULL input gradient is skipped (the input images need none). */
#ifndef BNN_NN_LAYERS_H
#define BNN_NN_LAYERS_H

#include <stddef.h>

#include "nn/mlp.h"

/* A 2-D convolution: square kernel k, the same stride in both directions, zero padding
 * pad_top/pad_left before the image (the padding after it follows from the output size:
 * (oh-1)·stride + k - h - pad_top, which may differ from pad_top as in TensorFlow's "SAME"). */
typedef struct {
    size_t h, w, c;    /* input */
    size_t oh, ow, o;  /* output */
    size_t k, stride, pad_top, pad_left;
} bnn_conv_shape;

/* Output size and padding for "same" (TensorFlow: output ceil(h/stride), padding split with the
 * extra row after) or "valid" (no padding) convolutions. */
void bnn_conv_shape_init(bnn_conv_shape *s, size_t h, size_t w, size_t c, size_t o, size_t k,
                         size_t stride, int same);

/* Numbers of the im2col buffer one image needs: oh·ow·k·k·c. */
size_t bnn_conv_col_len(const bnn_conv_shape *s);

/* Non-overlapping or strided pooling without padding: window k, stride; out floor((h-k)/s)+1. */
typedef struct {
    size_t h, w, c, k, stride, oh, ow;
} bnn_pool_shape;

#define BNN_FRN_EPS 1e-6 /* ε of Filter Response Normalisation (Singh & Krishnan 2020) */

#define BNN_LAYER_DECLARE(REAL, SFX)                                                           \
    /* out (n,oh,ow,o) = conv(in (n,h,w,c), w (k,k,c,o)) + b (o); col (oh·ow, k·k·c) scratch */ \
    void bnn_conv2d_forward_##SFX(REAL *out, const REAL *in, const REAL *w, const REAL *b,     \
                                  const bnn_conv_shape *s, size_t n, REAL *col);               \
    /* din (n,h,w,c) or NULL, dw (k,k,c,o), db (o) += from dout (n,oh,ow,o); col as above */    \
    void bnn_conv2d_backward_##SFX(REAL *din, REAL *dw, REAL *db, const REAL *dout,            \
                                   const REAL *in, const REAL *w, const bnn_conv_shape *s,      \
                                   size_t n, REAL *col);                                        \
    /* out (n,oh,ow,c) = max / mean over each window of in (n,h,w,c) */                         \
    void bnn_maxpool_forward_##SFX(REAL *out, const REAL *in, const bnn_pool_shape *p, size_t n); \
    /* din += dout routed to the first maximum of each window (found again from in) */          \
    void bnn_maxpool_backward_##SFX(REAL *din, const REAL *dout, const REAL *in,               \
                                    const bnn_pool_shape *p, size_t n);                         \
    void bnn_avgpool_forward_##SFX(REAL *out, const REAL *in, const bnn_pool_shape *p, size_t n); \
    void bnn_avgpool_backward_##SFX(REAL *din, const REAL *dout, const bnn_pool_shape *p,      \
                                    size_t n);                                                  \
    /* out (n,c) = mean over the hw positions of in (n,hw,c) */                                 \
    void bnn_gap_forward_##SFX(REAL *out, const REAL *in, size_t n, size_t hw, size_t c);      \
    void bnn_gap_backward_##SFX(REAL *din, const REAL *dout, size_t n, size_t hw, size_t c);   \
    /* FRN with TLU: per image and channel ν² = mean over hw of x², x̂ = x/√(ν²+ε),             \
     * out = max(γ x̂ + β, τ); in, out (n,hw,c); gamma, beta, tau (c) */                         \
    void bnn_frn_forward_##SFX(REAL *out, const REAL *in, const REAL *gamma, const REAL *beta, \
                               const REAL *tau, size_t n, size_t hw, size_t c);                \
    /* din, dgamma, dbeta, dtau += (x̂ recomputed from in); at a tie y = τ the gradient is       \
     * split in half between y and τ, as PyTorch's maximum does */                              \
    void bnn_frn_backward_##SFX(REAL *din, REAL *dgamma, REAL *dbeta, REAL *dtau,              \
                                const REAL *dout, const REAL *in, const REAL *gamma,           \
                                const REAL *beta, const REAL *tau, size_t n, size_t hw,        \
                                size_t c);                                                      \
    /* out (len) = a + b; the backward of a residual addition is da += dout, db += dout */      \
    void bnn_add_forward_##SFX(REAL *out, const REAL *a, const REAL *b, size_t len);           \
    void bnn_add_backward_##SFX(REAL *da, const REAL *dout, size_t len);                       \
    /* out (n,o) = in (n,i) · w (i,o) + b (o); flattening an NHWC image is a no-op (HWC order) */ \
    void bnn_dense_forward_##SFX(REAL *out, const REAL *in, const REAL *w, const REAL *b,      \
                                 size_t n, size_t i, size_t o);                                 \
    void bnn_dense_backward_##SFX(REAL *din, REAL *dw, REAL *db, const REAL *dout,             \
                                  const REAL *in, const REAL *w, size_t n, size_t i, size_t o); \
    /* out = act(in); din += dout · act'(in) (dout is left unchanged) */                        \
    void bnn_act_forward_##SFX(bnn_activation act, REAL *out, const REAL *in, size_t len);     \
    void bnn_act_backward_##SFX(bnn_activation act, REAL *din, const REAL *dout,               \
                                const REAL *in, const REAL *out, size_t len);

BNN_LAYER_DECLARE(float, f32)
BNN_LAYER_DECLARE(double, f64)

#endif
