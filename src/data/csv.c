/* CSV readers: comma-separated finite numbers, one example per line, an optional header row and
 * a selectable target column (data tables); and plain matrices of numbers, comma- or
 * blank-separated (predictions). Errors name the file and the 1-based line and column. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/data_internal.h"
#include "data/dataset.h"

/* What every row of one file shares. */
typedef struct {
    const char *path;
    char sep;           /* ',' or ' ' (cells separated by runs of blanks) */
    size_t ncols;       /* columns per row, from the first row */
    size_t target;      /* 0-based target column (data tables) */
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

/* The next cell of a line that ends at e: [*cs, *ce) from *p, which moves past it. With sep ','
 * cells lie between commas (an empty one included; *p becomes NULL after the last); with sep ' '
 * they are separated by runs of blanks. Returns 0 when the line has no more cells. */
static int csv_next_cell(char **p, char *e, char sep, char **cs, char **ce)
{
    if (!*p) return 0;
    if (sep == ',') {
        char *comma = memchr(*p, ',', (size_t)(e - *p));
        *cs = *p;
        *ce = comma ? comma : e;
        *p = comma ? comma + 1 : NULL;
        return 1;
    }
    while (*p < e && (**p == ' ' || **p == '\t')) (*p)++;
    if (*p == e) return 0;
    *cs = *p;
    while (*p < e && **p != ' ' && **p != '\t') (*p)++;
    *ce = *p;
    return 1;
}

/* Every cell of the line [s, e) into row (lay->ncols values). */
static bnn_status csv_row_values(char *s, char *e, const csv_layout *lay, size_t line, double *row)
{
    size_t col = 0;
    char *p = s, *cs, *ce;
    while (csv_next_cell(&p, e, lay->sep, &cs, &ce)) {
        if (col == lay->ncols)
            return BNN_ERROR(BNN_EFORMAT, "%s:%zu:%zu: more than %zu columns (line %zu has %zu)",
                             lay->path, line, col + 1, lay->ncols, lay->first_line, lay->ncols);
        BNN_TRY(csv_cell(cs, ce, lay, line, col + 1, &row[col]));
        col++;
    }
    if (col != lay->ncols)
        return BNN_ERROR(BNN_EFORMAT, "%s:%zu:%zu: %zu columns, expected %zu as on line %zu",
                         lay->path, line, col, col, lay->ncols, lay->first_line);
    return BNN_OK;
}

/* One data line [s, e): the target column into *y, the others in order into x (ncols - 1
 * values); row is scratch room for ncols values. */
static bnn_status csv_row(char *s, char *e, const csv_layout *lay, size_t line, double *row,
                          double *x, double *y)
{
    BNN_TRY(csv_row_values(s, e, lay, line, row));
    for (size_t col = 0, feature = 0; col < lay->ncols; col++) {
        if (col == lay->target) *y = row[col];
        else x[feature++] = row[col];
    }
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
static int csv_is_header(char *s, char *e, int header, char sep)
{
    if (header >= 0) return header;
    char *p = s, *cs, *ce;
    double v = 0;
    while (csv_next_cell(&p, e, sep, &cs, &ce)) {
        char *ts = cs, *te = ce;
        csv_trim(&ts, &te);
        if (ts != te && !csv_parse_number(cs, ce, &v)) return 1;
    }
    return 0;
}

/* Cells of the line [s, e). */
static size_t csv_count_cells(char *s, char *e, char sep)
{
    size_t n = 0;
    char *p = s, *cs, *ce;
    while (csv_next_cell(&p, e, sep, &cs, &ce)) n++;
    return n;
}

/* Walks the data lines of a file: blank lines skipped, the first non-blank one dropped when it
 * is a header. */
typedef struct {
    char *p, *end;
    size_t line;    /* 1-based number of the line last returned */
    int header;     /* -1 detect, 0 none, 1 one header row */
    char sep;
    int seen_first; /* the first non-blank line has been looked at */
} csv_lines;

static csv_lines csv_lines_start(char *text, size_t size, int header, char sep)
{
    return (csv_lines){.p = text, .end = text + size, .header = header, .sep = sep};
}

/* The next data line [*s, *e); returns 0 at the end of the text. */
static int csv_next_data_line(csv_lines *it, char **s, char **e)
{
    while (csv_next_line(&it->p, it->end, s, e)) {
        it->line++;
        if (csv_blank(*s, *e)) continue;
        if (!it->seen_first) {
            it->seen_first = 1;
            if (csv_is_header(*s, *e, it->header, it->sep)) continue;
        }
        return 1;
    }
    return 0;
}

/* The layout of a file: the separator from the first non-blank line (',' when that line has a
 * comma or `matrix` is 0, else blanks) and the columns of that line (tables: a header must have
 * as many) or, for a matrix, of the first data line. Returns 1, or 0 when there is no non-blank
 * line, or -1 when a matrix has a header only; *lines is then the number of lines plus one. */
static int csv_layout_from(char *text, size_t size, int matrix, int header, csv_layout *lay,
                           size_t *lines)
{
    char *p = text, *end = text + size, *s, *e;
    for (*lines = 1; csv_next_line(&p, end, &s, &e); (*lines)++) {
        if (csv_blank(s, e)) continue;
        lay->sep = !matrix || memchr(s, ',', (size_t)(e - s)) ? ',' : ' ';
        if (!matrix) {
            lay->ncols = csv_count_cells(s, e, lay->sep);
            lay->first_line = *lines;
            return 1;
        }
        csv_lines it = csv_lines_start(text, size, header, lay->sep);
        if (!csv_next_data_line(&it, &s, &e)) {
            *lines = it.line + 1;
            return -1;
        }
        lay->ncols = csv_count_cells(s, e, lay->sep);
        lay->first_line = it.line;
        return 1;
    }
    return 0;
}

/* The whole file (without a UTF-8 byte order mark), its layout and a bound on its rows: at most
 * one per line, and each holds ncols cells of at least one byte, so at most size / ncols + 1
 * (which keeps the values within 8 bytes per byte of the file). */
static bnn_status csv_open(const char *path, int matrix, int header, char **text, char **start,
                           size_t *size, csv_layout *lay, size_t *max_rows)
{
    BNN_TRY(csv_slurp(path, text, size));
    *start = *text;
    if (*size >= 3 && memcmp(*text, "\xEF\xBB\xBF", 3) == 0) *start += 3;
    *size -= (size_t)(*start - *text);
    *lay = (csv_layout){.path = path};
    size_t lines = 0;
    int found = csv_layout_from(*start, *size, matrix, header, lay, &lines);
    if (found != 1) {
        free(*text);
        *text = NULL;
        if (found < 0)
            return BNN_ERROR(BNN_EFORMAT, "%s:%zu: no data rows after the header", path, lines);
        return BNN_ERROR(BNN_EFORMAT, "%s:%zu: empty file (no rows)", path, lines);
    }
    *max_rows = 1;
    for (size_t i = 0; i < *size; i++) *max_rows += (*start)[i] == '\n';
    if (*max_rows > *size / lay->ncols + 1) *max_rows = *size / lay->ncols + 1;
    return BNN_OK;
}

/* Parses all rows of text into out, which has room for out->n rows; sets out->n. */
static bnn_status csv_parse(char *text, size_t size, const bnn_csv_options *opt,
                            const csv_layout *lay, bnn_table *out)
{
    char *s, *e;
    size_t rows = 0, max_rows = out->n;
    double *row = malloc(lay->ncols * sizeof *row);
    if (!row) return BNN_ERROR(BNN_ENOMEM, "%s: out of memory", lay->path);
    csv_lines it = csv_lines_start(text, size, opt->header, lay->sep);
    bnn_status st = BNN_OK;
    while (st == BNN_OK && csv_next_data_line(&it, &s, &e)) {
        if (rows == max_rows) /* cannot happen: max_rows counts every line */
            st = BNN_ERROR(BNN_EFORMAT, "%s:%zu: more rows than lines", lay->path, it.line);
        else
            st = csv_row(s, e, lay, it.line, row, out->x + rows * out->d, out->y + rows);
        rows++;
    }
    free(row);
    if (st == BNN_OK && rows == 0)
        st = BNN_ERROR(BNN_EFORMAT, "%s:%zu: no data rows after the header", lay->path,
                       it.line + 1);
    out->n = rows;
    return st;
}

bnn_status bnn_read_csv(const char *path, const bnn_csv_options *opt, bnn_table *out)
{
    static const bnn_csv_options defaults = {-1, -1};
    char *text = NULL, *start;
    size_t size = 0, max_rows = 0;
    csv_layout lay;
    memset(out, 0, sizeof *out);
    if (!opt) opt = &defaults;
    BNN_TRY(csv_open(path, 0, opt->header, &text, &start, &size, &lay, &max_rows));
    bnn_status st = BNN_OK;
    long t = opt->target_col;
    if (lay.ncols < 2)
        st = BNN_ERROR(BNN_EFORMAT, "%s:%zu:1: one column only; need features and a target",
                       path, lay.first_line);
    else if (t < -1 || (t >= 0 && (size_t)t >= lay.ncols))
        st = BNN_ERROR(BNN_EINVAL, "%s:%zu: target column %ld is not one of the %zu columns "
                       "(0-based, -1 = last)", path, lay.first_line, t, lay.ncols);
    lay.target = t < 0 ? lay.ncols - 1 : (size_t)t;
    if (st == BNN_OK) st = bnn_table_alloc(out, max_rows, lay.ncols - 1, path);
    if (st == BNN_OK) st = csv_parse(start, size, opt, &lay, out);
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

void bnn_csv_matrix_free(bnn_csv_matrix *m)
{
    if (!m) return;
    free(m->v);
    free(m->line);
    memset(m, 0, sizeof *m);
}

bnn_status bnn_read_csv_matrix(const char *path, int header, bnn_csv_matrix *out)
{
    char *text = NULL, *start, *s, *e;
    size_t size = 0, max_rows = 0, values;
    csv_layout lay;
    memset(out, 0, sizeof *out);
    BNN_TRY(csv_open(path, 1, header, &text, &start, &size, &lay, &max_rows));
    bnn_status st = BNN_OK;
    if (!bnn_size_mul_ok(max_rows, lay.ncols, &values) || values > SIZE_MAX / sizeof(double))
        st = BNN_ERROR(BNN_ERANGE, "%s: %zu x %zu values overflow the address space", path,
                       max_rows, lay.ncols);
    if (st == BNN_OK) {
        out->v = malloc(values * sizeof *out->v);
        out->line = malloc(max_rows * sizeof *out->line);
        if (!out->v || !out->line)
            st = BNN_ERROR(BNN_ENOMEM, "%s: out of memory for %zu x %zu values", path, max_rows,
                           lay.ncols);
    }
    out->cols = lay.ncols;
    csv_lines it = csv_lines_start(start, size, header, lay.sep);
    while (st == BNN_OK && csv_next_data_line(&it, &s, &e)) {
        if (out->rows == max_rows) { /* cannot happen: max_rows counts every line */
            st = BNN_ERROR(BNN_EFORMAT, "%s:%zu: more rows than lines", path, it.line);
            break;
        }
        out->line[out->rows] = it.line;
        st = csv_row_values(s, e, &lay, it.line, out->v + out->rows * out->cols);
        out->rows++;
    }
    if (st == BNN_OK && out->rows == 0)
        st = BNN_ERROR(BNN_EFORMAT, "%s:%zu: no data rows after the header", path, it.line + 1);
    free(text);
    if (st != BNN_OK) bnn_csv_matrix_free(out);
    return st;
}
