#!/bin/bash
# The heteroscedastic regression head end to end on Boston housing (scikit-learn's CSV, split
# 405/101 as experiments/weight-vs-function/run.sh does): a short run, its run.json, `predict
# --json` against the predictive mixture recomputed in numpy from the recorded (μ, σ) of every
# draw (mean, sd and NLL = −log of the average density over draws), a resumed extension
# byte-identical to an uninterrupted run, and the head refused on class labels; and the Gaussian
# head with a Gibbs-sampled noise precision (--noise-hyper).
# Exits 77 (skipped) without numpy or the CSV.
# usage: test_cli_hetero.sh BNNMC JSON_VALUE
set -u
bnnmc=${1:?usage: $0 BNNMC JSON_VALUE}
json_value=${2:?usage: $0 BNNMC JSON_VALUE}
py=/usr/bin/python3
csv=/usr/lib/python3/dist-packages/sklearn/datasets/data/boston_house_prices.csv
if ! "$py" -c 'import numpy' 2>/dev/null || [ ! -f "$csv" ]; then
    echo "skip: needs numpy and $csv (python3-sklearn)"
    exit 77
fi
. "$(dirname "$0")/cli_lib.sh"

value() {
    local f=$1
    shift
    "$json_value" "$@" <"$f" 2>/dev/null
}

"$py" - "$csv" "$tmp" <<'EOF'
import csv, os, random, sys
rows = [[float(v) for v in r] for r in list(csv.reader(open(sys.argv[1])))[2:] if len(r) == 14]
random.Random(0).shuffle(rows)
m = sum(r[-1] for r in rows[:405]) / 405
sd = (sum((r[-1] - m) ** 2 for r in rows[:405]) / 404) ** 0.5
for r in rows: r[-1] = (r[-1] - m) / sd
with open(os.path.join(sys.argv[2], "train.csv"), "w") as f: csv.writer(f).writerows(rows[:405])
with open(os.path.join(sys.argv[2], "test.csv"), "w") as f: csv.writer(f).writerows(rows[405:])
EOF
args=(--train "$tmp/train.csv" --test "$tmp/test.csv" --header no --task regression
      --likelihood hetero-gaussian --arch mlp:10 --prior-fan-in --warmup 30 --chains 2 --quiet)

run=$tmp/a
if expect_success "sample --likelihood hetero-gaussian (Boston, 2 chains, 30 + 30)" \
    "$bnnmc" sample "${args[@]}" --samples 30 --out "$run"; then
    lik=$(value "$run/run.json" config likelihood) k=$(value "$run/run.json" fs_outputs)
    meaning=$(value "$run/run.json" fs_output_meaning)
    [ "$lik" = hetero-gaussian ] && [ "$k" = 2 ] && [ "$meaning" = "predictive mean and sd" ] &&
        echo "ok run.json: likelihood $lik, $k outputs per point ($meaning)" ||
        fail "run.json: likelihood '$lik', fs_outputs '$k', meaning '$meaning'"
    if expect_success "predict --json" "$bnnmc" predict "$run" --json; then
        cp "$tmp/out" "$tmp/predict.json"
        out=$("$py" - "$run" "$tmp/predict.json" <<'EOF'
import glob, json, math, sys
import numpy as np
run, pred = sys.argv[1], json.load(open(sys.argv[2]))
y = np.load(run + "/test_targets.npy")
assert np.array_equal(np.load(run + "/fs_index.npy"), np.arange(y.size)), "fs covers the test set"
fs = np.concatenate([np.load(f).astype(np.float64) for f in sorted(glob.glob(run + "/chain_*/fs.npy"))])
mu, sd = fs[:, :, 0], fs[:, :, 1]
mean = mu.mean(0)
pred_sd = np.sqrt((mu ** 2 + sd ** 2).mean(0) - mean ** 2)
dens = np.exp(-0.5 * ((y - mu) / sd) ** 2) / (sd * math.sqrt(2 * math.pi))
nll = -np.log(dens.mean(0)).mean()
err = max(np.max(np.abs(np.array(pred["predictive_mean"]) - mean) / (np.abs(mean) + 1e-3)),
          np.max(np.abs(np.array(pred["predictive_sd"]) - pred_sd) / pred_sd),
          abs(pred["nll"] - nll) / abs(nll), abs(pred["mean_sd"] - pred_sd.mean()) / pred_sd.mean())
ok = err < 1e-4 and pred["nll"] < 1.0 and 0.05 < pred["mean_sd"] < 2 and len(pred["predictive_sd"]) == 101
print("ok" if ok else "bad", f"nll {pred['nll']:.4f} (numpy {nll:.4f}), mean sd {pred['mean_sd']:.4f}, "
      f"max rel diff {err:.1e} over 101 points (tol 1e-4; want nll < 1, 0.05 < sd < 2)")
EOF
)
        [ "${out%% *}" = ok ] && echo "ok predict matches the mixture recomputed from fs.npy: ${out#ok }" ||
            fail "predict vs the mixture from fs.npy: $out"
    fi
fi

# A run of 15 samples extended to 30 equals the run of 30, byte for byte.
if expect_success "sample 15 samples" "$bnnmc" sample "${args[@]}" --samples 15 --out "$tmp/b" &&
    expect_success "resume --samples 30" "$bnnmc" sample --resume "$tmp/b" --samples 30 --quiet; then
    differ=0
    for f in "$run"/chain_*/*.npy; do cmp -s "$f" "$tmp/b/${f#"$run"/}" || { differ=1; echo "# differs: $f"; }; done
    [ $differ = 0 ] && echo "ok resumed extension: every chain array equals the uninterrupted run's" ||
        fail "resumed extension differs from the uninterrupted run"
fi

# The Gaussian head with hierarchical precisions of the weights and of the noise (Gibbs):
# hyper.npy's last column is tau.noise, and the noise sd it implies settles near the residual sd
# of the fit (Boston, standardised: a noise sd between 0.15 and 0.8, tau.noise in (1.5, 45)).
if expect_success "sample --likelihood gaussian --noise-hyper --prior-hyper" "$bnnmc" sample \
    --train "$tmp/train.csv" --test "$tmp/test.csv" --header no --task regression --arch mlp:10 \
    --prior-fan-in --prior-hyper gamma:2,1 --noise-hyper gamma:2,1 --warmup 30 --samples 30 \
    --chains 2 --quiet --out "$tmp/noise"; then
    out=$("$py" - "$tmp/noise" <<'EOF'
import json, sys
import numpy as np
run = sys.argv[1]
names = json.load(open(run + "/run.json"))["hyper_names"]
h = np.load(run + "/chain_000/hyper.npy")
tau = h[30:, -1].mean()
ok = names == ["tau.layer0", "tau.layer1", "tau.noise"] and h.shape == (60, 3) and 1.5 < tau < 45
print("ok" if ok else "bad", f"{names}, shape {h.shape}, mean tau.noise {tau:.3g} (sd {tau ** -0.5:.3g})")
EOF
)
    [ "${out%% *}" = ok ] && echo "ok noise precision sampled: ${out#ok }" || fail "noise precision: $out"
    expect_success "predict of the --noise-hyper run" "$bnnmc" predict "$tmp/noise" --json
fi
expect_error "--noise-hyper with hetero-gaussian is refused" "--noise-hyper needs --likelihood gaussian" -- \
    "$bnnmc" sample "${args[@]}" --noise-hyper gamma:2,1 --samples 5 --out "$tmp/bad"

expect_error "hetero-gaussian on class labels is refused" "needs a regression data set" -- \
    "$bnnmc" sample --data digits --likelihood hetero-gaussian --quiet --out "$tmp/bad"
finish
