#!/bin/sh
# SPDX-License-Identifier: MIT
# hostile.sh -- a trace is input: files made to attack the tool, and SQL
# typed to break its read-only promise, each against the real build/coscope.
#
#   - `coscope sql` with SQL that writes (VACUUM INTO, ATTACH, pragmas that
#     set, temp objects) or calls addresses (fts3_tokenizer): refused, no
#     file written;
#   - a view that recurses forever, under report and sql: stopped with a
#     clear line ($COSCOPE_QUERY_TIMEOUT, 1 s here), never a hang;
#   - an unfinished trace with triggers (one that hangs, one that writes):
#     none runs, the build is refused and every command still answers;
#   - terminal escapes in task, lock and warning text, argv and meta: never
#     reach stdout raw from report, sql or info; --json/--csv keep them
#     exact;
#   - output that cannot be written (/dev/full), export -o onto a device or
#     a fifo, a file the user may not read, info's options and statuses,
#     extreme values from a file (INT64_MIN times, a huge slow_ms), run -o
#     with no value, megabyte-long meta values;
#   - a recording onto a full disk (a 3 MB tmpfs, as root): incomplete in
#     meta, info and report, and still after its build is finished.
#
# Every command runs under `timeout`, so a hang is a failure, not a stuck
# run.  BUILD names the build directory (default build).
cd "$(dirname "$0")/../.." || exit 1
build=${BUILD:-build}
build=$(cd "$build" && pwd) || exit 1
coscope=$build/coscope
[ -x "$coscope" ] || { echo "hostile: $coscope is missing (make builds it)"; exit 1; }
command -v sqlite3 >/dev/null || { echo "hostile: the sqlite3 shell is missing (make deps)"; exit 1; }
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
export ASAN_OPTIONS
COSCOPE_QUERY_TIMEOUT=1
export COSCOPE_QUERY_TIMEOUT

tmp=$(mktemp -d /tmp/coscope-hostile-XXXXXX) || exit 1
trap 'umount "$tmp/small" 2>/dev/null; rm -rf "$tmp"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "hostile: FAIL: $*"; }
out=$tmp/out
err=$tmp/err
# run CMD...: at most 30 s (124: it hung); stdout to $out, stderr to $err.
run() { timeout 30 "$@" >"$out" 2>"$err"; rc=$?; }
expect_rc() { if [ "$rc" = "$2" ]; then ok; else bad "$1: exit status $rc, expected $2 ($(head -c 300 "$err"))"; fi; }
has() { if grep -qF -- "$2" "${3:-$out}"; then ok; else bad "$1: no '$2' in $(basename "${3:-$out}"): $(head -c 300 "${3:-$out}")"; fi; }
hasnt() { if grep -qF -- "$2" "${3:-$out}"; then bad "$1: unexpected '$2'"; else ok; fi; }
same() { if [ "$2" = "$3" ]; then ok; else bad "$1: got '$2', expected '$3'"; fi; }
# no_escape WHAT FILE: no ESC, BEL or C1 CSI byte in FILE.
no_escape() {
    if LC_ALL=C grep -q "$(printf '[\033\007\233]')" "$2"; then bad "$1: a raw control character reached the output"
    else ok; fi
}
q() { sqlite3 -batch -noheader "$1" "$2"; }

prog=$build/tests/tracer/progs/cli_prog
[ -x "$prog" ] || prog=$build/samples/hello
base=$tmp/base.db
run "$coscope" run --slow-ms 1000 -o "$base" -- "$prog"
expect_rc "record the base trace" 0

# ---- coscope sql: read-only against any SQL ------------------------------
for sql in "PRAGMA query_only=0; VACUUM INTO '$tmp/copy.db'" "VACUUM INTO '$tmp/copy.db'" \
           "ATTACH '$tmp/copy.db' AS x" "VACUUM" "PRAGMA query_only=0" "CREATE TEMP TABLE t(x)" \
           "PRAGMA journal_mode=DELETE" "PRAGMA writable_schema=1"; do
    run "$coscope" sql "$base" "$sql"
    expect_rc "sql refuses: $sql" 1
    if [ -e "$tmp/copy.db" ]; then bad "sql: $sql wrote $tmp/copy.db"; rm -f "$tmp/copy.db"; else ok; fi
done
run "$coscope" sql "$base" "VACUUM INTO '$tmp/copy.db'"
has "sql says why VACUUM INTO is refused" "not allowed" "$err"
run "$coscope" sql "$base" "SELECT hex(fts3_tokenizer('simple'))"
expect_rc "sql refuses fts3_tokenizer (it gives an address)" 1
run "$coscope" sql "$base" "SELECT fts3_tokenizer('evil', X'4141414141414141')"
expect_rc "sql refuses fts3_tokenizer with a pointer" 1
run "$coscope" sql "$base" "SELECT load_extension('/nonexistent')"
expect_rc "sql refuses load_extension" 1
# Reading stays possible, pragmas that read included.
run "$coscope" sql "$base" "PRAGMA table_info(tasks); SELECT name FROM pragma_table_info('spans') LIMIT 1;
                            SELECT COUNT(*) FROM json_each('[1,2]'); PRAGMA page_size"
expect_rc "sql still reads (pragmas, table-valued functions)" 0
same "sql leaves the trace alone" "$(q "$base" "PRAGMA integrity_check")" "ok"

# ---- a view that recurses forever -----------------------------------------
loop=$tmp/loop.db
cp "$base" "$loop"
sqlite3 "$loop" "DROP VIEW task_summary;
  CREATE VIEW task_summary AS WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r)
  SELECT x AS task, 'n' AS name, 'done' AS state, 0 AS result, x AS busy_ns, x AS wait_ns, x AS total_ns,
         0 AS steps, 0 AS awaits, 0 AS parent, '' AS spawned_at FROM r;"
run "$coscope" report "$loop"
expect_rc "report on a view that never ends" 2
has "report says the query was stopped" "query stopped" "$err"
run "$coscope" sql "$loop" "SELECT COUNT(*) FROM task_summary"
expect_rc "sql on a view that never ends" 1
has "sql says the query was stopped" "query stopped" "$err"
# A slow reader of a long result is not cut: the clock restarts at each row.
run sh -c "'$coscope' sql '$loop' 'SELECT task FROM task_summary LIMIT 3000' | (sleep 2; cat)"
has "rows read slowly are not cut" "(3000 rows)"

# ---- an unfinished trace with triggers ------------------------------------
trig=$tmp/trig.db
cp "$base" "$trig"
events=$(q "$base" "SELECT COUNT(*) FROM events")
sqlite3 "$trig" "UPDATE meta SET value = 0 WHERE key = 'built';
  CREATE VIEW forever AS WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) SELECT x FROM r;
  CREATE TRIGGER hang BEFORE DELETE ON spans BEGIN SELECT COUNT(*) FROM forever; END;
  CREATE TRIGGER pwn AFTER INSERT ON events BEGIN INSERT INTO warnings(kind, message) VALUES ('pwned', 'x'); END;"
for cmd in info report sql export; do
    if [ $cmd = sql ]; then run "$coscope" sql "$trig" "SELECT COUNT(*) FROM events"
    else run "$coscope" $cmd "$trig"; fi
    expect_rc "$cmd on an unfinished trace with triggers" 0
    has "$cmd: the build is refused, saying why" "coscope did not make" "$err"
done
same "no trigger wrote into the trace" "$(q "$trig" "SELECT COUNT(*) FROM warnings WHERE kind = 'pwned'")" 0
same "the unfinished trace is left as it was" "$(q "$trig" "SELECT value FROM meta WHERE key = 'built'")" 0
# Our own views are fine: an interrupted build of an untouched trace is finished.
plain=$tmp/plain.db
cp "$base" "$plain"
sqlite3 "$plain" "UPDATE meta SET value = 0 WHERE key = 'built'"
run "$coscope" info "$plain"
expect_rc "info finishes an untouched interrupted trace" 0
same "rebuilt" "$(q "$plain" "SELECT value FROM meta WHERE key = 'built'")/$(q "$plain" "SELECT COUNT(*) FROM events")" "1/$events"

# ---- terminal escapes ------------------------------------------------------
esc=$tmp/esc.db
cp "$base" "$esc"
evil="char(27) || ']0;pwned' || char(7) || char(27) || '[2J' || char(155) || '2J'"
sqlite3 "$esc" "UPDATE tasks SET name = $evil || name;
  UPDATE resources SET name = $evil || COALESCE(name, '');
  UPDATE locations SET file = $evil || file, func = $evil || func;
  INSERT INTO warnings(kind, task, resource, ts, dur, loc, message, stack)
    SELECT 'slow_step' || $evil, id, NULL, 0, 5, (SELECT MIN(id) FROM locations), 'msg' || $evil,
           'frame' || $evil || char(10) || 'frame2' FROM tasks LIMIT 1;
  UPDATE meta SET value = json_array($evil, 'x') WHERE key = 'argv';
  UPDATE meta SET value = $evil WHERE key IN ('program', 'start_time', 'ended');"
run "$coscope" report "$esc"
expect_rc "report with escapes in the trace" 0
no_escape "report" "$out"
has "report shows the text, neutralised" "]0;pwned"
run "$coscope" sql "$esc" "SELECT name FROM tasks; SELECT * FROM resources; SELECT * FROM warnings; SELECT * FROM meta"
expect_rc "sql with escapes in the trace" 0
no_escape "sql" "$out"
has "sql shows escapes as escapes" '\x1b]0;pwned\x07'
run "$coscope" sql "$esc" "SELECT 1 AS \"$(printf 'a\033[2Jb')\""
no_escape "sql column names" "$out"
run "$coscope" info "$esc"
expect_rc "info with escapes in the trace" 0
no_escape "info" "$out"
run "$coscope" sql --json "$esc" "SELECT name FROM tasks LIMIT 1"
no_escape "sql --json" "$out"
has "sql --json keeps the text exactly" '\u001b]0;pwned\u0007\u001b[2J\u009b2J'
run "$coscope" sql --csv "$esc" "SELECT name, 1 AS n FROM tasks LIMIT 1"
# CSV keeps the bytes; the field is quoted, so it stays one field.
has "sql --csv quotes a field with control characters" "$(printf '"\033]0;pwned')"
run "$coscope" sql "$esc" "SELECT no_such_column_$(printf '\033')x FROM tasks"
no_escape "sql error messages" "$err"

# ---- output that cannot be written ----------------------------------------
# One line with the system's reason, status 1: never a silent success.
if [ -w /dev/full ]; then
    for cmd in report info sql export; do
        if [ $cmd = sql ]; then timeout 30 "$coscope" sql "$base" "SELECT * FROM tasks" >/dev/full 2>"$err"; rc=$?
        else timeout 30 "$coscope" $cmd "$base" >/dev/full 2>"$err"; rc=$?; fi
        expect_rc "$cmd > /dev/full" 1
        has "$cmd > /dev/full says why" "No space left on device" "$err"
        same "$cmd > /dev/full: one line" "$(wc -l <"$err")" 1
    done
fi
# export -o replaces regular files only (through a temporary and rename).
mkfifo "$tmp/fifo"
run "$coscope" export -o "$tmp/fifo" "$base"
expect_rc "export -o FIFO is refused" 2
has "export -o FIFO says why" "not a regular file" "$err"
if [ -p "$tmp/fifo" ]; then ok; else bad "export -o replaced a fifo"; fi
if [ "$(id -u)" = 0 ] && mknod "$tmp/full" c 1 7 2>/dev/null; then
    # As root, rename() would happily turn a device into a file: a device
    # node of the test's own (/dev/full's numbers), so a failure costs
    # nothing but the test.
    run "$coscope" export -o "$tmp/full" "$base"
    expect_rc "export -o DEVICE is refused" 2
    if [ -c "$tmp/full" ]; then ok; else bad "export -o replaced a device"; fi
fi
run "$coscope" export -o "$tmp/x.json" "$base"
expect_rc "export -o a new file" 0
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/x.json" 2>"$err" && ok || bad "export -o: invalid JSON"
ln -s x.json "$tmp/link.json"
run "$coscope" export -o "$tmp/link.json" "$base"
if [ -L "$tmp/link.json" ] && [ -s "$tmp/x.json" ]; then ok; else bad "export -o through a symlink replaced the link"; fi

# ---- permission denied is said as such ------------------------------------
noread=$tmp/noread.db
cp "$base" "$noread"
chmod 000 "$noread"
chmod 755 "$tmp"
if [ "$(id -u)" = 0 ]; then
    as_user="setpriv --reuid=65534 --regid=65534 --clear-groups"
    $as_user true 2>/dev/null || as_user=""
else as_user=" "; fi
if [ -n "$as_user" ]; then
    for cmd in info report sql export; do
        if [ $cmd = sql ]; then run $as_user "$coscope" sql "$noread" "SELECT 1"; else run $as_user "$coscope" $cmd "$noread"; fi
        expect_rc "$cmd on an unreadable file" 2
        has "$cmd says permission denied" "Permission denied" "$err"
    done
else echo "hostile: permission test skipped (root without setpriv)"; fi
chmod 700 "$tmp"

# ---- info behaves as the other commands -----------------------------------
run "$coscope" info
expect_rc "info with no file" 2
same "info with no file: one line" "$(wc -l <"$err")" 1
run "$coscope" info --bogus "$base"
expect_rc "info --bogus" 2
has "info --bogus is an unknown option" "unknown option '--bogus'" "$err"
run "$coscope" info "$base" "$base"
expect_rc "info with two files" 2
has "info with two files" "one trace file at a time" "$err"
run "$coscope" info --help
expect_rc "info --help" 0
has "info --help" "usage: coscope info FILE"
cut=$tmp/cut.db
size=$(wc -c <"$base")
head -c $((size - 100)) "$base" >"$cut"
for cmd in info report; do
    run "$coscope" $cmd "$cut"
    expect_rc "$cmd on a file missing its last 100 bytes" 2
    has "$cmd says truncated" "truncated" "$err"
done

# ---- extreme values from a file --------------------------------------------
ext=$tmp/extreme.db
cp "$base" "$ext"
sqlite3 "$ext" "UPDATE spans SET start = -9223372036854775808 WHERE kind = 'step' AND task = (SELECT MIN(task) FROM spans WHERE task > 0);
                UPDATE events SET ts = -9223372036854775808 WHERE id IN (SELECT id FROM events WHERE kind IN ('log', 'mark') LIMIT 1);
                UPDATE tasks SET end_ts = -9223372036854775808 WHERE id = 1;"
run "$coscope" export "$ext"
expect_rc "export of INT64_MIN times" 0
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$out" 2>"$err" && ok || bad "export of INT64_MIN times: invalid JSON: $(grep -o '.\{20\}--.\{20\}' "$out" | head -2)"
run "$coscope" report "$ext"
expect_rc "report of INT64_MIN times" 0
# A slow_ms whose product in ns wraps to 448 us: every step would be "slow".
huge=$tmp/huge.db
cp "$base" "$huge"
sqlite3 "$huge" "UPDATE meta SET value = 18446744073710 WHERE key = 'slow_ms'; UPDATE meta SET value = 0 WHERE key = 'built';
                 UPDATE meta SET value = 1e308 WHERE key = 'ns_per_tick';"
run "$coscope" info "$huge"
expect_rc "info rebuilds a trace with a huge slow_ms" 0
same "no spurious slow steps" "$(q "$huge" "SELECT COUNT(*) FROM warnings WHERE kind = 'slow_step'")" 0

# ---- a recording onto a full disk -----------------------------------------
same "a finished recording is complete" "$(q "$base" "SELECT value FROM meta WHERE key = 'complete'")" 1
mnt=$tmp/small
mkdir "$mnt"
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=3m tmpfs "$mnt" 2>/dev/null; then
    # 1.5M marks: about 9 MB of chunks, three times the disk.
    run "$coscope" run -o "$mnt/full.db" -- "$build/tests/tracer/progs/marks"
    has "run onto a full disk says recording failed" "recording failed" "$err"
    expect_rc "run exits 1 after losing events to a full disk (the program exited 0)" 1
    has "run says why its status is 1" "the recording lost events" "$err"
    has "run's last line says the trace is incomplete" "(INCOMPLETE: events are missing)" "$err"
    for cmd in info report; do
        run "$coscope" $cmd "$mnt/full.db"
        has "$cmd says a full-disk trace is incomplete" "is incomplete" "$err"
    done
    has "report says INCOMPLETE" "INCOMPLETE"
    # With room again, the build is finished: the trace still says it lost data.
    cp "$mnt"/full.db* "$tmp/"
    umount "$mnt"
    run "$coscope" info "$tmp/full.db"
    expect_rc "info finishes a full-disk trace elsewhere" 0
    has "info: still incomplete after the build" "is incomplete" "$err"
    same "complete stays 0" "$(q "$tmp/full.db" "SELECT value FROM meta WHERE key = 'complete'")" 0
    run "$coscope" report "$tmp/full.db"
    has "report: still INCOMPLETE after the build" "INCOMPLETE"
else echo "hostile: full-disk test skipped (needs root and a tmpfs mount)"; fi
run "$coscope" report "$base"
hasnt "a complete trace is not called incomplete" "INCOMPLETE"

# An empty chunk blob (found by tests/fuzz: pointer arithmetic on NULL,
# UBSan under make check): skipped, the rest is built.
emptyc=$tmp/emptychunk.db
cp "$base" "$emptyc"
sqlite3 "$emptyc" "INSERT INTO chunks(ring, n, data) VALUES (0, 0, X''); UPDATE meta SET value = 0 WHERE key = 'built';"
run "$coscope" info "$emptyc"
expect_rc "info builds a trace with an empty chunk" 0
same "built, with every event" "$(q "$emptyc" "SELECT value FROM meta WHERE key = 'built'")/$(q "$emptyc" "SELECT COUNT(*) FROM events")" "1/$events"

# ---- texts under load, and two processes under one run ---------------------
marks=$build/tests/tracer/progs/marks
if [ -x "$marks" ]; then
    run "$coscope" run -o "$tmp/marks.db" -- "$marks"
    expect_rc "run marks" 0
    same "1.5M marks: no event and no text lost" \
         "$(q "$tmp/marks.db" "SELECT group_concat(value, '/') FROM meta WHERE key IN ('lost', 'lost_text') ORDER BY key")" "0/0"
    same "the last mark has its text" \
         "$(q "$tmp/marks.db" "SELECT s.text FROM events e JOIN strings s ON s.id = e.resource WHERE e.kind = 'mark' ORDER BY e.ts DESC LIMIT 1")" "last"
    same "a mark's text is stored once" "$(q "$tmp/marks.db" "SELECT COUNT(*) FROM strings WHERE text = 'tick'")" 1
    # Two programs of one run: the second is refused, loudly, and counted.
    run "$coscope" run -o "$tmp/two.db" -- sh -c "'$marks' 1000 & '$marks' 1000; wait"
    expect_rc "run two processes" 0
    has "the second process is refused" "runs untraced" "$err"
    same "meta counts the untraced process" "$(q "$tmp/two.db" "SELECT value FROM meta WHERE key = 'untraced_processes'")" 1
    same "one process's tasks, not two mixed" "$(q "$tmp/two.db" "SELECT COUNT(*) FROM tasks")" 1
    same "one process's marks" "$(q "$tmp/two.db" "SELECT COUNT(*) FROM events WHERE kind = 'mark'")" 1001
    run "$coscope" report "$tmp/two.db"
    has "report says a process ran untraced" "untraced"
else echo "hostile: $marks missing (make builds it); load checks skipped"; fi

# ---- bad arguments ---------------------------------------------------------
run "$coscope" run -o
expect_rc "run -o without a value" 2
has "run -o says it needs a value" "-o needs a value" "$err"
run "$coscope" run --slow-ms
has "run --slow-ms says it needs a value" "needs a value" "$err"
# report cuts meta values: a megabyte-long program name is one short line.
long=$tmp/long.db
cp "$base" "$long"
sqlite3 "$long" "UPDATE meta SET value = printf('%.*c', 1000000, 'x') WHERE key IN ('program', 'ended', 'start_time', 'signal_name');
                 UPDATE meta SET value = json_array(printf('%.*c', 1000000, 'y')) WHERE key = 'argv';"
run "$coscope" report "$long"
expect_rc "report with megabyte meta values" 0
same "report lines stay short" "$(awk 'length > 200' "$out" | wc -l)" 0
run "$coscope" info "$long"
same "info lines stay short" "$(awk 'length > 1100' "$out" | wc -l)" 0

echo "hostile: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
