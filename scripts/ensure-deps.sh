#!/bin/sh
# SPDX-License-Identifier: MIT
# ensure-deps.sh [--install] [PKG...] -- make sure the Debian packages coscope
# builds with are installed.  Extra packages may be named as arguments
# (make bench: python3-uvloop, for the uvloop baseline).
#
# As root, installs what is missing; otherwise prints the exact apt-get line
# and fails.  Without --install (the automatic call before make test, check,
# bench, demo, fuzz, valgrind), nothing is installed when COSCOPE_NO_APT=1 or
# DEB_BUILD_OPTIONS is set (a package build: its Build-Depends are the list):
# what is missing is named and the build goes on (and fails where it needs
# it).  --install (make deps, the explicit step) installs regardless.
#
# python3: the reference side of tests/asyncio/run.sh (asyncio itself).
# zlib1g-dev: sqlite3.pc names -lz among its private libs (pkg-config --static).
# libdw-dev: the builder symbolizes a crash's stack (tracer/symbolize.c).
explicit=0
[ "${1:-}" = --install ] && { explicit=1; shift; }
PKGS="zlib1g-dev libuv1-dev libsqlite3-dev libncurses-dev libcmocka-dev libdw-dev pkg-config tmux sqlite3 python3 $*"
command -v dpkg-query >/dev/null || { echo "coscope: not a Debian system: install the equivalents of:$PKGS" >&2; exit 0; }
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ $explicit = 0 ] && { [ "${COSCOPE_NO_APT:-0}" != 0 ] || [ -n "${DEB_BUILD_OPTIONS+set}" ]; }; then
    echo "coscope: not installing (COSCOPE_NO_APT or DEB_BUILD_OPTIONS set); missing:$missing" >&2
    exit 0
fi
if [ "$(id -u)" = 0 ]; then
    echo "coscope: installing missing packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq $missing >/dev/null || {
        echo "coscope: apt-get install$missing failed" >&2; exit 1; }
else
    echo "coscope: missing packages; run: sudo apt-get install -y$missing (or make deps as root)" >&2
    exit 1
fi
