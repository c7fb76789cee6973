#!/usr/bin/env bash
# A run killed with SIGKILL again and again, at moments spread over warm-up and sampling, and
# resumed each time, ends byte-identical to a run that was never interrupted.
set -u
. "$(dirname "$0")/common.sh"

"$BNNMC" sample "${RUN_ARGS[@]}" --out "$WORK/ref" || { not_ok "reference run"; finish; exit; }
total=$(( (80 + 160) ))
start=$(date +%s.%N)
"$BNNMC" sample "${RUN_ARGS[@]}" --out "$WORK/ref2" --threads 1
timing=$(echo "$(date +%s.%N) - $start" | bc)
same_run "$WORK/ref" "$WORK/ref2" && ok "reference runs agree (threads 2 and 1)" || not_ok "reference runs agree"

# Kill after delays of 5%..95% of a whole run's time: with restarts, the kills land all over.
kills=0 in_warmup=0 in_sampling=0 step=0
while [ "$kills" -lt 24 ]; do
    step=$((step + 1))
    delay=$(echo "$timing * (0.05 + 0.04 * $((step % 9)))" | bc -l) # bc -l has no integer %
    interval=$([ $((step % 3)) -eq 0 ] && echo 0.05 || echo 0)
    "$BNNMC" sample "${RUN_ARGS[@]}" --out "$WORK/run" --checkpoint-interval "$interval" &
    pid=$!
    sleep "$delay"
    if kill -9 "$pid" 2> /dev/null; then
        wait "$pid" 2> /dev/null
        kills=$((kills + 1))
        it=$(iterations "$WORK/run")
        [ -n "$it" ] && [ "$it" -lt 80 ] && in_warmup=$((in_warmup + 1))
        [ -n "$it" ] && [ "$it" -ge 80 ] && in_sampling=$((in_sampling + 1))
    else
        wait "$pid"
        [ -f "$WORK/run/run.json" ] && grep -q '"status": "complete"' "$WORK/run/run.json" && {
            rm -rf "$WORK/run"  # finished before the kill: start again from scratch
        }
    fi
    [ "$step" -gt 400 ] && break
done
[ "$kills" -ge 20 ] && ok "$kills kills" || not_ok "only $kills kills landed"
[ "$in_warmup" -ge 3 ] && [ "$in_sampling" -ge 3 ] &&
    ok "kills in warm-up ($in_warmup) and sampling ($in_sampling)" ||
    not_ok "kills not spread: $in_warmup in warm-up, $in_sampling in sampling"

"$BNNMC" sample --resume "$WORK/run" --quiet && ok "final resume" || not_ok "final resume"
grep -q '"status": "complete"' "$WORK/run/run.json" && ok "status complete" || not_ok "status"
same_run "$WORK/ref" "$WORK/run" && ok "killed and resumed run is byte-identical" ||
    not_ok "killed and resumed run differs from the uninterrupted one"
[ "$total" -eq "$(iterations "$WORK/run")" ] && ok "all $total iterations" || not_ok "iterations"
finish
