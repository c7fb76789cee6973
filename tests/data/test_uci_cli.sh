#!/bin/bash
# The bundled UCI regression sets through the CLI: --data boston and --data concrete load as
# regression with the documented sizes, targets standardised with the training mean and sd
# (checked against the CSV files by awk); a short HMC run of an MLP with 50 hidden units on
# concrete predicts the test set better than the training mean does.
# usage: test_uci_cli.sh BNNMC JSON_VALUE
set -u
bnnmc=${1:?usage: $0 BNNMC JSON_VALUE}
json_value=${2:?usage: $0 BNNMC JSON_VALUE}
. "$BNNMC_SOURCE_DIR/tests/cli/cli_lib.sh"
uci=$BNNMC_SOURCE_DIR/data/uci

value() {
    local f=$1
    shift
    "$json_value" "$@" <"$f" 2>/dev/null
}

# awk_true EXPR VARS...: exit status of the awk condition EXPR over -v assignments.
awk_true() {
    local expr=$1
    shift
    awk "$@" "BEGIN { exit !($expr) }"
}

# stats NAME: "mean sd baseline" of the target (last column): training mean and population sd,
# and the RMSE on the test set of predicting the training mean, in standardised units.
stats() {
    awk -F, 'FNR == 1 { next } FILENAME ~ /_train/ { s += $NF; ss += $NF * $NF; n++; next }
        { t[++m] = $NF } END { mu = s / n; sd = sqrt(ss / n - mu * mu)
        for (i = 1; i <= m; i++) e += ((t[i] - mu) / sd) ^ 2
        printf "%.17g %.17g %.17g\n", mu, sd, sqrt(e / m) }' "$uci/$1_train.csv" "$uci/$1_test.csv"
}

check_set() {
    local name=$1 n_train=$2 n_test=$3 d=$4 run=$tmp/$1 mean sd base
    expect_success "sample --data $name (regression by default)" "$bnnmc" sample --data "$name" \
        --arch linear --warmup 2 --samples 2 --chains 1 --quiet --out "$run" || return
    local got="$(value "$run/run.json" data task) $(value "$run/run.json" data n_train)"
    got+=" $(value "$run/run.json" data n_test) $(value "$run/run.json" data n_features)"
    got+=" $(value "$run/run.json" config likelihood)"
    [ "$got" = "regression $n_train $n_test $d gaussian" ] && echo "ok $name: $got" ||
        fail "$name: task, sizes, likelihood '$got', want 'regression $n_train $n_test $d gaussian'"
    read -r mean sd base < <(stats "$name")
    local m=$(value "$run/run.json" data target_mean) s=$(value "$run/run.json" data target_sd)
    awk_true 'm - w < 1e-9 * w && w - m < 1e-9 * w && s - v < 1e-9 * v && v - s < 1e-9 * v' \
        -v m="$m" -v w="$mean" -v s="$s" -v v="$sd" &&
        echo "ok $name: targets standardised with the training mean $m and sd $s" ||
        fail "$name: run.json target_mean/sd $m/$s, the training file gives $mean/$sd"
}

check_concrete_fit() {
    local run=$tmp/concrete-mlp rmse base orig sd
    read -r _ sd base < <(stats concrete)
    expect_success "HMC on concrete, MLP 50 ReLU units (2 chains, 40 + 20 iterations)" \
        "$bnnmc" sample --data concrete --arch mlp:50 --act relu --noise-sd 0.3 \
        --max-leapfrog 64 --warmup 40 --samples 20 --chains 2 --seed 1 --quiet --out "$run" || return
    expect_success "predict --json of the concrete run" "$bnnmc" predict "$run" --json || return
    rmse=$(value "$tmp/out" rmse) orig=$(value "$tmp/out" rmse_original_units)
    awk_true 'r > 0 && r < 0.6 * b' -v r="$rmse" -v b="$base" &&
        echo "ok concrete: test RMSE $rmse < 0.6 x the predict-the-mean RMSE $base (standardised)" ||
        fail "concrete: test RMSE '$rmse', want < 0.6 x $base (predicting the training mean)"
    awk_true 'o - r * s < 1e-9 && r * s - o < 1e-9' -v o="$orig" -v r="$rmse" -v s="$sd" &&
        echo "ok concrete: RMSE in the original units $orig = $rmse x $sd" ||
        fail "concrete: rmse_original_units '$orig', want $rmse x $sd"
}

expect_success "--help names the UCI sets" "$bnnmc" sample --help &&
    { grep -q "boston, concrete" "$tmp/out" && echo "ok sample --help lists boston, concrete" ||
        fail "sample --help does not list boston, concrete"; }
check_set boston 455 51 13
check_set concrete 927 103 8
check_concrete_fit
expect_error "--data boston --task classification: the targets are not labels" "boston_train.csv" \
    "not a non-negative integer" -- "$bnnmc" sample --data boston --task classification \
    --samples 1 --warmup 1 --quiet --out "$tmp/bad"
finish
