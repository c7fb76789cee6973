/* Unit permutations, sign flips and the random symmetry move leave the network function
 * unchanged, carry the gradient exactly, and do move the weights. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/mlp.h"
#include "nn/symmetry.h"

#define N_IN 5
#define N_OUT 3
#define ROWS 7

/* Largest |a - b| over n numbers. */
static double max_diff(const double *a, const double *b, size_t n)
{
    double d = 0;
    for (size_t i = 0; i < n; i++) d = fmax(d, fabs(a[i] - b[i]));
    return d;
}

static int verdict(int ok, const char *what, double value)
{
    printf("%s %s (%.3g)\n", ok ? "ok" : "not ok", what, value);
    return ok;
}

/* One activation: move θ and ∇ together; predictions, log-likelihood and gradient agree. */
static int check_activation(bnn_activation act)
{
    bnn_mlp m;
    if (bnn_mlp_init(&m, "mlp:6,4", N_IN, N_OUT, act, BNN_LIK_CATEGORICAL, 1) != BNN_OK) return 0;
    size_t P = m.n_params;
    double *theta = malloc(P * sizeof *theta), *grad = malloc(P * sizeof *grad);
    double *theta0 = malloc(P * sizeof *theta0), *grad2 = malloc(P * sizeof *grad2);
    double *work = malloc(bnn_mlp_workspace_len(&m, ROWS) * sizeof(double));
    double x[ROWS * N_IN], y[ROWS], p0[ROWS * N_OUT], p1[ROWS * N_OUT];
    bnn_rng rng;
    bnn_rng_init(&rng, 7, 1);
    bnn_rng_normals(&rng, theta, P);
    bnn_rng_normals(&rng, x, ROWS * N_IN);
    for (size_t r = 0; r < ROWS; r++) y[r] = (double)(r % N_OUT);
    memcpy(theta0, theta, P * sizeof *theta);
    double ll0 = bnn_mlp_block_loglik(&m, BNN_F64, theta, x, y, ROWS, grad, work);
    bnn_mlp_block_predict(&m, BNN_F64, theta, x, ROWS, p0, work);
    size_t scratch[6];
    int ok = bnn_mlp_symmetry_move(&m, theta, grad, &rng, scratch) == BNN_OK;
    double ll1 = bnn_mlp_block_loglik(&m, BNN_F64, theta, x, y, ROWS, grad2, work);
    bnn_mlp_block_predict(&m, BNN_F64, theta, x, ROWS, p1, work);
    char what[128];
    snprintf(what, sizeof what, "%s: symmetry move keeps predictions", bnn_activation_name(act));
    ok &= verdict(max_diff(p0, p1, ROWS * N_OUT) < 1e-13, what, max_diff(p0, p1, ROWS * N_OUT));
    snprintf(what, sizeof what, "%s: symmetry move keeps the log-likelihood", bnn_activation_name(act));
    ok &= verdict(fabs(ll0 - ll1) < 1e-12 * fabs(ll0), what, ll1 - ll0);
    snprintf(what, sizeof what, "%s: moved cached gradient = gradient at the moved point", bnn_activation_name(act));
    ok &= verdict(max_diff(grad, grad2, P) < 1e-12, what, max_diff(grad, grad2, P));
    snprintf(what, sizeof what, "%s: the move changes the weights", bnn_activation_name(act));
    ok &= verdict(max_diff(theta, theta0, P) > 0.1, what, max_diff(theta, theta0, P));
    free(theta);
    free(grad);
    free(theta0);
    free(grad2);
    free(work);
    return ok;
}

/* A known permutation and flip act on the documented slices of θ. */
static int check_layout(void)
{
    bnn_mlp m;
    if (bnn_mlp_init(&m, "mlp:3", 2, 2, BNN_ACT_TANH, BNN_LIK_CATEGORICAL, 1) != BNN_OK) return 0;
    /* w0 (2,3), b0 (3), w1 (3,2), b1 (2) */
    double t[17];
    for (size_t i = 0; i < 17; i++) t[i] = (double)i;
    size_t perm[3] = {2, 0, 1};
    int8_t sign[3] = {1, -1, 1};
    int ok = bnn_mlp_permute_units(&m, 0, perm, t) == BNN_OK &&
             bnn_mlp_flip_units(&m, 0, sign, t) == BNN_OK;
    const double want[17] = {2, -0, 1, 5, -3, 4, 8, -6, 7, 13, 14, -9, -10, 11, 12, 15, 16};
    ok &= max_diff(t, want, 17) == 0;
    bnn_mlp r;
    bnn_mlp_init(&r, "mlp:3", 2, 2, BNN_ACT_RELU, BNN_LIK_CATEGORICAL, 1);
    ok &= bnn_mlp_flip_units(&r, 0, sign, t) == BNN_EINVAL; /* ReLU is not odd */
    ok &= bnn_mlp_permute_units(&m, 1, perm, t) == BNN_EINVAL; /* no hidden layer 1 */
    return verdict(ok, "permutation (2,0,1) and flip of unit 1 move the documented entries", 0);
}

int main(void)
{
    int ok = check_layout();
    ok &= check_activation(BNN_ACT_TANH);
    ok &= check_activation(BNN_ACT_ERF);
    ok &= check_activation(BNN_ACT_RELU);
    ok &= check_activation(BNN_ACT_SWISH);
    return ok ? 0 : 1;
}
