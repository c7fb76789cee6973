/* A sampling run: K chains of HMC or NUTS on one data set, run concurrently by chain groups (each group
 * a thread team over the data blocks), recorded into a run directory. The caller starts a run,
 * polls its progress as often as it likes, and finishes it (STYLE.md 4: no callbacks). */
#ifndef BNN_SAMPLE_RUN_H
#define BNN_SAMPLE_RUN_H

#include <stdint.h>

#include "data/dataset.h"
#include "model/posterior.h"
#include "nn/net.h"
#include "sample/hmc.h"

typedef enum {
    BNN_SAMPLER_HMC,  /* static HMC: L = ceil(τ/ε) leapfrog steps, Metropolis correction */
    BNN_SAMPLER_NUTS  /* the No-U-Turn sampler (sample/nuts.h) */
} bnn_sampler;

typedef struct {
    /* model */
    char arch[256];           /* "linear" or "mlp:H1,H2,..." */
    bnn_activation act;
    bnn_likelihood lik;
    double noise_sd;          /* Gaussian likelihood σ */
    bnn_prior_options prior;
    bnn_precision precision;
    /* sampler */
    bnn_sampler sampler;
    bnn_hmc_options hmc;      /* NUTS uses step_size, jitter and max_energy_error */
    size_t max_depth;         /* NUTS: at most 2^max_depth - 1 leapfrog steps per iteration */
    size_t chains;
    size_t burn_in;           /* first iterations: no Metropolis correction (NUTS: ordinary
                                 transitions), no adaptation */
    size_t warmup;            /* then: adaptation of ε and the mass matrix */
    size_t samples;           /* then: recorded draws */
    size_t thin;              /* weights are recorded every thin-th sampling iteration */
    int metropolis;           /* 0: never correct (--no-mh; HMC only) */
    double target_accept;     /* dual-averaging target */
    int adapt_step_size;
    int adapt_mass;
    double init_scale;        /* θ₀ = init_scale × a draw from the prior */
    size_t superchains;       /* > 1: chains c·S/K.. share θ₀ in S groups (nested R-hat) */
    int symmetry_moves;       /* after each iteration, permute (and flip) hidden units at random */
    char init_from[1024];     /* "" or a complete run of the same architecture: chain k starts
                                 at the final weights of its chain k mod K (store/init_source.h)
                                 instead of a prior draw */
    uint64_t seed;
    /* execution and recording */
    size_t threads;
    bnn_device device;        /* --device: cpu, or cuda (MLPs, float32; docs/gpu.md) */
    int tf32;                 /* --tf32: cuBLAS may use TF32 tensor cores (cuda only) */
    size_t block_rows;        /* rows per data block of the gradient sum (fixes the sum order);
                                 0: bnn_run_default_block_rows(parameters), written to run.json */
    size_t data_shards;       /* blocks are summed in this many fixed shards, then shards in
                                 order: any number of MPI ranks up to it gives the same bits */
    size_t rank_groups;       /* MPI: ranks split into this many groups, each running chains
                                 c ≡ group (mod rank_groups) data-parallel (1: all run all) */
    size_t fs_points;         /* test inputs whose predictions are recorded every iteration */
    char out_dir[1024];
    int overwrite;            /* replace a run already in out_dir */
    int resume;               /* the caller asks to resume (or extend) the run in out_dir */
    double checkpoint_interval; /* seconds between a chain's checkpoints (0: every iteration);
                                   does not change the results */
} bnn_run_config;

/* Defaults for every field (documented in `bnnmc sample --help`). */
void bnn_run_config_defaults(bnn_run_config *c);

/* The network of c (arch, activation, likelihood) for data d: outputs and likelihood must fit
 * the task (classes, or a regression target). */
bnn_status bnn_run_net_create(const bnn_run_config *c, const bnn_dataset *d, bnn_net *net);

/* Default rows per block: 256; 1024 from 100 000 parameters; 2048 from 1 000 000; halved (down
 * to 256) while n_rows would give fewer than 8 blocks. */
size_t bnn_run_default_block_rows(size_t n_params, size_t n_rows);

/* Default trajectory length (π/2)·σ·√T with σ² the largest prior variance, as in the paper (for
 * a Student-t prior with ν ≤ 2, whose variance is infinite, the largest squared scale). */
double bnn_run_default_traj_len(const bnn_run_config *c);

/* Storage for the strings a bnn_dataset_options read back from run.json points into. */
typedef struct {
    char name[64], train[2048], test[2048];
} bnn_run_data_strings;

/* Reads the configuration and data options of the run in dir (its run.json), to resume it. */
bnn_status bnn_run_config_read(const char *dir, bnn_run_config *c, bnn_dataset_options *d,
                               bnn_run_data_strings *strings);

typedef struct {
    size_t chains;
    size_t iterations;        /* per chain: burn_in + warmup + samples */
    size_t done_min;          /* iterations completed by the slowest chain */
    size_t done_total;        /* summed over chains */
    size_t sampling_done;     /* sampling iterations completed, summed over chains */
    double accept_rate;       /* mean acceptance probability over all iterations so far */
    double step_size;         /* mean current ε over chains */
    size_t divergences;       /* summed over chains and iterations */
    size_t gradients;         /* leapfrog steps summed over chains */
    double elapsed;           /* seconds since start */
    int finished;             /* all chains done or stopped by an error */
} bnn_run_progress;

typedef struct bnn_run bnn_run;

/* Validates the configuration against the data, creates the run directory, writes run.json
 * (status "running") and starts the chains. data must outlive the run.
 * If out_dir already holds a run and overwrite is not set: a run with the same configuration
 * (threads, checkpoint interval and a larger number of samples may differ) is resumed from its
 * chains' checkpoints, byte-identical to an uninterrupted run; any other is refused. */
bnn_status bnn_run_start(const bnn_run_config *cfg, const bnn_dataset *data,
                         const bnn_dataset_options *data_opt, bnn_run **out);

void bnn_run_poll(bnn_run *r, bnn_run_progress *p);

/* 1 if the run continues an earlier one; a warning about a damaged checkpoint (or ""). */
int bnn_run_resumed(const bnn_run *r);
const char *bnn_run_warning(const bnn_run *r);

/* Waits for the chains, closes the files, writes the Bayesian-model-average sums and the final
 * run.json (status "complete"). Returns the first error any chain met. */
bnn_status bnn_run_finish(bnn_run *r);
void bnn_run_free(bnn_run *r);

#endif
