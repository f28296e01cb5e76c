#!/bin/sh
# SPDX-License-Identifier: MIT
# perfetto.sh -- `coscope export --format perfetto` read by a decoder that is
# not ours: protobufjs (npm, pinned) against Perfetto's own
# perfetto_trace.proto (tests/perfetto/README.md), through check.mjs.
#
#   - the trace of tests/tracer/progs/cli_prog (tasks, a contended lock, a
#     semaphore, a queue, a parent awaiting children, logs): its task tracks,
#     the step and await slices by name, lock, semaphore and queue flows,
#     nesting and interning;
#   - the same with the program's slow step and crash variants (warnings as
#     instants, open slices at a crash closed);
#   - options: a refusal to write binary to a terminal, an unknown format,
#     -o replaced atomically.
# Skips the decoding, saying so, without node or npm or when the registry
# does not answer.  BUILD names the build directory (default build).
cd "$(dirname "$0")/../.." || exit 1
build=${BUILD:-build}
build=$(cd "$build" && pwd)
coscope=$build/coscope
prog=$build/tests/tracer/progs/cli_prog
[ -x "$coscope" ] && [ -x "$prog" ] || { echo "perfetto: $coscope or $prog missing (make test builds them)"; exit 1; }
tmp=$(mktemp -d /tmp/coscope-perfetto.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
pass=0; fails=0
ok() { pass=$((pass + 1)); }
no() { echo "FAIL $*"; fails=$((fails + 1)); }

"$coscope" run --slow-ms 1000 -o "$tmp/ok.db" -- "$prog" >/dev/null 2>&1
"$coscope" run --slow-ms 20 -o "$tmp/slow.db" -- "$prog" slow >/dev/null 2>&1
"$coscope" run -o "$tmp/crash.db" -- "$prog" crash >/dev/null 2>&1
for t in ok slow crash; do
    if "$coscope" export --format perfetto "$tmp/$t.db" -o "$tmp/$t.pftrace" 2>"$tmp/err" && [ -s "$tmp/$t.pftrace" ]; then ok
    else no "export --format perfetto $t.db: $(cat "$tmp/err")"; fi
done
# Redirected stdout is fine; the same bytes as -o.
"$coscope" export --format perfetto "$tmp/ok.db" >"$tmp/stdout.pftrace" 2>/dev/null
cmp -s "$tmp/stdout.pftrace" "$tmp/ok.pftrace" && ok || no "export to stdout differs from -o"
"$coscope" export --format protobuf "$tmp/ok.db" -o "$tmp/x" 2>"$tmp/err"
[ $? = 2 ] && grep -q 'known: chrome, perfetto' "$tmp/err" && ok || no "unknown format: $(cat "$tmp/err")"
if command -v script >/dev/null; then
    script -qec "$coscope export --format perfetto $tmp/ok.db" /dev/null >"$tmp/tty.out" 2>&1
    grep -q 'binary' "$tmp/tty.out" && ok || no "perfetto to a terminal is refused: $(head -c 200 "$tmp/tty.out")"
fi
# Size against the Chrome export of the same trace.
"$coscope" export --format chrome "$tmp/ok.db" -o "$tmp/ok.json" 2>/dev/null
echo "perfetto: ok.db: $(wc -c <"$tmp/ok.pftrace") bytes as perfetto, $(wc -c <"$tmp/ok.json") as chrome JSON"

if command -v node >/dev/null && command -v npm >/dev/null; then
    mods=$build/npm-perfetto-check
    if [ ! -d "$mods/node_modules/protobufjs" ]; then
        mkdir -p "$mods"
        [ -f "$mods/package.json" ] || echo '{"private": true}' >"$mods/package.json"
        # Bounded: a registry that does not answer must not hang the test run.
        timeout 180 npm install --prefix "$mods" --no-audit --no-fund --loglevel=error protobufjs@7.4.0 \
            >"$tmp/npm.log" 2>&1 || { echo "perfetto: npm install protobufjs failed:"; tail -5 "$tmp/npm.log"; }
    fi
    if [ -d "$mods/node_modules/protobufjs" ]; then
        check="node tests/perfetto/check.mjs --modules $mods --proto tests/perfetto/perfetto_trace.proto.gz"
        if $check "$tmp/ok.pftrace" --expect-track "worker #2" --expect-track "child #12" \
            --expect-slice run --expect-slice "lock db_lock" --expect-slice "queue_put jobs" \
            --expect-slice "task #12 child" --expect-slice "hold db_lock" --expect-flow-min 10 \
            --expect-instant "child" >"$tmp/check.out"; then ok; else no "check ok.pftrace"; fi
        cat "$tmp/check.out"
        if $check "$tmp/slow.pftrace" --expect-instant "warning: slow_step" >"$tmp/check.out"; then ok
        else no "check slow.pftrace"; fi
        cat "$tmp/check.out"
        # A crash leaves tasks mid-step and mid-await: every slice still closes.
        if $check "$tmp/crash.pftrace" --expect-slice run >"$tmp/check.out"; then ok
        else no "check crash.pftrace"; fi
        cat "$tmp/check.out"
    else
        echo "perfetto: skip: protobufjs unavailable; the decoding checks did not run"
    fi
else
    echo "perfetto: skip: no node or npm; the decoding checks did not run"
fi
echo "perfetto: $pass passed, $fails failed"
[ $fails = 0 ]
