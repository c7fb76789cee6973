#!/bin/sh
# Builds the libFuzzer targets (fuzz/) with clang, ASan and UBSan in build-fuzz/ and runs each
# for SECONDS (default 60) from its seed corpus; prints the executions per target and exits
# non-zero if any target found a crash, leak, timeout or sanitizer report (the input is kept
# in build-fuzz/fuzz/fuzz-artifacts/).
# usage: scripts/fuzz.sh [SECONDS [TARGET...]]     TARGET: csv idx npy draws (default all)
#        BUILD_DIR=... JOBS=... CC=... to override build-fuzz, -j2 and clang.
set -u
cd "$(dirname "$0")/.." || exit 2
seconds=${1:-60}
[ $# -gt 0 ] && shift
targets=${*:-csv idx npy draws}
build=${BUILD_DIR:-build-fuzz}
jobs=${JOBS:-2}

command -v "${CC:-clang}" >/dev/null 2>&1 || { echo "fuzz.sh: ${CC:-clang} not found (apt-get install clang libclang-rt-dev)" >&2; exit 2; }
CC=${CC:-clang} cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBNNMC_FUZZ=ON >"$build.configure.log" 2>&1 ||
    { cat "$build.configure.log" >&2; exit 2; }
names=
for t in $targets; do names="$names fuzz_$t"; done
# shellcheck disable=SC2086 # one word per target
cmake --build "$build" -j"$jobs" --target $names || exit 2

work=$build/fuzz/corpus-work
artifacts=$build/fuzz/fuzz-artifacts
mkdir -p "$artifacts"
failed=0
for t in $targets; do
    mkdir -p "$work/$t"
    dict=
    [ -f "fuzz/dict/$t.dict" ] && dict=-dict=fuzz/dict/$t.dict
    log=$build/fuzz/fuzz_$t.log
    # shellcheck disable=SC2086 # $dict is empty or one word
    "$build/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$artifacts/fuzz_$t-" $dict \
        "$work/$t" "fuzz/corpus/$t" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
    if [ $rc -eq 0 ]; then
        echo "ok fuzz_$t: ${execs:-?} executions in $seconds s, $cov"
    else
        echo "not ok fuzz_$t: exit status $rc after ${execs:-?} executions; log $log"
        grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -n 5
        failed=$((failed + 1))
    fi
done
[ $failed -eq 0 ] || { echo "FAILED ($failed targets)"; exit 1; }
echo PASSED
