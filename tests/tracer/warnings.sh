#!/bin/sh
# SPDX-License-Identifier: MIT
# warnings.sh -- end-to-end tests of the detections: for every warning kind a
# small buggy program (tests/tracer/progs/warn_*.c) runs under the real
# `coscope run`, and SQL on the trace checks the exact `warnings` rows: kind,
# tasks (joined on `tasks`), the resource (joined on `resources`: kind and
# name) and the source lines of the bug (joined on `locations`; the expected
# lines are found with grep -n on marker comments, so editing a program cannot
# silently break the test).
#
#   - deadlock: a lock-order inversion (both tasks of the cycle, the lock each
#     wants, who holds it, where it waits; the acquire got -EDEADLK) and an
#     await cycle;
#   - all_asleep: an event never set, a get on a queue nobody fills, a put on
#     a full queue nobody drains, a semaphore never released (naming its last
#     taker): the program ends (co_run returns -EDEADLK) instead of hanging,
#     and every waiting task is named with its wait line;
#   - pending_at_exit, never_awaited, unretrieved_error: leaked tasks;
#   - slow_step (the two awaits around a blocking usleep) and
#     lock_held_across_await, under --slow-ms 50;
#   - false positives: correct programs (200 tasks on three locks taken in
#     order, an idle TCP listener, a producer/consumer with queue join, a
#     condition wait, a semaphore used as a signal) give no warning at all;
#   - `coscope report` shows the deadlock (tasks, locks, lines) and
#     --fail-on-warnings exits 1 on it and 0 on a clean trace;
#   - debug mode without a trace (CO_DEBUG=1, no coscope): stderr names the
#     problem.
#
# Checks of behaviour that is known to be wrong are marked `# KNOWN BUG:` and
# skipped (a SKIP line each; it says so when one passes already).
#
# Run by `make test` from the top directory; BUILD names the build directory
# (default build).  Prints a line per failure, then "N passed, M failed"
# (and skips), and exits non-zero if any check failed.
cd "$(dirname "$0")/../.." || exit 1
build=${BUILD:-build}
[ -d "$build" ] || { echo "warnings: no build directory $build (make test builds it)"; exit 1; }
build=$(cd "$build" && pwd)
coscope=$build/coscope
progs=$build/tests/tracer/progs
src=tests/tracer/progs
ASAN_OPTIONS=${ASAN_OPTIONS:-handle_segv=0:handle_sigbus=0:handle_abort=0:detect_leaks=0}
export ASAN_OPTIONS
# The thresholds come from the command line here, not from the caller.
unset CO_DEBUG CO_SLOW_MS COSCOPE_SLOW_MS

for f in "$coscope" "$progs/warn_deadlock" "$progs/warn_asleep" "$progs/warn_leaks" "$progs/warn_slow" \
         "$progs/warn_clean" "$progs/warn_diag" "$progs/warn_sentinel" "$progs/warn_diag3" "$progs/warn_clean2"; do
    [ -x "$f" ] || { echo "warnings: $f is missing (make test builds it)"; exit 1; }
done
command -v sqlite3 >/dev/null || { echo "warnings: the sqlite3 shell is missing (make deps)"; exit 1; }
command -v timeout >/dev/null || { echo "warnings: timeout(1) is missing"; exit 1; }

tmp=$(mktemp -d /tmp/coscope-warnings-XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
skip=0

# check WHAT ACTUAL EXPECTED
check() {
    if [ "$2" = "$3" ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        printf 'warnings: FAIL: %s:\n  got      %s\n  expected %s\n' "$1" "$(echo "$2" | tr '\n' ';')" \
               "$(echo "$3" | tr '\n' ';')"
    fi
}
# known_bug WHAT ACTUAL EXPECTED: a check of behaviour known to be wrong
# (each call carries a `# KNOWN BUG:` comment saying what): skipped, and
# counted as such.  Says so when it passes already, so it can be turned back
# into a `check`.
known_bug() {
    skip=$((skip + 1))
    if [ "$2" = "$3" ]; then
        echo "warnings: SKIP (known bug, but passes now: make it a check): $1"
    else
        echo "warnings: SKIP (known bug): $1: got '$(echo "$2" | tr '\n' ';')', expected '$(echo "$3" | tr '\n' ';')'"
    fi
}
# q SQL: one query against $db.
q() { sqlite3 -batch -noheader "$db" "$1" 2>&1; }
# line_of MARKER FILE: the number of the only line of FILE carrying MARKER.
line_of() {
    n=$(grep -cw "$1" "$src/$2")
    [ "$n" = 1 ] || { echo "warnings: marker $1 found $n times in $src/$2" >&2; echo 0; return; }
    grep -nw "$1" "$src/$2" | cut -d: -f1
}
# run NAME [coscope run options] -- PROGRAM ARGS: trace PROGRAM into
# $tmp/NAME.db (db), stdout/stderr into $tmp/NAME.out/.err, exit status in rc.
# Every run is bounded: a detection that fails to end a stuck program must
# not hang the suite.
run() {
    name=$1
    shift
    db=$tmp/$name.db
    opts=""
    while [ "$1" != "--" ]; do opts="$opts $1"; shift; done
    shift
    prog=$1
    shift
    # shellcheck disable=SC2086
    timeout 20 "$coscope" run -o "$db" $opts -- "$progs/$prog" "$@" > "$tmp/$name.out" 2> "$tmp/$name.err"
    rc=$?
    check "$name: terminated (no hang)" "$([ $rc -eq 124 ] && echo 'timed out' || echo ended)" ended
    check "$name: trace built" "$(q "SELECT value FROM meta WHERE key = 'built'")" 1
}
# rows KIND: the KIND warnings, one line each, sorted:
# "task|task2|resource|file:line|file:line2" with task names, the raw
# resource id and '-' for NULL.
rows() {
    q "SELECT COALESCE(t.name, '-') || '|' || COALESCE(t2.name, '-') || '|' || COALESCE(w.resource, '-') || '|'
           || COALESCE(replace(l.file, rtrim(l.file, replace(l.file, '/', '')), '') || ':' || l.line, '-') || '|'
           || COALESCE(replace(l2.file, rtrim(l2.file, replace(l2.file, '/', '')), '') || ':' || l2.line, '-')
       FROM warnings w LEFT JOIN tasks t ON t.id = w.task LEFT JOIN tasks t2 ON t2.id = w.task2
       LEFT JOIN locations l ON l.id = w.loc LEFT JOIN locations l2 ON l2.id = w.loc2
       WHERE w.kind = '$1'" | LC_ALL=C sort
}
# sorted LINE...: the lines, sorted as rows sorts them.
sorted() { printf '%s\n' "$@" | LC_ALL=C sort; }
# kinds: every warning kind in the trace with its count, "kind=N ...".
kinds() { q "SELECT group_concat(k || '=' || n, ' ') FROM (SELECT kind k, COUNT(*) n FROM warnings GROUP BY kind ORDER BY kind)"; }
tid() { q "SELECT id FROM tasks WHERE name = '$1'"; }
rid() { q "SELECT id FROM resources WHERE name = '$1'"; }
# wres KIND TASK: "kind:name" of the resource of TASK's KIND warning (the join on resources).
wres() {
    q "SELECT r.kind || ':' || r.name FROM warnings w JOIN tasks t ON t.id = w.task JOIN resources r ON r.id = w.resource
       WHERE w.kind = '$1' AND t.name = '$2'"
}
# wcol KIND TASK COLUMN: a column of TASK's KIND warning.
wcol() { q "SELECT w.$3 FROM warnings w JOIN tasks t ON t.id = w.task WHERE w.kind = '$1' AND t.name = '$2'"; }
# has WHAT FILE PATTERN: FILE has a line matching the fixed string PATTERN.
has() { check "$1" "$(grep -cF -- "$3" "$2" | awk '{print ($1 > 0) ? "yes" : "no"}')" yes; }

ecanceled=125 # Linux
[ "$(uname -s)" = Linux ] || ecanceled=$(printf '#include <errno.h>\nECANCELED\n' | cc -E -P - | tail -n 1)

# ---- deadlock: lock-order inversion ------------------------------------------

f=warn_deadlock.c
ab=$(line_of DL_AB_WAIT $f)
ba=$(line_of DL_BA_WAIT $f)
run dl_lock -- warn_deadlock lock
check "dl_lock: exit status" "$rc" 0
has "dl_lock: the acquire returned -EDEADLK" "$tmp/dl_lock.out" "transfer_ba: acquire returned -35 "
check "dl_lock: one -EDEADLK in all" "$(grep -c 'returned -35' "$tmp/dl_lock.out")" 1
check "dl_lock: warning kinds" "$(kinds)" "deadlock=2"
# transfer_ab waits on audit_lock (held by transfer_ba) at DL_AB_WAIT;
# transfer_ba's acquire of accounts_lock (held by transfer_ab) closed the cycle.
check "dl_lock: deadlock rows" "$(rows deadlock)" "$(sorted \
    "transfer_ab|transfer_ba|$(rid audit_lock)|$f:$ab|-" \
    "transfer_ba|transfer_ab|$(rid accounts_lock)|$f:$ba|-")"
check "dl_lock: transfer_ab wants" "$(wres deadlock transfer_ab)" "lock:audit_lock"
check "dl_lock: transfer_ba wants" "$(wres deadlock transfer_ba)" "lock:accounts_lock"
# The story reads true: transfer_ba's acquire was refused with -EDEADLK;
# transfer_ab waited and got the lock once transfer_ba gave it up.
check "dl_lock: message of the task that got -EDEADLK" "$(wcol deadlock transfer_ba message)" \
      "task 'transfer_ba' (#$(tid transfer_ba)) asked for lock 'accounts_lock' (#$(rid accounts_lock)) held by 'transfer_ab' (#$(tid transfer_ab)): that wait would have closed a cycle (it would have waited forever), so it got -EDEADLK instead"
check "dl_lock: message of the task that proceeded" "$(wcol deadlock transfer_ab message | sed 's/ [0-9.]* ms later/ N ms later/')" \
      "task 'transfer_ab' (#$(tid transfer_ab)) waits for lock 'audit_lock' (#$(rid audit_lock)) held by 'transfer_ba' (#$(tid transfer_ba)), in a cycle of waits: 'transfer_ba' (#$(tid transfer_ba)) (whose wait closed the cycle) got -EDEADLK, and this wait ends only if it gives that up; it did: this task got the lock N ms later and went on"
check "dl_lock: both tasks ended done" "$(q "SELECT group_concat(state) FROM tasks WHERE name LIKE 'transfer%'")" "done,done"

# `coscope report` on it: the deadlock, both tasks, both locks, both lines.
"$coscope" report "$db" > "$tmp/report.out" 2> "$tmp/report.err"
check "report: exit status" $? 0
for s in deadlock transfer_ab transfer_ba accounts_lock audit_lock "$f:$ab (transfer_ab)" "$f:$ba (transfer_ba)"; do
    has "report: shows '$s'" "$tmp/report.out" "$s"
done
"$coscope" report --fail-on-warnings "$db" > /dev/null 2>&1
check "report --fail-on-warnings: deadlock trace" $? 1

# ---- deadlock: await cycle ---------------------------------------------------

ping=$(line_of DL_PING_AWAIT $f)
pong=$(line_of DL_PONG_AWAIT $f)
run dl_await -- warn_deadlock await
check "dl_await: exit status" "$rc" 0
has "dl_await: pong's await returned -EDEADLK" "$tmp/dl_await.out" "pong: await returned -35 "
check "dl_await: warning kinds" "$(kinds)" "deadlock=2"
# ping awaits pong (DL_PING_AWAIT); pong's await of ping closed the cycle.  The
# resource of an await on a task is the task's id.
check "dl_await: deadlock rows (task, resource, line)" \
      "$(q "SELECT t.name || '|' || w.resource || '|' || l.line FROM warnings w JOIN tasks t ON t.id = w.task
            JOIN locations l ON l.id = w.loc WHERE w.kind = 'deadlock' ORDER BY t.name")" \
      "$(printf '%s\n' "ping|$(tid pong)|$ping" "pong|$(tid ping)|$pong")"
# Both rows of an await cycle name the awaited task as task2.
check "dl_await: task2 is the awaited task in both rows" \
      "$(q "SELECT CASE WHEN (SELECT COUNT(*) FROM warnings WHERE kind = 'deadlock' AND task2 IS NULL) = 2 THEN 'consistent'
                        WHEN (SELECT COUNT(*) FROM warnings WHERE kind = 'deadlock' AND task2 = resource) = 2 THEN 'consistent'
                        ELSE 'mixed' END")" consistent
# "held by" is for locks only.
check "dl_await: pong's message has no 'held by'" \
      "$(wcol deadlock pong message | grep -c 'held by')" 0

# ---- all_asleep ----------------------------------------------------------------

f=warn_asleep.c
main_line=$(line_of AS_MAIN_AWAIT $f)
# asleep MODE TASK RESOURCE RESKIND WAIT MARKER [TASK2]: TASK waits forever on
# RESOURCE (of kind RESKIND in `resources`, WAIT in its await span) at MARKER,
# main waits on TASK at AS_MAIN_AWAIT; co_run returned -EDEADLK.
asleep() {
    mode=$1 task=$2 res=$3 reskind=$4 wait=$5 line=$(line_of "$6" $f)
    run "asleep_$mode" -- warn_asleep "$mode"
    check "asleep $mode: co_run returned -EDEADLK (exit 42)" "$rc" 42
    has "asleep $mode: program says -EDEADLK" "$tmp/asleep_$mode.out" "co_run returned -35 "
    # One story for the group (main -> TASK -> RESOURCE), and no
    # pending_at_exit: at the close both still waited where the story says.
    check "asleep $mode: warning kinds" "$(kinds)" "all_asleep=1"
    # task: the root (main), task2: the task it awaits, resource: where the
    # chain ends, loc: main's await, loc2: TASK's wait on the resource.
    check "asleep $mode: all_asleep row" "$(rows all_asleep)" \
          "main|$task|$(rid "$res")|$f:$main_line|$f:$line"
    check "asleep $mode: the chain ends on" "$(wres all_asleep main)" "$reskind:$res"
    # Its await span: cut short only by the loop's close (-ECANCELED).
    check "asleep $mode: $task's await span" "$(q "SELECT s.wait || ' ' || s.result FROM awaits s JOIN locations l ON l.id = s.loc
        WHERE s.task = $(tid "$task") AND s.resource = $(rid "$res") AND l.line = $line")" "$wait -$ecanceled"
    # Resource and task ids are numbered apart and may collide (main creates
    # config_lock so that they do): the message must still name the task.
    msg=$(wcol all_asleep main message)
    check "asleep $mode: the story names the task main awaits" \
          "$(echo "$msg" | grep -c "'main' (#$(tid main)) awaits '$task' (#$(tid "$task")), which waits for")" 1
}
asleep event waiter ready_ev event event AS_EVENT_WAIT
asleep qget consumer jobs queue queue_get AS_QGET_WAIT
asleep qput producer jobs queue queue_put AS_QPUT_WAIT
# The put waiter waits for room, not for an item.
check "asleep qput: the story says the producer waits for room" "$(wcol all_asleep main message)" \
      "every task is asleep: 'main' (#$(tid main)) awaits 'producer' (#$(tid producer)), which waits for room in queue 'jobs' (#$(rid jobs)) that nobody will make"
asleep sem waiter slots semaphore semaphore AS_SEM_WAIT
check "asleep sem: the story" "$(wcol all_asleep main message)" \
      "every task is asleep: 'main' (#$(tid main)) awaits 'waiter' (#$(tid waiter)), which waits for semaphore 'slots' (#$(rid slots)) last taken by 'taker' (#$(tid taker)), since ended; a unit never came back: 'taker' (#$(tid taker)) took one at $f:$(line_of AS_SEM_TAKE $f) and ended (returned) without releasing it (caused at $f:$(line_of AS_SEM_TAKE $f))"
check "asleep sem: caused at the taker's acquire" "$(q "SELECT l.line FROM warnings w JOIN locations l ON l.id = w.cause_loc
    WHERE w.kind = 'all_asleep'")" "$(line_of AS_SEM_TAKE $f)"
check "asleep sem: the taker took it at" "$(q "SELECT l.line FROM events e JOIN locations l ON l.id = e.loc
    WHERE e.kind = 'sem_acquire' AND e.task = $(tid taker) AND e.resource = $(rid slots)")" "$(line_of AS_SEM_TAKE $f)"

# ---- leaks: pending_at_exit, never_awaited, unretrieved_error ----------------

f=warn_leaks.c
run pending -- warn_leaks pending
check "pending: exit status" "$rc" 0
check "pending: warning kinds" "$(kinds)" "pending_at_exit=2"
check "pending: rows" "$(rows pending_at_exit)" "$(sorted \
    "listener|-|$(rid shutdown_ev)|$f:$(line_of LK_LISTEN $f)|-" \
    "napper|-|-|$f:$(line_of LK_NAP $f)|-")"
check "pending: listener waits on" "$(wres pending_at_exit listener)" "event:shutdown_ev"
check "pending: napper's last await is the sleep the close cancelled" "$(q "SELECT wait || ' ' || result FROM awaits
    WHERE task = $(tid napper) ORDER BY start DESC LIMIT 1")" "sleep -$ecanceled"
check "pending: napper's message says sleep" "$(wcol pending_at_exit napper message | grep -c sleep)" 1
check "pending: children cancelled by the close" "$(q "SELECT group_concat(state) FROM tasks WHERE name IN ('napper', 'listener')")" \
      "cancelled,cancelled"

run never -- warn_leaks never
check "never: exit status" "$rc" 0
check "never: warning kinds" "$(kinds)" "never_awaited=1"
check "never: rows" "$(rows never_awaited)" "forgotten|-|-|$f:$(line_of LK_FORGOTTEN $f)|-"
check "never: message" "$(wcol never_awaited forgotten message)" \
      "task 'forgotten' (#$(tid forgotten)) was never awaited nor detached"
check "never: detached, before and after the end" "$(q "SELECT group_concat(x, ' ') FROM (SELECT name || '=' || detached
    AS x FROM tasks WHERE name IN ('fire_and_forget', 'detached_late', 'forgotten') ORDER BY name)")" \
      "detached_late=1 fire_and_forget=1 forgotten=0"

run error -- warn_leaks error
check "error: exit status" "$rc" 0
check "error: warning kinds" "$(kinds)" "unretrieved_error=1"
check "error: rows" "$(rows unretrieved_error)" "failing|-|-|$f:$(line_of LK_FAILING $f)|-"
eio=$(sed -n 's/^failing_awaited returned -5 (\(.*\))$/\1/p' "$tmp/error.out")
check "error: the awaited failure was returned" "$([ -n "$eio" ] && echo yes)" yes
check "error: message names the error" "$(wcol unretrieved_error failing message)" \
      "task 'failing' (#$(tid failing)) failed with '$eio' and nobody retrieved the error"
check "error: failing's result" "$(q "SELECT state || ' ' || result FROM tasks WHERE name = 'failing'")" "failed -5"

# ---- slow_step, lock_held_across_await ---------------------------------------

f=warn_slow.c
run slow --slow-ms 50 -- warn_slow step
check "slow: exit status" "$rc" 0
check "slow: meta slow_ms" "$(q "SELECT value FROM meta WHERE key = 'slow_ms'")" 50
check "slow: warning kinds" "$(kinds)" "slow_step=1"
check "slow: rows (the two awaits around usleep)" "$(rows slow_step)" \
      "slowpoke|-|-|$f:$(line_of SL_BEFORE $f)|$f:$(line_of SL_AFTER $f)"
check "slow: dur >= 200 ms" "$(q "SELECT dur >= 200000000 AND dur < 5000000000 FROM warnings WHERE kind = 'slow_step'")" 1
# The runtime times steps itself only in debug mode (a trace has their
# bounds): no slow_step event in a plain traced run.
check "slow: no runtime slow_step event without debug mode" "$(q "SELECT COUNT(*) FROM events WHERE kind = 'slow_step'")" 0

run held --slow-ms 50 -- warn_slow held
check "held: exit status" "$rc" 0
check "held: warning kinds" "$(kinds)" "lock_held_across_await=1"
check "held: rows" "$(rows lock_held_across_await)" "hoarder|-|$(rid db_lock)|$f:$(line_of SL_HELD $f)|-"
check "held: resource" "$(wres lock_held_across_await hoarder)" "lock:db_lock"
check "held: dur >= 200 ms" "$(q "SELECT dur >= 200000000 AND dur < 5000000000 FROM warnings")" 1

# ---- false positives: correct programs, no warning ----------------------------

for mode in locks tcp tcp_connect queue cond semsignal group; do
    run "clean_$mode" -- warn_clean "$mode"
    check "clean $mode: exit status" "$rc" 0
    check "clean $mode: program ok" "$(cat "$tmp/clean_$mode.out")" ok
    # semsignal: a semaphore used as a signal is not "held" (only locks
    # have owners), so main's later sleep is not a lock held across an await.
    check "clean $mode: no warnings" "$(kinds)" ""
done
db=$tmp/clean_group.db
check "clean group: the child failed, its siblings were cancelled" \
    "$(q "SELECT group_concat(name || '=' || state, ' ') FROM (SELECT name, state FROM tasks WHERE name IN ('failer','napper') ORDER BY name, id)")" \
    "failer=failed napper=cancelled napper=cancelled"
CO_DEBUG=1 timeout 20 "$progs/warn_clean" group > /dev/null 2> "$tmp/group_debug.err"
check "clean group: debug mode says nothing of the child's error" "$(grep -c 'failed' "$tmp/group_debug.err")" 0
db=$tmp/clean_locks.db
check "clean locks: 200 clerks, all done" "$(q "SELECT COUNT(*) FROM tasks WHERE name = 'clerk' AND state = 'done'")" 200
check "clean locks: contention happened" "$(q "SELECT COUNT(*) > 100 FROM awaits WHERE wait = 'lock'")" 1
db=$tmp/clean_tcp_connect.db
check "clean tcp_connect: accept waited on I/O" "$(q "SELECT COUNT(*) FROM awaits WHERE wait = 'tcp_accept'
    AND dur > 100000000 AND result = 0")" 1
"$coscope" report --fail-on-warnings "$tmp/clean_locks.db" > /dev/null 2>&1
check "report --fail-on-warnings: clean trace" $? 0

# ---- Diagnosis II (issue 13): tests/tracer/progs/warn_diag.c --------------------

f=warn_diag.c
# A gather that can never finish names the tasks it waits for.
run dg_gather -- warn_diag gather
check "dg_gather: co_run returned -EDEADLK" "$rc" 42
check "dg_gather: warning kinds" "$(kinds)" "all_asleep=1"
check "dg_gather: main's all_asleep row" "$(rows all_asleep)" \
      "main|sleeper|$(rid never_ev)|$f:$(line_of DG_GATHER $f)|$f:$(line_of DG_GATHER_CHILD $f)"
s1=$(q "SELECT min(id) FROM tasks WHERE name = 'sleeper'")
s2=$(q "SELECT max(id) FROM tasks WHERE name = 'sleeper'")
check "dg_gather: the story names both tasks" "$(wcol all_asleep main message)" \
      "every task is asleep: 'main' (#$(tid main)) awaits 'sleeper' (#$s1) and 'sleeper' (#$s2), each waiting for event 'never_ev' (#$(rid never_ev)) to be set, and nothing left will set it"

# A producer that forgets the sentinels of its 4 consumers: one story for
# the group (main, the 4 consumers, the queue), no row per task, and the
# producer that ended named; stderr tells it once too.
f=warn_sentinel.c
run sn_all -- warn_sentinel all
check "sn_all: co_run returned -EDEADLK" "$rc" 42
check "sn_all: warning kinds" "$(kinds)" "all_asleep=1"
check "sn_all: the row" "$(rows all_asleep)" "main|consumer 1|$(rid jobs)|$f:$(line_of SN_GATHER $f)|$f:$(line_of SN_GET $f)"
c1=$(tid "consumer 1") c4=$(tid "consumer 4")
story="'main' (#$(tid main)) awaits 'consumer 1'..'consumer 4' (#$c1..#$c4), each waiting for an item from queue 'jobs' (#$(rid jobs)) that nobody will put"
check "sn_all: the story" "$(wcol all_asleep main message)" \
      "every task is asleep: $story: its producer 'producer' (#$(tid producer)) ended"
check "sn_all: stderr tells the group once" "$(grep -c "^coscope: $story\$" "$tmp/sn_all.err")" 1
check "sn_all: stderr lists each task once" "$(grep -c "^  task #" "$tmp/sn_all.err")" 5
check "sn_all: stderr does not repeat them at the close" "$(grep -c "when the loop closed" "$tmp/sn_all.err")" 0
"$coscope" report "$db" > "$tmp/sn_all.report" 2>&1
has "sn_all: report tells the story" "$tmp/sn_all.report" "each waiting for"
has "sn_all: report: where main waits" "$tmp/sn_all.report" "at tests/tracer/progs/$f:$(line_of SN_GATHER $f) (main_task)"
has "sn_all: report: where the chain ends" "$tmp/sn_all.report" "chain ends at tests/tracer/progs/$f:$(line_of SN_GET $f) (consumer)"
# One sentinel put: 'consumer 1' leaves, the 3 others stay.
run sn_some -- warn_sentinel some
check "sn_some: the story" "$(kinds) $(wcol all_asleep main message)" \
      "all_asleep=1 every task is asleep: 'main' (#$(tid main)) awaits 'consumer 2'..'consumer 4' (#$(tid "consumer 2")..#$(tid "consumer 4")), each waiting for an item from queue 'jobs' (#$(rid jobs)) that nobody will put: its producer 'producer' (#$(tid producer)) ended"
# Two groups stuck apart: two stories.
run sn_two -- warn_sentinel two
check "sn_two: warning kinds" "$(kinds)" "all_asleep=2"
check "sn_two: rows" "$(rows all_asleep)" "$(sorted \
    "main|consumer 1|$(rid jobs)|$f:$(line_of SN_GATHER $f)|$f:$(line_of SN_GET $f)" \
    "listener|-|$(rid shutdown_ev)|$f:$(line_of SN_LISTEN $f)|-")"
check "sn_two: the listener's story" "$(wcol all_asleep listener message)" \
      "every task is asleep: 'listener' (#$(tid listener)) waits for event 'shutdown_ev' (#$(rid shutdown_ev)) to be set, and nothing left will set it"
check "sn_two: stderr: two stories" "$(grep -c "^coscope: '" "$tmp/sn_two.err")" 2
f=warn_diag.c

# A detached task that fails: unretrieved_error at its spawn line; the one
# that succeeds stays silent.
run dg_detached -- warn_diag detached
check "dg_detached: exit status" "$rc" 0
check "dg_detached: warning kinds" "$(kinds)" "unretrieved_error=1"
check "dg_detached: rows" "$(rows unretrieved_error)" "failer|-|-|$f:$(line_of DG_DETACHED $f)|-"
"$coscope" report "$db" > "$tmp/dg_detached.report" 2>&1
has "dg_detached: report names the spawn line" "$tmp/dg_detached.report" "$f:$(line_of DG_DETACHED $f)"

# A task that swallows -ECANCELED and sleeps on: cancel_ignored names who
# cancelled it, where it got -ECANCELED and what it awaits now; co_run's
# shutdown gives it the grace period (CO_SHUTDOWN_GRACE_MS), then abandons it.
swallow=$(line_of DG_SWALLOW $f)
CO_SHUTDOWN_GRACE_MS=200 run dg_ignore -- warn_diag ignore_cancel
check "dg_ignore: exit status (no hang at exit)" "$rc" 0
check "dg_ignore: warning kinds" "$(kinds)" "cancel_ignored=1 pending_at_exit=1"
check "dg_ignore: cancel_ignored row" "$(rows cancel_ignored)" "stubborn|main|-|$f:$swallow|$f:$swallow"
check "dg_ignore: message" "$(wcol cancel_ignored stubborn message | sed 's/ [0-9.]* ms ago/ N ms ago/')" \
      "task 'stubborn' (#$(tid stubborn)) was cancelled by task 'main' (#$(tid main)) N ms ago but goes on: it got -ECANCELED at $f:$swallow and now awaits a timer (sleep) at $f:$swallow"
has "dg_ignore: stderr says it was abandoned" "$tmp/dg_ignore.err" "when the shutdown grace period ended, it was abandoned (the shutdown grace period is 200 ms)"
"$coscope" report "$db" > "$tmp/dg_ignore.report" 2>&1
has "dg_ignore: report names the line" "$tmp/dg_ignore.report" "$f:$swallow"
# The default grace period (2 s) bounds it too.
start=$(date +%s)
run dg_ignore_default -- warn_diag ignore_cancel
check "dg_ignore default grace: exit status" "$rc" 0
check "dg_ignore default grace: ended within 10 s" "$([ $(($(date +%s) - start)) -lt 10 ] && echo yes)" yes
# Cancelled only by the shutdown, with a grace period shorter than the slow
# threshold: the runtime reports it as it gives up.
CO_SHUTDOWN_GRACE_MS=30 run dg_ignore_shutdown -- warn_diag ignore_shutdown
check "dg_ignore_shutdown: exit status" "$rc" 0
check "dg_ignore_shutdown: cancel_ignored row" "$(rows cancel_ignored)" "stubborn|-|-|$f:$swallow|-"
check "dg_ignore_shutdown: message" "$(wcol cancel_ignored stubborn message)" \
      "task 'stubborn' (#$(tid stubborn)) ignored its cancellation at the loop's close: still waiting for a timer (sleep) at $f:$swallow when the shutdown grace period ended, it was abandoned"
# Correct: cancelled, it awaits its cleanup for a moment and ends.
run dg_cancel_clean -- warn_diag cancel_clean
check "dg_cancel_clean: exit status" "$rc" 0
check "dg_cancel_clean: no warnings" "$(kinds)" ""

# Thread-pool starvation: 8 blocking jobs of 400 ms on libuv's 4 threads,
# then a quick one: the 4 late hogs and the quick job waited to start.  Only
# the quick job is starved: the late hogs waited behind jobs of their own
# call site, a batch taking its turn (issue 22: CPU work moved to threads
# is no false alarm).
hog=$(line_of DG_HOG $f)
run dg_pool --slow-ms 100 -- warn_diag pool_starved
check "dg_pool: exit status" "$rc" 0
check "dg_pool: warning kinds" "$(kinds)" "thread_pool_starved=1"
check "dg_pool: rows (waiting site, holding site)" "$(rows thread_pool_starved | sed 's/^\([a-z]*\)|[a-z]*|/\1|/')" \
    "quick|-|$f:$(line_of DG_QUICK $f)|$f:$hog"
check "dg_pool: the holders are hogs" "$(q "SELECT DISTINCT t.name FROM warnings w JOIN tasks t ON t.id = w.task2
    WHERE w.kind = 'thread_pool_starved'")" hog
check "dg_pool: the quick job's message names the holding site" \
      "$(wcol thread_pool_starved quick message | grep -c "held by .* from $f:$hog")" 1
check "dg_pool: queue_dur of the work spans" "$(q "SELECT SUM(queue_dur < 50000000) || ' ' || SUM(queue_dur > 300000000)
    FROM spans WHERE kind = 'work'")" "4 5"
"$coscope" report "$db" > "$tmp/dg_pool.report" 2>&1
has "dg_pool: report names the quick job's line" "$tmp/dg_pool.report" "$f:$(line_of DG_QUICK $f)"
# Correct: a pool kept busy by work that never waits to start.
run dg_pool_ok --slow-ms 100 -- warn_diag pool_ok
check "dg_pool_ok: exit status" "$rc" 0
check "dg_pool_ok: no warnings" "$(kinds)" ""
check "dg_pool_ok: 15 jobs, none queued long" "$(q "SELECT COUNT(*) || ' ' || SUM(queue_dur < 50000000) FROM spans WHERE kind = 'work'")" "15 15"

# Contention per acquire site: 50 workers x 5 holds of one lock, from two
# acquire lines (odd and even workers).
run dg_sites -- warn_diag contention
check "dg_sites: exit status" "$rc" 0
check "dg_sites: contention_sites rows" "$(q "SELECT r.name || '|' || l.line || '|' || c.acquisitions || '|' || (c.contended > 100)
    || '|' || (c.wait_p99_ns <= c.wait_max_ns AND c.wait_p99_ns > 0) || '|' || (c.wait_total_ns >= c.wait_max_ns)
    FROM contention_sites c JOIN resources r ON r.id = c.resource JOIN locations l ON l.id = c.loc ORDER BY l.line")" \
      "$(sorted "lock|$(line_of DG_ACQ_ODD $f)|125|1|1|1" "lock|$(line_of DG_ACQ_EVEN $f)|125|1|1|1")"
check "dg_sites: sites add up to the resource" "$(q "SELECT (SELECT SUM(acquisitions) || ' ' || SUM(contended) FROM contention_sites)
    = (SELECT acquisitions || ' ' || contended FROM lock_contention WHERE name = 'lock')")" 1
check "dg_sites: max_waiters (a task handed the lock no longer waits)" "$(q "SELECT max_waiters FROM lock_contention WHERE name = 'lock'")" 49
"$coscope" report "$db" > "$tmp/dg_sites.report" 2>&1
has "dg_sites: report names the odd site" "$tmp/dg_sites.report" "$f:$(line_of DG_ACQ_ODD $f) (worker)"
has "dg_sites: report names the even site" "$tmp/dg_sites.report" "$f:$(line_of DG_ACQ_EVEN $f) (worker)"

# The watchdog's stack reaches the slow step whatever the order of chunks:
# a blocking call right after co_to_thread (the stack's chunk, on the
# watchdog's ring, often comes after the one that closed the step).
for i in 1 2 3; do
    CO_DEBUG=1 run "dg_wd$i" --slow-ms 100 -- warn_diag wd_order
    check "dg_wd$i: slow step between the two awaits" "$(rows slow_step)" \
          "blocker|-|-|$f:$(line_of DG_WD_BEFORE $f)|$f:$(line_of DG_WD_AFTER $f)"
    check "dg_wd$i: its stack names the blocking call" "$(q "SELECT stack LIKE '%sleep%' AND stack LIKE '%blocker%'
        FROM warnings WHERE kind = 'slow_step'")" 1
done

# A crash inside a task: the signal handler writes a `crash` warning into
# the ring (task, last await line), its stack symbolized by the builder with
# libdw (the fault's line first); `report` shows it first.
run dg_crash -- warn_diag crash
check "dg_crash: killed by SIGSEGV" "$rc" 139
check "dg_crash: the run ended by signal 11" "$(q "SELECT group_concat(value, ' ') FROM meta WHERE key IN ('ended', 'signal')")" "signal 11"
check "dg_crash: warning kinds" "$(kinds)" "crash=1"
check "dg_crash: row (task, last await)" "$(rows crash)" "crasher|-|-|$f:$(line_of DG_CRASH_AWAIT $f)|-"
check "dg_crash: stack frame #0 is the faulting line" "$(wcol crash crasher stack | head -n 1)" \
      "#0 poke (tests/tracer/progs/$f:$(line_of DG_FAULT $f))"
check "dg_crash: the caller's line is on the stack" "$(wcol crash crasher stack | grep -c "crasher (tests/tracer/progs/$f:$(line_of DG_CRASH_CALL $f))")" 1
check "dg_crash: message" "$(wcol crash crasher message)" \
      "task 'crasher' (#$(tid crasher)) crashed: signal 11 (SIGSEGV) at address 0x10, in poke (tests/tracer/progs/$f:$(line_of DG_FAULT $f)); its last await was at $f:$(line_of DG_CRASH_AWAIT $f)"
check "dg_crash: the program's objects were recorded" "$(q "SELECT COUNT(*) >= 2 FROM events WHERE kind = 'module'")" 1
"$coscope" report "$db" > "$tmp/dg_crash.report" 2>&1
check "dg_crash: report shows the crash first" "$(grep -m1 -E '^  [a-z_]+ \([0-9]+\)$' "$tmp/dg_crash.report")" "  crash (1)"
has "dg_crash: report names the faulting line" "$tmp/dg_crash.report" "#0 poke (tests/tracer/progs/$f:$(line_of DG_FAULT $f))"
# A stack overflow: the same, saying so, with the recursion on the stack.
run dg_overflow -- warn_diag overflow
check "dg_overflow: killed by SIGSEGV" "$rc" 139
check "dg_overflow: row" "$(rows crash)" "overflower|-|-|$f:$(line_of DG_OVERFLOW_AWAIT $f)|-"
check "dg_overflow: message says overflow" "$(wcol crash overflower message | grep -c "^stack overflow in task 'overflower'")" 1
# Frames #1-#46 (#0 is wherever the guard page was hit: the frame's store, the
# push of the call, or the callee's own push, as the compiler lays it out).
check "dg_overflow: stack is the recursion" "$(wcol crash overflower stack | sed -n '2,47p' | grep -c "deep (tests/tracer/progs/$f:$(line_of DG_RECURSE $f))")" 46

# A libuv timer callback of the program's own blocks 300 ms, outside any
# task: a slow_step with no task, under the tracer without debug mode, with
# the watchdog's stack (the callback's frame and line).
run dg_slow_cb -- warn_diag slow_cb
check "dg_slow_cb: exit status" "$rc" 0
check "dg_slow_cb: warning kinds" "$(kinds)" "slow_step=1"
check "dg_slow_cb: row (no task)" "$(rows slow_step)" "-|-|-|-|-"
check "dg_slow_cb: dur >= 300 ms" "$(q "SELECT dur >= 290000000 AND dur < 5000000000 FROM warnings")" 1
check "dg_slow_cb: the watchdog's stack names the callback's line" \
      "$(q "SELECT stack FROM warnings" | grep -c "on_slow_timer.*$f:$(line_of DG_SLOW_CB $f))")" 1
"$coscope" report "$db" > "$tmp/dg_slow_cb.report" 2>&1
has "dg_slow_cb: report names the line" "$tmp/dg_slow_cb.report" "$f:$(line_of DG_SLOW_CB $f)"

# ---- debug mode, no trace: stderr names the problem --------------------------

# debug NAME PROGRAM ARGS: run PROGRAM with CO_DEBUG=1 outside coscope.
debug() {
    name=$1
    prog=$2
    shift 2
    CO_DEBUG=1 timeout 20 "$progs/$prog" "$@" > "$tmp/debug_$name.out" 2> "$tmp/debug_$name.err"
    rc=$?
    check "debug $name: terminated (no hang)" "$([ $rc -eq 124 ] && echo 'timed out' || echo ended)" ended
    err=$tmp/debug_$name.err
}
debug dl_lock warn_deadlock lock
has "debug dl_lock: deadlock named" "$err" "coscope: deadlock: task 'transfer_ba'"
has "debug dl_lock: where it waits" "$err" "warn_deadlock.c:$ba wants lock"
has "debug dl_lock: who holds it" "$err" "held by 'transfer_ab'"
debug dl_await warn_deadlock await
has "debug dl_await: deadlock named" "$err" "coscope: deadlock: task 'pong'"
has "debug dl_await: where" "$err" "warn_deadlock.c:$pong awaits 'ping'"
for mode in event qget qput sem; do
    debug "asleep_$mode" warn_asleep $mode
    check "debug asleep $mode: exit status (-EDEADLK)" "$rc" 42
    has "debug asleep $mode: asleep named" "$err" "coscope: all tasks are asleep"
done
has "debug asleep sem: last taker" "$err" "last taken by"
has "debug asleep sem: waiter's line" "$err" "warn_asleep.c:$(line_of AS_SEM_WAIT warn_asleep.c)"
debug pending warn_leaks pending
has "debug pending: napper" "$err" "'napper'"
has "debug pending: still waiting" "$err" "was still waiting for a timer (sleep) at tests/tracer/progs/warn_leaks.c:"
debug never warn_leaks never
has "debug never: never awaited" "$err" "task 'forgotten'"
has "debug never: wording" "$err" "was never awaited nor detached"
debug error warn_leaks error
has "debug error: nobody retrieved" "$err" "task 'failing'"
has "debug error: wording" "$err" "failed with '$eio' and nobody retrieved the error"
debug slow warn_slow step
has "debug slow: slow step" "$err" "coscope: slow step: task 'slowpoke'"
has "debug slow: between the two awaits" "$err" \
    "between await at tests/tracer/progs/warn_slow.c:$(line_of SL_BEFORE warn_slow.c) and await at tests/tracer/progs/warn_slow.c:$(line_of SL_AFTER warn_slow.c)"
debug held warn_slow held
has "debug held: lock held across await" "$err" \
    "coscope: lock held across await: task 'hoarder' (#2) held lock 'db_lock'"
has "debug held: the await's line" "$err" "while awaiting sleep at tests/tracer/progs/warn_slow.c:$(line_of SL_HELD warn_slow.c)"
# Without CO_DEBUG nothing is printed for a slow step.
timeout 20 "$progs/warn_slow" step > /dev/null 2> "$tmp/nodebug.err"
check "no debug: no slow step report" "$(grep -c 'slow step' "$tmp/nodebug.err")" 0

# ---- cancellation right after a hand-off (issue 18) --------------------------
# Each waiter is handed what it waited for and then cancelled before it runs:
# the hand-off stands.  The trace shows each cancel as kept after the
# hand-off (arg's low byte 2), each waiter done with its result, and no
# warning blames anyone.
run handoff -- handoff_cancel
check "handoff: program outcome" "$(cat "$tmp/handoff.out")" ok
check "handoff: waiters end done with what they were handed" \
    "$(q "SELECT name || '=' || state || ':' || result FROM tasks WHERE name IN ('reader','taker','locker','slow') ORDER BY name")" \
    "$(printf '%s\n' locker=done:1 reader=done:7 slow=done:1 taker=done:1)"
check "handoff: each cancel kept after the hand-off" \
    "$(q "SELECT t.name || ':' || (e.arg & 255) FROM events e JOIN tasks t ON t.id = e.resource
          WHERE e.kind = 'cancel' ORDER BY t.name")" \
    "$(printf '%s\n' locker:2 reader:2 slow:2 taker:2)"
check "handoff: the wait that handed over differs per waiter" \
    "$(q "SELECT COUNT(DISTINCT e.arg >> 8) FROM events e WHERE e.kind = 'cancel'")" 3
check "handoff: no warnings" "$(kinds)" ""

# ---- Diagnosis III (issue 22): tests/tracer/progs/warn_diag3.c -----------------
# crow KIND: "task|task2|loc|loc2|cause" of the KIND warnings (file:line,
# '-' for NULL), sorted.
crow() {
    q "SELECT COALESCE(t.name, '-') || '|' || COALESCE(t2.name, '-') || '|'
           || COALESCE(replace(l.file, rtrim(l.file, replace(l.file, '/', '')), '') || ':' || l.line, '-') || '|'
           || COALESCE(replace(l2.file, rtrim(l2.file, replace(l2.file, '/', '')), '') || ':' || l2.line, '-') || '|'
           || COALESCE(replace(l3.file, rtrim(l3.file, replace(l3.file, '/', '')), '') || ':' || l3.line, '-')
       FROM warnings w LEFT JOIN tasks t ON t.id = w.task LEFT JOIN tasks t2 ON t2.id = w.task2
       LEFT JOIN locations l ON l.id = w.loc LEFT JOIN locations l2 ON l2.id = w.loc2
       LEFT JOIN locations l3 ON l3.id = w.cause_loc
       WHERE w.kind = '$1'" | LC_ALL=C sort
}
f=warn_diag3.c
d3() { echo "$f:$(line_of "$1" $f)"; }

# A queue that grows without bound: the put site, rates, depth at the end, consumers.
run d3_queue -- warn_diag3 queue
left=$(sed -n 's/^left //p' "$tmp/d3_queue.out")
check "d3_queue: warning kinds" "$(kinds)" "queue_growth=1"
check "d3_queue: row (producer, a consumer, the put site)" "$(crow queue_growth)" "producer|consumer|$(d3 QG_PUT)|-|-"
check "d3_queue: the queue" "$(wres queue_growth producer)" "queue:jobs"
check "d3_queue: thousands left" "$([ "${left:-0}" -ge 1000 ] && echo yes)" yes
check "d3_queue: depth at the end, rates, consumers in the message" \
    "$(wcol queue_growth producer message | grep -c "to $left items at the end: [0-9]* puts/s in (put at $(d3 QG_PUT), by 'producer' (#2)), [0-9]* gets/s out by 1 consumer 'consumer' (#3)")" 1
check "d3_queue: lasted at least sustain_ms" "$(wcol queue_growth producer 'dur >= 1000000000')" 1

# libuv's pool: the dns lookup waits behind four file opens.
run d3_pool -- warn_diag3 pool
check "d3_pool: warning kinds" "$(kinds)" "thread_pool_starved=1"
check "d3_pool: row (the lookup waited, the file work held)" "$(crow thread_pool_starved)" "health|reader|$(d3 PS_DNS)|$(d3 PS_FILE)|-"
check "d3_pool: kinds named" \
    "$(wcol thread_pool_starved health message | grep -c "^dns work queued by task 'health' .* held by 4 file jobs from $(d3 PS_FILE)")" 1
check "d3_pool: every pool request recorded with its kind (1 dns, 4 opens + 4 closes)" \
    "$(q "SELECT group_concat(k || '=' || n, ' ') FROM (SELECT arg k, COUNT(*) n FROM events WHERE kind = 'work_queued' GROUP BY arg ORDER BY arg)")" \
    "1=1 2=8"
check "d3_pool: each started and done on a pool thread" \
    "$(q "SELECT COUNT(*) FROM spans WHERE kind = 'work' AND open = 0")" 9

# A hot failure loop: the site, the error, the rate, the CPU.  The slow
# step threshold is out of the way: a loaded machine (or make check's
# sanitizers) stalls the spin now and then, which is not what is checked.
run d3_spin --slow-ms 10000 -- warn_diag3 spin
check "d3_spin: warning kinds" "$(kinds)" "failure_loop=1"
check "d3_spin: row (the task, the connect line)" "$(crow failure_loop)" "spinner|-|$(d3 FL_CONNECT)|-|-"
check "d3_spin: error, rate and CPU in the message" \
    "$(wcol failure_loop spinner message | grep -c "failed [0-9]* times in [0-9.]* s at $(d3 FL_CONNECT) ([0-9]* a second), .* with -111 (connection refused); its own steps ran [0-9.]* ms")" 1
check "d3_spin: at least fail_rate a second for sustain_ms" \
    "$(q "SELECT dur >= 1000000000 FROM warnings WHERE kind = 'failure_loop'")" 1

# A process kept alive by talking to itself: the run ends, the story names both ends.
run d3_selftalk -- warn_diag3 selftalk
check "d3_selftalk: co_run returned -EDEADLK" "$(grep -c 'main returned -35' "$tmp/d3_selftalk.out")" 1
check "d3_selftalk: warning kinds" "$(kinds)" "all_asleep=1"
check "d3_selftalk: row (main, server, the read, caused by the other end's connect)" "$(crow all_asleep)" \
    "main|server|$(d3 ST_MAIN)|$(d3 ST_READ)|$(d3 ST_CONNECT)"
check "d3_selftalk: both ends and their lines" \
    "$(wcol all_asleep main message | grep -c "waits for a read: connection 127.0.0.1:[0-9]* -> 127.0.0.1:[0-9]* (#[0-9]*, made at $(d3 ST_ACCEPT)), whose other end (#[0-9]*, 127.0.0.1:[0-9]* -> 127.0.0.1:[0-9]*, made at $(d3 ST_CONNECT) by 'client' (#3)) is this process's own")" 1
check "d3_selftalk: the writer is asleep too" \
    "$(wcol all_asleep main message | grep -c "'client' (#3), is asleep too, which waits for event 'never'")" 1
check "d3_selftalk: endpoints paired (view connections)" \
    "$(q "SELECT COUNT(*) FROM connections c JOIN endpoints e ON e.resource = c.peer_resource WHERE c.local = e.peer")" 2
has "d3_selftalk: stderr tells it" "$tmp/d3_selftalk.err" "whose other end"

# The line that caused it.
run d3_lockleak -- warn_diag3 lockleak
check "d3_lockleak: warning kinds" "$(kinds)" "all_asleep=1"
check "d3_lockleak: caused at the acquire never released" "$(crow all_asleep)" "main|-|$(d3 CL_WAIT)|-|$(d3 CL_ACQ)"
check "d3_lockleak: the holder and where it ended" \
    "$(wcol all_asleep main message | grep -c "its holder 'worker' (#2) took it at $(d3 CL_ACQ) and ended (failed, after $f:$(($(line_of CL_ACQ $f) + 1))) without releasing it (caused at $(d3 CL_ACQ))")" 1
run d3_semleak -- warn_diag3 semleak
check "d3_semleak: caused at the unit's acquire" "$(crow all_asleep)" "main|worker|$(d3 CS_WAIT)|-|$(d3 CS_ACQ)"
check "d3_semleak: which task took the unit and where it ended" \
    "$(wcol all_asleep main message | grep -c "a unit never came back: 'worker' (#2) took one at $(d3 CS_ACQ) and ended (returned, after $f:$(($(line_of CS_ACQ $f) + 1)))")" 1
run d3_condlost -- warn_diag3 condlost
check "d3_condlost: caused at the wait that got the dropped wakeup" "$(crow all_asleep | cut -d'|' -f1,2,4,5)" \
    "main|waiter 2|$(d3 CD_WAIT)|$(d3 CD_WAIT)"
check "d3_condlost: the waiter woken then cancelled" \
    "$(wcol all_asleep main message | grep -c "the wakeup went to 'waiter 1' (#2), woken at $(d3 CD_WAIT) and cancelled by 'main' (#1) before it used it")" 1
run d3_waitfor -- warn_diag3 waitfor
check "d3_waitfor: warning kinds" "$(kinds)" "all_asleep=1 lock_held_across_await=1"
check "d3_waitfor: caused at the co_wait_for whose timeout left the lock held" "$(crow all_asleep)" \
    "main|-|$(d3 WF_LOCK)|-|$(d3 WF_WAITFOR)"
"$coscope" report "$db" > "$tmp/d3_waitfor.report" 2>&1
has "d3_waitfor: report says waiting at" "$tmp/d3_waitfor.report" "waiting at tests/tracer/progs/$(d3 WF_LOCK)"
has "d3_waitfor: report says caused at" "$tmp/d3_waitfor.report" "caused at  tests/tracer/progs/$(d3 WF_WAITFOR)"

# No false alarms: healthy programs of the same kinds raise no warning at all.
for mode in backpressure sempool backoff burst pool keepalive condcancel timeoutclean threads group; do
    run "clean2_$mode" -- warn_clean2 "$mode"
    check "clean2_$mode: program outcome" "$(cat "$tmp/clean2_$mode.out")" ok
    check "clean2_$mode: no warnings" "$(kinds)" ""
done
check "clean2_burst: the queue did fill before it drained" \
    "$(sqlite3 -batch -noheader "$tmp/clean2_burst.db" "SELECT MAX(max_depth) >= 1000 FROM resource_stats")" 1

[ "$skip" -gt 0 ] && echo "warnings: $skip checks skipped (known bugs, see the SKIP lines)"
echo "warnings: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
