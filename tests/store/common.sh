# Shared by the run store tests: a short digits run, a byte comparison of two runs, and the
# damage done to a run's files.
BNNMC=${1:?usage: $0 path/to/bnnmc}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
RUN_ARGS=(--data digits --arch mlp:20 --chains 2 --warmup 80 --samples 160 --max-leapfrog 30
          --fs-points 40 --quiet)
failures=0

ok() { echo "ok $*"; }
not_ok() { echo "not ok $*"; failures=$((failures + 1)); }

. "$(dirname "${BASH_SOURCE[0]}")/../same_arrays.sh"

# same_run A B: every .npy array of run A is byte-identical in run B (more than 10 of them).
same_run() { same_arrays "$1" "$2" 10; }

# iterations DIR: iterations recorded by chain 0 (rows of its stats.npy, from the .npy header).
iterations() {
    head -c 256 "$1/chain_000/stats.npy" | grep -a -o "'shape': ([0-9]*" | grep -o '[0-9]*$'
}

# both_checkpoints DIR: chains 0 and 1 have a newest and a previous checkpoint.
both_checkpoints() {
    local c
    for c in chain_000 chain_001; do
        [ -f "$1/$c/checkpoint.bin" ] && [ -f "$1/$c/checkpoint.prev.bin" ] || return 1
    done
}

# flip_byte FILE OFFSET: adds 1 to the byte at OFFSET, in a copy that then replaces FILE, so
# that only the name FILE is damaged: a kill between a checkpoint's two steps (the old
# checkpoint.bin hard-linked as checkpoint.prev.bin, the new one not yet renamed in) leaves both
# names on one file, which damage in place would hit twice.
flip_byte() {
    local b
    b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    cp "$1" "$1.flip" &&
        printf "$(printf '\\%03o' $(((b + 1) % 256)))" |
        dd of="$1.flip" bs=1 seek="$2" conv=notrunc status=none &&
        mv "$1.flip" "$1"
}

# kill_when_ready DIR READY COMMAND...: runs COMMAND (which writes the run DIR) and kills it
# with SIGKILL once both checkpoints of chains 0 and 1 are in place and `READY DIR` succeeds.
# The kill may land while a chain rotates its checkpoints (a moment without
# checkpoint.prev.bin, which resume handles) or after the run completed; the damage done after
# it needs both files of an unfinished run, so such a kill is tried again.
kill_when_ready() {
    local dir=$1 ready=$2 try pid i
    shift 2
    for try in 1 2 3 4 5; do
        rm -rf "$dir"
        "$@" &
        pid=$!
        for i in $(seq 1 600); do
            sleep 0.02
            both_checkpoints "$dir" && "$ready" "$dir" 2> /dev/null && break
        done
        kill -9 "$pid" 2> /dev/null
        wait "$pid" 2> /dev/null
        both_checkpoints "$dir" && ! grep -qs '"status": "complete"' "$dir/run.json" && return 0
    done
    not_ok "no kill with both checkpoints of both chains in place in 5 tries"
}

finish() {
    echo "$failures failed"
    [ "$failures" -eq 0 ]
}
