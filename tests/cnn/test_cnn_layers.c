/* Every CNN layer of src/nn/layers: analytic gradients (parameters and inputs) against central
 * finite differences in float64, the oneDNN convolutions against the reference in float32, and
 * max pooling (its unrolled 2x2 path too) against a naive first-maximum scan on data full of
 * ties, bit for bit. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/rng.h"
#include "nn/layers/conv_dnnl.h"
#include "nn/layers/layers.h"

#define SEED 20240611
#define N 2          /* images per check */
#define FD_STEP 1e-5 /* central difference step */
#define FD_TOL 1e-7  /* |fd - analytic| / max |analytic| of the tensor */
#define DNNL_TOL 1e-5 /* float32 oneDNN vs reference: |Δ| / max |reference| per array */
#define MAX_LEN 4096

enum kind { K_CONV, K_MAXPOOL, K_AVGPOOL, K_GAP, K_FRN, K_ACT, K_ADD, K_DENSE };

/* One layer under test; sizes of its parameters, input and output per batch of N images. */
struct layer_case {
    const char *name;
    enum kind kind;
    bnn_conv_shape conv;
    bnn_pool_shape pool;
    size_t h, w, c;          /* input image (GAP, FRN, ACT, ADD, DENSE: c = numbers per row) */
    size_t o;                /* DENSE outputs */
    bnn_activation act;
    size_t n_params, n_in, n_out;
};

static void case_sizes(struct layer_case *t)
{
    size_t img = t->h * t->w * t->c;
    t->n_in = N * img;
    switch (t->kind) {
    case K_CONV:
        t->n_params = t->conv.k * t->conv.k * t->conv.c * t->conv.o + t->conv.o;
        t->n_out = N * t->conv.oh * t->conv.ow * t->conv.o;
        break;
    case K_MAXPOOL:
    case K_AVGPOOL: t->n_params = 0; t->n_out = N * t->pool.oh * t->pool.ow * t->c; break;
    case K_GAP: t->n_params = 0; t->n_out = N * t->c; break;
    case K_FRN: t->n_params = 3 * t->c; t->n_out = t->n_in; break;
    case K_ACT: t->n_params = 0; t->n_out = t->n_in; break;
    case K_ADD: t->n_params = 0; t->n_in = 2 * N * img; t->n_out = N * img; break;
    case K_DENSE: t->n_params = img * t->o + t->o; t->n_out = N * t->o; break;
    }
}

static void forward(const struct layer_case *t, const double *p, const double *in, double *out,
                    double *col)
{
    size_t img = t->h * t->w * t->c;
    switch (t->kind) {
    case K_CONV:
        bnn_conv2d_forward_f64(out, in, p, p + t->n_params - t->conv.o, &t->conv, N, col);
        break;
    case K_MAXPOOL: bnn_maxpool_forward_f64(out, in, &t->pool, N); break;
    case K_AVGPOOL: bnn_avgpool_forward_f64(out, in, &t->pool, N); break;
    case K_GAP: bnn_gap_forward_f64(out, in, N, t->h * t->w, t->c); break;
    case K_FRN:
        bnn_frn_forward_f64(out, in, p, p + t->c, p + 2 * t->c, N, t->h * t->w, t->c);
        break;
    case K_ACT: bnn_act_forward_f64(t->act, out, in, t->n_in); break;
    case K_ADD: bnn_add_forward_f64(out, in, in + N * img, N * img); break;
    case K_DENSE: bnn_dense_forward_f64(out, in, p, p + img * t->o, N, img, t->o); break;
    }
}

/* dp, din += gradients of Σ out ⊙ r. */
static void backward(const struct layer_case *t, const double *p, const double *in,
                     const double *r, double *dp, double *din, double *col, double *out)
{
    size_t img = t->h * t->w * t->c;
    switch (t->kind) {
    case K_CONV:
        bnn_conv2d_backward_f64(din, dp, dp + t->n_params - t->conv.o, r, in, p, &t->conv, N, col);
        break;
    case K_MAXPOOL: bnn_maxpool_backward_f64(din, r, in, &t->pool, N); break;
    case K_AVGPOOL: bnn_avgpool_backward_f64(din, r, &t->pool, N); break;
    case K_GAP: bnn_gap_backward_f64(din, r, N, t->h * t->w, t->c); break;
    case K_FRN:
        bnn_frn_backward_f64(din, dp, dp + t->c, dp + 2 * t->c, r, in, p, p + t->c, p + 2 * t->c,
                             N, t->h * t->w, t->c);
        break;
    case K_ACT:
        forward(t, p, in, out, col);
        bnn_act_backward_f64(t->act, din, r, in, out, t->n_in);
        break;
    case K_ADD:
        bnn_add_backward_f64(din, r, N * img);
        bnn_add_backward_f64(din + N * img, r, N * img);
        break;
    case K_DENSE: bnn_dense_backward_f64(din, dp, dp + img * t->o, r, in, p, N, img, t->o); break;
    }
}

static double loss(const struct layer_case *t, const double *p, const double *in,
                   const double *r, double *out, double *col)
{
    forward(t, p, in, out, col);
    double s = 0;
    for (size_t i = 0; i < t->n_out; i++) s += out[i] * r[i];
    return s;
}

/* Largest scaled error of the analytic gradient g of the coordinates v (n) against central
 * differences of the loss. */
static double fd_error(const struct layer_case *t, double *p, double *in, double *v, size_t n,
                       const double *g, const double *r, double *out, double *col)
{
    double worst = 0, scale = 1e-12;
    for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs(g[i]));
    for (size_t i = 0; i < n; i++) {
        double keep = v[i];
        v[i] = keep + FD_STEP;
        double up = loss(t, p, in, r, out, col);
        v[i] = keep - FD_STEP;
        double down = loss(t, p, in, r, out, col);
        v[i] = keep;
        worst = fmax(worst, fabs((up - down) / (2 * FD_STEP) - g[i]) / scale);
    }
    return worst;
}

static void check_layer(struct layer_case *t)
{
    static double p[MAX_LEN], in[MAX_LEN], r[MAX_LEN], dp[MAX_LEN], din[MAX_LEN], out[MAX_LEN],
        col[MAX_LEN];
    case_sizes(t);
    assert_true(t->n_params <= MAX_LEN && t->n_in <= MAX_LEN && t->n_out <= MAX_LEN);
    bnn_rng rng;
    bnn_rng_init(&rng, SEED, (uint64_t)t->kind);
    bnn_rng_normals(&rng, p, t->n_params);
    bnn_rng_normals(&rng, in, t->n_in);
    bnn_rng_normals(&rng, r, t->n_out);
    memset(dp, 0, sizeof dp);
    memset(din, 0, sizeof din);
    backward(t, p, in, r, dp, din, col, out);
    double e_p = t->n_params ? fd_error(t, p, in, p, t->n_params, dp, r, out, col) : 0;
    double e_in = fd_error(t, p, in, in, t->n_in, din, r, out, col);
    int ok = e_p < FD_TOL && e_in < FD_TOL;
    printf("%s gradcheck %-12s params %.2e inputs %.2e (tol %.0e)\n", ok ? "ok" : "not ok",
           t->name, e_p, e_in, FD_TOL);
    assert_true(ok);
}

static bnn_conv_shape conv(size_t h, size_t c, size_t o, size_t k, size_t s, int same)
{
    bnn_conv_shape cs;
    bnn_conv_shape_init(&cs, h, h + 1, c, o, k, s, same);
    return cs;
}

static void test_layer_gradients(void **state)
{
    (void)state;
    struct layer_case cases[] = {
        {.name = "conv3_same", .kind = K_CONV, .conv = conv(5, 3, 4, 3, 1, 1)},
        {.name = "conv3_s2", .kind = K_CONV, .conv = conv(6, 2, 3, 3, 2, 1)},
        {.name = "conv5_valid", .kind = K_CONV, .conv = conv(7, 2, 3, 5, 1, 0)},
        {.name = "conv1x1_s2", .kind = K_CONV, .conv = conv(6, 3, 4, 1, 2, 1)},
        {.name = "maxpool2", .kind = K_MAXPOOL, .h = 6, .w = 5, .c = 3},
        {.name = "avgpool3", .kind = K_AVGPOOL, .h = 6, .w = 7, .c = 2},
        {.name = "gap", .kind = K_GAP, .h = 4, .w = 3, .c = 5},
        {.name = "frn", .kind = K_FRN, .h = 4, .w = 3, .c = 5},
        {.name = "swish", .kind = K_ACT, .h = 3, .w = 3, .c = 4, .act = BNN_ACT_SWISH},
        {.name = "tanh", .kind = K_ACT, .h = 3, .w = 3, .c = 4, .act = BNN_ACT_TANH},
        {.name = "residual_add", .kind = K_ADD, .h = 3, .w = 2, .c = 4},
        {.name = "dense", .kind = K_DENSE, .h = 2, .w = 3, .c = 2, .o = 5},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct layer_case *t = &cases[i];
        if (t->kind == K_CONV) {
            t->h = t->conv.h;
            t->w = t->conv.w;
            t->c = t->conv.c;
        }
        if (t->kind == K_MAXPOOL || t->kind == K_AVGPOOL) {
            size_t k = t->kind == K_MAXPOOL ? 2 : 3;
            t->pool = (bnn_pool_shape){.h = t->h, .w = t->w, .c = t->c, .k = k, .stride = k,
                                       .oh = (t->h - k) / k + 1, .ow = (t->w - k) / k + 1};
        }
        check_layer(t);
    }
}

/* Largest |a - b| / max |b| over n numbers. */
static double rel_diff(const float *a, const float *b, size_t n)
{
    double d = 0, s = 1e-30;
    for (size_t i = 0; i < n; i++) {
        d = fmax(d, fabs((double)a[i] - (double)b[i]));
        s = fmax(s, fabs((double)b[i]));
    }
    return d / s;
}

/* Forward and backward of one convolution by oneDNN and by the reference, float32. */
static int check_dnnl(bnn_dnnl *d, const char *name, bnn_conv_shape s, size_t n)
{
    size_t n_in = n * s.h * s.w * s.c, n_out = n * s.oh * s.ow * s.o, n_w = s.k * s.k * s.c * s.o;
    size_t total = 3 * (n_in + n_out + n_w + s.o) + bnn_conv_col_len(&s);
    float *buf = calloc(total, sizeof(float));
    double *tmp = malloc(total * sizeof(double));
    bnn_rng rng;
    bnn_rng_init(&rng, SEED, 99);
    bnn_rng_normals(&rng, tmp, total);
    float *in = buf, *g = in + n_in, *w = g + n_out, *b = w + n_w, *out_ref = b + s.o;
    float *out_dnnl = out_ref + n_out, *din_ref = out_dnnl + n_out, *din_dnnl = din_ref + n_in;
    float *dw_ref = din_dnnl + n_in, *dw_dnnl = dw_ref + n_w + s.o, *col = dw_dnnl + n_w + s.o;
    for (size_t i = 0; i < n_in + n_out + n_w + s.o; i++) buf[i] = (float)tmp[i];
    bnn_conv2d_forward_f32(out_ref, in, w, b, &s, n, col);
    bnn_conv2d_backward_f32(din_ref, dw_ref, dw_ref + n_w, g, in, w, &s, n, col);
    int rc = bnn_dnnl_conv_forward(d, &s, buf, n, out_dnnl, in, w, b) ||
             bnn_dnnl_conv_backward(d, &s, buf, n, din_dnnl, dw_dnnl, dw_dnnl + n_w, g, in, w);
    double e_out = rel_diff(out_dnnl, out_ref, n_out), e_in = rel_diff(din_dnnl, din_ref, n_in);
    double e_w = rel_diff(dw_dnnl, dw_ref, n_w + s.o);
    int ok = rc == 0 && e_out < DNNL_TOL && e_in < DNNL_TOL && e_w < DNNL_TOL;
    printf("%s dnnl %-12s out %.2e din %.2e dw,db %.2e (tol %.0e)\n", ok ? "ok" : "not ok",
           name, e_out, e_in, e_w, DNNL_TOL);
    free(buf);
    free(tmp);
    return ok;
}

static void test_dnnl_equals_reference(void **state)
{
    (void)state;
    bnn_dnnl *d;
    assert_int_equal(bnn_dnnl_alloc(&d), BNN_OK);
    int ok = check_dnnl(d, "conv3_same", conv(9, 3, 8, 3, 1, 1), 3);
    ok &= check_dnnl(d, "conv3_s2", conv(10, 4, 8, 3, 2, 1), 3);
    ok &= check_dnnl(d, "conv5_valid", conv(12, 2, 6, 5, 1, 0), 2);
    ok &= check_dnnl(d, "conv1x1_s2", conv(8, 16, 32, 1, 2, 1), 2);
    ok &= check_dnnl(d, "lenet_conv1", conv(28, 1, 6, 5, 1, 1), 2);
    ok &= check_dnnl(d, "lenet_conv2", conv(14, 6, 16, 5, 1, 0), 2);
    ok &= check_dnnl(d, "conv3_same_again", conv(9, 3, 8, 3, 1, 1), 3); /* cached primitives */
    bnn_dnnl_free(d);
    assert_true(ok);
}

/* Max pooling of in (n, h, w, c) by scanning each window in row order, a later number winning
 * only if larger (the rule PyTorch follows too): out, and g routed to the winners in din. */
#define NAIVE_MAXPOOL(REAL, SFX)                                                                 \
    static void naive_maxpool_##SFX(REAL *out, REAL *din, const REAL *g, const REAL *in,       \
                                    const bnn_pool_shape *p, size_t n)                         \
    {                                                                                          \
        for (size_t i = 0; i < n; i++)                                                         \
            for (size_t oy = 0; oy < p->oh; oy++)                                              \
                for (size_t ox = 0; ox < p->ow; ox++)                                          \
                    for (size_t ch = 0; ch < p->c; ch++) {                                     \
                        size_t best = SIZE_MAX;                                                \
                        for (size_t ky = 0; ky < p->k; ky++)                                   \
                            for (size_t kx = 0; kx < p->k; kx++) {                             \
                                size_t at = ((i * p->h + oy * p->stride + ky) * p->w +         \
                                             ox * p->stride + kx) * p->c + ch;                 \
                                if (best == SIZE_MAX || in[at] > in[best]) best = at;          \
                            }                                                                  \
                        size_t o = ((i * p->oh + oy) * p->ow + ox) * p->c + ch;                \
                        out[o] = in[best];                                                     \
                        din[best] += g[o];                                                     \
                    }                                                                          \
    }
NAIVE_MAXPOOL(float, f32)
NAIVE_MAXPOOL(double, f64)

/* Inputs from {-1, -0, +0, 0.5, 1} (windows with ties everywhere, as after a ReLU): the pooling
 * kernels must give the naive scan's maxima and gradients bit for bit. */
#define CHECK_MAXPOOL(REAL, SFX)                                                                \
    static int check_maxpool_##SFX(size_t h, size_t w, size_t c, size_t k, size_t stride)      \
    {                                                                                          \
        bnn_pool_shape p = {.h = h, .w = w, .c = c, .k = k, .stride = stride,                  \
                            .oh = (h - k) / stride + 1, .ow = (w - k) / stride + 1};           \
        const size_t n_in = N * h * w * c, n_out = N * p.oh * p.ow * c;                        \
        REAL *buf = calloc(3 * n_in + 3 * n_out, sizeof(REAL));                                \
        REAL *in = buf, *din = in + n_in, *din_ref = din + n_in, *g = din_ref + n_in;          \
        REAL *out = g + n_out, *out_ref = out + n_out;                                         \
        const REAL values[5] = {-1, (REAL)-0.0, 0, (REAL)0.5, 1};                              \
        bnn_rng rng;                                                                           \
        bnn_rng_init(&rng, SEED, 7);                                                           \
        for (size_t i = 0; i < n_in; i++) in[i] = values[(size_t)(5 * bnn_rng_uniform(&rng))]; \
        for (size_t i = 0; i < n_out; i++) g[i] = (REAL)(1 + i % 7);                           \
        bnn_maxpool_forward_##SFX(out, in, &p, N);                                             \
        bnn_maxpool_backward_##SFX(din, g, in, &p, N);                                         \
        naive_maxpool_##SFX(out_ref, din_ref, g, in, &p, N);                                   \
        int ok = !memcmp(out, out_ref, n_out * sizeof(REAL)) &&                                \
                 !memcmp(din, din_ref, n_in * sizeof(REAL));                                   \
        printf("%s maxpool %s %zux%zux%zu window %zu stride %zu\n", ok ? "ok" : "not ok",      \
               #SFX, h, w, c, k, stride);                                                      \
        free(buf);                                                                             \
        return ok;                                                                             \
    }
CHECK_MAXPOOL(float, f32)
CHECK_MAXPOOL(double, f64)

static void test_maxpool_ties(void **state)
{
    (void)state;
    int ok = 1;
    const size_t shapes[][5] = {{28, 28, 6, 2, 2},  {7, 9, 3, 2, 2},   {10, 10, 16, 2, 2},
                                {6, 8, 15, 2, 2},   {3, 4100, 1, 2, 2}, /* rows of 2 spans */
                                {7, 7, 5, 3, 2},    {6, 8, 2, 3, 3}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const size_t *s = shapes[i];
        ok &= check_maxpool_f32(s[0], s[1], s[2], s[3], s[4]);
        ok &= check_maxpool_f64(s[0], s[1], s[2], s[3], s[4]);
    }
    assert_true(ok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layer_gradients),
        cmocka_unit_test(test_dnnl_equals_reference),
        cmocka_unit_test(test_maxpool_ties),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
