/* The CUDA backend (docs/gpu.md): an MLP's or a CNN's log-likelihood, gradient and predictions
 * on one GPU, behind the same vtable as the CPU backend, with the training data resident on the
 * device; and whole HMC trajectories on the device, of one chain or of K chains in lockstep.
 * Built with -DBNNMC_CUDA=ON; in a CPU-only build every function here returns BNN_EUNSUP with a
 * message saying so (src/backend/cuda_none.c).
 *
 * Numbers: θ crosses the interface as double and is used as float32 on the device; matrix
 * products run in cuBLAS float32 (exact, no TF32) unless tf32 is set; the log-likelihood is
 * summed in double in a fixed order, so a run on one GPU gives the same bits every time. */
#ifndef BNN_BACKEND_CUDA_H
#define BNN_BACKEND_CUDA_H

#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"
#include "nn/net.h"
#include "sample/hmc.h"

/* Number of CUDA devices present (0 in a CPU-only build or without a driver). */
int bnn_cuda_device_count(void);

/* "cuda" when the build has the CUDA backend, else "". For messages and run.json. */
const char *bnn_cuda_build(void);

/* Training inputs and targets (and prediction inputs) copied once to the device, shared by
 * every backend of the run. x_train (n_train, d); y_train (n_train); x_predict (n_predict, d)
 * or NULL. */
typedef struct bnn_cuda_data bnn_cuda_data;

bnn_status bnn_cuda_data_alloc(size_t d, const double *x_train, const double *y_train,
                               size_t n_train, const double *x_predict, size_t n_predict,
                               bnn_cuda_data **out);
void bnn_cuda_data_free(bnn_cuda_data *data);

/* A backend for one chain group on the device (net and data must outlive it): MLPs and CNNs
 * (nn/cnn.h); tf32 = 1 lets cuBLAS use TF32 tensor cores. A CNN runs over its rows in
 * micro-batches whose size depends on the net only (a 2 GiB workspace); the environment
 * variable BNNMC_CUDA_MICRO_ROWS=<rows>, read here, sets it instead (tests force several
 * micro-batches with it; the bits depend on it). */
bnn_status bnn_cuda_backend_alloc(const bnn_net *net, const bnn_cuda_data *data, int tf32,
                                  bnn_backend *out);

/* K chains batched into the same kernels: the first layer of the K chains is one wide SGEMM
 * with the shared training inputs, each later product one strided-batched SGEMM, the
 * elementwise kernels and the sums run over all chains at once. For many chains of a small
 * model, which one at a time leave the GPU idle. MLPs only: a CNN is refused (BNN_EUNSUP)
 * unless n_chains = 1. */
typedef struct bnn_cuda_batch bnn_cuda_batch;

bnn_status bnn_cuda_batch_alloc(const bnn_net *net, const bnn_cuda_data *data, size_t n_chains,
                                int tf32, bnn_cuda_batch **out);
void bnn_cuda_batch_free(bnn_cuda_batch *batch);

/* theta (K, P): the chains' parameters; loglik (K) and, if grad is not NULL, grad (K, P)
 * receive each chain's log-likelihood and its gradient. */
bnn_status bnn_cuda_batch_loglik_grad(bnn_cuda_batch *batch, const double *theta, double *grad,
                                      double *loglik);

/* Benchmark: ms[0..reps) receives the wall time of the K chains' gradients at theta (K, P),
 * θ and the gradients staying on the device (as jax.jit times them); after one untimed call. */
bnn_status bnn_cuda_batch_time(bnn_cuda_batch *batch, const double *theta, size_t reps,
                               double *ms);

/* Whole HMC iterations on the device for a backend from bnn_cuda_backend_alloc: the posterior
 * of bnn_posterior (prior variances per parameter, temperature) is uploaded once; each
 * iteration draws the momenta with the chain's Philox stream (the numbers bnn_hmc_iterate draws
 * on the CPU), runs the L leapfrog steps and the Metropolis test without copying anything but
 * scalars to the host. The state moves between host and device only in _set and _get. */
typedef struct bnn_cuda_hmc bnn_cuda_hmc;

/* prior_var (n_params): prior variance of each parameter; log_prior_norm its constant part. */
bnn_status bnn_cuda_hmc_alloc(bnn_backend backend, const double *prior_var, double log_prior_norm,
                              double temperature, const bnn_hmc_options *opt, bnn_cuda_hmc **out);
void bnn_cuda_hmc_free(bnn_cuda_hmc *h);

/* Uploads the state of s (θ, gradient, log density, M⁻¹, ε, RNG) to the device. */
bnn_status bnn_cuda_hmc_set(bnn_cuda_hmc *h, const bnn_hmc *s);

/* Downloads the device state into s (θ, gradient, log density, RNG counter). */
bnn_status bnn_cuda_hmc_get(const bnn_cuda_hmc *h, bnn_hmc *s);

/* One HMC iteration on the device: the same random numbers and the same decisions as
 * bnn_hmc_iterate up to floating-point differences of the gradient. */
bnn_status bnn_cuda_hmc_iterate(bnn_cuda_hmc *h, int metropolis, bnn_hmc_stats *st);

/* The same for the K chains of a batch, in lockstep: every leapfrog step of all chains is one
 * batched gradient; each chain keeps its own state, ε, step count and Philox stream, so chain c
 * takes the decisions it would take alone (up to the floating-point differences of a batched
 * product). A chain whose trajectory is over, or has stopped, stays put while the others go on. */
bnn_status bnn_cuda_hmc_batch_alloc(bnn_cuda_batch *batch, const double *prior_var,
                                    double log_prior_norm, double temperature,
                                    const bnn_hmc_options *opt, bnn_cuda_hmc **out);

/* Chains of the sampler (1 for bnn_cuda_hmc_alloc). */
size_t bnn_cuda_hmc_chains(const bnn_cuda_hmc *h);

/* bnn_cuda_hmc_set / _get for chain c of the sampler. */
bnn_status bnn_cuda_hmc_set_chain(bnn_cuda_hmc *h, size_t c, const bnn_hmc *s);
bnn_status bnn_cuda_hmc_get_chain(const bnn_cuda_hmc *h, size_t c, bnn_hmc *s);

/* The same for every chain c with active[c] != 0, s[c] its state (the others' device state
 * stays): one copy per array and run of consecutive active chains, through pinned memory, and
 * one synchronisation (the per-chain calls wait for each chain). */
bnn_status bnn_cuda_hmc_set_chains(bnn_cuda_hmc *h, const int *active, const bnn_hmc *const *s);
bnn_status bnn_cuda_hmc_get_chains(bnn_cuda_hmc *h, const int *active, bnn_hmc *const *s);

/* Predictive outputs at the device state θ of each chain c with want[c] != 0 into out[c]
 * (n_predict, n_outputs), for the backend's prediction rows: one forward pass of all K chains,
 * θ not copied from the host. */
bnn_status bnn_cuda_hmc_predict_chains(bnn_cuda_hmc *h, const int *want, double *const *out);

/* One HMC iteration of each chain c with active[c] != 0 (the others keep their state and draw
 * no random numbers), with a Metropolis test where metropolis[c] != 0; st[c] receives chain c's
 * statistics (active chains only). Which chains are active does not change the numbers of the
 * active ones: the products always run over all K chains. */
bnn_status bnn_cuda_hmc_iterate_chains(bnn_cuda_hmc *h, const int *active, const int *metropolis,
                                       bnn_hmc_stats *st);

#endif
