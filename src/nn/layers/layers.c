/* Convolution shapes and the precision instances of the reference layer kernels
 * (layers_kernels.inc). */
#include "nn/layers/layers.h"

#include <cblas.h>
#include <math.h>

#include "nn/activation.h"

void bnn_conv_shape_init(bnn_conv_shape *s, size_t h, size_t w, size_t c, size_t o, size_t k,
                         size_t stride, int same)
{
    *s = (bnn_conv_shape){.h = h, .w = w, .c = c, .o = o, .k = k, .stride = stride};
    if (same) {
        s->oh = (h + stride - 1) / stride;
        s->ow = (w + stride - 1) / stride;
        size_t need_h = (s->oh - 1) * stride + k, need_w = (s->ow - 1) * stride + k;
        s->pad_top = need_h > h ? (need_h - h) / 2 : 0;
        s->pad_left = need_w > w ? (need_w - w) / 2 : 0;
    } else {
        s->oh = h >= k ? (h - k) / stride + 1 : 0;
        s->ow = w >= k ? (w - k) / stride + 1 : 0;
    }
}

size_t bnn_conv_col_len(const bnn_conv_shape *s) { return s->oh * s->ow * s->k * s->k * s->c; }

#define REAL float
#define FN(name) name##_f32
#define GEMM cblas_sgemm
#define ACTIVATE bnn_activate_f32
#define ACTIVATE_BACKWARD bnn_activate_backward_f32
#include "nn/layers/layers_kernels.inc"
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
#include "nn/layers/layers_kernels.inc"
