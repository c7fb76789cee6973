#!/usr/bin/env bash
# Damage after a kill: a corrupt newest checkpoint falls back to the previous one (with a
# warning naming it), torn or extra bytes at the end of arrays are cut away; the run still ends
# byte-identical. Both checkpoints corrupt: a clear error naming the file. Extending a complete
# run with --resume --samples equals a longer run; changing the configuration is refused.
set -u
. "$(dirname "$0")/common.sh"

"$BNNMC" sample "${RUN_ARGS[@]}" --out "$WORK/ref" || { not_ok "reference run"; finish; exit; }

# both_checkpoints DIR: every chain has a newest and a previous checkpoint.
both_checkpoints() {
    local c
    for c in chain_000 chain_001; do
        [ -f "$1/$c/checkpoint.bin" ] && [ -f "$1/$c/checkpoint.prev.bin" ] || return 1
    done
}

# killed_run DIR: a run killed once it has checkpoints past warm-up. The kill may land while a
# chain rotates its checkpoints (a moment without checkpoint.prev.bin, which resume handles);
# the damage below needs both files, so such a kill is tried again.
killed_run() {
    local try pid i
    for try in 1 2 3 4 5; do
        rm -rf "$1"
        "$BNNMC" sample "${RUN_ARGS[@]}" --out "$1" --checkpoint-interval 0 &
        pid=$!
        for i in $(seq 1 600); do
            sleep 0.02
            both_checkpoints "$1" && [ "$(iterations "$1")" -gt 100 ] 2> /dev/null && break
        done
        kill -9 "$pid" 2> /dev/null
        wait "$pid" 2> /dev/null
        both_checkpoints "$1" && return 0
    done
    not_ok "no kill with both checkpoints of both chains in place in 5 tries"
}

flip_byte() { # flip_byte FILE OFFSET
    local b
    b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    printf "$(printf '\\%03o' $(((b + 1) % 256)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

killed_run "$WORK/a"
flip_byte "$WORK/a/chain_000/checkpoint.bin" 100
truncate -s -7 "$WORK/a/chain_001/fs.npy"
printf 'garbage' >> "$WORK/a/chain_000/stats.npy"
"$BNNMC" sample --resume "$WORK/a" 2> "$WORK/a.err" > /dev/null && ok "resume after damage" ||
    not_ok "resume after damage: $(cat "$WORK/a.err")"
grep -q "checksum mismatch" "$WORK/a.err" && grep -q "chain_000/checkpoint.bin" "$WORK/a.err" &&
    ok "damaged checkpoint reported" || not_ok "damaged checkpoint not reported: $(cat "$WORK/a.err")"
same_run "$WORK/ref" "$WORK/a" && ok "byte-identical after damage" || not_ok "differs after damage"

killed_run "$WORK/b"
flip_byte "$WORK/b/chain_001/checkpoint.bin" 0
truncate -s 20 "$WORK/b/chain_001/checkpoint.prev.bin"
"$BNNMC" sample --resume "$WORK/b" --quiet 2> "$WORK/b.err"
rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] && grep -q "chain_001/checkpoint" "$WORK/b.err" &&
    ok "both checkpoints damaged: error naming the file" ||
    not_ok "both checkpoints damaged: rc $rc, $(cat "$WORK/b.err")"

# Extending a complete run gives the same arrays as a run that was longer from the start.
long_args=("${RUN_ARGS[@]/160/220}")
"$BNNMC" sample "${long_args[@]}" --out "$WORK/long" || not_ok "long run"
cp -r "$WORK/ref" "$WORK/ext"
"$BNNMC" sample --resume "$WORK/ext" --samples 220 --quiet && ok "extend" || not_ok "extend"
same_run "$WORK/long" "$WORK/ext" && ok "extended run equals the longer run" ||
    not_ok "extended run differs from the longer run"

# Refusals: another configuration in the same directory, shortening, changing the model.
"$BNNMC" sample "${RUN_ARGS[@]}" --seed 7 --out "$WORK/ref" 2> "$WORK/c.err"
[ $? -eq 1 ] && grep -q "config.seed differs" "$WORK/c.err" && ok "other configuration refused" ||
    not_ok "other configuration: $(cat "$WORK/c.err")"
"$BNNMC" sample --resume "$WORK/ext" --samples 100 2> "$WORK/d.err"
[ $? -eq 1 ] && grep -q "extend it but not shorten" "$WORK/d.err" && ok "shortening refused" ||
    not_ok "shortening: $(cat "$WORK/d.err")"
"$BNNMC" sample --resume "$WORK/ext" --arch mlp:5 2> "$WORK/e.err"
[ $? -ne 0 ] && grep -q -- "--arch cannot be changed" "$WORK/e.err" && ok "model change refused" ||
    not_ok "model change: $(cat "$WORK/e.err")"
finish
