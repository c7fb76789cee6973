# Reference values for the diagnostics parity test: generates draw arrays covering every case of
# diagnostics-spec.md (tiny and odd lengths, one chain, constants, NaN/Inf, ties, offsets, many
# and long chains, heavy tails, stuck chains) and writes them with posterior 1.4.0's results.
#
# usage: Rscript scripts/diag_parity.R OUT.txt
# Output, one token stream (values as %.17g, NA written as NaN):
#   case NAME N_ITER N_CHAIN TOL
#   x   draws, chain-major (chain 0's iterations first)
#   ids superchain labels, one per chain (only for cases with nested R-hat)
#   val KEY VALUE     (one line per diagnostic)
#   end
suppressPackageStartupMessages(library(posterior))
args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 1) stop("usage: Rscript diag_parity.R OUT.txt")
out <- file(args[1], "w")

fmt <- function(v) {
  s <- sprintf("%.17g", v)
  s[is.na(v)] <- "NaN"            # NA and NaN alike
  s
}

# Nested R-hat written directly from spec section 5 (posterior 1.4.0 has none): chain means,
# superchain means, B_nu, W~_k, B~_k, W_nu. An independent check of the C code.
nested_ref <- function(x, ids) {
  if (anyNA(x) || any(is.infinite(x)) || abs(max(x) - min(x)) < .Machine$double.eps) return(NA)
  n <- nrow(x)
  sizes <- table(ids)
  if (max(sizes) != min(sizes)) return(NA)
  groups <- unique(ids)
  K <- length(groups); M <- as.integer(sizes[1])
  if (K == 1) return(NA)
  cm <- colMeans(x)
  sm <- sapply(groups, function(k) mean(cm[ids == k]))
  om <- mean(sm)
  B_nu <- sum((sm - om)^2) / (K - 1)
  Wt <- sapply(groups, function(k) {
    if (n == 1) return(0)
    cols <- which(ids == k)
    mean(sapply(cols, function(j) sum((x[, j] - cm[j])^2) / (n - 1)))
  })
  Bt <- sapply(groups, function(k) if (M == 1) 0 else var(cm[ids == k]))
  W_nu <- mean(Wt + Bt)
  sqrt(1 + B_nu / W_nu)
}

safe <- function(f) tryCatch(suppressWarnings(f), error = function(e) NA_real_)

emit <- function(name, x, tol = 1e-9, ids = NULL) {
  x <- as.matrix(x)
  storage.mode(x) <- "double"
  n <- nrow(x); m <- ncol(x)
  cat("case", name, n, m, fmt(tol), "\n", file = out)
  cat("x", fmt(as.vector(x)), "\n", file = out)
  sp <- posterior:::.split_chains
  v <- list(
    rhat = safe(rhat(x)),
    rhat_bulk = safe(posterior:::.rhat(posterior:::z_scale(sp(x)))),
    rhat_tail = safe(posterior:::.rhat(posterior:::z_scale(sp(posterior:::fold_draws(x))))),
    rhat_basic = safe(rhat_basic(x)),
    rhat_basic_unsplit = safe(rhat_basic(x, split = FALSE)),
    ess_bulk = safe(ess_bulk(x)),
    ess_tail = safe(ess_tail(x)),
    ess_basic = safe(ess_basic(x)),
    ess_basic_unsplit = safe(ess_basic(x, split = FALSE)),
    ess_mean = safe(ess_mean(x)),
    ess_sd = safe(ess_sd(x)),
    ess_q05 = safe(ess_quantile(x, 0.05)),
    ess_q95 = safe(ess_quantile(x, 0.95)),
    ess_median = safe(ess_median(x)),
    ess_q1 = safe(ess_quantile(x, 1)),
    mcse_mean = safe(mcse_mean(x)),
    mcse_sd = safe(mcse_sd(x)),
    mcse_q05 = safe(mcse_quantile(x, 0.05)),
    mcse_q95 = safe(mcse_quantile(x, 0.95)),
    mcse_median = safe(mcse_median(x)),
    mean = safe(mean(x)),
    sd = safe(sd(x)),
    q05 = safe(quantile2(x, 0.05)),
    q50 = safe(quantile2(x, 0.5)),
    q95 = safe(quantile2(x, 0.95))
  )
  if (!is.null(ids)) {
    cat("ids", ids, "\n", file = out)
    v$rhat_nested <- nested_ref(x, ids)
  }
  for (k in names(v)) cat("val", k, fmt(unname(v[[k]])), "\n", file = out)
  cat("end\n", file = out)
}

ar1 <- function(n, m, rho) {
  x <- matrix(0, n, m)
  for (j in 1:m) {
    e <- rnorm(n)
    x[1, j] <- e[1]
    for (t in 2:n) x[t, j] <- rho * x[t - 1, j] + sqrt(1 - rho^2) * e[t]
  }
  x
}

set.seed(20240601)
# ordinary draws
emit("iid_1000x4", matrix(rnorm(4000), 1000, 4), ids = c(1, 1, 2, 2))
emit("iid_1001x3_odd", matrix(rnorm(3003), 1001, 3))
emit("one_chain_100", matrix(rnorm(100), 100, 1))
emit("one_chain_7", matrix(rnorm(7), 7, 1))
# tiny and odd lengths (the n = 2, 3 quirk, the tau = 2 rule, h < 3)
emit("n1_m4", matrix(rnorm(4), 1, 4))
emit("n2_m4", matrix(rnorm(8), 2, 4))
emit("n3_m4", matrix(rnorm(12), 3, 4))
emit("n2_m1", matrix(rnorm(2), 2, 1))
emit("n3_m1", matrix(rnorm(3), 3, 1))
emit("n3_m6", matrix(rnorm(18), 3, 6))
emit("n2_m10", matrix(rnorm(20), 2, 10))
emit("n4_m4", matrix(rnorm(16), 4, 4))
emit("n5_m3", matrix(rnorm(15), 5, 3))
emit("n6_m2", matrix(rnorm(12), 6, 2))
emit("n7_m2", matrix(rnorm(14), 7, 2))
emit("n11_m3", matrix(rnorm(33), 11, 3))
emit("n12_m2", matrix(rnorm(24), 12, 2))
# constants
emit("all_equal", matrix(1.5, 10, 4))
emit("chains_constant_differ", matrix(rep(1:4, each = 10), 10, 4))
emit("some_chains_constant", cbind(rnorm(50), rep(0.3, 50), rnorm(50), rep(-1, 50)))
emit("tiny_range", matrix(sample(c(0, 1e-17), 40, TRUE), 10, 4))
emit("one_distinct_chain", cbind(rep(2, 30), rnorm(30), rnorm(30)))
# NaN and infinities
x <- matrix(rnorm(400), 100, 4); x[17, 2] <- NaN; emit("one_nan", x)
x <- matrix(rnorm(400), 100, 4); x[3, 1] <- NA; emit("one_na", x)
x <- matrix(rnorm(400), 100, 4); x[50, 3] <- Inf; emit("one_inf", x)
x <- matrix(rnorm(400), 100, 4); x[1, 1] <- -Inf; x[99, 4] <- Inf; emit("both_inf", x)
x <- matrix(rnorm(400), 100, 4); x[1:250] <- Inf; emit("mostly_inf", x)
x <- matrix(rnorm(400), 100, 4); x[, 1] <- Inf; emit("chain_inf", x)
# ties and discrete draws
emit("poisson_500x4", matrix(rpois(2000, 2), 500, 4))
emit("binary_equal_counts", matrix(sample(rep(c(0, 1), 200)), 100, 4))
emit("binary_rare", matrix(rbinom(400, 1, 0.03), 100, 4))
emit("rounded_normal", matrix(round(rnorm(1200) * 2) / 2, 300, 4))
x <- matrix(rnorm(400), 100, 4); x[x > 0.5] <- 0; x[1:7] <- -0; emit("signed_zeros", x)
# offsets and scales: R loses ~1e-8 in the means at 1e8 (spec 4), but the C code repeats R's
# summation (long double where R uses it, double where matrixStats does), so 1e-9 holds here too
emit("offset_1e8", 1e8 + matrix(rnorm(4000), 1000, 4))
emit("offset_1e8_small", 1e8 + matrix(rnorm(400, sd = 0.01), 100, 4))
emit("scale_1e-10", 1e-10 * matrix(rnorm(800), 200, 4))
emit("scale_1e12", 1e12 * matrix(rnorm(800), 200, 4))
# many chains, long chains
emit("many_50x512", matrix(rnorm(50 * 512), 50, 512), ids = rep(1:64, each = 8))
emit("many_512x50", ar1(512, 50, 0.5), ids = rep(1:10, each = 5))
emit("long_20000x4_ar09", ar1(20000, 4, 0.9))
emit("ar_099_slow", ar1(2000, 4, 0.99))
emit("antithetic", ar1(1000, 4, -0.7))
emit("ar_05_short", ar1(60, 3, 0.5))
# heavy tails, skew, multimodality, non-stationarity
emit("cauchy_1000x4", matrix(rcauchy(4000), 1000, 4))
emit("t1_df", matrix(rt(2000, df = 1.5), 500, 4))
emit("lognormal", matrix(exp(rnorm(2000, sd = 2)), 500, 4))
emit("bimodal_stuck", cbind(rnorm(500, -3), rnorm(500, -3), rnorm(500, 3), rnorm(500, 3)),
     ids = c(1, 1, 2, 2))
emit("bimodal_mixing", matrix(rnorm(2000, sample(c(-3, 3), 2000, TRUE)), 500, 4))
emit("shifted_chain", cbind(rnorm(300), rnorm(300), rnorm(300), rnorm(300, 2)),
     ids = c(1, 2, 3, 4))
emit("trend", matrix(rnorm(800) + rep(seq(0, 3, length.out = 200), 4), 200, 4))
emit("exponential", matrix(rexp(1200), 300, 4))
# nested R-hat special cases
emit("nested_one_superchain", matrix(rnorm(400), 100, 4), ids = c(7, 7, 7, 7))
emit("nested_uneven", matrix(rnorm(400), 100, 4), ids = c(1, 1, 1, 2))
emit("nested_n1", matrix(rnorm(8), 1, 8), ids = c(1, 1, 2, 2, 3, 3, 4, 4))
emit("nested_labels", matrix(rnorm(600), 100, 6), ids = c(9, 3, 9, 3, 5, 5))
close(out)
