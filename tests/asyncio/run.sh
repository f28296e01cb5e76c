#!/bin/sh
# SPDX-License-Identifier: MIT
# run.sh -- the differential check of coscope against asyncio (issue 15).
#
# parity.py runs a set of CPython's own asyncio test cases (locks,
# semaphores, conditions, events, queues, gather, wait, wait_for, timeouts,
# task groups, cancellation) on Debian's python3 and prints each one's event
# order; parity.c runs the same scenarios on coscope.  The two outputs must
# be identical.  Where coscope differs on purpose, parity.py marks the
# scenario with the reason and the lines each side prints (comment lines,
# dropped before the diff), so a deliberate difference is written down in
# the test and a new one fails it.
#
# Run from anywhere; BUILD names the build directory (default build), which
# must hold tests/asyncio/parity (`make test` builds it).  Takes about 2 s.
cd "$(dirname "$0")/../.." || exit 1
build=${BUILD:-build}
command -v python3 >/dev/null || { echo "asyncio parity: FAIL: no python3 (scripts/ensure-deps.sh installs it)"; exit 1; }
[ -x "$build/tests/asyncio/parity" ] || { echo "asyncio parity: FAIL: $build/tests/asyncio/parity not built"; exit 1; }
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
timeout 60 python3 tests/asyncio/parity.py > "$tmp/asyncio.out" || { echo "asyncio parity: FAIL: parity.py failed"; exit 1; }
timeout 60 "$build/tests/asyncio/parity" > "$tmp/coscope.out" || { echo "asyncio parity: FAIL: parity (C) failed"; exit 1; }
grep -v '^#' "$tmp/asyncio.out" > "$tmp/expected.out"
n=$(grep -c '^== ' "$tmp/asyncio.out")
d=$(grep -c '^# deliberate' "$tmp/asyncio.out")
if ! diff -u "$tmp/expected.out" "$tmp/coscope.out" > "$tmp/diff"; then
    cat "$tmp/diff"
    echo "asyncio parity: FAIL: coscope's event order differs from asyncio's (- asyncio, + coscope) in:"
    awk '/^[ +-]== /{s=$2; next} /^[-+][^-+]/{print "  " s}' "$tmp/diff" | sort -u
    exit 1
fi
echo "asyncio parity: $n scenarios, $((n - d)) identical, $d deliberate differences (marked in tests/asyncio/parity.py)"
