/* Unit permutations and sign flips of an MLP's hidden layers, and the random symmetry move. */
#include "nn/symmetry.h"

int bnn_activation_is_odd(bnn_activation a) { return a == BNN_ACT_TANH || a == BNN_ACT_ERF; }

size_t bnn_mlp_n_hidden(const bnn_mlp *m) { return m->n_layers ? m->n_layers - 1 : 0; }

size_t bnn_mlp_max_hidden_width(const bnn_mlp *m)
{
    size_t h = 0;
    for (size_t l = 1; l < m->n_layers; l++) h = m->width[l] > h ? m->width[l] : h;
    return h;
}

/* Swaps units a and b of hidden layer l: columns of w_l, entries of b_l, rows of w_{l+1}. */
static void unit_swap(const bnn_mlp *m, size_t l, size_t a, size_t b, double *theta)
{
    size_t in = m->width[l], H = m->width[l + 1], out = m->width[l + 2];
    double *w = theta + m->w_offset[l], *bias = theta + m->b_offset[l];
    double *next = theta + m->w_offset[l + 1], t;
    for (size_t i = 0; i < in; i++) {
        t = w[i * H + a];
        w[i * H + a] = w[i * H + b];
        w[i * H + b] = t;
    }
    t = bias[a];
    bias[a] = bias[b];
    bias[b] = t;
    for (size_t o = 0; o < out; o++) {
        t = next[a * out + o];
        next[a * out + o] = next[b * out + o];
        next[b * out + o] = t;
    }
}

/* Negates unit j of hidden layer l: column j of w_l, b_l[j], row j of w_{l+1}. */
static void unit_negate(const bnn_mlp *m, size_t l, size_t j, double *theta)
{
    size_t in = m->width[l], H = m->width[l + 1], out = m->width[l + 2];
    double *w = theta + m->w_offset[l], *next = theta + m->w_offset[l + 1];
    for (size_t i = 0; i < in; i++) w[i * H + j] = -w[i * H + j];
    theta[m->b_offset[l] + j] = -theta[m->b_offset[l] + j];
    for (size_t o = 0; o < out; o++) next[j * out + o] = -next[j * out + o];
}

bnn_status bnn_mlp_permute_units(const bnn_mlp *m, size_t layer, const size_t *perm,
                                 double *theta)
{
    if (!m || !perm || !theta) return BNN_ERROR(BNN_EINVAL, "permute_units: NULL argument");
    if (layer + 1 >= m->n_layers)
        return BNN_ERROR(BNN_EINVAL, "permute_units: layer %zu is not a hidden layer (%zu)",
                         layer, bnn_mlp_n_hidden(m));
    size_t H = m->width[layer + 1];
    /* Walk each cycle once, from its smallest index (the leader), as a chain of swaps: after
     * swap(k, perm[k]) position k holds the old unit perm[k]. No scratch memory needed. */
    for (size_t i = 0; i < H; i++) {
        size_t j = perm[i];
        while (j > i) j = perm[j];
        if (j != i) continue; /* not the leader of its cycle */
        for (size_t k = i; perm[k] != i; k = perm[k]) unit_swap(m, layer, k, perm[k], theta);
    }
    return BNN_OK;
}

bnn_status bnn_mlp_flip_units(const bnn_mlp *m, size_t layer, const int8_t *sign, double *theta)
{
    if (!m || !sign || !theta) return BNN_ERROR(BNN_EINVAL, "flip_units: NULL argument");
    if (layer + 1 >= m->n_layers)
        return BNN_ERROR(BNN_EINVAL, "flip_units: layer %zu is not a hidden layer (%zu)", layer,
                         bnn_mlp_n_hidden(m));
    if (!bnn_activation_is_odd(m->act))
        return BNN_ERROR(BNN_EINVAL, "flip_units: activation %s is not odd",
                         bnn_activation_name(m->act));
    for (size_t j = 0; j < m->width[layer + 1]; j++)
        if (sign[j] < 0) unit_negate(m, layer, j, theta);
    return BNN_OK;
}

/* A uniform integer in [0, n) from one 32-bit word (multiply-shift; bias < n / 2^32). */
static size_t uniform_index(uint32_t word, size_t n)
{
    return (size_t)(((uint64_t)word * (uint64_t)n) >> 32);
}

bnn_status bnn_mlp_symmetry_move(const bnn_mlp *m, double *theta, double *grad, bnn_rng *rng,
                                 size_t *scratch)
{
    if (!m || !theta || !rng || (!scratch && bnn_mlp_n_hidden(m)))
        return BNN_ERROR(BNN_EINVAL, "symmetry_move: NULL argument");
    int odd = bnn_activation_is_odd(m->act);
    uint32_t words[4];
    size_t used = 4; /* words consumed from the current block */
    for (size_t l = 0; l + 1 < m->n_layers; l++) {
        size_t H = m->width[l + 1];
        for (size_t j = 0; j < H; j++) scratch[j] = j;
        for (size_t j = H; j-- > 1;) { /* Fisher-Yates: swap j with a uniform k in [0, j] */
            if (used == 4) {
                bnn_rng_block(rng, words);
                used = 0;
            }
            size_t k = uniform_index(words[used++], j + 1), t = scratch[j];
            scratch[j] = scratch[k];
            scratch[k] = t;
        }
        BNN_TRY(bnn_mlp_permute_units(m, l, scratch, theta));
        if (grad) BNN_TRY(bnn_mlp_permute_units(m, l, scratch, grad));
        for (size_t j = 0; odd && j < H; j += 32) { /* one word gives 32 signs */
            if (used == 4) {
                bnn_rng_block(rng, words);
                used = 0;
            }
            uint32_t bits = words[used++];
            for (size_t b = 0; b < 32 && j + b < H; b++)
                if (bits >> b & 1u) {
                    unit_negate(m, l, j + b, theta);
                    if (grad) unit_negate(m, l, j + b, grad);
                }
        }
    }
    return BNN_OK;
}
