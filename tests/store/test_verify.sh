#!/usr/bin/env bash
# bnnmc verify: a clean run (and a killed-and-resumed one) verifies; a flipped byte in any
# stored array (hyper.npy of a hierarchical prior too), or in the record log, is found and named
# with its file; a torn log is reported.
set -u
. "$(dirname "$0")/common.sh"

"$BNNMC" sample "${RUN_ARGS[@]}" --out "$WORK/run" || { not_ok "run"; finish; exit; }
"$BNNMC" verify "$WORK/run" > "$WORK/out" && grep -q "chain 1: 240 records" "$WORK/out" &&
    ok "clean run verifies ($(head -1 "$WORK/out"))" || not_ok "clean run: $(cat "$WORK/out")"

damage() { # damage NAME FILE OFFSET NEEDLE
    cp -r "$WORK/run" "$WORK/d"
    printf '\377' | dd of="$WORK/d/$2" bs=1 seek="$3" conv=notrunc status=none
    "$BNNMC" verify "$WORK/d" > /dev/null 2> "$WORK/err"
    local rc=$?
    [ "$rc" -eq 1 ] && grep -q "$4" "$WORK/err" && ok "$1" || not_ok "$1: exit $rc, $(cat "$WORK/err")"
    rm -rf "$WORK/d"
}
damage "weights byte flipped" chain_000/weights.npy 4000 "chain_000/weights.npy: offset"
damage "function-space byte flipped" chain_001/fs.npy 9000 "chain_001/fs.npy: offset"
damage "warm-up function-space byte flipped" chain_001/warmup_fs.npy 300 "warmup_fs.npy: offset"
damage "stats byte flipped" chain_000/stats.npy 1000 "chain_000/stats.npy: offset"
damage "record log byte flipped" chain_001/records.log 100 "records.log: offset"
"$BNNMC" sample "${RUN_ARGS[@]}" --prior-hyper gamma:2,1 --out "$WORK/h" &&
    "$BNNMC" verify "$WORK/h" > /dev/null && ok "hierarchical run verifies" ||
    not_ok "hierarchical run does not verify"
printf '\377' | dd of="$WORK/h/chain_001/hyper.npy" bs=1 seek=400 conv=notrunc status=none
"$BNNMC" verify "$WORK/h" > /dev/null 2> "$WORK/err"
[ $? -eq 1 ] && grep -q "chain_001/hyper.npy: offset" "$WORK/err" && ok "hyper.npy byte flipped" ||
    not_ok "hyper.npy byte flipped: $(cat "$WORK/err")"
cp -r "$WORK/run" "$WORK/t"
truncate -s -5 "$WORK/t/chain_000/records.log"
"$BNNMC" verify "$WORK/t" > /dev/null 2> "$WORK/err"
[ $? -eq 1 ] && grep -q "is torn" "$WORK/err" && ok "torn log reported" || not_ok "torn log: $(cat "$WORK/err")"

# killed and resumed: the log is cut back with the arrays and still verifies
"$BNNMC" sample "${RUN_ARGS[@]}" --out "$WORK/k" --checkpoint-interval 0 &
pid=$!
sleep 1
kill -9 "$pid" 2> /dev/null
wait "$pid" 2> /dev/null
"$BNNMC" sample --resume "$WORK/k" --quiet && "$BNNMC" verify "$WORK/k" > /dev/null &&
    ok "killed, resumed run verifies" || not_ok "killed, resumed run does not verify"
"$BNNMC" verify "$WORK/nowhere" 2> "$WORK/err"
[ $? -eq 1 ] && grep -q "nowhere/run.json" "$WORK/err" && ok "missing run named" || not_ok "missing run"
finish
