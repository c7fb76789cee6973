/* Benchmarks behind `bnnmc bench`: the full-batch log-posterior gradient and a whole leapfrog
 * step on synthetic data of a given shape, and the BLAS products of the same shapes (the
 * "hardware" reference). Times are medians over repetitions after warm-up.
 *
 * FLOP counting rule (MLPs): the matrix products the gradient performs, 2·N·I·O for each of
 * them, where a dense layer of I inputs and O outputs does three (forward, weight gradient,
 * input gradient) except the first, which needs no input gradient and does two. Activations,
 * biases, the likelihood head and the prior are not counted. CNNs: the same for their
 * convolutions (2·N·(OH·OW·O·K·K·C) per product) and dense layers; the layers reading the input
 * images do two products. */
#ifndef BNN_BENCH_BENCH_H
#define BNN_BENCH_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"
#include "core/status.h"
#include "nn/cnn.h"
#include "nn/net.h"

typedef struct {
    const char *arch;       /* any --arch bnn_net_create accepts */
    bnn_activation act;
    bnn_input_shape in;     /* plain rows: height = width = 0, channels = inputs */
    size_t n_classes;       /* last-layer outputs (1 for Gaussian and Bernoulli, 2 for
                               hetero-Gaussian) */
    bnn_likelihood lik;
    size_t n_rows;          /* synthetic training rows N */
    size_t n_threads;
    bnn_precision prec;
    size_t reps;            /* timed gradients (median over them) */
    size_t block_rows;      /* rows per gradient block, as `sample --block-rows`; 0: as sample
                             * chooses (bnn_run_default_block_rows) */
    size_t n_leapfrog;      /* leapfrog steps per timed HMC iteration; 0: not timed */
    int blas_reference;     /* also time the model's matrix products on all N rows */
    uint64_t seed;
    bnn_device device;      /* cpu, or cuda (bench_cuda.c: device-resident timings) */
    int tf32;               /* cuda: cuBLAS may use TF32 tensor cores */
    size_t chains;          /* cuda: K chains batched into the same kernels */
} bnn_bench_options;

typedef struct {
    double ms_per_grad;     /* median time of one full-batch log-posterior gradient */
    double ms_per_grad_min;
    double ms_per_leapfrog; /* median over HMC iterations of (iteration time / steps); 0 if not timed */
    double flops_per_grad;  /* by the rule above; 0 when the net is not counted */
    double gflops;          /* flops_per_grad / ms_per_grad; 0 when not counted */
    double ms_blas;         /* the model's products on N rows with BLAS at n_threads; 0 if none */
    size_t n_params;
    size_t block_rows;      /* the block size used */
    double max_rss_mb;      /* peak resident memory of the process after the timings above
                             * (before the BLAS reference), data included */
    double data_mb;         /* the synthetic inputs in the run's precision */
} bnn_bench_result;

/* MLP 784-100-10 tanh, categorical, N=60000, 2 threads, float32, 10 repetitions. */
void bnn_bench_defaults(bnn_bench_options *o);

bnn_status bnn_bench_run(const bnn_bench_options *o, bnn_bench_result *r);

/* bnn_bench_run for --device cuda: ms_per_grad is the wall time of the log-likelihood gradients
 * of K = chains chains batched into the same kernels (bnn_cuda_batch), θ and the gradients
 * staying on the device (as jax.jit times them); gflops counts all K. ms_per_leapfrog (K = 1
 * only) is that of a step of bnn_cuda_hmc_iterate (the whole trajectory on the device). CNNs:
 * K = 1 only (the backend refuses batches of them). */
bnn_status bnn_bench_run_cuda(const bnn_bench_options *o, bnn_bench_result *r);

/* FLOPs of one gradient of an MLP over `rows` rows, by the rule above. */
double bnn_bench_mlp_flops(const bnn_mlp *m, size_t rows);

/* The same for a CNN: 2·rows·(multiply-adds of each convolution or dense layer's forward
 * product) per product, three products per layer (forward, weight gradient, input gradient)
 * except for the layers reading the input images, which need no input gradient. Pooling,
 * normalisation, activations, additions and the likelihood are not counted. */
double bnn_bench_cnn_flops(const bnn_cnn *c, size_t rows);

/* Median time (ms) of C (m, n) = A (m, k) · B (k, n), row-major, with BLAS at n_threads, over
 * reps calls after one warm-up call. */
bnn_status bnn_bench_gemm(bnn_precision prec, size_t m, size_t n, size_t k, size_t n_threads,
                          size_t reps, double *ms);

#endif
