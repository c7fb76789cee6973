/* MLP architecture parsing, parameter layout and names, and the precision dispatch of the
 * block kernels in mlp_kernels.inc. */
#include "nn/mlp.h"

#include "nn/activation.h"

#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The elementwise loops of the kernels (bias rows, bias gradients, outer products) are built for
 * AVX-512 and AVX2 too, chosen at load time; each number is computed the same way in every one. */
#define VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

#define REAL float
#define FN(name) name##_f32
#define GEMM cblas_sgemm
#define ACTIVATE bnn_activate_f32
#define ACTIVATE_BACKWARD bnn_activate_backward_f32
#include "nn/mlp_kernels.inc"
#undef REAL
#undef FN
#undef GEMM
#undef ACTIVATE
#undef ACTIVATE_BACKWARD

#define REAL double
#define FN(name) name##_f64
#define GEMM cblas_dgemm
#define ACTIVATE bnn_activate_f64
#define ACTIVATE_BACKWARD bnn_activate_backward_f64
#include "nn/mlp_kernels.inc"
#undef REAL
#undef FN
#undef GEMM
#undef ACTIVATE
#undef ACTIVATE_BACKWARD

static const char *const activation_names[] = {"tanh", "relu", "swish", "erf"};

bnn_status bnn_activation_parse(const char *name, bnn_activation *out)
{
    for (int i = 0; i < 4; i++)
        if (!strcmp(name, activation_names[i])) {
            *out = (bnn_activation)i;
            return BNN_OK;
        }
    return BNN_ERROR(BNN_EINVAL, "unknown activation '%s' (known: tanh, relu, swish, erf)", name);
}

const char *bnn_activation_name(bnn_activation a) { return activation_names[a]; }


/* Parses the hidden widths of "mlp:H1,H2,..." into m->width[1..]. */
static bnn_status parse_hidden(bnn_mlp *m, const char *arch)
{
    const char *p = arch + 4;
    for (;;) {
        char *end;
        errno = 0;
        unsigned long long h = strtoull(p, &end, 10);
        if (end == p || errno || h == 0 || h > 1000000 || *p == '-' || (*end && *end != ','))
            return BNN_ERROR(BNN_EINVAL,
                             "--arch '%s': hidden widths must be positive integers, as in "
                             "mlp:100 or mlp:100,100", arch);
        if (m->n_layers + 1 >= BNN_MLP_MAX_LAYERS)
            return BNN_ERROR(BNN_EINVAL, "--arch '%s': at most %d hidden layers", arch,
                             BNN_MLP_MAX_LAYERS - 1);
        m->width[++m->n_layers] = (size_t)h;
        if (!*end) return BNN_OK;
        p = end + 1;
    }
}

bnn_status bnn_mlp_init(bnn_mlp *m, const char *arch, size_t n_in, size_t n_out,
                        bnn_activation act, bnn_likelihood lik, double noise_sd)
{
    memset(m, 0, sizeof *m);
    m->width[0] = n_in;
    if (!strncmp(arch, "mlp:", 4)) {
        BNN_TRY(parse_hidden(m, arch));
    } else if (strcmp(arch, "linear") != 0) {
        return BNN_ERROR(BNN_EINVAL, "unknown --arch '%s' (known: linear, mlp:H1,H2,...)", arch);
    }
    m->width[++m->n_layers] = n_out;
    if (lik == BNN_LIK_GAUSSIAN && !(noise_sd > 0 && isfinite(noise_sd)))
        return BNN_ERROR(BNN_EINVAL, "--noise-sd must be positive and finite (got %g)", noise_sd);
    m->act = act;
    m->lik = lik;
    m->noise_sd = noise_sd;
    size_t off = 0;
    for (size_t l = 0; l < m->n_layers; l++) {
        m->w_offset[l] = off;
        off += m->width[l] * m->width[l + 1];
        m->b_offset[l] = off;
        off += m->width[l + 1];
    }
    m->n_params = off;
    return BNN_OK;
}

void bnn_mlp_param_name(const bnn_mlp *m, size_t i, char *buf, size_t len)
{
    for (size_t l = 0; l < m->n_layers; l++) {
        size_t o = m->width[l + 1];
        if (i < m->b_offset[l]) {
            size_t k = i - m->w_offset[l];
            snprintf(buf, len, "layer%zu.w[%zu,%zu]", l, k / o, k % o);
            return;
        }
        if (i < m->b_offset[l] + o) {
            snprintf(buf, len, "layer%zu.b[%zu]", l, i - m->b_offset[l]);
            return;
        }
    }
    snprintf(buf, len, "?");
}

size_t bnn_mlp_workspace_len(const bnn_mlp *m, size_t rows)
{
    size_t len = 0, max_width = 0;
    for (size_t l = 1; l <= m->n_layers; l++) {
        len += rows * m->width[l] * (l < m->n_layers ? 2 : 1);
        if (m->width[l] > max_width) max_width = m->width[l];
    }
    return len + 2 * rows * max_width;
}

double bnn_mlp_block_loglik(const bnn_mlp *m, bnn_precision prec, const void *theta,
                            const void *x, const double *y, size_t rows, void *grad, void *work)
{
    if (prec == BNN_F32) return block_loglik_f32(m, theta, x, y, rows, grad, work);
    return block_loglik_f64(m, theta, x, y, rows, grad, work);
}

void bnn_mlp_block_predict(const bnn_mlp *m, bnn_precision prec, const void *theta,
                           const void *x, size_t rows, double *out, void *work)
{
    if (prec == BNN_F32)
        block_predict_f32(m, theta, x, rows, out, work);
    else
        block_predict_f64(m, theta, x, rows, out, work);
}

size_t bnn_mlp_n_outputs(const bnn_mlp *m)
{
    return bnn_likelihood_n_outputs(m->lik, m->width[m->n_layers]);
}
