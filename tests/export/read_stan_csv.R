# Reads bnnmc's Stan CSV export the way a user of R's posterior would (read.csv, comment.char
# "#"), and writes posterior's rhat, ess_bulk and ess_tail of every quantity to a CSV.
# usage: Rscript read_stan_csv.R OUT.csv output_1.csv output_2.csv ...
args <- commandArgs(trailingOnly = TRUE)
suppressPackageStartupMessages(library(posterior))
chains <- lapply(args[-1], read.csv, comment.char = "#", check.names = FALSE)
vars <- setdiff(names(chains[[1]]), c("accept_stat__", "stepsize__", "treedepth__",
                                      "n_leapfrog__", "divergent__", "energy__"))
arr <- array(NA_real_, dim = c(nrow(chains[[1]]), length(chains), length(vars)),
             dimnames = list(NULL, NULL, vars))
for (c in seq_along(chains)) arr[, c, ] <- as.matrix(chains[[c]][, vars])
s <- suppressWarnings(summarise_draws(as_draws_array(arr), rhat, ess_bulk, ess_tail))
full <- function(x) sprintf("%.17g", as.numeric(x)) # write.csv would keep 15 digits
write.csv(data.frame(variable = s$variable, rhat = full(s$rhat), ess_bulk = full(s$ess_bulk),
                     ess_tail = full(s$ess_tail)), args[1], row.names = FALSE)
