/* Pairwise function-space comparison of chains and their connected components ("islands"). */
#include "diag/islands.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "diag/diag_internal.h"

size_t bnn_islands_pair_index(size_t a, size_t b, size_t K)
{
    return a * K - a * (a + 1) / 2 + (b - a - 1);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static size_t argmax(const double *p, size_t n)
{
    size_t k = 0;
    for (size_t i = 1; i < n; i++)
        if (p[i] > p[k]) k = i;
    return k;
}

/* Agreement and TV of chains a and b from their mean outputs (P points, C outputs). */
static void compare_means(const double *ma, const double *mb, size_t P, size_t C, int classify,
                          double *agreement, double *tv)
{
    double agree = 0, dist = 0;
    for (size_t p = 0; p < P; p++) {
        const double *x = ma + p * C, *y = mb + p * C;
        double d = 0;
        for (size_t o = 0; o < C; o++) d += fabs(x[o] - y[o]);
        dist += classify ? 0.5 * d : d / (double)C;
        agree += classify && argmax(x, C) == argmax(y, C);
    }
    *agreement = classify ? agree / (double)P : NAN;
    *tv = dist / (double)P;
}

/* Union-find root with path halving. */
static size_t root(size_t *parent, size_t i)
{
    while (parent[i] != i) i = parent[i] = parent[parent[i]];
    return i;
}

static bnn_status label_islands(bnn_islands *s)
{
    size_t K = s->n_chain;
    for (size_t c = 0; c < K; c++) s->island[c] = c;
    for (size_t a = 0; a < K; a++)
        for (size_t b = a + 1; b < K; b++)
            if (s->rhat_q90[a * K + b] <= s->threshold) {
                size_t ra = root(s->island, a), rb = root(s->island, b);
                s->island[ra > rb ? ra : rb] = ra < rb ? ra : rb;
            }
    /* Number the components 0, 1, ... in order of their smallest chain. */
    size_t *label = malloc(2 * K * sizeof *label), *roots = label + K;
    if (!label) return BNN_ERROR(BNN_ENOMEM, "islands: out of memory");
    for (size_t c = 0; c < K; c++) label[c] = SIZE_MAX, roots[c] = root(s->island, c);
    s->n_islands = 0;
    for (size_t c = 0; c < K; c++)
        if (label[roots[c]] == SIZE_MAX) label[roots[c]] = s->n_islands++;
    for (size_t c = 0; c < K; c++) s->island[c] = label[roots[c]];
    free(label);
    return BNN_OK;
}

bnn_status bnn_islands_compute(const double *chain_mean, const double *pair_rhat, size_t K,
                               size_t n_points, size_t n_outputs, int classification,
                               double threshold, bnn_islands *s)
{
    memset(s, 0, sizeof *s);
    if (!chain_mean || !pair_rhat || K < 1 || n_points < 1 || n_outputs < 1)
        return BNN_ERROR(BNN_EINVAL, "islands: bad arguments");
    size_t Q = n_points * n_outputs;
    s->n_chain = K;
    s->threshold = threshold > 0 ? threshold : BNN_ISLANDS_DEFAULT_THRESHOLD;
    double **m[5] = {&s->agreement, &s->tv, &s->rhat_q50, &s->rhat_q90, &s->rhat_max};
    for (size_t k = 0; k < 5; k++) *m[k] = malloc(K * K * sizeof(double));
    s->island = malloc(K * sizeof *s->island);
    double *tmp = malloc(Q * sizeof *tmp);
    if (!s->agreement || !s->tv || !s->rhat_q50 || !s->rhat_q90 || !s->rhat_max || !s->island || !tmp) {
        free(tmp);
        bnn_islands_free(s);
        return BNN_ERROR(BNN_ENOMEM, "islands: out of memory");
    }
    for (size_t a = 0; a < K; a++) {
        s->agreement[a * K + a] = classification ? 1 : NAN;
        s->tv[a * K + a] = 0;
        s->rhat_q50[a * K + a] = s->rhat_q90[a * K + a] = s->rhat_max[a * K + a] = NAN;
        for (size_t b = a + 1; b < K; b++) {
            double ag, tv;
            compare_means(chain_mean + a * Q, chain_mean + b * Q, n_points, n_outputs,
                          classification, &ag, &tv);
            const double *r = pair_rhat + bnn_islands_pair_index(a, b, K) * Q;
            size_t k = 0;
            for (size_t q = 0; q < Q; q++)
                if (!isnan(r[q])) tmp[k++] = r[q];
            qsort(tmp, k, sizeof *tmp, cmp_double);
            double q50 = k ? diag_quantile7_sorted(tmp, k, 0.5) : NAN;
            double q90 = k ? diag_quantile7_sorted(tmp, k, 0.9) : NAN, mx = k ? tmp[k - 1] : NAN;
            s->agreement[a * K + b] = s->agreement[b * K + a] = ag;
            s->tv[a * K + b] = s->tv[b * K + a] = tv;
            s->rhat_q50[a * K + b] = s->rhat_q50[b * K + a] = q50;
            s->rhat_q90[a * K + b] = s->rhat_q90[b * K + a] = q90;
            s->rhat_max[a * K + b] = s->rhat_max[b * K + a] = mx;
        }
    }
    free(tmp);
    bnn_status st = label_islands(s);
    if (st != BNN_OK) bnn_islands_free(s);
    return st;
}

void bnn_islands_free(bnn_islands *s)
{
    if (!s) return;
    free(s->agreement);
    free(s->tv);
    free(s->rhat_q50);
    free(s->rhat_q90);
    free(s->rhat_max);
    free(s->island);
    memset(s, 0, sizeof *s);
}

static json_t *num(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static json_t *matrix_json(const double *m, size_t K)
{
    json_t *rows = json_array();
    for (size_t a = 0; a < K; a++) {
        json_t *row = json_array();
        for (size_t b = 0; b < K; b++) json_array_append_new(row, num(m[a * K + b]));
        json_array_append_new(rows, row);
    }
    return rows;
}

json_t *bnn_islands_json(const bnn_islands *s)
{
    size_t K = s->n_chain;
    json_t *of = json_array(), *groups = json_array(), *pairs = json_array();
    for (size_t c = 0; c < K; c++) json_array_append_new(of, json_integer((json_int_t)s->island[c]));
    for (size_t i = 0; i < s->n_islands; i++) {
        json_t *g = json_array();
        for (size_t c = 0; c < K; c++)
            if (s->island[c] == i) json_array_append_new(g, json_integer((json_int_t)c));
        json_array_append_new(groups, g);
    }
    for (size_t a = 0; a < K; a++)
        for (size_t b = a + 1; b < K; b++)
            json_array_append_new(pairs, json_pack("{s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:b}",
                "a", (json_int_t)a, "b", (json_int_t)b, "agreement", num(s->agreement[a * K + b]),
                "tv", num(s->tv[a * K + b]), "rhat_q50", num(s->rhat_q50[a * K + b]),
                "rhat_q90", num(s->rhat_q90[a * K + b]), "rhat_max", num(s->rhat_max[a * K + b]),
                "linked", s->rhat_q90[a * K + b] <= s->threshold));
    return json_pack("{s:s, s:f, s:I, s:o, s:o, s:o, s:o, s:o, s:o}", "rule",
                     "chains a, b linked when the 90% quantile over function-space outputs of "
                     "their 2-chain R-hat is <= threshold; islands = connected components",
                     "threshold", s->threshold, "n_islands", (json_int_t)s->n_islands, "island_of_chain", of,
                     "islands", groups, "pairs", pairs, "agreement", matrix_json(s->agreement, K),
                     "tv", matrix_json(s->tv, K), "rhat_q90", matrix_json(s->rhat_q90, K));
}
