/* The CUDA backend's interface (backend/cuda.h) in a build without CUDA: no devices, and every
 * request a clear BNN_EUNSUP naming the build option. */
#include "backend/cuda.h"

#define NO_CUDA                                                                                \
    BNN_ERROR(BNN_EUNSUP, "--device cuda: this bnnmc was built without CUDA (configure with "  \
                          "-DBNNMC_CUDA=ON; see docs/gpu.md)")

int bnn_cuda_device_count(void) { return 0; }

const char *bnn_cuda_build(void) { return ""; }

bnn_status bnn_cuda_data_alloc(size_t d, const double *x_train, const double *y_train,
                               size_t n_train, const double *x_predict, size_t n_predict,
                               bnn_cuda_data **out)
{
    (void)d, (void)x_train, (void)y_train, (void)n_train, (void)x_predict, (void)n_predict;
    *out = NULL;
    return NO_CUDA;
}

void bnn_cuda_data_free(bnn_cuda_data *data) { (void)data; }

bnn_status bnn_cuda_backend_alloc(const bnn_net *net, const bnn_cuda_data *data, int tf32,
                                  bnn_backend *out)
{
    (void)net, (void)data, (void)tf32, (void)out;
    return NO_CUDA;
}

bnn_status bnn_cuda_batch_alloc(const bnn_net *net, const bnn_cuda_data *data, size_t n_chains,
                                int tf32, bnn_cuda_batch **out)
{
    (void)net, (void)data, (void)n_chains, (void)tf32;
    *out = NULL;
    return NO_CUDA;
}

void bnn_cuda_batch_free(bnn_cuda_batch *batch) { (void)batch; }

bnn_status bnn_cuda_batch_loglik_grad(bnn_cuda_batch *batch, const double *theta, double *grad,
                                      double *loglik)
{
    (void)batch, (void)theta, (void)grad, (void)loglik;
    return NO_CUDA;
}

bnn_status bnn_cuda_batch_time(bnn_cuda_batch *batch, const double *theta, size_t reps,
                               double *ms)
{
    (void)batch, (void)theta, (void)reps, (void)ms;
    return NO_CUDA;
}

bnn_status bnn_cuda_hmc_alloc(bnn_backend backend, const double *prior_var, double log_prior_norm,
                              double temperature, const bnn_hmc_options *opt, bnn_cuda_hmc **out)
{
    (void)backend, (void)prior_var, (void)log_prior_norm, (void)temperature, (void)opt;
    *out = NULL;
    return NO_CUDA;
}

void bnn_cuda_hmc_free(bnn_cuda_hmc *h) { (void)h; }

bnn_status bnn_cuda_hmc_set(bnn_cuda_hmc *h, const bnn_hmc *s)
{
    (void)h, (void)s;
    return NO_CUDA;
}

bnn_status bnn_cuda_hmc_get(const bnn_cuda_hmc *h, bnn_hmc *s)
{
    (void)h, (void)s;
    return NO_CUDA;
}

bnn_status bnn_cuda_hmc_iterate(bnn_cuda_hmc *h, int metropolis, bnn_hmc_stats *st)
{
    (void)h, (void)metropolis, (void)st;
    return NO_CUDA;
}

bnn_status bnn_cuda_hmc_batch_alloc(bnn_cuda_batch *batch, const double *prior_var,
                                    double log_prior_norm, double temperature,
                                    const bnn_hmc_options *opt, bnn_cuda_hmc **out)
{
    (void)batch, (void)prior_var, (void)log_prior_norm, (void)temperature, (void)opt;
    *out = NULL;
    return NO_CUDA;
}

size_t bnn_cuda_hmc_chains(const bnn_cuda_hmc *h)
{
    (void)h;
    return 0;
}

bnn_status bnn_cuda_hmc_set_chain(bnn_cuda_hmc *h, size_t c, const bnn_hmc *s)
{
    (void)h, (void)c, (void)s;
    return NO_CUDA;
}

bnn_status bnn_cuda_hmc_get_chain(const bnn_cuda_hmc *h, size_t c, bnn_hmc *s)
{
    (void)h, (void)c, (void)s;
    return NO_CUDA;
}

bnn_status bnn_cuda_hmc_set_chains(bnn_cuda_hmc *h, const int *active, const bnn_hmc *const *s)
{
    (void)h, (void)active, (void)s;
    return NO_CUDA;
}

bnn_status bnn_cuda_hmc_get_chains(bnn_cuda_hmc *h, const int *active, bnn_hmc *const *s)
{
    (void)h, (void)active, (void)s;
    return NO_CUDA;
}

bnn_status bnn_cuda_hmc_predict_chains(bnn_cuda_hmc *h, const int *want, double *const *out)
{
    (void)h, (void)want, (void)out;
    return NO_CUDA;
}

bnn_status bnn_cuda_hmc_iterate_chains(bnn_cuda_hmc *h, const int *active, const int *metropolis,
                                       bnn_hmc_stats *st)
{
    (void)h, (void)active, (void)metropolis, (void)st;
    return NO_CUDA;
}
