/* Each prior family's log density from R's standalone nmath (Debian r-mathlib), written from
 * docs/models.md independently of src/model/prior.c: the reference the prior tests compare
 * against. The including file defines MATHLIB_STANDALONE and includes <Rmath.h> first. */
#ifndef BNN_TESTS_CORE_PRIOR_REF_H
#define BNN_TESTS_CORE_PRIOR_REF_H

#include <math.h>

#include "model/prior.h"

/* log p(x) of family f with value v (the variance where the family has one). */
static inline double prior_log_density_ref(const bnn_prior_family *f, double v, double x)
{
    double b, s;
    switch (f->kind) {
    case BNN_PRIOR_GAUSSIAN: return dnorm(x, 0, sqrt(v), 1);
    case BNN_PRIOR_LAPLACE: b = sqrt(v / 2); return -log(2 * b) - fabs(x) / b;
    case BNN_PRIOR_STUDENT_T:
        s = f->nu > 2 ? sqrt(v * (f->nu - 2) / f->nu) : sqrt(v);
        return dt(x / s, f->nu, 1) - log(s);
    case BNN_PRIOR_LOGISTIC: return dlogis(x, 0, sqrt(3 * v) / M_PI, 1);
    case BNN_PRIOR_MIXTURE:
        return log(f->pi * dnorm(x, 0, f->s1 * sqrt(v), 0) +
                   (1 - f->pi) * dnorm(x, 0, f->s2 * sqrt(v), 0));
    }
    return NAN;
}

#endif
