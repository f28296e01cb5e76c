#!/bin/sh
# SPDX-License-Identifier: MIT
# tui3_model.sh -- end-to-end checks of issue 23 (Terminal UI, part 3), the
# parts the model answers: the await chain through gathers and the holder
# it names, `t #N` to any event, the timeline's cells when zoomed, a
# task's latency, where time went over a range, tasks grouped by spawn
# site.  Each is driven in tmux as a user meets it; a defect's check
# failed before its fix, a feature's runs at 120x40 and at 80x24 in the C
# locale without colours.
#
# Run by `make test` from the top directory; BUILD names the build directory
# (default build); COSCOPE may name another coscope binary (to see a check
# fail on an older one).  Needs tmux and the sqlite3 shell.
cd "$(dirname "$0")/../.." || exit 1
suite=tui3_model
needs="samples/leak samples/sem_leak samples/greet_gather tests/tracer/progs/live_spawner"
. tests/tui/screen.sh

# each_size: the two sizes a feature is checked at, the second in the C locale without colours.
sizes="120x40 80x24"
start_size() {
    case $1 in
    120x40) start 120 40 "$2" ;;
    80x24) start 80 24 "$2" LANG=C NO_COLOR=1 ;;
    esac
}

record leak "$samples/leak"
record sem_leak "$samples/sem_leak"
record gather "$samples/greet_gather"

# ---- 8. the chain lists what a gather waits for, and follows it ------------
# sem_leak opens at the hang: main gathers, query 4 waits on the semaphore.
db=$tmp/sem_leak.db
start 120 40 "$db"
see "8: opens" "STATE AT CURSOR"
keys 3 Enter
see "8: main's detail from its warning" "Task #1 main"
see "8: the gather says how many it waits for" "waits on a gather/wait of 1 task"
gone "8: not 'tasks tasks'" "tasks tasks"
see "8: ... and follows them: query 4 under it" "└─ #5 query 4  waiting"
see "8: ... on to the semaphore" "→ waits on semaphore 'db_pool'"
# greet_gather: main gathers two greeters; a moment both are still alive
# (halfway from the gather's start to the first greeter's end), from the trace
db=$tmp/gather.db
mid=$(q "SELECT (s.end + (SELECT MIN(end_ts) FROM tasks WHERE parent = 1)) / 2000 FROM spans s
         WHERE s.task = 1 AND s.kind = 'step' AND s.wait = 'tasks'")
start 120 40 "$db"
see "8: greet_gather opens" "STATE AT CURSOR"
goto "${mid}us"
keys Enter
see "8: main's detail" "Task #1 main"
see "8: a gather of two" "waits on a gather/wait of 2 tasks"
see "8: ... the first branch" "├─ #2 greet Alice"
see "8: ... the second" "└─ #3 greet Bob"
gone "8: not 'sleep sleep'" "sleep sleep"
db=$tmp/leak.db
start 120 40 "$db"
see "8: leak opens" "STATE AT CURSOR"
keys 3 Enter
see "8: heartbeat's detail from its warning" "Task #2 heartbeat"
see "8: its chain" "Await chain at the cursor"
see "8: a sleep is a sleep" "→ waits on sleep"
gone "8: not 'sleep sleep'" "sleep sleep"

# ---- 12. the chain and the warning name the same holder ----------------------
db=$tmp/sem_leak.db
# The warning's words: "... last taken by 'NAME' (#ID) ..."
taker=$(q "SELECT message FROM warnings WHERE kind = 'all_asleep' LIMIT 1" | sed -n "s/.*last taken by '\([^']*\)' (#\([0-9]*\)).*/#\2 \1/p")
if [ -n "$taker" ]; then
    start 120 40 "$db"
    see "12: opens" "STATE AT CURSOR"
    keys 3 Enter
    see "12: the chain names the warning's holder" "→ last taken by $taker"
    keys 5
    see "12: the Await tree too" "waiting on semaphore 'db_pool' last taken by $taker"
else
    bad "12: sem_leak's all_asleep warning names who last took the semaphore" "$(q "SELECT message FROM warnings")"
fi

# ---- 13. `t #N` reaches every event the run counted ----------------------
# greet_gather records on one thread: its events in recording order are in
# time order, so the run's last event number is at the trace's end.
db=$tmp/gather.db
nev=$(q "SELECT value FROM meta WHERE key = 'events'")
rows=$(q "SELECT MAX(id) FROM events")
dur=$(q "SELECT value FROM meta WHERE key = 'duration_ns'")
rings=$(q "SELECT COUNT(DISTINCT ring) FROM chunks")
if [ "$rings" = 1 ] && [ "$nev" -gt "$rows" ]; then
    start 120 40 "$db"
    see "13: opens" "STATE AT CURSOR"
    keys g
    see "13: at the start" "t=0ns /"
    goto "#$nev"
    see "13: the run's last event number is an event" "event #$nev"
    gone "13: ... not refused" "no event #$nev"
    see "13: ... at the trace's end" "t=$(ms "$dur") /"
    goto "#$((nev + 1))"
    see "13: one past it is none" "no event #$((nev + 1))"
    goto "#$rows"
    see "13: the table's last row still by its id" "event #$rows"
    check "13: ... at its time" "$(screen | tail -1 | sed -n 's/^ *t=\([^ ]*\) .*/\1/p')" "$(ms "$(q "SELECT ts FROM events WHERE id = $rows")")"
else
    bad "13: greet_gather on one thread, its run counting more events than its table ($rings rings, $nev events, $rows rows)"
fi

# ---- 14. a timeline cell shows running when the task ran a good share of it ---
# duty runs 2 ms and sleeps 5 (about a third of the time, in turns far
# shorter than a cell at the whole run's zoom): its row must read as
# running, not as a row of sleep glyphs.
record duty "$progs/duty" 2 5 2000
db=$tmp/duty.db
share=$(q "SELECT CAST(100.0 * SUM(end - start) / (MAX(resumed) - MIN(start)) AS INT) FROM spans s JOIN tasks t ON t.id = s.task
           WHERE t.name = 'duty' AND s.kind = 'step' AND s.resumed IS NOT NULL")
# (under make check's sanitizers its sleeps cost more: a fifth)
if [ -n "$share" ] && [ "$share" -ge 15 ] && [ "$share" -le 45 ]; then
    for size in 120x40 80x24; do
        start_size $size "$db"
        see "14 ($size): opens" "STATE AT CURSOR"
        keys 4
        see "14 ($size): the timeline" "#2 duty"
        row=$(screen | grep '#2 duty' | head -1)
        case $size in
        120x40) run=$(printf '%s' "$row" | grep -o '[▁▂▃▄▅▆▇█]' | wc -l); wait=$(printf '%s' "$row" | grep -o '░' | wc -l) ;;
        # ASCII: the cells start after the name column (80 / 4 = 20, and a space)
        80x24) cells=$(printf '%s' "$row" | cut -c22-); run=$(printf '%s' "$cells" | grep -o '[-.=#]' | wc -l); wait=$(printf '%s' "$cells" | grep -o '~' | wc -l) ;;
        esac
        # (a third of the cells at least: before, a task running a third of
        # each cell drew almost none as running; load spreads its turns)
        if [ $((run + wait)) -gt 20 ] && [ $((3 * run)) -gt $((run + wait)) ]; then ok; else
            bad "14 ($size): duty ran $share% of its life: a third of its cells at least run ($run run, $wait sleep)" "$(screen)"; fi
    done
else
    bad "14: duty ran $share% of its life, not about a third (a machine too loaded to tell)"
fi

# ---- 7. Tasks grouped by spawn site ---------------------------------------
# The showcase spawns 72 serve_one tasks from one line: one row, unfolding.
record showcase "$samples/showcase"
db=$tmp/showcase.db
nserve=$(q "SELECT COUNT(*) FROM tasks WHERE name = 'serve_one'")
nsites=$(q "SELECT COUNT(DISTINCT spawn_loc) FROM tasks WHERE name = 'serve_one'")
first=$(q "SELECT MIN(id) FROM tasks WHERE name = 'serve_one'")
if [ "$nsites" = 1 ] && [ "$nserve" -gt 1 ]; then
    for size in $sizes; do
        start_size $size "$db"
        see "7 ($size): opens" "STATE AT CURSOR"
        keys a
        see "7 ($size): grouped" "STATES AT CURSOR"
        case $size in 120x40) fold="▸" open="▾" ;; *) fold="+" open="-" ;; esac
        see "7 ($size): serve_one's tasks are one row, counted" "$fold $nserve serve_one"
        see "7 ($size): ... with their states at the cursor (the end: all done)" "$nserve done"
        check "7 ($size): ... listed once" "$(screen | grep -c ' serve_one')" 1
        keys End
        see "7 ($size): its spread under the list" "$nserve tasks: busy p50"
        see "7 ($size): ... and its waiting" "waiting p50"
        keys Enter
        see "7 ($size): Enter unfolds it" "$open $nserve serve_one"
        see "7 ($size): ... into its tasks" "#$first   serve_one"
        keys Down Enter
        see "7 ($size): a task of it opens its detail" "Task #$first serve_one"
        keys Escape
        keys a
        see "7 ($size): a again: one row a task" "STATE AT CURSOR"
    done
else
    bad "7: the showcase spawns its serve_one tasks from one site ($nserve tasks, $nsites sites)"
fi

# ---- 5. a task's latency in its detail ------------------------------------
# crawler 1 (the showcase's fourth task) waits on many kinds: its detail
# lists its busy steps and each kind's waits, counted as its step rows say.
db=$tmp/showcase.db
cid=$(q "SELECT id FROM tasks WHERE name = 'crawler 1' ORDER BY id LIMIT 1")
nsteps=$(q "SELECT COUNT(*) FROM spans WHERE task = $cid AND kind = 'step'")
nlock=$(q "SELECT COUNT(*) FROM spans WHERE task = $cid AND kind = 'step' AND wait = 'lock' AND open = 0")
nsleep=$(q "SELECT COUNT(*) FROM spans WHERE task = $cid AND kind = 'step' AND wait = 'sleep' AND open = 0")
nyield=$(q "SELECT COUNT(*) FROM spans WHERE task = $cid AND kind = 'step' AND wait = 'yield' AND open = 0")
nwaits=$(q "SELECT COUNT(*) FROM spans WHERE task = $cid AND kind = 'step' AND wait IS NOT NULL AND open = 0")
if [ "$nlock" -gt 0 ] && [ "$nsleep" -gt 0 ]; then
    for size in $sizes; do
        start_size $size "$db"
        see "5 ($size): opens" "STATE AT CURSOR"
        goto 0ns
        # the Tasks view by id: crawler 1's row
        for i in $(seq 2 "$(q "SELECT COUNT(*) FROM tasks WHERE id <= $cid")"); do keys Down; done
        keys Enter
        see "5 ($size): crawler 1's detail" "Task #$cid crawler 1"
        keys End
        see "5 ($size): a latency section with its percentiles, at the end" "p50      p90      p99      max"
        see "5 ($size): its busy steps, counted" "$(printf '%-22s %8s' 'busy steps' "$nsteps")"
        see "5 ($size): its lock waits" "$(printf '%-22s %8s' 'waits: lock' "$nlock")"
        see "5 ($size): its sleeps" "$(printf '%-22s %8s' 'waits: sleep' "$nsleep")"
        # scheduled: at least its yields (ready at once) and its lock waits (the release before)
        nsched=$(screen | sed -n 's/^ *scheduled (ready->run) *\([0-9]*\) .*/\1/p')
        if [ -n "$nsched" ] && [ "$nsched" -ge $((nyield + nlock)) ] && [ "$nsched" -le "$nwaits" ]; then ok; else
            bad "5 ($size): scheduled delay over its yields and lock waits at least ($nyield + $nlock), its waits at most ($nwaits): '$nsched'" "$(screen)"; fi
    done
else
    bad "5: crawler 1 of the showcase waits on a lock and sleeps ($nlock, $nsleep)"
fi

# ---- 6. where time went over a marked range ----------------------------------
db=$tmp/showcase.db
r0=200000000 r1=900000000
alive=$(q "SELECT COUNT(*) FROM tasks WHERE spawn_ts < $r1 AND (end_ts IS NULL OR end_ts > $r0)")
# the busiest task in the range, from its step rows' overlap with it
top=$(q "SELECT '#' || t.id || ' ' || t.name FROM spans s JOIN tasks t ON t.id = s.task WHERE s.kind = 'step'
         AND s.start < $r1 AND s.end > $r0 GROUP BY t.id
         ORDER BY SUM(MIN(s.end, $r1) - MAX(s.start, $r0)) DESC, t.id LIMIT 1")
for size in $sizes; do
    start_size $size "$db"
    see "6 ($size): opens" "STATE AT CURSOR"
    keys 4
    goto 200ms
    see "6 ($size): the timeline at 200ms" "t=200.000000ms /"
    keys v
    see "6 ($size): v starts a range at the cursor" "range from 200.000000ms"
    keys v
    see "6 ($size): an empty range is said" "an empty range"
    keys v
    goto 900ms
    keys v
    see "6 ($size): v again: where time went" "Where time went: 200.000000ms..900.000000ms (700ms)"
    see "6 ($size): the loop's busy and idle" "thread 0"
    see "6 ($size): every task alive in it" "$alive tasks alive in it"
    case $(screen | grep -A1 'WAITING BY KIND' | tail -1) in
    "$top "*) ok ;;
    *) bad "6 ($size): the busiest task in the range first ($top)" "$(screen)" ;;
    esac
    keys Escape
    see "6 ($size): Esc: the timeline again" "TASK "
    keys '?'
    see "6 ($size): ? lists v" "mark a range"
    keys Escape 1 '?'
    see "7 ($size): ? lists a in Tasks" "group by spawn site"
    keys Escape
    gone "6 ($size): ... the range closed" "Where time went"
done

echo "tui3_model: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
