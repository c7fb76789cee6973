/* Parts of run.json that every method writing a run directory shares (sample, train): the data
 * description and the model's parameter layout. */
#ifndef BNN_SAMPLE_RUN_DESCRIBE_H
#define BNN_SAMPLE_RUN_DESCRIBE_H

#include <jansson.h>

#include "data/dataset.h"
#include "nn/net.h"

/* run.json's "data": source, task, sizes, standardisation. */
json_t *bnn_run_data_json(const bnn_dataset *d, const bnn_dataset_options *o);

/* run.json's "model": kind, n_params, the tensors {name, offset, shape, ...}, MLP widths. */
json_t *bnn_run_model_json(const bnn_net *net);

#endif
