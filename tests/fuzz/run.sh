#!/bin/sh
# SPDX-License-Identifier: MIT
# run.sh SECONDS -- build the libFuzzer harnesses (clang, ASan+UBSan) and run
# each for a quarter of SECONDS: fuzz_file (whole trace files through every
# reading command), fuzz_chunks (chunk blobs through the builder),
# fuzz_args (the CLI's arguments) and fuzz_model (trace files through every
# question of the TUI's model; seeds with escapes and bidi controls in
# every text too).  Seeds come from real traces of the
# samples, recorded by the regular build; the corpus grows in
# build/fuzz/corpus/NAME, findings land in build/fuzz/findings/ (copy each
# into tests/fuzz/regressions/NAME/ with its fix).  `make fuzz
# FUZZ_SECONDS=N` runs it; it is not part of `make test`.  Prints each
# harness's executions, their rate, its coverage (edges, features) and
# corpus; exits 1 on a finding.
cd "$(dirname "$0")/../.." || exit 1
secs=${1:-60}
each=$((secs / 4))
[ "$each" -ge 1 ] || each=1
command -v clang >/dev/null || { echo "fuzz: needs clang and libclang-rt-14-dev (apt-get install clang libclang-rt-14-dev)"; exit 1; }
# Absolute paths: the harnesses work in a scratch directory of their own.
fb=$(pwd)/build/fuzz
san='-fsanitize=address,undefined -fno-sanitize-recover=undefined'
make --no-print-directory lib build/coscope build/samples/hello build/samples/deadlock build/samples/prodcons \
    build/samples/contention >/dev/null || exit 1
make --no-print-directory CC=clang BUILD=build/fuzz CFLAGS='-O1 -g' SANITIZE="-fsanitize=fuzzer-no-link $san" \
    build/fuzz/libcoscope.a build/fuzz/coscope >/dev/null || exit 1
cli_obj=$(ls $fb/obj/cli/*.o $fb/obj/tui/*.o | grep -v '/cli/main\.o$')
libs="$(pkg-config --libs ncursesw 2>/dev/null || echo -lncursesw) $(pkg-config --libs libuv sqlite3 libdw) -ldl -pthread"
for h in file chunks args model; do
    clang -O1 -g -fsanitize=fuzzer $san -Iruntime -Itracer tests/fuzz/fuzz_$h.c -o $fb/fuzz_$h $cli_obj \
        $fb/libcoscope-tracer.a $fb/libcoscope.a $libs || exit 1
done

# Seeds: real traces, with 512-byte pages so that mutations land in data.
seeds=$fb/seeds
rm -rf "$seeds"
mkdir -p "$seeds/file" "$seeds/chunks" "$seeds/args" "$seeds/model" $fb/findings
for s in hello deadlock prodcons contention; do
    build/coscope run --force -o "$seeds/$s.full.db" -- build/samples/$s >/dev/null 2>&1
    sqlite3 "$seeds/file/$s.db" "PRAGMA page_size=512; PRAGMA journal_mode=DELETE" >/dev/null
    sqlite3 "$seeds/$s.full.db" .dump | sqlite3 "$seeds/file/$s.db"
    # An unfinished one too: the build on open is fuzzed with it.
    cp "$seeds/file/$s.db" "$seeds/file/$s.unbuilt.db"
    sqlite3 "$seeds/file/$s.unbuilt.db" "UPDATE meta SET value = 0 WHERE key = 'built'; DELETE FROM spans; DELETE FROM tasks;"
    cp "$seeds/file/$s.db" "$seeds/model/$s.db"
    # Every text with a terminal escape and a bidi override in it.
    cp "$seeds/file/$s.db" "$seeds/model/$s.esc.db"
    sqlite3 "$seeds/model/$s.esc.db" "UPDATE tasks SET name = name || char(27) || '[2J' || char(0x202e);
        UPDATE resources SET name = char(0x2066) || name || char(7); UPDATE strings SET text = char(27) || ']0;x' || text;
        UPDATE locations SET file = file || char(0x200b) || char(155); UPDATE warnings SET message = char(0xfeff) || message;
        UPDATE meta SET value = value || char(27) WHERE key IN ('program', 'argv')"
    sqlite3 "$seeds/$s.full.db" "SELECT hex(data) FROM chunks ORDER BY seq" |
        python3 -c 'import sys; sys.stdout.buffer.write(b"\xffCHUNK\xff".join(bytes.fromhex(l.strip()) for l in sys.stdin if l.strip()))' \
        >"$seeds/chunks/$s.bin"
done
trace=$seeds/contention.full.db
i=0
for a in "t.db" "--help" "t.db|--top|2" "t.db|SELECT * FROM tasks|--json" "t.db|SELECT :x|-p|x=1|--csv" \
         "-o|out.json|t.db" "--format|chrome|t.db|-o|-" "--bogus|t.db" "t.db|t.db" "-p" "--top"; do
    for c in 0 1 2 3; do
        i=$((i + 1))
        { printf "\\$(printf %03o $c)"; printf '%s' "$a" | tr '|' '\000'; } >"$seeds/args/$i"
    done
done

# Every finding so far, replayed first (tests/fuzz/regressions/NAME, in
# name order, in one process: a finding may need the calls before it).
fail=0
for h in file chunks args model; do
    reg=tests/fuzz/regressions/$h
    [ -d "$reg" ] || continue
    if FUZZ_TRACE=$trace $fb/fuzz_$h -close_fd_mask=3 $(ls -d "$(pwd)/$reg"/* | sort) >$fb/regress_$h.log 2>&1; then
        echo "fuzz_$h: $(ls "$reg" | wc -l) regression input(s) pass"
    else echo "fuzz_$h: REGRESSION: see $fb/regress_$h.log"; fail=1; fi
done
for h in file chunks args model; do
    corpus=$fb/corpus/$h
    mkdir -p "$corpus"
    log=$fb/fuzz_$h.log
    FUZZ_TRACE=$trace $fb/fuzz_$h "$corpus" "$seeds/$h" -max_total_time=$each -timeout=20 -rss_limit_mb=2048 \
        -max_len=262144 -close_fd_mask=3 -print_final_stats=1 -artifact_prefix=$fb/findings/$h- >"$log" 2>&1
    rc=$?
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
    rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$')
    # The last status line: edges covered and features (libFuzzer's cov, ft).
    cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1)
    units=$(ls "$corpus" | wc -l)
    if [ $rc -eq 0 ]; then echo "fuzz_$h: ${execs:-?} executions in ${each} s (${rate:-?}/s), ${cov:-cov: ?}, corpus $units, no finding"
    else echo "fuzz_$h: FINDING after ${execs:-?} executions (status $rc): see $log and $fb/findings/"; fail=1; fi
done
exit $fail
