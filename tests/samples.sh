#!/bin/sh
# SPDX-License-Identifier: MIT
# samples.sh -- every program in samples/ runs under the real `coscope run`
# (each bounded by `timeout 20`), and SQL on its trace (through `coscope
# sql`) checks that it does what its opening comment says:
#
#   - the examples: exit status, what they print, their tasks (names,
#     states, results), the waits that make the point (a `thread` await, a
#     semaphore that let 3 through, a queue's depth...), and no warning;
#   - the failure cases: the exact warning kinds and, for each warning, the
#     task and the source lines (found with grep -n on a marker comment in
#     the sample, so editing a sample cannot silently break the test);
#   - the crashes (segfault, overflow): meta.ended = 'signal', and the
#     events recorded before the crash are in the trace;
#   - the showcase: its planted slow step and its contention.
#
# Run from anywhere; BUILD names the build directory (default build), which
# must hold coscope and build/samples/* (`make` builds them).  Prints a line
# per failure, then "N passed, M failed", and exits non-zero if any failed.
cd "$(dirname "$0")/.." || exit 1
build=${BUILD:-build}
[ -d "$build" ] || { echo "samples: no build directory $build (make builds it)"; exit 1; }
build=$(cd "$build" && pwd)
coscope=$build/coscope
bin=$build/samples
src=samples
# Under `make check` the samples carry ASan: let signals kill them as they
# would without it, and keep leak reports from changing exit statuses.
ASAN_OPTIONS=${ASAN_OPTIONS:-handle_segv=0:handle_sigbus=0:handle_abort=0:detect_leaks=0}
# UBSan catches segfault's NULL member access before the CPU does: have it
# die by a signal (SIGABRT) all the same, as the crash checks expect.
UBSAN_OPTIONS=${UBSAN_OPTIONS:-abort_on_error=1}
export ASAN_OPTIONS UBSAN_OPTIONS
# The samples' comments describe the default thresholds, not the caller's.
unset CO_DEBUG CO_SLOW_MS COSCOPE_SLOW_MS

[ -x "$coscope" ] || { echo "samples: $coscope is missing (make builds it)"; exit 1; }
for f in "$src"/*.c; do
    name=$(basename "$f" .c)
    [ -x "$bin/$name" ] || { echo "samples: $bin/$name is missing (make builds it)"; exit 1; }
done
command -v timeout >/dev/null || { echo "samples: timeout(1) is missing"; exit 1; }

tmp=$(mktemp -d /tmp/coscope-samples-XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

# check WHAT ACTUAL EXPECTED
check() {
    if [ "$2" = "$3" ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        printf 'samples: FAIL: %s:\n  got      %s\n  expected %s\n' "$1" "$(echo "$2" | tr '\n' ';')" \
               "$(echo "$3" | tr '\n' ';')"
    fi
}
# has WHAT FILE TEXT: FILE contains the line fragment TEXT.
has() {
    if grep -qF -- "$3" "$2"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "samples: FAIL: $1: '$3' not in $(basename "$2"):"
        sed 's/^/    /' "$2" | head -20
    fi
}
# q SQL: one query against $db through `coscope sql`: the CSV without its
# header line and without the CRs of its line ends.  Columns computed over
# several lines of SQL need an alias (`AS x`): the header is the expression.
q() { "$coscope" sql "$db" "$1" --csv 2>&1 | tail -n +2 | tr -d '\r'; }
# code_line TEXT: the number of the only line of $src/$name.c containing TEXT.
code_line() {
    n=$(grep -cF -- "$1" "$src/$name.c")
    [ "$n" = 1 ] || { echo "samples: '$1' found $n times in $src/$name.c" >&2; echo 0; return; }
    grep -nF -- "$1" "$src/$name.c" | cut -d: -f1
}
# line_of MARKER: the line carrying the comment /* MARKER (the samples'
# opening comments name the markers too, without the comment opener).
line_of() { code_line "/* $1"; }
# run NAME: trace build/samples/NAME into $tmp/NAME.db (db); stdout and
# stderr into $out and $err, exit status in rc.  Every run is bounded.
run() {
    name=$1
    db=$tmp/$name.db
    out=$tmp/$name.out
    err=$tmp/$name.err
    timeout 20 "$coscope" run -o "$db" -- "$bin/$name" > "$out" 2> "$err"
    rc=$?
    check "$name: terminated (no hang)" "$([ $rc -eq 124 ] && echo 'timed out' || echo ended)" ended
    check "$name: trace built" "$(q "SELECT value FROM meta WHERE key = 'built'")" 1
}
# kinds: the warning kinds of the trace with their counts, "kind=n ...".
kinds() { q "SELECT group_concat(k, ' ') FROM (SELECT kind || '=' || COUNT(*) AS k FROM warnings GROUP BY kind ORDER BY kind)"; }
# rows KIND: the KIND warnings, one a line, sorted: "task|task2|line|line2"
# (task names, '-' for none; lines of $src/$name.c only).
rows() {
    q "SELECT COALESCE(t.name, '-') || '|' || COALESCE(t2.name, '-') || '|' || COALESCE(l.line, '-') || '|'
           || COALESCE(l2.line, '-') AS x
       FROM warnings w LEFT JOIN tasks t ON t.id = w.task LEFT JOIN tasks t2 ON t2.id = w.task2
       LEFT JOIN locations l ON l.id = w.loc AND l.file LIKE '%/$name.c'
       LEFT JOIN locations l2 ON l2.id = w.loc2 AND l2.file LIKE '%/$name.c'
       WHERE w.kind = '$1'" | LC_ALL=C sort
}
sorted() { printf '%s\n' "$@" | LC_ALL=C sort; }
# tasks_like PATTERN: "name=state:result" of the tasks whose name matches, by id.
tasks_like() { q "SELECT group_concat(x, ' ') FROM (SELECT name || '=' || state || ':' || COALESCE(result, '-') AS x
                  FROM tasks WHERE name LIKE '$1' ORDER BY id)"; }
# awaits_at WAIT MARKER: how many awaits on WAIT were made at MARKER's line.
awaits_at() { q "SELECT COUNT(*) FROM awaits a JOIN locations l ON l.id = a.loc
                 WHERE a.wait = '$1' AND l.line = $(line_of "$2") AND l.file LIKE '%/$name.c'"; }
# contention RESOURCE COLUMNS: a row of lock_contention, '|'-separated.
contention() { q "SELECT $2 FROM lock_contention WHERE name = '$1'" | tr ',' '|'; }
# The two thresholds the checks below rely on.
ms=1000000
ecanceled=-125
etimedout=-110

# ---- the examples -------------------------------------------------------------

run hello
check "hello: exit status" "$rc" 0
check "hello: output" "$(cat "$out")" "$(printf 'Hello, coscope...\n...world!')"
check "hello: tasks" "$(tasks_like %)" "main=done:0"
check "hello: the 100 ms sleep" "$(q "SELECT COUNT(*) FROM awaits a JOIN locations l ON l.id = a.loc
    WHERE a.wait = 'sleep' AND a.dur >= 100 * $ms AND l.line = $(line_of HELLO_SLEEP)")" 1
check "hello: warnings" "$(kinds)" ""

run greet_gather
check "greet_gather: exit status" "$rc" 0
check "greet_gather: output" "$(cat "$out")" "$(printf 'Hello, Bob! (after 100 ms)\nHello, Alice! (after 200 ms)\nboth greeted in ~200 ms, results 5 and 3')"
check "greet_gather: tasks" "$(tasks_like 'greet %')" "greet Alice=done:5 greet Bob=done:3"
check "greet_gather: Bob ends first" "$(q "SELECT name FROM tasks WHERE name LIKE 'greet %' ORDER BY end_ts LIMIT 1")" "greet Bob"
check "greet_gather: the sleeps overlap (main waits < 250 ms)" "$(q "SELECT wait_ns < 250 * $ms FROM tasks WHERE name = 'main'")" 1
check "greet_gather: main's gather" "$(awaits_at tasks GREET_GATHER)" 1
check "greet_gather: warnings" "$(kinds)" ""

run workers
check "workers: exit status" "$rc" 0
check "workers: last line" "$(tail -n 1 "$out")" "gathered: A did 3 jobs, B did 4 jobs"
check "workers: interleaved (B's first job before A's)" "$(head -n 1 "$out")" "worker B: job 1/4 done"
check "workers: tasks" "$(tasks_like 'worker %')" "worker A=done:3 worker B=done:4"
check "workers: sleeps at WORKER_SLEEP" "$(awaits_at sleep WORKER_SLEEP)" 7
check "workers: warnings" "$(kinds)" ""

run future
check "future: exit status" "$rc" 0
check "future: output" "$(cat "$out")" "$(printf 'price of coffee: 3.50\ndiscount: no such file or directory')"
check "future: tasks" "$(tasks_like %)" "main=done:0 quote_service=done:0"
check "future: main waited on price" "$(q "SELECT r.name || ' ' || a.result || ' ' || (a.dur >= 40 * $ms) FROM awaits a
    JOIN resources r ON r.id = a.resource JOIN locations l ON l.id = a.loc WHERE a.task = 1 AND a.wait = 'future'
    AND l.line = $(line_of FUTURE_AWAIT)")" "price 0 1"
check "future: set once, failed once" "$(q "SELECT group_concat(arg, ' ') FROM (SELECT arg FROM events WHERE kind = 'future_set' ORDER BY ts)")" "0 -2"
check "future: warnings" "$(kinds)" ""

run to_thread
check "to_thread: exit status" "$rc" 0
check "to_thread: output" "$(cat "$out")" "lookup answered 42; the ticker ticked on while it ran"
check "to_thread: main waited on the pool >= 250 ms" "$(q "SELECT COUNT(*) FROM awaits a JOIN locations l ON l.id = a.loc
    WHERE a.wait = 'thread' AND a.dur >= 250 * $ms AND a.result = 0 AND l.line = $(line_of TO_THREAD)")" 1
check "to_thread: the ticker ticked meanwhile" "$(q "SELECT awaits >= 10 FROM tasks WHERE name = 'ticker'")" 1
check "to_thread: no slow step (warnings)" "$(kinds)" ""

run shared_list
check "shared_list: exit status" "$rc" 0
check "shared_list: output" "$(cat "$out")" "list has 20 entries, 20 distinct (expected 20)"
check "shared_list: writers" "$(q "SELECT COUNT(*) FROM tasks WHERE name LIKE 'writer %' AND state = 'done'")" 5
check "shared_list: list_lock acquisitions, waiters" "$(contention list_lock "acquisitions, max_waiters >= 4")" "20|1"
check "shared_list: waits at LIST_ACQUIRE" "$(q "SELECT COUNT(*) >= 10 FROM awaits a JOIN locations l ON l.id = a.loc
    WHERE a.wait = 'lock' AND l.line = $(line_of LIST_ACQUIRE)")" 1
check "shared_list: warnings" "$(kinds)" ""

run timeouts
check "timeouts: exit status" "$rc" 0
check "timeouts: output" "$(cat "$out")" "$(printf '%s\n' 'slow_report: cancelled, cleaning up' \
    'wait_for(slow_report, 100 ms): timed out' 'wait_for(quick_report, 100 ms): result 20' \
    'timeout scope: 1 of 2 steps done, scope expired (using the default for the rest)')"
check "timeouts: tasks" "$(tasks_like %)" "main=done:0 slow_report=cancelled:$ecanceled quick_report=done:20"
check "timeouts: slow_report's sleep cut at ~100 ms" "$(q "SELECT a.result || ' ' || (a.dur BETWEEN 90 * $ms AND 400 * $ms)
    FROM awaits a JOIN locations l ON l.id = a.loc WHERE l.line = $(line_of SLOW_REPORT_SLEEP)")" "$ecanceled 1"
check "timeouts: the scope's sleeps: 0 then -ETIMEDOUT" "$(q "SELECT group_concat(result, ' ') FROM (SELECT a.result FROM awaits a
    JOIN locations l ON l.id = a.loc WHERE l.line = $(line_of SCOPE_SLEEP) ORDER BY a.start)")" "0 $etimedout"
check "timeouts: warnings" "$(kinds)" ""

run gather_errors
check "gather_errors: exit status" "$rc" 0
check "gather_errors: summary" "$(tail -n 1 "$out")" "2 of 4 services down"
has "gather_errors: mail's error" "$out" "mail    DOWN (connection refused)"
check "gather_errors: tasks (none cancelled)" "$(tasks_like 'check %')" \
      "check db=done:40 check mail=failed:-111 check cache=done:10 check search=failed:$etimedout"
check "gather_errors: errors read: warnings" "$(kinds)" ""

run resource
check "resource: exit status" "$rc" 0
check "resource: sessions closed" "$(tail -n 1 "$out")" "sessions still open: 0"
has "resource: teardown after a cancel" "$out" "session 3: closed (block returned task cancelled)"
check "resource: tasks" "$(tasks_like 'use_%')" "use_ok=done:7 use_fails=failed:-5 use_slow=cancelled:$ecanceled"
check "resource: three session regions" "$(q "SELECT COUNT(*) FROM spans s JOIN strings n ON n.id = s.resource
    WHERE s.kind = 'region' AND n.text = 'session'")" 3
check "resource: use_slow's teardown awaited after the cancel" "$(q "SELECT COUNT(*) FROM awaits a JOIN tasks t ON t.id = a.task
    JOIN locations l ON l.id = a.loc WHERE t.name = 'use_slow' AND a.result = 0 AND l.line = $(line_of SESSION_TEARDOWN)")" 1
check "resource: warnings" "$(kinds)" ""

run prodcons
check "prodcons: exit status" "$rc" 0
check "prodcons: output" "$(head -n 2 "$out")" "$(printf 'producer: 12 jobs queued\nall jobs processed')"
check "prodcons: consumers did all 12" "$(q "SELECT SUM(result) || ' ' || COUNT(*) FROM tasks WHERE name LIKE 'consumer %' AND state = 'done'")" "12 2"
check "prodcons: jobs' max depth" "$(contention jobs max_depth)" 3
check "prodcons: the producer waited for room" "$(q "SELECT COUNT(*) > 0 FROM awaits a JOIN locations l ON l.id = a.loc
    WHERE a.wait = 'queue_put' AND l.line = $(line_of PRODUCER_PUT)")" 1
check "prodcons: main joined" "$(awaits_at queue_join JOIN)" 1
check "prodcons: warnings" "$(kinds)" ""

run cpu_bound
check "cpu_bound: exit status" "$rc" 0
check "cpu_bound: output" "$(sort "$out")" "$(printf '%s\n' 'counts agree; the loop stayed free (many heartbeats)' \
    'subprocess:  216816 primes below 3000000' 'thread pool: 216816 primes below 3000000')"
check "cpu_bound: tasks" "$(tasks_like 'in_%')" "in_process=done:216816 in_thread=done:216816"
# co_exec may suspend more than once (output, then the exit): count time.
check "cpu_bound: waited on the process" "$(q "SELECT SUM(a.dur) > 100 * $ms FROM awaits a JOIN locations l ON l.id = a.loc
    WHERE a.wait = 'process' AND l.line = $(line_of EXEC)")" 1
check "cpu_bound: waited on the pool" "$(awaits_at thread TO_THREAD)" 1
check "cpu_bound: no slow step (warnings)" "$(kinds)" ""

run loops_threads
check "loops_threads: exit status" "$rc" 0
check "loops_threads: output" "$(cat "$out")" "$(printf 'squarer squared 20 numbers on its own thread\nsum of squares 1..20 = 2870 (expected 2870)')"
check "loops_threads: three loops on three threads" "$(q "SELECT COUNT(*) || ' ' || COUNT(DISTINCT ring) FROM tasks WHERE name = 'main'")" "3 3"
check "loops_threads: stages" "$(q "SELECT group_concat(x, ' ') FROM (SELECT name || '=' || state AS x FROM tasks
    WHERE name <> 'main' ORDER BY name)")" "numbers_source=done squarer=done summer=done"
check "loops_threads: squarer waited on its channel" "$(q "SELECT COUNT(*) > 0 FROM awaits a JOIN locations l ON l.id = a.loc
    WHERE a.wait = 'channel_recv' AND l.line = $(line_of RECV_NUMBER)")" 1
check "loops_threads: warnings" "$(kinds)" ""

run generator
check "generator: exit status" "$rc" 0
has "generator: all users" "$out" "11 users"
has "generator: found" "$out" "found #7 grace after fetching 2 page(s)"
check "generator: warnings" "$(kinds)" ""

run debug_mode
check "debug_mode: exit status" "$rc" 0
check "debug_mode: output" "$(cat "$out")" "thumbnail finished: ok"
check "debug_mode: warning kinds" "$(kinds)" "never_awaited=1 slow_step=1"
check "debug_mode: slow_step rows" "$(rows slow_step)" "thumbnail|-|$(line_of DEBUG_BEFORE)|$(line_of DEBUG_AFTER)"
check "debug_mode: never_awaited rows" "$(rows never_awaited)" "audit|-|$(line_of DEBUG_FORGOTTEN)|-"
has "debug_mode: stderr: slow step" "$err" "coscope: slow step: task 'thumbnail'"
has "debug_mode: stderr: between the two awaits" "$err" \
    "between await at samples/debug_mode.c:$(line_of DEBUG_BEFORE) and await at samples/debug_mode.c:$(line_of DEBUG_AFTER)"
has "debug_mode: stderr: never awaited" "$err" "task 'audit'"
has "debug_mode: stderr: co_log echoed" "$err" "main: starting in debug mode"

run sem_fetch
check "sem_fetch: exit status" "$rc" 0
check "sem_fetch: summary" "$(tail -n 1 "$out")" "10 fetched, 0 failed, at most 3 in flight"
has "sem_fetch: a reply" "$out" "GET /item/10 -> 200 item 10: 70 widgets"
check "sem_fetch: fetches and handlers" "$(q "SELECT group_concat(x, ' ') FROM (SELECT name || '=' || COUNT(*) AS x FROM tasks
    WHERE state = 'done' AND (name LIKE 'fetch item %' OR name = 'serve_one') GROUP BY name = 'serve_one' ORDER BY name)")" \
      "fetch item 1=10 serve_one=10"
check "sem_fetch: server cancelled on purpose" "$(tasks_like http_server)" "http_server=cancelled:$ecanceled"
check "sem_fetch: slots: acquisitions, contended, waiters" "$(contention slots 'acquisitions, contended, max_waiters')" "10|7|7"
check "sem_fetch: waits at FETCH_ACQUIRE" "$(awaits_at semaphore FETCH_ACQUIRE)" 7
check "sem_fetch: warnings" "$(kinds)" ""

# ---- the failure cases --------------------------------------------------------

run deadlock
check "deadlock: exit status (it backs off and retries)" "$rc" 0
has "deadlock: backed off" "$out" "backing off (attempt 1)"
check "deadlock: warning kinds" "$(kinds)" "deadlock=2"
second=$(code_line 'r = co_lock_acquire(&t->to->lock);')
check "deadlock: rows (both tellers, at the second acquire)" "$(rows deadlock)" \
      "$(sorted "teller_ab|teller_ba|$second|-" "teller_ba|teller_ab|$second|-")"

run leak
check "leak: exit status" "$rc" 0
check "leak: output" "$(tail -n 1 "$out")" "main done; heartbeat is still running (the leak)"
check "leak: warning kinds" "$(kinds)" "pending_at_exit=1"
check "leak: rows" "$(rows pending_at_exit)" "heartbeat|-|$(line_of LEAK_SLEEP)|-"
check "leak: heartbeat cancelled by the loop's close" "$(tasks_like heartbeat)" "heartbeat=cancelled:$ecanceled"

run unretrieved
check "unretrieved: exit status" "$rc" 0
check "unretrieved: warning kinds" "$(kinds)" "unretrieved_error=1"
check "unretrieved: rows" "$(rows unretrieved_error)" "send_receipt|-|$(line_of UNRETRIEVED_SPAWN)|-"
check "unretrieved: message" "$(q "SELECT message LIKE '%connection refused%' FROM warnings")" 1
check "unretrieved: the task" "$(tasks_like send_receipt)" "send_receipt=failed:-111"
check "unretrieved: it failed at the connect" "$(awaits_at tcp_connect UNRETRIEVED_CONNECT)" 1

run slow_step
check "slow_step: exit status" "$rc" 0
check "slow_step: the ticker saw the freeze" "$(tail -n 1 "$out")" "ticker: longest gap between ticks over 200 ms (it should be ~20)"
check "slow_step: warning kinds" "$(kinds)" "slow_step=1"
check "slow_step: rows (the two awaits around the blocking call)" "$(rows slow_step)" \
      "handle_login|-|$(line_of SLOW_BEFORE)|$(line_of SLOW_AFTER)"
check "slow_step: ~250 ms" "$(q "SELECT dur BETWEEN 240 * $ms AND 2000 * $ms FROM warnings")" 1

run contention
check "contention: exit status" "$rc" 0
check "contention: output" "$(cat "$out")" "50 reports, total 1275; took over 150 ms for 10 ms of real work"
check "contention: no warning (each hold is short)" "$(kinds)" ""
check "contention: stats_lock: acquisitions, contended, waiters" \
      "$(contention stats_lock 'acquisitions, contended, max_waiters')" "50|49|49"
check "contention: p99 wait near 200 ms" "$(contention stats_lock "wait_p99_ns BETWEEN 150 * $ms AND 2000 * $ms")" 1
check "contention: the waits, at CONTENDED_ACQUIRE" "$(awaits_at lock CONTENDED_ACQUIRE)" 49

run blocked_forever
check "blocked_forever: exit status (co_run: -EDEADLK)" "$rc" 1
check "blocked_forever: output" "$(cat "$out")" "$(printf 'config: no such file or directory (continuing with defaults)\nco_run returned deadlock: the wait would never end')"
# One story for the stuck group, rooted at main; the close adds nothing.
check "blocked_forever: warning kinds" "$(kinds)" "all_asleep=1"
check "blocked_forever: all_asleep row" "$(rows all_asleep)" "main|api_server|$(line_of SERVER_AWAIT)|$(line_of EVENT_WAIT)"
check "blocked_forever: the story" "$(q "SELECT r.kind || ':' || r.name || ' ' || w.message FROM warnings w
    JOIN resources r ON r.id = w.resource WHERE w.kind = 'all_asleep'")" \
    "\"event:config_ready every task is asleep: 'main' (#1) awaits 'api_server' (#2), which waits for event 'config_ready' (#1) to be set, and nothing left will set it\""
check "blocked_forever: the loader's error was read" "$(tasks_like load_config)" "load_config=failed:-2"
has "blocked_forever: stderr names the waiter" "$err" "waiting on event 'config_ready'"
has "blocked_forever: stderr tells the story" "$err" "coscope: 'main' (#1) awaits 'api_server' (#2), which waits for event 'config_ready' (#1) to be set"
check "blocked_forever: stderr does not repeat it at the close" "$(grep -c 'when the loop closed' "$err")" 0

run stalled_producer
check "stalled_producer: exit status (co_run: -EDEADLK)" "$rc" 1
check "stalled_producer: the producer stalls after order 7" "$(grep -c queued "$out")" 7
check "stalled_producer: warning kinds" "$(kinds)" "all_asleep=1 unretrieved_error=1"
check "stalled_producer: all_asleep row" "$(rows all_asleep)" "main|producer|$(line_of PRODUCER_AWAIT)|$(line_of STALLED_PUT)"
check "stalled_producer: unretrieved_error rows (the cause)" "$(rows unretrieved_error)" "consumer|-|$(line_of CONSUMER_SPAWN)|-"
check "stalled_producer: the story names the dead consumer" "$(q "SELECT r.name || ' ' || w.message FROM warnings w
    JOIN resources r ON r.id = w.resource WHERE w.kind = 'all_asleep'")" \
    "\"orders every task is asleep: 'main' (#1) awaits 'producer' (#3), which waits for room in queue 'orders' (#1) that nobody will make: its consumer 'consumer' (#2) ended\""
check "stalled_producer: consumer" "$(tasks_like consumer)" "consumer=failed:-71"

run sem_leak
check "sem_leak: exit status (co_run: -EDEADLK)" "$rc" 1
check "sem_leak: output" "$(cat "$out")" "$(printf 'query 1: ok\nquery 2: timed out\nquery 3: timed out\nco_run returned deadlock: the wait would never end')"
check "sem_leak: warning kinds" "$(kinds)" "all_asleep=1"
check "sem_leak: all_asleep row" "$(rows all_asleep)" "main|query 4|$(line_of QUERIES_GATHER)|$(line_of POOL_ACQUIRE)"
check "sem_leak: the story names the last taker" "$(q "SELECT message FROM warnings WHERE kind = 'all_asleep'")" \
    "\"every task is asleep: 'main' (#1) awaits 'query 4' (#5), which waits for semaphore 'db_pool' (#1) last taken by 'query 3' (#4), since ended; a unit never came back: 'query 3' (#4) took one at sem_leak.c:$(line_of POOL_ACQUIRE) and ended (failed, after sem_leak.c:$(line_of QUERY_SLEEP)) without releasing it: its await at sem_leak.c:$(line_of QUERY_SLEEP) timed out and it left without releasing (caused at sem_leak.c:$(line_of QUERY_SLEEP))\""
# The line that caused it (issue 22): the query's timed-out await, after which it left holding its unit.
check "sem_leak: caused at the timed-out await" \
    "$(q "SELECT l.line FROM warnings w JOIN locations l ON l.id = w.cause_loc WHERE w.kind = 'all_asleep'")" "$(line_of QUERY_SLEEP)"

# crashed NAME SIGNAL: the run ended by SIGNAL (128 + N), as meta says.
crashed() {
    check "$name: exit status" "$rc" $((128 + $2))
    check "$name: meta ended" "$(q "SELECT group_concat(value, ' ') FROM (SELECT value FROM meta
        WHERE key IN ('ended', 'signal') ORDER BY key)")" "signal $2"
    check "$name: no task ended" "$(q "SELECT COUNT(*) FROM tasks WHERE end_ts IS NOT NULL")" 0
}
run segfault
if grep -q __ubsan_handle "$bin/segfault"; then sig=6 signame=ABRT; else sig=11 signame=SEGV; fi
crashed segfault $sig
check "segfault: signal name" "$(q "SELECT value FROM meta WHERE key = 'signal_name'")" $signame
check "segfault: orders packed before the crash" "$(grep -c packed "$out")" 6
check "segfault: their log lines are kept" "$(q "SELECT COUNT(*) FROM events WHERE kind = 'log'")" 6
check "segfault: the last event is the mark before the crash" "$(q "SELECT s.text FROM events e JOIN strings s ON s.id = e.resource
    WHERE e.kind IN ('log', 'mark') ORDER BY e.ts DESC LIMIT 1")" "packing order 7"
check "segfault: the packer that crashed was running" "$(tasks_like 'packer 0')" "packer 0=ready:-"

run overflow
crashed overflow 11
has "overflow: the runtime names the task" "$err" "coscope: stack overflow in task 'categorize'"
check "overflow: log lines before the crash" "$(q "SELECT COUNT(*) FROM events WHERE kind = 'log'")" 2
check "overflow: the last event is the mark before the crash" "$(q "SELECT s.text FROM events e JOIN strings s ON s.id = e.resource
    WHERE e.kind IN ('log', 'mark') ORDER BY e.ts DESC LIMIT 1")" "categorizing toaster"
check "overflow: the good products" "$(cat "$out")" "$(printf 'novel: all/books\nkettle: all/kitchen')"

# ---- the showcase ---------------------------------------------------------------

run showcase
check "showcase: exit status" "$rc" 0
has "showcase: crawled" "$out" "crawled 72 pages in"
has "showcase: indexed" "$out" "indexer: 72 pages"
check "showcase: runs 1.5-4 s" "$(q "SELECT value BETWEEN 1500 * $ms AND 4000 * $ms FROM meta WHERE key = 'duration_ns'")" 1
check "showcase: tasks" "$(q "SELECT group_concat(x, ' ') FROM (SELECT name || '=' || COUNT(*) AS x FROM tasks WHERE state = 'done'
    AND name IN ('crawler 1', 'indexer', 'serve_one') GROUP BY name ORDER BY name)")" "crawler 1=1 indexer=1 serve_one=72"
check "showcase: crawlers" "$(q "SELECT COUNT(*) || ' ' || SUM(result) FROM tasks WHERE name LIKE 'crawler %' AND state = 'done'")" "6 72"
check "showcase: warning kinds (the planted slowness)" "$(kinds)" "slow_step=1"
# The step starts at the cache lock's acquire if it had to wait for it,
# else at the yield before; it always ends at the cache's persist.
acquire=$(line_of SHOWCASE_CACHE_ACQUIRE)
yield=$(line_of SHOWCASE_YIELD)
check "showcase: slow step from acquire or yield to persist" "$(q "SELECT t.name LIKE 'crawler _' AND l.line IN ($acquire, $yield)
    AND w.dur BETWEEN 145 * $ms AND 1000 * $ms AS x FROM warnings w JOIN tasks t ON t.id = w.task JOIN locations l ON l.id = w.loc")" 1
check "showcase: ... ends at the persist" "$(rows slow_step | cut -d'|' -f4)" "$(line_of SHOWCASE_CACHE_PERSIST)"
check "showcase: the planted contention: cache_lock" "$(contention cache_lock "acquisitions || '|' || (contended >= 15) || '|' || (hold_max_ns >= 150 * $ms)")" "72|1|1"
check "showcase: rate_limit: 3 crawlers queued behind it" "$(contention rate_limit 'acquisitions, max_waiters')" "72|3"
check "showcase: results and frontier waited on" "$(q "SELECT COUNT(*) FROM lock_contention WHERE name IN ('results', 'frontier') AND contended > 0")" 2

echo "samples: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
