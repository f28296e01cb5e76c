#!/bin/sh
# SPDX-License-Identifier: MIT
# flight.sh -- the flight recorder (COSCOPE_FLIGHT, co_flight_start) on
# tests/tracer/progs/flight_prog.c, whose long-lived tasks (holder, blocked,
# consumer, keeper) are spawned before any kept window begins:
#
#   - deadlock: a service ticking for 20 s under COSCOPE_FLIGHT=1s
#     deadlocks (started first, checked last: the other cases run beside
#     it).  One dump, not before the 20 s, by the runtime's deadlock detection: trigger 'deadlock', mode 0600, the last
#     window only (no spawn of the early tasks), both deadlock warnings, and
#     the await tree at the hang: alpha waits on lock_b at FL_ALPHA_WAIT,
#     beta on never_set at FL_BETA_HANG, each holding its lock;
#   - slow step (COSCOPE_FLIGHT_SLOW_MS=150, a 300 ms step) and all
#     asleep: each dumped, named, with its warning; COSCOPE_FLIGHT_TRIGGERS=none:
#     no dump; a loop stuck for good in one step: dumped by slow_step while
#     it runs, the trace running to the dump, the step's warning "still running";
#   - crash: the window up to the fault: the marks before it, the crash
#     warning and its stack symbolized to FL_FAULT, ended 'signal' 11;
#   - abort() in a task (a failed assert): dumped as a crash, ended
#     'signal' 6, its stack symbolized into the caller (FL_ABORT);
#   - flood: a 4 MB budget under a flood of marks and yields stays within
#     4 MB (the recorder's peak and the dump's meta; the dump's own chunks
#     within 4 MB less a ring) and is used (a peak over half of it), periods
#     dropped; a budget too small for a ring and the texts beside a window
#     is refused at the start, in one line, and the program runs untraced;
#   - API: co_flight_dump(PATH) writes PATH; the window opens with the
#     early tasks at their awaits (lines FL_*_WAIT), the lock's hold open,
#     none of their spawns; the next two requests of the same kind are
#     rate-limited; a dump into a missing directory is counted as failed
#     and the program runs on;
#   - crowd: 12000 tasks asleep since before the window: its snapshot is
#     more records than a chunk holds, so it is kept (and written) in
#     chunks of at most 16384, and every sleeper opens at its await;
#   - signal: two dump signals give one file (rate limit), trigger
#     'signal'; `coscope dump PID -o FILE` twice gives two (never limited);
#     `coscope dump` of a program without a recorder: one-line refusal;
#     a dump into a missing directory: that failure, with the path; a
#     program whose COSCOPE_FLIGHT was refused: said, with the value.
#
# Run by `make test` from the top directory; BUILD names the build directory.
cd "$(dirname "$0")/../.." || exit 1
build=${BUILD:-build}
[ -d "$build" ] || { echo "flight: no build directory $build (make test builds it)"; exit 1; }
build=$(cd "$build" && pwd)
coscope=$build/coscope
prog=$build/tests/tracer/progs/flight_prog
src=tests/tracer/progs/flight_prog.c
tmp=$(mktemp -d)
export COSCOPE_BIN="$coscope"
# Under make check's ASan: the runtime's own fault handler records the crash.
ASAN_OPTIONS=${ASAN_OPTIONS:-handle_segv=0:handle_sigbus=0:handle_abort=0:detect_leaks=0}
export ASAN_OPTIONS
pids=""
pass=0; fail=0
cleanup() { for p in $pids; do kill -9 "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM

ok() { pass=$((pass + 1)); }
no() { fail=$((fail + 1)); echo "FAIL: $*"; }
line() { grep -n "/\* $1" "$src" | head -1 | cut -d: -f1; }
q() { sqlite3 -batch -noheader -separator '|' "$1" "$2"; }
eq() { if [ "$2" = "$3" ]; then ok; else no "$1: got '$2', want '$3'"; fi; }
has() { # label file pattern
    if grep -q -- "$3" "$2"; then ok; else no "$1: no '$3' in:"; sed 's/^/    /' "$2" | head -40; fi
}
wait_for() { # file seconds
    i=0
    while [ ! -e "$1" ] && [ $i -lt $(($2 * 20)) ]; do sleep 0.05; i=$((i + 1)); done
    [ -e "$1" ]
}
one_db() { ls "$1"/coscope-flight-*.db 2>/dev/null | head -1; }
# The first dump in directory $1, waited for up to 30 s; "" if none came.
dump_in() {
    i=0; while [ -z "$(one_db "$1")" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
    one_db "$1"
}
mode() { stat -c %a "$1"; }
awaits="SELECT t.name, s.wait, COALESCE(r.name, ''), l.line, s.open FROM spans s JOIN tasks t ON t.id = s.task
        JOIN locations l ON l.id = s.end_loc LEFT JOIN resources r ON r.id = s.resource
        WHERE s.kind = 'step' AND s.open = 1 ORDER BY t.id"
holds="SELECT t.name, r.name FROM spans s JOIN tasks t ON t.id = s.task JOIN resources r ON r.id = s.resource
       WHERE s.kind = 'hold' AND s.open = 1 ORDER BY t.id"
early="'holder', 'blocked', 'consumer', 'keeper'"

# ---- deadlock, started first: it runs 20 s beside the rest -------------------------------
mkdir "$tmp/dl"
COSCOPE_FLIGHT=1s COSCOPE_FLIGHT_DIR="$tmp/dl" "$prog" deadlock 20000 > "$tmp/dl.out" 2> "$tmp/dl.err" &
dlp=$!; pids="$pids $dlp"
dl_start=$(date +%s)

# ---- the other detections, and switching them off ---------------------------------------
for m in slow:slow_step asleep:all_asleep; do
    mkdir "$tmp/${m%%:*}"
    COSCOPE_FLIGHT=1s COSCOPE_FLIGHT_SLOW_MS=150 COSCOPE_FLIGHT_DIR="$tmp/${m%%:*}" "$prog" ${m%%:*} 300 > /dev/null 2>&1
    db=$(dump_in "$tmp/${m%%:*}")
    if [ -n "$db" ]; then
        eq "${m%%:*}: trigger" "$(q "$db" "SELECT value FROM meta WHERE key = 'flight_trigger'")" "${m#*:}"
        eq "${m%%:*}: its warning" "$(q "$db" "SELECT COUNT(*) > 0 FROM warnings WHERE kind = '${m#*:}'")" 1
    else
        no "${m%%:*}: no dump"
    fi
done
# A loop stuck for good in one step: the helper times it and dumps while it
# runs, so the trace runs to the dump, not to the last event, and names it.
mkdir "$tmp/stuck"
COSCOPE_FLIGHT=1s COSCOPE_FLIGHT_SLOW_MS=300 COSCOPE_FLIGHT_DIR="$tmp/stuck" "$prog" stuck 100 > /dev/null 2>&1 &
p=$!; pids="$pids $p"
db=$(dump_in "$tmp/stuck")
if [ -n "$db" ]; then
    eq "stuck: trigger" "$(q "$db" "SELECT value FROM meta WHERE key = 'flight_trigger'")" slow_step
    eq "stuck: its warning, still running" "$(q "$db" "SELECT COUNT(*) FROM warnings w JOIN tasks t ON t.id = w.task
                                                        WHERE w.kind = 'slow_step' AND t.name = 'stuck' AND w.dur > 300000000
                                                        AND w.message LIKE '%still running%'")" 1
    eq "stuck: ran until the dump" "$(q "$db" "SELECT busy_ns > 300000000 FROM tasks WHERE name = 'stuck'")" 1
else
    no "stuck: no dump"
fi
kill -9 $p
mkdir "$tmp/off"
COSCOPE_FLIGHT=1s COSCOPE_FLIGHT_TRIGGERS=none COSCOPE_FLIGHT_DIR="$tmp/off" "$prog" asleep 300 > /dev/null 2>&1
sleep 0.5
eq "triggers off: no dump" "$(ls "$tmp/off" | wc -l)" 0

# ---- crash ---------------------------------------------------------------------------
mkdir "$tmp/cr"
COSCOPE_FLIGHT=1s COSCOPE_FLIGHT_DIR="$tmp/cr" "$prog" crash 1500 > "$tmp/cr.out" 2> "$tmp/cr.err"
eq "crash: killed by SIGSEGV" $? 139
db=$(dump_in "$tmp/cr")
if [ -n "$db" ]; then
    eq "crash: trigger" "$(q "$db" "SELECT value FROM meta WHERE key = 'flight_trigger'")" crash
    eq "crash: ended" "$(q "$db" "SELECT value || ' ' || (SELECT value FROM meta WHERE key = 'signal') FROM meta WHERE key = 'ended'")" "signal 11"
    eq "crash: marks before the fault" "$(q "$db" "SELECT COUNT(*) FROM events e JOIN strings s ON s.id = e.resource
                                                   WHERE e.kind = 'mark' AND s.text = 'before fault'")" 2
    eq "crash: jobs' marks in the window" "$(q "$db" "SELECT COUNT(*) > 100 FROM events WHERE kind = 'mark'")" 1
    eq "crash: warning" "$(q "$db" "SELECT COUNT(*) FROM warnings WHERE kind = 'crash'")" 1
    "$coscope" report "$db" > "$tmp/cr.report" 2>&1
    has "crash: stack" "$tmp/cr.report" "#0 faulty (tests/tracer/progs/flight_prog.c:$(line FL_FAULT))"
else
    no "crash: no dump"; cat "$tmp/cr.err"
fi
# abort() (a failed assert) is a crash too: dumped, with the stack into the caller.
mkdir "$tmp/ab"
COSCOPE_FLIGHT=1s COSCOPE_FLIGHT_DIR="$tmp/ab" "$prog" abort 500 > "$tmp/ab.out" 2> "$tmp/ab.err"
eq "abort: killed by SIGABRT" $? 134
db=$(dump_in "$tmp/ab")
if [ -n "$db" ]; then
    eq "abort: trigger" "$(q "$db" "SELECT value FROM meta WHERE key = 'flight_trigger'")" crash
    eq "abort: ended" "$(q "$db" "SELECT value || ' ' || (SELECT value FROM meta WHERE key = 'signal') FROM meta WHERE key = 'ended'")" "signal 6"
    eq "abort: warning" "$(q "$db" "SELECT COUNT(*) FROM warnings WHERE kind = 'crash' AND message LIKE '%SIGABRT%'")" 1
    "$coscope" report "$db" > "$tmp/ab.report" 2>&1
    has "abort: stack into the caller" "$tmp/ab.report" "aborter.* (tests/tracer/progs/flight_prog.c:$(line FL_ABORT))"
else
    no "abort: no dump"; cat "$tmp/ab.err"
fi

# ---- flood under 4 MB ------------------------------------------------------------------
FL_WINDOW_MS=30000 FL_BYTES=4194304 "$prog" flood 2000 "$tmp/flood.db" > "$tmp/fl.out" 2> "$tmp/fl.err"
get() { sed -n "s/^$1=//p" "$2"; }
peak=$(get bytes_peak "$tmp/fl.out")
eq "flood: peak within 4 MB ($peak)" "$([ -n "$peak" ] && [ "$peak" -le 4194304 ] && echo y)" y
eq "flood: the budget used ($peak)" "$([ -n "$peak" ] && [ "$peak" -gt 2097152 ] && echo y)" y
eq "flood: periods dropped" "$([ "$(get periods_dropped "$tmp/fl.out")" -gt 0 ] 2>/dev/null && echo y)" y
if [ -f "$tmp/flood.db" ]; then
    eq "flood: dump's peak within 4 MB" "$(q "$tmp/flood.db" "SELECT value <= 4194304 FROM meta WHERE key = 'flight_bytes_peak'")" 1
    # What the window kept, counted from the file: at most the budget less
    # one ring (512 KiB and its header), whatever the recorder says.
    kept=$(q "$tmp/flood.db" "SELECT SUM(length(data)) FROM chunks")
    eq "flood: kept chunks within 4 MB less a ring ($kept)" "$([ -n "$kept" ] && [ "$kept" -le 3670016 ] && echo y)" y
    eq "flood: flood in the dump" "$(q "$tmp/flood.db" "SELECT COUNT(*) > 10000 FROM events WHERE kind = 'mark'")" 1
    eq "flood: the window opens with the early tasks" "$(q "$tmp/flood.db" "SELECT COUNT(*) FROM tasks WHERE name IN ($early)")" 4
else
    no "flood: no dump"; cat "$tmp/fl.err" "$tmp/fl.out"
fi

mkdir "$tmp/small"
COSCOPE_FLIGHT=1s,1MB CO_LOG=stderr COSCOPE_FLIGHT_DIR="$tmp/small" "$prog" asleep 300 > "$tmp/small.out" 2> "$tmp/small.err"
has "too small a budget: the program runs" "$tmp/small.out" "^ready"
grep 'flight recorder' "$tmp/small.err" > "$tmp/small.lines"
eq "too small a budget: one line" "$(wc -l < "$tmp/small.lines")" 1
has "too small a budget: said" "$tmp/small.lines" "a budget of 1.00 MiB is too small"
eq "too small a budget: no dump" "$(ls "$tmp/small" | wc -l)" 0

# ---- API, window start, rate limit, failure ---------------------------------------------
FL_WINDOW_MS=1000 "$prog" api 2500 "$tmp/api.db" > "$tmp/api.out" 2> "$tmp/api.err" &
p=$!; pids="$pids $p"
wait_for "$tmp/api.db" 30 || no "api: no dump"
i=0; while ! grep -q dumped "$tmp/api.out" && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
eq "api: requests taken" "$(get api "$tmp/api.out")" "0 0 0"
eq "api: one written" "$(get dumps "$tmp/api.out")" 1
eq "api: two rate-limited" "$(get dumps_limited "$tmp/api.out")" 2
kill -9 $p 2>/dev/null
if [ -f "$tmp/api.db" ]; then
    db=$tmp/api.db
    eq "api: mode" "$(mode "$db")" 600
    eq "api: trigger" "$(q "$db" "SELECT value FROM meta WHERE key = 'flight_trigger'")" api
    eq "api: periods dropped" "$(q "$db" "SELECT value > 0 FROM meta WHERE key = 'flight_periods_dropped'")" 1
    eq "window start: no spawn of the early tasks" \
       "$(q "$db" "SELECT COUNT(*) FROM events e JOIN tasks t ON t.id = e.task WHERE e.kind = 'spawn' AND t.name IN ($early)")" 0
    q "$db" "$awaits" > "$tmp/api.awaits"
    for want in "keeper|sleep||$(line FL_KEEPER_WAIT)|1" "holder|event|never_set|$(line FL_HOLDER_WAIT)|1" \
                "blocked|lock|db_lock|$(line FL_BLOCKED_WAIT)|1" "consumer|queue_get|jobs|$(line FL_CONSUMER_WAIT)|1"; do
        has "window start: at its await" "$tmp/api.awaits" "^$want\$"
    done
    eq "window start: spawn sites" "$(q "$db" "SELECT COUNT(spawn_loc) FROM tasks WHERE name IN ($early)")" 4
    q "$db" "$holds" > "$tmp/api.holds"
    has "window start: holder holds" "$tmp/api.holds" "^holder|&\\?db_lock\$"
fi
"$prog" api 300 "$tmp/missing/x.db" > "$tmp/apif.out" 2> "$tmp/apif.err"
eq "api: failed dump counted, program fine" "$?|$(get dumps_failed "$tmp/apif.out")|$(get dumps "$tmp/apif.out")" "0|1|0"

# ---- a crowd: a snapshot bigger than one chunk -----------------------------------------
FL_WINDOW_MS=1000 FL_CROWD=12000 "$prog" crowd 1500 "$tmp/crowd.db" > "$tmp/crowd.out" 2> "$tmp/crowd.err" &
p=$!; pids="$pids $p"
wait_for "$tmp/crowd.db" 60 || no "crowd: no dump"
i=0; while ! grep -q dumped "$tmp/crowd.out" && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
kill -9 $p 2>/dev/null
if [ -f "$tmp/crowd.db" ]; then
    db=$tmp/crowd.db
    eq "crowd: periods dropped" "$(q "$db" "SELECT value > 0 FROM meta WHERE key = 'flight_periods_dropped'")" 1
    eq "crowd: no spawn of the sleepers" \
       "$(q "$db" "SELECT COUNT(*) FROM events e JOIN tasks t ON t.id = e.task WHERE e.kind = 'spawn' AND t.name = 'sleeper'")" 0
    eq "crowd: every sleeper at its await" \
       "$(q "$db" "SELECT COUNT(*) FROM spans s JOIN tasks t ON t.id = s.task JOIN locations l ON l.id = s.end_loc
                  WHERE s.kind = 'step' AND s.open = 1 AND t.name = 'sleeper' AND s.wait = 'sleep' AND l.line = $(line FL_SLEEPER_WAIT)")" 12000
    # The snapshot (24000 records) is cut into chunks as a recorder cuts
    # them; the window's other pieces hold a few hundred events each.
    eq "crowd: the snapshot in several chunks" "$(q "$db" "SELECT COUNT(*) >= 2 FROM chunks WHERE n >= 5000")" 1
    eq "crowd: no chunk over 16384 events" "$(q "$db" "SELECT MAX(n) <= 16384 FROM chunks")" 1
fi

# ---- signal, coscope dump -----------------------------------------------------------------
mkdir "$tmp/sig"
FL_WINDOW_MS=1000 COSCOPE_FLIGHT_DIR="$tmp/sig" "$prog" serve 0 > "$tmp/sv.out" 2> "$tmp/sv.err" &
p=$!; pids="$pids $p"
i=0; while ! grep -q ready "$tmp/sv.out" 2>/dev/null && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
sleep 0.5
kill -s RTMIN+9 $p
sleep 0.2
kill -s RTMIN+9 $p
dump_in "$tmp/sig" > /dev/null
sleep 0.5
eq "signal: one dump (rate limit)" "$(ls "$tmp/sig" | grep -c '\.db$')" 1
db=$(one_db "$tmp/sig")
[ -n "$db" ] && eq "signal: trigger" "$(q "$db" "SELECT value FROM meta WHERE key = 'flight_trigger'")" signal
for n in 1 2; do
    "$coscope" dump $p -o "$tmp/out$n.db" > "$tmp/d$n.out" 2> "$tmp/d$n.err" && ok || { no "coscope dump $n: status $?"; cat "$tmp/d$n.err"; }
    [ -f "$tmp/out$n.db" ] && eq "coscope dump $n: trigger" "$(q "$tmp/out$n.db" "SELECT value FROM meta WHERE key = 'flight_trigger'")" dump
done
# A dump the helper cannot write (its directory is missing) is that failure,
# named with the path, not "no flight recorder"; the program runs on.
"$coscope" dump $p -o "$tmp/missing/x.db" > "$tmp/dm.out" 2> "$tmp/dm.err"
if [ $? -eq 1 ] && [ "$(wc -l < "$tmp/dm.err")" -eq 1 ] && grep -q "$tmp/missing/x.db: No such file or directory" "$tmp/dm.err" &&
   ! grep -q "no flight recorder" "$tmp/dm.err"; then ok
else no "dump into a missing directory: $(cat "$tmp/dm.err")"; fi
kill -0 $p 2>/dev/null && ok || no "serve: the program died"
kill -9 $p 2>/dev/null
sleep 30 &
s=$!; pids="$pids $s"
"$coscope" dump $s > "$tmp/r.out" 2> "$tmp/r.err"
if [ $? -ne 0 ] && [ "$(wc -l < "$tmp/r.err")" -eq 1 ] && grep -q "has no flight recorder" "$tmp/r.err"; then ok
else no "dump refused: $(cat "$tmp/r.err")"; fi
kill -9 $s
# A program whose COSCOPE_FLIGHT was refused (or whose helper was not
# found) runs no recorder: `coscope dump` says that, not "start it with
# COSCOPE_FLIGHT=30s", which it was; the value quoted made safe (a bidi
# override shown as its code).
COSCOPE_FLIGHT="30x$(printf '\342\200\256')" "$prog" serve 0 > "$tmp/bad.out" 2> "$tmp/bad.err" &
b=$!; pids="$pids $b"
i=0; while ! grep -q ready "$tmp/bad.out" 2>/dev/null && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
"$coscope" dump $b > "$tmp/rb.out" 2> "$tmp/rb.err"
if [ $? -eq 1 ] && [ "$(wc -l < "$tmp/rb.err")" -eq 1 ] && grep -q "COSCOPE_FLIGHT=30x<U+202E>" "$tmp/rb.err"; then ok
else no "dump of a refused COSCOPE_FLIGHT: $(cat "$tmp/rb.err")"; fi
kill -9 $b

# ---- deadlock, after its 20 s ---------------------------------------------------------
i=0; while [ -z "$(one_db "$tmp/dl")" ] && [ $(($(date +%s) - dl_start)) -lt 40 ]; do sleep 0.05; i=$((i + 1)); done
db=$(one_db "$tmp/dl")
eq "deadlock: not before its 20 s" "$([ $(($(date +%s) - dl_start)) -ge 20 ] && echo y)" y
if [ -n "$db" ]; then
    sleep 0.3
    eq "deadlock: one dump" "$(ls "$tmp/dl" | wc -l)" 1
    eq "deadlock: mode" "$(mode "$db")" 600
    eq "deadlock: trigger" "$(q "$db" "SELECT value FROM meta WHERE key = 'flight_trigger'")" deadlock
    eq "deadlock: ended" "$(q "$db" "SELECT value FROM meta WHERE key = 'ended'")" dumped
    eq "deadlock: warnings" "$(q "$db" "SELECT COUNT(*) FROM warnings WHERE kind = 'deadlock'")" 2
    # The last window: the window before the dump (250 ms after the
    # warning, the hung program quiet since), not the whole run.
    eq "deadlock: window" "$(q "$db" "SELECT value BETWEEN 700000000 AND 2600000000 FROM meta WHERE key = 'duration_ns'")" 1
    eq "deadlock: periods dropped" "$(q "$db" "SELECT value > 0 FROM meta WHERE key = 'flight_periods_dropped'")" 1
    eq "deadlock: early tasks not spawned in the window" \
       "$(q "$db" "SELECT COUNT(*) FROM events e JOIN tasks t ON t.id = e.task WHERE e.kind = 'spawn' AND t.name IN ($early)")" 0
    q "$db" "$awaits" > "$tmp/dl.awaits"
    for want in "alpha|lock|lock_b|$(line FL_ALPHA_WAIT)|1" "beta|event|never_set|$(line FL_BETA_HANG)|1" \
                "holder|event|never_set|$(line FL_HOLDER_WAIT)|1" "blocked|lock|db_lock|$(line FL_BLOCKED_WAIT)|1"; do
        has "deadlock: await at the hang" "$tmp/dl.awaits" "^$want\$"
    done
    q "$db" "$holds" > "$tmp/dl.holds"
    for want in "holder|&\\?db_lock" "alpha|&\\?lock_a" "beta|&\\?lock_b"; do has "deadlock: hold at the hang" "$tmp/dl.holds" "^$want\$"; done
    "$coscope" report "$db" > "$tmp/dl.report" 2>&1
    has "deadlock: report" "$tmp/dl.report" "got -EDEADLK"
    has "deadlock: report names the trigger" "$tmp/dl.report" "dumped by deadlock"
else
    no "deadlock: no dump in 40 s"; cat "$tmp/dl.err"
fi
kill -9 $dlp 2>/dev/null


echo "flight: $pass passed, $fail failed"
[ $fail -eq 0 ]
