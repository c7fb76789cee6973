# Checks of a run directory shared by the CLI test scripts (sourced after cli_lib.sh; they need
# $json_value): JSON values, number ranges, the manifest against the files, and a regression CSV.

# value FILE PATH...: the JSON value at PATH in FILE (empty when missing).
value() {
    local f=$1
    shift
    "$json_value" "$@" <"$f" 2>/dev/null
}

# is_number_between X LO HI: X parses as a number and LO < X < HI.
is_number_between() {
    awk -v x="$1" -v lo="$2" -v hi="$3" \
        'BEGIN { exit !(x ~ /^-?[0-9.]+([eE][-+]?[0-9]+)?$/ && x + 0 > lo && x + 0 < hi) }'
}

# Every array in run.json's manifest exists, with the shape the manifest gives in its header.
check_manifest() {
    local run=$1 n i path dims k shape want
    n=$(value "$run/run.json" arrays | awk '{print $2}')
    [ -n "$n" ] && [ "$n" -gt 0 ] || { fail "manifest: run.json has no arrays"; return; }
    for ((i = 0; i < n; i++)); do
        path=$(value "$run/run.json" arrays "$i" path)
        dims=$(value "$run/run.json" arrays "$i" shape | awk '{print $2}')
        want=""
        for ((k = 0; k < dims; k++)); do want+="$(value "$run/run.json" arrays "$i" shape "$k"), "; done
        shape=$(head -c 256 "$run/$path" 2>/dev/null | tr -d '\0' | grep -ao "'shape': ([0-9, ]*)")
        shape=${shape#"'shape': ("}
        shape="${shape%)}"
        [ "${shape%,}, " = "$want" ] || [ "$shape" = "${want%, }" ] ||
            { fail "manifest: $path has shape ($shape), run.json says (${want%, })"; return; }
    done
    echo "ok manifest: $n arrays in run.json, each file present with that shape"
}

# y = 2 x1 - 3 x2 + 0.3 ε, x ~ U(-2, 2): a linear model's predictive RMSE is about 0.3.
make_regression_csv() {
    awk -v n="$2" -v seed="$3" 'BEGIN {
        srand(seed); print "x1,x2,y"
        for (i = 0; i < n; i++) {
            x1 = 4 * rand() - 2; x2 = 4 * rand() - 2
            e = sqrt(-2 * log(1 - rand())) * cos(6.283185307 * rand())
            printf "%.6f,%.6f,%.6f\n", x1, x2, 2 * x1 - 3 * x2 + 0.3 * e
        }
    }' >"$1"
}
