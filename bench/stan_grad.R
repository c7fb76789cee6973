# Times Stan's gradient of the same MLP log posterior that `bnnmc bench` times (issue 6's
# Stan comparison): one hidden tanh layer, Gaussian prior (weights variance 1/fan-in, biases 1),
# categorical or Gaussian likelihood, on synthetic data of the requested shape. Stan computes
# in double on one thread; the model is compiled once (not timed) and grad_log_prob is called
# REPS times per round. Prints one JSON object.
#
#   Rscript bench/stan_grad.R IN HIDDEN CLASSES categorical|gaussian N REPS ROUNDS
suppressPackageStartupMessages(library(rstan))
a <- commandArgs(trailingOnly = TRUE)
if (length(a) != 7) stop("usage: stan_grad.R IN HIDDEN CLASSES LIKELIHOOD N REPS ROUNDS")
D <- as.integer(a[1]); H <- as.integer(a[2]); K <- as.integer(a[3]); lik <- a[4]
N <- as.integer(a[5]); reps <- as.integer(a[6]); rounds <- as.integer(a[7])
regression <- as.integer(lik == "gaussian")

code <- "
data {
  int<lower=1> N; int<lower=1> D; int<lower=1> H; int<lower=1> K;
  int<lower=0, upper=1> regression;
  matrix[N, D] X;
  int<lower=1, upper=K> y_class[regression ? 0 : N];
  vector[regression ? N : 0] y_real;
  real<lower=0> noise;
}
parameters {
  matrix[D, H] W1; row_vector[H] b1; matrix[H, K] W2; row_vector[K] b2;
}
model {
  matrix[N, H] A = tanh(X * W1 + rep_matrix(b1, N));
  matrix[N, K] Z = A * W2 + rep_matrix(b2, N);
  to_vector(W1) ~ normal(0, 1 / sqrt(D));
  b1 ~ normal(0, 1);
  to_vector(W2) ~ normal(0, 1 / sqrt(H));
  b2 ~ normal(0, 1);
  if (regression)
    y_real ~ normal(col(Z, 1), noise);
  else
    for (n in 1:N) y_class[n] ~ categorical_logit(Z[n]');
}
"
set.seed(1)
X <- matrix(rnorm(N * D), N, D)
data <- list(N = N, D = D, H = H, K = K, regression = regression, X = X,
             y_class = if (regression) integer(0) else sample.int(K, N, replace = TRUE),
             y_real = if (regression) rnorm(N) else numeric(0), noise = 1)
t0 <- Sys.time()
model <- stan_model(model_code = code, model_name = "mlp")
compile_s <- as.numeric(difftime(Sys.time(), t0, units = "secs"))
fit <- sampling(model, data = data, chains = 1, iter = 1, refresh = 0, init = 0,
                algorithm = "Fixed_param")
n_par <- get_num_upars(fit)
u <- rnorm(n_par, sd = 0.1)
g <- grad_log_prob(fit, u) # warm-up
ms <- numeric(rounds)
for (r in seq_len(rounds)) {
  t0 <- proc.time()[["elapsed"]]
  for (i in seq_len(reps)) g <- grad_log_prob(fit, u)
  ms[r] <- (proc.time()[["elapsed"]] - t0) * 1000 / reps
}
cat(sprintf('{"ms_per_grad": %.6g, "ms_per_grad_min": %.6g, "n_params": %d, "compile_s": %.1f, "stan": "%s"}\n',
            median(ms), min(ms), n_par, compile_s, packageVersion("rstan")))
