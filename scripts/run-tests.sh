#!/bin/sh
# run-tests.sh BUILD TEST... -- run each test binary, print its output, and
# finish with one "N passed, N failed" line over all of them.
build=$1; shift
pass=0; fail=0; failed=""
for t in "$@"; do
    # A hang is a failure, not a stuck CI job.
    if timeout 600 "$t"; then pass=$((pass + 1)); else fail=$((fail + 1)); failed="$failed $t"; fi
done
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
