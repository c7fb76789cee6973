/* CSV readers for draws from any sampler: plain chains-in-columns files and CmdStan output. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag/draws_csv.h"

/* One file read line by line, with the position for messages. */
typedef struct {
    const char *path;
    FILE *f;
    char *line;
    size_t cap, lineno;
} reader;

/* A line cut into fields at commas (in place); col[i] is field i's 1-based character column. */
typedef struct {
    char **field;
    size_t *col;
    size_t n, cap;
} fields;

/* A growing array of doubles. */
typedef struct {
    double *v;
    size_t n, cap;
} dvec;

static bnn_status reader_open(reader *r, const char *path)
{
    memset(r, 0, sizeof *r);
    r->path = path;
    r->f = fopen(path, "r");
    if (!r->f) return BNN_ERROR(BNN_EIO, "%s: cannot open", path);
    return BNN_OK;
}

static void reader_close(reader *r)
{
    if (r->f) fclose(r->f);
    free(r->line);
    r->f = NULL;
    r->line = NULL;
}

/* Next line without its end-of-line characters; 0 at end of file. */
static int reader_next(reader *r)
{
    ssize_t len = getline(&r->line, &r->cap, r->f);
    if (len < 0) return 0;
    while (len > 0 && (r->line[len - 1] == '\n' || r->line[len - 1] == '\r')) r->line[--len] = 0;
    r->lineno++;
    return 1;
}

static int blank(const char *s)
{
    while (isspace((unsigned char)*s)) s++;
    return *s == 0;
}

static bnn_status fields_split(fields *fs, char *line)
{
    fs->n = 0;
    for (char *p = line;;) {
        if (fs->n == fs->cap) {
            size_t cap = fs->cap ? 2 * fs->cap : 64;
            char **nf = realloc(fs->field, cap * sizeof *nf);
            if (nf) fs->field = nf;
            size_t *nc = realloc(fs->col, cap * sizeof *nc);
            if (nc) fs->col = nc;
            if (!nf || !nc) return BNN_ERROR(BNN_ENOMEM, "csv: out of memory");
            fs->cap = cap;
        }
        fs->field[fs->n] = p;
        fs->col[fs->n++] = (size_t)(p - line) + 1;
        char *comma = strchr(p, ',');
        if (!comma) break;
        *comma = 0;
        p = comma + 1;
    }
    return BNN_OK;
}

/* Trims blanks and one pair of double quotes, in place. */
static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    size_t len = strlen(s);
    while (len > 0 && isspace((unsigned char)s[len - 1])) s[--len] = 0;
    if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
        s[len - 1] = 0;
        s++;
    }
    return s;
}

/* A number as strtod reads it (nan, inf included) or R's NA; 0 if the field is not one. */
static int parse_number(char *field, double *v)
{
    char *s = trim(field), *end;
    if (!strcmp(s, "NA")) {
        *v = NAN;
        return 1;
    }
    if (*s == 0) return 0;
    *v = strtod(s, &end);
    return *end == 0;
}

static bnn_status dvec_push(dvec *d, double v)
{
    if (d->n == d->cap) {
        size_t cap = d->cap ? 2 * d->cap : 1024;
        double *nv = realloc(d->v, cap * sizeof *nv);
        if (!nv) return BNN_ERROR(BNN_ENOMEM, "csv: out of memory");
        d->v = nv;
        d->cap = cap;
    }
    d->v[d->n++] = v;
    return BNN_OK;
}

static bnn_status bad_field(const reader *r, const fields *fs, size_t i)
{
    return BNN_ERROR(BNN_EFORMAT, "%s:%zu:%zu: field %zu ('%s') is not a number", r->path,
                     r->lineno, fs->col[i], i + 1, trim(fs->field[i]));
}

static bnn_status bad_count(const reader *r, size_t found, size_t expected)
{
    return BNN_ERROR(BNN_EFORMAT, "%s:%zu:1: %zu fields, expected %zu", r->path, r->lineno,
                     found, expected);
}

/* Parses fields keep[0..n_keep) of the current line (all fields if keep is NULL). */
static bnn_status parse_row(const reader *r, fields *fs, const size_t *keep, size_t n_keep,
                            dvec *out)
{
    for (size_t k = 0; k < n_keep; k++) {
        size_t i = keep ? keep[k] : k;
        double v;
        if (!parse_number(fs->field[i], &v)) return bad_field(r, fs, i);
        BNN_TRY(dvec_push(out, v));
    }
    return BNN_OK;
}

static char *dup_string(const char *s)
{
    char *d = malloc(strlen(s) + 1);
    if (d) strcpy(d, s);
    return d;
}

void bnn_draws_free(bnn_draws *d)
{
    if (!d) return;
    for (size_t v = 0; d->names && v < d->n_var; v++) free(d->names[v]);
    free(d->names);
    free(d->draws);
    memset(d, 0, sizeof *d);
}

/* rows x cols row-major values of chain c into the (var, chain, iter) layout. */
static void scatter_chain(bnn_draws *d, size_t c, const double *rows, size_t n_rows)
{
    for (size_t i = 0; i < n_rows; i++)
        for (size_t v = 0; v < d->n_var; v++)
            d->draws[(v * d->n_chain + c) * d->n_iter + i] = rows[i * d->n_var + v];
}

/* ---- plain CSV: one column per chain ---------------------------------------------------- */

/* The first line: numbers (kept as the first row) or a header (skipped). */
static void first_line(fields *fs, dvec *rows)
{
    size_t start = rows->n;
    for (size_t i = 0; i < fs->n; i++) {
        double v;
        if (!parse_number(fs->field[i], &v) || dvec_push(rows, v) != BNN_OK) {
            rows->n = start; /* a header: its names are not needed */
            return;
        }
    }
}

static bnn_status plain_to_draws(const dvec *rows, size_t n_cols, bnn_draws *out)
{
    out->n_var = 1;
    out->n_chain = n_cols;
    out->n_iter = rows->n / n_cols;
    out->names = calloc(1, sizeof(char *));
    out->draws = malloc(rows->n * sizeof(double));
    if (!out->names || !out->draws || !(out->names[0] = dup_string("x")))
        return BNN_ERROR(BNN_ENOMEM, "csv: out of memory");
    for (size_t i = 0; i < out->n_iter; i++)
        for (size_t c = 0; c < n_cols; c++) out->draws[c * out->n_iter + i] = rows->v[i * n_cols + c];
    return BNN_OK;
}

static bnn_status read_plain(const char *path, bnn_draws *out)
{
    reader r;
    fields fs = {0};
    dvec rows = {0};
    size_t n_cols = 0;
    bnn_status st = reader_open(&r, path);
    while (st == BNN_OK && reader_next(&r)) {
        if (blank(r.line)) continue;
        if ((st = fields_split(&fs, r.line)) != BNN_OK) break;
        if (n_cols == 0) {
            n_cols = fs.n;
            first_line(&fs, &rows);
        } else if (fs.n != n_cols) {
            st = bad_count(&r, fs.n, n_cols);
        } else {
            st = parse_row(&r, &fs, NULL, n_cols, &rows);
        }
    }
    if (st == BNN_OK && rows.n == 0) st = BNN_ERROR(BNN_EFORMAT, "%s: no draws", path);
    if (st == BNN_OK) st = plain_to_draws(&rows, n_cols, out);
    reader_close(&r);
    free(fs.field);
    free(fs.col);
    free(rows.v);
    return st;
}

/* ---- CmdStan output: one file per chain, one column per variable --------------------------- */

typedef struct {
    char **header;     /* (n_cols) column names of the first file */
    size_t n_cols;
    size_t *keep;      /* (n_keep) the columns reported: not ending in "__", or lp__ */
    size_t n_keep;
    const char *first_path;
} cmdstan_layout;

static void layout_free(cmdstan_layout *l)
{
    for (size_t i = 0; l->header && i < l->n_cols; i++) free(l->header[i]);
    free(l->header);
    free(l->keep);
}

static int sampler_column(const char *name)
{
    size_t len = strlen(name);
    return len >= 2 && !strcmp(name + len - 2, "__") && strcmp(name, "lp__");
}

static bnn_status layout_set(cmdstan_layout *l, const reader *r, fields *fs)
{
    l->header = calloc(fs->n, sizeof(char *));
    l->keep = malloc(fs->n * sizeof(size_t));
    if (!l->header || !l->keep) return BNN_ERROR(BNN_ENOMEM, "csv: out of memory");
    l->n_cols = fs->n;
    l->first_path = r->path;
    for (size_t i = 0; i < fs->n; i++) {
        if (!(l->header[i] = dup_string(trim(fs->field[i]))))
            return BNN_ERROR(BNN_ENOMEM, "csv: out of memory");
        if (!sampler_column(l->header[i])) l->keep[l->n_keep++] = i;
    }
    if (l->n_keep == 0)
        return BNN_ERROR(BNN_EFORMAT, "%s:%zu:1: no variables besides sampler columns", r->path,
                         r->lineno);
    return BNN_OK;
}

static bnn_status layout_check(const cmdstan_layout *l, const reader *r, fields *fs)
{
    if (fs->n != l->n_cols)
        return BNN_ERROR(BNN_EFORMAT, "%s:%zu:1: header has %zu columns, %s has %zu", r->path,
                         r->lineno, fs->n, l->first_path, l->n_cols);
    for (size_t i = 0; i < fs->n; i++) {
        const char *name = trim(fs->field[i]);
        if (strcmp(name, l->header[i]))
            return BNN_ERROR(BNN_EFORMAT, "%s:%zu:%zu: column '%s', but %s has '%s'", r->path,
                             r->lineno, fs->col[i], name, l->first_path, l->header[i]);
    }
    return BNN_OK;
}

/* One chain's post-warm-up rows (row-major, kept columns) into rows. */
static bnn_status read_cmdstan_file(const char *path, cmdstan_layout *l, dvec *rows)
{
    reader r;
    fields fs = {0};
    int have_header = 0;
    bnn_status st = reader_open(&r, path);
    while (st == BNN_OK && reader_next(&r)) {
        if (r.line[0] == '#') {
            if (strstr(r.line, "Adaptation terminated")) rows->n = 0; /* saved warm-up */
            continue;
        }
        if (blank(r.line)) continue;
        if ((st = fields_split(&fs, r.line)) != BNN_OK) break;
        if (!have_header) {
            st = l->header ? layout_check(l, &r, &fs) : layout_set(l, &r, &fs);
            have_header = 1;
        } else if (fs.n != l->n_cols) {
            st = bad_count(&r, fs.n, l->n_cols);
        } else {
            st = parse_row(&r, &fs, l->keep, l->n_keep, rows);
        }
    }
    if (st == BNN_OK && rows->n == 0) st = BNN_ERROR(BNN_EFORMAT, "%s: no draws", path);
    reader_close(&r);
    free(fs.field);
    free(fs.col);
    return st;
}

static bnn_status cmdstan_to_draws(const cmdstan_layout *l, dvec *rows, const char *const *paths,
                                   size_t n_paths, bnn_draws *out)
{
    size_t n_iter = rows[0].n / l->n_keep;
    for (size_t c = 1; c < n_paths; c++)
        if (rows[c].n / l->n_keep != n_iter)
            return BNN_ERROR(BNN_EFORMAT, "%s: %zu draws, but %s has %zu (chains must be equally "
                             "long)", paths[c], rows[c].n / l->n_keep, paths[0], n_iter);
    out->n_var = l->n_keep;
    out->n_chain = n_paths;
    out->n_iter = n_iter;
    out->cmdstan = 1;
    out->names = calloc(l->n_keep, sizeof(char *));
    out->draws = malloc(l->n_keep * n_paths * n_iter * sizeof(double));
    if (!out->names || !out->draws) return BNN_ERROR(BNN_ENOMEM, "csv: out of memory");
    for (size_t v = 0; v < l->n_keep; v++)
        if (!(out->names[v] = dup_string(l->header[l->keep[v]])))
            return BNN_ERROR(BNN_ENOMEM, "csv: out of memory");
    for (size_t c = 0; c < n_paths; c++) scatter_chain(out, c, rows[c].v, n_iter);
    return BNN_OK;
}

static bnn_status read_cmdstan(const char *const *paths, size_t n_paths, bnn_draws *out)
{
    cmdstan_layout l = {0};
    dvec *rows = calloc(n_paths, sizeof *rows);
    bnn_status st = rows ? BNN_OK : BNN_ERROR(BNN_ENOMEM, "csv: out of memory");
    for (size_t c = 0; st == BNN_OK && c < n_paths; c++)
        st = read_cmdstan_file(paths[c], &l, &rows[c]);
    if (st == BNN_OK) st = cmdstan_to_draws(&l, rows, paths, n_paths, out);
    for (size_t c = 0; rows && c < n_paths; c++) free(rows[c].v);
    free(rows);
    layout_free(&l);
    return st;
}

/* CmdStan when the first non-blank line is a comment or the header names lp__. */
static bnn_status looks_like_cmdstan(const char *path, int *yes)
{
    reader r;
    fields fs = {0};
    *yes = 0;
    BNN_TRY(reader_open(&r, path));
    bnn_status st = BNN_OK;
    while (reader_next(&r)) {
        if (blank(r.line)) continue;
        if (r.line[0] == '#') *yes = 1;
        else if ((st = fields_split(&fs, r.line)) == BNN_OK)
            for (size_t i = 0; i < fs.n; i++) *yes |= !strcmp(trim(fs.field[i]), "lp__");
        break;
    }
    reader_close(&r);
    free(fs.field);
    free(fs.col);
    return st;
}

bnn_status bnn_draws_read_csv(const char *const *paths, size_t n_paths, bnn_draws *out)
{
    if (!out || !paths || n_paths == 0) return BNN_ERROR(BNN_EINVAL, "csv: no files given");
    memset(out, 0, sizeof *out);
    int cmdstan = n_paths > 1;
    if (!cmdstan) BNN_TRY(looks_like_cmdstan(paths[0], &cmdstan));
    bnn_status st = cmdstan ? read_cmdstan(paths, n_paths, out) : read_plain(paths[0], out);
    if (st != BNN_OK) bnn_draws_free(out);
    return st;
}
