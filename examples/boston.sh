#!/bin/sh
# examples/boston.sh: the small regression network of Izmailov et al. (2021) — an MLP with one
# hidden layer of 50 ReLU units — on the bundled Boston housing data, with the command-line
# tool: two independent HMC runs (different seeds), their model-average test RMSE and NLL, the
# convergence diagnostics of one, and the 1-Wasserstein distance between the two runs'
# predictive distributions (how far apart two reference runs are: the floor against which an
# approximate method is judged with `bnnmc eval`).
#
# Targets are standardised with the training mean and sd (as in bnn_hmc); the Gaussian
# likelihood has a fixed noise sd (bnnmc does not learn it, unlike the paper's heteroscedastic
# head): 0.35 in standardised units, about the test RMSE such a network reaches.
#
# usage: sh examples/boston.sh [OUT_DIR]        (default runs/boston)
#        BNNMC=path/to/bnnmc CHAINS=4 WARMUP=500 SAMPLES=500 to override
set -eu
bnnmc=${BNNMC:-./build/bnnmc}
out=${1:-runs/boston}
chains=${CHAINS:-4} warmup=${WARMUP:-500} samples=${SAMPLES:-500}

for seed in 1 2; do
    "$bnnmc" sample --data boston --arch mlp:50 --act relu --prior-var 1 --noise-sd 0.35 \
        --chains "$chains" --warmup "$warmup" --samples "$samples" --seed "$seed" \
        --overwrite --quiet --out "$out-seed$seed"
    echo "== seed $seed: Bayesian model average on the 51 test inputs"
    "$bnnmc" predict "$out-seed$seed"
done
echo "== convergence of seed 1 (weight and function space)"
"$bnnmc" diagnose "$out-seed1" | head -n 20
echo "== seed 2 against seed 1: W1 between the predictive distributions, per test input"
"$bnnmc" eval "$out-seed2" --reference "$out-seed1"
echo "== the same for the regression function alone (per-draw means, no observation noise)"
"$bnnmc" eval "$out-seed2" --reference "$out-seed1" --no-noise
