#!/bin/sh
# SPDX-License-Identifier: MIT
# tui3.sh -- end-to-end checks of issue 23 (Terminal UI, part 3): what a
# daily user tripped on, each driven in tmux as the user met it, at 120x40
# and, where it is about layout, 80x24 in the C locale without colours.
# Each check failed before its fix.
#
# Run by `make test` from the top directory; BUILD names the build directory
# (default build); COSCOPE may name another coscope binary (to see a check
# fail on an older one).  Needs tmux and the sqlite3 shell.
cd "$(dirname "$0")/../.." || exit 1
suite=tui3
needs="samples/showcase samples/leak samples/sem_leak tests/tracer/progs/live_spawner tests/tracer/progs/busy_yield tests/tracer/progs/crash"
. tests/tui/screen.sh


record showcase "$samples/showcase"
record leak "$samples/leak"
record sem_leak "$samples/sem_leak"

# ---- 1. the Await tree shows a stack only of its moment, with its time ------
db=$tmp/showcase.db
# (the watchdog may miss the stack on a loaded machine: a warning with one)
slow_ts=$(q "SELECT ts FROM warnings WHERE kind = 'slow_step' AND stack <> '' ORDER BY ts LIMIT 1")
slow_dur=$(q "SELECT dur FROM warnings WHERE kind = 'slow_step' AND stack <> '' ORDER BY ts LIMIT 1")
[ -n "$slow_ts" ] || echo "tui3: the showcase's slow step has no stack this run: its half of check 1 is skipped"
start 120 40 "$db"
see "1: tree opens" "STATE AT CURSOR"
keys 5
goto 100ms
see "1: at 100ms" "Who awaits whom at t=100.000000ms"
gone "1: no stack from another moment at 100ms" "usleep"
if [ -n "$slow_ts" ]; then
    goto "$(awk -v a="$slow_ts" -v d="$slow_dur" 'BEGIN { printf "%dus", (a + d / 2) / 1000 }')"
    see "1: the slow step's stack within the step" "usleep"
    see "1: ... labelled with its time" "stack at $(ms "$slow_ts"):"
fi

# ---- 3. a trace cut short while open says so on the status line ----------
cp "$tmp/showcase.db" "$tmp/cut.db"
start 120 40 "$tmp/cut.db"
see "3: opens" "STATE AT CURSOR"
truncate -s 100000 "$tmp/cut.db"
goto 20s
see "3: the status line says the file was damaged" "DAMAGED:" 30
see "3: ... cut short" "DAMAGED: file cut short (100000 of"

# ---- 4, 5, 6. following a plain `coscope run` from another terminal ----------
# busy_yield is never idle: its recorder never had the quiet moment in which
# it built the tables, so a follower saw "LIVE 0 tasks" to the end.
db=$tmp/follow.db
"$coscope" run -o "$db" -- "$progs/busy_yield" 5 > /dev/null 2>&1 &
rec=$!
i=0
while [ ! -s "$db" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.3
start 120 40 "$db"
see "4: following a plain run: LIVE" " LIVE "
# The tasks within a second and a half of following (a new task every
# 100 ms, the tables built every 100 ms while followed), not at the end.
i=0
while [ $i -lt 15 ]; do
    screen | tail -1 | grep -q ' LIVE [1-9][0-9]* tasks' && break
    sleep 0.1
    i=$((i + 1))
done
if [ $i -lt 15 ]; then ok; else bad "4: a follower sees the tasks while the program runs" "$(screen)"; fi
keys g
see "6: g pauses following" "LIVE (paused"
keys G
sleep 0.5
case $(screen | tail -1) in
*"LIVE (paused"*) bad "6: G, the end, follows again (LIVE, not paused)" "$(screen)" ;;
*" LIVE "*) ok ;;
*) bad "6: G, the end, follows again (LIVE, not paused)" "$(screen)" ;;
esac
wait $rec
see "5: the follower sees the end" "exit 0" 80
# The recorder finished with the follower still reading: the .db alone
# is the whole trace.
cp "$db" "$tmp/alone.db"
check "5: the .db copied alone is the trace" "$(sqlite3 -batch -noheader "$tmp/alone.db" "SELECT COUNT(*) FROM tasks" 2>&1)" 5
keys q
see "5: the follower quits" "tui exited 0"
if [ -s "$db-wal" ]; then bad "5: no -wal left beside the finished trace ($(ls -l "$db-wal"))"; else ok; fi

# ---- 10. after a crash the status line keeps the warning count ------------
record crash "$progs/crash" segv
db=$tmp/crash.db
nw=$(q "SELECT COUNT(*) FROM warnings")
[ "$nw" = 1 ] && words="1 warning" || words="$nw warnings"
for size in "120 40" "80 24"; do
    # shellcheck disable=SC2086
    start $size "$db" $([ "$size" = "80 24" ] && echo LANG=C NO_COLOR=1)
    see "10 ($size): opens" "killed by SIGSEGV"
    case $(screen | tail -1) in
    *"$words"*) ok ;;
    *) bad "10 ($size): the status line keeps '$words'" "$(screen)" ;;
    esac
done

# ---- 10b. a crash outside any task: no task's detail to send the reader to ---
record crash_thread "$progs/crash" thread
start 80 24 "$tmp/crash_thread.db" LANG=C NO_COLOR=1
keys 3
see "10b: the crash's stack under the list" "stack: #0 fault"
if screen | grep -q "task's detail"; then bad "10b: a crash with no task points at a task's detail" "$(screen)"; else ok; fi

# ---- 7. columns by content: the sort arrow, a path keeps its file name -----
# ---- 15. the whole-run figures say so --------------------------------------
db=$tmp/showcase.db
start 120 40 "$db"
see "7: opens" "STATE AT CURSOR"
keys s s s s
see "7: sorted by WAITING, the arrow shown" "WAITING▲"
keys s s s
see "7: sorted by AWAITS, the arrow shown" "AWAITS▲"
see "15: BUSY WAITING TOTAL are said to be whole-run figures" "BUSY WAITING TOTAL: whole run"
start 80 24 "$db" LANG=C NO_COLOR=1
see "7 (80): opens" "STATE AT CURSOR"
keys s s s s
see "7 (80): sorted by WAITING, the arrow shown" "WAITING^"
see "15 (80): whole-run figures said" "figures: whole run"
keys 5
goto 300ms
see "7 (80): tree at 300ms" "Who awaits whom at t=300.000000ms"
if screen | grep -q 'at \.\.\.'; then bad "7 (80): the tree cuts a path to no file name ('at ...')" "$(screen)"; else ok; fi

# ---- 14. timeline zoom: the window's ends readable, never past the end -------
db=$tmp/showcase.db
dur=$(q "SELECT value FROM meta WHERE key = 'duration_ns'")
for size in "120 40" "80 24"; do
    # shellcheck disable=SC2086
    start $size "$db" $([ "$size" = "80 24" ] && echo LANG=C NO_COLOR=1)
    see "14 ($size): opens" "STATE AT CURSOR"
    keys 4
    goto 300ms
    see "14 ($size): timeline at 300ms" "t=300.000000ms /"
    keys z z z z z z z z z z z z z z z z
    see "14 ($size): at us zoom the window's ends differ" "..300.0"
    if screen | grep -q ' 300ms\.\.300ms '; then bad "14 ($size): '300ms..300ms'" "$(screen)"; else ok; fi
    keys Z Z Z Z Z Z Z Z Z Z Z Z Z Z Z Z Z Z Z Z Z Z
    see "14 ($size): zoomed out, the whole run, not past its end" "0ns..$(awk -v ns="$dur" 'BEGIN { printf "%.6fs", ns / 1e9 }')"
done

# ---- 9. the warning panel wraps at words -------------------------------------
start 80 24 "$tmp/leak.db" LANG=C NO_COLOR=1
see "9: opens" "STATE AT CURSOR"
keys 3
see "9: the warning panel" "pending_at_exit at"
first=$(screen | grep -A1 '^pending_at_exit at' | tail -1)
case $first in
*"~") bad "9: the message's first line ends at a word, not with '~'" "$(screen)" ;;
*) ok ;;
esac
case $(screen | grep -A2 '^pending_at_exit at' | tail -1) in
"  "[!\ ]*) ok ;;
*) bad "9: its second line starts with a word, aligned" "$(screen)" ;;
esac

# ---- 11. a run that hung opens at the hang, the Await tree full ----------------
db=$tmp/sem_leak.db
hang=$(q "SELECT ts FROM warnings WHERE kind = 'all_asleep' ORDER BY ts DESC LIMIT 1")
if [ -n "$hang" ]; then
    start 120 40 "$db"
    see "11: opens at the hang" "t=$(ms "$hang") /"
    keys 5
    see "11: the tree: main gathers" "#1 main  gathering"
    see "11: ... query 4 waits on the semaphore" "waiting on semaphore 'db_pool'"
else
    bad "11: sem_leak's trace has no all_asleep warning"
fi

# ---- 16. main is spawned outside any task, not "by #0" -----------------------
start 120 40 "$tmp/leak.db"
see "16: opens" "STATE AT CURSOR"
keys Enter
see "16: main's detail" "Task #1 main"
see "16: its spawn event says outside any task" "spawned outside any task"
gone "16: not by #0" "spawned by #0"

# ---- 2. a long SQL query says it runs, and Esc or Ctrl-C cancels it ----------
# A four-way cross join of the events runs for minutes: the message line
# says so within a second, Ctrl-C (then Esc) cancels just the query, and
# the UI answers keys after it (q still quits, with status 0).
long_sql='SELECT count(*) FROM events a, events b, events c, events d'
for size in "120 40" "80 24"; do
    set -- $size
    start "$1" "$2" "$tmp/showcase.db"
    see "2 ($1): opens" "STATE AT CURSOR"
    for cancel in C-c Escape; do
        keys :
        type_text "$long_sql"
        keys Enter
        see "2 ($1): the query says it runs ($cancel)" "running the query"
        keys "$cancel"
        see "2 ($1): $cancel cancels it" "query cancelled"
        gone "2 ($1): the indicator goes ($cancel)" "running the query"
    done
    keys 1
    see "2 ($1): keys work after it" "STATE AT CURSOR"
    keys q
    see "2 ($1): q quits as ever" "tui exited 0"
done

# ---- the help at 80x24: as tall as the screen, its frame whole ----------------
# The message line was drawn after the popup and covered its bottom border.
start 80 24 "$tmp/showcase.db"
see "help 80x24: opens" "STATE AT CURSOR"
keys '?'
see "help 80x24: the last key of Tasks listed" "group by spawn site"
case $(screen | sed -n 23p) in
*"──┘"* | *"--+"*) ok ;;
*) bad "help 80x24: its bottom border on row 23" "$(screen)" ;;
esac
keys x
gone "help 80x24: any key closes it" "keys (any key closes)"

echo "tui3: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
