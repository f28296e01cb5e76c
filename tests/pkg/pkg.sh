#!/bin/sh
# SPDX-License-Identifier: MIT
# pkg.sh -- what a distribution and a user's build rely on (issue 25):
#
#   - coscope.h in a user's program under -std=c11 -Wall -Wextra -Wpedantic
#     -Werror, with gcc and clang, every CO_LOC macro used (pedantic.c), and
#     the program runs;
#   - the flags stamp: other CFLAGS rebuild, the same ones do not; header
#     dependencies are the compiler's (-MMD);
#   - make install DESTDIR=... prefix=/usr libdir=/usr/lib/<multiarch>: what
#     lands where with which mode (.so 0644), a .pc that names each
#     dependency once and offers -fno-omit-frame-pointer as a variable,
#     symbol versions; make uninstall leaves nothing behind;
#   - the licence: LICENSE, an SPDX line in every tracked source file, the
#     version the same in coscope --version, the Makefile, CHANGELOG.md and
#     the man page;
#   - the man pages: no groff warnings, every variable the sources getenv()
#     in coscope(1)'s ENVIRONMENT;
#   - bash completion: subcommands, export's formats (zsh's parsed if zsh is
#     there);
#   - scripts/ensure-deps.sh installs nothing with COSCOPE_NO_APT=1 or
#     DEB_BUILD_OPTIONS set;
#   - coscope sql: BLOBs the same in --csv and --json, a failed --json query
#     prints nothing on stdout and exits 1, tables aligned by display
#     columns (CJK names); the report's task table likewise.
#
# BUILD names the build directory (default build).  Prints a line per
# failure and "pkg: N passed, M failed".
cd "$(dirname "$0")/../.." || exit 1
ROOT=$(pwd)
B=${BUILD:-build}
B=$(cd "$B" && pwd)
coscope=$B/coscope
T=$(mktemp -d /tmp/coscope-pkg.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT INT TERM
pass=0; fails=0
ok() { pass=$((pass + 1)); }
no() { echo "FAIL $*"; fails=$((fails + 1)); }
check() { if [ "$2" = "$3" ]; then ok; else no "$1: got '$2', expected '$3'"; fi; }
MAKE=${MAKE:-make}
SAN=${SANITIZE:-}

# ---- the public header, pedantic -------------------------------------------
libs="$B/libcoscope.a $(pkg-config --libs libuv 2>/dev/null || echo -luv) -ldl -pthread"
# Under the sanitizers the archive is instrumented for $CC's runtime, which
# the other compiler's does not link with: that one compiler then.
compilers="gcc clang"
[ -n "$SAN" ] && compilers=${CC:-cc}
for cc in $compilers; do
    command -v $cc >/dev/null || { echo "pkg: skip $cc (not installed)"; continue; }
    if $cc -std=c11 -Wall -Wextra -Wpedantic -Werror $SAN -Iruntime tests/pkg/pedantic.c -o "$T/ped_$cc" $libs \
        2>"$T/cc.err"; then
        ok
        out=$("$T/ped_$cc" 2>&1)
        check "pedantic program built by $cc runs" "$out" "pedantic: ok"
    else
        no "coscope.h under $cc -std=c11 -Wpedantic -Werror: $(head -5 "$T/cc.err")"
    fi
done

# ---- the flags stamp and header dependencies --------------------------------
[ -f "$B/.flags" ] && ok || no "no flags stamp $B/.flags"
obj=$B/obj/runtime/error.o
if [ -f "$obj" ]; then
    # make -n decides and prints without writing (the stamp is a recipe's).
    n=$($MAKE -n --no-print-directory BUILD="$B" CFLAGS='-O0 -g3' "$obj" 2>&1 | grep -c -- '-O0 -g3 -c runtime/error.c')
    check "other CFLAGS rebuild runtime/error.o" "$n" 1
    n=$($MAKE -n --no-print-directory BUILD="$B" "$obj" 2>&1 | grep -c -- ' -c runtime/error.c')
    check "the same flags do not" "$n" 0
    grep -q 'runtime/coscope.h' "${obj%.o}.d" 2>/dev/null && ok || no "no header dependencies in ${obj%.o}.d"
fi

# ---- install, uninstall -----------------------------------------------------
ma=$(gcc -print-multiarch 2>/dev/null)
ma=${ma:-$(uname -m)-linux-gnu}
D=$T/root
libdir=/usr/lib/$ma
if $MAKE -s --no-print-directory BUILD="$B" install DESTDIR="$D" prefix=/usr libdir="$libdir" >"$T/install.log" 2>&1; then
    ok
    for f in usr/bin/coscope usr/include/coscope.h "${libdir#/}/libcoscope.a" "${libdir#/}/libcoscope.so.0.1.0" \
             "${libdir#/}/pkgconfig/coscope.pc" usr/share/man/man1/coscope.1 usr/share/man/man3/coscope.3 \
             usr/share/man/man7/coscope-sql.7 usr/share/doc/coscope/LICENSE usr/share/doc/coscope/CHANGELOG.md \
             usr/share/doc/coscope/schema.md usr/share/bash-completion/completions/coscope \
             usr/share/zsh/site-functions/_coscope; do
        [ -f "$D/$f" ] || no "install: no /$f"
    done
    check "libcoscope.so.0.1.0 mode" "$(stat -c %a "$D/$libdir/libcoscope.so.0.1.0")" 644
    check "coscope mode" "$(stat -c %a "$D/usr/bin/coscope")" 755
    check "libcoscope.so.0 link" "$(readlink "$D/$libdir/libcoscope.so.0")" libcoscope.so.0.1.0
    check "libcoscope.so link" "$(readlink "$D/$libdir/libcoscope.so")" libcoscope.so.0.1.0
    # The staged tree as if installed: its prefix moved under DESTDIR.
    PC="env PKG_CONFIG_PATH=$D$libdir/pkgconfig pkg-config --define-variable=prefix=$D/usr"
    check "pkg-config --libs" "$(echo $($PC --libs coscope))" "-L$D$libdir -lcoscope"
    # Each dependency named once by our .pc: libuv by Requires.private,
    # the rest in Libs.private (libuv.pc's own private libs may repeat -ldl).
    pc=$D$libdir/pkgconfig/coscope.pc
    mine=$(sed -n 's/^Libs\(\.private\)*: *//p' "$pc" | tr ' ' '\n' | grep . | sort | uniq -d | tr '\n' ' ')
    check "coscope.pc names each library once" "$mine" ""
    grep -q '^Libs.*-luv' "$pc" && no "coscope.pc names libuv twice (Requires.private and -luv)" || ok
    static=$($PC --static --libs coscope)
    case " $static " in *" -luv "*) ok ;; *) no "pkg-config --static --libs lacks -luv: $static" ;; esac
    case "$($PC --cflags coscope)" in
    *-fno-omit-frame-pointer*) no "Cflags imposes -fno-omit-frame-pointer" ;;
    *) ok ;;
    esac
    check "pkg-config --variable=stack_cflags" "$($PC --variable=stack_cflags coscope)" "-fno-omit-frame-pointer"
    grep -q "^libdir=\${prefix}/lib/$ma\$" "$D/$libdir/pkgconfig/coscope.pc" && ok || no "coscope.pc libdir: $(grep ^libdir "$D/$libdir/pkgconfig/coscope.pc")"
    # A program against the installed tree.
    if [ -z "$SAN" ] && cc tests/link/prog.c $($PC --cflags --libs coscope) -Wl,-rpath,"$D$libdir" -o "$T/prog" 2>"$T/cc.err" &&
        "$T/prog" | grep -q 'result 42'; then ok
    elif [ -z "$SAN" ]; then no "a program against the installed .pc: $(head -3 "$T/cc.err")"; fi
    # Every exported symbol is versioned LIBCOSCOPE_0.
    vers=$(objdump -T "$D/$libdir/libcoscope.so.0.1.0" | awk '$NF ~ /^co_/ {print $(NF-1)}' | sort -u | tr '\n' ' ')
    check "exported co_* symbols' version" "$vers" "LIBCOSCOPE_0 "
    if $MAKE -s --no-print-directory BUILD="$B" uninstall DESTDIR="$D" prefix=/usr libdir="$libdir" >"$T/uninstall.log" 2>&1; then
        left=$(cd "$T" && find root -mindepth 1 2>/dev/null | head -5 | tr '\n' ' ')
        check "make uninstall leaves nothing behind" "$left" ""
    else
        no "make uninstall: $(tail -3 "$T/uninstall.log")"
    fi
else
    no "make install: $(tail -5 "$T/install.log")"
fi

# ---- licence, SPDX, version -------------------------------------------------
[ -f LICENSE ] && grep -q 'MIT License' LICENSE && ok || no "LICENSE (MIT)"
if git rev-parse --git-dir >/dev/null 2>&1; then
    missing=$(git ls-files -- '*.c' '*.h' '*.S' '*.sh' '*.py' '*.mjs' '*.js' '*.go' '*.rs' Makefile '*.map' '*.1' '*.3' '*.7' \
              'docs/completion/*' | while read -r f; do
                  [ -f "$f" ] || continue
                  head -3 "$f" | grep -q 'SPDX-License-Identifier: MIT' || echo "$f"
              done)
    check "an SPDX line in every tracked source file" "$(echo $missing)" ""
else
    echo "pkg: skip the SPDX check (not a git checkout)"
fi
version=$(sed -n 's/^VERSION *:= *//p' Makefile)
check "coscope --version" "$("$coscope" --version)" "coscope $version"
grep -q "^## $version" CHANGELOG.md && ok || no "CHANGELOG.md has no '## $version'"
"$coscope" --help | grep -q -- '--version' && ok || no "coscope --help does not mention --version"
grep -q "coscope $version" docs/coscope.1 && grep -q 'B \\-\\-version' docs/coscope.1 && ok || no "coscope.1: version or --version"
check "libcoscope.so's version" "$(readlink "$B/libcoscope.so")" "libcoscope.so.$version"

# ---- man pages --------------------------------------------------------------
if command -v man >/dev/null; then
    for m in docs/coscope.1 docs/coscope.3 docs/coscope-sql.7; do
        w=$(MANWIDTH=80 man --warnings -l "$m" 2>&1 >/dev/null | head -3)
        check "man --warnings $m" "$w" ""
    done
fi
# Every variable read with getenv("...") by the runtime, tracer, CLI and TUI
# is documented (not PATH, TMPDIR, HOME, TERM: the system's).
env_section=$(sed -n '/^\.SH ENVIRONMENT/,/^\.SH FILES/p' docs/coscope.1)
for v in $(grep -ho 'getenv("[A-Z_0-9]*")' runtime/*.c tracer/*.c cli/*.c tui/*.c | sed 's/getenv("\(.*\)")/\1/' | sort -u); do
    case $v in PATH|TMPDIR|HOME|TERM) continue ;; esac
    printf '%s\n' "$env_section" | grep -q "$v" && ok || no "coscope(1) ENVIRONMENT lacks $v"
done

# ---- completion -------------------------------------------------------------
if command -v bash >/dev/null; then
    got=$(bash -c '. docs/completion/coscope.bash; COMP_WORDS=(coscope ex); COMP_CWORD=1; _coscope; echo "${COMPREPLY[*]}"')
    check "bash completion: coscope ex<TAB>" "$got" "export"
    got=$(bash -c '. docs/completion/coscope.bash; COMP_WORDS=(coscope export --format ""); COMP_CWORD=3; _coscope; echo "${COMPREPLY[*]}"')
    check "bash completion: export --format <TAB>" "$got" "chrome perfetto"
    got=$(bash -c '. docs/completion/coscope.bash; COMP_WORDS=(coscope report --f); COMP_CWORD=2; _coscope; echo "${COMPREPLY[*]}"')
    check "bash completion: report --f<TAB>" "$got" "--fail-on-warnings"
fi
if command -v zsh >/dev/null; then zsh -n docs/completion/_coscope && ok || no "zsh -n _coscope"; fi

# ---- no apt-get inside a package build --------------------------------------
out=$(COSCOPE_NO_APT=1 sh scripts/ensure-deps.sh coscope-no-such-package 2>&1); rc=$?
check "COSCOPE_NO_APT=1: status" "$rc" 0
case $out in *"not installing"*coscope-no-such-package*) ok ;; *) no "COSCOPE_NO_APT=1 says: $out" ;; esac
out=$(DEB_BUILD_OPTIONS=nocheck sh scripts/ensure-deps.sh coscope-no-such-package 2>&1); rc=$?
check "DEB_BUILD_OPTIONS set: status" "$rc" 0

# ---- coscope sql and report output ------------------------------------------
db=$T/t.db
"$coscope" run -o "$db" -- "$B/samples/prodcons" >/dev/null 2>&1
if [ -s "$db" ]; then
    q="SELECT x'00ff10' AS b, 'a' AS s"
    csv=$("$coscope" sql "$db" "$q" --csv | tail -1 | tr -d '\r')
    json=$("$coscope" sql "$db" "$q" --json | tr -d '\n ')
    check "sql --csv BLOB" "$csv" '"00ff10",a'
    check "sql --json BLOB" "$json" '[{"b":"00ff10","s":"a"}]'
    "$coscope" sql "$db" "SELECT * FROM no_such_table" --json >"$T/out" 2>"$T/err"; rc=$?
    check "sql --json failed query: status" "$rc" 1
    check "sql --json failed query: stdout" "$(wc -c <"$T/out")" 0
    "$coscope" sql "$db" "SELECT 1 AS a; SELECT * FROM no_such_table" --json >"$T/out" 2>"$T/err"
    check "sql --json failing second statement: stdout" "$(wc -c <"$T/out")" 0
    check "sql --json empty result" "$("$coscope" sql "$db" "SELECT 1 WHERE 0" --json | tr -d '\n')" "[]"
    # Display columns: every line of the table as wide as its rule.
    widths() {
        python3 -c '
import sys, unicodedata
for l in sys.stdin.read().splitlines():
    print(sum(2 if unicodedata.east_asian_width(c) in "WF" else 0 if unicodedata.combining(c) else 1 for c in l.rstrip()))'
    }
    if command -v python3 >/dev/null; then
        w=$("$coscope" sql "$db" "SELECT '日本語のタスク' AS name, 1 AS n UNION ALL SELECT 'ascii', 22 UNION ALL SELECT 'é', 333" |
            head -5 | widths | sort -u | tr '\n' ' ')
        check "sql table: every line the same display width" "$w" "$(echo "$w" | awk '{print $1}') "
        cp "$db" "$T/cjk.db"
        sqlite3 "$T/cjk.db" "UPDATE tasks SET name = '生産者タスク' WHERE name = 'producer'" 2>/dev/null
        "$coscope" report "$T/cjk.db" >"$T/report" 2>&1
        # The task table: the state column starts at the same display column.
        cols=$(grep -E '^ +[0-9]+ .* (done|failed|cancelled|running|pending) ' "$T/report" | python3 -c '
import sys, unicodedata, re
for l in sys.stdin.read().splitlines():
    m = re.search(r" (done|failed|cancelled|running|pending) ", l)
    print(sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in l[:m.start()]))' | sort -u | tr '\n' ' ')
        case $cols in
        "") no "report: no task rows found" ;;
        *" "*" "*) no "report: the state column moves with the name's width: $cols" ;;
        *) ok ;;
        esac
        grep -q '生産者タスク' "$T/report" && ok || no "report: the CJK task name is not shown"
    fi
    # The queue is 'queue' in SQL as in the report, and its sites say "-" rather than "0 acq".
    check "resources.kind of a queue" "$("$coscope" sql "$db" "SELECT kind FROM resources WHERE name = 'jobs'" --csv | tail -1 | tr -d '\r')" queue
    if grep -q ' 0 acq' "$T/report" 2>/dev/null; then no "report: a queue's site says 0 acq"; else ok; fi
else
    no "coscope run samples/prodcons made no trace"
fi

echo "pkg: $pass passed, $fails failed"
[ $fails = 0 ]
