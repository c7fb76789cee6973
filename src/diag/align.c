/* Weight matching of MLP draws to a reference: similarity matrices by BLAS, the Hungarian
 * method, and the bookkeeping of the transform found (per layer: a permutation and signs). */
#include "diag/align.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/symmetry.h"

/* One Dijkstra-like augmenting step per row (e-maxx's formulation of Kuhn-Munkres with
 * potentials u, v), minimising the cost -score. 1-based indices; column 0 is a sentinel. */
bnn_status bnn_assign_max(const double *score, size_t n, size_t *assign, double *work,
                          size_t *iwork)
{
    for (size_t i = 0; i < n * n; i++)
        if (!isfinite(score[i])) return BNN_ERROR(BNN_ENUM, "assignment: non-finite score");
    double *u = work, *v = work + n + 1, *minv = work + 2 * (n + 1);
    size_t *p = iwork, *way = iwork + n + 1, *used = iwork + 2 * (n + 1);
    for (size_t j = 0; j <= n; j++) u[j] = v[j] = 0, p[j] = way[j] = 0;
    for (size_t i = 1; i <= n; i++) {
        size_t j0 = 0;
        p[0] = i;
        for (size_t j = 0; j <= n; j++) minv[j] = INFINITY, used[j] = 0;
        do {
            used[j0] = 1;
            size_t i0 = p[j0], j1 = 0;
            double delta = INFINITY;
            for (size_t j = 1; j <= n; j++) {
                if (used[j]) continue;
                double cur = -score[(i0 - 1) * n + (j - 1)] - u[i0] - v[j];
                if (cur < minv[j]) minv[j] = cur, way[j] = j0;
                if (minv[j] < delta) delta = minv[j], j1 = j;
            }
            for (size_t j = 0; j <= n; j++) {
                if (used[j]) u[p[j]] += delta, v[j] -= delta;
                else minv[j] -= delta;
            }
            j0 = j1;
        } while (p[j0] != 0);
        do {
            size_t j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
        } while (j0);
    }
    for (size_t j = 1; j <= n; j++) assign[p[j] - 1] = j - 1;
    return BNN_OK;
}

struct bnn_align {
    bnn_mlp model;
    size_t max_sweeps, H;       /* H: widest hidden layer */
    double *score;              /* (H, H) similarity of draw unit j to reference unit k */
    double *work;               /* 3 (H + 1) */
    size_t *iwork;              /* 3 (H + 1) */
    size_t *assign, *perm;      /* (H) */
    int8_t *sign;               /* (H) */
    /* The transform found by the last alignment, per hidden layer l (offset l * H): position k
     * holds the original unit total_unit[k] multiplied by total_sign[k]. */
    size_t *total_unit;         /* (n_hidden, H) */
    int8_t *total_sign;         /* (n_hidden, H) */
};

bnn_status bnn_align_alloc(const bnn_mlp *m, size_t max_sweeps, bnn_align **out)
{
    bnn_align *a = calloc(1, sizeof *a);
    if (!a) return BNN_ERROR(BNN_ENOMEM, "align: out of memory");
    a->model = *m;
    a->max_sweeps = max_sweeps ? max_sweeps : 1;
    size_t H = bnn_mlp_max_hidden_width(m), L = bnn_mlp_n_hidden(m), H1 = H ? H : 1;
    a->H = H;
    a->score = malloc(H1 * H1 * sizeof *a->score);
    a->work = malloc(3 * (H + 1) * sizeof *a->work);
    a->iwork = malloc(3 * (H + 1) * sizeof *a->iwork);
    a->assign = malloc(H1 * sizeof *a->assign);
    a->perm = malloc(H1 * sizeof *a->perm);
    a->sign = malloc(H1 * sizeof *a->sign);
    a->total_unit = malloc((L ? L : 1) * H1 * sizeof *a->total_unit);
    a->total_sign = malloc((L ? L : 1) * H1 * sizeof *a->total_sign);
    if (!a->score || !a->work || !a->iwork || !a->assign || !a->perm || !a->sign ||
        !a->total_unit || !a->total_sign) {
        bnn_align_free(a);
        return BNN_ERROR(BNN_ENOMEM, "align: out of memory for hidden width %zu", H);
    }
    *out = a;
    return BNN_OK;
}

void bnn_align_free(bnn_align *a)
{
    if (!a) return;
    free(a->score);
    free(a->work);
    free(a->iwork);
    free(a->assign);
    free(a->perm);
    free(a->sign);
    free(a->total_unit);
    free(a->total_sign);
    free(a);
}

/* score (H, H) = similarity of the draw's units of hidden layer l to the reference's. */
static void layer_similarity(const bnn_mlp *m, size_t l, const double *ref, const double *theta,
                             double *score)
{
    size_t in = m->width[l], H = m->width[l + 1], out = m->width[l + 2];
    const double *b = theta + m->b_offset[l], *rb = ref + m->b_offset[l];
    /* Incoming: W^T W* with W (in, H); outgoing: N N*^T with N (H, out). */
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)H, (int)H, (int)in, 1.0,
                theta + m->w_offset[l], (int)H, ref + m->w_offset[l], (int)H, 0.0, score, (int)H);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)H, (int)H, (int)out, 1.0,
                theta + m->w_offset[l + 1], (int)out, ref + m->w_offset[l + 1], (int)out, 1.0,
                score, (int)H);
    for (size_t j = 0; j < H; j++)
        for (size_t k = 0; k < H; k++) score[j * H + k] += b[j] * rb[k];
}

/* Matches hidden layer l of theta to ref and applies the result; *changed is set if the
 * transform is not the identity. */
static bnn_status align_layer(bnn_align *a, size_t l, const double *ref, double *theta,
                              int *changed)
{
    const bnn_mlp *m = &a->model;
    size_t H = m->width[l + 1];
    int odd = bnn_activation_is_odd(m->act);
    layer_similarity(m, l, ref, theta, a->score);
    for (size_t j = 0; j < H; j++) a->sign[j] = 1;
    if (odd) { /* the best sign of each pair, then match on |S| */
        for (size_t i = 0; i < H * H; i++) a->score[i] = fabs(a->score[i]);
    }
    BNN_TRY(bnn_assign_max(a->score, H, a->assign, a->work, a->iwork));
    if (odd) { /* recompute the signed similarity of the assigned pairs only */
        layer_similarity(m, l, ref, theta, a->score);
        for (size_t j = 0; j < H; j++)
            if (a->score[j * H + a->assign[j]] < 0) a->sign[j] = -1;
    }
    for (size_t j = 0; j < H; j++) a->perm[a->assign[j]] = j; /* new unit k = old perm[k] */
    int identity = 1;
    for (size_t k = 0; k < H; k++) identity &= a->perm[k] == k && a->sign[k] == 1;
    if (identity) return BNN_OK;
    *changed = 1;
    if (odd) BNN_TRY(bnn_mlp_flip_units(m, l, a->sign, theta));
    BNN_TRY(bnn_mlp_permute_units(m, l, a->perm, theta));
    size_t *unit = a->total_unit + l * a->H;
    int8_t *sg = a->total_sign + l * a->H;
    size_t *old_unit = a->assign; /* reuse: the bookkeeping before this step */
    double *old_sign = a->work;
    for (size_t k = 0; k < H; k++) old_unit[k] = unit[k], old_sign[k] = sg[k];
    for (size_t k = 0; k < H; k++) {
        unit[k] = old_unit[a->perm[k]];
        sg[k] = (int8_t)(old_sign[a->perm[k]] * (double)a->sign[a->perm[k]]);
    }
    return BNN_OK;
}

bnn_status bnn_align_draw(bnn_align *a, const double *ref, double *theta, size_t *sweeps)
{
    if (!a || !ref || !theta) return BNN_ERROR(BNN_EINVAL, "align: NULL argument");
    size_t L = bnn_mlp_n_hidden(&a->model), used = 0;
    for (size_t l = 0; l < L; l++)
        for (size_t k = 0; k < a->H; k++) {
            a->total_unit[l * a->H + k] = k;
            a->total_sign[l * a->H + k] = 1;
        }
    for (int changed = 1; changed && used < a->max_sweeps && L > 0;) {
        changed = 0;
        for (size_t l = 0; l < L; l++) BNN_TRY(align_layer(a, l, ref, theta, &changed));
        used++;
        if (L == 1) break; /* one layer's similarity does not depend on any other layer */
    }
    if (sweeps) *sweeps = used;
    return BNN_OK;
}

bnn_status bnn_align_apply_last(bnn_align *a, double *theta)
{
    if (!a || !theta) return BNN_ERROR(BNN_EINVAL, "align: NULL argument");
    const bnn_mlp *m = &a->model;
    for (size_t l = 0; l < bnn_mlp_n_hidden(m); l++) {
        size_t H = m->width[l + 1];
        const size_t *unit = a->total_unit + l * a->H;
        const int8_t *sg = a->total_sign + l * a->H;
        /* Flip the original units that end up negated, then move them into place. */
        for (size_t k = 0; k < H; k++) a->sign[unit[k]] = sg[k];
        if (bnn_activation_is_odd(m->act)) BNN_TRY(bnn_mlp_flip_units(m, l, a->sign, theta));
        BNN_TRY(bnn_mlp_permute_units(m, l, unit, theta));
    }
    return BNN_OK;
}

int bnn_align_last_changed(const bnn_align *a)
{
    for (size_t l = 0; l < bnn_mlp_n_hidden(&a->model); l++)
        for (size_t k = 0; k < a->model.width[l + 1]; k++)
            if (a->total_unit[l * a->H + k] != k || a->total_sign[l * a->H + k] != 1) return 1;
    return 0;
}
