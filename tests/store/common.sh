# Shared by the run store tests: a short digits run, and a byte comparison of two runs.
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

finish() {
    echo "$failures failed"
    [ "$failures" -eq 0 ]
}
