/* Baselines on mini-batches (`bnnmc train`): SGLD, SGHMC, cyclical SG-MCMC, mean-field VI, MAP
 * with Adam and deep ensembles, on the same models, data, priors, likelihoods and temperature
 * as `bnnmc sample`, written as a run directory of the same layout, so that predict, diagnose,
 * export, verify and `sample --init-from` read it unchanged.
 *
 * What a "chain" holds, per method (chain_NNN/weights.npy, one row per draw):
 *   sgld, sghmc  the iterates every `thin` steps after `burn_in` steps (`samples` draws)
 *   csgmcmc      `samples / cycles` iterates at the end of each cycle, `thin` steps apart
 *   vi           `samples` independent draws from the fitted q (one fit per chain)
 *   map          the trained weights (one draw); `--chains K` trains K from different seeds
 *   ensemble     the same: each chain is one member (one draw)
 * Each chain also gets final.npy (float64): the last iterate, the trained weights, or VI's μ
 * (vi_sd.npy holds σ), which `sample --init-from` starts chains from.
 *
 * Like a sampling run, the result is a pure function of (data, configuration, seed): chain k
 * uses the Philox streams (seed, k) for its start and noise, (seed, 2^30 + k) for its batches
 * and (seed, 2^29 + k) for VI's draws from q, and the mini-batch gradient is summed in fixed
 * blocks, so any --threads gives the same bytes. Each chain checkpoints its whole state
 * (chain_NNN/checkpoint.bin, every run.checkpoint_interval seconds and at its end), so a run
 * killed at any moment resumes exactly, as `bnnmc sample` does. */
#ifndef BNN_BASELINE_TRAIN_H
#define BNN_BASELINE_TRAIN_H

#include <stdint.h>

#include "data/dataset.h"
#include "sample/run.h"

typedef enum {
    BNN_TRAIN_SGLD,
    BNN_TRAIN_SGHMC,
    BNN_TRAIN_CSGMCMC,
    BNN_TRAIN_VI,
    BNN_TRAIN_MAP,
    BNN_TRAIN_ENSEMBLE
} bnn_train_method;

bnn_status bnn_train_method_parse(const char *name, bnn_train_method *out);
const char *bnn_train_method_name(bnn_train_method m);

/* A setting left at BNN_TRAIN_AUTO (sizes) or NAN (numbers) takes the method's default, which
 * depends on the data size; run.json records the resolved value. */
#define BNN_TRAIN_AUTO SIZE_MAX

typedef struct {
    /* Shared with `bnnmc sample`: arch, act, lik, noise_sd, prior (temperature included),
     * precision, chains, samples, burn_in, thin, init_scale, seed, threads, block_rows,
     * fs_points, out_dir, overwrite, resume, checkpoint_interval (seconds between a chain's
     * checkpoints; 0: every step). The rest of it is not used. In `train`, burn_in and thin
     * count mini-batch steps, and θ₀ is a fan-in initialisation: weights N(0, s²/fan_in) with
     * s = init_scale, biases 0 (the start of SGD training, not a prior draw). */
    bnn_run_config run;
    bnn_train_method method;
    size_t batch_size;     /* B, rows per mini-batch (default 128, at most N) */
    double lr;             /* sgld, csgmcmc: the first step ε₀; sghmc: η₀; map, ensemble, vi:
                              Adam's α₀ (defaults: sgld 0.5·T/N, sghmc 0.05·T/N, csgmcmc
                              1·T/N, T the temperature: a step of SGD on the mean loss of
                              about 0.25, 0.05, 0.5; Adam 3e-3, vi 1e-2) */
    double lr_decay;       /* b of ε_t = ε₀ (1 + t/b)^(−γ), in steps (sgld, sghmc; default
                              burn_in) */
    double lr_gamma;       /* γ (default 0.55; 0: constant) */
    double friction;       /* sghmc: α (default 0.1) */
    size_t epochs;         /* map, ensemble, vi: optimisation length in epochs (default 100 for
                              Adam, 300 for VI); Adam's α decays to 0 on a cosine */
    size_t cycles;         /* csgmcmc: cycles (default 4) */
    size_t cycle_len;      /* csgmcmc: steps per cycle (default 50 epochs) */
    double explore;        /* csgmcmc: fraction of a cycle without noise (default 0.8) */
    double vi_init_sd;     /* vi: σ at the start (default 1e-3) */
} bnn_train_config;

/* Every field at its default; run.* as `bnnmc sample`'s, with chains, samples, burn_in and
 * thin left to the method. */
void bnn_train_config_defaults(bnn_train_config *c);

/* Fills the AUTO / NAN settings for a data set of n_train rows and checks that every setting
 * given applies to the method and is in range. */
bnn_status bnn_train_config_resolve(bnn_train_config *c, size_t n_train);

/* Mini-batch steps per chain of a resolved configuration. */
size_t bnn_train_total_steps(const bnn_train_config *c, size_t n_train);

typedef struct {
    size_t chains;
    size_t steps;           /* per chain */
    size_t done_total;      /* steps done, summed over chains */
    size_t draws_total;     /* draws recorded, summed over chains */
    double objective;       /* mean over chains of a running average of the last steps'
                               estimate: log π̂ (sgld, sghmc, csgmcmc, map), the ELBO (vi) */
    double step_size;       /* mean current ε (or Adam's α) over chains */
    double elapsed;
    int finished;
} bnn_train_progress;

typedef struct bnn_train bnn_train;

/* Validates the configuration against the data, creates the run directory, writes run.json
 * (status "running") and starts the chains. data must outlive the run.
 * If out_dir already holds a run and overwrite is not set: a run with the same configuration
 * (threads, checkpoint interval and, for sgld, sghmc and vi, a larger number of samples may
 * differ) is resumed from its chains' checkpoints, byte-identical to an uninterrupted run; any
 * other is refused, naming the first setting that differs. With run.resume set there must be
 * a run to resume. */
bnn_status bnn_train_start(const bnn_train_config *cfg, const bnn_dataset *data,
                           const bnn_dataset_options *data_opt, bnn_train **out);

/* 1 if the run continues an earlier one; a warning about a damaged checkpoint (or ""). */
int bnn_train_resumed(const bnn_train *t);
const char *bnn_train_warning(const bnn_train *t);

/* Reads the configuration and data options of the train run in dir (its run.json), to resume
 * it; the strings *d points to live in *strings. */
bnn_status bnn_train_config_read(const char *dir, bnn_train_config *c, bnn_dataset_options *d,
                                 bnn_run_data_strings *strings);

void bnn_train_poll(bnn_train *t, bnn_train_progress *p);

/* Waits for the chains, writes each chain's model-average sums and final weights and the
 * final run.json (status "complete"). Returns the first error a chain met. */
bnn_status bnn_train_finish(bnn_train *t);
void bnn_train_free(bnn_train *t);

/* The resolved configuration of a started run. */
const bnn_train_config *bnn_train_config_of(const bnn_train *t);

#endif
