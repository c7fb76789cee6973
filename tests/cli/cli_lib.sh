# Shared by the CLI test scripts (sourced): a scratch directory, and checks that each print one
# verdict line ("ok ..." / "not ok ...") and count failures; `finish` sets the exit status.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bnnmc-cli-XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() {
    echo "not ok $1"
    failures=$((failures + 1))
}

# expect_error NAME NEEDLE... -- COMMAND...: COMMAND exits with a status in 1..125 (an error,
# not a crash by a signal) and its stderr contains every NEEDLE (fixed strings).
expect_error() {
    local name=$1 needles=() rc missing=()
    shift
    while [ $# -gt 0 ] && [ "$1" != -- ]; do needles+=("$1"); shift; done
    shift
    "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    for n in "${needles[@]}"; do grep -qF -- "$n" "$tmp/err" || missing+=("'$n'"); done
    if [ $rc -eq 0 ] || [ $rc -gt 125 ]; then
        fail "$name: exit status $rc, want 1..125; stderr: $(head -c 300 "$tmp/err")"
    elif [ ${#missing[@]} -gt 0 ]; then
        fail "$name: stderr lacks ${missing[*]}: $(head -c 300 "$tmp/err")"
    else
        echo "ok $name: exit $rc: $(head -n 1 "$tmp/err")"
    fi
}

# expect_success NAME COMMAND...: COMMAND exits 0; its stdout is kept in $tmp/out.
expect_success() {
    local name=$1 rc
    shift
    "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ $rc -eq 0 ]; then echo "ok $name"; else fail "$name: exit status $rc: $(head -c 300 "$tmp/err")"; fi
    return $rc
}

finish() {
    if [ $failures -eq 0 ]; then echo PASSED; exit 0; fi
    echo "FAILED ($failures)"
    exit 1
}
