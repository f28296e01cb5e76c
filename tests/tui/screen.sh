# SPDX-License-Identifier: MIT
# screen.sh -- sourced by every tests/tui/*.sh suite: a tmux
# server of the suite's own (the user's sessions are never touched), a
# temporary directory, the pass/fail counts, and reading the screen by
# polling it (capture-pane every 0.1 s) rather than sleeping.
#
# The suite sets `suite` (its name in messages) and `needs` (the programs
# it runs, paths below the build directory) and sources this from the top
# directory.  It finds the build (BUILD, default build; COSCOPE may name
# another coscope binary, to see a check fail on an older one) and refuses
# to start, in one line, without a program, tmux or the sqlite3 shell.

build=${BUILD:-build}
[ -d "$build" ] || { echo "$suite: no build directory $build (make test builds it)"; exit 1; }
build=$(cd "$build" && pwd)
coscope=${COSCOPE:-$build/coscope}
samples=$build/samples
progs=$build/tests/tracer/progs
ASAN_OPTIONS=${ASAN_OPTIONS:-handle_segv=0:handle_sigbus=0:handle_abort=0:detect_leaks=0}
export ASAN_OPTIONS
for f in "$coscope" $needs; do
    case $f in /*) ;; *) f=$build/$f ;; esac
    [ -x "$f" ] || { echo "$suite: $f is missing (make test builds it)"; exit 1; }
done
command -v tmux >/dev/null || { echo "$suite: tmux is missing (apt-get install tmux)"; exit 1; }
command -v sqlite3 >/dev/null || { echo "$suite: the sqlite3 shell is missing (make deps)"; exit 1; }

tmp=$(mktemp -d "/tmp/coscope-$suite-XXXXXX") || exit 1
sock=coscope-$suite-$$
tm() { tmux -L "$sock" -f /dev/null "$@"; }
trap 'tm kill-server 2>/dev/null; rm -rf "$tmp"' EXIT
pass=0
fail=0

ok() { pass=$((pass + 1)); }
bad() {
    fail=$((fail + 1))
    echo "$suite: FAIL: $1"
    [ -n "$2" ] && { echo "---- screen ----"; echo "$2"; echo "----------------"; }
}
# check WHAT ACTUAL EXPECTED
check() { if [ "$2" = "$3" ]; then ok; else bad "$1: got '$2', expected '$3'"; fi; }

screen() { tm capture-pane -t t -p 2>/dev/null; }
# see WHAT TEXT [TENTHS]: wait until the screen shows TEXT, a fixed string
# (default 5 s).
see() {
    i=0
    while [ $i -lt "${3:-50}" ]; do
        screen | grep -qF -- "$2" && { ok; return 0; }
        sleep 0.1
        i=$((i + 1))
    done
    bad "$1: '$2' not on the screen" "$(screen)"
    return 1
}
# gone WHAT TEXT: wait until TEXT is off the screen.
gone() {
    i=0
    while [ $i -lt 50 ]; do
        screen | grep -qF -- "$2" || { ok; return 0; }
        sleep 0.1
        i=$((i + 1))
    done
    bad "$1: '$2' still on the screen" "$(screen)"
    return 1
}
keys() { tm send-keys -t t "$@"; }
# A new session (ARGS of tmux new-session).  tmux's server has been seen to
# die while starting on a loaded machine ("server exited unexpectedly"):
# that is not what the suite tests, so it is tried again.
tm_new() {
    for try in 1 2 3; do
        tm new-session "$@" 2>/dev/null && return 0
        sleep 0.5
    done
    tm new-session "$@"
}
# Literal text for a prompt (no key-name lookup: ':' and '#' stay themselves).
type_text() { tm send-keys -t t -l -- "$1"; }
# q SQL: one value from $db by the sqlite3 shell.
q() { sqlite3 -batch -noheader "$db" "$1"; }
# ms NS: a time in ns as the t prompt takes it.
ms() { awk -v ns="$1" 'BEGIN { printf "%.6fms", ns / 1e6 }'; }
# goto TIME: the t prompt.
goto() { keys t; type_text "$1"; keys Enter; }
# start W H DB [ENV...]: $coscope tui DB in a new session of W x H; when it
# exits, the pane says how.  (Suites that need more define their own.)
start() {
    w=$1 h=$2 db=$3
    shift 3
    tm kill-session -t t 2>/dev/null
    tm_new -d -s t -x "$w" -y "$h" "env $* $coscope tui $db; echo \"tui exited \$?\"; sleep 600"
}
# record NAME PROG ARGS...: a trace of PROG by $coscope run in $tmp/NAME.db.
record() {
    n=$1
    shift
    "$coscope" run --force -o "$tmp/$n.db" -- "$@" > /dev/null 2>&1
    [ -s "$tmp/$n.db" ] || bad "$n recorded"
}
