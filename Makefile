# coscope -- see README.md.  Every output goes under $(BUILD).
#
#   make            the libraries, the coscope binary, pkg-config file, samples
#
# Layers, each linking only those below it (README.md, "Layers"):
#   runtime/         libcoscope.a/.so: what a program links (libuv, pthread, libdl)
#   tracer/          libcoscope-tracer.a: recorder, builder, reader (SQLite, libdw);
#                    for the coscope binary and the tests, never installed
#   cli/ and tui/    the coscope binary (ncurses)
#   make test       install missing Debian packages (as root), build, run every test
#   make check      the tests under ASan+UBSan (BUILD=build/check), then TSan on
#                   the threaded parts (make check-tsan, BUILD=build/tsan)
#   make bench      benchmarks with their baselines
#   make install PREFIX=/usr/local
#
# Variants by override: make CC=clang, make CFLAGS='-O0 -g', make BUILD=build/dbg

CC       ?= cc
BUILD    ?= build
PREFIX   ?= /usr/local
CFLAGS   ?= -O2 -g
SANITIZE ?=
ARCH     := $(shell uname -m)

UV_CFLAGS := $(shell pkg-config --cflags libuv 2>/dev/null)
UV_LIBS   := $(shell pkg-config --libs libuv 2>/dev/null || echo -luv)
SQLITE_LIBS := $(shell pkg-config --libs sqlite3 2>/dev/null || echo -lsqlite3)
CURSES_LIBS := $(shell pkg-config --libs ncursesw 2>/dev/null || echo -lncursesw)
# elfutils' libdw: the builder symbolizes a crash's stack (tracer/symbolize.c).
DW_LIBS   := $(shell pkg-config --libs libdw 2>/dev/null || echo -ldw -lelf)

# Frame pointers are not optional: co_dump and the watchdog walk them.
CO_CFLAGS := -std=gnu11 -Wall -Wextra -Wno-unused-parameter -fno-omit-frame-pointer \
             -fPIC -pthread $(UV_CFLAGS) $(SANITIZE)
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
# The shared library's runtime is compiled apart: its thread-locals are not
# initial-exec, so that dlopen can load it (runtime/internal.h, CO__TLS_MODEL).
# TLSDESC (-mtls-dialect=gnu2) where the compiler has it: a call to a
# resolver that returns an offset, instead of __tls_get_addr.
RUNTIME_SO_OBJ := $(RUNTIME_OBJ:$(BUILD)/obj/%=$(BUILD)/obj-so/%)
TLS_DIALECT := $(shell $(CC) -mtls-dialect=gnu2 -fPIC -x c -c /dev/null -o /dev/null 2>/dev/null && echo -mtls-dialect=gnu2)
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

.PHONY: all lib test check check-tsan check-aarch64 valgrind bench demo deps install clean fuzz
all: lib $(BUILD)/coscope $(SAMPLE_BIN) $(BENCH_BIN)

lib: $(BUILD)/libcoscope.a $(BUILD)/libcoscope.so $(BUILD)/coscope.pc $(BUILD)/libcoscope-tracer.a

$(BUILD)/coscope: $(CLI_OBJ) $(TRACER_LINK)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(TRACER_LINK) $(CURSES_LIBS) $(LIBS)

# Each layer is rebuilt when its own headers or those below it change (the
# most specific pattern wins): the runtime, the tracer library, then the
# front ends (cli, tui) on everything.
HEADERS := $(wildcard runtime/*.h tracer/*.h cli/*.h tui/*.h)
$(BUILD)/obj/runtime/%.o: runtime/%.c $(wildcard runtime/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CO_CFLAGS) $(CFLAGS) -c $< -o $@

# co_trace_start's helper, where `make install` puts it ($COSCOPE_BIN first, then $PATH).
$(BUILD)/obj/runtime/record.o $(BUILD)/obj-so/runtime/record.o $(BUILD)/obj/runtime/flight.o $(BUILD)/obj-so/runtime/flight.o: CFLAGS += -DCO_COSCOPE_BIN='"$(PREFIX)/bin/coscope"'

$(BUILD)/obj-so/runtime/%.o: runtime/%.c $(wildcard runtime/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CO_CFLAGS) -DCO__SHARED $(TLS_DIALECT) $(CFLAGS) -c $< -o $@

$(BUILD)/obj-so/runtime/%.o: runtime/%.S
	@mkdir -p $(dir $@)
	$(CC) $(CO_CFLAGS) -DCO__SHARED $(CFLAGS) -c $< -o $@

$(BUILD)/obj/tracer/%.o: tracer/%.c $(wildcard runtime/*.h tracer/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CO_CFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CO_CFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/obj/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(CO_CFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/libcoscope.a: $(RUNTIME_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libcoscope-tracer.a: $(TRACER_OBJ)
	@rm -f $@
	ar rcs $@ $^

# Only co_* is exported from the shared library; co__* stays internal.
# Versioned like libuv: libcoscope.so.0.1.0 with SONAME libcoscope.so.0 (what
# programs record and the loader looks for), and the links to it.
SO_MAJOR := 0
SO_FULL  := $(SO_MAJOR).1.0
$(BUILD)/libcoscope.so: $(RUNTIME_SO_OBJ) runtime/exports.map
	$(CC) -shared -Wl,-soname,libcoscope.so.$(SO_MAJOR) -Wl,--version-script=runtime/exports.map -Wl,--no-undefined $(LDFLAGS) \
	  -o $@.$(SO_FULL) $(RUNTIME_SO_OBJ) $(RT_LIBS)
	ln -sf libcoscope.so.$(SO_FULL) $@.$(SO_MAJOR)
	ln -sf libcoscope.so.$(SO_FULL) $@

# Works uninstalled, from any directory: PKG_CONFIG_PATH=build pkg-config
# --cflags --libs [--static] coscope links build/libcoscope.a and its
# dependencies.  `make install` writes the installed variant (-lcoscope).
PC_FIELDS = 'Name: coscope' 'Description: coroutine runtime for C on libuv, traceable by coscope' 'Version: 0.1.0'
$(BUILD)/coscope.pc: Makefile
	@mkdir -p $(BUILD)
	@printf '%s\n' 'includedir=$(CURDIR)/runtime' 'libdir=$(abspath $(BUILD))' '' $(PC_FIELDS) \
	  'Requires.private: libuv' 'Cflags: -I$${includedir} -pthread -fno-omit-frame-pointer' \
	  'Libs: $${libdir}/libcoscope.a -luv -ldl -pthread' > $@

$(BUILD)/tests/%: tests/%.c $(TRACER_LINK) $(wildcard tests/runtime/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CO_CFLAGS) $(CFLAGS) -Iruntime -Itracer -Itests/runtime $< -o $@ $(LDFLAGS) $(TRACER_LINK) -lcmocka $(LIBS)

$(BUILD)/tests/tui/%: tests/tui/%.c $(TUI_MODEL_OBJ) $(TRACER_LINK)
	@mkdir -p $(dir $@)
	$(CC) $(CO_CFLAGS) $(CFLAGS) -Iruntime -Itracer $< -o $@ $(LDFLAGS) $(TUI_MODEL_OBJ) $(TRACER_LINK) -lcmocka $(LIBS)

$(BUILD)/samples/%: samples/%.c $(BUILD)/libcoscope.a
	@mkdir -p $(dir $@)
	$(CC) $(CO_CFLAGS) $(CFLAGS) -Iruntime $< -o $@ $(LDFLAGS) $(BUILD)/libcoscope.a $(RT_LIBS)

$(BUILD)/tests/tracer/progs/%: tests/tracer/progs/%.c $(BUILD)/libcoscope.a
	@mkdir -p $(dir $@)
	$(CC) $(CO_CFLAGS) $(CFLAGS) -Iruntime $< -o $@ $(LDFLAGS) $(BUILD)/libcoscope.a $(RT_LIBS)

# The TUI's figures are its model's: bench/tui links it.
$(BUILD)/bench/tui: bench/tui.c $(TUI_MODEL_OBJ) $(TRACER_LINK)
	@mkdir -p $(dir $@)
	$(CC) $(CO_CFLAGS) $(CFLAGS) -Iruntime -Itracer $< -o $@ $(LDFLAGS) $(TUI_MODEL_OBJ) $(TRACER_LINK) $(LIBS)

$(BUILD)/bench/%: bench/%.c bench/bench.h $(BUILD)/libcoscope.a
	@mkdir -p $(dir $@)
	$(CC) $(CO_CFLAGS) $(CFLAGS) -Iruntime -Itracer $< -o $@ $(LDFLAGS) $(BUILD)/libcoscope.a $(RT_LIBS)

deps:
	@sh scripts/ensure-deps.sh

test: deps
	@$(MAKE) --no-print-directory lib $(BUILD)/coscope $(TEST_BIN) $(E2E_PROG) $(SAMPLE_BIN) $(BUILD)/tests/asyncio/parity
	@BUILD=$(BUILD) SANITIZE='$(SANITIZE)' COSCOPE_BIN=$(abspath $(BUILD))/coscope sh scripts/run-tests.sh $(BUILD) $(TEST_BIN) tests/link/link.sh tests/tracer/e2e.sh tests/tracer/cli.sh tests/tracer/warnings.sh tests/tracer/ps.sh tests/tracer/attach.sh tests/tracer/flight.sh tests/tracer/hostile.sh tests/samples.sh tests/tui/tui.sh tests/tui/live.sh tests/asyncio/run.sh

check: deps
	@$(MAKE) --no-print-directory BUILD=build/check CFLAGS='-O1 -g' \
	  SANITIZE='-fsanitize=address,undefined -fno-sanitize-recover=undefined' test
	@$(MAKE) --no-print-directory check-tsan
	@$(MAKE) --no-print-directory check-aarch64

# ThreadSanitizer on the parts that cross threads: pool work, cross-thread
# calls and channels, the tracer's rings and in-process recorder.
TSAN_TESTS := tests/runtime/test_thread tests/runtime/test_channel \
              tests/tracer/test_ring tests/tracer/test_session tests/tracer/test_batch
check-tsan: deps
	@$(MAKE) --no-print-directory BUILD=build/tsan CFLAGS='-O1 -g' SANITIZE=-fsanitize=thread \
	  build/tsan/coscope $(TSAN_TESTS:%=build/tsan/%)
	@TSAN_OPTIONS=halt_on_error=1 SANITIZE=thread COSCOPE_BIN=$(abspath build/tsan)/coscope sh scripts/run-tests.sh build/tsan $(TSAN_TESTS:%=build/tsan/%)

# Valgrind on the runtime's tests (stacks are registered with it).  Not the
# ones that crash on purpose, time signals, or run 100k tasks.
# Nor the TUI model's, which asserts times read from a trace: under Valgrind
# a trace's times do not match the program's clock (a co_sleep(40) read as
# 13 ms; a 50 ms busy step, timed with clock_gettime, as 103 ms).
VALGRIND_TESTS := $(filter-out %/test_stack %/test_scale %/test_debug %/test_model,$(TEST_SRC:%.c=%))
valgrind: deps
	@$(MAKE) --no-print-directory lib $(BUILD)/coscope $(VALGRIND_TESTS:%=$(BUILD)/%)
	@for t in $(VALGRIND_TESTS:%=$(BUILD)/%); do \
	  COSCOPE_BIN=$(abspath $(BUILD))/coscope valgrind -q --error-exitcode=9 $$t > $$t.valgrind.log 2>&1 && echo "ok   $$t" || { echo "FAIL $$t (see $$t.valgrind.log)"; exit 1; }; \
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
fuzz: deps
	@sh scripts/ensure-deps.sh clang libclang-rt-14-dev
	@sh tests/fuzz/run.sh $(FUZZ_SECONDS)

# The uvloop baseline needs Debian's python3-uvloop; without it that column reads n/a.
bench: deps
	@sh scripts/ensure-deps.sh python3-uvloop || echo "bench: no python3-uvloop: the uvloop baseline will read n/a"
	@$(MAKE) --no-print-directory CFLAGS='-O2 -g' lib $(BUILD)/coscope $(BENCH_BIN)
	@COSCOPE_BIN=$(abspath $(BUILD))/coscope sh bench/run.sh $(BUILD)

# Run the showcase (a crawler with a planted slow step and a contended
# lock) under the tracer, then browse it in the TUI; without a terminal,
# print the report instead.
demo: deps
	@$(MAKE) --no-print-directory lib $(BUILD)/coscope $(SAMPLE_BIN)
	$(BUILD)/coscope run --force -o $(BUILD)/demo.db -- $(BUILD)/samples/showcase
	@if [ -t 0 ] && [ -t 1 ]; then $(BUILD)/coscope tui $(BUILD)/demo.db; \
	else $(BUILD)/coscope report $(BUILD)/demo.db; fi
	@echo "query it: $(BUILD)/coscope sql $(BUILD)/demo.db 'SELECT * FROM task_summary'"

install: lib $(BUILD)/coscope
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/bin
	install -m 644 runtime/coscope.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(BUILD)/libcoscope.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libcoscope.so.$(SO_FULL) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libcoscope.so.$(SO_FULL) $(DESTDIR)$(PREFIX)/lib/libcoscope.so.$(SO_MAJOR)
	ln -sf libcoscope.so.$(SO_FULL) $(DESTDIR)$(PREFIX)/lib/libcoscope.so
	install -m 755 $(BUILD)/coscope $(DESTDIR)$(PREFIX)/bin/
	install -d $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/doc/coscope
	install -m 644 docs/coscope.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 docs/schema.md $(DESTDIR)$(PREFIX)/share/doc/coscope/
	printf '%s\n' 'prefix=$(PREFIX)' 'includedir=$${prefix}/include' 'libdir=$${prefix}/lib' '' $(PC_FIELDS) \
	  'Requires.private: libuv' 'Cflags: -I$${includedir} -pthread -fno-omit-frame-pointer' \
	  'Libs: -L$${libdir} -lcoscope' 'Libs.private: -luv -ldl -pthread' \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/coscope.pc
	@# The loader's cache, so programs find libcoscope.so.0 in a system directory.
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && command -v ldconfig >/dev/null; then ldconfig; fi

clean:
	rm -rf $(BUILD)
