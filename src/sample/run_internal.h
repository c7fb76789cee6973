/* Shared between run.c (the chains) and run_json.c (their description in run.json). */
#ifndef BNN_SAMPLE_RUN_INTERNAL_H
#define BNN_SAMPLE_RUN_INTERNAL_H

#include <jansson.h>
#include <pthread.h>

#include "backend/cpu.h"
#include "sample/adapt.h"
#include "sample/run.h"
#include "store/run_store.h"

struct chain {
    size_t index;
    bnn_hmc *hmc;
    bnn_dual_avg dual_avg;
    bnn_mass_adapt mass;
    bnn_chain_files files;
    size_t iter;              /* iterations completed */
    double *probs;            /* (n_test, n_out) outputs at the current state */
    int probs_valid;
    double *bma_sum;          /* (n_test, n_out) Σ over sampling iterations */
    double *bma_logdens;      /* (n_test) regression: running log Σ p(y | θ) */
    size_t n_bma;
    void *row;                /* conversion buffer for one recorded row */
    /* progress, read by bnn_run_poll under the run's lock */
    double accept_sum, step_size;
    size_t divergences, gradients;
};

struct group {
    struct bnn_run *run;
    size_t index;
    bnn_backend backend;
    bnn_posterior post;
    pthread_t thread;
    int started;
    bnn_status status;
    char error[1024];
};

struct bnn_run {
    bnn_run_config cfg;
    const bnn_dataset *data;
    bnn_mlp model;
    size_t n_out;             /* outputs per test input */
    size_t n_test;
    size_t *fs_index;         /* (fs_points) rows of the test set */
    bnn_cpu_data *cpu_data;
    struct chain *chains;
    struct group *groups;
    size_t n_groups;
    json_t *json;             /* run.json being built */
    pthread_mutex_t lock;
    double start_time;
    int finished_groups;
};

/* run.json: everything but the manifest (config, data, model, status "running"). */
json_t *bnn_run_describe(const struct bnn_run *r, const bnn_dataset_options *data_opt);

/* Adds the manifest of arrays with their final shapes, and sets the status. */
void bnn_run_describe_arrays(const struct bnn_run *r, json_t *root, const char *status);

#endif
