/* The quantities a Stan CSV export writes: parsed from the --vars selector (grammar in
 * store/export.h) into columns, and their CmdStan names. */
#ifndef BNN_STORE_EXPORT_SELECT_H
#define BNN_STORE_EXPORT_SELECT_H

#include "store/export_internal.h"

typedef struct {
    int fs;       /* 1: a function-space output, 0: a weight */
    size_t block; /* weights: the tensor (index into the run's blocks) */
    size_t index; /* flat C-order index within the tensor, or point * fs_outputs + output */
} bnn_export_column;

typedef struct {
    bnn_export_column *col; /* (n) in the order selected */
    size_t n, cap;
    int any_weight;         /* a weight is selected: rows follow the (thinned) weight draws */
} bnn_export_selection;

/* Parses spec (NULL: "p[0:3,*]", fewer points if the run has fewer) against the run. */
bnn_status bnn_export_select(const bnn_export_run *r, const char *spec, bnn_export_selection *sel);
void bnn_export_selection_free(bnn_export_selection *sel);

/* CmdStan's name of a column: "layer0_w.4.1" (1-based indices), "p.1.2". */
void bnn_export_column_name(const bnn_export_run *r, const bnn_export_column *c, char *buf,
                            size_t len);

#endif
