# End-to-end check of `bnnmc summary --json` against posterior 1.4.0: writes a plain CSV (chains
# in columns) and CmdStan-style CSVs (comments, saved warm-up, sampler columns), runs the CLI,
# and compares every reported number at 1e-9 relative. Also checks that malformed input fails
# with a message naming file, line and column. Exit 0: all agree; 1: a mismatch; 77: skipped.
#
# usage: Rscript scripts/diag_summary_check.R PATH/TO/bnnmc [SEED]
args <- commandArgs(trailingOnly = TRUE)
if (!requireNamespace("posterior", quietly = TRUE) || packageVersion("posterior") != "1.4.0" ||
    !requireNamespace("jsonlite", quietly = TRUE)) {
  cat("SKIP: needs R packages posterior 1.4.0 and jsonlite\n")
  quit(status = 77)
}
suppressPackageStartupMessages(library(posterior))
bnnmc <- args[1]
seed <- if (length(args) >= 2) as.integer(args[2]) else 20240602L
set.seed(seed)
dir <- tempfile("diag_summary_")
dir.create(dir)
failures <- 0
tol <- 1e-9

ref_values <- function(x, ids = NULL) {
  sp <- posterior:::.split_chains
  v <- list(
    rhat = rhat(x), rhat_bulk = posterior:::.rhat(posterior:::z_scale(sp(x))),
    rhat_tail = posterior:::.rhat(posterior:::z_scale(sp(posterior:::fold_draws(x)))),
    rhat_basic = rhat_basic(x), ess_bulk = ess_bulk(x), ess_tail = ess_tail(x),
    ess_basic = ess_basic(x), mcse_mean = mcse_mean(x), mcse_sd = mcse_sd(x),
    mcse_q05 = unname(mcse_quantile(x, 0.05)), mcse_q95 = unname(mcse_quantile(x, 0.95)),
    mean = mean(x), sd = sd(x), q05 = unname(quantile2(x, 0.05)),
    q50 = unname(quantile2(x, 0.5)), q95 = unname(quantile2(x, 0.95)))
  lapply(v, function(a) suppressWarnings(as.numeric(a)))
}

# one verdict line per compared object
compare <- function(label, got, want) {
  bad <- character()
  for (k in names(want)) {
    g <- got[[k]]; w <- want[[k]]
    if (is.null(g)) g <- NA_real_  # JSON null: NaN or an infinity
    ok <- if (is.na(w) || is.infinite(w) || w > 1e10) is.na(g) || g > 1e10
          else !is.na(g) && (g == w || abs(g - w) <= tol * max(abs(g), abs(w)))
    if (!ok) bad <- c(bad, sprintf("%s: got %.17g want %.17g", k, g, w))
  }
  cat(if (length(bad)) "not ok" else "ok", label, "\n")
  if (length(bad)) { cat(paste0("  ", bad, "\n"), sep = ""); failures <<- failures + 1 }
}

run_json <- function(args) {
  out <- suppressWarnings(system2(bnnmc, c("summary", args, "--json"), stdout = TRUE, stderr = FALSE))
  if (!is.null(attr(out, "status"))) return(NULL)
  jsonlite::fromJSON(paste(out, collapse = "\n"), simplifyVector = FALSE)
}

# 1. plain CSV with a header, 4 chains of AR(1) draws with a shifted chain, superchains
x <- sapply(1:4, function(j) as.numeric(arima.sim(list(ar = 0.6), 733)) + (j == 4) * 0.5)
plain <- file.path(dir, "plain.csv")
write.csv(x, plain, row.names = FALSE)
x <- unname(as.matrix(read.csv(plain)))  # the numbers as written (15 significant digits)
got <- run_json(c(plain, "--superchains", "1,1,2,2"))
want <- ref_values(x)
want$rhat_nested <- {  # spec 5, written out directly
  ids <- c(1, 1, 2, 2); cm <- colMeans(x); sm <- tapply(cm, ids, mean)
  Bnu <- var(as.numeric(sm))
  Wt <- tapply(apply(x, 2, var), ids, mean); Bt <- tapply(cm, ids, var)
  sqrt(1 + Bnu / mean(Wt + Bt))
}
if (is.null(got)) { cat("not ok plain: bnnmc failed\n"); failures <- failures + 1 } else
  compare("plain csv (733 x 4, header, superchains)", got, want)

# 2. plain CSV without a header, odd and tiny shapes
for (shape in list(c(3, 5), c(10, 1), c(25, 7))) {
  x <- matrix(rexp(prod(shape)), shape[1], shape[2])
  f <- file.path(dir, sprintf("plain_%dx%d.csv", shape[1], shape[2]))
  write.table(x, f, sep = ",", row.names = FALSE, col.names = FALSE)
  x <- unname(as.matrix(read.csv(f, header = FALSE)))
  got <- run_json(f)
  if (is.null(got)) { cat("not ok", f, ": bnnmc failed\n"); failures <- failures + 1 } else
    compare(sprintf("plain csv %d x %d, no header", shape[1], shape[2]), got, ref_values(x))
}

# 3. CmdStan output: 3 chains, comments, saved warm-up, sampler columns, vector variable
n <- 400; warm <- 50
draws <- lapply(1:3, function(j) {
  mu <- as.numeric(arima.sim(list(ar = 0.3), n + warm)) + 1
  th <- cbind(rnorm(n + warm, mu), rt(n + warm, 3))
  data.frame(lp__ = -0.5 * mu^2, accept_stat__ = runif(n + warm), stepsize__ = 0.7,
             treedepth__ = 3, n_leapfrog__ = 7, divergent__ = 0, energy__ = rexp(n + warm),
             mu = mu, `theta[1]` = th[, 1], `theta[2]` = th[, 2], check.names = FALSE)
})
files <- character()
for (j in 1:3) {
  f <- file.path(dir, sprintf("output_%d.csv", j))
  con <- file(f, "w")
  writeLines(c("# model = fake_model", "# method = sample (Default)", "#   save_warmup = 1"), con)
  writeLines(paste(names(draws[[j]]), collapse = ","), con)
  d <- format(draws[[j]], digits = 17)
  rows <- apply(d, 1, function(r) paste(trimws(r), collapse = ","))
  writeLines(rows[1:warm], con)
  writeLines(c("# Adaptation terminated", "# Step size = 0.7",
               "# Diagonal elements of inverse mass matrix:", "# 1, 1, 1"), con)
  writeLines(rows[(warm + 1):(warm + n)], con)
  writeLines(c("# ", "#  Elapsed Time: 0.01 seconds (Warm-up)"), con)
  close(con)
  files <- c(files, f)
}
got <- run_json(files)
if (is.null(got)) { cat("not ok cmdstan: bnnmc failed\n"); failures <- failures + 1 } else {
  names_got <- vapply(got$variables, function(v) v$variable, "")
  expect <- c("lp__", "mu", "theta[1]", "theta[2]")
  if (!identical(names_got, expect)) {
    cat("not ok cmdstan variables:", names_got, "\n"); failures <- failures + 1
  }
  # what the files hold, re-read as a reader of CmdStan files would (numbers as written)
  back <- lapply(files, function(f) read.csv(f, comment.char = "#", check.names = FALSE))
  for (i in seq_along(got$variables)) {
    v <- got$variables[[i]]$variable
    x <- sapply(back, function(b) b[[v]][(warm + 1):(warm + n)])
    compare(sprintf("cmdstan %s (%d x 3)", v, n), got$variables[[i]], ref_values(x))
  }
}

# 4. malformed input: a non-zero exit and file:line:column in the message
bad <- file.path(dir, "bad.csv")
writeLines(c("a,b,c", "1,2,3", "4,oops,6"), bad)
err <- suppressWarnings(system2(bnnmc, c("summary", bad), stdout = TRUE, stderr = TRUE))
msg <- paste(err, collapse = " ")
if (is.null(attr(err, "status")) || !grepl("bad.csv:3:3:", msg, fixed = TRUE)) {
  cat("not ok malformed input:", msg, "\n"); failures <- failures + 1
} else cat("ok malformed input reported as", msg, "\n")
ragged <- file.path(dir, "ragged.csv")
writeLines(c("1,2,3", "4,5"), ragged)
err <- suppressWarnings(system2(bnnmc, c("summary", ragged), stdout = TRUE, stderr = TRUE))
if (is.null(attr(err, "status")) || !grepl("ragged.csv:2:", paste(err, collapse = " "))) {
  cat("not ok ragged rows:", err, "\n"); failures <- failures + 1
} else cat("ok ragged rows rejected\n")

unlink(dir, recursive = TRUE)
cat(if (failures) sprintf("%d failures (seed %d)\n", failures, seed) else "all agree\n")
quit(status = if (failures) 1 else 0)
