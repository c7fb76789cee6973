/* Categorical (softmax), Gaussian (fixed σ), Bernoulli (logit) and heteroscedastic Gaussian
 * (mean and softplus σ) heads in float and double. */
#include "model/likelihood.h"

#include <math.h>
#include <string.h>

static const char *const likelihood_names[] = {"categorical", "gaussian", "bernoulli",
                                               "hetero-gaussian"};
#define N_LIKELIHOODS (sizeof likelihood_names / sizeof likelihood_names[0])

bnn_status bnn_likelihood_parse(const char *name, bnn_likelihood *out)
{
    for (size_t i = 0; i < N_LIKELIHOODS; i++)
        if (!strcmp(name, likelihood_names[i])) {
            *out = (bnn_likelihood)i;
            return BNN_OK;
        }
    return BNN_ERROR(BNN_EINVAL, "unknown likelihood '%s' (known: categorical, gaussian, "
                                 "bernoulli, hetero-gaussian)", name);
}

const char *bnn_likelihood_name(bnn_likelihood l) { return likelihood_names[l]; }

int bnn_likelihood_is_regression(bnn_likelihood lik)
{
    return lik == BNN_LIK_GAUSSIAN || lik == BNN_LIK_HETERO_GAUSSIAN;
}

size_t bnn_likelihood_n_logits(bnn_likelihood lik, size_t n_classes)
{
    if (lik == BNN_LIK_CATEGORICAL) return n_classes;
    return lik == BNN_LIK_HETERO_GAUSSIAN ? 2 : 1;
}

size_t bnn_likelihood_n_outputs(bnn_likelihood lik, size_t k)
{
    if (lik == BNN_LIK_CATEGORICAL) return k;
    return lik == BNN_LIK_BERNOULLI || lik == BNN_LIK_HETERO_GAUSSIAN ? 2 : 1;
}

/* σ = softplus(s) + floor, without overflow for large |s|. */
static double hetero_sd(double s)
{
    return (s > 0 ? s : 0) + log1p(exp(-fabs(s))) + BNN_LIK_SD_FLOOR;
}

#define REAL float
#define FN(name) name##_f32
#include "model/likelihood_kernels.inc"
#undef REAL
#undef FN

#define REAL double
#define FN(name) name##_f64
#include "model/likelihood_kernels.inc"
