#!/bin/sh
# SPDX-License-Identifier: MIT
# run-tests.sh BUILD TEST... -- run each test (a binary or a script), print
# its output as it comes, then one line naming it with its result and time,
# and finish with one total line over all of them.
#
# Output is line-buffered (stdbuf): a test killed by its alarm or by the
# timeout below keeps everything it printed up to then.
build=$1; shift
pass=0; fail=0; failed=""
# Not under the sanitizers ($SANITIZE, from make check): stdbuf works by
# LD_PRELOAD, and ASan refuses to start when a library is loaded before it.
unbuf=""
[ -z "${SANITIZE:-}" ] && command -v stdbuf >/dev/null && unbuf="stdbuf -oL -eL"
start_all=$(date +%s)
for t in "$@"; do
    name=${t#"$build"/}
    start=$(date +%s)
    # A hang is a failure, not a stuck CI job.
    # A script committed without its x bit (a fresh clone has git's mode)
    # still runs.
    run=$t
    case $t in *.sh) [ -x "$t" ] || run="sh $t" ;; esac
    if timeout 600 $unbuf $run; then
        pass=$((pass + 1)); echo "== ok   $name ($(($(date +%s) - start)) s)"
    else
        rc=$?
        fail=$((fail + 1)); failed="$failed $name"
        echo "== FAIL $name (status $rc$([ $rc = 124 ] && echo ': timed out'), $(($(date +%s) - start)) s)"
    fi
done
[ -n "$failed" ] && echo "failed:$failed"
echo "total: $pass of $((pass + fail)) suites passed, $fail failed ($(($(date +%s) - start_all)) s)"
[ "$fail" -eq 0 ]
