#!/bin/sh
# SPDX-License-Identifier: MIT
# hostile.sh -- the TUI on hostile traces (issue 24), the real binary in
# tmux as tests/tui/tui.sh drives it:
#
#   - endless views: spans, tasks, chunks, resources and warnings each
#     replaced by a view that repeats the table's rows without end (every
#     row restarts the guard's clock without a row, so only a bound on
#     total time or rows ends it).  Each trace must end with one line on
#     the terminal or open a usable UI; opening a task on endless spans
#     (its histogram reads them) must stay usable, and q and SIGTERM must
#     end the UI while such a query runs, with the terminal given back;
#   - the SQL prompt's slow drip (a row every few million steps): Esc
#     cancels it (the message says so), Ctrl-C too without quitting, and
#     left alone it ends at the bound;
#   - a FIFO at FILE.out (where `run --tui` leaves the program's output):
#     the UI neither blocks on it nor reads it;
#   - huge texts: a name over the readers' bound is refused in one line
#     by the TUI and report, smaller ones are cut, and neither costs more
#     than 32 MB of peak RSS over the base trace's;
#
# COSCOPE_QUERY_TIMEOUT=2 makes the bounds short (the TUI's total bound is
# the shorter of it and TUI_QUERY_TOTAL_S).  Needs tmux, sqlite3 and python3.
cd "$(dirname "$0")/../.." || exit 1
suite=tui-hostile
needs="tests/tracer/progs/tasks"
. tests/tui/screen.sh
trap 'tm kill-server 2>/dev/null; umount "$tmp/small" 2>/dev/null; rm -rf "$tmp"' EXIT

# start DB: coscope tui DB at 120x40 with short bounds; when it exits, the
# pane says how and what the terminal's modes are then.
start() {
    tm kill-session -t t 2>/dev/null
    rm -f "$tmp/pid"
    tm_new -d -s t -x 120 -y 40 \
        "env COSCOPE_QUERY_TIMEOUT=2 sh -c 'echo \$\$ > $tmp/pid; exec $coscope tui $1'; echo \"tui exited \$?\"; stty -a | tr ' ;' '\n\n' | grep -x -e -icanon -e icanon -e -echo -e echo | tr '\n' ' '; echo; sleep 600"
}
# ended_or_usable WHAT: one line and an exit, or the Tasks view (which
# then quits on q); 15 s for the load's bounded statements.
ended_or_usable() {
    i=0
    while [ $i -lt 150 ]; do
        s=$(screen)
        if echo "$s" | grep -qF "tui exited 2"; then
            check "$1: refused in one line" "$(echo "$s" | grep -c 'coscope tui:')" 1
            see "$1: terminal given back" "icanon echo"
            return
        fi
        if echo "$s" | grep -qF "STATE AT CURSOR"; then
            ok
            keys q
            see "$1: q quits" "tui exited 0" 100
            see "$1: terminal given back" "icanon echo"
            return
        fi
        sleep 0.1
        i=$((i + 1))
    done
    bad "$1: neither refused nor usable after 15 s" "$(screen)"
}

base=$tmp/base.db
"$coscope" run -o "$base" -- "$progs/tasks" >/dev/null 2>&1
check "tasks recorded" $? 0

# endless TABLE: a copy of base whose TABLE repeats its rows without end.
endless() {
    cp "$base" "$tmp/e_$1.db"
    sqlite3 "$tmp/e_$1.db" "PRAGMA legacy_alter_table = 1; ALTER TABLE $1 RENAME TO $1_real;
        CREATE VIEW $1 AS WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r)
        SELECT $1_real.* FROM r, $1_real;"
}

for t in spans tasks chunks resources warnings; do
    endless $t
    start "$tmp/e_$t.db"
    ended_or_usable "endless $t"
done

# A task's detail on endless spans: its histogram's query is cut by the
# total bound, and q or SIGTERM end it at once however long it would run.
start "$tmp/e_spans.db"
see "spans: open" "STATE AT CURSOR"
keys j Enter
sleep 0.5
keys q
see "spans: q during the detail's query quits" "tui exited 0" 30
see "spans: q: terminal given back" "icanon echo"
start "$tmp/e_spans.db"
see "spans: open again" "STATE AT CURSOR"
keys j Enter
sleep 0.5
kill -TERM "$(cat "$tmp/pid")"
see "spans: SIGTERM during the detail's query ends it" "tui exited" 30
see "spans: SIGTERM: terminal given back" "icanon echo"
start "$tmp/e_spans.db"
see "spans: open a third time" "STATE AT CURSOR"
keys j Enter
see "spans: the detail opens within the bound" "#2 holder" 100
keys Escape
see "spans: and stays usable" "STATE AT CURSOR" 100
keys q
see "spans: q" "tui exited 0" 100

# ---- the SQL prompt's slow drip -------------------------------------------
drip="WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) SELECT x FROM r WHERE x % 3000000 = 0"
start "$base"
see "drip: open" "STATE AT CURSOR"
keys ':'
type_text "$drip"
keys Enter
sleep 0.5
keys Escape
see "drip: Esc cancels the query" "query cancelled" 30
keys ':'
type_text "$drip"
keys Enter
sleep 0.5
keys C-c
see "drip: Ctrl-C cancels the query" "query cancelled" 30
if screen | grep -qF "tui exited"; then bad "drip: Ctrl-C during the query quit the UI" "$(screen)"; else ok; fi
keys ':'
type_text "$drip"
keys Enter
see "drip: left alone, it stops at the bound" "query stopped after" 150
keys Escape q
see "drip: q" "tui exited 0" 50

# ---- a FIFO at FILE.out ------------------------------------------------------
cp "$base" "$tmp/fifo.db"
mkfifo "$tmp/fifo.db.out"
start "$tmp/fifo.db"
see "fifo: open" "STATE AT CURSOR"
sleep 2
keys 2
see "fifo: keys still work after the output poll" "HOLDER"
keys q
see "fifo: q" "tui exited 0"

# ---- huge texts ----------------------------------------------------------------
# SQLite loads a whole value even to take its substr(), so a reader's
# connection refuses one longer than TR_VALUE_MAX (64 MB, tracer/tracer.h)
# and cuts the rest at TR_TEXT_MAX characters as it reads.  Names of
# 100 MB once cost the TUI 100 MB each (2.35 GB for 60 of them) and report
# 300 MB.  Peaks (ru_maxrss, KB) are compared with the same binary's on
# the base trace, since the sanitizers' builds start larger.
cat >"$tmp/peak.py" <<'EOF'
import resource, subprocess, sys
rc = subprocess.call(sys.argv[2:])
with open(sys.argv[1], "w") as f:
    f.write("%d %d\n" % (resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, rc))
EOF
# huge DB N BYTES: the base trace with its first N tasks named with BYTES
# each (task 1, the busiest, is in the report).
huge() {
    cp "$base" "$1"
    sqlite3 "$1" "UPDATE tasks SET name = hex(zeroblob($3 / 2)) WHERE id <= $2"
}
# peak_tui DB: the TUI on DB in the pane, under peak.py; peak_end waits for
# its end and prints "PEAK_KB STATUS".
peak_tui() {
    tm kill-session -t t 2>/dev/null
    rm -f "$tmp/peak"
    tm_new -d -s t -x 120 -y 40 "python3 $tmp/peak.py $tmp/peak $coscope tui $1; sleep 600"
}
peak_end() {
    i=0
    while [ ! -s "$tmp/peak" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
    cat "$tmp/peak" 2>/dev/null || echo "0 none"
}
# within WHAT PEAK BASE: PEAK is at most 32 MB over BASE.
within() {
    if [ "$2" -gt 0 ] && [ "$2" -le $(($3 + 32768)) ]; then ok
    else bad "$1: peak RSS $2 KB, the base trace's $3 KB: more than 32 MB over"; fi
}
peak_tui "$base"
see "huge: the base trace opens" "STATE AT CURSOR"
keys q
set -- $(peak_end)
tui0=$1
python3 "$tmp/peak.py" "$tmp/peak" "$coscope" report "$base" >/dev/null 2>&1
set -- $(cat "$tmp/peak")
rep0=$1
# Over the bound: two names of 70 MB.  One line, status 2, no 70 MB read.
huge "$tmp/over.db" 2 70000000
peak_tui "$tmp/over.db"
see "huge: a 70 MB name refused in one line" "longer than 64 MB" 150 || keys q
set -- $(peak_end)
check "huge: the TUI's status on a 70 MB name" "$2" 2
within "huge: the TUI on 70 MB names" "$1" "$tui0"
python3 "$tmp/peak.py" "$tmp/peak" "$coscope" report "$tmp/over.db" >/dev/null 2>"$tmp/report.err"
set -- $(cat "$tmp/peak")
check "huge: report's status on a 70 MB name" "$2" 2
check "huge: report says why in one line" "$(grep -c 'longer than 64 MB' "$tmp/report.err")/$(wc -l <"$tmp/report.err")" 1/1
within "huge: report on 70 MB names" "$1" "$rep0"
rm -f "$tmp/over.db"
# Under it: three names of 4 MB open, shown cut, and cost no more.
huge "$tmp/under.db" 3 4000000
peak_tui "$tmp/under.db"
see "huge: 4 MB names open" "STATE AT CURSOR"
see "huge: a 4 MB name is shown cut" "    1 0000000000"
keys q
set -- $(peak_end)
check "huge: the TUI's status on 4 MB names" "$2" 0
within "huge: the TUI on 4 MB names" "$1" "$tui0"
rm -f "$tmp/under.db"

# ---- run --tui: FILE.out ----------------------------------------------------
# runtui OUT ARGS...: coscope run --tui -o OUT ARGS in the pane; its status
# is written when it ends.
runtui() {
    o=$1
    shift
    tm kill-session -t t 2>/dev/null
    rm -f "$tmp/rc"
    tm_new -d -s t -x 120 -y 40 "$coscope run --tui -o $o $* 2>$tmp/run.err; echo \$? >$tmp/rc; echo run exited; sleep 600"
}
wait_rc() {
    i=0
    while [ ! -s "$tmp/rc" ] && [ $i -lt "${2:-100}" ]; do sleep 0.1; i=$((i + 1)); done
    check "$1" "$(cat "$tmp/rc" 2>/dev/null)" "$3"
}
# A refused run (the trace exists) touches nothing: the earlier output stays.
cp "$base" "$tmp/existing.db"
echo "the earlier run's output" >"$tmp/existing.db.out"
runtui "$tmp/existing.db" -- "$progs/tasks"
wait_rc "run --tui onto an existing trace is refused" 50 2
check "a refused run --tui keeps FILE.out" "$(cat "$tmp/existing.db.out" 2>/dev/null)" "the earlier run's output"
# A symlink at FILE.out is replaced, not followed; the new file is 0600.
echo "someone's file" >"$tmp/victim"
ln -s "$tmp/victim" "$tmp/y.db.out"
runtui "$tmp/y.db" -- "$progs/tasks"
see "run --tui: the UI" "STATE AT CURSOR" 100
keys q
wait_rc "run --tui: q after the program's end" 100 0
check "the symlink's target is untouched" "$(cat "$tmp/victim")" "someone's file"
if [ -f "$tmp/y.db.out" ] && [ ! -L "$tmp/y.db.out" ]; then ok; else bad "FILE.out is a file of its own"; fi
check "FILE.out is mode 600" "$(stat -c %a "$tmp/y.db.out")" 600
# A full disk under run --tui: the trace is not marked complete, and the
# status says events were lost.
mnt=$tmp/small
mkdir "$mnt"
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=3m tmpfs "$mnt" 2>/dev/null && [ -x "$progs/marks" ]; then
    runtui "$mnt/full.db" -- "$progs/marks" 3000000
    see "full disk: the UI says recording failed" "recording failed" 150
    i=0
    while ! screen | grep -qF "ENDED" && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
    keys q
    wait_rc "run --tui onto a full disk exits 1" 300 1
    check "run --tui onto a full disk: not complete" "$(sqlite3 "$mnt/full.db" "SELECT value FROM meta WHERE key = 'complete'")" 0
    umount "$mnt"
else echo "tui-hostile: full-disk test skipped (needs root and a tmpfs mount)"; fi

echo "tui-hostile: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
