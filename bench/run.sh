#!/bin/sh
# SPDX-License-Identifier: MIT
# run.sh -- run the coscope benchmarks and their baselines and print one
# table: figure, measured, target, PASS/MISS, and for workloads (a)(b)(c) the
# asyncio, uvloop, Tokio, Go and Node times measured in this same run and our
# speed-up over each.  `make bench` builds everything and calls this; the
# Tokio and Go baselines are built here (bench/tokio, bench/go), their
# toolchains installed from Debian's packages when we are root.
#
# Usage: sh bench/run.sh [BUILD]          (binaries in BUILD/bench, default build)
# Environment:
#   PYTHON=/path/python3   interpreter for the baselines (default /usr/bin/python3)
#   BENCH_NO_PYTHON=1      skip the Python baselines (printed as n/a)
#   BENCH_NO_NATIVE=1      skip the Tokio, Go and Node baselines (n/a)
#   CARGO=/path/cargo      for the Tokio baseline (default Debian's /usr/bin/cargo,
#                          which builds offline against librust-tokio-dev)
#   GO=/path/go  NODE=/path/node   (default: from $PATH)
#   BENCH_TRACER=1         also run BUILD/bench/tracer (the tracer's own figures,
#                          about a minute; printed as-is, no targets here)
# Exit status: 0 if every benchmark ran (targets missed or not), 1 if one failed.
set -u

BUILD=${1:-build}
BIN=$BUILD/bench
HERE=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-/usr/bin/python3}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/coscope-bench.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM
failed=0

TIMEOUT=
command -v timeout >/dev/null 2>&1 && TIMEOUT="timeout 300"

progress() { printf '%s ' "$1" >&2; }

# run_c NAME: run BIN/NAME, keep its key=value output in TMP/NAME.
run_c() {
    progress "$1"
    if [ ! -x "$BIN/$1" ]; then
        echo "run.sh: $BIN/$1 is missing (make bench builds it)" >"$TMP/$1.err"
        : >"$TMP/$1"
        failed=1
        return
    fi
    if ! $TIMEOUT "$BIN/$1" >"$TMP/$1" 2>"$TMP/$1.err"; then
        : >"$TMP/$1"
        failed=1
    fi
}

# get NAME KEY: a value from run_c's output, or n/a.
get() {
    v=$(sed -n "s/^$2=//p" "$TMP/$1" 2>/dev/null | head -n 1)
    echo "${v:-n/a}"
}

# Baselines.  n/a when the interpreter, asyncio or uvloop is missing or the
# script fails: never an error.
have_py=0
have_uvloop=0
if [ "${BENCH_NO_PYTHON:-0}" != 1 ] && [ -x "$PYTHON" ] && "$PYTHON" -c 'import asyncio' >/dev/null 2>&1; then
    have_py=1
    "$PYTHON" -c 'import uvloop' >/dev/null 2>&1 && have_uvloop=1
fi

# py SCRIPT [--uvloop]: seconds, or n/a.
py() {
    script=$1
    shift
    if [ $have_py = 0 ] || { [ "${1:-}" = --uvloop ] && [ $have_uvloop = 0 ]; }; then
        echo n/a
        return
    fi
    v=$($TIMEOUT "$PYTHON" "$HERE/python/$script.py" "$@" 2>/dev/null | sed -n 's/^seconds=//p' | head -n 1)
    echo "${v:-n/a}"
}

# Tokio, Go and Node: the same three workloads (bench/tokio, bench/go,
# bench/node), best of 3 each.  Their toolchains come from Debian's packages
# (cargo + librust-tokio-dev, golang-go), installed like uvloop when we are
# root (scripts/ensure-deps.sh); Node is used if it is on the machine.  A
# toolchain missing or a build failing reads n/a, never an error.
CARGO=${CARGO:-/usr/bin/cargo}
GO=${GO:-$(command -v go 2>/dev/null || echo /usr/bin/go)}
NODE=${NODE:-$(command -v node 2>/dev/null || echo node)}
TOKIO_BIN= GO_BIN= NODE_JS= TOKIO_VER= GO_VER= NODE_VER=
NATIVE_ERR=$TMP/native-build.err
if [ "${BENCH_NO_NATIVE:-0}" != 1 ]; then
    progress "baselines:"
    sh "$HERE/../scripts/ensure-deps.sh" cargo librust-tokio-dev >/dev/null 2>>"$NATIVE_ERR" ||
        echo "no cargo/librust-tokio-dev: the Tokio baseline reads n/a" >>"$NATIVE_ERR"
    sh "$HERE/../scripts/ensure-deps.sh" golang-go >/dev/null 2>>"$NATIVE_ERR" ||
        echo "no golang-go: the Go baseline reads n/a" >>"$NATIVE_ERR"
    ABSBIN=$(mkdir -p "$BIN" && cd "$BIN" && pwd)
    if [ -x "$CARGO" ]; then
        progress tokio
        # Offline, crates from /usr/share/cargo/registry (bench/tokio/.cargo/config.toml).
        if (cd "$HERE/tokio" && CARGO_TARGET_DIR="$ABSBIN/tokio-target" $TIMEOUT "$CARGO" build --release -q) 2>>"$NATIVE_ERR"; then
            TOKIO_BIN=$ABSBIN/tokio-target/release/coscope-bench-tokio
            TOKIO_VER=$(sed -n '/^name = "tokio"$/{n;s/^version = "\(.*\)"/\1/p;}' "$HERE/tokio/Cargo.lock" 2>/dev/null)
        fi
    fi
    if [ -x "$GO" ]; then
        progress go
        if (cd "$HERE/go" && GOCACHE="$ABSBIN/go-cache" GOPROXY=off GOFLAGS=-mod=mod $TIMEOUT "$GO" build -o "$ABSBIN/coscope-bench-go" .) 2>>"$NATIVE_ERR"; then
            GO_BIN=$ABSBIN/coscope-bench-go
            GO_VER=$("$GO" version 2>/dev/null | awk '{print $3}')
        fi
    fi
    if "$NODE" --version >/dev/null 2>&1; then
        NODE_JS=$HERE/node/bench.js
        NODE_VER=$("$NODE" --version)
    fi
fi

# native KIND WORKLOAD: seconds from the Tokio, Go or Node baseline, or n/a.
native() {
    v=
    case $1 in
    tokio) [ -n "$TOKIO_BIN" ] && v=$($TIMEOUT "$TOKIO_BIN" "$2" 2>>"$NATIVE_ERR") ;;
    go) [ -n "$GO_BIN" ] && v=$(GOMAXPROCS=1 $TIMEOUT "$GO_BIN" "$2" 2>>"$NATIVE_ERR") ;;
    node) [ -n "$NODE_JS" ] && v=$($TIMEOUT "$NODE" "$NODE_JS" "$2" 2>>"$NATIVE_ERR") ;;
    esac
    v=$(echo "$v" | sed -n 's/^seconds=//p' | head -n 1)
    echo "${v:-n/a}"
}

# Other work on the machine skews every figure: say so.
NCPU=$(nproc 2>/dev/null || echo 1)
LOAD0=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0)

progress "running:"
for b in spawn_yield pingpong lock switch spawn idle_mem; do run_c "$b"; done
# The echo benchmark (runtime I/O) and the tracer's figures; BENCH_QUICK=1
# skips them (they take about a minute together).
if [ "${BENCH_QUICK:-0}" != 1 ]; then
    progress echo
    if ! $TIMEOUT "$BIN/echo" --trace "$TMP/echo-trace.db" >"$TMP/echo" 2>"$TMP/echo.err"; then : >"$TMP/echo"; failed=1; fi
    rm -f "$TMP"/echo-trace.db*
    # The flight recorder (issue 21): echo with it on (alternating on/off, as
    # --trace), ping-pong under COSCOPE_FLIGHT=30s beside the untraced run,
    # and the dump of a full 30 s window (bench/flight, about 35 s).
    progress flight
    if ! $TIMEOUT "$BIN/echo" --trace "$TMP/echo-flight.db" --flight >"$TMP/echo_flight" 2>"$TMP/echo_flight.err"; then : >"$TMP/echo_flight"; failed=1; fi
    if ! COSCOPE_FLIGHT=30s $TIMEOUT "$BIN/pingpong" >"$TMP/pingpong_flight" 2>"$TMP/pingpong_flight.err"; then : >"$TMP/pingpong_flight"; failed=1; fi
    if ! $TIMEOUT "$BIN/flight" --out "$TMP/flight.db" >"$TMP/flight" 2>"$TMP/flight.err"; then : >"$TMP/flight"; failed=1; fi
    rm -f "$TMP"/flight.db*
    progress tracer
    if ! $TIMEOUT "$BIN/tracer" --db "$TMP/trace.db" >"$TMP/tracer" 2>"$TMP/tracer.err"; then : >"$TMP/tracer"; failed=1; fi
    rm -f "$TMP"/trace.db*
    # The terminal UI on big traces (its model's frame costs, bench/tui):
    # a ping-pong under coscope run (15M events), 200k tasks, and 100k
    # tasks waiting on 40 events (bench/waiters: the Resources view and the
    # await tree with tens of thousands of waiters at t); then a
    # program recording 1M events/s followed live by `coscope run --tui`
    # (in a detached tmux: it needs a terminal) while bench/tui polls.
    progress tui
    "$BUILD/coscope" run --force -o "$TMP/tui-pp.db" -- "$BIN/pingpong" >/dev/null 2>"$TMP/tui-gen.err" &&
        "$BUILD/coscope" run --force -o "$TMP/tui-sy.db" -- "$BIN/spawn_yield" --reps 1 >/dev/null 2>>"$TMP/tui-gen.err" &&
        "$BUILD/coscope" run --force -o "$TMP/tui-w.db" -- "$BIN/waiters" >/dev/null 2>>"$TMP/tui-gen.err" &&
        rm -f "$TMP/tui-gen.err"
    $TIMEOUT "$BIN/tui" "$TMP/tui-pp.db" >"$TMP/tui_pp" 2>"$TMP/tui_pp.err" || failed=1
    $TIMEOUT "$BIN/tui" "$TMP/tui-sy.db" >"$TMP/tui_sy" 2>"$TMP/tui_sy.err" || failed=1
    $TIMEOUT "$BIN/tui" "$TMP/tui-w.db" >"$TMP/tui_w" 2>"$TMP/tui_w.err" || failed=1
    rm -f "$TMP"/tui-pp.db* "$TMP"/tui-sy.db* "$TMP"/tui-w.db*
    if command -v tmux >/dev/null 2>&1; then
        tmux -L coscope-bench new-session -d -x 120 -y 40 \
            "$BUILD/coscope run --tui --force -o $TMP/tui-live.db -- $BIN/emit --rate 1000000 --seconds 5"
        "$BIN/tui" --live "$TMP/tui-live.db" 6 >"$TMP/tui_live" 2>"$TMP/tui_live.err" || failed=1
        tmux -L coscope-bench kill-server 2>/dev/null
        rm -f "$TMP"/tui-live.db*
    else
        echo "tmux not found: no live figure" >"$TMP/tui_live.err"
    fi
fi
progress "| asyncio"
A_ASYNCIO=$(progress a; py spawn_yield)
B_ASYNCIO=$(progress b; py pingpong)
C_ASYNCIO=$(progress c; py lock)
progress "| uvloop"
A_UVLOOP=$(progress a; py spawn_yield --uvloop)
B_UVLOOP=$(progress b; py pingpong --uvloop)
C_UVLOOP=$(progress c; py lock --uvloop)
progress "| tokio"
A_TOKIO=$(progress a; native tokio spawn_yield)
B_TOKIO=$(progress b; native tokio pingpong)
C_TOKIO=$(progress c; native tokio lock)
progress "| go"
A_GO=$(progress a; native go spawn_yield)
B_GO=$(progress b; native go pingpong)
C_GO=$(progress c; native go lock)
progress "| node"
A_NODE=$(progress a; native node spawn_yield)
B_NODE=$(progress b; native node pingpong)
C_NODE=$(progress c; native node lock)
echo >&2

# ------------------------------------------------------------------------
# The table.  Every row: label, measured value, unit, target (same unit),
# asyncio and uvloop seconds (or "-" when the row has no baseline).

CPU=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo 2>/dev/null | head -n 1)
echo
echo "coscope benchmarks  ($(uname -m), ${CPU:-unknown CPU}, $NCPU CPUs)"
LOAD1=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0)
if awk -v a="$LOAD0" -v b="$LOAD1" -v n="$NCPU" 'BEGIN { exit !(a > n / 2 || b > n / 2 + 1) }'; then
    echo "warning: the machine was busy (load average $LOAD0 before, $LOAD1 after, $NCPU CPUs): figures are noisy"
fi
if [ "${BENCH_NO_PYTHON:-0}" = 1 ]; then
    echo "baselines: skipped (BENCH_NO_PYTHON=1)"
elif [ $have_py = 1 ]; then
    pyver=$("$PYTHON" -c 'import sys; print("Python %d.%d.%d" % sys.version_info[:3])' 2>/dev/null)
    if [ $have_uvloop = 1 ]; then
        uvver=$("$PYTHON" -c 'import uvloop; print("uvloop " + uvloop.__version__)' 2>/dev/null)
    else
        uvver="uvloop n/a (not installed)"
    fi
    echo "baselines: $PYTHON ($pyver, asyncio; $uvver), one run each, in this run"
else
    echo "baselines: n/a ($PYTHON with asyncio not found)"
fi
if [ "${BENCH_NO_NATIVE:-0}" = 1 ]; then
    echo "           Tokio, Go, Node: skipped (BENCH_NO_NATIVE=1)"
else
    echo "           Tokio ${TOKIO_VER:-n/a} current_thread, Go ${GO_VER:-n/a} GOMAXPROCS=1, Node ${NODE_VER:-n/a}: best of 3 each, in this run"
fi
echo

{
    echo "a|(a) spawn 100k x 10 co_yield, co_gather|$(get spawn_yield seconds)|s|0.06|$A_ASYNCIO|$A_UVLOOP|$A_TOKIO|$A_GO|$A_NODE"
    echo "a|(a) the same, the process's first loop|$(get spawn_yield first_seconds)|s|0.06|-|-"
    echo "a|(a) the same, warm stack pool|$(get spawn_yield warm_seconds)|s|0.04|-|-"
    echo "b|(b) queue ping-pong, 1M messages|$(get pingpong seconds)|s|0.02|$B_ASYNCIO|$B_UVLOOP|$B_TOKIO|$B_GO|$B_NODE"
    echo "c|(c) lock, 100 tasks x 10k, yield held|$(get lock seconds)|s|0.05|$C_ASYNCIO|$C_UVLOOP|$C_TOKIO|$C_GO|$C_NODE"
    echo "s|switch: 2 tasks co_yield, one way|$(get switch yield_pair_ns)|ns|6|-|-"
    echo "s|switch: raw co__switch, one way|$(get switch raw_ns)|ns|6|-|-"
    echo "s|spawn+run+exit, pooled stack|$(get spawn ns_per_task)|ns|30|-|-"
    echo "m|resident memory per idle task|$(get idle_mem bytes_per_task)|B|4608|-|-"
    if [ "${BENCH_QUICK:-0}" != 1 ]; then
    echo "r|TCP echo: coroutines / plain libuv|$(get echo ratio)|x|0.9|-|-"
    echo "t|tracer: ns per event, hot path|$(get tracer hot_ns)|ns|10|-|-"
    echo "t|tracer: ns per point, tracing off|$(get tracer off_ns)|ns|1|-|-"
    echo "e|tracer: sustained recording, ping-pong|$(get tracer rec_evps)|ev|10000000|-|-"
    echo "o|tracer: events lost|$(get tracer lost)|n|0|-|-"
    echo "s|tracer: exit to complete tables, 10M ev|$(get tracer build_s)|s|5|-|-"
    echo "o|tracer: echo traced / untraced|$(get echo trace_overhead)|x|1.01|-|-"
    echo "o|flight recorder: echo on / off (median pair)|$(get echo_flight flight_overhead_median)|x|1.02|-|-"
    echo "o|flight recorder: ping-pong on / off|$(awk -v a="$(get pingpong_flight seconds)" -v b="$(get pingpong seconds)" 'BEGIN { if (b + 0 > 0 && a + 0 > 0) printf "%.3f", a / b; else print "n/a" }')|x|3|-|-"
    echo "s|flight recorder: dump of a 30 s window|$(get flight dump_s)|s|2|-|-"
    echo "m|flight recorder: peak held, 64 MB budget|$(get flight bytes_peak)|B|67108864|-|-"
    echo "o|tracer: ping-pong traced / untraced|$(get tracer pp_overhead)|x|1.5|-|-"
    echo "u|tui 15M ev: open to first frame|$(get tui_pp open_ms)|ms|1000|-|-"
    echo "u|tui 15M ev: seek, view redrawn (max)|$(get tui_pp seek_max_ms)|ms|100|-|-"
    echo "u|tui 15M ev: timeline, any zoom (max)|$(get tui_pp timeline_max_ms)|ms|50|-|-"
    echo "u|tui 15M ev: resident memory|$(get tui_pp rss_mb)|MB|100|-|-"
    echo "u|tui 200k tasks: open to first frame|$(get tui_sy open_ms)|ms|1000|-|-"
    echo "u|tui 200k tasks: seek, view redrawn (max)|$(get tui_sy seek_max_ms)|ms|100|-|-"
    echo "u|tui 200k tasks: timeline, any zoom (max)|$(get tui_sy timeline_max_ms)|ms|50|-|-"
    echo "u|tui 200k tasks: sorted by any column|$(get tui_sy sort_max_ms)|ms|200|-|-"
    echo "u|tui 200k tasks: resident memory|$(get tui_sy rss_mb)|MB|100|-|-"
    echo "u|tui live: lag at 1M ev/s (p99)|$(get tui_live live_lag_p99_ms)|ms|250|-|-"
    # Every view's frame after a seek and after a key (issue 19: <= 20 ms).
    for tr in "pp|15M ev" "sy|200k tasks" "w|100k waiters"; do
        f=tui_${tr%%|*}
        for v in "tasks|Tasks" "resources|Resources" "warnings|Warnings" "timeline|Timeline" "tree|Await tree" \
                 "task|task detail" "resource|resource detail"; do
            echo "u|tui ${tr#*|}: ${v#*|}, seek|$(get $f view_${v%%|*}_seek_ms)|ms|20|-|-"
            echo "u|tui ${tr#*|}: ${v#*|}, key|$(get $f view_${v%%|*}_key_ms)|ms|20|-|-"
        done
    done
    fi
} | awk -F'|' '
function num(x) { return x ~ /^[0-9.eE+-]+$/ }
function meas(v, u) {
    if (!num(v)) return "n/a"
    if (u == "s")  return sprintf("%.4f s", v)
    if (u == "ns") return sprintf("%.2f ns", v)
    if (u == "x")  return sprintf("%.3f", v)
    if (u == "ev") return sprintf("%.1fM/s", v / 1e6)
    if (u == "n")  return sprintf("%d", v)
    if (u == "ms") return sprintf("%.1f ms", v)
    if (u == "MB") return sprintf("%.1f MB", v)
    return sprintf("%.2f KiB", v / 1024)
}
function targ(t, u, k) {
    if (k == "r" || k == "e") return (u == "ev") ? sprintf(">= %gM/s", t / 1e6) : sprintf(">= %g", t)
    if (u == "s")  return sprintf("<= %g s", t)
    if (u == "ns") return sprintf("<= %g ns", t)
    if (u == "x" || u == "n") return sprintf("<= %g", t)
    if (u == "ms" || u == "MB") return sprintf("<= %g %s", t, u)
    return sprintf("<= %g KiB", t / 1024)
}
function base(b) { return b == "-" ? "" : num(b) ? sprintf("%.3f s", b) : "n/a" }
function ratio(b, v) { return b == "-" ? "" : (num(b) && num(v) && v > 0) ? sprintf(b / v < 10 ? "%.1fx" : "%.0fx", b / v) : "n/a" }
BEGIN {
    fmt = "%-40s %11s %12s  %-6s %9s %6s %9s %6s %9s %6s %9s %6s %9s %6s\n"
    printf fmt, "figure", "measured", "target", "status", "asyncio", "x", "uvloop", "x", "tokio", "x", "go", "x", "node", "x"
    printf fmt, "------", "--------", "------", "------", "-------", "--", "------", "--", "-----", "--", "--", "--", "----", "--"
}
{
    higher = ($1 == "r" || $1 == "e")   # rows where more is better
    st = !num($3) ? "ERROR" : (higher ? ($3 + 0 >= $5 + 0) : ($3 + 0 <= $5 + 0)) ? "PASS" : "MISS"
    if (st == "PASS") pass++; else if (st == "MISS") miss++; else err++
    if (NF < 10) $8 = $9 = $10 = "-"
    line = sprintf(fmt, $2, meas($3, $4), targ($5, $4, $1), st, base($6), ratio($6, $3), base($7), ratio($7, $3),
                   base($8), ratio($8, $3), base($9), ratio($9, $3), base($10), ratio($10, $3))
    sub(/ +\n$/, "\n", line)
    printf "%s", line
}
END {
    printf "\n%d of %d targets met", pass, pass + miss + err
    if (miss) printf ", %d missed", miss
    if (err) printf ", %d failed to run", err
    printf "\n"
}'

cat <<EOF

details:
  (a) warm stack pool (same loop, 2nd run):   $(get spawn_yield warm_seconds) s   [(a) itself: best of $(get spawn_yield reps) fresh loops;
      the process's first loop, which also maps and guards the stack slabs: $(get spawn_yield first_seconds) s]
  co_yield with nothing else ready (no switch): $(get switch yield_self_ns) ns
  (b) $(get pingpong ns_per_message) ns/message    (c) $(get lock ns_per_acquisition) ns/acquisition
  idle memory: RSS $(get idle_mem rss_before) -> $(get idle_mem rss_after) bytes for $(get idle_mem tasks) tasks
notes:
  (a)(b)(c) time spawn + run + gather, like the baselines; x = baseline / measured (>1: coscope faster).
  Tokio: a fresh current_thread runtime per repetition; Go: GOMAXPROCS=1, one process (its
  goroutine stacks stay cached between repetitions); Node: a yield is setImmediate.
  (a) is best of fresh loops; the first loop of the process maps the stack slabs, installs
  their guard pages and faults in 100k stack pages; a freed loop's slabs stay in the process
  (each stack's top page kept, the rest given back) for the next loops, as do the task
  structs' chunks (runtime/stack.c, runtime/task.c).
  "2 tasks co_yield": each co_yield is one task-to-task switch, scheduler included
  (co__suspend, ready FIFO, co__switch) plus a trip through uv_run every 4096 switches.
  "raw co__switch": the assembly primitive alone between two stacks, no scheduler.
  spawn+run+exit: co_spawn + co_await of a task that returns at once (two switches),
  stacks reused from the pool.  Idle memory: RSS growth / tasks, all blocked on one event.
EOF

if [ "${BENCH_QUICK:-0}" != 1 ]; then
    cat <<EOF
  echo: coscope $(get echo coscope_rtps) rt/s, plain libuv $(get echo plain_rtps) rt/s (by CPU time $(get echo ratio_cpu)); traced $(get echo traced_rtps) rt/s
  flight recorder: echo on / off, median of $(get echo_flight flight_overhead_pairs) side-by-side pairs $(get echo_flight flight_overhead_median)
          (quartiles $(get echo_flight flight_overhead_q1)-$(get echo_flight flight_overhead_q3), all $(get echo_flight flight_overhead_min)-$(get echo_flight flight_overhead_max); by CPU time $(get echo_flight flight_overhead_cpu_median));
          echo $(get echo_flight flightd_rtps) rt/s with it on; ping-pong on $(get pingpong_flight seconds) s (every
          event recorded, what a full ring cannot hold dropped); a 30 s window of $(get flight events) events
          ($(get flight events_per_s) ev/s) written in $(get flight dump_s) s, $(get flight dump_cpu_s) s of CPU, at load $(get flight load) ($(get flight dump_mb) MB), helper RSS $(get flight helper_rss_mb) MB
  tracer: hot path $(get tracer hot_ns) ns per event; reading the clock alone (rdtsc) $(get tracer clock_ns) ns
          $(get tracer events) events of ping-pong recorded, $(get tracer chunk_bytes_ev) B/event as chunks,
          $(get tracer bytes_ev) B/event in the finished file (chunks + tables + indexes);
          ping-pong untraced $(get tracer pp_plain_s) s, traced $(get tracer pp_traced_s) s (x$(get tracer pp_overhead))
  tui: 15M-event trace: seek p50 $(get tui_pp seek_p50_ms) ms, event step (max) $(get tui_pp step_event_max_ms) ms,
          await tree (max) $(get tui_pp await_tree_max_ms) ms; 200k tasks: seek p50 $(get tui_sy seek_p50_ms) ms,
          await tree (max) $(get tui_sy await_tree_max_ms) ms; live: $(get tui_live live_rate_evps) ev/s recorded,
          lag p50 $(get tui_live live_lag_p50_ms) ms, max $(get tui_live live_lag_max_ms) ms ($(get tui_live live_samples) samples)
          (the model's work per frame, bench/tui; a terminal adds its drawing, and the UI
          refreshes a live trace every 100 ms; \`build/bench/tui --table TRACE\` prints every
          view's first frame, worst frame after a seek and after a key)
EOF
fi

for f in "$TMP"/*.err; do
    [ -s "$f" ] || continue
    echo
    echo "stderr of $(basename "$f" .err):"
    sed 's/^/  /' "$f"
done
exit $failed
