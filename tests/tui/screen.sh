# SPDX-License-Identifier: MIT
# screen.sh -- sourced by tests/tui/tui.sh and tests/tui/live.sh: a tmux
# server of the suite's own (the user's sessions are never touched), a
# temporary directory, the pass/fail counts, and reading the screen by
# polling it (capture-pane every 0.1 s) rather than sleeping.
#
# The suite sets `suite` (its name in messages) before sourcing this.

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
