#!/usr/bin/env bash
# A digits run with a hierarchical prior (--prior-hyper, --ard): hyper.npy holds every
# iteration's precisions (positive, moving, named in run.json), `diagnose` reports R-hat and ESS
# for each of them, and a run killed with SIGKILL several times and resumed ends byte-identical
# (hyper.npy included) to one never interrupted; --prior-hyper cannot change on --resume.
set -u
. "$(dirname "$0")/common.sh"
RUN_ARGS=(--data digits --arch mlp:10 --chains 2 --warmup 40 --samples 80 --max-leapfrog 30
          --fs-points 20 --prior-fan-in --prior-hyper gamma:2,1 --ard --quiet)
total=120
n_hyper=$((2 + 64)) # tau.layer0, tau.layer1, tau.ard[0..63]

start=$(date +%s.%N)
"$BNNMC" sample "${RUN_ARGS[@]}" --out "$WORK/ref" || { not_ok "reference run"; finish; exit; }
timing=$(echo "$(date +%s.%N) - $start" | bc)

shape=$(head -c 256 "$WORK/ref/chain_001/hyper.npy" | grep -a -o "'shape': ([0-9]*, [0-9]*)")
[ "$shape" = "'shape': ($total, $n_hyper)" ] && ok "hyper.npy $shape: every iteration" ||
    not_ok "hyper.npy shape '$shape', want ($total, $n_hyper)"
names=$(grep -c '"tau\.' "$WORK/ref/run.json")
[ "$names" = "$n_hyper" ] && ok "run.json names $names hyperparameters" ||
    not_ok "run.json names $names hyperparameters, want $n_hyper"
if /usr/bin/python3 -c 'import numpy' 2> /dev/null; then
    out=$(/usr/bin/python3 - "$WORK/ref" << 'EOF'
import sys
import numpy as np
h = np.concatenate([np.load(f"{sys.argv[1]}/chain_{c:03d}/hyper.npy") for c in (0, 1)])
moving = np.mean(np.ptp(h, axis=0) > 0)
print("ok" if np.all(h > 0) and np.all(np.isfinite(h)) and moving == 1 else "bad",
      f"min {h.min():.3g}, max {h.max():.3g}, fraction of columns that move {moving:.2f}")
EOF
)
    [ "${out%% *}" = ok ] && ok "precisions positive, finite and moving: ${out#ok }" ||
        not_ok "precisions: $out"
fi
# Kills after 10%..90% of a whole run's time, resumed each time.
kills=0 step=0
while [ "$kills" -lt 6 ] && [ "$step" -lt 60 ]; do
    step=$((step + 1))
    delay=$(echo "$timing * (0.1 + 0.13 * ($step % 7))" | bc -l)
    "$BNNMC" sample "${RUN_ARGS[@]}" --out "$WORK/run" --checkpoint-interval 0.02 &
    pid=$!
    sleep "$delay"
    if kill -9 "$pid" 2> /dev/null; then
        wait "$pid" 2> /dev/null
        kills=$((kills + 1))
    else
        wait "$pid"
        grep -q '"status": "complete"' "$WORK/run/run.json" 2> /dev/null && rm -rf "$WORK/run"
    fi
done
[ "$kills" -ge 4 ] && ok "$kills kills" || not_ok "only $kills kills landed"
"$BNNMC" sample --resume "$WORK/run" --quiet && ok "final resume" || not_ok "final resume"
same_run "$WORK/ref" "$WORK/run" && ok "killed and resumed run is byte-identical, hyper.npy too" ||
    not_ok "killed and resumed run differs from the uninterrupted one"
"$BNNMC" verify "$WORK/run" > /dev/null 2> "$WORK/err" &&
    ok "killed and resumed run verifies, hyper.npy rows included" ||
    not_ok "killed and resumed run does not verify: $(cat "$WORK/err")"
"$BNNMC" sample --resume "$WORK/run" --prior-hyper gamma:3,1 --quiet 2> "$WORK/err" &&
    not_ok "--resume accepted a new --prior-hyper" ||
    { grep -q "prior-hyper cannot be changed" "$WORK/err" && ok "--resume refuses a new --prior-hyper" ||
        not_ok "--resume --prior-hyper: $(cat "$WORK/err")"; }
# (diagnose writes diag_*.npy into the run: after the byte comparison)
if "$BNNMC" diagnose "$WORK/ref" > "$WORK/diag.txt"; then
    count=$(/usr/bin/python3 -c "
import json, math, sys
d = json.load(open('$WORK/ref/diagnostics.json'))['hyper']
q = d['quantities']
print(len(q) if all(math.isfinite(x['rhat']) and x['ess_bulk'] > 0 for x in q) and
      d['draws_per_chain'] == 80 else -1)" 2> /dev/null)
    [ "$count" = "$n_hyper" ] && ok "diagnose: R-hat and ESS of all $count hyperparameters over 80 draws" ||
        not_ok "diagnose: diagnostics.json hyper section ($count)"
else
    not_ok "diagnose failed"
fi

finish
