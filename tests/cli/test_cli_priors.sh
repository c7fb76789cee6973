#!/bin/bash
# Each prior family end to end on the bundled digits: a short run per --prior, its canonical name
# in run.json, a finite log prior at every iteration, a BMA accuracy far above chance; a bad
# family is refused with its name, and --prior cannot change when a run resumes; hierarchical
# prior options are refused where they cannot apply.
# usage: test_cli_priors.sh BNNMC JSON_VALUE
set -u
bnnmc=${1:?usage: $0 BNNMC JSON_VALUE}
json_value=${2:?usage: $0 BNNMC JSON_VALUE}
. "$(dirname "$0")/cli_lib.sh"
py=/usr/bin/python3

value() {
    local f=$1
    shift
    "$json_value" "$@" <"$f" 2>/dev/null
}

# Every log_prior of stats.npy (column 9) is finite, and they are not all equal.
check_log_prior() {
    local run=$1 name=$2 out
    if ! "$py" -c 'import numpy' 2>/dev/null; then
        echo "ok $name log_prior check skipped: no numpy"
        return
    fi
    out=$("$py" - "$run" <<'EOF'
import glob, sys
import numpy as np
lp = np.concatenate([np.load(f)[:, 9] for f in sorted(glob.glob(sys.argv[1] + "/chain_*/stats.npy"))])
print("ok" if np.all(np.isfinite(lp)) and np.ptp(lp) > 0 else "bad", lp.size, lp.min(), lp.max())
EOF
)
    [ "${out%% *}" = ok ] && echo "ok $name: log_prior finite and moving at every iteration (${out#ok })" ||
        fail "$name: log_prior not finite or constant: $out"
}

for prior in gaussian laplace student-t:3 logistic mixture:0.5,1.5,0.2; do
    run=$tmp/run-${prior%%:*}
    expect_success "sample --prior $prior" "$bnnmc" sample --data digits --arch mlp:10 \
        --prior "$prior" --warmup 15 --samples 15 --chains 2 --fs-points 20 --quiet --out "$run" ||
        continue
    got=$(value "$run/run.json" config prior)
    [ "$got" = "$prior" ] && echo "ok run.json config.prior = $got" ||
        fail "run.json config.prior is '$got', want '$prior'"
    check_log_prior "$run" "$prior"
    expect_success "predict --json ($prior)" "$bnnmc" predict "$run" --json || continue
    acc=$(value "$tmp/out" accuracy)
    awk -v a="$acc" 'BEGIN { exit !(a > 0.8) }' && echo "ok $prior: BMA accuracy $acc > 0.8" ||
        fail "$prior: BMA accuracy '$acc', want > 0.8"
done

expect_error "sample refuses an unknown prior" "--prior" "student-t:NU" -- \
    "$bnnmc" sample --data digits --prior cauchy --quiet --out "$tmp/bad"
expect_error "sample refuses student-t without NU > 0" "--prior" "NU > 0" -- \
    "$bnnmc" sample --data digits --prior student-t:0 --quiet --out "$tmp/bad"
expect_error "--resume refuses a new --prior" "--prior cannot be changed" -- \
    "$bnnmc" sample --resume "$tmp/run-laplace" --prior gaussian --quiet
expect_error "repeating a run with another --prior is refused" "config.prior differs" -- \
    "$bnnmc" sample --data digits --arch mlp:10 --prior logistic --warmup 15 --samples 15 \
    --chains 2 --fs-points 20 --quiet --out "$tmp/run-laplace"
# Hierarchical priors: refused where the Gibbs update has no conjugate conditional or the model
# lacks what they govern (their runs: tests/store/test_resume_hyper.sh, tests/cli/test_cli_hetero.sh)
expect_error "--prior-hyper with a Laplace prior is refused" "needs --prior gaussian" -- \
    "$bnnmc" sample --data digits --prior laplace --prior-hyper gamma:2,1 --quiet --out "$tmp/bad"
expect_error "--ard without --prior-hyper is refused" "--ard needs --prior-hyper" -- \
    "$bnnmc" sample --data digits --ard --quiet --out "$tmp/bad"
expect_error "--noise-hyper on class labels is refused" "--noise-hyper needs --likelihood gaussian" -- \
    "$bnnmc" sample --data digits --noise-hyper gamma:2,1 --quiet --out "$tmp/bad"
expect_error "a malformed Gamma prior is refused" "--prior-hyper 'gamma:2'" "gamma:SHAPE,RATE" -- \
    "$bnnmc" sample --data digits --prior-hyper gamma:2 --quiet --out "$tmp/bad"
[ ! -e "$tmp/bad" ] && echo "ok refused runs leave no run directory" ||
    fail "a refused run left $tmp/bad behind"
finish
