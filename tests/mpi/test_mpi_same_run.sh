#!/usr/bin/env bash
# The same run on 1 process and on 2, 3 and 4 MPI ranks (also split into rank groups that run
# different chains): every array byte-identical (the gradient is summed in fixed shards, in
# shard order, on every rank), the report names the traffic, and a rank that fails stops the
# whole job with a message naming the rank.
set -u
BNNMC=${1:?usage: $0 path/to/bnnmc}
MPIEXEC=${2:-mpiexec}
command -v "$MPIEXEC" > /dev/null || { echo "SKIP: $MPIEXEC not found"; exit 77; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
failures=0
ok() { echo "ok $*"; }
not_ok() { echo "not ok $*"; failures=$((failures + 1)); }
. "$(dirname "$0")/../same_arrays.sh"
same_run() { same_arrays "$1" "$2" 8; }
MODEL=(--arch mlp:16 --chains 2 --warmup 20 --samples 30 --max-leapfrog 20 --fs-points 30)
ARGS=(--data digits "${MODEL[@]}" --quiet)
"$BNNMC" sample "${ARGS[@]}" --threads 1 --out "$WORK/one" || not_ok "single process"
"$MPIEXEC" -n 2 "$BNNMC" sample "${ARGS[@]}" --threads 1 --out "$WORK/two" &&
    ok "2 ranks ran" || not_ok "2 ranks"
same_run "$WORK/one" "$WORK/two" && ok "2 ranks x 1 thread = 1 process, bit for bit" ||
    not_ok "2 ranks differ from 1 process"
"$BNNMC" sample "${ARGS[@]}" --sampler nuts --max-depth 6 --threads 1 --out "$WORK/one-nuts" &&
    "$MPIEXEC" -n 2 "$BNNMC" sample "${ARGS[@]}" --sampler nuts --max-depth 6 --threads 1 \
        --out "$WORK/two-nuts" && same_run "$WORK/one-nuts" "$WORK/two-nuts" &&
    ok "NUTS: 2 ranks = 1 process, bit for bit" || not_ok "NUTS: 2 ranks differ from 1 process"
"$MPIEXEC" -n 3 "$BNNMC" sample "${ARGS[@]}" --threads 2 --precision float32 --out "$WORK/three" &&
    ok "3 ranks ran" || not_ok "3 ranks"
same_run "$WORK/one" "$WORK/three" && ok "3 ranks x 2 threads = 1 process, bit for bit" ||
    not_ok "3 ranks differ from 1 process"
"$MPIEXEC" -n 2 "$BNNMC" sample "${ARGS[@]}" --rank-groups 2 --threads 1 --out "$WORK/groups2" &&
    same_run "$WORK/one" "$WORK/groups2" && grep -q '"iterations_done"' "$WORK/groups2/run.json" &&
    ok "2 rank groups of 1 rank, one chain each = 1 process, bit for bit" ||
    not_ok "2 rank groups differ from 1 process"
"$MPIEXEC" -n 4 "$BNNMC" sample "${ARGS[@]}" --rank-groups 2 --threads 1 --out "$WORK/groups4" &&
    same_run "$WORK/one" "$WORK/groups4" && "$BNNMC" verify "$WORK/groups4" > /dev/null &&
    "$BNNMC" predict "$WORK/groups4" > /dev/null &&
    ok "2 rank groups of 2 ranks (4 ranks) = 1 process, verify and predict pass" ||
    not_ok "4 ranks in 2 groups"
"$MPIEXEC" -n 2 "$BNNMC" sample "${ARGS[@]}" --rank-groups 3 --out "$WORK/g3" 2> "$WORK/g3.err"
[ $? -ne 0 ] && grep -q -- "--rank-groups 3 must divide" "$WORK/g3.err" &&
    ok "rank groups that do not divide the ranks refused" || not_ok "rank groups 3: $(head -2 "$WORK/g3.err")"
"$MPIEXEC" -n 2 "$BNNMC" sample --data digits "${MODEL[@]}" --out "$WORK/report" 2> "$WORK/report.err" > /dev/null
grep -q "bytes received per rank and gradient" "$WORK/report.err" && ok "traffic reported" ||
    not_ok "no traffic report: $(tail -3 "$WORK/report.err")"
"$MPIEXEC" -n 2 "$BNNMC" sample "${MODEL[@]}" --train "$WORK/missing.csv" --test "$WORK/missing.csv" \
    --out "$WORK/bad" 2> "$WORK/bad.err"
rc=$?
[ "$rc" -ne 0 ] && grep -q "rank [01]" "$WORK/bad.err" && grep -q "missing.csv" "$WORK/bad.err" &&
    ok "failing rank named, job stopped (exit $rc)" || not_ok "failure: exit $rc, $(head -3 "$WORK/bad.err")"
"$MPIEXEC" -n 2 "$BNNMC" sample "${ARGS[@]}" --shards 1 --out "$WORK/few" 2> "$WORK/few.err"
[ $? -ne 0 ] && grep -q -- "--shards 1 is fewer than the 2 MPI ranks" "$WORK/few.err" &&
    ok "too few shards refused" || not_ok "too few shards: $(head -3 "$WORK/few.err")"
echo "$failures failed"
[ "$failures" -eq 0 ]
