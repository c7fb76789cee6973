#!/usr/bin/env bash
# The weight- vs function-space R-hat study (issue 4, item 8): MLP BNNs on digits (width sweep),
# an MNIST subset and Boston housing (regression); each run diagnosed raw, aligned per chain and
# aligned per draw, with islands, prior marginals and the null reference; then the table
# (table.md), the figures (fig_*.svg and fig_*.png, from the digits run's report) and every report.html.
#
#   SIZE=full  experiments/weight-vs-function/run.sh   # the study (< 30 min on 2 cores)
#   SIZE=small experiments/weight-vs-function/run.sh   # a few minutes: the same pipeline, tiny
#
# Environment: BNNMC (default build/bnnmc), OUT (default experiments/weight-vs-function/out),
# THREADS (default 2), REUSE=1 (keep runs that already have a diagnostics.json).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BNNMC=${BNNMC:-$root/build/bnnmc}
OUT=${OUT:-$here/out}
THREADS=${THREADS:-2}
SIZE=${SIZE:-full}
case $SIZE in
small) WIDTHS="8 32"; WARM=50; SAMP=100; MNIST_N=300; MNIST_W=16 ;;
full)  WIDTHS="8 32 128 512"; WARM=150; SAMP=300; MNIST_N=1000; MNIST_W=32 ;;
*) echo "SIZE must be small or full" >&2; exit 2 ;;
esac
CHAINS=4
mkdir -p "$OUT"
start=$(date +%s)
common=(--warmup "$WARM" --threads "$THREADS" --quiet --overwrite)

# Weights are thinned for wide layers so that per-draw alignment (O(H^3) per layer) stays cheap.
thin_for() { if [ "$1" -ge 512 ]; then echo 5; elif [ "$1" -ge 128 ]; then echo 2; else echo 1; fi; }

diagnose_all() { # RUN: per-chain alignment kept aside, then per-draw (diagnostics.json), report
    "$BNNMC" diagnose "$1" --align-per-chain --threads "$THREADS" > "$1/diagnose_per_chain.txt" &&
    cp "$1/diagnostics.json" "$1/diagnostics_per_chain.json" &&
    "$BNNMC" diagnose "$1" --align --threads "$THREADS" > "$1/diagnose.txt" &&
    "$BNNMC" report "$1" > /dev/null
}

run() { # NAME ARGS...: sample (timed) and diagnose
    local name=$1; shift
    if [ -n "${REUSE:-}" ] && [ -f "$OUT/$name/diagnostics.json" ]; then return; fi
    local t0; t0=$(date +%s)
    local samples=(--samples "$SAMP")
    case " $* " in *" --samples "*) samples=() ;; esac
    "$BNNMC" sample "$@" "${common[@]}" "${samples[@]}" --out "$OUT/$name" || return 1
    echo "$(( $(date +%s) - t0 ))" > "$OUT/$name/sample_seconds.txt"
    diagnose_all "$OUT/$name" || return 1
    echo "$name: $(( $(date +%s) - t0 )) s"
}

# The widest net gets two thirds of the draws, so that the study fits in 30 minutes on 2 cores.
samples_for() { if [ "$1" -ge 512 ]; then echo $((SAMP * 2 / 3)); else echo "$SAMP"; fi; }
for w in $WIDTHS; do
    run "digits-w$w" --chains "$CHAINS" --data digits --arch "mlp:$w" --act tanh --thin "$(thin_for "$w")" \
        --samples "$(samples_for "$w")"
done
# Many short chains in superchains (nested R-hat): 8 chains in 2 superchains, a quarter as long.
# (--chains given twice would be refused, so each run names its own.)
run "digits-w32-nested" --data digits --arch mlp:32 --act tanh --chains 8 --superchains 2 \
    --samples $((SAMP / 4))
# Symmetry moves (if this bnnmc has them): raw weight R-hat should look perfect, aligned not change.
if run "digits-w32-moves" --chains "$CHAINS" --data digits --arch mlp:32 --act tanh --symmetry-moves 2> "$OUT/moves.err"; then
    :
else
    echo "symmetry moves unavailable: $(cat "$OUT/moves.err")"
    rm -rf "$OUT/digits-w32-moves"
fi
run "mnist$MNIST_N-w$MNIST_W" --chains "$CHAINS" --data mnist --train-subset "$MNIST_N" --fs-points 500 \
    --arch "mlp:$MNIST_W" --act tanh
# Boston housing (scikit-learn's CSV: a count line, a header, 506 rows, MEDV last): rows shuffled
# with a fixed seed, 80/20 split,
# the target standardised with the training mean and sd (inputs are standardised by bnnmc).
/usr/bin/python3 - "$OUT" <<'PY'
import csv, os, random, sys
src = "/usr/lib/python3/dist-packages/sklearn/datasets/data/boston_house_prices.csv"
rows = list(csv.reader(open(src)))[2:]
rows = [[float(v) for v in r] for r in rows if len(r) == 14]
random.Random(0).shuffle(rows)
m = sum(r[-1] for r in rows[:405]) / 405
sd = (sum((r[-1] - m) ** 2 for r in rows[:405]) / 404) ** 0.5
for r in rows: r[-1] = (r[-1] - m) / sd
out = sys.argv[1]
with open(os.path.join(out, "boston_train.csv"), "w") as f: csv.writer(f).writerows(rows[:405])
with open(os.path.join(out, "boston_test.csv"), "w") as f: csv.writer(f).writerows(rows[405:])
PY
run "boston-w50" --chains "$CHAINS" --train "$OUT/boston_train.csv" --test "$OUT/boston_test.csv" --header no \
    --task regression --likelihood gaussian --noise-sd 0.5 --arch mlp:50 --act tanh

/usr/bin/python3 "$here/summarise.py" "$OUT" > "$OUT/table.md"
echo "total $(( $(date +%s) - start )) s; table in $OUT/table.md"
