#!/bin/sh
# ensure-deps.sh -- make sure the Debian packages coscope builds with are
# installed.  As root, installs what is missing; otherwise prints the exact
# apt-get line and fails.  Extra packages may be named as arguments
# (make bench: python3-uvloop, for the uvloop baseline).
# python3: the reference side of tests/asyncio/run.sh (asyncio itself).
# zlib1g-dev: sqlite3.pc names -lz among its private libs (pkg-config --static).
# libdw-dev: the builder symbolizes a crash's stack (tracer/symbolize.c).
PKGS="zlib1g-dev libuv1-dev libsqlite3-dev libncurses-dev libcmocka-dev libdw-dev pkg-config tmux sqlite3 python3 $*"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
    echo "coscope: installing missing packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq $missing >/dev/null || {
        echo "coscope: apt-get install$missing failed" >&2; exit 1; }
else
    echo "coscope: missing packages; run: sudo apt-get install -y$missing" >&2
    exit 1
fi
