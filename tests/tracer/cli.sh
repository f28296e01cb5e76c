#!/bin/sh
# SPDX-License-Identifier: MIT
# cli.sh -- tests of `coscope report`, `coscope sql` and `coscope export`, run
# as a user would: the real build/coscope on traces that `coscope run` makes
# of tests/tracer/progs/cli_prog.c (lock, semaphore and queue contention,
# parent/children, logs; `slow` adds a slow step, `crash` aborts mid-run).
#
#   - report: the key lines, 100 columns, colour only on a terminal,
#     --fail-on-warnings, --top, a crashed run;
#   - sql: aligned table, --csv, --json, --param, error exit, read-only;
#   - docs/schema.md: every ```sql block runs on real traces, several give
#     the rows the program implies, and the bins query agrees with a scan;
#   - export: valid Chrome Trace Event JSON, checked by
#     tests/tracer/chrome_check.mjs with two consumers from the npm registry
#     (@tracerbench/trace-model, and @paulirish/trace_engine: DevTools'
#     engine); skipped, saying so, without node or npm;
#   - every command: --help, and one clear line with a non-zero status for a
#     missing file, a directory, a non-SQLite file, an empty file, a SQLite
#     file that is not a trace, a newer schema, truncated files, unknown
#     options; an interrupted build is finished, a live trace is left alone.
#
# Run from anywhere; BUILD names the build directory (default build).  Prints
# a line per failure and "N passed, M failed"; exits non-zero on failure.
cd "$(dirname "$0")/../.." || exit 1
build=${BUILD:-build}
[ -d "$build" ] || { echo "cli: no build directory $build (make builds it)"; exit 1; }
build=$(cd "$build" && pwd)
coscope=$build/coscope
[ -x "$coscope" ] || { echo "cli: $coscope is missing (make builds it)"; exit 1; }
command -v sqlite3 >/dev/null || { echo "cli: the sqlite3 shell is missing (make deps)"; exit 1; }
ASAN_OPTIONS=${ASAN_OPTIONS:-handle_segv=0:handle_sigbus=0:handle_abort=0:detect_leaks=0}
export ASAN_OPTIONS

tmp=$(mktemp -d /tmp/coscope-cli-XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
skipped=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "cli: FAIL: $*"; }
# run CMD...: stdout to $out, stderr to $err, status in $rc.
out=$tmp/out
err=$tmp/err
run() { "$@" >"$out" 2>"$err"; rc=$?; }
# expect_rc WHAT WANT
expect_rc() {
    if [ "$rc" = "$2" ]; then ok; else bad "$1: exit status $rc, expected $2 ($(head -c 300 "$err"))"; fi
}
# has WHAT TEXT [FILE]: FILE (default stdout) contains TEXT (fixed string).
has() {
    if grep -qF -- "$2" "${3:-$out}"; then ok; else bad "$1: no '$2' in $(basename "${3:-$out}"): $(head -c 400 "${3:-$out}")"; fi
}
hasnt() {
    if grep -qF -- "$2" "${3:-$out}"; then bad "$1: unexpected '$2'"; else ok; fi
}
# same WHAT GOT WANT
same() {
    if [ "$2" = "$3" ]; then ok; else bad "$1: got '$2', expected '$3'"; fi
}
# one_line_error WHAT: non-zero status, nothing on stdout, one line on stderr.
one_line_error() {
    if [ "$rc" -ne 0 ] && [ ! -s "$out" ] && [ "$(wc -l <"$err")" -eq 1 ]; then ok
    else bad "$1: status $rc, stdout $(wc -c <"$out") bytes, stderr: $(cat "$err")"; fi
}

# ---- the subject program -------------------------------------------------
prog=$build/tests/tracer/progs/cli_prog
if [ ! -x "$prog" ]; then
    # Built by `make test`; by hand when this script runs on its own.
    prog=$tmp/cli_prog
    cc -std=gnu11 -O1 -g -Iruntime tests/tracer/progs/cli_prog.c -o "$prog" "$build/libcoscope.a" \
        $(pkg-config --libs libuv sqlite3) -pthread || { echo "cli: cannot build cli_prog"; exit 1; }
fi

ok_db=$tmp/ok.db
warn_db=$tmp/warn.db
crash_db=$tmp/crash.db
# A generous threshold: the clean run must have no warning even on a slow machine.
run "$coscope" run --slow-ms 1000 -o "$ok_db" -- "$prog"
expect_rc "run ok" 0
run "$coscope" run --slow-ms 20 -o "$warn_db" -- "$prog" slow
expect_rc "run slow" 0
run "$coscope" run -o "$crash_db" -- "$prog" crash
expect_rc "run crash (abort)" 134
for db in "$ok_db" "$warn_db" "$crash_db"; do
    [ -s "$db" ] || { echo "cli: $db was not made; cannot go on"; echo "$pass passed, $((fail + 1)) failed"; exit 1; }
done
q() { sqlite3 -batch -noheader "$1" "$2"; }

# ---- report --------------------------------------------------------------
run "$coscope" report "$ok_db"
expect_rc "report" 0
for s in "coscope report" "program   $prog" "ended     exited with status 0" "duration  " "events    " \
         " 0 lost" "tasks     13 (13 done)" "warnings: none" "busiest tasks" "tasks waiting longest" \
         "lock contention" "db_lock" "pool" "jobs" "worker" "cli_prog.c:104"; do
    has "report ok.db" "$s"
done
same "report: lines fit 100 columns" "$(awk 'length > 100' "$out" | head -3)" ""
same "report: no colour when piped" "$(grep -c "$(printf '\033')" "$out")" 0
same "report: db_lock row" "$(grep -E '^  db_lock +lock +4 +3 ' "$out" | wc -l | tr -d ' ')" 1
run "$coscope" report "$ok_db" --fail-on-warnings
expect_rc "report --fail-on-warnings without warnings" 0

run "$coscope" report "$warn_db"
expect_rc "report with warnings, no flag" 0
has "report warn.db" "slow_step (1)"
has "report warn.db" "task #12 spinner"
has "report warn.db" "without awaiting"
# The slow step is bracketed by the two yields of spinner().
l1=$(grep -n 'co_yield();' tests/tracer/progs/cli_prog.c | head -1 | cut -d: -f1)
l2=$(grep -n 'co_yield();' tests/tracer/progs/cli_prog.c | tail -1 | cut -d: -f1)
has "report warn.db: slow step source lines" "cli_prog.c:$l1 (spinner) -> tests/tracer/progs/cli_prog.c:$l2 (spinner)"
same "report warn.db: lines fit 100 columns" "$(awk 'length > 100' "$out" | head -3)" ""
run "$coscope" report --fail-on-warnings "$warn_db"
expect_rc "report --fail-on-warnings with warnings" 1
has "report --fail-on-warnings still reports" "slow_step"
run "$coscope" report "$warn_db" --top 1
expect_rc "report --top 1" 0
same "report --top 1: one row per table" "$(grep -cE '^ +[0-9]+ [a-z]' "$out")" 2

# Long names, paths and arguments are cut, never wrap the tables.
cp "$warn_db" "$tmp/long.db"
long=$(printf '%080d' 0 | tr 0 x)
sqlite3 "$tmp/long.db" "UPDATE tasks SET name = '$long' || name; UPDATE resources SET name = '$long' || name;
    UPDATE locations SET file = '/a/$long/' || file, func = '$long' || func;
    UPDATE meta SET value = '[\"/p/$long\",\"$long\",\"a b\"]' WHERE key = 'argv';"
run "$coscope" report "$tmp/long.db"
expect_rc "report long names" 0
same "report long names: lines fit 100 columns" "$(awk 'length > 100' "$out" | head -3)" ""

run "$coscope" report "$crash_db"
expect_rc "report crash" 0
has "report crash" "killed by signal 6 (SIGABRT)"
has "report crash" "waiting"

if command -v script >/dev/null; then
    script -qec "'$coscope' report '$warn_db'" /dev/null >"$out" 2>&1
    same "report: colour on a terminal" "$(grep -c "$(printf '\033\\[1m')" "$out" | tr -d ' ' | sed 's/^[1-9][0-9]*$/yes/')" yes
    script -qec "NO_COLOR=1 '$coscope' report '$warn_db'" /dev/null >"$out" 2>&1
    same "report: NO_COLOR" "$(grep -c "$(printf '\033')" "$out")" 0
else
    echo "cli: skip: no script(1), colour on a terminal not checked"
    skipped=$((skipped + 1))
fi

# ---- sql -----------------------------------------------------------------
query="SELECT id, name, parent FROM tasks WHERE name IN ('worker', 'child') ORDER BY id"
run "$coscope" sql "$ok_db" "$query"
expect_rc "sql" 0
cat >"$tmp/want" <<'EOF'
id  name    parent
--  ------  ------
 2  worker       1
 3  worker       1
 4  worker       1
 5  worker       1
12  child       11
13  child       11
(6 rows)
EOF
if cmp -s "$out" "$tmp/want"; then ok; else bad "sql aligned output:"; diff "$tmp/want" "$out" | head -20; fi
run "$coscope" sql "$ok_db" "$query" --csv
expect_rc "sql --csv" 0
same "sql --csv" "$(tr -d '\r' <"$out" | head -3 | tr '\n' '|')" "id,name,parent|2,worker,1|3,worker,1|"
same "sql --csv: CRLF records" "$(grep -c "$(printf '\r')\$" "$out")" 7
run "$coscope" sql "$ok_db" "SELECT 'a,b' AS x, 'say \"hi\"' AS y, NULL AS z" --csv
same "sql --csv quoting" "$(tr -d '\r' <"$out" | tail -1)" '"a,b","say ""hi""",'
run "$coscope" sql "$ok_db" "$query" --json
expect_rc "sql --json" 0
# json_ok PY_EXPR JS_EXPR: $out parses as JSON (as d) and the expression
# holds; 2 if there is neither python3 nor node.
json_ok() {
    if command -v python3 >/dev/null; then
        python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ${1:-True} else 1)" "$out"
    elif command -v node >/dev/null; then
        node -e "const d=JSON.parse(require('fs').readFileSync(process.argv[1],'utf8')); process.exit((${2:-true}) ? 0 : 1)" "$out"
    else return 2; fi
}
json_ok; r=$?
if [ $r = 2 ]; then echo "cli: skip: neither python3 nor node to parse --json"; skipped=$((skipped + 1))
else
    json_ok 'len(d) == 6 and d[0] == {"id": 2, "name": "worker", "parent": 1} and d[5]["parent"] == 11' \
        'd.length === 6 && d[0].id === 2 && d[0].name === "worker" && d[5].parent === 11'
    if [ $? = 0 ]; then ok; else bad "sql --json: $(head -c 300 "$out")"; fi
    run "$coscope" sql "$ok_db" "SELECT NULL AS n, 1.5 AS f, 'x\"y' AS s, x'00ff' AS b" --json
    json_ok 'd == [{"n": None, "f": 1.5, "s": "x\"y", "b": "00ff"}]' \
        'd.length === 1 && d[0].n === null && d[0].f === 1.5 && d[0].s === "x\"y" && d[0].b === "00ff"'
    if [ $? = 0 ]; then ok; else bad "sql --json types: $(cat "$out")"; fi
    run "$coscope" sql "$ok_db" "SELECT * FROM tasks WHERE 0" --json
    json_ok 'd == []' 'd.length === 0'
    if [ $? = 0 ]; then ok; else bad "sql --json no rows: $(cat "$out")"; fi
fi
run "$coscope" sql "$ok_db" "SELECT name FROM tasks WHERE id = :id" -p id=11
same "sql --param" "$(sed -n 3p "$out")" "parent"
run "$coscope" sql "$ok_db" "SELECT name FROM tasks WHERE id = :id"
expect_rc "sql: unbound parameter" 1
has "sql: unbound parameter" "--param id=VALUE" "$err"
run "$coscope" sql "$ok_db" "-- a query may start with a comment
SELECT COUNT(*) AS n FROM tasks"
same "sql: query starting with --" "$rc $(sed -n 3p "$out" | tr -d ' ')" "0 13"
run "$coscope" sql "$ok_db" "SELECT nope FROM tasks"
expect_rc "sql: bad query" 1
same "sql: bad query message" "$(cat "$err")" "coscope sql: no such column: nope"
run "$coscope" sql "$ok_db" "SELEKT 1"
expect_rc "sql: syntax error" 1
has "sql: syntax error" 'near "SELEKT": syntax error' "$err"
run "$coscope" sql "$ok_db" "DELETE FROM tasks"
expect_rc "sql: read-only" 1
has "sql: read-only" "read-only" "$err"
same "sql: nothing deleted" "$(q "$ok_db" 'SELECT COUNT(*) FROM tasks')" 13
run "$coscope" sql "$ok_db" "SELECT 1 AS a; SELECT 2 AS b"
same "sql: several statements" "$(grep -c 'row)' "$out")" 2
run "$coscope" sql "$ok_db" "SELECT 1" --csv --json
expect_rc "sql --csv --json" 2
# Read-only readers must not leave -wal/-shm files next to a finished trace.
same "no side files left" "$(ls "$tmp" | grep -c -- '-wal\|-shm')" 0

# ---- docs/schema.md queries ------------------------------------------------
mkdir -p "$tmp/q"
awk -v dir="$tmp/q" '/^```sql$/ { f = 1; n++; file = sprintf("%s/%02d.sql", dir, n); next }
                     /^```$/ { f = 0; next }
                     f { print > file }' docs/schema.md
nq=$(ls "$tmp/q" | wc -l)
[ "$nq" -ge 12 ] && ok || bad "docs/schema.md has only $nq sql blocks"
# Parameters from the trace itself: t = just after the first lock wait began,
# the task of that wait, the parent task, the first child.
params_for() { # DB NAME -> -p arguments for the query named NAME
    t=$(q "$1" "SELECT MIN(start) + 1 FROM awaits WHERE wait = 'lock'")
    case $2 in
    children) echo "-p task=$(q "$1" "SELECT id FROM tasks WHERE name = 'parent'")" ;;
    logs-of-task) echo "-p task=$(q "$1" "SELECT MIN(id) FROM tasks WHERE name = 'child'")" ;;
    *) echo "-p t=$t -p from=$t -p to=$((t + 2000000)) -p lock=db_lock -p queue=jobs" \
            "-p task=$(q "$1" "SELECT task FROM awaits WHERE wait = 'lock' ORDER BY start LIMIT 1")" ;;
    esac
}
for f in "$tmp"/q/*.sql; do
    name=$(head -1 "$f" | sed -n 's/^-- \([a-z0-9-]*\):.*/\1/p')
    [ -n "$name" ] || name=$(basename "$f")
    rows_total=0
    for db in "$ok_db" "$crash_db" "$warn_db"; do
        # shellcheck disable=SC2046
        run "$coscope" sql "$db" "$(cat "$f")" $(params_for "$db" "$name") --csv
        expect_rc "docs query $name on $(basename "$db")" 0
        rows_total=$((rows_total + $(tr -d '\r' <"$out" | sed 1d | wc -l)))
        cp "$out" "$tmp/q/$name.$(basename "$db" .db).csv"
    done
    [ "$rows_total" -gt 0 ] && ok || bad "docs query $name gives no row on any trace"
done
r() { tr -d '\r' <"$tmp/q/$1.$2.csv"; }
# waits (schema 3) is the tail of every step row whose await names something:
# the same awaits, row for row, on each trace.
for db in "$ok_db" "$crash_db" "$warn_db"; do
    same "waits = named awaits of the step rows ($(basename "$db"))" \
        "$(q "$db" "SELECT COUNT(*) FROM waits w JOIN spans s ON s.task = w.task AND s.kind = 'step' AND s.id = w.id
                    AND s.end = w.start AND s.resumed = w.end AND s.wait = w.wait AND s.resource IS w.resource
                    AND s.end_loc IS w.loc AND s.open = w.open")" \
        "$(q "$db" "SELECT COUNT(*) FROM spans WHERE kind = 'step' AND wait NOT IN ('yield', 'sleep')
                    AND (resource IS NOT NULL OR wait IN ('tasks', 'group'))")"
done
same "docs doing-at-t: worker 3 waits on db_lock" "$(r doing-at-t ok | grep -c '^3,worker,await,lock,db_lock,')" 1
same "docs longest-lock-waits: holder known" "$(r longest-lock-waits ok | sed -n 2p | cut -d, -f4,5,6)" "lock,db_lock,2"
same "docs waits-of-task: lock then sleep" "$(r waits-of-task ok | sed 1d | cut -d, -f3,4 | tr '\n' ' ')" "lock,db_lock sleep, "
same "docs never-finished: none in a clean run" "$(r never-finished ok | sed 1d | wc -l | tr -d ' ')" 0
same "docs never-finished: all 13 in the crash" "$(r never-finished crash | sed 1d | wc -l | tr -d ' ')" 13
same "docs children of parent" "$(r children ok | sed 1d | cut -d, -f1 | tr '\n' ' ')" "child child "
same "docs logs-of-task" "$(r logs-of-task ok | sed 1d | cut -d, -f2 | tr '\n' '|')" "child 1 starting|child 1 done|"
same "docs holds-of-lock: 4 holds" "$(r holds-of-lock ok | sed 1d | wc -l | tr -d ' ')" 4
same "docs queue-depth: 8 gets" "$(r queue-depth ok | grep -c ',queue_get,')" 8
same "docs warnings: the slow step" "$(r warnings warn | grep -c '^slow_step,12,spinner,')" 1
same "docs lock-contention: db_lock contended 3 times" "$(r lock-contention ok | grep '^db_lock,' | cut -d, -f2-4)" "lock,4,3"
# The per-task probe must find exactly what a full scan finds, wherever t
# falls: in a step, in an await, on a boundary, before anything.
bins=$(grep -l '^-- doing-at-t' "$tmp"/q/*.sql)
scan="SELECT s.task, CASE WHEN :t < s.end THEN 'step' ELSE 'await' END, CASE WHEN :t < s.end THEN s.start ELSE s.end END
      FROM spans s WHERE s.kind = 'step' AND s.start <= :t AND COALESCE(s.resumed, s.end) > :t ORDER BY s.task"
for t in $(q "$ok_db" "SELECT start + dur / 2 FROM spans ORDER BY random() LIMIT 6") \
         $(q "$ok_db" "SELECT start + dur / 2 FROM awaits ORDER BY random() LIMIT 6") \
         $(q "$ok_db" "SELECT start FROM spans ORDER BY random() LIMIT 4") 0; do
    a=$("$coscope" sql "$ok_db" "$(cat "$bins")" -p t="$t" --csv | tr -d '\r' | sed 1d | cut -d, -f1,3,6)
    b=$("$coscope" sql "$ok_db" "$scan" -p t="$t" --csv | tr -d '\r' | sed 1d)
    same "doing-at-t agrees with a scan at t=$t" "$a" "$b"
done

# ---- export --------------------------------------------------------------
run "$coscope" export --format chrome "$ok_db" -o "$tmp/ok.json"
expect_rc "export -o" 0
same "export -o: nothing on stdout" "$(wc -c <"$out" | tr -d ' ')" 0
run "$coscope" export --format chrome "$ok_db"
expect_rc "export to stdout" 0
if cmp -s "$out" "$tmp/ok.json"; then ok; else bad "export: stdout and -o differ"; fi
has "export: traceEvents" '"traceEvents":['
has "export: thread names" '"name":"thread_name","args":{"name":"worker #2"}'
run "$coscope" export "$warn_db" -o "$tmp/warn.json"
expect_rc "export (default format)" 0
run "$coscope" export --format chrome "$crash_db" -o "$tmp/crash.json"
expect_rc "export crash" 0
run "$coscope" export --format protobuf "$ok_db"
expect_rc "export: unknown format" 2
one_line_error "export: unknown format"
run "$coscope" export --format chrome "$ok_db" -o "$tmp/no/such/dir/x.json"
expect_rc "export: unwritable output" 1
same "export: unwritable output leaves nothing" "$(ls "$tmp" | grep -c 'tmp[A-Za-z0-9]\{6\}$')" 0

check=tests/tracer/chrome_check.mjs
if command -v node >/dev/null && command -v npm >/dev/null; then
    # Pinned versions, installed once per build directory.
    mods=$build/npm-chrome-check
    if [ ! -d "$mods/node_modules/@tracerbench/trace-model" ] || [ ! -d "$mods/node_modules/@paulirish/trace_engine" ]; then
        mkdir -p "$mods"
        [ -f "$mods/package.json" ] || echo '{"private": true}' >"$mods/package.json"
        # Bounded: a registry that does not answer must not hang the test run.
        timeout 180 npm install --prefix "$mods" --no-audit --no-fund --loglevel=error \
            @tracerbench/trace-model@8.0.0 @paulirish/trace_engine@0.0.65 >"$tmp/npm.log" 2>&1 ||
            { echo "cli: npm install of the trace consumers failed:"; tail -5 "$tmp/npm.log"; }
    fi
    modarg=""
    if [ -d "$mods/node_modules/@tracerbench/trace-model" ] && [ -d "$mods/node_modules/@paulirish/trace_engine" ]; then
        modarg="--modules $mods"
    else
        echo "cli: skip: npm consumers unavailable; only our own JSON checks run"
        skipped=$((skipped + 1))
    fi
    # shellcheck disable=SC2086
    run node "$check" "$tmp/ok.json" $modarg --expect-thread "worker #2" --expect-thread "child #12" \
        --expect-flow "task end" --expect-flow "lock handoff" --expect-flow "semaphore handoff" \
        --expect-flow "queue get" --expect-slice "lock db_lock" --expect-slice "queue_put jobs" \
        --expect-slice "task #12 child" --expect-slice "run"
    expect_rc "chrome_check ok.json" 0
    cat "$out"
    # shellcheck disable=SC2086
    run node "$check" "$tmp/warn.json" $modarg --expect-thread "spinner #12" --expect-flow "lock handoff"
    expect_rc "chrome_check warn.json" 0
    # shellcheck disable=SC2086
    run node "$check" "$tmp/crash.json" $modarg --expect-thread "worker #5"
    expect_rc "chrome_check crash.json (open spans)" 0
    grep -q '"name":"warning: slow_step"' "$tmp/warn.json" && ok || bad "export: no slow_step instant"
    grep -q '"ph":"i","pid":1,"tid":12,.*"cat":"log","name":"child 1 starting"' "$tmp/ok.json" && ok || bad "export: no log instant"
    # The checker itself must catch a slice that overlaps its neighbour.
    # (a slice made to begin halfway through the one before it, ending where it did).
    node -e '
        const fs = require("fs"); const t = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
        const xs = t.traceEvents.filter((e) => e.ph === "X" && e.tid === 2).sort((a, b) => a.ts - b.ts);
        const i = xs.findIndex((e, k) => k + 1 < xs.length && e.dur > 10);
        const a = xs[i], b = xs[i + 1], end = b.ts + b.dur;
        b.ts = a.ts + a.dur / 2; b.dur = end - b.ts;
        fs.writeFileSync(process.argv[2], JSON.stringify(t));' "$tmp/ok.json" "$tmp/broken.json"
    run node "$check" "$tmp/broken.json"
    expect_rc "chrome_check catches overlapping slices" 1
    has "chrome_check catches overlapping slices" "without nesting"
else
    echo "cli: skip: node/npm not found, the Chrome JSON is not checked by a consumer"
    skipped=$((skipped + 1))
fi

# ---- bad input, every command -------------------------------------------
echo hello >"$tmp/text.txt"
: >"$tmp/empty.db"
mkdir "$tmp/dir.db"
sqlite3 "$tmp/plain.db" "CREATE TABLE x(a); INSERT INTO x VALUES (1);"
cp "$ok_db" "$tmp/newer.db"
sqlite3 "$tmp/newer.db" "UPDATE meta SET value = 99 WHERE key = 'schema_version'"
size=$(wc -c <"$ok_db")
for n in 100 4096 $((size / 2)) $((size - 4096)); do head -c "$n" "$ok_db" >"$tmp/trunc$n.db"; done
invoke() { # CMD FILE: the command on FILE, with a query for sql
    case $1 in
    sql) run "$coscope" sql "$2" "SELECT COUNT(*) FROM spans" ;;
    export) run "$coscope" export --format chrome "$2" ;;
    *) run "$coscope" "$1" "$2" ;;
    esac
}
for cmd in report sql export; do
    invoke $cmd "$tmp/missing.db"
    one_line_error "$cmd missing file"; has "$cmd missing file" "No such file or directory" "$err"
    invoke $cmd "$tmp/dir.db"
    one_line_error "$cmd directory"; has "$cmd directory" "not a regular file" "$err"
    invoke $cmd "$tmp/text.txt"
    one_line_error "$cmd text file"; has "$cmd text file" "not a SQLite database" "$err"
    invoke $cmd "$tmp/empty.db"
    one_line_error "$cmd empty file"; has "$cmd empty file" "not a SQLite database" "$err"
    invoke $cmd "$tmp/plain.db"
    one_line_error "$cmd plain SQLite"; has "$cmd plain SQLite" "not a coscope trace" "$err"
    invoke $cmd "$tmp/newer.db"
    one_line_error "$cmd newer schema"; has "$cmd newer schema" "newer coscope" "$err"
    for n in 100 4096 $((size / 2)) $((size - 4096)); do
        invoke $cmd "$tmp/trunc$n.db"
        one_line_error "$cmd truncated to $n bytes"; has "$cmd truncated to $n" "damaged or truncated" "$err"
    done
    run "$coscope" $cmd --bogus "$ok_db"
    one_line_error "$cmd unknown option"; has "$cmd unknown option" "unknown option '--bogus'" "$err"
    run "$coscope" $cmd
    one_line_error "$cmd no file"
    run "$coscope" $cmd --help
    expect_rc "$cmd --help" 0
    has "$cmd --help" "usage: coscope $cmd"
done
run "$coscope" report --top 0 "$ok_db"
one_line_error "report --top 0"
run "$coscope" report --top "$ok_db"
one_line_error "report --top without a number"
run "$coscope" report "$ok_db" "$warn_db"
one_line_error "report two files"
run "$coscope" sql "$ok_db"
one_line_error "sql without query"
run "$coscope" sql "$ok_db" "SELECT 1" -p novalue
one_line_error "sql -p without ="
run "$coscope" export -o
one_line_error "export -o without a value"
run "$coscope" --help
has "coscope --help lists report" "report FILE"
has "coscope --help lists sql" "sql FILE QUERY"
has "coscope --help lists export" "export [--format chrome|perfetto]"

# An interrupted build (the recorder killed before finishing the tables) is
# finished by the first command that reads the trace.
cp "$ok_db" "$tmp/unbuilt.db"
spans=$(q "$ok_db" "SELECT COUNT(*) FROM spans")
sqlite3 "$tmp/unbuilt.db" "UPDATE meta SET value = 0 WHERE key = 'built'; DELETE FROM spans; DELETE FROM tasks;"
run "$coscope" report "$tmp/unbuilt.db"
expect_rc "report rebuilds an interrupted trace" 0
has "report rebuilds an interrupted trace" "tasks     13 (13 done)"
same "rebuilt spans" "$(q "$tmp/unbuilt.db" "SELECT COUNT(*) FROM spans")" "$spans"
# A live trace (run 'running', pid alive) is read as it is, never rebuilt.
cp "$ok_db" "$tmp/live.db"
sqlite3 "$tmp/live.db" "UPDATE meta SET value = 0 WHERE key = 'built'; UPDATE meta SET value = 'running' WHERE key = 'ended';
                        UPDATE meta SET value = $$ WHERE key = 'pid'; DELETE FROM spans;"
run "$coscope" sql "$tmp/live.db" "SELECT COUNT(*) AS n FROM spans"
expect_rc "sql on a live trace" 0
has "sql on a live trace: note" "still being recorded" "$err"
same "live trace left alone" "$(q "$tmp/live.db" "SELECT COUNT(*) FROM spans")" 0

[ "$skipped" -gt 0 ] && echo "cli: $skipped part(s) skipped (see above)"
echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
