#!/usr/bin/env bash
# The paper's comparison at small scale (issue 11): full-batch HMC as the reference against
# SGLD, SGHMC, cyclical SG-MCMC, mean-field VI, MAP, deep ensembles and ensemble-initialised
# HMC, by accuracy, NLL, agreement and total variation on digits and by RMSE, NLL and W1 on
# Boston housing; and a prior comparison (Gaussian, Laplace, logistic, mixture of two
# Gaussians) by BMA accuracy and NLL on digits. Every number comes from `bnnmc eval --json` and
# `bnnmc predict --json`; summarise.py writes the tables (table.md).
#
#   SIZE=full  experiments/comparison/run.sh     # about 15 minutes on 2 cores
#   SIZE=small experiments/comparison/run.sh     # a couple of minutes: the same pipeline
#
# Environment: BNNMC (default build/bnnmc), OUT (default experiments/comparison/out), THREADS,
# REUSE=1 (keep the runs that already have their report).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BNNMC=${BNNMC:-$root/build/bnnmc}
OUT=${OUT:-$here/out}
THREADS=${THREADS:-2}
SIZE=${SIZE:-full}
case $SIZE in
small) WARM=60; SAMP=100; EPOCHS=20; DRAWS=30 ;;
full)  WARM=200; SAMP=400; EPOCHS=100; DRAWS=100 ;;
*) echo "SIZE must be small or full" >&2; exit 2 ;;
esac
mkdir -p "$OUT"
start=$(date +%s)
common=(--threads "$THREADS" --quiet --overwrite)

timed() { # NAME COMMAND...: runs the command, keeps its wall time in OUT/NAME.seconds
    local name=$1 t0; shift
    t0=$(date +%s)
    "$@"
    echo "$(( $(date +%s) - t0 ))" > "$OUT/$name.seconds"
}

# run SET NAME ARGS...: a method on data set SET; then its report against SET's HMC reference.
run() {
    local set=$1 name=$2; shift 2
    if [ -n "${REUSE:-}" ] && [ -f "$OUT/$set-$name.predict.json" ]; then return; fi
    timed "$set-$name" "$BNNMC" "$@" "${common[@]}" --out "$OUT/$set-$name"
    "$BNNMC" predict "$OUT/$set-$name" --json > "$OUT/$set-$name.predict.json"
    if [ "$name" != hmc ]; then
        "$BNNMC" eval "$OUT/$set-$name" --reference "$OUT/$set-hmc" --json > "$OUT/$set-$name.eval.json"
    fi
    echo "$set-$name: $(cat "$OUT/$set-$name.seconds") s"
}

# Digits, MLP 64-50-10 (tanh), Gaussian prior of variance 1/fan-in... as bnnmc's default.
digits=(--data digits --arch mlp:50 --act tanh)
sg=(--samples "$DRAWS" --burn-in "$EPOCHS")
run digits hmc sample "${digits[@]}" --chains 4 --warmup "$WARM" --samples "$SAMP"
run digits sgld train --method sgld "${digits[@]}" "${sg[@]}"
run digits sghmc train --method sghmc "${digits[@]}" "${sg[@]}"
run digits csgmcmc train --method csgmcmc "${digits[@]}"
run digits vi train --method vi "${digits[@]}" --samples "$DRAWS"
run digits map train --method map "${digits[@]}" --epochs "$EPOCHS"
run digits ensemble train --method ensemble "${digits[@]}" --chains 5 --epochs "$EPOCHS"
run digits hmc-from-ensemble sample "${digits[@]}" --chains 4 --init-from "$OUT/digits-ensemble" \
    --warmup $((WARM / 4)) --samples $((SAMP / 2))

# Priors on digits (HMC, 2 chains each; the Gaussian run is the reference above).
for prior in laplace logistic mixture:0.5,1.4,0.2; do
    tag=${prior%%:*}
    run digits "prior-$tag" sample "${digits[@]}" --chains 2 --warmup "$WARM" --samples "$SAMP" \
        --prior "$prior"
done

# Boston housing (data/uci, targets standardised), MLP 13-50-1 (ReLU), noise sd 0.35.
boston=(--data boston --arch mlp:50 --act relu --noise-sd 0.35)
run boston hmc sample "${boston[@]}" --chains 4 --warmup "$WARM" --samples "$SAMP"
# The default SG-MCMC steps (0.5·T/N, 0.05·T/N) assume unit-scale curvature; the noise sd 0.35
# makes the likelihood 1/0.35² = 8 times sharper, and SGLD diverges: steps 8-9 times smaller.
run boston sgld train --method sgld "${boston[@]}" "${sg[@]}" --lr 1e-4
run boston sghmc train --method sghmc "${boston[@]}" "${sg[@]}" --lr 1e-5
run boston vi train --method vi "${boston[@]}" --samples "$DRAWS"
run boston map train --method map "${boston[@]}" --epochs "$EPOCHS"
run boston ensemble train --method ensemble "${boston[@]}" --chains 5 --epochs "$EPOCHS"

/usr/bin/python3 "$here/summarise.py" "$OUT" > "$OUT/table.md"
echo "total $(( $(date +%s) - start )) s; tables in $OUT/table.md"
