/* A network of any kind behind one small interface, for the backends, the prior and the run
 * store: the flat parameter block as a list of named tensors, and the block kernels (log-
 * likelihood with gradient, predictions) in float32 or float64. The MLP is one kind; others
 * (convolutional nets) add an ops table and a constructor.
 *
 * Architectures: "linear", "mlp:H1,H2,..." (see mlp.h). */
#ifndef BNN_NN_NET_H
#define BNN_NN_NET_H

#include <stddef.h>

#include "nn/mlp.h"

#define BNN_NET_MAX_TENSORS 256

/* One named tensor of the flat parameter block. */
typedef struct {
    char name[32];        /* "layer0.w", "conv1.b", ... */
    size_t offset, size;  /* position and length in θ */
    size_t ndim, shape[4];
    size_t prior_group;   /* which --prior-var value applies (0-based layer index) */
    size_t fan_in;        /* inputs feeding one output unit (for --prior-fan-in) */
    int is_bias;          /* biases (and normalisation offsets) are not divided by fan-in */
} bnn_tensor;

typedef struct bnn_net_ops {
    /* Log-likelihood of a block and, if grad is not NULL, its gradient (written, n_params);
     * numbers are float (BNN_F32) or double (BNN_F64); see bnn_mlp_block_loglik. */
    double (*block_loglik)(const void *impl, bnn_precision prec, const void *theta,
                           const void *x, const double *y, size_t rows, void *grad, void *work);
    /* Predictive outputs (rows, n_outputs). */
    void (*block_predict)(const void *impl, bnn_precision prec, const void *theta,
                          const void *x, size_t rows, double *out, void *work);
    /* Numbers of workspace needed for a block of `rows` rows. */
    size_t (*workspace_len)(const void *impl, size_t rows);
    void (*free)(void *impl);
} bnn_net_ops;

typedef struct {
    const bnn_net_ops *ops;
    void *impl;              /* owned by the net */
    const bnn_mlp *mlp;      /* the MLP when the net is one (symmetries, alignment), else NULL */
    char kind[16];           /* "mlp", "cnn" */
    size_t n_inputs;         /* numbers per input row */
    size_t n_logits;         /* last-layer outputs */
    size_t n_outputs;        /* recorded predictive outputs per input */
    size_t n_params;
    size_t n_prior_groups;   /* values --prior-var may give, one per layer */
    bnn_likelihood lik;
    double noise_sd;
    size_t n_tensors;
    bnn_tensor tensors[BNN_NET_MAX_TENSORS];
} bnn_net;

/* Input shape: height × width × channels (HWC) for images; a plain row of n_inputs numbers is
 * height = width = 0, channels = n_inputs. */
typedef struct {
    size_t height, width, channels;
} bnn_input_shape;

/* Builds the network named by arch for the input shape and n_logits last-layer outputs. */
bnn_status bnn_net_create(bnn_net *net, const char *arch, bnn_input_shape in, size_t n_logits,
                          bnn_activation act, bnn_likelihood lik, double noise_sd);
void bnn_net_free(bnn_net *net);

/* Name of parameter i: tensor name and index, e.g. "layer0.w[3,17]". */
void bnn_net_param_name(const bnn_net *net, size_t i, char *buf, size_t len);

/* Appends a tensor to net (used by constructors). */
bnn_status bnn_net_add_tensor(bnn_net *net, const char *name, size_t ndim, const size_t *shape,
                              size_t prior_group, size_t fan_in, int is_bias);

#endif
