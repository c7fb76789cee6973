/* Elementwise activations and their derivatives, in float and double. This is the one file
 * built for vector math: its loops call glibc's libmvec (SIMD tanh, exp, erf), with an AVX-512
 * or AVX2 clone chosen at load time where the processor has it. */
#ifndef BNN_NN_ACTIVATION_H
#define BNN_NN_ACTIVATION_H

#include <stddef.h>

#include "nn/mlp.h"

/* a := act(z), elementwise over n numbers. */
void bnn_activate_f32(bnn_activation act, float *a, const float *z, size_t n);
void bnn_activate_f64(bnn_activation act, double *a, const double *z, size_t n);

/* g *= act'(z), elementwise; a = act(z) (used for the tanh derivative 1 - a²). */
void bnn_activate_backward_f32(bnn_activation act, float *g, const float *z, const float *a,
                               size_t n);
void bnn_activate_backward_f64(bnn_activation act, double *g, const double *z, const double *a,
                               size_t n);

#endif
