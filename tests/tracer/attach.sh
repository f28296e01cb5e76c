#!/bin/sh
# SPDX-License-Identifier: MIT
# attach.sh -- `coscope attach PID` on running programs:
#
#   - hang (tests/tracer/progs/ps_target.c, deadlocked/hung on a lock, an
#     event, a queue, a semaphore and a gather): attach for a moment; the
#     trace's rows from the snapshot put every task at its await, with its
#     kind, resource and line (the PS_* markers), the lock's holder holds it
#     (an open hold span), the spawn sites are there, meta.ended is
#     'detached', and the program runs on unharmed;
#   - a second attach while one is active: refused, one line;
#   - refusals, one line each: not a coscope process (sleep), no such
#     process, attach disabled (COSCOPE_ATTACH_SIGNAL=0), a program under
#     `coscope run` (records already), permission denied (as nobody; skipped
#     when not root or setpriv is missing);
#   - a killed coscope (SIGKILL mid-attachment): the program runs on, and
#     has stopped recording (the next attach is accepted);
#   - a busy TCP echo server (progs/attach_echo.c: a server loop and a
#     client loop on two threads, every echo checked): attached and
#     detached ATTACH_LOOPS times (default 100, about 30 s), each trace
#     complete (a snapshot per loop, no resume without its await, nothing
#     lost, finished), then no request lost and every client ended.
#
# Run by `make test` from the top directory; BUILD names the build directory.
cd "$(dirname "$0")/../.." || exit 1
suite=attach
. tests/tracer/lib_proc.sh
echo_prog=$build/tests/tracer/progs/attach_echo
loops=${ATTACH_LOOPS:-100}
q() { sqlite3 -batch -noheader -separator '|' "$1" "$2"; }
eq() { # label got want
    if [ "$2" = "$3" ]; then ok; else no "$1: got '$2', want '$3'"; fi
}

refused() { # label pattern cmd...: non-zero, exactly one line matching
    label=$1 pat=$2; shift 2
    "$@" > "$tmp/out" 2> "$tmp/err"
    rc=$?
    if [ $rc -ne 0 ] && [ "$(wc -l < "$tmp/err")" -eq 1 ] && grep -q -- "$pat" "$tmp/err"; then ok
    else no "$label: status $rc, stderr:"; sed 's/^/    /' "$tmp/err"; fi
}

# ---- hang: the snapshot's rows --------------------------------------------------
if start hang "$target" hang; then
    p=$pid db=$tmp/hang.db
    "$coscope" attach $p -o "$db" --for 300ms > "$tmp/a.out" 2> "$tmp/a.err" && ok || { no "attach hang: status $?"; cat "$tmp/a.err"; }
    # Each task at its await: kind, resource name, line, from the snapshot's time on, open.
    awaits="SELECT t.name, s.wait, COALESCE(r.name, ''), l.line, s.open FROM spans s JOIN tasks t ON t.id = s.task
            JOIN locations l ON l.id = s.end_loc LEFT JOIN resources r ON r.id = s.resource
            WHERE s.kind = 'step' ORDER BY t.id"
    q "$db" "$awaits" > "$tmp/awaits"
    for want in "main|tasks||$(line PS_MAIN_GATHER)|1" "holder|event|never_set|$(line PS_HOLDER_WAIT)|1" \
                "taker|sleep||$(line PS_TAKER_WAIT)|1" "blocked|lock|db_lock|$(line PS_BLOCKED_WAIT)|1" \
                "consumer|queue_get|jobs|$(line PS_CONSUMER_WAIT)|1" "sem_waiter|semaphore|slots|$(line PS_SEM_WAIT)|1"; do
        if grep -qx -- "$want" "$tmp/awaits"; then ok; else no "hang: no step row '$want' in:"; sed 's/^/    /' "$tmp/awaits"; fi
    done
    eq "hang: lock holder" "$(q "$db" "SELECT t.name FROM spans s JOIN tasks t ON t.id = s.task JOIN resources r ON r.id = s.resource
                                    WHERE s.kind = 'hold' AND r.name = 'db_lock' AND s.open = 1")" "holder"
    eq "hang: tasks from the snapshot, with spawn sites" \
       "$(q "$db" "SELECT COUNT(*), COUNT(spawn_loc), SUM(parent = 1) FROM tasks")" "6|6|5"
    eq "hang: semaphore value and last taker" \
       "$(q "$db" "SELECT e.arg & 72057594037927935, t.name FROM events e JOIN resources r ON r.id = e.resource
                   JOIN tasks t ON t.id = e.task WHERE e.kind = 'snapshot_value' AND r.name = 'slots'")" "0|taker"
    eq "hang: queue depth" "$(q "$db" "SELECT e.arg & 72057594037927935 FROM events e JOIN resources r ON r.id = e.resource
                                       WHERE e.kind = 'snapshot_value' AND r.name = 'jobs'")" "0"
    eq "hang: ended" "$(q "$db" "SELECT value FROM meta WHERE key = 'ended'")" "detached"
    alive "hang after detach" $p

    # A second attach while one is active.
    "$coscope" attach $p -o "$tmp/first.db" --for 3s > /dev/null 2> "$tmp/first.err" &
    first=$!
    sleep 0.5
    refused "second attach" "already" "$coscope" attach $p -o "$tmp/second.db"
    wait $first && ok || { no "first attach: status $?"; cat "$tmp/first.err"; }

    # A killed coscope: the program runs on and stops recording by itself.
    "$coscope" attach $p -o "$tmp/killed.db" > /dev/null 2>&1 &
    k=$!
    sleep 0.5
    kill -9 $k
    wait $k 2> /dev/null
    sleep 0.2
    alive "after a killed coscope" $p
    "$coscope" attach $p -o "$tmp/again.db" --for 100ms > /dev/null 2> "$tmp/again.err" && ok ||
        { no "attach after a killed coscope: status $?"; cat "$tmp/again.err"; }
    eq "attach after a killed coscope: snapshot" "$(q "$tmp/again.db" "SELECT COUNT(*) FROM tasks")" "6"
    kill -9 $p
fi

# ---- refusals -----------------------------------------------------------------
sleep 30 &
s=$!; pids="$pids $s"
refused "not coscope" "does not use coscope" "$coscope" attach $s
kill -9 $s
refused "no process" "no process 999999999" "$coscope" attach 999999999
if start disabled env COSCOPE_ATTACH_SIGNAL=0 "$target" hang; then
    refused "disabled" "no attach signal armed" "$coscope" attach $pid
    kill -9 $pid
fi
if start underrun "$coscope" run -o "$tmp/run.db" -- "$target" hang; then
    child=$(pgrep -P $pid | head -1)
    refused "under coscope run" "records already" "$coscope" attach $child -o "$tmp/x.db"
    kill -9 $child
fi
if [ "$(id -u)" = 0 ] && command -v setpriv > /dev/null && \
   setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$coscope" 2> /dev/null; then
    if start perm "$target" hang; then
        refused "permission denied" "not allowed to read process $pid" \
            setpriv --reuid=65534 --regid=65534 --clear-groups "$coscope" attach $pid -o /tmp/coscope-attach-perm-$$.db
        alive "refused attach" $pid
        kill -9 $pid
    fi
else
    skip=$((skip + 1)); echo "SKIP: permission denied (needs root and setpriv, and $coscope executable by nobody)"
fi

# ---- a program that ends while attached -----------------------------------------
# Its parent does not reap it at once (here: never, a `sleep`), as a busy
# supervisor would not: the zombie is a program that ended, not one that let go.
if start ends sh -c '"$1" "$2" 2 & exec sleep 60' sh "$echo_prog" "$tmp/stop_ends"; then
    child=$(pgrep -P $pid | head -1)
    "$coscope" attach $child -o "$tmp/ends.db" --for 30s > /dev/null 2> "$tmp/ends.err" &
    a=$!
    i=0; while [ ! -e "$tmp/ends.db" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    sleep 0.3
    touch "$tmp/stop_ends"
    wait $a && ok || { no "attach, program ends: status $?"; cat "$tmp/ends.err"; }
    grep -q "the program ended while attached" "$tmp/ends.err" && ok || { no "attach, program ends: said"; cat "$tmp/ends.err"; }
    eq "attach, program ends: ended" "$(q "$tmp/ends.db" "SELECT value FROM meta WHERE key = 'ended'")" "vanished"
    kill -9 $pid
fi

# ---- a busy echo server, attached and detached $loops times ---------------------
if start echo "$echo_prog" "$tmp/stop" 8; then
    p=$pid bad=0 t0=$(date +%s)
    i=0
    while [ $i -lt $loops ]; do
        i=$((i + 1))
        db=$tmp/echo.db
        # 200 ms: time for the second loop's thread to wake and write its
        # snapshot even on a loaded machine (50 ms missed it now and then).
        if ! "$coscope" attach $p -o "$db" -f --for 200ms > /dev/null 2> "$tmp/e.err"; then
            bad=$((bad + 1)); no "echo attach $i: status $?"; cat "$tmp/e.err"; continue
        fi
        # Complete: a snapshot per loop, every resume after its await, nothing lost, finished, detached.
        got=$(q "$db" "SELECT (SELECT COUNT(*) FROM events WHERE kind = 'snapshot_begin'),
                              (SELECT COUNT(*) FROM events WHERE kind = 'resume'),
                              (SELECT value FROM meta WHERE key = 'lost'), (SELECT value FROM meta WHERE key = 'complete'),
                              (SELECT value FROM meta WHERE key = 'ended'), (SELECT COUNT(*) > 0 FROM spans WHERE kind = 'step')")
        [ "$got" = "2|0|0|1|detached|1" ] || { bad=$((bad + 1)); no "echo attach $i: trace not complete: $got"; }
    done
    [ $bad -eq 0 ] && ok
    echo "attach: $loops attach/detach cycles on the echo server in $(( $(date +%s) - t0 )) s"
    alive "echo after $loops attaches" $p
    touch "$tmp/stop"
    wait $p && ok || { no "echo server: status $? (a request lost or a client stuck)"; cat "$tmp/echo.err"; }
    grep "rounds=" "$tmp/echo.out"
    grep -q "errors=0 ended=8" "$tmp/echo.out" && ok || no "echo: $(cat "$tmp/echo.out")"
fi

echo "attach: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
