/* Convolutional networks: a graph of layers (layers/layers.h) over one flat parameter block,
 * run block by block in micro-batches so that only a few rows' activations are alive at once.
 *
 * Architectures (--arch):
 *   lenet5        cnn:c6k5,m2,c16k5v,m2,d120,d84 (conv 6@5×5 "same" → act → max-pool 2 →
 *                 conv 16@5×5 valid → act → max-pool 2 → dense 120 → 84 → classes)
 *   resnet20-frn  cnn:c16f,r16,r16,r16,r32s2,r32,r32,r64s2,r64,r64,g (the paper's ResNet-20
 *                 with Filter Response Normalisation; swish by default, see
 *                 bnn_cnn_default_activation)
 *   cnn:SPEC      comma-separated layers, applied in order, then a dense layer to the classes:
 *     c<O>[k<K>][s<S>][v][f]  convolution to O channels, kernel K (default 3), stride S
 *                             (default 1), "same" padding (TensorFlow's) unless v (valid);
 *                             f adds FRN after it; then the activation
 *     r<O>[s<S>]              residual basic block: conv 3×3 (stride S) → FRN → act → conv 3×3
 *                             → FRN, plus the input (through conv 1×1 stride S → FRN when the
 *                             shape changes), then the activation
 *     m<K> | a<K>             max | average pooling, window and stride K
 *     g                       global average pooling
 *     d<H>                    dense layer of H units (images are flattened in HWC order), then
 *                             the activation
 * Convolution and dense layers have biases. Parameter tensors are named conv<i>.w (K,K,C,O),
 * conv<i>.b, frn<i>.gamma/.beta/.tau (C), dense<i>.w (I,O), dense<i>.b; each layer (conv, FRN,
 * dense) is its own prior group, in order. */
#ifndef BNN_NN_CNN_H
#define BNN_NN_CNN_H

#include <stddef.h>

#include "nn/layers/conv_dnnl.h"
#include "nn/layers/layers.h"
#include "nn/net.h"

#define BNN_CNN_MAX_NODES 256

typedef enum {
    BNN_CNN_CONV, BNN_CNN_FRN, BNN_CNN_ACT, BNN_CNN_MAXPOOL, BNN_CNN_AVGPOOL, BNN_CNN_GAP,
    BNN_CNN_ADD, BNN_CNN_DENSE
} bnn_cnn_op;

/* One layer: reads activation `in` (and `in2` for ADD), writes activation `out`; activation 0
 * is the input images. */
typedef struct {
    bnn_cnn_op op;
    size_t in, in2, out;
    bnn_conv_shape conv;  /* CONV */
    bnn_pool_shape pool;  /* MAXPOOL, AVGPOOL */
    size_t hw, c;         /* FRN, GAP: positions and channels of the input */
    size_t n_in, n_out;   /* DENSE: input and output widths */
    size_t p[3];          /* offsets in θ: w, b (CONV, DENSE); γ, β, τ (FRN) */
} bnn_cnn_node;

typedef struct {
    size_t n_nodes, n_acts;
    bnn_cnn_node node[BNN_CNN_MAX_NODES];
    size_t act_len[BNN_CNN_MAX_NODES + 1]; /* numbers per row of each activation */
    bnn_activation act;
    bnn_likelihood lik;
    double noise_sd;
    size_t n_params, n_inputs, n_logits;
    size_t max_col, max_conv_params, max_conv_in; /* for the workspace */
    bnn_dnnl *dnnl; /* oneDNN convolutions (float32), or NULL for the reference */
} bnn_cnn;

/* 1 if arch names a convolutional network ("lenet5", "resnet20-frn", "cnn:..."). */
int bnn_cnn_is_arch(const char *arch);

/* The activation to use for arch when the user gave none: swish for resnet20-frn (the
 * paper's model), otherwise `fallback` (the CLI's default). */
bnn_activation bnn_cnn_default_activation(const char *arch, bnn_activation fallback);

/* Builds the network (called by bnn_net_create, which has set the common fields of net). */
bnn_status bnn_cnn_net_create(bnn_net *net, const char *arch, bnn_input_shape in,
                              bnn_activation act);

/* Switches a CNN's float32 convolutions between oneDNN (on, the default) and the reference
 * kernels (for tests). Returns BNN_EINVAL if net is not a CNN. */
bnn_status bnn_cnn_use_dnnl(bnn_net *net, int on);

/* Rows processed together inside a block of `rows` rows (bounds the workspace). */
size_t bnn_cnn_micro_rows(const bnn_cnn *c, size_t rows);

#endif
