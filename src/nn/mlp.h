/* The multilayer perceptron: architecture, the flat parameter layout with named views, and the
 * forward/backward pass with the log-likelihood over one block of rows, in float32 or float64.
 *
 * Layout of the flat parameter block θ (one allocation; STYLE.md 1): for each dense layer l in
 * order, its weights w_l (in_l, out_l) row-major, then its biases b_l (out_l). */
#ifndef BNN_NN_MLP_H
#define BNN_NN_MLP_H

#include <stddef.h>

#include "core/status.h"
#include "model/likelihood.h"

#define BNN_MLP_MAX_LAYERS 32

typedef enum { BNN_ACT_TANH, BNN_ACT_RELU, BNN_ACT_SWISH, BNN_ACT_ERF } bnn_activation;
typedef enum { BNN_F32 = 4, BNN_F64 = 8 } bnn_precision; /* value = bytes per number */

typedef struct {
    size_t n_layers;                      /* dense layers (1 = linear model) */
    size_t width[BNN_MLP_MAX_LAYERS + 1]; /* width[0] inputs, width[n_layers] outputs */
    bnn_activation act;                   /* after every dense layer but the last */
    bnn_likelihood lik;
    double noise_sd;                      /* Gaussian likelihood: the fixed noise σ */
    size_t n_params;
    size_t w_offset[BNN_MLP_MAX_LAYERS];  /* offset of w_l in θ */
    size_t b_offset[BNN_MLP_MAX_LAYERS];  /* offset of b_l in θ */
} bnn_mlp;

/* Parses "linear" or "mlp:H1,H2,..." into hidden widths and sets up the layout for n_in inputs
 * and n_out outputs. */
bnn_status bnn_mlp_init(bnn_mlp *m, const char *arch, size_t n_in, size_t n_out,
                        bnn_activation act, bnn_likelihood lik, double noise_sd);

bnn_status bnn_activation_parse(const char *name, bnn_activation *out);
const char *bnn_activation_name(bnn_activation a);

/* Name of parameter i, e.g. "layer0.w[3,17]" or "layer1.b[4]". */
void bnn_mlp_param_name(const bnn_mlp *m, size_t i, char *buf, size_t len);

/* Floats needed by one block's workspace (activations and backward buffers) for `rows` rows. */
size_t bnn_mlp_workspace_len(const bnn_mlp *m, size_t rows);

/* Log-likelihood of one block and, if grad is not NULL, its gradient with respect to θ,
 * written (not accumulated) into grad (n_params). x (rows, width[0]); y (rows) targets.
 * `work` holds bnn_mlp_workspace_len(m, rows) numbers. Numbers are float for BNN_F32 and
 * double for BNN_F64 (theta, x, grad, work alike); the returned sum is accumulated in double. */
double bnn_mlp_block_loglik(const bnn_mlp *m, bnn_precision prec, const void *theta,
                            const void *x, const double *y, size_t rows, void *grad, void *work);

/* Network outputs for a block: class probabilities (categorical: softmax, out (rows, K);
 * Bernoulli: (rows, 2) with P(y=0), P(y=1)) or the mean (Gaussian, (rows, 1)). */
void bnn_mlp_block_predict(const bnn_mlp *m, bnn_precision prec, const void *theta,
                           const void *x, size_t rows, double *out, void *work);

/* Outputs recorded per test point: classes (categorical), 2 (Bernoulli) or 1 (Gaussian). */
size_t bnn_mlp_n_outputs(const bnn_mlp *m);

#endif
