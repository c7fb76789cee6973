/* Prior families of the parameters: each parameter i has a variance v_i set by --prior-var (per
 * layer, optionally divided by the fan-in), and the family turns it into a density of the same
 * variance where that variance is finite (Izmailov et al. 2021, §7, compare such families):
 *
 *   gaussian          N(0, v)                                    variance v
 *   laplace           Laplace(0, b),   b = √(v/2)                variance v
 *   student-t:ν       s·t_ν,   s = √(v (ν−2)/ν) for ν > 2        variance v
 *                               s = √v for ν ≤ 2                 variance infinite
 *   logistic          Logistic(0, b),  b = √(3 v)/π              variance v
 *   mixture:π,S1,S2   π N(0, S1² v) + (1−π) N(0, S2² v)          variance (π S1² + (1−π) S2²) v
 *
 * (S1, S2 are scale factors of the layer's standard deviation √v.) Densities are normalised:
 * the log prior recorded per iteration is the true log density. */
#ifndef BNN_MODEL_PRIOR_H
#define BNN_MODEL_PRIOR_H

#include <stddef.h>

#include "core/rng.h"
#include "core/status.h"

typedef enum {
    BNN_PRIOR_GAUSSIAN, /* the zero value: options built without a family are Gaussian */
    BNN_PRIOR_LAPLACE,
    BNN_PRIOR_STUDENT_T,
    BNN_PRIOR_LOGISTIC,
    BNN_PRIOR_MIXTURE
} bnn_prior_kind;

typedef struct {
    bnn_prior_kind kind;
    double nu;         /* Student-t: degrees of freedom ν > 0 */
    double pi, s1, s2; /* mixture: weight π ∈ (0, 1) of component 1; scale factors S1, S2 > 0 */
} bnn_prior_family;

/* Parses "gaussian", "laplace", "student-t:NU", "logistic" or "mixture:PI,S1,S2". */
bnn_status bnn_prior_family_parse(const char *text, bnn_prior_family *out);

/* The canonical text of a family (parses back to the same values), e.g. "student-t:3". */
void bnn_prior_family_format(const bnn_prior_family *f, char *buf, size_t len);

/* The shortest of %.15g, %.16g, %.17g that reads back as x (0.1 as "0.1"). */
void bnn_format_double(char *buf, size_t len, double x);

/* A parameter's prior variance divided by its v: 1, π S1² + (1−π) S2² (mixture), or INFINITY
 * (Student-t with ν ≤ 2). */
double bnn_prior_variance_factor(const bnn_prior_family *f);

/* The part of Σ_i log p(θ_i | v_i) that does not depend on θ: var (n) holds the v_i. */
double bnn_prior_log_norm(const bnn_prior_family *f, const double *var, size_t n);

/* The rest, Σ_i log p(θ_i | v_i) − bnn_prior_log_norm; when grad is not NULL, grad[i] +=
 * d log p(θ_i | v_i) / dθ_i (accumulated). Sums in double. */
double bnn_prior_log_kernel(const bnn_prior_family *f, const double *theta, const double *var,
                            size_t n, double *grad);

/* θ_i = scale × a draw from p(· | v_i), for i < n. */
void bnn_prior_draw(const bnn_prior_family *f, const double *var, size_t n, double scale,
                    bnn_rng *rng, double *theta);

#endif
