#!/bin/bash
# Installs the build tree to a temporary prefix, then, as a user of the installed library would:
# builds examples/digits.c with `cc $(pkg-config --cflags --libs bnnmc)` only and runs it (and
# once more linked statically with `pkg-config --static`), and runs the installed bnnmc.
# usage: test_install.sh BUILD_DIR SOURCE_DIR
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd)
failures=0
fail() { echo "not ok $1"; failures=$((failures + 1)); }
prefix=$(mktemp -d "${TMPDIR:-/tmp}/bnnmc-install-XXXXXX") || exit 1
trap 'rm -rf "$prefix"' EXIT

if cmake --install "$build" --prefix "$prefix" > "$prefix/install.log" 2>&1; then
    echo "ok cmake --install to $prefix"
else
    fail "cmake --install: $(tail -5 "$prefix/install.log")"; echo "FAILED ($failures)"; exit 1
fi
pc=$(find "$prefix" -name bnnmc.pc)
libdir=$(dirname "$(dirname "$pc")")
for f in include/bnnmc.h include/bnnmc/sample/run.h share/man/man1/bnnmc.1 bin/bnnmc \
         share/bnnmc/data/digits/train.csv share/bnnmc/data/uci/boston_train.csv; do
    [ -e "$prefix/$f" ] && echo "ok installed $f" || fail "missing $prefix/$f"
done
[ -e "$libdir/libbnnmc.a" ] && [ -e "$libdir/libbnnmc.so" ] && echo "ok libbnnmc.a and libbnnmc.so in $libdir" \
    || fail "libbnnmc.a or libbnnmc.so missing in $libdir"
ls "$prefix"/include/bnnmc/*/*_internal.h > /dev/null 2>&1 && fail "internal headers installed"

export PKG_CONFIG_PATH="$(dirname "$pc")"
version=$(pkg-config --modversion bnnmc)
[ "$version" = "$("$prefix/bin/bnnmc" --version | cut -d' ' -f2)" ] && echo "ok pkg-config version $version = bnnmc --version" \
    || fail "pkg-config --modversion bnnmc: '$version'"
cd "$prefix" || exit 1
cp "$src/examples/digits.c" .
# shellcheck disable=SC2046 # pkg-config's flags are meant to be split
if cc -std=c11 -Wall -Wextra -Werror digits.c $(pkg-config --cflags --libs bnnmc) -o digits 2> cc.log; then
    echo "ok example builds with pkg-config --cflags --libs bnnmc (shared)"
else
    fail "cc (shared): $(head -c 600 cc.log)"
fi
export BNNMC_DATA_DIR="$prefix/share/bnnmc/data"
if LD_LIBRARY_PATH="$libdir" ./digits run > out.txt 2> err.txt && grep -q "accuracy 0\.[89]" out.txt \
   && [ -s run/posterior.nc ] && [ -s run/stan/output_2.csv ]; then
    echo "ok example runs: $(grep accuracy out.txt)"
else
    fail "example (shared): $(cat out.txt; tail -c 400 err.txt)"
fi
LD_LIBRARY_PATH="$libdir" ldd ./digits | grep -q "$libdir/libbnnmc.so" \
    && echo "ok example is linked to the installed libbnnmc.so" || fail "ldd: example not linked to $libdir/libbnnmc.so"
# shellcheck disable=SC2046
if cc -std=c11 digits.c $(pkg-config --cflags bnnmc) "$libdir/libbnnmc.a" \
       $(pkg-config --static --libs bnnmc | sed 's/-lbnnmc//') -o digits_static 2> cc.log \
   && ./digits_static run-static > out.txt 2> err.txt && grep -q accuracy out.txt; then
    echo "ok example links statically with pkg-config --static and runs"
else
    fail "static example: $(head -c 600 cc.log; tail -c 300 err.txt)"
fi
"$prefix/bin/bnnmc" export run --format netcdf --out run/again.nc > /dev/null 2>&1 \
    && echo "ok installed bnnmc exports the example's run" || fail "installed bnnmc export"
[ $failures -eq 0 ] && { echo PASSED; exit 0; }
echo "FAILED ($failures)"
exit 1
