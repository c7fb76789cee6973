#!/bin/bash
# End to end through the bnnmc command: --help, a short run on the bundled digits, its run.json
# manifest against the files, `predict --json`, and a regression run from CSV files.
# usage: test_cli_e2e.sh BNNMC JSON_VALUE
set -u
bnnmc=${1:?usage: $0 BNNMC JSON_VALUE}
json_value=${2:?usage: $0 BNNMC JSON_VALUE}
. "$(dirname "$0")/cli_lib.sh"
. "$(dirname "$0")/run_checks.sh"

check_help() {
    local cmd
    for cmd in sample predict; do
        if expect_success "$cmd --help exits 0" "$bnnmc" "$cmd" --help; then
            grep -q "usage: bnnmc $cmd" "$tmp/out" && grep -q "example:" "$tmp/out" ||
                fail "$cmd --help: no 'usage: bnnmc $cmd' with an 'example:' on stdout"
        fi
    done
    expect_success "bnnmc --help exits 0" "$bnnmc" --help
}

check_digits_run() {
    local run=$tmp/digits json
    expect_success "sample digits (2 chains, 20 + 20 iterations)" "$bnnmc" sample --data digits \
        --arch mlp:20 --warmup 20 --samples 20 --chains 2 --fs-points 50 --seed 1 --out "$run" ||
        return
    grep -q "BMA test accuracy" "$tmp/out" && echo "ok sample prints the BMA report" ||
        fail "sample: no 'BMA test accuracy' line on stdout"
    [ "$(value "$run/run.json" status)" = complete ] && echo "ok run.json status complete" ||
        fail "run.json status is '$(value "$run/run.json" status)', want complete"
    check_manifest "$run"
    expect_success "predict --json exits 0" "$bnnmc" predict "$run" --json || return
    json=$tmp/predict.json
    cp "$tmp/out" "$json"
    local acc draws n_test chains
    acc=$(value "$json" accuracy) draws=$(value "$json" draws) n_test=$(value "$json" n_test)
    chains=$(value "$json" chains)
    is_number_between "$acc" 0.5 1.0000001 && echo "ok predict --json: accuracy $acc > 0.5" ||
        fail "predict --json: accuracy '$acc', want a number > 0.5"
    [ "$draws" = 40 ] && [ "$n_test" = 360 ] && [ "$chains" = "array 2" ] &&
        echo "ok predict --json: 40 draws, 360 test inputs, 2 chains" ||
        fail "predict --json: draws '$draws' n_test '$n_test' chains '$chains', want 40, 360, array 2"
    expect_success "predict (text) exits 0" "$bnnmc" predict "$run" &&
        { grep -q "BMA test accuracy" "$tmp/out" || fail "predict: no 'BMA test accuracy' line"; }
    expect_error "sample refuses to replace a run without --overwrite" "$run" -- \
        "$bnnmc" sample --data digits --arch mlp:5 --warmup 2 --samples 2 --chains 1 --quiet --out "$run"
    expect_error "predict of a missing run names it" "$tmp/no-such-run" -- \
        "$bnnmc" predict "$tmp/no-such-run" --json
}

check_regression_run() {
    local run=$tmp/reg rmse
    make_regression_csv "$tmp/reg-train.csv" 60 1
    make_regression_csv "$tmp/reg-test.csv" 20 2
    expect_success "sample regression from CSV (linear, gaussian)" "$bnnmc" sample \
        --train "$tmp/reg-train.csv" --test "$tmp/reg-test.csv" --task regression --arch linear \
        --noise-sd 0.3 --warmup 100 --samples 100 --chains 2 --quiet --out "$run" || return
    expect_success "predict --json of the regression run" "$bnnmc" predict "$run" --json || return
    rmse=$(value "$tmp/out" rmse)
    [ "$(value "$tmp/out" task)" = regression ] && is_number_between "$rmse" 0 1 &&
        echo "ok regression: predictive RMSE $rmse < 1 (noise sd 0.3)" ||
        fail "regression: task '$(value "$tmp/out" task)', rmse '$rmse', want regression, < 1"
}

check_help
check_digits_run
check_regression_run
finish
