#!/usr/bin/env Rscript
# Writes the bundled UCI regression data sets (data/uci/{boston,concrete}_{train,test}.csv)
# from Debian's R packages, once, so that nothing else needs R.
#
# Sources: BostonHousing from mlbench (r-cran-mlbench; Harrison and Rubinfeld 1978, the UCI
# copy, 506 rows, 13 inputs, target medv) and concrete from modeldata (r-cran-modeldata; Yeh
# 1998, UCI "Concrete Compressive Strength", 1030 rows, 8 inputs, target compressive_strength).
# Split: the usual UCI protocol, a random 90/10 train/test split of all rows (duplicates kept,
# as in bnn_hmc's load_uci_regression_dataset): n_train = floor(0.9 n); the rows of
# sample.int(n) under set.seed(1) with R's default generators (Mersenne-Twister, Inversion,
# Rejection), first n_train to the training file, the rest to the test file, each in that
# permuted order. Columns: a header of the R names, the inputs, then the target; numbers as R
# prints them with 15 significant digits. Rerunning gives the same bytes.
#
# usage: Rscript scripts/make-uci.R [OUT_DIR]     (default: data/uci next to this script)
suppressPackageStartupMessages({
    library(mlbench)
    library(modeldata)
})

args <- commandArgs(trailingOnly = TRUE)
script <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
out <- if (length(args) >= 1) args[1] else file.path(dirname(dirname(normalizePath(script))), "data", "uci")
dir.create(out, showWarnings = FALSE, recursive = TRUE)

write_split <- function(df, name) {
    stopifnot(all(vapply(df, is.numeric, TRUE)), !anyNA(df))
    n <- nrow(df)
    n_train <- floor(0.9 * n)
    RNGkind("Mersenne-Twister", "Inversion", "Rejection")
    set.seed(1)
    perm <- sample.int(n)
    write_one <- function(rows, part) {
        path <- file.path(out, sprintf("%s_%s.csv", name, part))
        m <- format(as.matrix(df[rows, ]), digits = 15, scientific = FALSE, trim = TRUE,
                    drop0trailing = TRUE)
        lines <- c(paste(names(df), collapse = ","), apply(m, 1, paste, collapse = ","))
        writeLines(lines, path, useBytes = TRUE)
        cat(sprintf("wrote %s (%d rows)\n", path, length(rows)))
    }
    write_one(perm[seq_len(n_train)], "train")
    write_one(perm[(n_train + 1):n], "test")
}

data(BostonHousing, package = "mlbench")
boston <- BostonHousing
boston$chas <- as.numeric(as.character(boston$chas)) # a 0/1 factor in mlbench
stopifnot(nrow(boston) == 506, ncol(boston) == 14, names(boston)[14] == "medv")
write_split(boston, "boston")

data(concrete, package = "modeldata")
concrete <- as.data.frame(concrete)
stopifnot(nrow(concrete) == 1030, ncol(concrete) == 9,
          names(concrete)[9] == "compressive_strength")
write_split(concrete, "concrete")
