#!/bin/sh
# SPDX-License-Identifier: MIT
# e2e.sh -- end-to-end tests of the tracer: run the real `coscope run` on the
# programs in tests/tracer/progs and check the trace with SQL.
#
#   - tasks: every task with its name and parent; each await points at the
#     object or task waited on and at the source line of the co_* call (found
#     with grep -n on the program, so editing it cannot silently break the
#     test); as many 'step' spans as the program counted; exit status passed
#     through; the program's stdout untouched; the default output name; a
#     trace whose build was cut short is rebuilt identically by `coscope info`.
#   - crash: the program records co_mark("marker-before-crash") and then is
#     SIGKILLed, segfaults, aborts or overflows its stack: the marker and all
#     before it are in the trace, meta says how it ended, the status is 128+N.
#     A run with more events than a ring holds checks nothing is lost while
#     the recorder drains a live program.
#   - bad input: one line on stderr, nothing on stdout and a non-zero status
#     for no program, bad options, a program not found (or a directory), an
#     unwritable output and an existing output; then --force.
#
# Run by `make test` from the top directory; BUILD names the build directory
# (default build).  Prints a line per failure and exits non-zero if any.
cd "$(dirname "$0")/../.." || exit 1
build=${BUILD:-build}
[ -d "$build" ] || { echo "e2e: no build directory $build (make test builds it)"; exit 1; }
build=$(cd "$build" && pwd)
coscope=$build/coscope
progs=$build/tests/tracer/progs
src=tests/tracer/progs
# Under `make check` the programs carry ASan: let signals kill them as they
# would without it, and keep leak reports from changing exit statuses.
ASAN_OPTIONS=${ASAN_OPTIONS:-handle_segv=0:handle_sigbus=0:handle_abort=0:detect_leaks=0}
export ASAN_OPTIONS

for f in "$coscope" "$progs/tasks" "$progs/crash"; do
    [ -x "$f" ] || { echo "e2e: $f is missing (make test builds it)"; exit 1; }
done
command -v sqlite3 >/dev/null || { echo "e2e: the sqlite3 shell is missing (make deps)"; exit 1; }

tmp=$(mktemp -d /tmp/coscope-e2e-XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

# check WHAT ACTUAL EXPECTED
check() {
    if [ "$2" = "$3" ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "e2e: FAIL: $1: got '$2', expected '$3'"
    fi
}
# q SQL: one query against $db.
q() { sqlite3 -batch -noheader "$db" "$1" 2>&1; }
meta() { q "SELECT value FROM meta WHERE key = '$1'"; }
# line_of MARKER FILE: the line of the only line of FILE carrying MARKER.
line_of() {
    n=$(grep -cw "$1" "$src/$2")
    [ "$n" = 1 ] || { echo "e2e: marker $1 found $n times in $src/$2" >&2; echo 0; return; }
    grep -nw "$1" "$src/$2" | cut -d: -f1
}
# one_line WHAT STDOUT_FILE STDERR_FILE: a refusal is one line on stderr, nothing on stdout.
one_line() {
    check "$1: lines on stderr" "$(wc -l < "$3" | tr -d ' ')" 1
    check "$1: stdout" "$(cat "$2")" ""
}

# ---- tasks: names, parents, awaits, steps, exit status ----------------------

db=$tmp/tasks.db
"$coscope" run -o "$db" -- "$progs/tasks" 3 > "$tmp/tasks.out" 2> "$tmp/tasks.err"
check "tasks: exit status passed through" $? 3
check "tasks: ended" "$(meta ended)" exit
check "tasks: exit_code" "$(meta exit_code)" 3
check "tasks: lost" "$(meta lost)" 0
check "tasks: built" "$(meta built)" 1

ntasks=0
while read -r what name id parent; do
    case $what in
    task)
        ntasks=$((ntasks + 1))
        eval "task_$(echo "$name" | tr -- '-' '_')=$id"
        # The main task has no parent: NULL in the table, 0 in the output.
        check "task $name: name and parent" "$(q "SELECT name || ' ' || COALESCE(parent, 0) FROM tasks WHERE id = $id")" \
              "$name $parent"
        check "task $name: state" "$(q "SELECT state FROM tasks WHERE id = $id")" done ;;
    res) eval "res_$name=$id" ;;
    resumes) resumes=$name ;;
    esac
done < "$tmp/tasks.out"
check "tasks: every task recorded" "$(q 'SELECT COUNT(*) FROM tasks')" "$ntasks"
check "tasks: the program ran" "$ntasks" 9

# await TASK WAIT RESOURCE MARKER: exactly one await span of TASK, of kind
# WAIT, on RESOURCE (an id, or NULL), from the line carrying MARKER.
nawaits=0
await() {
    nawaits=$((nawaits + 1))
    line=$(line_of "$4" tasks.c)
    check "await $4 ($2 at line $line)" "$(q "SELECT COUNT(*) FROM awaits s JOIN locations l ON l.id = s.loc
        WHERE s.task = $1 AND s.wait = '$2' AND s.resource IS $3
          AND l.line = $line AND l.file LIKE '%progs/tasks.c'")" 1
}
await "$task_locker" lock "$res_lock" AWAIT_LOCK
await "$task_evwaiter" event "$res_event" AWAIT_EVENT
await "$task_semwaiter" semaphore "$res_semaphore" AWAIT_SEM
await "$task_qgetter" queue_get "$res_queue" AWAIT_QUEUE
await "$task_grandchild" sleep NULL AWAIT_SLEEP
await "$task_parent_task" task "$task_grandchild" AWAIT_GRANDCHILD
await "$task_main" task "$task_evwaiter" AWAIT_TASK
await "$task_main" task "$task_parent_task" AWAIT_LOOP
await "$task_main" yield NULL AWAIT_MAIN_YIELD
await "$task_holder" yield NULL AWAIT_YIELD
await "$task_setter_1" yield NULL AWAIT_SETTER_YIELD
# The objects awaited are known resources of the right kind (an await's
# resource is a task id for task waits, so the join needs the kind).
for r in lock event semaphore queue; do
    eval "id=\$res_$r"
    check "resource $r: kind" "$(q "SELECT kind LIKE '$r%' FROM resources WHERE id = $id")" 1
done
check "lock: two holds, both released" "$(q "SELECT COUNT(*), SUM(open) FROM spans WHERE kind = 'hold' AND resource = $res_lock")" "2|0"
check "tasks: no other awaits" "$(q "SELECT COUNT(*) FROM awaits")" "$nawaits"
check "tasks: step spans = resumes counted" "$(q "SELECT COUNT(*) FROM spans WHERE kind = 'step'")" "$resumes"
check "tasks: steps per task add up" "$(q 'SELECT SUM(steps) FROM tasks')" "$resumes"
check "tasks: log line" "$(q "SELECT COUNT(*) FROM events e JOIN strings s ON s.id = e.resource
    WHERE e.kind = 'log' AND s.text = 'all 7 children done' AND e.task = $task_main")" 1
check "tasks: summary on stderr" "$(grep -c '^coscope: trace in' "$tmp/tasks.err")" 1

# A build cut short (recorder killed while finishing) leaves meta 'built'
# unset; the next command on the trace must redo the tables identically.
spans_digest() { q "SELECT COUNT(*), SUM(id * 31 + start % 1000003 + dur + COALESCE(resource, 7) + task) FROM spans"; }
before="$(spans_digest) $(q 'SELECT COUNT(*) FROM events') $(q 'SELECT COUNT(*) FROM tasks')"
q "DELETE FROM meta WHERE key = 'built'; DELETE FROM spans WHERE id % 2 = 0; DELETE FROM tasks WHERE id = $task_main"
"$coscope" info "$db" > /dev/null 2> "$tmp/info.err"
check "rebuild: coscope info" $? 0
check "rebuild: tables as before" "$(spans_digest) $(q 'SELECT COUNT(*) FROM events') $(q 'SELECT COUNT(*) FROM tasks')" "$before"
check "rebuild: built" "$(meta built)" 1

# Without -o: coscope-PROGRAM-DATE.db in the current directory.
mkdir "$tmp/cwd"
(cd "$tmp/cwd" && "$coscope" run -- "$progs/tasks" > /dev/null 2>&1)
check "exit status 0 passed through" $? 0
db=$(ls "$tmp"/cwd/coscope-tasks-*.db 2>/dev/null)
check "default output name" "$(echo "$db" | wc -w | tr -d ' ')" 1
check "exit status 0: exit_code" "$(meta exit_code)" 0

# ---- crashes: everything up to the marker survives ----------------------------

# crash MODE SIGNAL [YIELDS]
crash() {
    db=$tmp/crash-$1${3:+-$3}.db
    "$coscope" run -o "$db" -- "$progs/crash" "$1" $3 > /dev/null 2> "$tmp/crash-$1.err"
    check "crash $1: status" $? $((128 + $2))
    check "crash $1: ended" "$(meta ended)" signal
    check "crash $1: signal" "$(meta signal)" "$2"
    check "crash $1: lost" "$(meta lost)" 0
    check "crash $1: marker" "$(q "SELECT COUNT(*) FROM events e JOIN strings s ON s.id = e.resource
        WHERE e.kind = 'mark' AND s.text = 'marker-before-crash'")" 1
    # Nothing happened between the marker and the crash: it is the last event
    # of its thread but for what the fault handler wrote (the stack at the
    # fault and the crash warning), so everything before it was kept.
    check "crash $1: marker is the last event" "$(q "SELECT kind FROM all_events WHERE ring =
        (SELECT ring FROM events WHERE kind = 'mark') AND kind NOT IN ('stack', 'warning')
        ORDER BY ts DESC, id DESC LIMIT 1")" mark
    # A signal the handler sees (not SIGKILL) is a crash warning: a fault,
    # and abort()'s SIGABRT (a failed assert), named with its signal.
    check "crash $1: crash warnings" "$(q "SELECT COUNT(*) FROM warnings WHERE kind = 'crash'")" \
          "$([ "$2" = 9 ] && echo 0 || echo 1)"
    check "crash $1: every log line" "$(q "SELECT COUNT(*) FROM events WHERE kind = 'log'")" 300
    check "crash $1: workers done, main cut short" \
          "$(q "SELECT COUNT(*), SUM(state = 'done'), SUM(name = 'main' AND state <> 'done') FROM tasks")" "4|3|1"
    check "crash $1: events counted = events in the table" "$(q 'SELECT COUNT(*) FROM all_events')" "$(meta events)"
}
crash kill 9
crash segv 11
crash abort 6
crash overflow 11
check "crash overflow: reported" "$(grep -c 'stack overflow in task' "$tmp/crash-overflow.err")" 1
# 2 events per yield: more than a ring holds (2^18), so the recorder drains
# the rings while the program runs; nothing may be lost.
crash kill 9 150000
check "crash kill, 300000 events: every yield" "$(q "SELECT COUNT(*) FROM awaits s JOIN tasks t ON t.id = s.task
    WHERE t.name = 'main' AND s.wait = 'yield'")" 150000

# ---- bad input ------------------------------------------------------------------

"$coscope" run > "$tmp/o" 2> "$tmp/e"
check "no program: status" $? 2
one_line "no program" "$tmp/o" "$tmp/e"
"$coscope" run -o "$tmp/x.db" -- > "$tmp/o" 2> "$tmp/e"
check "no program after --: status" $? 2
one_line "no program after --" "$tmp/o" "$tmp/e"

"$coscope" run --bogus -o "$tmp/x.db" -- "$progs/tasks" > "$tmp/o" 2> "$tmp/e"
check "unknown option: status" $? 2
one_line "unknown option" "$tmp/o" "$tmp/e"
"$coscope" run --slow-ms soon -o "$tmp/x.db" -- "$progs/tasks" > "$tmp/o" 2> "$tmp/e"
check "bad --slow-ms: status" $? 2
one_line "bad --slow-ms" "$tmp/o" "$tmp/e"
check "refusals leave no trace" "$(ls "$tmp/x.db" 2>/dev/null)" ""

"$coscope" run -o "$tmp/nf.db" -- "$tmp/no-such-program" > "$tmp/o" 2> "$tmp/e"
check "program not found: status" $? 127
one_line "program not found" "$tmp/o" "$tmp/e"
check "program not found: no trace left" "$(ls "$tmp/nf.db" 2>/dev/null)" ""
"$coscope" run -o "$tmp/nf.db" -- no-such-program-in-path > "$tmp/o" 2> "$tmp/e"
check "program not in PATH: status" $? 127
one_line "program not in PATH" "$tmp/o" "$tmp/e"
"$coscope" run -o "$tmp/nf.db" -- "$tmp" > "$tmp/o" 2> "$tmp/e"
check "program is a directory: status" $? 127
one_line "program is a directory" "$tmp/o" "$tmp/e"

# root writes anywhere a mode allows; /sys refuses even root.
if [ "$(id -u)" = 0 ]; then
    out=/sys/coscope-e2e.db
else
    mkdir "$tmp/ro" && chmod 555 "$tmp/ro"
    out=$tmp/ro/trace.db
fi
"$coscope" run -o "$out" -- "$progs/tasks" > "$tmp/o" 2> "$tmp/e"
check "unwritable output: status" $? 2
one_line "unwritable output (the program must not run)" "$tmp/o" "$tmp/e"

echo keep > "$tmp/exists.db"
"$coscope" run -o "$tmp/exists.db" -- "$progs/tasks" > "$tmp/o" 2> "$tmp/e"
check "existing output: status" $? 2
one_line "existing output" "$tmp/o" "$tmp/e"
check "existing output: mentions --force" "$(grep -c -- '--force' "$tmp/e")" 1
check "existing output: untouched" "$(cat "$tmp/exists.db")" keep
"$coscope" run --force -o "$tmp/exists.db" -- "$progs/tasks" > /dev/null 2>&1
check "--force: status" $? 0
db=$tmp/exists.db
check "--force: a trace now" "$(meta ended)" exit

echo "e2e: $pass checks passed, $fail failed"
[ "$fail" -eq 0 ]
