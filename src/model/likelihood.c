/* Categorical (softmax), Gaussian (fixed σ) and Bernoulli (logit) heads in float and double. */
#include "model/likelihood.h"

#include <math.h>
#include <string.h>

static const char *const likelihood_names[] = {"categorical", "gaussian", "bernoulli"};

bnn_status bnn_likelihood_parse(const char *name, bnn_likelihood *out)
{
    for (int i = 0; i < 3; i++)
        if (!strcmp(name, likelihood_names[i])) {
            *out = (bnn_likelihood)i;
            return BNN_OK;
        }
    return BNN_ERROR(BNN_EINVAL,
                     "unknown likelihood '%s' (known: categorical, gaussian, bernoulli)", name);
}

const char *bnn_likelihood_name(bnn_likelihood l) { return likelihood_names[l]; }

size_t bnn_likelihood_n_outputs(bnn_likelihood lik, size_t k)
{
    if (lik == BNN_LIK_CATEGORICAL) return k;
    return lik == BNN_LIK_BERNOULLI ? 2 : 1;
}

#define REAL float
#define FN(name) name##_f32
#include "model/likelihood_kernels.inc"
#undef REAL
#undef FN

#define REAL double
#define FN(name) name##_f64
#include "model/likelihood_kernels.inc"
