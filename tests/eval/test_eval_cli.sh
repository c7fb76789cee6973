#!/bin/bash
# bnnmc eval end to end: hand-made CSVs with values computed by hand; a run against a CSV of its
# own model-average probabilities (written by numpy from the run's .npy files) gives agreement 1
# and total variation 0; a regression run against its own per-draw means gives W1 0; bad inputs
# exit 1 naming the file, line and column.
# usage: test_eval_cli.sh BNNMC JSON_VALUE
set -u
bnnmc=${1:?usage: $0 BNNMC JSON_VALUE}
json_value=${2:?usage: $0 BNNMC JSON_VALUE}
. "$BNNMC_SOURCE_DIR/tests/cli/cli_lib.sh"
python=/usr/bin/python3

value() {
    local f=$1
    shift
    "$json_value" "$@" <"$f" 2>/dev/null
}

# expect_value NAME FILE WANT TOL PATH...: the number at PATH is within TOL of WANT.
expect_value() {
    local name=$1 file=$2 want=$3 tol=$4 got
    shift 4
    got=$(value "$file" "$@")
    if awk -v g="$got" -v w="$want" -v t="$tol" \
        'BEGIN { d = g - w; if (d < 0) d = -d; exit !(g ~ /^-?[0-9]/ && d <= t) }'; then
        echo "ok $name: $got"
    else
        fail "$name: got '$got', want $want (tolerance $tol)"
    fi
}

check_by_hand() {
    printf '0.7,0.2,0.1\n0.1,0.6,0.3\n0.3,0.3,0.4\n0.5,0.25,0.25\n' >"$tmp/p.csv"
    printf 'c0 c1 c2\n0.6 0.3 0.1\n0.2 0.3 0.5\n0.3 0.3 0.4\n0.2 0.5 0.3\n' >"$tmp/q.csv"
    printf 'label\n0\n1\n2\n1\n' >"$tmp/y.csv"
    expect_success "eval of two hand-made CSVs" "$bnnmc" eval "$tmp/p.csv" --reference "$tmp/q.csv" \
        --labels "$tmp/y.csv" --json || return
    cp "$tmp/out" "$tmp/hand.json"
    expect_value "agreement (2 of 4 argmaxes agree)" "$tmp/hand.json" 0.5 1e-15 agreement
    expect_value "total variation (0.1+0.3+0+0.3)/4" "$tmp/hand.json" 0.175 1e-15 total_variation
    expect_value "pred accuracy 3/4" "$tmp/hand.json" 0.75 0 pred accuracy
    expect_value "pred NLL -(ln .7+ln .6+ln .4+ln .25)/4" "$tmp/hand.json" 0.792521415174692 1e-14 pred nll
    expect_value "pred ECE (.3+.4+.6+.5)/4" "$tmp/hand.json" 0.45 1e-15 pred ece
    expect_value "reference NLL -(ln .6+ln .3+ln .4+ln .5)/4" "$tmp/hand.json" 0.831059085131507 1e-14 reference nll
    expect_value "reference ECE (.4+.5+.6+.5)/4" "$tmp/hand.json" 0.5 1e-15 reference ece
    # Regression: {2,1} vs {0,3,6} = 13/6 and {0,0} vs {1,1,1} = 1 (unequal sample counts); the
    # reference in the competition's uci_samples.csv layout (one column per input).
    printf '2,1\n0,0\n' >"$tmp/ps.csv"
    printf '6 1\n0 1\n3 1\n' >"$tmp/qs.csv"
    printf '2\n0\n' >"$tmp/ys.csv"
    expect_success "eval of regression samples, unequal counts" "$bnnmc" eval "$tmp/ps.csv" \
        --reference "$tmp/qs.csv" --task regression --transpose ref --labels "$tmp/ys.csv" --json ||
        return
    cp "$tmp/out" "$tmp/reg.json"
    expect_value "W1 (13/6 + 1)/2" "$tmp/reg.json" 1.5833333333333333 1e-15 w1
    expect_value "largest W1 13/6" "$tmp/reg.json" 2.1666666666666667 1e-15 w1_max
    expect_value "pred RMSE sqrt(0.125)" "$tmp/reg.json" 0.35355339059327379 1e-15 pred rmse
    expect_value "reference RMSE 1" "$tmp/reg.json" 1 1e-15 reference rmse
}

check_run_vs_own_bma() {
    local run=$tmp/digits
    expect_success "sample digits (2 chains)" "$bnnmc" sample --data digits --arch mlp:10 \
        --warmup 10 --samples 10 --chains 2 --seed 3 --quiet --out "$run" || return
    # The model average as predict.c forms it: chain sums added in chain order, then divided.
    "$python" - "$run" "$tmp/bma.csv" <<'EOF' || { fail "numpy could not write the BMA CSV"; return; }
import json, sys
import numpy as np
run, out = sys.argv[1], sys.argv[2]
counts = json.load(open(run + "/run.json"))["bma_count"]
total = 0
for c in range(len(counts)):
    total = total + np.load("%s/chain_%03d/bma_sum.npy" % (run, c))
np.savetxt(out, total / sum(counts), fmt="%.17g", delimiter=",")
EOF
    expect_success "eval run --reference its own BMA CSV" "$bnnmc" eval "$run" \
        --reference "$tmp/bma.csv" --json || return
    cp "$tmp/out" "$tmp/own.json"
    expect_value "agreement with its own BMA" "$tmp/own.json" 1 0 agreement
    expect_value "total variation to its own BMA" "$tmp/own.json" 0 0 total_variation
    [ "$(value "$tmp/own.json" targets)" = "$run" ] && echo "ok targets from the run" ||
        fail "targets: '$(value "$tmp/own.json" targets)', want $run"
    expect_success "predict --json" "$bnnmc" predict "$run" --json && cp "$tmp/out" "$tmp/predict.json"
    expect_value "eval's run accuracy = predict's" "$tmp/own.json" \
        "$(value "$tmp/predict.json" accuracy)" 0 pred accuracy
    expect_value "the CSV's accuracy with the run's targets" "$tmp/own.json" \
        "$(value "$tmp/predict.json" accuracy)" 0 reference accuracy
    expect_value "eval's run ECE = predict's" "$tmp/own.json" "$(value "$tmp/predict.json" ece)" 0 pred ece
    # The CSV against the run, with the data set's test CSV as the labels.
    expect_success "eval CSV --reference run --labels test.csv" "$bnnmc" eval "$tmp/bma.csv" \
        --reference "$run" --labels "$BNNMC_SOURCE_DIR/data/digits/test.csv" --json &&
        expect_value "labels from data/digits/test.csv: same accuracy" "$tmp/out" \
            "$(value "$tmp/predict.json" accuracy)" 0 pred accuracy
    expect_success "eval text output" "$bnnmc" eval "$run" --reference "$tmp/bma.csv" &&
        { grep -q "^agreement  *1.000000" "$tmp/out" && echo "ok text output shows agreement" ||
            fail "text output lacks 'agreement 1.000000': $(head -c 300 "$tmp/out")"; }
    # A probability tampered with: the row no longer sums to 1.
    awk -F, 'NR == 3 { $1 = $1 + 0.01 } 1' OFS=, "$tmp/bma.csv" >"$tmp/bad-sum.csv"
    expect_error "a row not summing to 1 names the line" "bad-sum.csv:3: probabilities sum to" -- \
        "$bnnmc" eval "$run" --reference "$tmp/bad-sum.csv"
    head -n 100 "$tmp/bma.csv" >"$tmp/short.csv"
    expect_error "fewer rows than the run's test set" "has 360 test inputs" "short.csv has 100" -- \
        "$bnnmc" eval "$run" --reference "$tmp/short.csv"
    cut -d, -f1-9 "$tmp/bma.csv" >"$tmp/nine.csv"
    expect_error "fewer classes than the run" "has 10 classes (columns) but" -- \
        "$bnnmc" eval "$run" --reference "$tmp/nine.csv" --tolerance 1
    expect_error "--task regression on a classification run" "is a classification run" -- \
        "$bnnmc" eval "$run" --reference "$tmp/bma.csv" --task regression
}

check_regression_run() {
    local run=$tmp/reg
    awk 'BEGIN { srand(5); print "x,y"; for (i = 0; i < 70; i++) { x = 4 * rand() - 2;
        printf "%.6f,%.6f\n", x, 1.5 * x + 0.3 * (rand() + rand() + rand() - 1.5) } }' >"$tmp/reg.csv"
    head -n 51 "$tmp/reg.csv" >"$tmp/reg-train.csv"
    { echo "x,y"; tail -n 20 "$tmp/reg.csv"; } >"$tmp/reg-test.csv"
    expect_success "sample a regression run" "$bnnmc" sample --train "$tmp/reg-train.csv" \
        --test "$tmp/reg-test.csv" --task regression --arch linear --noise-sd 0.3 --warmup 30 \
        --samples 15 --chains 2 --fs-points 8 --quiet --out "$run" || return
    # The per-draw means at the recorded points, one column per point (numpy.savetxt's blanks).
    "$python" - "$run" "$tmp/mu.csv" <<'EOF' || { fail "numpy could not write the draws"; return; }
import sys
import numpy as np
run, out = sys.argv[1], sys.argv[2]
mu = np.concatenate([np.load("%s/chain_%03d/fs.npy" % (run, c))[:, :, 0] for c in range(2)])
np.savetxt(out, mu, fmt="%.17g")
# The same draws in a file with every test input (a row each); rows not recorded hold 99.
full = np.full((20, mu.shape[0]), 99.0)
full[np.load(run + "/fs_index.npy")] = mu.T
np.savetxt(out.replace(".csv", "-all.csv"), full, fmt="%.17g", delimiter=",")
EOF
    expect_success "eval regression run --no-noise against its draws" "$bnnmc" eval "$run" \
        --reference "$tmp/mu.csv" --transpose ref --no-noise --json &&
        expect_value "W1 0 against its own draws (8 recorded of 20 test inputs)" "$tmp/out" 0 0 w1
    expect_value "30 samples per input (2 chains x 15 draws)" "$tmp/out" 30 0 pred samples
    expect_success "eval regression run --no-noise against all 20 test inputs" "$bnnmc" eval \
        "$tmp/mu-all.csv" --reference "$run" --no-noise --json &&
        expect_value "W1 0 on the run's 8 recorded rows of the file's 20" "$tmp/out" 0 0 w1
    expect_value "8 inputs compared" "$tmp/out" 8 0 n_inputs
    expect_success "eval regression run against itself" "$bnnmc" eval "$run" --reference "$run" \
        --quantiles 200 --json && expect_value "W1 0 against itself" "$tmp/out" 0 0 w1
    expect_value "200 quantiles per input" "$tmp/out" 200 0 reference samples
    # With observation noise the predictive is wider than the draws of the mean: W1 > 0.
    expect_success "eval regression run (noise) against its draws" "$bnnmc" eval "$run" \
        --reference "$tmp/mu.csv" --transpose ref --json &&
        expect_value "W1 > 0 once the noise (sd 0.3) is in" "$tmp/out" 0.15 0.149 w1
}

check_bad_input() {
    expect_error "eval without --reference" "needs PRED and --reference REF" -- "$bnnmc" eval "$tmp/p.csv"
    printf '0.5,0.5\n1.25,-0.25\n' >"$tmp/neg.csv"
    expect_error "a negative probability names line and column" "neg.csv:2:2: negative probability" -- \
        "$bnnmc" eval "$tmp/neg.csv" --reference "$tmp/neg.csv"
    printf '0.5,0.5\n0.5,x\n' >"$tmp/text.csv"
    expect_error "a non-numeric field names line and column" "text.csv:2:2: 'x' is not a number" -- \
        "$bnnmc" eval "$tmp/p.csv" --reference "$tmp/text.csv"
    expect_error "a missing file" "no-such.csv" -- "$bnnmc" eval "$tmp/p.csv" --reference "$tmp/no-such.csv"
    printf '0\n1\n7\n1\n' >"$tmp/y7.csv"
    expect_error "a label that is not a class" "y7.csv: the label of test input 3 (7)" -- \
        "$bnnmc" eval "$tmp/p.csv" --reference "$tmp/q.csv" --labels "$tmp/y7.csv"
    expect_error "a bad --transpose" "--transpose" -- "$bnnmc" eval "$tmp/p.csv" --reference \
        "$tmp/q.csv" --transpose rows
}

check_by_hand
check_run_vs_own_bma
check_regression_run
check_bad_input
finish
