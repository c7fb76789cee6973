/* Parts of run.json that every method writing a run directory shares (sample, train): the data
 * description and the model's parameter layout, and the decision whether a new run resumes the
 * run its directory already holds. */
#ifndef BNN_SAMPLE_RUN_DESCRIBE_H
#define BNN_SAMPLE_RUN_DESCRIBE_H

#include <jansson.h>

#include "data/dataset.h"
#include "nn/net.h"
#include "sample/run.h"

/* run.json's "data": source, task, sizes, standardisation. */
json_t *bnn_run_data_json(const bnn_dataset *d, const bnn_dataset_options *o);

/* run.json's "model": kind, n_params, the tensors {name, offset, shape, ...}, MLP widths. */
json_t *bnn_run_model_json(const bnn_net *net);

/* Reads back from DIR/run.json the settings every method writes (model, prior, chains,
 * samples, seed, execution; the rest of c is left as it is) and the data options (their
 * strings kept in *strings); *config receives run.json's config object for the method's own
 * settings (json_decref it). */
bnn_status bnn_run_settings_read(const char *dir, bnn_run_config *c, bnn_dataset_options *d,
                                 bnn_run_data_strings *strings, json_t **config);

/* What decides whether a new run resumes the run in its directory. */
typedef struct {
    const char *dir;        /* the run directory */
    int resume;             /* --resume: there must be a run to resume */
    int overwrite;          /* replace whatever is there */
    size_t samples;         /* the new run's draws per chain */
    int extendable;         /* a larger `samples` extends a run; else it must be the same */
    json_t *old_defaults;   /* config keys added since format version 1 began, with the value
                               a run written before them had (NULL: none) */
} bnn_run_existing;

/* If dir holds a run.json: the new run (its description now: config and data) resumes it when
 * every setting but threads, checkpoint_interval, rank_groups, out (and samples, to extend an
 * extendable run) is the same, it is unfinished or --resume was given, and samples do not
 * shrink; otherwise the error names the first setting that differs. *resume = 1 to resume. */
bnn_status bnn_run_check_existing_json(const bnn_run_existing *e, json_t *now, int *resume);

#endif
