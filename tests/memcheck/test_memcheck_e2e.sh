#!/usr/bin/env bash
# Runs every subcommand on a short digits run under valgrind memcheck: no invalid access, no use
# of uninitialised memory, no definite leak. OpenBLAS is held to its Haswell kernels, because
# valgrind does not decode AVX-512.
set -u
BNNMC=${1:?usage: $0 path/to/bnnmc}
command -v valgrind > /dev/null || { echo "SKIP: valgrind not found"; exit 77; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export OPENBLAS_CORETYPE=Haswell
VG=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite)
failures=0
check() { # check NAME COMMAND...
    local name=$1
    shift
    "$@" > "$WORK/out" 2> "$WORK/err"
    local rc=$?
    if [ "$rc" -eq 0 ]; then echo "ok $name"; else
        echo "not ok $name (exit $rc)"
        tail -30 "$WORK/err"
        failures=$((failures + 1))
    fi
}
ARGS=(--data digits --arch mlp:10 --chains 2 --warmup 10 --samples 10 --max-leapfrog 5
      --fs-points 20 --quiet --out "$WORK/run")
check sample "${VG[@]}" "$BNNMC" sample "${ARGS[@]}"
check "resume (extend)" "${VG[@]}" "$BNNMC" sample --resume "$WORK/run" --samples 14 --quiet
check predict "${VG[@]}" "$BNNMC" predict "$WORK/run" --json
check diagnose "${VG[@]}" "$BNNMC" diagnose "$WORK/run"
printf '1,2\n3,5\n4,4\n2,6\n5,1\n6,3\n' > "$WORK/draws.csv"
check summary "${VG[@]}" "$BNNMC" summary "$WORK/draws.csv" --json
echo "$failures failed"
[ "$failures" -eq 0 ]
