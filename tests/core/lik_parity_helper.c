/* Helper of test_lik_torch.py: the hetero-gaussian head row by row. Reads lines "mu s y" from
 * stdin and prints, per row, with 17 significant digits:
 *   ll g_mu g_s  (float64 head)  ll g_mu g_s  (float32 head)  mean sd  (float64 predictions)
 * where ll is the row's log-likelihood and g its gradient with respect to (mu, s). */
#include <stdio.h>

#include "model/likelihood.h"

int main(void)
{
    double mu, s, y;
    while (scanf("%lf %lf %lf", &mu, &s, &y) == 3) {
        const double f64[2] = {mu, s};
        const float f32[2] = {(float)mu, (float)s};
        double g64[2], out[2];
        float g32[2];
        double ll64 = bnn_likelihood_block_f64(BNN_LIK_HETERO_GAUSSIAN, 1, f64, &y, 1, 2, g64);
        double ll32 = bnn_likelihood_block_f32(BNN_LIK_HETERO_GAUSSIAN, 1, f32, &y, 1, 2, g32);
        bnn_likelihood_predict_f64(BNN_LIK_HETERO_GAUSSIAN, f64, 1, 2, out);
        printf("%.17g %.17g %.17g %.17g %.17g %.17g %.17g %.17g\n", ll64, g64[0], g64[1], ll32,
               (double)g32[0], (double)g32[1], out[0], out[1]);
    }
    return 0;
}
