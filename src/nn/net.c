/* The network interface: tensor bookkeeping, parameter names, and the MLP adapter. */
#include "nn/net.h"

#include "nn/cnn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double mlp_loglik(const void *impl, bnn_precision prec, const void *theta, const void *x,
                         const double *y, size_t rows, void *grad, void *work)
{
    return bnn_mlp_block_loglik(impl, prec, theta, x, y, rows, grad, work);
}

static void mlp_predict(const void *impl, bnn_precision prec, const void *theta, const void *x,
                        size_t rows, double *out, void *work)
{
    bnn_mlp_block_predict(impl, prec, theta, x, rows, out, work);
}

static size_t mlp_workspace(const void *impl, size_t rows)
{
    return bnn_mlp_workspace_len(impl, rows);
}

static const bnn_net_ops mlp_ops = {.block_loglik = mlp_loglik, .block_predict = mlp_predict,
                                    .workspace_len = mlp_workspace, .free = free};

bnn_status bnn_net_add_tensor(bnn_net *net, const char *name, size_t ndim, const size_t *shape,
                              size_t prior_group, size_t fan_in, int is_bias)
{
    if (net->n_tensors == BNN_NET_MAX_TENSORS || ndim > 4)
        return BNN_ERROR(BNN_EINVAL, "network too large: more than %d parameter tensors",
                         BNN_NET_MAX_TENSORS);
    bnn_tensor *t = &net->tensors[net->n_tensors++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->offset = net->n_params;
    t->ndim = ndim;
    t->size = 1;
    for (size_t i = 0; i < ndim; i++) {
        t->shape[i] = shape[i];
        t->size *= shape[i];
    }
    t->prior_group = prior_group;
    t->fan_in = fan_in;
    t->is_bias = is_bias;
    net->n_params += t->size;
    if (prior_group + 1 > net->n_prior_groups) net->n_prior_groups = prior_group + 1;
    return BNN_OK;
}

/* The MLP's tensors, in the layout of mlp.h. */
static bnn_status mlp_tensors(bnn_net *net, const bnn_mlp *m)
{
    for (size_t l = 0; l < m->n_layers; l++) {
        char name[32];
        size_t w_shape[2] = {m->width[l], m->width[l + 1]};
        snprintf(name, sizeof name, "layer%zu.w", l);
        BNN_TRY(bnn_net_add_tensor(net, name, 2, w_shape, l, m->width[l], 0));
        snprintf(name, sizeof name, "layer%zu.b", l);
        BNN_TRY(bnn_net_add_tensor(net, name, 1, &m->width[l + 1], l, m->width[l], 1));
    }
    return BNN_OK;
}

bnn_status bnn_net_create(bnn_net *net, const char *arch, bnn_input_shape in, size_t n_logits,
                          bnn_activation act, bnn_likelihood lik, double noise_sd)
{
    memset(net, 0, sizeof *net);
    if (lik != BNN_LIK_CATEGORICAL && n_logits != bnn_likelihood_n_logits(lik, n_logits))
        return BNN_ERROR(BNN_EINVAL, "--likelihood %s needs %zu last-layer outputs, not %zu",
                         bnn_likelihood_name(lik), bnn_likelihood_n_logits(lik, n_logits),
                         n_logits);
    net->n_inputs = in.channels * (in.height ? in.height : 1) * (in.width ? in.width : 1);
    net->n_logits = n_logits;
    net->n_outputs = bnn_likelihood_n_outputs(lik, n_logits);
    net->lik = lik;
    net->noise_sd = noise_sd;
    if (!strcmp(arch, "linear") || !strncmp(arch, "mlp:", 4)) {
        bnn_mlp *m = malloc(sizeof *m);
        if (!m) return BNN_ERROR(BNN_ENOMEM, "out of memory");
        bnn_status s = bnn_mlp_init(m, arch, net->n_inputs, n_logits, act, lik, noise_sd);
        if (s != BNN_OK) {
            free(m);
            return s;
        }
        net->ops = &mlp_ops;
        net->impl = m;
        net->mlp = m;
        snprintf(net->kind, sizeof net->kind, "mlp");
        s = mlp_tensors(net, m);
        if (s != BNN_OK) bnn_net_free(net);
        return s;
    }
    if (bnn_cnn_is_arch(arch)) return bnn_cnn_net_create(net, arch, in, act);
    return BNN_ERROR(BNN_EINVAL, "unknown --arch '%s' (known: linear, mlp:H1,H2,..., lenet5, "
                     "resnet20-frn, cnn:SPEC)", arch);
}

void bnn_net_free(bnn_net *net)
{
    if (net->ops && net->ops->free) net->ops->free(net->impl);
    net->ops = NULL;
    net->impl = NULL;
    net->mlp = NULL;
}

void bnn_net_param_name(const bnn_net *net, size_t i, char *buf, size_t len)
{
    for (size_t k = 0; k < net->n_tensors; k++) {
        const bnn_tensor *t = &net->tensors[k];
        if (i < t->offset || i >= t->offset + t->size) continue;
        size_t rest = i - t->offset, idx[4];
        for (size_t d = t->ndim; d-- > 0;) {
            idx[d] = rest % t->shape[d];
            rest /= t->shape[d];
        }
        int n = snprintf(buf, len, "%s[", t->name);
        for (size_t d = 0; d < t->ndim && n > 0 && (size_t)n < len; d++)
            n += snprintf(buf + n, len - (size_t)n, d ? ",%zu" : "%zu", idx[d]);
        if (n > 0 && (size_t)n < len) snprintf(buf + n, len - (size_t)n, "]");
        return;
    }
    snprintf(buf, len, "?");
}
