/* CSV reader: comma-separated finite numbers, one example per line, an optional header row and
 * a selectable target column. Errors name the file and the 1-based line and column. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/data_internal.h"
#include "data/dataset.h"

/* What every row of one file shares. */
typedef struct {
    const char *path;
    size_t ncols;       /* columns per row, from the first row */
    size_t target;      /* 0-based target column */
    size_t first_line;  /* line that fixed ncols, for messages */
} csv_layout;

/* The whole file in memory, NUL-terminated. */
static bnn_status csv_slurp(const char *path, char **text, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) return BNN_ERROR(BNN_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        fclose(f);
        return BNN_ERROR(BNN_EIO, "%s: cannot stat: %s", path, strerror(errno));
    }
    *size = (size_t)st.st_size;
    *text = malloc(*size + 1);
    if (!*text) {
        fclose(f);
        return BNN_ERROR(BNN_ENOMEM, "%s: out of memory reading %zu bytes", path, *size);
    }
    size_t got = fread(*text, 1, *size, f);
    fclose(f);
    if (got != *size) {
        free(*text);
        return BNN_ERROR(BNN_EIO, "%s: read %zu of %zu bytes", path, got, *size);
    }
    (*text)[*size] = '\0';
    return BNN_OK;
}

/* Trims blanks and one pair of double quotes around the cell [*s, *e). */
static void csv_trim(char **s, char **e)
{
    while (*s < *e && (**s == ' ' || **s == '\t')) (*s)++;
    while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t')) (*e)--;
    if (*e - *s >= 2 && **s == '"' && (*e)[-1] == '"') {
        (*s)++;
        (*e)--;
    }
}

/* Parses the cell [s, e) as a number: 1 if it is one (finite or not), else 0. */
static int csv_parse_number(char *s, char *e, double *v)
{
    *v = 0;
    csv_trim(&s, &e);
    if (s == e) return 0;
    char saved = *e, *end;
    *e = '\0';
    *v = strtod(s, &end);
    *e = saved;
    return end == e;
}

/* The cell [s, e) as a finite number; the error names file, line and column. */
static bnn_status csv_cell(char *s, char *e, const csv_layout *lay, size_t line, size_t col,
                           double *v)
{
    if (!csv_parse_number(s, e, v)) {
        csv_trim(&s, &e);
        if (s == e)
            return BNN_ERROR(BNN_EFORMAT, "%s:%zu:%zu: empty cell", lay->path, line, col);
        return BNN_ERROR(BNN_EFORMAT, "%s:%zu:%zu: '%.*s' is not a number", lay->path, line, col,
                         (int)(e - s > 40 ? 40 : e - s), s);
    }
    if (!isfinite(*v))
        return BNN_ERROR(BNN_ENUM, "%s:%zu:%zu: non-finite value '%.*s'", lay->path, line, col,
                         (int)(e - s > 40 ? 40 : e - s), s);
    return BNN_OK;
}

/* One data line [s, e): the target column into *y, the others in order into x (d values). */
static bnn_status csv_row(char *s, char *e, const csv_layout *lay, size_t line, double *x,
                          double *y)
{
    size_t col = 0, feature = 0;
    char *cell = s;
    for (char *p = s;; p++) {
        if (p != e && *p != ',') continue;
        if (col == lay->ncols)
            return BNN_ERROR(BNN_EFORMAT, "%s:%zu:%zu: more than %zu columns (line %zu has %zu)",
                             lay->path, line, col + 1, lay->ncols, lay->first_line, lay->ncols);
        double v = 0;
        BNN_TRY(csv_cell(cell, p, lay, line, col + 1, &v));
        if (col == lay->target) *y = v;
        else x[feature++] = v;
        col++;
        cell = p + 1;
        if (p == e) break;
    }
    if (col != lay->ncols)
        return BNN_ERROR(BNN_EFORMAT, "%s:%zu:%zu: %zu columns, expected %zu as on line %zu",
                         lay->path, line, col, col, lay->ncols, lay->first_line);
    return BNN_OK;
}

/* The next line from *p: [*s, *e) without the line ending; returns 0 at the end of the text. */
static int csv_next_line(char **p, char *end, char **s, char **e)
{
    if (*p >= end) return 0;
    *s = *p;
    char *nl = memchr(*p, '\n', (size_t)(end - *p));
    *e = nl ? nl : end;
    *p = nl ? nl + 1 : end;
    if (*e > *s && (*e)[-1] == '\r') (*e)--;
    return 1;
}

static int csv_blank(const char *s, const char *e)
{
    while (s < e && (*s == ' ' || *s == '\t')) s++;
    return s == e;
}

/* Whether a header row: told (header 0 or 1) or detected (some non-empty cell is not a
 * number; an empty cell is left for the data row's error). */
static int csv_is_header(char *s, char *e, int header)
{
    if (header >= 0) return header;
    char *cell = s;
    double v = 0;
    for (char *p = s;; p++) {
        if (p != e && *p != ',') continue;
        char *cs = cell, *ce = p;
        csv_trim(&cs, &ce);
        if (cs != ce && !csv_parse_number(cell, p, &v)) return 1;
        cell = p + 1;
        if (p == e) return 0;
    }
}

/* Columns of the first non-blank line and the target column; *p is left at that line. */
static bnn_status csv_layout_from(char *p, char *end, const bnn_csv_options *opt,
                                  csv_layout *lay, size_t *line)
{
    char *s, *e, *q = p;
    for (*line = 1; csv_next_line(&q, end, &s, &e); (*line)++) {
        if (csv_blank(s, e)) continue;
        lay->ncols = 1;
        for (char *c = s; c < e; c++) lay->ncols += *c == ',';
        lay->first_line = *line;
        if (lay->ncols < 2)
            return BNN_ERROR(BNN_EFORMAT, "%s:%zu:1: one column only; need features and a target",
                             lay->path, *line);
        long t = opt->target_col;
        if (t < -1 || (t >= 0 && (size_t)t >= lay->ncols))
            return BNN_ERROR(BNN_EINVAL, "%s:%zu: target column %ld is not one of the %zu "
                             "columns (0-based, -1 = last)", lay->path, *line, t, lay->ncols);
        lay->target = t < 0 ? lay->ncols - 1 : (size_t)t;
        return BNN_OK;
    }
    return BNN_ERROR(BNN_EFORMAT, "%s:%zu: empty file (no rows)", lay->path, *line);
}

/* Parses all rows of text into out, which has room for out->n rows; sets out->n. */
static bnn_status csv_parse(char *text, size_t size, const bnn_csv_options *opt,
                            const csv_layout *lay, size_t line, bnn_table *out)
{
    char *p = text, *end = text + size, *s, *e;
    size_t rows = 0, max_rows = out->n, current = 0;
    int first = 1;
    while (csv_next_line(&p, end, &s, &e)) {
        current++;
        if (current < line || csv_blank(s, e)) continue;
        if (first) {
            first = 0;
            if (csv_is_header(s, e, opt->header)) continue;
        }
        if (rows == max_rows) /* cannot happen: max_rows counts every line */
            return BNN_ERROR(BNN_EFORMAT, "%s:%zu: more rows than lines", lay->path, current);
        BNN_TRY(csv_row(s, e, lay, current, out->x + rows * out->d, out->y + rows));
        rows++;
    }
    if (rows == 0)
        return BNN_ERROR(BNN_EFORMAT, "%s:%zu: no data rows after the header", lay->path,
                         current + 1);
    out->n = rows;
    return BNN_OK;
}

bnn_status bnn_read_csv(const char *path, const bnn_csv_options *opt, bnn_table *out)
{
    static const bnn_csv_options defaults = {-1, -1};
    char *text = NULL;
    size_t size = 0, line = 0;
    memset(out, 0, sizeof *out);
    if (!opt) opt = &defaults;
    BNN_TRY(csv_slurp(path, &text, &size));
    char *start = text;
    if (size >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) start += 3; /* UTF-8 byte order mark */
    size -= (size_t)(start - text);
    csv_layout lay = {.path = path};
    bnn_status st = csv_layout_from(start, start + size, opt, &lay, &line);
    /* Rows: at most one per line, and each holds ncols - 1 commas and a line end, so at most
     * size / ncols + 1 (which keeps the table within 8 bytes per byte of the file). */
    size_t max_rows = 1;
    for (size_t i = 0; i < size; i++) max_rows += start[i] == '\n';
    if (st == BNN_OK && max_rows > size / lay.ncols + 1) max_rows = size / lay.ncols + 1;
    if (st == BNN_OK) st = bnn_table_alloc(out, max_rows, lay.ncols - 1, path);
    if (st == BNN_OK) st = csv_parse(start, size, opt, &lay, line, out);
    free(text);
    if (st != BNN_OK) {
        bnn_table_free(out);
        return st;
    }
    size_t values = out->n * out->d;
    double *x = realloc(out->x, (values > 0 ? values : 1) * sizeof(double));
    if (x) out->x = x; /* shrinking; keeping the larger block is harmless */
    return BNN_OK;
}
