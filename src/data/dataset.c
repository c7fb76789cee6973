/* Loading a data set: the built-in ones (digits, mnist, fashion-mnist; boston and concrete for
 * regression) or a train/test pair of files; checks shapes and labels, takes a training subset
 * and standardises with training statistics (population sd, ddof = 0, as scikit-learn's
 * StandardScaler). */
#define _XOPEN_SOURCE 700 /* realpath */

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/data_internal.h"
#include "data/dataset.h"

#ifndef BNNMC_DATA_DIR_DEFAULT
#define BNNMC_DATA_DIR_DEFAULT "data"
#endif

#define FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"
#define MAX_CLASSES 1000000 /* a label above this is a mistake, not a class */

const char *bnn_data_dir(void)
{
    const char *env = getenv("BNNMC_DATA_DIR");
    return env && *env ? env : BNNMC_DATA_DIR_DEFAULT;
}

void bnn_dataset_free(bnn_dataset *d)
{
    if (!d) return;
    bnn_table_free(&d->train);
    bnn_table_free(&d->test);
    free(d->mean);
    free(d->sd);
    memset(d, 0, sizeof *d);
}

/* dir/name, or dir/name.gz when only that exists; 0 if neither does. */
static int find_idx_file(const char *dir, const char *name, char *path, size_t cap)
{
    int len = snprintf(path, cap, "%s/%s", dir, name);
    if (len < 0 || (size_t)len >= cap) return 0;
    if (access(path, R_OK) == 0) return 1;
    len = snprintf(path, cap, "%s/%s.gz", dir, name);
    return len >= 0 && (size_t)len < cap && access(path, R_OK) == 0;
}

/* The four MNIST-layout IDX files of dir as the train and test specs "IMAGES,LABELS". */
static bnn_status idx_dir_specs(const char *dir, const char *hint, char *train, char *test,
                                size_t cap)
{
    static const char *names[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                   "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
    char paths[4][PATH_MAX];
    for (int i = 0; i < 4; i++)
        if (!find_idx_file(dir, names[i], paths[i], sizeof paths[i]))
            return BNN_ERROR(BNN_EIO, "%s/%s[.gz]: not found; %s", dir, names[i], hint);
    int a = snprintf(train, cap, "%s,%s", paths[0], paths[1]);
    int b = snprintf(test, cap, "%s,%s", paths[2], paths[3]);
    if (a < 0 || b < 0 || (size_t)a >= cap || (size_t)b >= cap)
        return BNN_ERROR(BNN_EINVAL, "%s: path too long", dir);
    return BNN_OK;
}

/* Resolves a built-in name to train and test specs, and the CSV options they need. */
static bnn_status builtin_specs(const char *name, char *train, char *test, size_t cap,
                                bnn_csv_options *csv)
{
    const char *dir = bnn_data_dir();
    char sub[PATH_MAX];
    if (strcmp(name, "digits") == 0 || bnn_dataset_builtin_task(name) == BNN_TASK_REGRESS) {
        csv->header = 1;
        csv->target_col = -1;
        int digits = strcmp(name, "digits") == 0;
        int a = digits ? snprintf(train, cap, "%s/digits/train.csv", dir)
                       : snprintf(train, cap, "%s/uci/%s_train.csv", dir, name);
        int b = digits ? snprintf(test, cap, "%s/digits/test.csv", dir)
                       : snprintf(test, cap, "%s/uci/%s_test.csv", dir, name);
        if (a < 0 || b < 0 || (size_t)a >= cap || (size_t)b >= cap)
            return BNN_ERROR(BNN_EINVAL, "%s: data directory path too long", dir);
        return BNN_OK;
    }
    if (strcmp(name, "mnist") == 0) {
        int a = snprintf(sub, sizeof sub, "%s/mnist", dir);
        if (a < 0 || (size_t)a >= sizeof sub)
            return BNN_ERROR(BNN_EINVAL, "%s: data directory path too long", dir);
        return idx_dir_specs(sub, "run scripts/fetch-mnist.sh to fetch MNIST (or set "
                             "BNNMC_DATA_DIR)", train, test, cap);
    }
    if (strcmp(name, "fashion-mnist") == 0)
        return idx_dir_specs(FASHION_MNIST_DIR, "install it with `apt-get install "
                             "dataset-fashion-mnist`", train, test, cap);
    return BNN_ERROR(BNN_EINVAL,
                     "unknown data set '%s' (known: digits, mnist, fashion-mnist, cifar10[:DIR], "
                     "boston, concrete)",
                     name);
}

bnn_task bnn_dataset_builtin_task(const char *name)
{
    return name && (!strcmp(name, "boston") || !strcmp(name, "concrete")) ? BNN_TASK_REGRESS
                                                                          : BNN_TASK_CLASSIFY;
}

/* spec with each file replaced by its absolute path where it resolves, for run.json. */
static void resolve_spec(const char *spec, char *out, size_t cap)
{
    char part[PATH_MAX], real[PATH_MAX];
    size_t used = 0;
    out[0] = '\0';
    for (const char *p = spec; *p && used < cap;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len >= sizeof part) len = sizeof part - 1;
        memcpy(part, p, len);
        part[len] = '\0';
        const char *name = realpath(part, real) ? real : part;
        int w = snprintf(out + used, cap - used, "%s%s", used ? "," : "", name);
        if (w < 0) break;
        used += (size_t)w;
        p = comma ? comma + 1 : p + len;
    }
}

/* The file that holds the targets of a spec ("FILE" or "XFILE,YFILE"), for messages. */
static const char *target_file(const char *spec)
{
    const char *comma = strrchr(spec, ',');
    return comma && access(spec, F_OK) != 0 ? comma + 1 : spec;
}

/* Class labels: exact integers in [0, n_classes); n_classes 0 = 1 + largest training label. */
static bnn_status check_labels(const bnn_table *t, const char *file, int training, size_t *n_classes)
{
    size_t limit = *n_classes ? *n_classes : MAX_CLASSES, largest = 0;
    for (size_t i = 0; i < t->n; i++) {
        double y = t->y[i];
        if (!(y >= 0) || y != floor(y))
            return BNN_ERROR(BNN_ERANGE, "%s: row %zu: label %g is not a non-negative integer",
                             file, i + 1, y);
        if (y >= (double)limit)
            return BNN_ERROR(BNN_ERANGE, "%s: row %zu: label %g out of range (%zu classes%s)",
                             file, i + 1, y, limit,
                             *n_classes ? "" : ", the largest allowed");
        if ((size_t)y > largest) largest = (size_t)y;
    }
    if (training && *n_classes == 0) *n_classes = largest + 1;
    return BNN_OK;
}

/* Per-feature training mean and sd (1 for constant features), applied to both tables. */
static void standardize(bnn_dataset *ds)
{
    size_t n = ds->train.n, d = ds->train.d;
    for (size_t j = 0; j < d; j++) {
        double sum = 0, ss = 0, first = ds->train.x[j];
        int constant = 1;
        for (size_t i = 0; i < n; i++) sum += ds->train.x[i * d + j];
        double mean = sum / (double)n;
        for (size_t i = 0; i < n; i++) {
            double v = ds->train.x[i * d + j];
            ss += (v - mean) * (v - mean);
            constant &= v == first;
        }
        ds->mean[j] = mean;
        ds->sd[j] = constant ? 1.0 : sqrt(ss / (double)n);
    }
    bnn_table *tables[2] = {&ds->train, &ds->test};
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < tables[k]->n; i++)
            for (size_t j = 0; j < d; j++) {
                double *v = &tables[k]->x[i * d + j];
                *v = (*v - ds->mean[j]) / ds->sd[j];
            }
}

/* Regression targets of both tables := (y - mean) / sd with the training mean and sd. */
static void standardize_target(bnn_dataset *ds)
{
    double sum = 0, ss = 0;
    for (size_t i = 0; i < ds->train.n; i++) sum += ds->train.y[i];
    double mean = sum / (double)ds->train.n;
    for (size_t i = 0; i < ds->train.n; i++) ss += (ds->train.y[i] - mean) * (ds->train.y[i] - mean);
    double sd = ss > 0 ? sqrt(ss / (double)ds->train.n) : 1.0;
    bnn_table *tables[2] = {&ds->train, &ds->test};
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < tables[k]->n; i++) tables[k]->y[i] = (tables[k]->y[i] - mean) / sd;
    ds->target_standardized = 1;
    ds->target_mean = mean;
    ds->target_sd = sd;
}

/* Shapes, subset, labels and statistics of two loaded tables. */
static bnn_status dataset_check(const bnn_dataset_options *opt, const char *train_spec,
                                const char *test_spec, bnn_dataset *ds)
{
    if (ds->train.d != ds->test.d)
        return BNN_ERROR(BNN_EFORMAT, "%s has %zu features per row but %s has %zu", train_spec,
                         ds->train.d, test_spec, ds->test.d);
    if (ds->train.height && ds->test.height &&
        (ds->train.height != ds->test.height || ds->train.width != ds->test.width ||
         ds->train.channels != ds->test.channels))
        return BNN_ERROR(BNN_EFORMAT, "%s has %zux%zux%zu images but %s has %zux%zux%zu",
                         train_spec, ds->train.height, ds->train.width, ds->train.channels,
                         test_spec, ds->test.height, ds->test.width, ds->test.channels);
    if (opt->train_subset > ds->train.n)
        return BNN_ERROR(BNN_EINVAL, "%s: train subset of %zu rows asked, the file has %zu",
                         train_spec, opt->train_subset, ds->train.n);
    if (opt->train_subset) ds->train.n = opt->train_subset;
    if (opt->pad_to) {
        BNN_TRY(bnn_table_pad_images(&ds->train, opt->pad_to, train_spec));
        BNN_TRY(bnn_table_pad_images(&ds->test, opt->pad_to, test_spec));
    }
    ds->task = opt->task;
    if (opt->task == BNN_TASK_CLASSIFY) {
        ds->n_classes = opt->n_classes;
        BNN_TRY(check_labels(&ds->train, target_file(train_spec), 1, &ds->n_classes));
        BNN_TRY(check_labels(&ds->test, target_file(test_spec), 0, &ds->n_classes));
    }
    size_t d = ds->train.d ? ds->train.d : 1;
    ds->mean = calloc(d, sizeof(double));
    ds->sd = malloc(d * sizeof(double));
    if (!ds->mean || !ds->sd)
        return BNN_ERROR(BNN_ENOMEM, "%s: out of memory for feature statistics", train_spec);
    for (size_t j = 0; j < d; j++) ds->sd[j] = 1.0;
    if (opt->standardize) standardize(ds);
    ds->target_sd = 1.0;
    if (opt->task == BNN_TASK_REGRESS &&
        (opt->standardize_target > 0 ||
         (opt->standardize_target == 0 && bnn_dataset_builtin_task(opt->name) == BNN_TASK_REGRESS)))
        standardize_target(ds);
    return BNN_OK;
}

bnn_status bnn_dataset_load(const bnn_dataset_options *opt, bnn_dataset *out)
{
    char train[2 * PATH_MAX + 2], test[2 * PATH_MAX + 2];
    memset(out, 0, sizeof *out);
    if (!opt) return BNN_ERROR(BNN_EINVAL, "no data set options");
    bnn_csv_options csv = opt->csv;
    const int cifar = opt->name && (!strcmp(opt->name, "cifar10") ||
                                    !strncmp(opt->name, "cifar10:", 8));
    if (cifar) {
        int len = opt->name[7] ? snprintf(train, sizeof train, "%s", opt->name + 8)
                               : snprintf(train, sizeof train, "%s/cifar-10-batches-bin",
                                          bnn_data_dir());
        if (len < 0 || (size_t)len >= sizeof train)
            return BNN_ERROR(BNN_EINVAL, "%s: path too long", opt->name);
        snprintf(test, sizeof test, "%s", train);
    } else if (opt->name) {
        BNN_TRY(builtin_specs(opt->name, train, test, sizeof train, &csv));
    } else {
        if (!opt->train_spec || !opt->test_spec)
            return BNN_ERROR(BNN_EINVAL, "a data set needs a name or both train and test files");
        snprintf(train, sizeof train, "%s", opt->train_spec);
        snprintf(test, sizeof test, "%s", opt->test_spec);
    }
    if (opt->task != BNN_TASK_CLASSIFY && opt->task != BNN_TASK_REGRESS)
        return BNN_ERROR(BNN_EINVAL, "%s: unknown task %d", train, (int)opt->task);
    bnn_status st = cifar ? bnn_read_cifar10(train, 1, &out->train)
                          : bnn_read_table(train, &csv, &out->train);
    if (st == BNN_OK)
        st = cifar ? bnn_read_cifar10(test, 0, &out->test) : bnn_read_table(test, &csv, &out->test);
    if (st == BNN_OK && opt->name && !strcmp(opt->name, "digits")) /* 8×8 images, one channel */
        for (int k = 0; k < 2; k++) {
            bnn_table *t = k ? &out->test : &out->train;
            if (t->d == 64) t->height = t->width = 8, t->channels = 1;
        }
    if (st == BNN_OK && (out->train.n == 0 || out->test.n == 0))
        st = BNN_ERROR(BNN_EFORMAT, "%s: no examples", out->train.n == 0 ? train : test);
    if (st == BNN_OK) st = dataset_check(opt, train, test, out);
    if (st != BNN_OK) {
        bnn_dataset_free(out);
        return st;
    }
    resolve_spec(train, out->train_source, sizeof out->train_source);
    resolve_spec(test, out->test_source, sizeof out->test_source);
    return BNN_OK;
}
