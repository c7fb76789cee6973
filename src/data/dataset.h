/* Data sets: readers for CSV, IDX (raw or gzip), .npy; validation of labels; standardisation
 * of inputs (and, for regression, optionally targets) with training statistics; the built-in data
 * sets (digits, mnist, fashion-mnist, cifar10; boston and concrete for regression). */
#ifndef BNN_DATA_DATASET_H
#define BNN_DATA_DATASET_H

#include <stddef.h>

#include "core/status.h"

/* A table of n examples: features x and one target per row. Owns its arrays. */
typedef struct {
    size_t n;                        /* rows */
    size_t d;                        /* features per row */
    size_t height, width, channels;  /* image shape (HWC order in x) when known, else 0 */
    double *x;                       /* (n, d) row-major */
    double *y;                       /* (n) class index (an exact integer) or regression value */
} bnn_table;

void bnn_table_free(bnn_table *t);

typedef struct {
    int header;      /* -1: detect (first row has a non-numeric cell), 0: none, 1: one header row */
    long target_col; /* column of the target, 0-based; -1 = last column */
} bnn_csv_options;

/* CSV of numbers, comma separated. Errors name the file, the 1-based line and column. */
bnn_status bnn_read_csv(const char *path, const bnn_csv_options *opt, bnn_table *out);

/* A matrix of numbers, one row per line. */
typedef struct {
    size_t rows, cols;
    double *v;    /* (rows, cols) row-major */
    size_t *line; /* (rows) 1-based line of each row in the file, for messages */
} bnn_csv_matrix;

/* A text file of finite numbers, one row per line, every row as long as the first: cells
 * separated by commas, or by blanks when the first non-blank line has no comma (what
 * numpy.savetxt writes by default). Blank lines are skipped; header as in bnn_csv_options.
 * Errors name the file and the 1-based line and column. */
bnn_status bnn_read_csv_matrix(const char *path, int header, bnn_csv_matrix *out);
void bnn_csv_matrix_free(bnn_csv_matrix *m);

/* IDX images (magic 0x00000803, uint8) and labels (0x00000801); raw or gzip (detected by the
 * gzip magic bytes, not the file name). */
bnn_status bnn_read_idx_pair(const char *images_path, const char *labels_path, bnn_table *out);

/* Features from one .npy file (2-D (n, d), or (n, h, w[, c]) for images) and targets from
 * another (1-D (n)); dtypes float32, float64, uint8, int64; C order only. */
bnn_status bnn_read_npy_pair(const char *x_path, const char *y_path, bnn_table *out);

/* CIFAR-10 binary batches in dir: the training set is data_batch_1.bin .. data_batch_5.bin
 * (those present, at least one), the test set test_batch.bin. Each record is 1 label byte and
 * 3072 pixel bytes as three 32×32 planes (R, G, B); x comes out 32×32×3 in HWC order, 0..255. */
bnn_status bnn_read_cifar10(const char *dir, int train, bnn_table *out);

/* Zero-pads the images of t (h×w×c, HWC) to size×size×c, centred (extra row/column after). */
bnn_status bnn_table_pad_images(bnn_table *t, size_t size, const char *what);

/* "FILE" (CSV) or "XFILE,YFILE" (IDX or .npy, told apart by the file's magic bytes). */
bnn_status bnn_read_table(const char *spec, const bnn_csv_options *opt, bnn_table *out);

typedef enum { BNN_TASK_CLASSIFY = 0, BNN_TASK_REGRESS = 1 } bnn_task;

typedef struct {
    const char *name;       /* built-in data set ("digits", "mnist", "fashion-mnist", "cifar10"
                             * = $BNNMC_DATA_DIR/cifar-10-batches-bin, "cifar10:DIR"; regression:
                             * "boston", "concrete" = $BNNMC_DATA_DIR/uci/NAME_{train,test}.csv)
                             * or NULL */
    const char *train_spec; /* used when name is NULL: see bnn_read_table */
    const char *test_spec;  /* idem; required when name is NULL */
    bnn_csv_options csv;
    bnn_task task;
    size_t n_classes;       /* classification: 0 = 1 + largest training label */
    size_t train_subset;    /* 0 = all; else the first train_subset training rows */
    int standardize;        /* nonzero: x := (x - mean_train) / sd_train per feature */
    int standardize_target; /* regression: y := (y - mean_train) / sd_train when 1, or when 0
                             * (the default) for the built-in regression sets (as bnn_hmc does);
                             * -1: never */
    size_t pad_to;          /* 0, or zero-pad images to pad_to × pad_to (centred; before
                             * standardising), e.g. 32 for (Fashion-)MNIST under ResNet-20 */
} bnn_dataset_options;

typedef struct {
    bnn_table train, test;
    bnn_task task;
    size_t n_classes;  /* 0 for regression */
    double *mean;      /* (d) training means used to standardise (0 if not standardised) */
    double *sd;        /* (d) training sds (1 for constant features or if not standardised) */
    int target_standardized;       /* regression targets were standardised: */
    double target_mean, target_sd; /* y_original = target_mean + target_sd * y (0 and 1 if not) */
    char train_source[1024], test_source[1024]; /* resolved paths, for run.json */
} bnn_dataset;

/* The task of a built-in data set: regression for "boston" and "concrete", else classification. */
bnn_task bnn_dataset_builtin_task(const char *name);

/* Loads, checks (shapes agree, finite values, labels integer and in range) and standardises. */
bnn_status bnn_dataset_load(const bnn_dataset_options *opt, bnn_dataset *out);
void bnn_dataset_free(bnn_dataset *d);

/* Directory of the built-in data: $BNNMC_DATA_DIR if set, else the source tree's data/. */
const char *bnn_data_dir(void);

#endif
