/* oneDNN convolutions: primitive cache keyed by (shape, rows, caller's workspace), executed
 * single-threaded on the calling thread, with the weights in the layout oneDNN prefers. */
#include "nn/layers/conv_dnnl.h"

#include <dnnl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

void omp_set_num_threads(int n); /* libgomp, oneDNN's runtime in Debian's build */

/* One primitive and the layout it wants for the weights. oneDNN's fast kernels (direct JIT,
 * brgemm) want blocked weights; when the layout it picks is not HWIO, `reorder` converts between
 * the caller's HWIO tensor and `wmem` (from HWIO before the forward and backward-data passes, to
 * HWIO after the weight-gradient pass). The weights are small; the reorders cost little. */
struct step {
    dnnl_primitive_t prim, reorder; /* reorder NULL when the weights are HWIO already */
    dnnl_memory_t wmem, scratch;    /* NULL when not needed */
};

/* The primitives and memory handles of one convolution for one caller and one row count. */
struct entry {
    bnn_conv_shape shape;
    const void *key;
    size_t n;
    dnnl_primitive_desc_t fwd_pd;
    struct step fwd, bwd_data, bwd_weights; /* the backward ones made on first use */
    dnnl_memory_t src, wei, bia, dst;       /* caller's NHWC / HWIO handles, set before each call */
    dnnl_stream_t stream;
};

struct bnn_dnnl {
    dnnl_engine_t engine;
    dnnl_primitive_attr_t attr; /* user-managed scratchpad: each entry owns its buffers */
    pthread_mutex_t lock;       /* guards the entry list, not the entries */
    struct entry **entries;
    size_t n_entries, cap;
};

bnn_status bnn_dnnl_alloc(bnn_dnnl **out)
{
    bnn_dnnl *d = calloc(1, sizeof *d);
    if (!d) return BNN_ERROR(BNN_ENOMEM, "out of memory for oneDNN");
    if (dnnl_engine_create(&d->engine, dnnl_cpu, 0) != dnnl_success) {
        free(d);
        return BNN_ERROR(BNN_EUNSUP, "oneDNN: no CPU engine");
    }
    if (dnnl_primitive_attr_create(&d->attr) != dnnl_success ||
        dnnl_primitive_attr_set_scratchpad_mode(d->attr, dnnl_scratchpad_mode_user) !=
            dnnl_success) {
        if (d->attr) dnnl_primitive_attr_destroy(d->attr);
        dnnl_engine_destroy(d->engine);
        free(d);
        return BNN_ERROR(BNN_EUNSUP, "oneDNN: cannot set a user scratchpad");
    }
    pthread_mutex_init(&d->lock, NULL);
    *out = d;
    return BNN_OK;
}

static void step_free(struct step *s)
{
    if (s->prim) dnnl_primitive_destroy(s->prim);
    if (s->reorder) dnnl_primitive_destroy(s->reorder);
    if (s->wmem) dnnl_memory_destroy(s->wmem);
    if (s->scratch) dnnl_memory_destroy(s->scratch);
}

static void entry_free(struct entry *e)
{
    if (!e) return;
    if (e->fwd_pd) dnnl_primitive_desc_destroy(e->fwd_pd);
    step_free(&e->fwd);
    step_free(&e->bwd_data);
    step_free(&e->bwd_weights);
    dnnl_memory_t mems[4] = {e->src, e->wei, e->bia, e->dst};
    for (int i = 0; i < 4; i++)
        if (mems[i]) dnnl_memory_destroy(mems[i]);
    if (e->stream) dnnl_stream_destroy(e->stream);
    free(e);
}

void bnn_dnnl_free(bnn_dnnl *d)
{
    if (!d) return;
    for (size_t i = 0; i < d->n_entries; i++) entry_free(d->entries[i]);
    free(d->entries);
    dnnl_primitive_attr_destroy(d->attr);
    dnnl_engine_destroy(d->engine);
    pthread_mutex_destroy(&d->lock);
    free(d);
}

/* Memory descriptors of src, weights (hwio: the caller's; any: oneDNN's choice), bias, dst and
 * the geometry of shape s with n rows. */
struct geometry {
    dnnl_memory_desc_t src, hwio, any, bia, dst;
    dnnl_dims_t strides, pad_l, pad_r;
};

static int geometry_init(struct geometry *g, const bnn_conv_shape *s, size_t n)
{
    dnnl_dims_t src = {(dnnl_dim_t)n, (dnnl_dim_t)s->c, (dnnl_dim_t)s->h, (dnnl_dim_t)s->w};
    dnnl_dims_t wei = {(dnnl_dim_t)s->o, (dnnl_dim_t)s->c, (dnnl_dim_t)s->k, (dnnl_dim_t)s->k};
    dnnl_dims_t bia = {(dnnl_dim_t)s->o};
    dnnl_dims_t dst = {(dnnl_dim_t)n, (dnnl_dim_t)s->o, (dnnl_dim_t)s->oh, (dnnl_dim_t)s->ow};
    g->strides[0] = g->strides[1] = (dnnl_dim_t)s->stride;
    g->pad_l[0] = (dnnl_dim_t)s->pad_top;
    g->pad_l[1] = (dnnl_dim_t)s->pad_left;
    g->pad_r[0] = (dnnl_dim_t)((s->oh - 1) * s->stride + s->k) - (dnnl_dim_t)(s->h + s->pad_top);
    g->pad_r[1] = (dnnl_dim_t)((s->ow - 1) * s->stride + s->k) - (dnnl_dim_t)(s->w + s->pad_left);
    return dnnl_memory_desc_init_by_tag(&g->src, 4, src, dnnl_f32, dnnl_nhwc) ||
           dnnl_memory_desc_init_by_tag(&g->hwio, 4, wei, dnnl_f32, dnnl_hwio) ||
           dnnl_memory_desc_init_by_tag(&g->any, 4, wei, dnnl_f32, dnnl_format_tag_any) ||
           dnnl_memory_desc_init_by_tag(&g->bia, 1, bia, dnnl_f32, dnnl_x) ||
           dnnl_memory_desc_init_by_tag(&g->dst, 4, dst, dnnl_f32, dnnl_nhwc);
}

/* A buffer for the scratchpad that pd asks for (none if it asks for none). */
static int scratch_init(dnnl_memory_t *m, const_dnnl_primitive_desc_t pd, dnnl_engine_t engine)
{
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    if (!md || dnnl_memory_desc_get_size(md) == 0) return 0;
    return dnnl_memory_create(m, md, engine, DNNL_MEMORY_ALLOCATE) ? -1 : 0;
}

/* Makes s's primitive from pd, whose weights (query wq) are in the layout oneDNN chose, and the
 * reorder between that layout and HWIO: into it (to_hwio 0) or back into HWIO (to_hwio 1). */
static int step_init(bnn_dnnl *d, struct step *s, const_dnnl_primitive_desc_t pd, dnnl_query_t wq,
                     const dnnl_memory_desc_t *hwio, int to_hwio)
{
    const dnnl_memory_desc_t *wmd = dnnl_primitive_desc_query_md(pd, wq, 0);
    if (!wmd || dnnl_primitive_create(&s->prim, pd) || scratch_init(&s->scratch, pd, d->engine))
        return -1;
    if (dnnl_memory_desc_equal(wmd, hwio)) return 0;
    dnnl_primitive_desc_t rpd = NULL;
    int bad = dnnl_memory_create(&s->wmem, wmd, d->engine, DNNL_MEMORY_ALLOCATE) ||
              dnnl_reorder_primitive_desc_create(&rpd, to_hwio ? wmd : hwio, d->engine,
                                                 to_hwio ? hwio : wmd, d->engine, d->attr);
    if (!bad) { /* a plain layout change needs no scratchpad; refuse one that would */
        const dnnl_memory_desc_t *smd =
            dnnl_primitive_desc_query_md(rpd, dnnl_query_scratchpad_md, 0);
        bad = (smd && dnnl_memory_desc_get_size(smd) > 0) ||
              dnnl_primitive_create(&s->reorder, rpd) != dnnl_success;
    }
    if (rpd) dnnl_primitive_desc_destroy(rpd);
    return bad ? -1 : 0;
}

/* Creates the forward primitive, the memory objects and the stream of e. */
static int entry_init(bnn_dnnl *d, struct entry *e)
{
    struct geometry g;
    dnnl_convolution_desc_t desc;
    if (geometry_init(&g, &e->shape, e->n)) return -1;
    if (dnnl_convolution_forward_desc_init(&desc, dnnl_forward_training, dnnl_convolution_direct,
                                           &g.src, &g.any, &g.bia, &g.dst, g.strides, g.pad_l,
                                           g.pad_r) ||
        dnnl_primitive_desc_create(&e->fwd_pd, &desc, d->attr, d->engine, NULL) ||
        step_init(d, &e->fwd, e->fwd_pd, dnnl_query_weights_md, &g.hwio, 0))
        return -1;
    if (dnnl_memory_create(&e->src, &g.src, d->engine, DNNL_MEMORY_NONE) ||
        dnnl_memory_create(&e->wei, &g.hwio, d->engine, DNNL_MEMORY_NONE) ||
        dnnl_memory_create(&e->bia, &g.bia, d->engine, DNNL_MEMORY_NONE) ||
        dnnl_memory_create(&e->dst, &g.dst, d->engine, DNNL_MEMORY_NONE))
        return -1;
    return dnnl_stream_create(&e->stream, d->engine, dnnl_stream_default_flags) ? -1 : 0;
}

/* Backward primitives of e, made on first use. */
static int entry_backward(bnn_dnnl *d, struct entry *e, int data)
{
    struct step *s = data ? &e->bwd_data : &e->bwd_weights;
    if (s->prim) return 0;
    struct geometry g;
    dnnl_convolution_desc_t desc;
    dnnl_primitive_desc_t pd = NULL;
    if (geometry_init(&g, &e->shape, e->n)) return -1;
    int bad = data ? dnnl_convolution_backward_data_desc_init(&desc, dnnl_convolution_direct,
                                                              &g.src, &g.any, &g.dst, g.strides,
                                                              g.pad_l, g.pad_r)
                   : dnnl_convolution_backward_weights_desc_init(
                         &desc, dnnl_convolution_direct, &g.src, &g.any, &g.bia, &g.dst,
                         g.strides, g.pad_l, g.pad_r);
    bad = bad || dnnl_primitive_desc_create(&pd, &desc, d->attr, d->engine, e->fwd_pd);
    bad = bad || step_init(d, s, pd, data ? dnnl_query_weights_md : dnnl_query_diff_weights_md,
                           &g.hwio, !data);
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (bad) { /* leave no half-made step behind: the caller falls back to the reference */
        step_free(s);
        memset(s, 0, sizeof *s);
    }
    return bad ? -1 : 0;
}
/* The entry of (s, key, n), created if new; NULL if oneDNN cannot make it. */
static struct entry *lookup(bnn_dnnl *d, const bnn_conv_shape *s, const void *key, size_t n)
{
    struct entry *found = NULL;
    pthread_mutex_lock(&d->lock);
    for (size_t i = 0; i < d->n_entries && !found; i++) {
        struct entry *e = d->entries[i];
        if (e->key == key && e->n == n && !memcmp(&e->shape, s, sizeof *s)) found = e;
    }
    if (!found && d->n_entries == d->cap) {
        size_t cap = 2 * d->cap + 16;
        struct entry **grown = realloc(d->entries, cap * sizeof *grown);
        if (grown) {
            d->entries = grown;
            d->cap = cap;
        }
    }
    if (!found && d->n_entries < d->cap) {
        struct entry *e = calloc(1, sizeof *e);
        if (e) {
            *e = (struct entry){.shape = *s, .key = key, .n = n};
            if (entry_init(d, e) == 0) d->entries[d->n_entries++] = found = e;
            else entry_free(e);
        }
    }
    pthread_mutex_unlock(&d->lock);
    return found;
}

/* Runs s's primitive on args (weights argument `warg` is e->wei, replaced by s->wmem when the
 * layouts differ: reordered from e->wei before the run, or into e->wei after it). */
static int execute(struct entry *e, const struct step *s, int warg, int to_hwio, int nargs,
                   dnnl_exec_arg_t *args)
{
    if (s->reorder) {
        for (int i = 0; i < nargs; i++)
            if (args[i].arg == warg) args[i].memory = s->wmem;
        if (!to_hwio) {
            dnnl_exec_arg_t r[2] = {{DNNL_ARG_FROM, e->wei}, {DNNL_ARG_TO, s->wmem}};
            if (dnnl_primitive_execute(s->reorder, e->stream, 2, r)) return -1;
        }
    }
    if (s->scratch) args[nargs++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, s->scratch};
    if (dnnl_primitive_execute(s->prim, e->stream, nargs, args)) return -1;
    if (s->reorder && to_hwio) {
        dnnl_exec_arg_t r[2] = {{DNNL_ARG_FROM, s->wmem}, {DNNL_ARG_TO, e->wei}};
        if (dnnl_primitive_execute(s->reorder, e->stream, 2, r)) return -1;
    }
    return dnnl_stream_wait(e->stream) ? -1 : 0;
}

int bnn_dnnl_conv_forward(bnn_dnnl *d, const bnn_conv_shape *s, const void *key, size_t n,
                          float *out, const float *in, const float *w, const float *b)
{
    omp_set_num_threads(1);
    struct entry *e = lookup(d, s, key, n);
    if (!e) return -1;
    dnnl_memory_set_data_handle(e->src, (void *)in);
    dnnl_memory_set_data_handle(e->wei, (void *)w);
    dnnl_memory_set_data_handle(e->bia, (void *)b);
    dnnl_memory_set_data_handle(e->dst, out);
    dnnl_exec_arg_t args[5] = {{DNNL_ARG_SRC, e->src}, {DNNL_ARG_WEIGHTS, e->wei},
                               {DNNL_ARG_BIAS, e->bia}, {DNNL_ARG_DST, e->dst}};
    return execute(e, &e->fwd, DNNL_ARG_WEIGHTS, 0, 4, args);
}

int bnn_dnnl_conv_backward(bnn_dnnl *d, const bnn_conv_shape *s, const void *key, size_t n,
                           float *din, float *dw, float *db, const float *dout, const float *in,
                           const float *w)
{
    omp_set_num_threads(1);
    struct entry *e = lookup(d, s, key, n);
    if (!e || entry_backward(d, e, 0) || (din && entry_backward(d, e, 1))) return -1;
    dnnl_memory_set_data_handle(e->src, (void *)in);
    dnnl_memory_set_data_handle(e->wei, dw);
    dnnl_memory_set_data_handle(e->bia, db);
    dnnl_memory_set_data_handle(e->dst, (void *)dout);
    dnnl_exec_arg_t wargs[5] = {{DNNL_ARG_SRC, e->src}, {DNNL_ARG_DIFF_WEIGHTS, e->wei},
                                {DNNL_ARG_DIFF_BIAS, e->bia}, {DNNL_ARG_DIFF_DST, e->dst}};
    if (execute(e, &e->bwd_weights, DNNL_ARG_DIFF_WEIGHTS, 1, 4, wargs)) return -1;
    if (!din) return 0;
    dnnl_memory_set_data_handle(e->src, din);
    dnnl_memory_set_data_handle(e->wei, (void *)w);
    dnnl_exec_arg_t dargs[4] = {{DNNL_ARG_DIFF_SRC, e->src}, {DNNL_ARG_WEIGHTS, e->wei},
                                {DNNL_ARG_DIFF_DST, e->dst}};
    return execute(e, &e->bwd_data, DNNL_ARG_WEIGHTS, 0, 3, dargs);
}
