#!/bin/sh
# SPDX-License-Identifier: MIT
# live.sh -- end-to-end tests of `coscope run --tui`: the real binary in
# tmux following a program as it runs, the screen read with capture-pane.
#
#   - live_spawner (a task every 100 ms for 10 s, a line printed for each):
#     the status line says LIVE and counts the tasks, and the count grows
#     with no key pressed; the program's lines are not on the screen but in
#     the Output view (6); g pauses following, F follows again; the status
#     line then says how the program ended (exit 0) and the UI stays open;
#     q quits at once, coscope says where the output went;
#   - live_spawner crash (SIGSEGV once its tasks are spawned): the UI,
#     open while it ran, stays open on its trace, saying it was killed by
#     SIGSEGV and that everything before the crash is recorded; the
#     timeline shows the tasks spawned before it; coscope exits 139;
#   - quitting while the program runs asks: Esc stays, s stops it (the
#     trace says it was killed by SIGTERM); l leaves it running, recorded
#     until it ends (the trace says exit 0);
#   - the same at 80x24 in the C locale without colours.
#
# Run by `make test` from the top directory; BUILD names the build directory
# (default build).  Needs tmux and the sqlite3 shell.
cd "$(dirname "$0")/../.." || exit 1
suite=live
needs="tests/tracer/progs/live_spawner"
. tests/tui/screen.sh
spawner=$progs/live_spawner
# The task count on the status line ("... 12 tasks ...").
tasks_now() { screen | tail -1 | sed -n 's/.* LIVE \([0-9][0-9]*\) tasks.*/\1/p'; }

# run W H DB ARGS... [-- ENV]: coscope run --tui on live_spawner ARGS; when
# coscope exits, the pane says how.
run() {
    w=$1 h=$2 db=$3
    shift 3
    tm kill-session -t t 2>/dev/null
    tm_new -d -s t -x "$w" -y "$h" \
        "env $envs $coscope run --tui -o $db -- $spawner $*; echo \"coscope exited \$?\"; sleep 600"
}
q() { sqlite3 -batch -noheader "$1" "$2"; }

# ---- a program spawning tasks over 3 s ---------------------------------------

live_checks() {
    tag=$1 db=$tmp/$2.db
    # 10 s of spawning: the checks before the end (Output, g, F) take a few
    # seconds on a loaded machine and must all run while it is live.
    run "$W" "$H" "$db" 100 100
    see "$tag: LIVE" " LIVE "
    see "$tag: the task count" " tasks"
    # The run's time so far reads seconds, not the machine's uptime (the
    # model once read the clock before the recording set its origin).
    total=$(screen | tail -1 | sed -n 's|.* / \([0-9.]*\)\([mun]*s\) .*|\1 \2|p')
    if [ -n "$total" ] && echo "$total" | awk '{ exit !($2 != "s" || $1 < 600) }'; then ok
    else bad "$tag: the run's time so far on the status line ($total)" "$(screen)"; fi
    sleep 0.3
    n1=$(tasks_now)
    sleep 1
    n2=$(tasks_now)
    if [ -n "$n1" ] && [ -n "$n2" ] && [ "$n2" -gt "$n1" ]; then ok
    else bad "$tag: the task count grows by itself ($n1, then $n2)" "$(screen)"; fi
    # Tasks inside an await right now read so while live (the live build's
    # open rows), not as "ready" until their await ends.
    see "$tag: a worker waits on the lock, live" "waiting on lo"
    see "$tag: the holder sleeps, live" "sleeping"
    # The program prints a line a task: never on the UI's screen ...
    if screen | grep -q "spawned worker"; then bad "$tag: program output smeared on the screen" "$(screen)"; else ok; fi
    # ... but in the Output view.
    keys 6
    see "$tag: Output view" "spawned worker "
    see "$tag: Output view names the file" "$db.out"
    keys 1 g
    see "$tag: g pauses following" "LIVE (paused"
    keys F
    see "$tag: F follows again" " LIVE "
    gone "$tag: F: no longer paused" "LIVE (paused"
    see "$tag: the end: exit 0" "exit 0" 150
    see "$tag: the UI stays open" "STATE AT CURSOR"
    keys 6
    see "$tag: the last line in Output" "all 100 workers done"
    keys q
    see "$tag: q quits at once" "coscope exited 0"
    see "$tag: coscope says where the output is" "the program's output is in $db.out"
    check "$tag: the trace is complete" "$(q "$db" "SELECT COUNT(*) FROM tasks")" 101
}

W=120 H=40 envs=
live_checks "120" spawn120

# ---- a program that crashes mid-run -------------------------------------------

db=$tmp/crash.db
run 120 40 "$db" 10 100 crash
see "crash: LIVE while it runs" " LIVE "
see "crash: killed by SIGSEGV" "killed by SIGSEGV" 60
see "crash: says the trace is whole" "everything before the crash is recorded"
keys 4
see "crash: the timeline of its tasks" "#11 worker"
sleep 0.5
see "crash: the UI stays open" "#11 worker"
keys 6
see "crash: its last words in Output" "crashing now"
keys q
see "crash: coscope exits as the program did (139)" "coscope exited 139"
check "crash: the trace has the mark before the crash" \
    "$(q "$db" "SELECT COUNT(*) FROM events WHERE kind = 'mark'")" 1

# ---- quitting while it runs --------------------------------------------------

db=$tmp/stop.db
run 120 40 "$db" 30 100
see "stop: LIVE" " LIVE "
keys q
see "stop: q asks" "the program is still running"
keys Escape
gone "stop: Esc stays" "the program is still running"
see "stop: still LIVE" " LIVE "
keys q
see "stop: asks again" "stop it"
keys s
see "stop: s stops it" "coscope exited 143" 50
check "stop: the trace says SIGTERM" "$(q "$db" "SELECT value FROM meta WHERE key = 'signal'")" 15

db=$tmp/letrun.db
run 120 40 "$db" 15 100
see "let run: LIVE" " LIVE "
keys q
see "let run: q asks" "the program is still running"
keys l
see "let run: coscope says it runs on" "runs on, recorded into"
see "let run: it ends on its own, recorded" "coscope exited 0" 60
check "let run: exit 0 in the trace" "$(q "$db" "SELECT value FROM meta WHERE key = 'ended'")" exit
check "let run: every task recorded" "$(q "$db" "SELECT COUNT(*) FROM tasks")" 16

# ---- 80x24, ASCII, no colours --------------------------------------------------

W=80 H=24 envs="LC_ALL=C NO_COLOR=1"
live_checks "80" spawn80

echo "live: $pass checks passed, $fail failed"
[ "$fail" -eq 0 ]
