# SPDX-License-Identifier: MIT
# coscope -- see README.md.  Every output goes under $(BUILD).
#
#   make            the libraries, the coscope binary, pkg-config file, samples
#
# Layers, each linking only those below it (README.md, "Layers"):
#   runtime/         libcoscope.a/.so: what a program links (libuv, pthread, libdl)
#   tracer/          libcoscope-tracer.a: recorder, builder, reader (SQLite, libdw);
#                    for the coscope binary and the tests, never installed
#   cli/ and tui/    the coscope binary (ncurses)
#   make deps       install the Debian packages the build and tests need (as root)
#   make test       the same when they are missing (as root), build, run every test
#   make check      the tests under ASan+UBSan (BUILD=build/check), then TSan on
#                   the threaded parts (make check-tsan, BUILD=build/tsan)
#   make bench      benchmarks with their baselines
#   make install    prefix=/usr/local (PREFIX= also works), DESTDIR, bindir,
#                   libdir, includedir, mandir, ...; make uninstall undoes it
#
# Variants by override: make CC=clang, make CFLAGS='-O0 -g', make BUILD=build/dbg.
# A change of compiler or flags rebuilds everything in that BUILD (the flags
# stamp, $(BUILD)/.flags); header dependencies come from the compiler (-MMD).
#
# Automatic package installs: test, check, bench, demo, fuzz and valgrind run
# apt-get for what is missing when run as root, so a fresh machine needs only
# the README's two commands.  Inside a package build that is wrong: with
# COSCOPE_NO_APT=1, or whenever DEB_BUILD_OPTIONS is set (dpkg-buildpackage
# sets it), they only say what is missing (scripts/ensure-deps.sh).

CC         ?= cc
AR         ?= ar
INSTALL    ?= install
PKG_CONFIG ?= pkg-config
BUILD      ?= build
CFLAGS     ?= -O2 -g
CPPFLAGS   ?=
SANITIZE   ?=
ARCH       := $(shell uname -m)

# GNU install directories.  PREFIX is the old spelling, still honoured.
PREFIX      ?= /usr/local
prefix      ?= $(PREFIX)
exec_prefix ?= $(prefix)
bindir      ?= $(exec_prefix)/bin
# Multiarch: make libdir=/usr/lib/$$(dpkg-architecture -qDEB_HOST_MULTIARCH)
libdir      ?= $(exec_prefix)/lib
includedir  ?= $(prefix)/include
datarootdir ?= $(prefix)/share
mandir      ?= $(datarootdir)/man
docdir      ?= $(datarootdir)/doc/coscope
pkgconfigdir ?= $(libdir)/pkgconfig
bashcompdir ?= $(datarootdir)/bash-completion/completions
# zsh's own default; Debian packages use $(datarootdir)/zsh/vendor-completions.
zshcompdir  ?= $(datarootdir)/zsh/site-functions

UV_CFLAGS := $(shell $(PKG_CONFIG) --cflags libuv 2>/dev/null)
UV_LIBS   := $(shell $(PKG_CONFIG) --libs libuv 2>/dev/null || echo -luv)
SQLITE_LIBS := $(shell $(PKG_CONFIG) --libs sqlite3 2>/dev/null || echo -lsqlite3)
CURSES_LIBS := $(shell $(PKG_CONFIG) --libs ncursesw 2>/dev/null || echo -lncursesw)
# elfutils' libdw: the builder symbolizes a crash's stack (tracer/symbolize.c).
DW_LIBS   := $(shell $(PKG_CONFIG) --libs libdw 2>/dev/null || echo -ldw -lelf)

# Frame pointers are not optional: co_dump and the watchdog walk them.
# -MMD -MP: each object's header dependencies, in $(BUILD)/.../*.d.
CO_CFLAGS := -std=gnu11 -Wall -Wextra -fno-omit-frame-pointer \
             -fPIC -pthread $(UV_CFLAGS) $(SANITIZE)
DEPFLAGS  := -MMD -MP
LDFLAGS   += $(SANITIZE)
# What the runtime links, and what the tracer library adds.
RT_LIBS   := $(UV_LIBS) -ldl -pthread
LIBS      := $(SQLITE_LIBS) $(DW_LIBS) $(RT_LIBS)

RUNTIME_C := $(wildcard runtime/*.c)
# The tracer library.  co_trace_start is the runtime's (runtime/record.c): it
# starts `coscope record` as a helper process, so programs never link this.
TRACER_C := $(wildcard tracer/*.c)
# The coscope binary: the command-line front end (cli/) and the
# terminal UI (tui/), both on the library.
CLI_C := $(wildcard cli/*.c) $(wildcard tui/*.c)
ifneq ($(filter $(ARCH),x86_64 aarch64),)
RUNTIME_S := runtime/switch_$(ARCH).S
endif
RUNTIME_OBJ := $(RUNTIME_C:%.c=$(BUILD)/obj/%.o) $(RUNTIME_S:%.S=$(BUILD)/obj/%.o)
# The shared library's runtime is compiled apart, with TLSDESC
# (-mtls-dialect=gnu2) where the compiler has it for its few cold
# thread-locals: a call to a resolver that returns an offset, instead of
# __tls_get_addr.  The hot ones are initial-exec in both libraries, and small
# enough for dlopen (runtime/internal.h, CO__TLS_MODEL).
RUNTIME_SO_OBJ := $(RUNTIME_OBJ:$(BUILD)/obj/%=$(BUILD)/obj-so/%)
TLS_DIALECT := $(shell $(CC) -mtls-dialect=gnu2 -fPIC -x c -c /dev/null -o /dev/null 2>/dev/null && echo -mtls-dialect=gnu2)
# clang links its sanitizers' runtimes into executables only (gcc's are
# shared libraries the .so names): a libcoscope.so built with clang's has
# their symbols undefined until a program built with the same sanitizers
# loads it, so --no-undefined is for every other build.
CC_IS_CLANG := $(shell $(CC) -dM -E -x c /dev/null 2>/dev/null | grep -q __clang__ && echo 1)
SO_NO_UNDEFINED := $(if $(and $(CC_IS_CLANG),$(strip $(SANITIZE))),,-Wl,--no-undefined)
TRACER_OBJ := $(TRACER_C:%.c=$(BUILD)/obj/%.o)
CLI_OBJ := $(CLI_C:%.c=$(BUILD)/obj/%.o)
# The tracer library and the runtime under it, as the binary, tests and
# benchmarks that read traces link them.
TRACER_LINK := $(BUILD)/libcoscope-tracer.a $(BUILD)/libcoscope.a

TEST_SRC  := $(wildcard tests/runtime/test_*.c tests/tracer/test_*.c tests/tui/test_*.c)
# The TUI's model is tested on its own, without curses.
TUI_MODEL_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tui/model*.c))
TEST_BIN  := $(TEST_SRC:%.c=$(BUILD)/%)
# Programs tests/tracer/e2e.sh tests/tracer/cli.sh tests/tracer/warnings.sh runs under `coscope run`.
E2E_PROG  := $(patsubst %.c,$(BUILD)/%,$(wildcard tests/tracer/progs/*.c))
SAMPLE_SRC := $(wildcard samples/*.c)
SAMPLE_BIN := $(SAMPLE_SRC:%.c=$(BUILD)/%)
BENCH_SRC := $(wildcard bench/*.c)
BENCH_BIN := $(BENCH_SRC:%.c=$(BUILD)/%)

.PHONY: FORCE all lib test check check-clang check-tsan check-aarch64 valgrind bench demo deps auto-deps install uninstall clean fuzz
all: lib $(BUILD)/coscope $(SAMPLE_BIN) $(BENCH_BIN)

lib: $(BUILD)/libcoscope.a $(BUILD)/libcoscope.so $(BUILD)/coscope.pc $(BUILD)/libcoscope-tracer.a

# The flags stamp: every object and link depends on $(BUILD)/.flags, which is
# rewritten only when the compiler, a flag or the install paths compiled in
# change, so `make CC=clang` or `make CFLAGS=-O0` after a build rebuilds all of
# it instead of mixing old and new objects.
FLAGS_STAMP := $(BUILD)/.flags
FLAGS_NOW    = $(CC) | $(CPPFLAGS) | $(CO_CFLAGS) | $(CFLAGS) | $(TLS_DIALECT) | $(LDFLAGS)
# Compared when the Makefile is read, written by a recipe (so make -n
# shows what would be rebuilt without changing anything).
ifneq ($(strip $(shell cat $(FLAGS_STAMP) 2>/dev/null)),$(strip $(FLAGS_NOW)))
$(FLAGS_STAMP): FORCE
endif
$(FLAGS_STAMP):
	@mkdir -p $(dir $@)
	@printf '%s\n' '$(subst ','\'',$(FLAGS_NOW))' > $@
FORCE:

# What the compiler said each output includes (-MMD -MP).
-include $(wildcard $(patsubst %.o,%.d,$(RUNTIME_OBJ) $(RUNTIME_SO_OBJ) $(TRACER_OBJ) $(CLI_OBJ)) \
                    $(addsuffix .d,$(TEST_BIN) $(E2E_PROG) $(SAMPLE_BIN) $(BENCH_BIN) $(BUILD)/tests/asyncio/parity))

$(BUILD)/coscope: $(CLI_OBJ) $(TRACER_LINK) $(FLAGS_STAMP)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(TRACER_LINK) $(CURSES_LIBS) $(LIBS)

COMPILE = $(CC) $(DEPFLAGS) $(CPPFLAGS) $(CO_CFLAGS)
$(BUILD)/obj/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(COMPILE) $(CFLAGS) -c $< -o $@

$(BUILD)/obj/%.o: %.S $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(COMPILE) $(CFLAGS) -c $< -o $@

# The helper co_trace_start and the flight recorder start, where `make
# install` puts it ($COSCOPE_BIN first, then $PATH).  Its own stamp: a
# different bindir (make install prefix=/usr after a plain make) rebuilds
# these objects and relinks, not everything.
CO_BIN_OBJ := $(foreach d,obj obj-so,$(foreach f,helper,$(BUILD)/$(d)/runtime/$(f).o))
$(CO_BIN_OBJ): CPPFLAGS += -DCO_COSCOPE_BIN='"$(bindir)/coscope"'
$(CO_BIN_OBJ): $(BUILD)/.bindir
ifneq ($(shell cat $(BUILD)/.bindir 2>/dev/null),$(bindir))
$(BUILD)/.bindir: FORCE
endif
$(BUILD)/.bindir:
	@mkdir -p $(dir $@)
	@echo '$(bindir)' > $@

$(BUILD)/obj-so/runtime/%.o: runtime/%.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(COMPILE) -DCO__SHARED $(TLS_DIALECT) $(CFLAGS) -c $< -o $@

$(BUILD)/obj-so/runtime/%.o: runtime/%.S $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(COMPILE) -DCO__SHARED $(CFLAGS) -c $< -o $@

$(BUILD)/libcoscope.a: $(RUNTIME_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/libcoscope-tracer.a: $(TRACER_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

# Only co_* is exported from the shared library, each symbol at version
# LIBCOSCOPE_0 (runtime/exports.map), so a later release can change a
# function and keep the old one for programs linked before; co__* stays
# internal.  Versioned like libuv: libcoscope.so.0.1.0 with SONAME
# libcoscope.so.0 (what programs record and the loader looks for), and the
# links to it.
SO_MAJOR := 0
SO_FULL  := $(SO_MAJOR).1.0
VERSION  := 0.1.0
$(BUILD)/libcoscope.so: $(RUNTIME_SO_OBJ) runtime/exports.map
	$(CC) -shared -Wl,-soname,libcoscope.so.$(SO_MAJOR) -Wl,--version-script=runtime/exports.map $(SO_NO_UNDEFINED) $(LDFLAGS) \
	  -o $@.$(SO_FULL) $(RUNTIME_SO_OBJ) $(RT_LIBS)
	ln -sf libcoscope.so.$(SO_FULL) $@.$(SO_MAJOR)
	ln -sf libcoscope.so.$(SO_FULL) $@

# Works uninstalled, from any directory: PKG_CONFIG_PATH=build pkg-config
# --cflags --libs [--static] coscope links build/libcoscope.a and its
# dependencies.  `make install` writes the installed variant (-lcoscope).
# Each dependency is named once: libuv by Requires (its -luv and -I come
# from libuv.pc), the rest in Libs or Libs.private.
# Frame pointers: co_dump, the watchdog and the crash report walk the
# stack by frame pointer, through the user's own functions too; a program
# built without them still works, its reports just stop at the first such
# frame.  So the flag is offered, not imposed:
#   cc $$(pkg-config --variable=stack_cflags coscope) $$(pkg-config --cflags --libs coscope)
PC_FIELDS = 'Name: coscope' 'Description: coroutine runtime for C on libuv, traceable by coscope' 'Version: $(VERSION)' \
            '\# For stacks that reach into your own functions (co_dump, slow steps, crashes):' \
            'stack_cflags=-fno-omit-frame-pointer'
$(BUILD)/coscope.pc: Makefile
	@mkdir -p $(BUILD)
	@printf '%s\n' 'includedir=$(CURDIR)/runtime' 'libdir=$(abspath $(BUILD))' '' $(PC_FIELDS) \
	  'Requires: libuv' 'Cflags: -I$${includedir} -pthread' \
	  'Libs: $${libdir}/libcoscope.a -ldl -pthread' > $@

# Programs compiled and linked in one step: their header dependencies land
# in $@.d (-MMD names it after the output).  Tests, samples and benchmarks
# are full of task bodies `int fn(void *arg)` and cmocka's `void **state`
# that take a parameter by signature and ignore it: for them only, that one
# warning is off.  The libraries and the binary build with all of -Wextra.
PROG_CFLAGS := -Wno-unused-parameter
$(BUILD)/tests/%: tests/%.c $(TRACER_LINK) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(COMPILE) $(PROG_CFLAGS) $(CFLAGS) -Iruntime -Itracer -Itests/runtime $< -o $@ $(LDFLAGS) $(TRACER_LINK) -lcmocka $(LIBS)

$(BUILD)/tests/tui/%: tests/tui/%.c $(TUI_MODEL_OBJ) $(TRACER_LINK) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(COMPILE) $(PROG_CFLAGS) $(CFLAGS) -Iruntime -Itracer $< -o $@ $(LDFLAGS) $(TUI_MODEL_OBJ) $(TRACER_LINK) -lcmocka $(LIBS)

$(BUILD)/samples/%: samples/%.c $(BUILD)/libcoscope.a $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(COMPILE) $(PROG_CFLAGS) $(CFLAGS) -Iruntime $< -o $@ $(LDFLAGS) $(BUILD)/libcoscope.a $(RT_LIBS)

$(BUILD)/tests/tracer/progs/%: tests/tracer/progs/%.c $(BUILD)/libcoscope.a $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(COMPILE) $(PROG_CFLAGS) $(CFLAGS) -Iruntime $< -o $@ $(LDFLAGS) $(BUILD)/libcoscope.a $(RT_LIBS)

# The TUI's figures are its model's: bench/tui links it.
$(BUILD)/bench/tui: bench/tui.c $(TUI_MODEL_OBJ) $(TRACER_LINK) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(COMPILE) $(PROG_CFLAGS) $(CFLAGS) -Iruntime -Itracer $< -o $@ $(LDFLAGS) $(TUI_MODEL_OBJ) $(TRACER_LINK) $(LIBS)

$(BUILD)/bench/%: bench/%.c $(BUILD)/libcoscope.a $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(COMPILE) $(PROG_CFLAGS) $(CFLAGS) -Iruntime -Itracer $< -o $@ $(LDFLAGS) $(BUILD)/libcoscope.a $(RT_LIBS)

# The explicit step: install every package the build, the tests and the
# tools of fuzz and valgrind use (as root; otherwise print the apt-get line).
deps:
	@sh scripts/ensure-deps.sh --install valgrind clang libclang-rt-14-dev

# The automatic one, before test, check, bench, demo, fuzz and valgrind:
# installs only what is missing, and nothing with COSCOPE_NO_APT=1 or
# DEB_BUILD_OPTIONS set (see the top).
auto-deps:
	@sh scripts/ensure-deps.sh

test: auto-deps
	@$(MAKE) --no-print-directory lib $(BUILD)/coscope $(TEST_BIN) $(E2E_PROG) $(SAMPLE_BIN) $(BUILD)/tests/asyncio/parity
	@BUILD=$(BUILD) SANITIZE='$(SANITIZE)' COSCOPE_BIN=$(abspath $(BUILD))/coscope sh scripts/run-tests.sh $(BUILD) $(TEST_BIN) tests/link/link.sh tests/tracer/e2e.sh tests/tracer/cli.sh tests/tracer/warnings.sh tests/tracer/ps.sh tests/tracer/attach.sh tests/tracer/flight.sh tests/tracer/hostile.sh tests/samples.sh tests/tui/tui.sh tests/tui/live.sh tests/tui/tui3.sh tests/tui/tui3_model.sh tests/tui/tui3_keys.sh tests/tui/hostile.sh tests/asyncio/run.sh tests/pkg/pkg.sh tests/perfetto/perfetto.sh

check: auto-deps
	@$(MAKE) --no-print-directory BUILD=build/check CFLAGS='-O1 -g' \
	  SANITIZE='-fsanitize=address,undefined -fno-sanitize-recover=undefined' test
	@$(MAKE) --no-print-directory check-clang
	@$(MAKE) --no-print-directory check-tsan
	@$(MAKE) --no-print-directory check-aarch64

# The C tests and the hostile-input suites again, built by clang, when it
# and its sanitizers are installed (clang, libclang-rt-14-dev): its UBSan
# catches pointer arithmetic on NULL, which gcc's lets through (issue 24).
# Not every shell suite, which would double make check's time; all of them:
# make CC=clang BUILD=build/check-clang CFLAGS='-O1 -g' SANITIZE='$(CLANG_SAN)' test
CLANG_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
CLANG_BIN := $(patsubst $(BUILD)/%,build/check-clang/%,$(TEST_BIN) $(E2E_PROG) $(SAMPLE_BIN))
CLANG_TESTS := $(TEST_SRC:%.c=build/check-clang/%) tests/tracer/e2e.sh tests/tracer/hostile.sh tests/tui/hostile.sh
check-clang: auto-deps
	@if echo 'int main(void) { return 0; }' | clang $(CLANG_SAN) -x c - -o /dev/null 2>/dev/null; then \
	  $(MAKE) --no-print-directory CC=clang BUILD=build/check-clang CFLAGS='-O1 -g' SANITIZE='$(CLANG_SAN)' \
	    lib build/check-clang/coscope $(CLANG_BIN) && \
	  BUILD=build/check-clang SANITIZE='$(CLANG_SAN)' COSCOPE_BIN=$(abspath build/check-clang)/coscope \
	    sh scripts/run-tests.sh build/check-clang $(CLANG_TESTS); \
	else echo "check-clang: skipped (needs clang and libclang-rt-14-dev)"; fi

# ThreadSanitizer on the parts that cross threads: pool work, cross-thread
# calls and channels, the tracer's rings and in-process recorder.
TSAN_TESTS := tests/runtime/test_thread tests/runtime/test_channel \
              tests/tracer/test_ring tests/tracer/test_session tests/tracer/test_batch
check-tsan: auto-deps
	@$(MAKE) --no-print-directory BUILD=build/tsan CFLAGS='-O1 -g' SANITIZE=-fsanitize=thread \
	  build/tsan/coscope $(TSAN_TESTS:%=build/tsan/%)
	@TSAN_OPTIONS=halt_on_error=1 SANITIZE=thread COSCOPE_BIN=$(abspath build/tsan)/coscope sh scripts/run-tests.sh build/tsan $(TSAN_TESTS:%=build/tsan/%)

# Valgrind on the runtime's tests (stacks are registered with it; what the
# runtime does on purpose is in tests/valgrind/coscope.supp).  Not the
# ones that crash on purpose, time signals, or run 100k tasks.
# Nor the TUI model's, which asserts times read from a trace: under Valgrind
# a trace's times do not match the program's clock (a co_sleep(40) read as
# 13 ms; a 50 ms busy step, timed with clock_gettime, as 103 ms).
VALGRIND_TESTS := $(filter-out %/test_stack %/test_scale %/test_debug %/test_model,$(TEST_SRC:%.c=%))
valgrind: auto-deps
	@sh scripts/ensure-deps.sh valgrind || true
	@command -v valgrind >/dev/null || { echo "valgrind: not installed (apt-get install valgrind, or make deps as root)"; exit 1; }
	@$(MAKE) --no-print-directory lib $(BUILD)/coscope $(VALGRIND_TESTS:%=$(BUILD)/%)
	@for t in $(VALGRIND_TESTS:%=$(BUILD)/%); do \
	  COSCOPE_BIN=$(abspath $(BUILD))/coscope valgrind -q --error-exitcode=9 --suppressions=tests/valgrind/coscope.supp \
	    $$t > $$t.valgrind.log 2>&1 && echo "ok   $$t" || { echo "FAIL $$t (see $$t.valgrind.log)"; exit 1; }; \
	done

# The AArch64 switch, cross-built and run under qemu-user, when the tools are
# there (apt-get install gcc-aarch64-linux-gnu qemu-user-static).
check-aarch64:
	@if command -v aarch64-linux-gnu-gcc >/dev/null && command -v qemu-aarch64-static >/dev/null; then \
	  mkdir -p $(BUILD)/aarch64 && \
	  aarch64-linux-gnu-gcc -O2 -static -Iruntime tests/runtime/aarch64/switch_test.c runtime/switch_aarch64.S \
	    -o $(BUILD)/aarch64/switch_test && qemu-aarch64-static $(BUILD)/aarch64/switch_test; \
	else echo "check-aarch64: skipped (needs gcc-aarch64-linux-gnu and qemu-user-static)"; fi

# libFuzzer (clang, ASan+UBSan) over trace files, chunks and the CLI's
# arguments, FUZZ_SECONDS in all; not part of make test (tests/fuzz/run.sh).
FUZZ_SECONDS ?= 60
fuzz: auto-deps
	@sh scripts/ensure-deps.sh clang libclang-rt-14-dev
	@sh tests/fuzz/run.sh $(FUZZ_SECONDS)

# The uvloop baseline needs Debian's python3-uvloop; without it that column reads n/a.
bench: auto-deps
	@sh scripts/ensure-deps.sh python3-uvloop || echo "bench: no python3-uvloop: the uvloop baseline will read n/a"
	@$(MAKE) --no-print-directory CFLAGS='-O2 -g' lib $(BUILD)/coscope $(BENCH_BIN)
	@COSCOPE_BIN=$(abspath $(BUILD))/coscope sh bench/run.sh $(BUILD)

# Run the showcase (a crawler with a planted slow step and a contended
# lock) under the tracer, then browse it in the TUI; without a terminal,
# print the report instead.
demo: auto-deps
	@$(MAKE) --no-print-directory lib $(BUILD)/coscope $(SAMPLE_BIN)
	$(BUILD)/coscope run --force -o $(BUILD)/demo.db -- $(BUILD)/samples/showcase
	@if [ -t 0 ] && [ -t 1 ]; then $(BUILD)/coscope tui $(BUILD)/demo.db; \
	else $(BUILD)/coscope report $(BUILD)/demo.db; fi
	@echo "query it: $(BUILD)/coscope sql $(BUILD)/demo.db 'SELECT * FROM task_summary'"

# What `make install` puts where; `make uninstall` removes exactly these.
# The .so is 0644 like every Debian library (it is mapped, not executed).
INST_FILES := $(includedir)/coscope.h $(libdir)/libcoscope.a $(libdir)/libcoscope.so.$(SO_FULL) \
              $(libdir)/libcoscope.so.$(SO_MAJOR) $(libdir)/libcoscope.so $(pkgconfigdir)/coscope.pc \
              $(bindir)/coscope $(mandir)/man1/coscope.1 $(mandir)/man3/coscope.3 $(mandir)/man7/coscope-sql.7 \
              $(docdir)/schema.md $(docdir)/asyncio.md $(docdir)/README.md $(docdir)/CHANGELOG.md $(docdir)/LICENSE \
              $(bashcompdir)/coscope $(zshcompdir)/_coscope
INST_DIRS  := $(includedir) $(libdir) $(pkgconfigdir) $(bindir) $(mandir)/man1 $(mandir)/man3 $(mandir)/man7 \
              $(docdir) $(bashcompdir) $(zshcompdir)
# The installed .pc: the paths relative to ${prefix} where they are under it.
pc_rel = $(patsubst $(prefix)/%,$${prefix}/%,$(1))

install: lib $(BUILD)/coscope
	$(INSTALL) -d $(addprefix $(DESTDIR),$(INST_DIRS))
	$(INSTALL) -m 644 runtime/coscope.h $(DESTDIR)$(includedir)/
	$(INSTALL) -m 644 $(BUILD)/libcoscope.a $(BUILD)/libcoscope.so.$(SO_FULL) $(DESTDIR)$(libdir)/
	ln -sf libcoscope.so.$(SO_FULL) $(DESTDIR)$(libdir)/libcoscope.so.$(SO_MAJOR)
	ln -sf libcoscope.so.$(SO_FULL) $(DESTDIR)$(libdir)/libcoscope.so
	$(INSTALL) -m 755 $(BUILD)/coscope $(DESTDIR)$(bindir)/
	$(INSTALL) -m 644 docs/coscope.1 $(DESTDIR)$(mandir)/man1/
	$(INSTALL) -m 644 docs/coscope.3 $(DESTDIR)$(mandir)/man3/
	$(INSTALL) -m 644 docs/coscope-sql.7 $(DESTDIR)$(mandir)/man7/
	$(INSTALL) -m 644 docs/schema.md docs/asyncio.md README.md CHANGELOG.md LICENSE $(DESTDIR)$(docdir)/
	$(INSTALL) -m 644 docs/completion/coscope.bash $(DESTDIR)$(bashcompdir)/coscope
	$(INSTALL) -m 644 docs/completion/_coscope $(DESTDIR)$(zshcompdir)/_coscope
	printf '%s\n' 'prefix=$(prefix)' 'includedir=$(call pc_rel,$(includedir))' 'libdir=$(call pc_rel,$(libdir))' '' \
	  $(PC_FIELDS) 'Requires.private: libuv' 'Cflags: -I$${includedir} -pthread' \
	  'Libs: -L$${libdir} -lcoscope' 'Libs.private: -ldl -pthread' > $(DESTDIR)$(pkgconfigdir)/coscope.pc
	chmod 644 $(DESTDIR)$(pkgconfigdir)/coscope.pc
	@# The loader's cache, so programs find libcoscope.so.0 in a system directory.
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && command -v ldconfig >/dev/null; then ldconfig; fi

# Removes every file install wrote and coscope's own doc directory.  Under
# a DESTDIR (a staging tree) the directories install made are removed too
# when they are left empty, so the tree is as before; a system's shared
# directories (/usr/local/lib, ...) are left alone.
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INST_FILES))
	-rmdir $(DESTDIR)$(docdir) 2>/dev/null
	@if [ -n "$(DESTDIR)" ]; then for d in $(addprefix $(DESTDIR),$(INST_DIRS)); do \
	  while [ "$$d" != "$(patsubst %/,%,$(DESTDIR))" ]; do \
	    if [ -d "$$d" ]; then rmdir "$$d" 2>/dev/null || break; fi; d=$${d%/*}; done; done; fi
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && command -v ldconfig >/dev/null; then ldconfig; fi

clean:
	rm -rf $(BUILD)
