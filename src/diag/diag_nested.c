/* Nested R-hat (Margossian et al. 2024; spec section 5): many short chains grouped into
 * superchains that share a start; the arithmetic follows posterior >= 1.5.0's .rhat_nested. */
#include <math.h>

#include "diag/diag_internal.h"

/* The chains labelled `label`, in order, into out; returns their count. */
static size_t members(const int *ids, size_t m, int label, size_t *out)
{
    size_t cnt = 0;
    for (size_t c = 0; c < m; c++)
        if (ids[c] == label) out[cnt++] = c;
    return cnt;
}

double bnn_diag_rhat_nested(bnn_diag_ws *ws, const double *x, size_t n_iter, size_t n_chain,
                            size_t stride, const int *superchain_ids)
{
    if (!superchain_ids) {
        BNN_ERROR(BNN_EINVAL, "nested rhat: superchain_ids is NULL");
        return NAN;
    }
    if (diag_prepare(ws, x, n_iter, n_chain, stride) != BNN_OK) return NAN;
    if (ws->has_nan || ws->has_inf || diag_bad(ws->raw, ws->N)) return NAN;
    size_t n = n_iter, m = n_chain;
    double *chain_mean = ws->chain_mean, *chain_var = ws->chain_scale;
    for (size_t c = 0; c < m; c++) {
        chain_mean[c] = diag_col_mean(ws->raw + c * n, n);
        chain_var[c] = diag_col_var_centred(ws->raw + c * n, n, chain_mean[c]);
    }
    /* Distinct labels in order of first appearance; every superchain must have M chains. */
    size_t *label_first = ws->sidx, *chains = ws->idx2, K = 0, M = 0;
    for (size_t c = 0; c < m; c++) {
        size_t j = 0;
        while (j < K && superchain_ids[label_first[j]] != superchain_ids[c]) j++;
        if (j == K) label_first[K++] = c;
    }
    double *super_mean = ws->abar, *within = ws->rho, *buf = ws->arr;
    for (size_t k = 0; k < K; k++) {
        size_t cnt = members(superchain_ids, m, superchain_ids[label_first[k]], chains);
        if (k == 0) M = cnt;
        if (cnt != M) return NAN; /* posterior warns: superchains of unequal size */
        for (size_t j = 0; j < cnt; j++)   /* mean(x[, chains of k]) over all their draws */
            for (size_t i = 0; i < n; i++) buf[j * n + i] = ws->raw[chains[j] * n + i];
        super_mean[k] = diag_r_mean(buf, cnt * n);
        double between_chain = 0.0, within_chain = 0.0;
        for (size_t j = 0; j < cnt; j++) buf[j] = chain_mean[chains[j]];
        if (M > 1) between_chain = diag_r_var(buf, cnt);
        for (size_t j = 0; j < cnt; j++) buf[j] = chain_var[chains[j]];
        if (n > 1) within_chain = diag_r_mean(buf, cnt);
        within[k] = within_chain + between_chain;
    }
    double overall_mean = diag_r_mean(super_mean, K);
    double between_super = diag_col_var_centred(super_mean, K, overall_mean); /* NaN for K = 1 */
    double within_super = diag_r_mean(within, K);
    return sqrt(1 + between_super / within_super);
}
