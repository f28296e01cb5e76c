#!/bin/sh
# SPDX-License-Identifier: MIT
# link.sh -- the layers as a program sees them (issue 19):
#   - the README's build lines, static and shared, build and run a program on
#     the runtime alone, and nothing of the tracer, SQLite or libdw is in it;
#   - libcoscope.so loads with dlopen, from C and from Python's ctypes, and
#     runs a task;
#   - the include graph points down only: runtime/ includes nothing above it,
#     tracer/ nothing of cli/ or tui/, tui/ nothing of cli/;
#   - no call circles between files (calls.py).
# Usage: sh tests/link/link.sh [BUILD]   (after make: needs BUILD/libcoscope.*)
set -u
BUILD=${1:-${BUILD:-build}}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=$(cd "$BUILD" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/coscope-link.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
fails=0
ok() { echo "ok   $1"; }
no() { echo "FAIL $1"; fails=$((fails + 1)); }
# The sanitizers' runtime would be needed by every line below: check the
# plain build only (make check builds the same sources).
CC=${CC:-cc}
SAN=${SANITIZE:-}

# ---- include graph ----------------------------------------------------------
# Lower layers first; a file may include its own folder and those to its left.
check_includes() { # folder forbidden-folders...
    dir=$1; shift
    for up in "$@"; do
        hits=$(grep -n "^[[:space:]]*#[[:space:]]*include[[:space:]]*\"[^\"]*\\b$up/" "$ROOT/$dir"/*.[ch] 2>/dev/null)
        if [ -n "$hits" ]; then no "$dir/ includes $up/: $hits"; else ok "$dir/ does not include $up/"; fi
    done
}
check_includes runtime tracer cli tui
check_includes tracer cli tui
check_includes tui cli

# ---- call graph ---------------------------------------------------------------
# No two files of tracer/, tui/, cli/ call each other, directly or round a
# circle (calls.py, from the objects' symbols): a file that drives calls
# helpers, which live apart.  No exceptions.
if command -v python3 >/dev/null 2>&1 && command -v nm >/dev/null 2>&1; then
    python3 "$ROOT/tests/link/calls.py" "$B" ||
        fails=$((fails + 1))
else
    echo "skip the call graph (no python3 or nm)"
fi

# ---- the README's build lines -------------------------------------------------
PC="env PKG_CONFIG_PATH=$B pkg-config"
if ! $PC --exists coscope; then
    no "pkg-config finds $B/coscope.pc"
else
    libs=$($PC --libs --static coscope)
    case " $libs " in
    *sqlite*|*-ldw*|*-lelf*|*-lbz2*|*-llzma*|*-lz\ *) no "pkg-config --static coscope lists only the runtime's dependencies: $libs" ;;
    *) ok "pkg-config --static coscope: $libs" ;;
    esac
    if [ -n "$SAN" ]; then
        echo "skip the link lines under the sanitizers ($SAN)"
    else
        # Static: the archive by path, as the README says.
        if $CC "$ROOT/tests/link/prog.c" $($PC --cflags --libs --static coscope) -o "$T/prog_static" 2>"$T/cc.err" &&
            "$T/prog_static" >"$T/out" && grep -q 'result 42' "$T/out"; then
            ok "static build line builds and runs a program"
        else
            no "static build line: $(cat "$T/cc.err")"
        fi
        # Shared: the .so, found through an rpath here (installed: the loader's path).
        if $CC "$ROOT/tests/link/prog.c" $($PC --cflags coscope) -L"$B" -Wl,-rpath,"$B" -lcoscope -o "$T/prog_shared" \
            2>"$T/cc.err" && "$T/prog_shared" >"$T/out" && grep -q 'result 42' "$T/out"; then
            ok "shared build builds and runs a program"
        else
            no "shared build: $(cat "$T/cc.err")"
        fi
        for p in prog_static prog_shared; do
            [ -x "$T/$p" ] || continue
            bad=$(nm "$T/$p" | awk '{print $NF}' | grep -E '^(tr_|sqlite3_|dw|cli_|tui_)' | head -5)
            if [ -n "$bad" ]; then no "nm $p: $(echo $bad)"; else ok "nm $p: no tr_, sqlite3_, dw, cli_, tui_ symbols"; fi
        done
        # What the shared library itself needs and exports.
        needed=$(objdump -p "$B/libcoscope.so" 2>/dev/null | awk '/NEEDED/ {print $2}' | tr '\n' ' ')
        case "$needed" in
        *sqlite*|*libdw*|*libelf*) no "libcoscope.so needs only libuv, libc (pthread, dl): $needed" ;;
        *) ok "libcoscope.so needs: $needed" ;;
        esac
        exported=$(nm -D --defined-only "$B/libcoscope.so" | awk '{print $NF}' | grep -v '^co_[a-z]' | grep -v '^LIBCOSCOPE' | head -5)
        if [ -n "$exported" ]; then no "libcoscope.so exports only co_*: $(echo $exported)"; else ok "libcoscope.so exports only co_*"; fi
        # Internal symbols of the archive: co_ or co__, nothing else global.
        stray=$(nm -g --defined-only "$B/libcoscope.a" 2>/dev/null | awk 'NF == 3 {print $3}' | grep -v '^co_' | head -5)
        if [ -n "$stray" ]; then no "libcoscope.a's globals are co_/co__: $(echo $stray)"; else ok "libcoscope.a's globals are all co_ or co__"; fi
    fi
fi

# ---- dlopen -------------------------------------------------------------------
if [ -n "$SAN" ]; then
    echo "skip dlopen under the sanitizers"
else
    if $CC -I"$ROOT/runtime" "$ROOT/tests/link/dlopen.c" -o "$T/dlopen" -ldl 2>"$T/cc.err" &&
        "$T/dlopen" "$B/libcoscope.so" >"$T/out" 2>&1; then
        ok "C: dlopen(libcoscope.so) and run a task: $(cat "$T/out")"
    else
        no "C dlopen: $(cat "$T/cc.err" "$T/out" 2>/dev/null)"
    fi
    if command -v python3 >/dev/null; then
        if python3 "$ROOT/tests/link/dlopen.py" "$B/libcoscope.so" >"$T/out" 2>&1; then
            ok "Python ctypes: $(cat "$T/out")"
        else
            no "Python ctypes: $(cat "$T/out")"
        fi
    else
        echo "skip Python ctypes (no python3)"
    fi
fi

[ $fails -eq 0 ]
