/* Accuracy, NLL, ECE and Brier score for classification; RMSE and NLL for regression. */
#include "eval/metrics.h"

#include <math.h>
#include <stdlib.h>

struct conf_item {
    double conf;
    int correct;
};

size_t bnn_argmax(const double *p, size_t k)
{
    size_t best = 0;
    for (size_t j = 1; j < k; j++)
        if (p[j] > p[best]) best = j;
    return best;
}

static int by_confidence(const void *a, const void *b)
{
    double x = ((const struct conf_item *)a)->conf, y = ((const struct conf_item *)b)->conf;
    return (x > y) - (x < y);
}

bnn_status bnn_ece_equal_count(const double *probs, const double *labels, size_t n, size_t k,
                               size_t n_bins, double *ece)
{
    if (n == 0 || n_bins == 0) return BNN_ERROR(BNN_EINVAL, "ECE needs inputs and bins");
    struct conf_item *items = malloc(n * sizeof *items);
    if (!items) return BNN_ERROR(BNN_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        size_t top = bnn_argmax(probs + i * k, k);
        items[i] = (struct conf_item){probs[i * k + top], top == (size_t)labels[i]};
    }
    qsort(items, n, sizeof *items, by_confidence);
    double total = 0;
    for (size_t b = 0; b < n_bins; b++) {
        size_t lo = b * n / n_bins, hi = (b + 1) * n / n_bins;
        if (hi == lo) continue;
        double conf = 0, acc = 0;
        for (size_t i = lo; i < hi; i++) {
            conf += items[i].conf;
            acc += items[i].correct;
        }
        total += fabs(acc - conf) / (double)n; /* (n_b / n) · |acc_b/n_b − conf_b/n_b| */
    }
    free(items);
    *ece = total;
    return BNN_OK;
}

bnn_status bnn_class_metrics_compute(const double *probs, const double *labels, size_t n,
                                     size_t k, bnn_class_metrics *out)
{
    if (n == 0) return BNN_ERROR(BNN_EINVAL, "no test inputs to evaluate");
    double correct = 0, nll = 0, brier = 0;
    for (size_t i = 0; i < n; i++) {
        const double *p = probs + i * k;
        size_t y = (size_t)labels[i];
        if (y >= k) return BNN_ERROR(BNN_ERANGE, "label %zu of test input %zu is >= %zu", y, i, k);
        correct += bnn_argmax(p, k) == y;
        nll -= log(p[y]);
        for (size_t j = 0; j < k; j++) {
            double d = p[j] - (j == y);
            brier += d * d;
        }
    }
    out->accuracy = correct / (double)n;
    out->nll = nll / (double)n;
    out->brier = brier / (double)n;
    return bnn_ece_equal_count(probs, labels, n, k, 20, &out->ece);
}

void bnn_regress_metrics_compute(const double *mean, const double *sd, const double *logdens,
                                 const double *y, size_t n, bnn_regress_metrics *out)
{
    double se = 0, nll = 0, sd_sum = 0;
    for (size_t i = 0; i < n; i++) {
        se += (mean[i] - y[i]) * (mean[i] - y[i]);
        nll -= logdens[i];
        sd_sum += sd ? sd[i] : NAN;
    }
    out->rmse = sqrt(se / (double)n);
    out->nll = nll / (double)n;
    out->mean_sd = sd_sum / (double)n;
}
