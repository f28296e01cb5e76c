#!/bin/sh
# SPDX-License-Identifier: MIT
# tui.sh -- end-to-end tests of `coscope tui`: the real binary driven in
# tmux (send-keys) at 120x40 and 80x24, on traces of real programs recorded
# here with `coscope run`, the screen read back with capture-pane.
#
#   - the first screen lists the tasks; 1-5 and Tab switch views; ? shows
#     the keys and any key closes them;
#   - warn_deadlock lock: the Warnings view lists the deadlock; Enter moves
#     the cursor to its time (the status line reads the warning's ts) and
#     opens the task, whose await chain reads: waits on lock accounts_lock,
#     held by transfer_ab, which waits on audit_lock (from the line the
#     program marks DL_AB_WAIT), back to transfer_ba: the cycle, the refused
#     wait marked; the await tree draws it too (ASCII rails in the C locale);
#   - the cursor: g / G / t TIME / . (next event);
#   - the SQL prompt shows a result and SQLite's error; a filter narrows the
#     Tasks list and Esc brings the rest back;
#   - the timeline (live_spawner 3 100: worker #3 waits on the lock over
#     about [100, 150) ms, then sleeps to 300 ms): its lock wait and its
#     sleep at the columns the trace's own times give, nothing before its
#     spawn, at 120x40 and 80x24 (ASCII); the axis from 0 with units; z
#     halves the window around the cursor (the columns move accordingly),
#     l pans, f fits the whole run again; Enter opens the task; UTF-8 blocks;
#   - q, SIGTERM, SIGSEGV: the process is gone and the terminal is given back (the
#     UI is off the screen, stty says icanon and echo again); a too-small
#     terminal says so and still quits on q; bad usage and bad files are
#     refused before the terminal is touched.
#
# Screens are polled (capture-pane every 0.1 s, up to 5 s) rather than
# slept on.  Run by `make test` from the top directory; BUILD names the
# build directory (default build).  Needs tmux.
cd "$(dirname "$0")/../.." || exit 1
suite=tui
needs="tests/tracer/progs/warn_deadlock tests/tracer/progs/tasks tests/tracer/progs/live_spawner tests/tracer/progs/crash"
. tests/tui/screen.sh
src=tests/tracer/progs

# start W H [ENV...]: coscope tui $db in a new session of W x H; when it
# exits, the pane says how, and what the terminal's modes are then.
start() {
    w=$1 h=$2
    shift 2
    tm kill-session -t t 2>/dev/null
    rm -f "$tmp/pid"
    tm_new -d -s t -x "$w" -y "$h" \
        "env $* sh -c 'echo \$\$ > $tmp/pid; exec $coscope tui $db'; echo \"tui exited \$?\"; stty -a | tr ' ;' '\n\n' | grep -x -e -icanon -e icanon -e -echo -e echo | tr '\n' ' '; echo; sleep 600"
}
line_of() { grep -nw "$1" "$src/$2" | cut -d: -f1; }

# ---- the trace: a lock-order deadlock ---------------------------------------

db=$tmp/deadlock.db
"$coscope" run -o "$db" -- "$progs/warn_deadlock" lock > /dev/null 2>&1
check "warn_deadlock recorded" $? 0
dl_ts=$(q "SELECT ts FROM warnings WHERE kind = 'deadlock' ORDER BY ts, id LIMIT 1")
dl_task=$(q "SELECT t.name FROM warnings w JOIN tasks t ON t.id = w.task WHERE kind = 'deadlock' ORDER BY ts, w.id LIMIT 1")
dur=$(q "SELECT value FROM meta WHERE key = 'duration_ns'")
check "the first deadlock is transfer_ba's refused acquire" "$dl_task" transfer_ba
ab_line=$(line_of DL_AB_WAIT warn_deadlock.c)

# deadlock_checks: Warnings, Enter, the chain; then the tree.
deadlock_checks() {
    tag=$1
    keys 3
    see "$tag: warnings view" "deadlock"
    see "$tag: warnings view names the lock" "accounts_lock"
    keys Enter
    see "$tag: Enter opens the task" "Task #3 transfer_ba"
    see "$tag: Enter moves the cursor to the warning" "t=$(ms "$dl_ts") /"
    see "$tag: chain: waits on the other's lock" "waits on lock 'accounts_lock'"
    see "$tag: chain: the refused wait" "REFUSED: would close a cycle"
    see "$tag: chain: held by the other task" "held by #2 transfer_ab"
    see "$tag: chain: the other task waits, at its line" "warn_deadlock.c:$ab_line"
    see "$tag: chain: on the first task's lock" "waits on lock 'audit_lock'"
    see "$tag: chain: back to the start (a cycle)" "back to #3 transfer_ba"
    keys 5
    see "$tag: await tree" "Who awaits whom at t=$(ms "$dl_ts")"
    see "$tag: await tree: transfer_ab waits on audit_lock" "#2 transfer_ab  waiting on lock 'audit_lock'"
    see "$tag: await tree: the cycle" "cycle: already above"
}

# ---- 120x40 -----------------------------------------------------------------

start 120 40
see "120: first screen lists the tasks" "transfer_ba"
see "120: first screen: transfer_ab" "transfer_ab"
see "120: first screen: header" "STATE AT CURSOR"
see "120: status line" "REPLAY exit 0 2 warnings"
see "120: status line: a finished trace opens at its end" "t=$(ms "$dur") / $(ms "$dur")"
keys 2
see "120: 2 Resources" "HOLDER"
see "120: resources list the locks" "audit_lock"
keys 4
see "120: 4 Timeline" "TASK"
see "120: the timeline's legend" "lock held"
keys 5
see "120: 5 Await tree" "Who awaits whom"
keys Tab
see "120: Tab from 5 to Tasks" "STATE AT CURSOR"
keys Tab
see "120: Tab to Resources" "HOLDER"
keys 1
see "120: 1 Tasks" "STATE AT CURSOR"
keys '?'
see "120: ? shows the keys" "keys (any key closes)"
see "120: help lists play" "play / pause"
keys x
gone "120: any key closes the help" "keys (any key closes)"

# the cursor
keys G
see "120: G to the end" "t=$(ms "$dur") / $(ms "$dur")"
keys g
see "120: g to the start" "t=0ns /"
keys .
gone "120: . moves to the first event" "t=0ns /"
keys t
see "120: t opens the time prompt" "go to"
type_text "0.5ms"
keys Enter
see "120: t 0.5ms" "t=500.000us /"
keys - - - - - - -
see "120: - makes the step smaller, down to 1us" "step 1.00us"
keys + +
see "120: + makes it larger" "step 100us"
keys ']'
see "120: ] steps forward" "t=600.000us /"
keys '[' '['
see "120: [ steps back" "t=400.000us /"

deadlock_checks 120

# SQL
keys ':'
type_text "SELECT count(*) FROM tasks"
keys Enter
see "120: SQL result: row count" "1 row in"
see "120: SQL result: the header" "count(*)"
if screen | grep -qx '3 *'; then ok; else bad "120: SQL result: 3 tasks" "$(screen)"; fi
keys ':'
type_text "SELEC nonsense"
keys Enter
see "120: SQL error shown" 'error: near "SELEC": syntax error'
keys Escape
gone "120: Esc leaves the SQL view" "SELEC nonsense"

# filter
keys 1 g
see "120: back to tasks" "transfer_ba"
keys '\'
type_text "transfer_ab"
keys Enter
see "120: filter shown" "filter: transfer_ab"
gone "120: the filter narrows the list" "transfer_ba"
see "120: the filter keeps the match" "1/1 tasks"
keys Escape
see "120: Esc clears the filter" "transfer_ba"

# q
keys q
see "120: q exits with 0" "tui exited 0"
see "120: q gives the terminal back (icanon echo)" "icanon echo"
gone "120: no UI left after q" "STATE AT CURSOR"

# ---- 80x24, the C locale (ASCII), no colours -------------------------------

start 80 24 LC_ALL=C NO_COLOR=1
see "80: first screen lists the tasks" "transfer_ab"
see "80: status line" "REPLAY"
keys 2
see "80: 2 Resources" "accounts_lock"
keys 3 4
see "80: 4 Timeline" "TASK"
keys Tab
see "80: Tab to the await tree" "Who awaits whom"
keys '?'
see "80: ? shows the keys" "keys (any key closes)"
keys Escape
gone "80: Esc closes the help" "keys (any key closes)"
deadlock_checks 80
see "80: ASCII rails in the C locale" '`- holder #3 transfer_ba'
if screen | grep -q '└'; then bad "80: no Unicode rails in the C locale" "$(screen)"; else ok; fi
keys ':'
type_text "SELECT count(*) FROM tasks"
keys Enter
see "80: SQL result" "1 row in"
keys 1 '\'
type_text "zzz-no-such-task"
keys Enter
see "80: a filter matching nothing says so" "no task matches the filter"
keys q
see "80: q exits with 0" "tui exited 0"
see "80: terminal given back" "icanon echo"

# ---- the timeline -----------------------------------------------------------

# worker #3's lock wait [wa, wb) and sleep [wb, sb) from the trace itself.
db=$tmp/spawner.db
"$coscope" run -o "$db" -- "$progs/live_spawner" 3 100 > /dev/null 2>&1
check "live_spawner recorded" $? 0
tl_dur=$(q "SELECT value FROM meta WHERE key = 'duration_ns'")
tl_spawn=$(q "SELECT spawn_ts FROM tasks WHERE id = 3")
tl_wa=$(q "SELECT end FROM spans WHERE task = 3 AND kind = 'step' AND wait = 'lock'")
tl_wb=$(q "SELECT resumed FROM spans WHERE task = 3 AND kind = 'step' AND wait = 'lock'")
tl_sb=$(q "SELECT resumed FROM spans WHERE task = 3 AND kind = 'step' AND wait = 'sleep'")
[ -n "$tl_wa" ] && [ -n "$tl_sb" ] && ok || bad "live_spawner: worker #3 waits on the lock, then sleeps"

# cells_check WHAT W FROM SPAN A B GLYPH: on worker #3's row (screen width
# W, the names in W/4 columns clamped to 14..30, a space, then one cell a
# column over [FROM, FROM+SPAN)), every cell well inside [A, B) -- a cell
# clear of either end, as the levels of detail round to their buckets --
# shows GLYPH; with a last argument `maybe`, the interval may be out of the
# window.  ASCII screens only (awk counts bytes).
cells_check() {
    row=$(screen | grep -F -- "#3 worker" | head -1)
    res=$(printf '%s\n' "$row" | awk -v W="$2" -v from="$3" -v span="$4" -v a="$5" -v b="$6" -v g="$7" -v maybe="$8" '{
        nw = int(W / 4); if (nw < 14) nw = 14; if (nw > 30) nw = 30
        x0 = nw + 1; n = W - x0; w = span / n; bad = ""; seen = 0
        for (c = 0; c < n; c++) {
            lo = from + c * w; hi = lo + w
            if (lo >= a + w && hi <= b - w) {
                seen++
                ch = substr($0, x0 + c + 1, 1)
                if (ch != g && ch != "|") bad = bad " " c ":" ch
            }
        }
        if (seen == 0 && maybe == "") print "no cell inside"; else if (bad != "") print "cells" bad; else print "ok"
    }')
    check "$1" "$res" ok
}
# The time of the axis label at the names' edge: the window's start.
axis_x0() { awk -v W="$1" 'BEGIN { nw = int(W / 4); if (nw < 14) nw = 14; if (nw > 30) nw = 30; print nw + 1 }'; }

timeline_checks() {
    tag=$1 W=$2
    keys 4
    see "$tag: timeline: worker rows" "#3 worker"
    x0=$(axis_x0 "$W")
    label=$(screen | sed -n 2p | cut -c$((x0 + 1))-$((x0 + 3)))
    check "$tag: the axis starts at 0 at the names' edge" "$label" "0ms"
    if screen | sed -n 2p | grep -q "100ms.*200ms.*300ms.*400ms"; then ok; else bad "$tag: the axis in ms" "$(screen)"; fi
    cells_check "$tag: fit: worker #3 waits on the lock" "$W" 0 "$tl_dur" "$tl_wa" "$tl_wb" L
    cells_check "$tag: fit: then sleeps" "$W" 0 "$tl_dur" "$tl_wb" "$tl_sb" "~"
    cells_check "$tag: fit: nothing before its spawn" "$W" 0 "$tl_dur" 0 "$tl_spawn" " "
    see "$tag: fit says so" "/cell  fit"
    # z: the window halves around the cursor; the cursor to the start first
    # (a finished trace opens at its end), so the window stays at 0.
    keys g
    keys z
    gone "$tag: z leaves fit" "/cell  fit"
    half=$((tl_dur / 2))
    see "$tag: z: half the run" "0ns..$(ms "$half")"
    cells_check "$tag: z: the lock wait, wider" "$W" 0 "$half" "$tl_wa" "$tl_wb" L
    cells_check "$tag: z: the sleep, wider (where in the window)" "$W" 0 "$half" "$tl_wb" "$tl_sb" "~" maybe
    # l: an eighth of the window later.
    keys l
    pan=$((half / 8))
    see "$tag: l pans by an eighth" "$(ms "$pan").."
    cells_check "$tag: l: the lock wait moved left" "$W" "$pan" "$half" "$tl_wa" "$tl_wb" L
    keys f
    see "$tag: f fits again" "/cell  fit"
    cells_check "$tag: f: the lock wait where it was" "$W" 0 "$tl_dur" "$tl_wa" "$tl_wb" L
    keys Z
    see "$tag: Z at the whole run stays there (never past the end)" "0ns..$(ms "$tl_dur")  "
    keys f j j Enter
    see "$tag: Enter on a row opens the task" "Task #3"
    keys Escape
    see "$tag: Esc back to the timeline" "lock held"
}

start 120 40 LC_ALL=C
see "timeline 120: start" "STATE AT CURSOR"
timeline_checks "timeline 120" 120
keys q
see "timeline 120: q" "tui exited 0"

start 80 24 LC_ALL=C NO_COLOR=1
see "timeline 80: start" "STATE AT CURSOR"
timeline_checks "timeline 80" 80
keys q
see "timeline 80: q" "tui exited 0"

# UTF-8: the waits in block characters, the lock wait before the sleep.
start 120 40 LC_ALL=C.UTF-8
see "timeline utf8: start" "STATE AT CURSOR"
keys 4
see "timeline utf8: lock wait and sleep as blocks" "▓▓▓"
if screen | grep -F -- "#3 worker" | grep -q "▓.*░░░"; then ok; else bad "timeline utf8: the lock wait, then the sleep" "$(screen)"; fi
see "timeline utf8: the legend" "░ sleep"
keys q
see "timeline utf8: q" "tui exited 0"

# ---- resize, too small, SIGTERM ---------------------------------------------

start 120 40
see "resize: start" "STATE AT CURSOR"
tm resize-window -t t -x 50 -y 12
see "resize: too small says so" "it needs at least 60x15"
tm resize-window -t t -x 80 -y 24
see "resize: back to 80x24" "STATE AT CURSOR"
tm resize-window -t t -x 50 -y 12
see "too small again" "it needs at least 60x15"
keys q
see "too small: q still quits" "tui exited 0"

start 100 30
see "SIGTERM: running" "STATE AT CURSOR"
kill -TERM "$(cat "$tmp/pid")"
see "SIGTERM: the process ends" "tui exited"
see "SIGTERM: terminal given back" "icanon echo"
gone "SIGTERM: no UI left" "STATE AT CURSOR"

# A crash of the UI itself (SIGSEGV here, sent from outside): the handler
# gives the terminal back and the process dies of the same signal.
start 100 30
see "SIGSEGV: running" "STATE AT CURSOR"
kill -SEGV "$(cat "$tmp/pid")"
see "SIGSEGV: dies of it (128+11)" "tui exited 139"
see "SIGSEGV: terminal given back" "icanon echo"
gone "SIGSEGV: no UI left" "STATE AT CURSOR"

# ---- another program: many tasks, a queue -----------------------------------

db=$tmp/tasks.db
"$coscope" run -o "$db" -- "$progs/tasks" 3 > /dev/null 2>&1
start 120 40
see "tasks prog: first screen" "evwaiter"
keys 2
see "tasks prog: the queue" "queue"
keys 5 G
see "tasks prog: await tree at the end" "no task is alive at the cursor"
keys 1 Enter
see "tasks prog: Enter opens the detail" "Task #1"
see "tasks prog: children" "Children"
see "tasks prog: step histogram" "Step durations"
keys Escape
see "tasks prog: Esc back to the list" "STATE AT CURSOR"
keys q
see "tasks prog: q" "tui exited 0"

# ---- a crash: its warning, and the stack at the fault in the task's detail ----

db=$tmp/crash.db
"$coscope" run -o "$db" -- "$progs/crash" segv > /dev/null 2>&1
start 120 40
see "crash: the status line says how it ended" "killed by SIGSEGV"
keys 3
see "crash: the warning is listed" "crash"
keys Enter
see "crash: Enter opens the crashed task's stack" "Recorded stack (at the crash)"
see "crash: the frame at the fault, symbolized" "crash.c:"
keys q
see "crash: q" "tui exited 0"

# ---- refusals before the terminal -------------------------------------------

"$coscope" tui > "$tmp/o" 2> "$tmp/e"
check "no argument: status" $? 2
check "no argument: usage on stderr" "$(head -1 "$tmp/e")" "usage: coscope tui [--no-mouse] FILE"
"$coscope" tui a b > "$tmp/o" 2> "$tmp/e"
check "two arguments: status" $? 2
"$coscope" tui --help > "$tmp/o" 2> "$tmp/e"
check "--help: status" $? 0
check "--help: usage on stdout" "$(head -1 "$tmp/o")" "usage: coscope tui [--no-mouse] FILE"
"$coscope" tui "$tmp/nonexistent.db" > "$tmp/o" 2> "$tmp/e" < /dev/null
check "missing file: status" $? 2
check "missing file: one line" "$(wc -l < "$tmp/e" | tr -d ' ')" 1
check "missing file: says coscope tui" "$(cut -c1-13 "$tmp/e")" "coscope tui: "
echo "not a trace" > "$tmp/junk.db"
"$coscope" tui "$tmp/junk.db" > "$tmp/o" 2> "$tmp/e" < /dev/null
check "not a trace: status" $? 2
check "not a trace: one line" "$(wc -l < "$tmp/e" | tr -d ' ')" 1

echo "tui: $pass checks passed, $fail failed"
[ "$fail" -eq 0 ]
