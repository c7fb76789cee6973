/* Numerical faults: a target whose density or gradient turns NaN/Inf in a region makes those
 * proposals divergent and rejected; they are counted, and no non-finite value reaches the state
 * that would be recorded. */
#include <math.h>
#include <stdio.h>

#include "sample/hmc.h"

/* Standard normal in 2-D, but NaN density for x0 > 1, and an infinite gradient for x1 < -1. */
static bnn_status faulty_logp(void *ctx, const double *theta, double *grad, bnn_logp *out)
{
    (void)ctx;
    out->logp = theta[0] > 1 ? NAN : -0.5 * (theta[0] * theta[0] + theta[1] * theta[1]);
    out->log_lik = 0;
    out->log_prior = out->logp;
    if (grad) {
        grad[0] = -theta[0];
        grad[1] = theta[1] < -1 ? -INFINITY : -theta[1];
    }
    return BNN_OK;
}

int main(void)
{
    bnn_target t = {.dim = 2, .logp_grad = faulty_logp};
    bnn_hmc_options o = {.step_size = 0.3, .traj_len = 2.0, .max_leapfrog = 100,
                         .max_energy_error = 1000};
    bnn_hmc *s;
    if (bnn_hmc_alloc(t, &o, &s) != BNN_OK) return 1;
    bnn_rng rng;
    bnn_rng_init(&rng, 42, 0);
    double theta0[2] = {0, 0};
    if (bnn_hmc_set(s, theta0, rng) != BNN_OK) return 1;
    size_t divergent = 0, bad_state = 0, accepted = 0, n = 4000;
    for (size_t i = 0; i < n; i++) {
        bnn_hmc_stats st;
        if (bnn_hmc_iterate(s, 1, &st) != BNN_OK) return 1;
        divergent += (size_t)st.divergent;
        accepted += (size_t)st.accepted;
        if (st.divergent && st.accepted) bad_state++;
        if (!isfinite(s->theta[0]) || !isfinite(s->theta[1]) || !isfinite(s->current.logp) ||
            !isfinite(s->grad[0]) || !isfinite(s->grad[1]) || s->theta[0] > 1 || s->theta[1] < -1)
            bad_state++;
    }
    int ok_div = divergent > n / 20, ok_state = bad_state == 0, ok_acc = accepted > n / 4;
    printf("%s divergences counted (%zu of %zu iterations)\n", ok_div ? "ok" : "not ok",
           divergent, n);
    printf("%s no divergent proposal accepted, no non-finite or faulty state kept (%zu bad)\n",
           ok_state ? "ok" : "not ok", bad_state);
    printf("%s the chain still moves (%zu accepted)\n", ok_acc ? "ok" : "not ok", accepted);
    bnn_hmc_free(s);
    return ok_div && ok_state && ok_acc ? 0 : 1;
}
