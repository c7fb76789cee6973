/* The --vars selector of the Stan CSV export: "layer1.b,layer0.w[3,*],p[0:3,*]" into a list of
 * columns (weight tensor or function-space outputs, flat index), and CmdStan column names. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/export_select.h"

#define FS_BLOCK ((size_t)-1)

/* The tensor an item names: a weight block, or "p" (point, output). */
typedef struct {
    size_t block;                      /* index into r->blocks, or FS_BLOCK */
    size_t ndim, shape[BNN_EXPORT_MAX_DIMS];
} tensor;

static bnn_status find_tensor(const bnn_export_run *r, const char *name, size_t len, tensor *t)
{
    if (len == 1 && name[0] == 'p') {
        if (!r->has_fs) return BNN_ERROR(BNN_EINVAL, "--vars: the run recorded no function-space outputs (p)");
        *t = (tensor){.block = FS_BLOCK, .ndim = 2, .shape = {r->fs_points, r->fs_outputs}};
        return BNN_OK;
    }
    for (size_t b = 0; b < r->n_blocks; b++) {
        const bnn_export_block *blk = &r->blocks[b];
        if (strlen(blk->name) == len && !strncmp(blk->name, name, len)) {
            if (!r->has_weights) return BNN_ERROR(BNN_EINVAL, "--vars: the run recorded no weights");
            t->block = b;
            t->ndim = blk->ndim;
            memcpy(t->shape, blk->shape, sizeof t->shape);
            return BNN_OK;
        }
    }
    char known[512] = "p";
    for (size_t b = 0, n = 1; b < r->n_blocks && n < sizeof known; b++)
        n += (size_t)snprintf(known + n, sizeof known - n, ", %s", r->blocks[b].name);
    return BNN_ERROR(BNN_EINVAL, "--vars: '%.*s' is not a quantity of this run (known: %s)",
                     (int)len, name, known);
}

/* One index "*", "N" or "A:B" of dimension `size` into [lo, hi). */
static bnn_status parse_index(const char *s, size_t len, size_t size, size_t *lo, size_t *hi)
{
    char text[64], *end;
    if (len == 0 || len >= sizeof text) return BNN_ERROR(BNN_EINVAL, "--vars: empty or long index");
    memcpy(text, s, len);
    text[len] = 0;
    if (!strcmp(text, "*")) {
        *lo = 0;
        *hi = size;
        return BNN_OK;
    }
    unsigned long long a = strtoull(text, &end, 10), b;
    if (end == text || text[0] == '-' || (*end && *end != ':'))
        return BNN_ERROR(BNN_EINVAL, "--vars: index '%s' is not *, N or A:B", text);
    if (*end == ':') {
        char *b_text = end + 1;
        b = strtoull(b_text, &end, 10);
        if (end == b_text || *end || b_text[0] == '-')
            return BNN_ERROR(BNN_EINVAL, "--vars: index '%s' is not *, N or A:B", text);
    } else {
        b = a + 1;
    }
    if (a >= b || b > size)
        return BNN_ERROR(BNN_EINVAL, "--vars: index '%s' is outside 0..%zu (or empty)", text,
                         size ? size - 1 : 0);
    *lo = (size_t)a;
    *hi = (size_t)b;
    return BNN_OK;
}

static bnn_status push(bnn_export_selection *sel, size_t block, size_t flat)
{
    if (sel->n == sel->cap) {
        size_t cap = sel->cap ? 2 * sel->cap : 64;
        bnn_export_column *c = realloc(sel->col, cap * sizeof *c);
        if (!c) return BNN_ERROR(BNN_ENOMEM, "export: out of memory");
        sel->col = c;
        sel->cap = cap;
    }
    sel->col[sel->n++] = (bnn_export_column){.fs = block == FS_BLOCK,
                                             .block = block == FS_BLOCK ? 0 : block,
                                             .index = flat};
    if (block != FS_BLOCK) sel->any_weight = 1;
    return BNN_OK;
}

/* Every index in the box [lo, hi) of tensor t, C order. */
static bnn_status push_box(bnn_export_selection *sel, const tensor *t, const size_t *lo,
                           const size_t *hi)
{
    size_t idx[BNN_EXPORT_MAX_DIMS];
    memcpy(idx, lo, t->ndim * sizeof *idx);
    for (;;) {
        size_t flat = 0;
        for (size_t d = 0; d < t->ndim; d++) flat = flat * t->shape[d] + idx[d];
        BNN_TRY(push(sel, t->block, flat));
        size_t d = t->ndim;
        while (d > 0 && ++idx[d - 1] == hi[d - 1]) {
            idx[d - 1] = lo[d - 1];
            d--;
        }
        if (d == 0) return BNN_OK;
    }
}

static bnn_status parse_item(const bnn_export_run *r, const char *s, size_t len,
                             bnn_export_selection *sel)
{
    const char *bracket = memchr(s, '[', len);
    size_t name_len = bracket ? (size_t)(bracket - s) : len;
    tensor t;
    BNN_TRY(find_tensor(r, s, name_len, &t));
    size_t lo[BNN_EXPORT_MAX_DIMS] = {0}, hi[BNN_EXPORT_MAX_DIMS];
    memcpy(hi, t.shape, sizeof hi);
    if (bracket) {
        if (s[len - 1] != ']')
            return BNN_ERROR(BNN_EINVAL, "--vars: '%.*s' lacks its closing ]", (int)len, s);
        const char *p = bracket + 1, *stop = s + len - 1; /* stop: the closing ] */
        size_t fields = 1;
        for (const char *q = p; q < stop; q++) fields += *q == ',';
        if (fields != t.ndim)
            return BNN_ERROR(BNN_EINVAL, "--vars: '%.*s' needs %zu indices (one per dimension)",
                             (int)len, s, t.ndim);
        for (size_t d = 0; d < t.ndim; d++) {
            const char *comma = memchr(p, ',', (size_t)(stop - p)), *e = comma ? comma : stop;
            BNN_TRY(parse_index(p, (size_t)(e - p), t.shape[d], &lo[d], &hi[d]));
            p = e + 1;
        }
    }
    return push_box(sel, &t, lo, hi);
}

bnn_status bnn_export_select(const bnn_export_run *r, const char *spec, bnn_export_selection *sel)
{
    memset(sel, 0, sizeof *sel);
    char fallback[32];
    if (!spec) {
        size_t points = r->fs_points < 3 ? r->fs_points : 3;
        if (!r->has_fs) return BNN_OK;
        snprintf(fallback, sizeof fallback, "p[0:%zu,*]", points);
        spec = fallback;
    }
    bnn_status st = BNN_OK;
    const char *item = spec;
    int depth = 0;
    for (const char *p = spec; st == BNN_OK; p++) {
        if (*p == '[') depth++;
        if (*p == ']') depth--;
        if ((*p == ',' && depth == 0) || *p == 0) {
            if (p == item) st = BNN_ERROR(BNN_EINVAL, "--vars: empty item in '%s'", spec);
            else st = parse_item(r, item, (size_t)(p - item), sel);
            item = p + 1;
        }
        if (*p == 0) break;
    }
    if (st != BNN_OK) bnn_export_selection_free(sel);
    return st;
}

void bnn_export_selection_free(bnn_export_selection *sel)
{
    free(sel->col);
    memset(sel, 0, sizeof *sel);
}

void bnn_export_column_name(const bnn_export_run *r, const bnn_export_column *c, char *buf,
                            size_t len)
{
    size_t ndim = 2, shape[BNN_EXPORT_MAX_DIMS] = {r->fs_points, r->fs_outputs};
    const char *name = "p";
    if (!c->fs) {
        const bnn_export_block *blk = &r->blocks[c->block];
        ndim = blk->ndim;
        memcpy(shape, blk->shape, sizeof shape);
        name = blk->var_name;
    }
    size_t idx[BNN_EXPORT_MAX_DIMS], flat = c->index;
    for (size_t d = ndim; d-- > 0;) {
        idx[d] = flat % shape[d];
        flat /= shape[d];
    }
    size_t n = (size_t)snprintf(buf, len, "%s", name);
    for (size_t d = 0; d < ndim && n < len; d++)
        n += (size_t)snprintf(buf + n, len - n, ".%zu", idx[d] + 1);
}
