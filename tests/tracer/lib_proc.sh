# SPDX-License-Identifier: MIT
# lib_proc.sh -- what attach.sh and ps.sh share, sourced from the top
# directory after setting suite (the script's name, for its messages):
# the build's coscope and ps_target, a temporary directory and the
# programs started, killed and removed at the end; the pass/fail counters
# and ok/no; line MARKER (its line in ps_target.c); start NAME CMD... (in
# the background until it prints "ready"; $pid); alive LABEL PID (running,
# not stopped or a zombie). BUILD names the build directory.
build=${BUILD:-build}
[ -d "$build" ] || { echo "$suite: no build directory $build (make test builds it)"; exit 1; }
build=$(cd "$build" && pwd)
coscope=$build/coscope
target=$build/tests/tracer/progs/ps_target
src=tests/tracer/progs/ps_target.c
tmp=$(mktemp -d)
pids=""
pass=0; fail=0; skip=0
cleanup() { for p in $pids; do kill -9 "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM

ok() { pass=$((pass + 1)); }
no() { fail=$((fail + 1)); echo "FAIL: $*"; }
line() { grep -n "$1" "$src" | head -1 | cut -d: -f1; }

start() { # NAME CMD...
    name=$1; shift
    "$@" > "$tmp/$name.out" 2> "$tmp/$name.err" &
    pid=$!
    pids="$pids $pid"
    i=0
    while ! grep -q ready "$tmp/$name.out" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -gt 100 ] || ! kill -0 $pid 2>/dev/null; then no "$name did not start"; cat "$tmp/$name.err"; return 1; fi
        sleep 0.05
    done
    sleep 0.2 # let it settle into the state
    return 0
}

alive() { # LABEL PID
    st=$(awk '{print $3}' "/proc/$2/stat" 2>/dev/null)
    case $st in t|T|Z|"") no "$1: process $2 is in state '$st'";; *) ok;; esac
}
