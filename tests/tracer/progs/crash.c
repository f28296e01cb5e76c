/* SPDX-License-Identifier: MIT */
/* crash.c -- e2e subject for tests/tracer/e2e.sh: a program that dies
 * abruptly right after recording a marker, to check that `coscope run`
 * keeps everything the program recorded up to its last instant.
 *
 * usage: crash kill|segv|abort|overflow|thread [YIELDS]
 * Three workers each log NLOGS lines and yield; then main records
 * co_mark("marker-before-crash") and dies in the chosen way, with no event
 * in between.  YIELDS (default 0) extra yields before the marker push more
 * events through the rings than they hold, so the recorder must drain while
 * the program runs.  Overflow happens on a task stack, where the runtime's
 * guard page turns it into SIGSEGV.  thread: the fault is on a pool thread
 * (co_to_thread), outside any task.
 */
#include "coscope.h"
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NWORKERS 3
#define NLOGS 100

static const char *mode;
/* Below mmap_min_addr, so never mapped; not NULL, which UBSan would catch
 * first; volatile, so the compiler cannot see the store is bad. */
static int *volatile nowhere = (int *)16;
static long extra_yields;

static int worker(void *arg)
{
    for (int i = 0; i < NLOGS; i++) {
        co_log("worker %d line %d", (int)(intptr_t)arg, i);
        co_yield();
    }
    return 0;
}

/* Not a tail call (the add after it) and a volatile frame: the compiler
 * can neither loop it nor shrink the frames. */
__attribute__((noinline)) static unsigned deep(unsigned n)
{
    volatile char frame[512];
    frame[0] = (char)n;
    if (n > 100000000u) return 0;
    return deep(n + 1) + frame[0];
}

static void *fault(void *arg)
{
    *nowhere = 1;
    return arg;
}

static int main_task(void *arg)
{
    co_task_t w[NWORKERS];
    for (int i = 0; i < NWORKERS; i++) w[i] = co_spawn(worker, (void *)(intptr_t)i);
    for (int i = 0; i < NWORKERS; i++) co_await(w[i]);
    for (long i = 0; i < extra_yields; i++) co_yield();
    co_mark("marker-before-crash");
    if (!strcmp(mode, "kill")) {
        kill(getpid(), SIGKILL);
    } else if (!strcmp(mode, "segv")) {
        *nowhere = 1;
    } else if (!strcmp(mode, "abort")) {
        abort();
    } else if (!strcmp(mode, "overflow")) {
        return (int)deep(0);
    } else if (!strcmp(mode, "thread")) {
        co_to_thread(fault, NULL, NULL);
    }
    return 1; /* unknown mode, or survived */
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: crash kill|segv|abort|overflow|thread [YIELDS]\n");
        return 2;
    }
    mode = argv[1];
    extra_yields = argc > 2 ? atol(argv[2]) : 0;
    return co_run(main_task, NULL) == 0 ? 0 : 1;
}
