# Sourced by the tests that compare two runs byte for byte (tests/store/common.sh,
# tests/cli/test_nuts_e2e.sh).
# same_arrays A B MIN: every .npy array under run directory A is byte-identical in B, and there
# are more than MIN of them (so that a run that recorded nothing cannot pass).
same_arrays() {
    local f n=0
    for f in $(cd "$1" && find . -name '*.npy' | sort); do
        cmp -s "$1/$f" "$2/$f" || { echo "  differs: $f"; return 1; }
        n=$((n + 1))
    done
    [ "$n" -gt "$3" ] || { echo "  only $n arrays"; return 1; }
}
