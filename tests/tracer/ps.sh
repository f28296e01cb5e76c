#!/bin/sh
# SPDX-License-Identifier: MIT
# ps.sh -- `coscope ps PID` and `coscope tree PID` on running programs
# (tests/tracer/progs/ps_target.c), read from outside:
#
#   - hang: tasks waiting forever on a lock, an event, a queue, a semaphore
#     and a gather, in debug mode: each task's await, resource and line
#     (found with grep -n on the PS_* markers), since when, the lock's
#     holder and the semaphore's last taker; tree marks them asleep and
#     draws the chain through the lock's holder; the process runs on after;
#   - read: the loop's thread blocked in read() inside a task;
#   - spin: a task in a busy loop; --no-pause too;
#   - the same program linked with libcoscope.so, and a stripped copy;
#   - --json of both commands checked with python3's json module;
#   - refusals, one line and a non-zero exit: not a coscope process
#     (sleep), no such process, a layout version this coscope does not
#     know and a damaged table (small C programs exporting such a table),
#     permission denied (coscope run as nobody on root's process; skipped
#     when not root or setpriv is missing).
#
# Run by `make test` from the top directory; BUILD names the build directory.
cd "$(dirname "$0")/../.." || exit 1
suite=ps
. tests/tracer/lib_proc.sh
has() { # label file pattern
    if grep -q -- "$3" "$2"; then ok; else no "$1: no '$3' in:"; sed 's/^/    /' "$2"; fi
}

json_ok() { # label file
    if python3 -m json.tool "$2" > /dev/null 2>&1; then ok; else no "$1: not JSON"; head -c 600 "$2"; echo; fi
}

# ---- hang ---------------------------------------------------------------------
if start hang env CO_DEBUG=1 CO_SLOW_MS=-1 "$target" hang; then
    p=$pid
    "$coscope" ps $p > "$tmp/ps" 2> "$tmp/ps.err" && ok || { no "ps hang exited $?"; cat "$tmp/ps.err"; }
    has "ps hang: holder" "$tmp/ps" "holder .*waiting .*event '&never_set' #[0-9]* at progs/ps_target.c:$(line PS_HOLDER_WAIT)"
    has "ps hang: blocked" "$tmp/ps" "blocked .*lock '&db_lock' #[0-9]* at progs/ps_target.c:$(line PS_BLOCKED_WAIT) .*held by holder #2"
    has "ps hang: consumer" "$tmp/ps" "consumer .*queue_get '&jobs' #[0-9]* (0 items) at progs/ps_target.c:$(line PS_CONSUMER_WAIT)"
    has "ps hang: sem" "$tmp/ps" "sem_waiter .*semaphore '&slots' #[0-9]* (value 0) at progs/ps_target.c:$(line PS_SEM_WAIT) .*last taken by taker #3"
    has "ps hang: taker" "$tmp/ps" "taker .*sleep (forever) at progs/ps_target.c:$(line PS_TAKER_WAIT)"
    has "ps hang: main" "$tmp/ps" "main .*tasks (5 unended) at progs/ps_target.c:$(line PS_MAIN_GATHER)"
    has "ps hang: since (debug mode)" "$tmp/ps" "blocked .* [0-9]*\.[0-9]s "
    has "ps hang: spawn site" "$tmp/ps" "holder .*progs/ps_target.c:[0-9]"
    has "ps hang: loop" "$tmp/ps" "loop 0  thread $p  6 tasks  in libuv"
    alive "ps hang" $p
    "$coscope" tree $p > "$tmp/tree" 2>&1 && ok || no "tree hang exited $?"
    has "tree hang: nothing can run" "$tmp/tree" "every waiting task is asleep"
    has "tree hang: holder asleep" "$tmp/tree" "├─ holder #2  event '&never_set' #[0-9]* at progs/ps_target.c:$(line PS_HOLDER_WAIT)  \[asleep: nothing can wake it\]"
    has "tree hang: chain" "$tmp/tree" "blocked #4 (lock '&db_lock' #[0-9]* at progs/ps_target.c:$(line PS_BLOCKED_WAIT)) -> held by holder #2 (event '&never_set'"
    has "tree hang: no cycle" "$tmp/tree" "no await cycles"
    "$coscope" ps $p --json > "$tmp/ps.json" && json_ok "ps --json" "$tmp/ps.json"
    "$coscope" tree $p --json > "$tmp/tree.json" && json_ok "tree --json" "$tmp/tree.json"
    if python3 - "$tmp/ps.json" "$tmp/tree.json" "$(line PS_BLOCKED_WAIT)" <<'PY'
import json, sys
ps = json.load(open(sys.argv[1])); tree = json.load(open(sys.argv[2])); line = int(sys.argv[3])
by = {t["name"]: t for t in ps["tasks"]}
b = by["blocked"]["awaits"]
assert ps["paused"] and ps["layout_version"] == 1 and len(ps["loops"]) == 1, ps["loops"]
assert b["kind"] == "lock" and b["resource"]["name"] == "&db_lock", b
assert b["at"]["line"] == line and b["at"]["file"].endswith("ps_target.c"), b
assert b["holder_task"] == by["holder"]["id"] and b["since_ms"] >= 0, b
assert by["sem_waiter"]["awaits"]["holder_task"] == by["taker"]["id"]
assert by["holder"]["awaited_by"] == by["main"]["id"]
assert tree["cycles"] == [] and all(t["asleep"] for t in tree["tasks"]), tree
t = {x["name"]: x for x in tree["tasks"]}
assert t["blocked"]["waits_for"] == t["holder"]["id"] and t["blocked"]["tree_parent"] == t["main"]["id"]
PY
    then ok; else no "json contents (above)"; fi
    alive "tree hang" $p
fi

# ---- read, spin -----------------------------------------------------------------
for mode in read spin; do
    task=reader; marker=PS_READER_YIELD
    [ $mode = spin ] && { task=spinner; marker=PS_SPINNER_YIELD; }
    start $mode "$target" $mode || continue
    p=$pid
    "$coscope" ps $p > "$tmp/ps" 2>&1 && ok || no "ps $mode exited $?"
    has "ps $mode: loop" "$tmp/ps" "loop 0  thread $p  3 tasks  running task $task #3"
    has "ps $mode: task" "$tmp/ps" "$task .*running .*(last await at progs/ps_target.c:$(line $marker))"
    has "ps $mode: main" "$tmp/ps" "main .*task $task #3 at progs/ps_target.c:$(line PS_MAIN_AWAIT)"
    has "ps $mode: sleeper" "$tmp/ps" "sleeper .*sleep (wakes in [0-9.]* s) at progs/ps_target.c:$(line PS_SLEEPER_WAIT)"
    "$coscope" tree $p > "$tmp/tree" 2>&1 && ok || no "tree $mode exited $?"
    has "tree $mode" "$tmp/tree" "└─ $task #3  running (last await at progs/ps_target.c:$(line $marker))"
    "$coscope" ps $p --no-pause > "$tmp/ps" 2>&1 && ok || no "ps --no-pause $mode exited $?"
    has "ps --no-pause $mode" "$tmp/ps" "(read running"
    has "ps --no-pause $mode: task" "$tmp/ps" "$task .*running"
    alive "ps $mode" $p
    kill -9 $p 2>/dev/null
done

# ---- libcoscope.so, stripped ------------------------------------------------------
# Built as the library was (make check: with the sanitizers, which a
# sanitized libcoscope.so needs its program to carry too).
# shellcheck disable=SC2086
if cc -std=gnu11 ${SANITIZE:-} -Iruntime $(pkg-config --cflags libuv 2>/dev/null) "$src" -o "$tmp/ps_target_so" \
      -L"$build" -lcoscope $(pkg-config --libs libuv 2>/dev/null || echo -luv) -Wl,-rpath,"$build" 2> "$tmp/cc.err"; then
    if start so "$tmp/ps_target_so" hang; then
        "$coscope" ps $pid --json > "$tmp/so.json" 2>&1 && ok || no "ps (shared library) exited $?"
        has "ps (shared library): table in the .so" "$tmp/so.json" '"object":"[^"]*libcoscope.so'
        has "ps (shared library): holder" "$tmp/so.json" '"name":"holder"'
        kill -9 $pid
    fi
else
    no "could not build against libcoscope.so"; cat "$tmp/cc.err"
fi
if command -v strip > /dev/null; then
    strip -o "$tmp/ps_target_stripped" "$target"
    if start stripped "$tmp/ps_target_stripped" hang; then
        "$coscope" ps $pid > "$tmp/ps" 2>&1 && ok || { no "ps (stripped) exited $?"; cat "$tmp/ps"; }
        has "ps (stripped): found through its section" "$tmp/ps" "blocked .*held by holder #2"
        kill -9 $pid
    fi
else
    skip=$((skip + 1)); echo "SKIP: stripped program (no strip)"
fi

# ---- refusals ---------------------------------------------------------------------
refused() { # label pattern coscope-args...
    label=$1; pat=$2; shift 2
    "$coscope" "$@" > "$tmp/out" 2> "$tmp/err"
    rc=$?
    if [ $rc -ne 0 ] && [ "$(wc -l < "$tmp/err")" -eq 1 ] && grep -q -- "$pat" "$tmp/err" && [ ! -s "$tmp/out" ]; then ok
    else no "$label: status $rc, stderr:"; cat "$tmp/err"; fi
}
sleep 30 & pids="$pids $!"; sp=$!
refused "not coscope (ps)" "process $sp does not use coscope" ps $sp
refused "not coscope (tree)" "process $sp does not use coscope" tree $sp --json
refused "no such process" "no process 999999999" ps 999999999
refused "not a pid" "not a process id" ps 12x

for v in 99 1; do
    cat > "$tmp/fake$v.c" <<EOF
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>
/* A table of another layout: version $v, too small for version 1. */
__attribute__((used)) const struct { char magic[8]; uint32_t version, size; } co_debug_offsets = { "coscope\x7f", $v, 16 };
int main(void) { printf("ready\n"); fflush(stdout); pause(); return 0; }
EOF
    cc -o "$tmp/fake$v" "$tmp/fake$v.c" || { no "could not build the fake table"; continue; }
    start fake$v "$tmp/fake$v" || continue
    if [ $v = 99 ]; then
        refused "unknown layout version" "has coscope layout version 99 ($tmp/fake99); this coscope reads version 1" ps $pid
    else
        refused "damaged table" "has a damaged coscope layout table" tree $pid
    fi
    kill -9 $pid
done

if [ "$(id -u)" = 0 ] && command -v setpriv > /dev/null && \
   setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$coscope" 2> /dev/null; then
    start perm "$target" hang && {
        setpriv --reuid=65534 --regid=65534 --clear-groups "$coscope" ps $pid > "$tmp/out" 2> "$tmp/err"
        rc=$?
        if [ $rc -ne 0 ] && [ "$(wc -l < "$tmp/err")" -eq 1 ] && grep -q "not allowed to read process $pid.*CAP_SYS_PTRACE" "$tmp/err"; then ok
        else no "permission denied: status $rc:"; cat "$tmp/err"; fi
        alive "refused read" $pid
        kill -9 $pid
    }
else
    skip=$((skip + 1)); echo "SKIP: permission denied (needs root and setpriv, and $coscope executable by nobody)"
fi

echo "ps: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
