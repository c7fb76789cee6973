/* Alignment of a run directory's weight draws: the template from chain 0, then every chain's
 * draws streamed through one alignment workspace per thread into aligned_weights.npy. */
#include "diag/align_run.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/npy.h"
#include "diag/align.h"
#include "store/npy_writer.h"

bnn_status bnn_align_run_model(const char *run_dir, bnn_mlp *m)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/run.json", run_dir);
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (!root) return BNN_ERROR(BNN_EFORMAT, "%s: %s", path, err.text);
    const char *act_name = NULL;
    json_t *widths = NULL;
    json_int_t np = 0;
    bnn_status st = BNN_OK;
    if (json_unpack_ex(root, &err, 0, "{s:{s:s}, s:{s:o, s:I}}", "config", "activation",
                       &act_name, "model", "widths", &widths, "n_params", &np) ||
        !json_is_array(widths) || json_array_size(widths) < 2 ||
        json_array_size(widths) > BNN_MLP_MAX_LAYERS + 1)
        st = BNN_ERROR(BNN_EFORMAT, "%s: needs config.activation, model.widths (2..%d entries) "
                       "and model.n_params", path, BNN_MLP_MAX_LAYERS + 1);
    bnn_activation act = BNN_ACT_TANH;
    if (st == BNN_OK) st = bnn_activation_parse(act_name, &act);
    char arch[1024] = "linear";
    size_t L = st == BNN_OK ? json_array_size(widths) - 1 : 0, n_w = 0;
    for (size_t l = 0; st == BNN_OK && l <= L; l++) {
        json_int_t w = json_integer_value(json_array_get(widths, l));
        if (w <= 0 || w > 1000000)
            st = BNN_ERROR(BNN_EFORMAT, "%s: model.widths[%zu] out of range", path, l);
        else if (l > 0 && l < L)
            n_w += (size_t)snprintf(arch + n_w, sizeof arch - (n_w < sizeof arch ? n_w : 0),
                                    l == 1 ? "mlp:%lld" : ",%lld", (long long)w);
    }
    if (st == BNN_OK && n_w >= sizeof arch) st = BNN_ERROR(BNN_EFORMAT, "%s: too many layers", path);
    if (st == BNN_OK)
        st = bnn_mlp_init(m, arch, (size_t)json_integer_value(json_array_get(widths, 0)),
                          (size_t)json_integer_value(json_array_get(widths, L)), act,
                          BNN_LIK_CATEGORICAL, 1.0);
    if (st == BNN_OK && m->n_params != (size_t)np)
        st = BNN_ERROR(BNN_EFORMAT, "%s: model.widths give %zu parameters, model.n_params says "
                       "%lld", path, m->n_params, (long long)np);
    json_decref(root);
    return st;
}

/* One chain's weights.npy, open for reading. */
typedef struct {
    FILE *f;
    char path[1024];
    bnn_npy_header h;
} draws_file;

static bnn_status draws_open(const char *dir, size_t chain, size_t P, draws_file *d)
{
    snprintf(d->path, sizeof d->path, "%s/chain_%03zu/weights.npy", dir, chain);
    if (!(d->f = fopen(d->path, "rb")))
        return BNN_ERROR(BNN_EIO, "%s: cannot open: %s", d->path, strerror(errno));
    BNN_TRY(bnn_npy_read_header(d->f, d->path, &d->h));
    if (d->h.ndim != 2 || d->h.shape[1] != P)
        return BNN_ERROR(BNN_EFORMAT, "%s: expected shape (draws, %zu)", d->path, P);
    return BNN_OK;
}

static bnn_status read_draw(draws_file *d, size_t i, size_t P, double *out)
{
    return bnn_npy_read_doubles(d->f, d->path, &d->h, i * P, P, out);
}

/* What one thread needs: the model, the template, its chains (c = member mod n_members). */
typedef struct {
    const char *dir;
    const bnn_mlp *m;
    const bnn_align_run_options *opt;
    const double *ref;
    size_t n_chain, draws, member, n_members;
    size_t n_changed, sweeps;
    bnn_status st;
} align_job;

/* Aligns chain c's first `draws` draws to the template and writes them. */
static bnn_status align_chain(align_job *j, bnn_align *a, size_t c, double *x, float *row)
{
    size_t P = j->m->n_params, sweeps = 0;
    draws_file d = {0};
    bnn_npy_writer w = {.fd = -1};
    bnn_status st = draws_open(j->dir, c, P, &d);
    int f32 = st == BNN_OK && d.h.dtype == BNN_NPY_F32;
    char path[1100];
    snprintf(path, sizeof path, "%s/chain_%03zu/aligned_weights.npy", j->dir, c);
    if (st == BNN_OK) st = bnn_npy_writer_open(&w, path, f32 ? "<f4" : "<f8", 1, &P);
    if (st == BNN_OK && j->opt->mode == BNN_ALIGN_PER_CHAIN && j->draws > 0) {
        st = read_draw(&d, j->draws - 1, P, x);
        if (st == BNN_OK) st = bnn_align_draw(a, j->ref, x, &sweeps);
        j->n_changed += bnn_align_last_changed(a) ? j->draws : 0;
    }
    for (size_t i = 0; st == BNN_OK && i < j->draws; i++) {
        st = read_draw(&d, i, P, x);
        if (st != BNN_OK) break;
        if (j->opt->mode == BNN_ALIGN_PER_CHAIN) {
            st = bnn_align_apply_last(a, x);
        } else {
            st = bnn_align_draw(a, j->ref, x, &sweeps);
            j->sweeps += sweeps;
            j->n_changed += (size_t)bnn_align_last_changed(a);
        }
        if (st == BNN_OK && f32)
            for (size_t k = 0; k < P; k++) row[k] = (float)x[k];
        if (st == BNN_OK) st = bnn_npy_writer_append(&w, f32 ? (const void *)row : x, 1);
    }
    bnn_status close_st = bnn_npy_writer_close(&w);
    if (d.f) fclose(d.f);
    return st != BNN_OK ? st : close_st;
}

static void *align_worker(void *arg)
{
    align_job *j = arg;
    size_t P = j->m->n_params;
    bnn_align *a = NULL;
    double *x = malloc(P * sizeof *x);
    float *row = malloc(P * sizeof *row);
    j->st = x && row ? bnn_align_alloc(j->m, j->opt->max_sweeps ? j->opt->max_sweeps : 8, &a)
                     : BNN_ERROR(BNN_ENOMEM, "align: out of memory");
    for (size_t c = j->member; j->st == BNN_OK && c < j->n_chain; c += j->n_members)
        j->st = align_chain(j, a, c, x, row);
    bnn_align_free(a);
    free(x);
    free(row);
    return NULL;
}

/* Config.chains of run.json and the common number of draws of the chains' weights.npy. */
static bnn_status run_shape(const char *dir, size_t P, size_t *n_chain, size_t *draws)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/run.json", dir);
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (!root) return BNN_ERROR(BNN_EFORMAT, "%s: %s", path, err.text);
    json_int_t K = 0;
    int bad = json_unpack(root, "{s:{s:I}}", "config", "chains", &K) || K <= 0 || K > 4096;
    json_decref(root);
    if (bad) return BNN_ERROR(BNN_EFORMAT, "%s: config.chains missing or out of range", path);
    *n_chain = (size_t)K;
    *draws = SIZE_MAX;
    for (size_t c = 0; c < *n_chain; c++) {
        draws_file d = {0};
        bnn_status st = draws_open(dir, c, P, &d);
        if (d.f) fclose(d.f);
        BNN_TRY(st);
        *draws = d.h.shape[0] < *draws ? d.h.shape[0] : *draws;
    }
    return BNN_OK;
}

/* The template: chain 0's draws aligned to its last draw, averaged; ref (P). */
static bnn_status make_template(const char *dir, const bnn_mlp *m, size_t draws, size_t sweeps,
                                double *ref)
{
    size_t P = m->n_params;
    draws_file d = {0};
    bnn_align *a = NULL;
    double *first = malloc(P * sizeof *first), *x = malloc(P * sizeof *x);
    bnn_status st = first && x ? draws_open(dir, 0, P, &d) : BNN_ERROR(BNN_ENOMEM, "align: out of memory");
    if (st == BNN_OK) st = bnn_align_alloc(m, sweeps, &a);
    if (st == BNN_OK) st = read_draw(&d, draws - 1, P, first);
    for (size_t k = 0; k < P; k++) ref[k] = 0;
    for (size_t i = 0; st == BNN_OK && i < draws; i++) {
        st = read_draw(&d, i, P, x);
        if (st == BNN_OK) st = bnn_align_draw(a, first, x, NULL);
        for (size_t k = 0; st == BNN_OK && k < P; k++) ref[k] += (x[k] - ref[k]) / (double)(i + 1);
    }
    if (d.f) fclose(d.f);
    bnn_align_free(a);
    free(first);
    free(x);
    return st;
}

bnn_status bnn_align_run(const char *run_dir, const bnn_align_run_options *opt,
                         bnn_align_run_info *info)
{
    if (!run_dir || !opt || !info) return BNN_ERROR(BNN_EINVAL, "align: NULL argument");
    bnn_mlp m;
    BNN_TRY(bnn_align_run_model(run_dir, &m));
    size_t P = m.n_params, K = 0, n = 0, sweeps = opt->max_sweeps ? opt->max_sweeps : 8;
    BNN_TRY(run_shape(run_dir, P, &K, &n));
    if (n == 0) return BNN_ERROR(BNN_EFORMAT, "%s: no weight draws to align", run_dir);
    double *ref = malloc(P * sizeof *ref);
    if (!ref) return BNN_ERROR(BNN_ENOMEM, "align: out of memory");
    bnn_status st = make_template(run_dir, &m, n, sweeps, ref);
    char path[1100];
    snprintf(path, sizeof path, "%s/align_reference.npy", run_dir);
    if (st == BNN_OK) st = bnn_npy_write(path, "<f8", 1, &P, ref);
    size_t T = opt->threads < 1 ? 1 : opt->threads > 64 ? 64 : opt->threads;
    T = T > K ? K : T;
    align_job jobs[64];
    pthread_t tid[64];
    int started[64] = {0};
    for (size_t t = 0; st == BNN_OK && t < T; t++) {
        jobs[t] = (align_job){.dir = run_dir, .m = &m, .opt = opt, .ref = ref, .n_chain = K,
                              .draws = n, .member = t, .n_members = T};
        started[t] = t > 0 && pthread_create(&tid[t], NULL, align_worker, &jobs[t]) == 0;
    }
    if (st == BNN_OK) {
        for (size_t t = 0; t < T; t++)
            if (!started[t]) align_worker(&jobs[t]); /* the caller is member 0 */
        for (size_t t = 1; t < T; t++)
            if (started[t]) pthread_join(tid[t], NULL);
        *info = (bnn_align_run_info){.n_chain = K, .draws = n};
        size_t sw = 0;
        for (size_t t = 0; t < T; t++) {
            if (st == BNN_OK) st = jobs[t].st;
            info->n_changed += jobs[t].n_changed;
            sw += jobs[t].sweeps;
        }
        info->mean_sweeps = opt->mode == BNN_ALIGN_PER_DRAW ? (double)sw / (double)(K * n) : 1;
    }
    free(ref);
    return st;
}
