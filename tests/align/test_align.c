/* Weight matching: the Hungarian method against brute force, exact recovery of draws that are
 * permutations and sign flips of one another (one and two hidden layers), and predictions that
 * alignment leaves unchanged. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag/align.h"
#include "nn/symmetry.h"

static int verdict(int ok, const char *what, double value)
{
    printf("%s %s (%.3g)\n", ok ? "ok" : "not ok", what, value);
    return ok;
}

/* Best assignment value over all permutations of 0..n-1 (Heap's algorithm), n <= 7. */
static double brute_force(const double *s, size_t n)
{
    size_t p[8], c[8] = {0};
    for (size_t i = 0; i < n; i++) p[i] = i;
    double best = -INFINITY;
    for (size_t i = 0;;) {
        double v = 0;
        for (size_t r = 0; r < n; r++) v += s[r * n + p[r]];
        best = fmax(best, v);
        while (i < n && c[i] >= i) c[i++] = 0;
        if (i >= n) break;
        size_t j = i % 2 ? c[i] : 0, t = p[j];
        p[j] = p[i], p[i] = t;
        c[i]++;
        i = 0;
    }
    return best;
}

static int check_assignment(void)
{
    bnn_rng rng;
    bnn_rng_init(&rng, 3, 0);
    double s[49], work[24], worst = 0;
    size_t iwork[24], assign[7];
    for (size_t trial = 0; trial < 50; trial++) {
        size_t n = 1 + trial % 7;
        bnn_rng_normals(&rng, s, n * n);
        if (trial % 5 == 0) s[0] = s[1 % (n * n)]; /* ties */
        if (bnn_assign_max(s, n, assign, work, iwork) != BNN_OK) return verdict(0, "assignment", 0);
        double v = 0;
        int used[7] = {0};
        for (size_t r = 0; r < n; r++) v += s[r * n + assign[r]], used[assign[r]]++;
        for (size_t r = 0; r < n; r++)
            if (used[r] != 1) return verdict(0, "assignment is a permutation", (double)r);
        worst = fmax(worst, fabs(v - brute_force(s, n)));
    }
    return verdict(worst < 1e-12, "Hungarian = brute force on 50 random 1x1..7x7 problems", worst);
}

/* Random symmetry transforms of a base draw align back to it exactly, and keep predictions. */
static int check_recovery(const char *arch, bnn_activation act)
{
    bnn_mlp m;
    if (bnn_mlp_init(&m, arch, 6, 3, act, BNN_LIK_CATEGORICAL, 1) != BNN_OK) return 0;
    size_t P = m.n_params, rows = 9;
    double *base = malloc(P * sizeof *base), *x = malloc(P * sizeof *x);
    double *work = malloc(bnn_mlp_workspace_len(&m, rows) * sizeof(double));
    double in[9 * 6], p0[9 * 3], p1[9 * 3];
    size_t scratch[16];
    bnn_rng rng;
    bnn_rng_init(&rng, 11, 2);
    bnn_rng_normals(&rng, base, P);
    bnn_rng_normals(&rng, in, rows * 6);
    bnn_align *a;
    if (bnn_align_alloc(&m, 8, &a) != BNN_OK) return 0;
    double worst_w = 0, worst_p = 0;
    size_t moved = 0;
    for (size_t t = 0; t < 40; t++) {
        memcpy(x, base, P * sizeof *x);
        bnn_mlp_symmetry_move(&m, x, NULL, &rng, scratch);
        bnn_mlp_block_predict(&m, BNN_F64, x, in, rows, p0, work);
        bnn_align_draw(a, base, x, NULL);
        moved += (size_t)bnn_align_last_changed(a);
        bnn_mlp_block_predict(&m, BNN_F64, x, in, rows, p1, work);
        for (size_t i = 0; i < P; i++) worst_w = fmax(worst_w, fabs(x[i] - base[i]));
        for (size_t i = 0; i < rows * 3; i++) worst_p = fmax(worst_p, fabs(p0[i] - p1[i]));
    }
    char what[160];
    snprintf(what, sizeof what, "%s %s: 40 permuted%s draws align to the base exactly", arch,
             bnn_activation_name(act), bnn_activation_is_odd(act) ? "/flipped" : "");
    int ok = verdict(worst_w == 0 && moved >= 38, what, worst_w);
    snprintf(what, sizeof what, "%s %s: alignment keeps every prediction", arch, bnn_activation_name(act));
    ok &= verdict(worst_p < 1e-14, what, worst_p);
    bnn_align_free(a);
    free(base);
    free(x);
    free(work);
    return ok;
}

int main(void)
{
    int ok = check_assignment();
    ok &= check_recovery("mlp:7", BNN_ACT_TANH);
    ok &= check_recovery("mlp:7", BNN_ACT_RELU);
    ok &= check_recovery("mlp:8,5", BNN_ACT_ERF);
    ok &= check_recovery("mlp:5,6,4", BNN_ACT_SWISH);
    return ok ? 0 : 1;
}
