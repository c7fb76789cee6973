/* Mini-batches of the training data for the stochastic-gradient methods: every epoch a fresh
 * random permutation of the N rows, cut into consecutive batches of B (the last one of an
 * epoch holds N mod B rows when B does not divide N). Each batch's log-likelihood is scaled by
 * N / (its size), so every batch is an unbiased estimate of the full-data sum.
 *
 * The batches are served as a bnn_target: each call evaluates the next batch, so a method
 * written against a target (SGLD, SGHMC, Adam, VI) never sees the data. */
#ifndef BNN_BASELINE_MINIBATCH_H
#define BNN_BASELINE_MINIBATCH_H

#include <stdint.h>

#include "core/rng.h"
#include "model/posterior.h"
#include "sample/target.h"

typedef struct {
    bnn_posterior *post;  /* borrowed: prior, temperature, and a backend with mini-batches */
    size_t n_rows;        /* N: training rows */
    size_t batch;         /* B */
    size_t *perm;         /* (N) this epoch's order */
    size_t pos;           /* next row of perm; N = the epoch is used up */
    size_t epochs_begun;
    bnn_rng rng;          /* the shuffles' own stream */
} bnn_minibatch;

/* Batches of `batch` rows of the N training rows the posterior's backend holds. */
bnn_status bnn_minibatch_init(bnn_minibatch *mb, bnn_posterior *post, size_t n_rows,
                              size_t batch, bnn_rng rng);
void bnn_minibatch_free(bnn_minibatch *mb);

/* Batches per epoch: ceil(N / B). */
size_t bnn_minibatch_per_epoch(const bnn_minibatch *mb);

/* Where the sequence of batches stands, for a checkpoint: this epoch's order as 64-bit row
 * indices (order: N of them); the rest is mb->pos, mb->epochs_begun and mb->rng. */
void bnn_minibatch_order(const bnn_minibatch *mb, uint64_t *order);

/* Continues the sequence of batches where a checkpoint left it: this epoch's order (N row
 * indices), the next row of it, the epochs begun and the shuffles' stream counter. Fails with
 * BNN_EFORMAT, naming `what`, if order is not a permutation of the N rows or pos > N. */
bnn_status bnn_minibatch_restore(bnn_minibatch *mb, const uint64_t *order, uint64_t pos,
                                 uint64_t epochs_begun, uint64_t rng_counter, const char *what);

/* The stochastic target: each call draws the next batch (a new permutation when an epoch is
 * used up) and returns the tempered log posterior with the scaled batch log-likelihood. */
bnn_target bnn_minibatch_target(bnn_minibatch *mb);

#endif
