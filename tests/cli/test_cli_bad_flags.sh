#!/bin/bash
# Absurd option values for `bnnmc sample`: each must end the command with an error status and a
# message naming the flag (or, for --data and --out, the offending name or path).
# usage: test_cli_bad_flags.sh BNNMC [JSON_VALUE]
set -u
bnnmc=${1:?usage: $0 BNNMC}
. "$(dirname "$0")/cli_lib.sh"

# A valid short run; the option under test comes last and overrides it.
base=(--data digits --train-subset 100 --fs-points 10 --arch mlp:5 --warmup 2 --samples 2
      --chains 1 --quiet --out "$tmp/run" --overwrite)
sample() { "$bnnmc" sample "${base[@]}" "$@"; }

# flag FLAG VALUE [NEEDLE]: `sample FLAG VALUE` fails naming NEEDLE (default FLAG).
flag() {
    expect_error "$1 $2" "${3:-$1}" -- sample "$1" "$2"
}

expect_success "control: the base options run" sample

flag --step-size -1
flag --step-size 0
flag --step-size nan
flag --chains 0
flag --chains abc
flag --chains -2
flag --threads 0
flag --thin 0
flag --samples 0
flag --arch mlp:0
flag --arch mlp:5,,5 --arch
flag --arch conv:5 --arch
flag --prior-var -1
flag --prior-var 1,2,3 --prior-var # mlp:5 has 2 dense layers
flag --precision float16
flag --temperature 0
flag --temperature -1
flag --traj-len -1
flag --jitter 1.5
flag --max-leapfrog 0
flag --block-rows 0
flag --target-accept 1
flag --init-scale -1
flag --seed -1
flag --act sigmoid
flag --likelihood poisson
flag --likelihood bernoulli # digits has 10 classes
flag --likelihood gaussian  # digits is a classification data set
flag --adapt-mass full
flag --header maybe
flag --task clustering
flag --data nosuch nosuch
flag --out /etc/hostname/x /etc/hostname/x # under a regular file: fails even for root
printf 'x,y\n1,2\n2,3\n3,5\n' >"$tmp/r.csv"
expect_error "--noise-sd -1 (regression)" --noise-sd -- "$bnnmc" sample --train "$tmp/r.csv" \
    --test "$tmp/r.csv" --task regression --arch linear --quiet --out "$tmp/reg" --noise-sd -1
expect_error "--train without --test" --test -- "$bnnmc" sample --train "$tmp/r.csv" --quiet
expect_error "--data with --train" --data -- sample --train "$tmp/r.csv" --test "$tmp/r.csv"
expect_error "unknown option" --frobnicate -- sample --frobnicate
finish
