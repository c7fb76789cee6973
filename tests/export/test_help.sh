#!/bin/bash
# Every subcommand `bnnmc --help` lists answers --help with exit 0 and shows an example that runs
# that subcommand; the man page documents every subcommand and renders without warnings.
# usage: test_help.sh PATH/TO/bnnmc PATH/TO/man/bnnmc.1
bnnmc=$1 man=$2
failures=0
fail() { echo "not ok $1"; failures=$((failures + 1)); }

commands=$("$bnnmc" --help | awk '/^commands:/ {on = 1; next} on && NF {print $1}')
[ "$(echo "$commands" | wc -w)" -ge 5 ] || fail "bnnmc --help lists at least 5 commands: $commands"
for c in $commands; do
    out=$("$bnnmc" "$c" --help 2>&1)
    rc=$?
    if [ $rc -ne 0 ]; then fail "$c --help exits $rc"
    elif ! grep -qiE '^examples?:' <<<"$out"; then fail "$c --help has no 'example:' section"
    elif ! grep -qE "^  .*bnnmc $c( |\$)" <<<"$out"; then fail "$c --help example does not run bnnmc $c"
    else echo "ok $c --help exits 0 and shows: $(grep -m1 -E "^  .*bnnmc $c( |\$)" <<<"$out" | sed 's/^ *//')"
    fi
    if grep -qE "^\.SS $c\b" "$man"; then echo "ok man page has a section for $c"
    else fail "man page lacks '.SS $c'"; fi
done
"$bnnmc" --version | grep -qE '^bnnmc [0-9]+\.[0-9]+\.[0-9]+$' && echo "ok --version" || fail "--version"
if command -v groff > /dev/null; then
    warnings=$(groff -man -Tutf8 -ww -z "$man" 2>&1)
    [ -z "$warnings" ] && echo "ok man page renders without warnings" || fail "groff: $warnings"
else
    echo "ok man page render check skipped: no groff"
fi
[ $failures -eq 0 ] && { echo PASSED; exit 0; }
echo "FAILED ($failures)"
exit 1
