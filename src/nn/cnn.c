/* Convolutional networks: the architecture spec parser, the layer graph with its parameter
 * tensors, the workspace size, and the precision dispatch of the kernels in cnn_kernels.inc. */
#include "nn/cnn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REAL float
#define FN(name) name##_f32
#define SFX(name) name##_f32
#define LIK_BLOCK bnn_likelihood_block_f32
#define LIK_PREDICT bnn_likelihood_predict_f32
#define USE_DNNL 1
#include "nn/cnn_kernels.inc"
#undef REAL
#undef FN
#undef SFX
#undef LIK_BLOCK
#undef LIK_PREDICT
#undef USE_DNNL

#define REAL double
#define FN(name) name##_f64
#define SFX(name) name##_f64
#define LIK_BLOCK bnn_likelihood_block_f64
#define LIK_PREDICT bnn_likelihood_predict_f64
#define USE_DNNL 0
#include "nn/cnn_kernels.inc"

#define LENET5_SPEC "c6k5,m2,c16k5v,m2,d120,d84"
#define RESNET20_FRN_SPEC "c16f,r16,r16,r16,r32s2,r32,r32,r64s2,r64,r64,g"
#define MICRO_BUDGET ((size_t)1 << 23) /* numbers of activations per micro-batch (soft cap) */

int bnn_cnn_is_arch(const char *arch)
{
    return !strcmp(arch, "lenet5") || !strcmp(arch, "resnet20-frn") || !strncmp(arch, "cnn:", 4);
}

bnn_activation bnn_cnn_default_activation(const char *arch, bnn_activation fallback)
{
    return !strcmp(arch, "resnet20-frn") ? BNN_ACT_SWISH : fallback;
}

/* State of the graph under construction. */
struct builder {
    bnn_cnn *c;
    bnn_net *net;
    const char *arch;       /* for messages */
    size_t cur;             /* activation the next layer reads */
    size_t h[BNN_CNN_MAX_NODES + 1], w[BNN_CNN_MAX_NODES + 1], ch[BNN_CNN_MAX_NODES + 1];
    size_t group, n_conv, n_frn, n_dense;
};

/* Appends a node reading b->cur and a new activation of shape (h, w, ch); NULL if full. */
static bnn_cnn_node *add_node(struct builder *b, bnn_cnn_op op, size_t h, size_t w, size_t ch)
{
    bnn_cnn *c = b->c;
    if (c->n_nodes == BNN_CNN_MAX_NODES) return NULL;
    bnn_cnn_node *nd = &c->node[c->n_nodes++];
    memset(nd, 0, sizeof *nd);
    nd->op = op;
    nd->in = b->cur;
    nd->out = c->n_acts++;
    b->h[nd->out] = h;
    b->w[nd->out] = w;
    b->ch[nd->out] = ch;
    c->act_len[nd->out] = h * w * ch;
    b->cur = nd->out;
    return nd;
}

static bnn_status too_many(const struct builder *b)
{
    return BNN_ERROR(BNN_EINVAL, "--arch '%s': more than %d layers", b->arch, BNN_CNN_MAX_NODES);
}

static bnn_status add_act(struct builder *b)
{
    size_t i = b->cur;
    return add_node(b, BNN_CNN_ACT, b->h[i], b->w[i], b->ch[i]) ? BNN_OK : too_many(b);
}

static bnn_status add_conv(struct builder *b, size_t o, size_t k, size_t stride, int same)
{
    size_t i = b->cur;
    bnn_conv_shape s;
    bnn_conv_shape_init(&s, b->h[i], b->w[i], b->ch[i], o, k, stride, same);
    if (!s.oh || !s.ow)
        return BNN_ERROR(BNN_EINVAL, "--arch '%s': a %zux%zu valid convolution does not fit a "
                         "%zux%zu input", b->arch, k, k, b->h[i], b->w[i]);
    bnn_cnn_node *nd = add_node(b, BNN_CNN_CONV, s.oh, s.ow, o);
    if (!nd) return too_many(b);
    nd->conv = s;
    char name[32];
    size_t w_shape[4] = {k, k, s.c, o}, fan_in = k * k * s.c;
    nd->p[0] = b->net->n_params;
    snprintf(name, sizeof name, "conv%zu.w", b->n_conv);
    BNN_TRY(bnn_net_add_tensor(b->net, name, 4, w_shape, b->group, fan_in, 0));
    nd->p[1] = b->net->n_params;
    snprintf(name, sizeof name, "conv%zu.b", b->n_conv++);
    BNN_TRY(bnn_net_add_tensor(b->net, name, 1, &o, b->group++, fan_in, 1));
    size_t col = bnn_conv_col_len(&s), params = fan_in * o + o, in_len = b->c->act_len[i];
    if (col > b->c->max_col) b->c->max_col = col;
    if (params > b->c->max_conv_params) b->c->max_conv_params = params;
    if (in_len > b->c->max_conv_in) b->c->max_conv_in = in_len;
    return BNN_OK;
}

static bnn_status add_frn(struct builder *b)
{
    size_t i = b->cur, c = b->ch[i];
    bnn_cnn_node *nd = add_node(b, BNN_CNN_FRN, b->h[i], b->w[i], c);
    if (!nd) return too_many(b);
    nd->hw = b->h[i] * b->w[i];
    nd->c = c;
    static const char *const part[3] = {"gamma", "beta", "tau"};
    for (int k = 0; k < 3; k++) {
        char name[32];
        snprintf(name, sizeof name, "frn%zu.%s", b->n_frn, part[k]);
        nd->p[k] = b->net->n_params;
        BNN_TRY(bnn_net_add_tensor(b->net, name, 1, &c, b->group, 1, k > 0));
    }
    b->n_frn++;
    b->group++;
    return BNN_OK;
}

static bnn_status add_pool(struct builder *b, int max, size_t k)
{
    size_t i = b->cur;
    if (k > b->h[i] || k > b->w[i])
        return BNN_ERROR(BNN_EINVAL, "--arch '%s': pooling window %zu larger than the %zux%zu "
                         "input", b->arch, k, b->h[i], b->w[i]);
    bnn_pool_shape p = {.h = b->h[i], .w = b->w[i], .c = b->ch[i], .k = k, .stride = k};
    p.oh = (p.h - k) / k + 1;
    p.ow = (p.w - k) / k + 1;
    bnn_cnn_node *nd = add_node(b, max ? BNN_CNN_MAXPOOL : BNN_CNN_AVGPOOL, p.oh, p.ow, p.c);
    if (!nd) return too_many(b);
    nd->pool = p;
    return BNN_OK;
}

static bnn_status add_gap(struct builder *b)
{
    size_t i = b->cur;
    bnn_cnn_node *nd = add_node(b, BNN_CNN_GAP, 1, 1, b->ch[i]);
    if (!nd) return too_many(b);
    nd->hw = b->h[i] * b->w[i];
    nd->c = b->ch[i];
    return BNN_OK;
}

/* Dense layer on the flattened input (HWC order); no activation. */
static bnn_status add_dense(struct builder *b, size_t o)
{
    size_t n_in = b->c->act_len[b->cur];
    bnn_cnn_node *nd = add_node(b, BNN_CNN_DENSE, 1, 1, o);
    if (!nd) return too_many(b);
    nd->n_in = n_in;
    nd->n_out = o;
    char name[32];
    size_t w_shape[2] = {n_in, o};
    nd->p[0] = b->net->n_params;
    snprintf(name, sizeof name, "dense%zu.w", b->n_dense);
    BNN_TRY(bnn_net_add_tensor(b->net, name, 2, w_shape, b->group, n_in, 0));
    nd->p[1] = b->net->n_params;
    snprintf(name, sizeof name, "dense%zu.b", b->n_dense++);
    return bnn_net_add_tensor(b->net, name, 1, &o, b->group++, n_in, 1);
}

/* Residual basic block of the paper's ResNet-20-FRN (bnn_hmc's make_resnet_fn). */
static bnn_status add_res_block(struct builder *b, size_t o, size_t stride)
{
    size_t x = b->cur;
    BNN_TRY(add_conv(b, o, 3, stride, 1));
    BNN_TRY(add_frn(b));
    BNN_TRY(add_act(b));
    BNN_TRY(add_conv(b, o, 3, 1, 1));
    BNN_TRY(add_frn(b));
    size_t y = b->cur, shortcut = x;
    if (stride != 1 || b->ch[x] != o) {
        b->cur = x;
        BNN_TRY(add_conv(b, o, 1, stride, 1));
        BNN_TRY(add_frn(b));
        shortcut = b->cur;
    }
    b->cur = shortcut;
    bnn_cnn_node *nd = add_node(b, BNN_CNN_ADD, b->h[y], b->w[y], o);
    if (!nd) return too_many(b);
    nd->in2 = y;
    return add_act(b);
}

/* A positive integer (at most 65536) at *p; advances *p. Returns 0 on success. */
static int read_size(const char **p, size_t *out)
{
    char *end;
    if (**p < '0' || **p > '9') return -1;
    errno = 0;
    unsigned long v = strtoul(*p, &end, 10);
    if (errno || v == 0 || v > 65536) return -1;
    *p = end;
    *out = v;
    return 0;
}

/* c<O>[k<K>][s<S>][v][f]: returns 0 and fills the fields, or -1 if malformed. */
static int parse_conv(const char *p, size_t *o, size_t *k, size_t *s, int *same, int *frn)
{
    *k = 3;
    *s = 1;
    *same = 1;
    *frn = 0;
    if (read_size(&p, o)) return -1;
    if (*p == 'k' && (p++, read_size(&p, k))) return -1;
    if (*p == 's' && (p++, read_size(&p, s))) return -1;
    if (*p == 'v') *same = 0, p++;
    if (*p == 'f') *frn = 1, p++;
    return *p ? -1 : 0;
}

/* One layer token of a cnn: spec. */
static bnn_status parse_token(struct builder *b, const char *tok)
{
    const char *p = tok + 1;
    size_t n, k, s;
    int same, frn;
    switch (tok[0]) {
    case 'c':
        if (parse_conv(p, &n, &k, &s, &same, &frn)) break;
        BNN_TRY(add_conv(b, n, k, s, same));
        if (frn) BNN_TRY(add_frn(b));
        return add_act(b);
    case 'r':
        s = 1;
        if (read_size(&p, &n) || (*p == 's' && (p++, read_size(&p, &s))) || *p) break;
        return add_res_block(b, n, s);
    case 'm':
    case 'a':
        if (read_size(&p, &k) || *p) break;
        return add_pool(b, tok[0] == 'm', k);
    case 'g':
        if (*p) break;
        return add_gap(b);
    case 'd':
        if (read_size(&p, &n) || *p) break;
        BNN_TRY(add_dense(b, n));
        return add_act(b);
    }
    return BNN_ERROR(BNN_EINVAL, "--arch '%s': cannot read layer '%s' (layers: c<O>[k<K>][s<S>]"
                     "[v][f], r<O>[s<S>], m<K>, a<K>, g, d<H>; see bnnmc sample --help)",
                     b->arch, tok);
}

static bnn_status parse_spec(struct builder *b, const char *spec)
{
    char tok[64];
    for (const char *p = spec;;) {
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= sizeof tok)
            return BNN_ERROR(BNN_EINVAL, "--arch '%s': empty or overlong layer", b->arch);
        memcpy(tok, p, len);
        tok[len] = '\0';
        BNN_TRY(parse_token(b, tok));
        if (!p[len]) return BNN_OK;
        p += len + 1;
    }
}

size_t bnn_cnn_micro_rows(const bnn_cnn *c, size_t rows)
{
    size_t per_row = 0;
    for (size_t i = 1; i < c->n_acts; i++) per_row += 2 * c->act_len[i];
    per_row += c->max_conv_in;
    size_t m = per_row ? MICRO_BUDGET / per_row : rows;
    if (m < 1) m = 1;
    return m < rows ? m : rows;
}

static size_t cnn_workspace(const void *impl, size_t rows)
{
    const bnn_cnn *c = impl;
    size_t m = bnn_cnn_micro_rows(c, rows), len = c->max_col + c->max_conv_params;
    for (size_t i = 1; i < c->n_acts; i++) len += 2 * m * c->act_len[i];
    return len + m * c->max_conv_in + 1;
}

static double cnn_loglik(const void *impl, bnn_precision prec, const void *theta, const void *x,
                         const double *y, size_t rows, void *grad, void *work)
{
    if (prec == BNN_F32) return block_loglik_f32(impl, theta, x, y, rows, grad, work);
    return block_loglik_f64(impl, theta, x, y, rows, grad, work);
}

static void cnn_predict(const void *impl, bnn_precision prec, const void *theta, const void *x,
                        size_t rows, double *out, void *work)
{
    if (prec == BNN_F32)
        block_predict_f32(impl, theta, x, rows, out, work);
    else
        block_predict_f64(impl, theta, x, rows, out, work);
}

static void cnn_free(void *impl)
{
    bnn_cnn *c = impl;
    if (!c) return;
    bnn_dnnl_free(c->dnnl);
    free(c);
}

static const bnn_net_ops cnn_ops = {.block_loglik = cnn_loglik, .block_predict = cnn_predict,
                                    .workspace_len = cnn_workspace, .free = cnn_free};

static const char *expand_arch(const char *arch)
{
    if (!strcmp(arch, "lenet5")) return LENET5_SPEC;
    if (!strcmp(arch, "resnet20-frn")) return RESNET20_FRN_SPEC;
    return arch + 4; /* "cnn:" */
}

bnn_status bnn_cnn_net_create(bnn_net *net, const char *arch, bnn_input_shape in,
                              bnn_activation act)
{
    if (!in.height || !in.width || !in.channels)
        return BNN_ERROR(BNN_EINVAL, "--arch %s needs images (height x width x channels); the "
                         "data have plain rows of %zu numbers", arch, in.channels);
    struct builder *b = calloc(1, sizeof *b);
    bnn_cnn *c = calloc(1, sizeof *c);
    if (!b || !c) {
        free(b);
        free(c);
        return BNN_ERROR(BNN_ENOMEM, "out of memory for the network");
    }
    *b = (struct builder){.c = c, .net = net, .arch = arch};
    b->h[0] = in.height;
    b->w[0] = in.width;
    b->ch[0] = in.channels;
    c->n_acts = 1;
    c->act_len[0] = in.height * in.width * in.channels;
    c->act = act;
    c->lik = net->lik;
    c->noise_sd = net->noise_sd;
    c->n_inputs = net->n_inputs;
    c->n_logits = net->n_logits;
    net->ops = &cnn_ops;
    net->impl = c;
    snprintf(net->kind, sizeof net->kind, "cnn");
    bnn_status s = parse_spec(b, expand_arch(arch));
    if (s == BNN_OK) s = add_dense(b, net->n_logits);
    if (s == BNN_OK) s = bnn_dnnl_alloc(&c->dnnl);
    c->n_params = net->n_params;
    free(b);
    if (s != BNN_OK) bnn_net_free(net);
    return s;
}

bnn_status bnn_cnn_use_dnnl(bnn_net *net, int on)
{
    if (strcmp(net->kind, "cnn") != 0) return BNN_ERROR(BNN_EINVAL, "not a CNN");
    bnn_cnn *c = net->impl;
    if (!on) {
        bnn_dnnl_free(c->dnnl);
        c->dnnl = NULL;
        return BNN_OK;
    }
    return c->dnnl ? BNN_OK : bnn_dnnl_alloc(&c->dnnl);
}
