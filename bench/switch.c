/* SPDX-License-Identifier: MIT */
/* switch.c -- context-switch costs, three ways (best of --reps each):
 *
 *  yield_pair_ns  Two tasks co_yield() back and forth N times each; the main
 *                 task waits in co_gather, so exactly those two are ready and
 *                 every yield is one task-to-task switch.  time / (2N): one
 *                 way, *including* the scheduler: co_yield_at -> co__suspend
 *                 (records the wait) -> co__ready (append to ready FIFO) ->
 *                 co__switch_away (pop next, inlined into co__suspend) -> co__switch,
 *                 plus, every 4096 switches, one trip through uv_run.
 *  yield_self_ns  One task co_yield()s N times with nothing else ready: the
 *                 same bookkeeping with no switch (it pops itself and
 *                 returns), except one round trip to libuv per 4096 yields.
 *  raw_ns         The bare co__switch primitive (runtime/switch_<arch>.S)
 *                 between two hand-made stacks outside any loop, one way:
 *                 save/restore callee-saved registers + MXCSR/x87 CW (FPCR on
 *                 arm64) and the indirect jump.  Uses the internal symbol
 *                 co__switch, reachable because we link the static library.
 *
 * Usage: switch [--reps N] [--scale F] [--only pair|self|raw]  (--only: for
 * profiling one of them with perf) */
#include "bench.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_PAIR 5000000L  /* yields per task in the pair */
#define N_SELF 20000000L /* yields of the lone task */
#define N_RAW 20000000L  /* raw round trips */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static long n_pair, n_self, n_raw;

static int yielder(void *arg)
{
    long n = *(long *)arg;
    for (long i = 0; i < n; i++) {
        int r = co_yield();
        if (r < 0) return r;
    }
    return 0;
}

static int pair_main(void *arg)
{
    double *ns = arg;
    uint64_t t0 = now_ns();
    co_task_t h[2] = { co_spawn(yielder, &n_pair), co_spawn(yielder, &n_pair) };
    int r = co_gather(h, 2, NULL, 0);
    *ns = (double)(now_ns() - t0) / (double)(2 * n_pair);
    return r;
}

static int self_main(void *arg)
{
    double *ns = arg;
    co_task_t h = co_spawn(yielder, &n_self);
    uint64_t t0 = now_ns();
    int r = co_await(h);
    *ns = (double)(now_ns() - t0) / (double)n_self;
    return r;
}

/* ------------------------------------------------------------------------ */
/* Raw co__switch */

#if defined(__x86_64__) || defined(__aarch64__)
#define HAVE_RAW 1
void co__switch(void **save_sp, void *load_sp); /* internal, runtime/switch_<arch>.S */

static void *main_sp, *side_sp;

/* Both sides switch from this one call site and resume at it, as tasks do
 * in the runtime (they all suspend through co__suspend): so the measure
 * is the primitive itself, not return mispredictions between two
 * different call sites. */
static __attribute__((noinline)) void hop_loop(void **self, void **other, long n)
{
    for (long i = 0; i < n; i++) co__switch(self, *other);
}

static __attribute__((noreturn, noinline)) void side_entry(void)
{
    hop_loop(&side_sp, &main_sp, -1UL >> 1); /* never finishes: main stops resuming it */
    abort();
}

/* Lay out a first frame on [stack, stack+size) that co__switch resumes into
 * side_entry, as runtime/context.c does for co__trampoline. */
static void *raw_frame(char *stack, size_t size)
{
    uintptr_t top = ((uintptr_t)stack + size) & ~(uintptr_t)15;
#if defined(__x86_64__)
    /* 8 words popped (MXCSR|CW, r15..rbx, rbp, resume); side_entry is entered
     * by a jump, so rsp must then be 8 mod 16 as after a call. */
    uint64_t *sp = (uint64_t *)(top - 8 - 64);
    memset(sp, 0, 72);
    sp[0] = 0x1F80 | ((uint64_t)0x037F << 32);
    sp[7] = (uint64_t)(uintptr_t)side_entry;
#else
    /* 176-byte frame: x19..x28, x29, x30 (resume), d8..d15, fpcr. */
    uint64_t *sp = (uint64_t *)(top - 176);
    memset(sp, 0, 176);
    sp[11] = (uint64_t)(uintptr_t)side_entry;
#endif
    return sp;
}

static double raw_once(void)
{
    static char *stack;
    const size_t size = 64 * 1024;
    if (!stack) stack = aligned_alloc(64, size);
    side_sp = raw_frame(stack, size);
    hop_loop(&main_sp, &side_sp, 1); /* start side_entry, untimed */
    uint64_t t0 = now_ns();
    hop_loop(&main_sp, &side_sp, n_raw);
    return (double)(now_ns() - t0) / (double)(2 * n_raw);
}
#endif

int main(int argc, char **argv)
{
    int reps = 5;
    double scale = 1.0;
    const char *only = "";
    bench_args(argc, argv, &reps, &scale);
    for (int i = 1; i + 1 < argc; i += 2)
        if (!strcmp(argv[i], "--only")) only = argv[i + 1];
    int do_pair = !*only || !strcmp(only, "pair");
    int do_self = !*only || !strcmp(only, "self");
    int do_raw = !*only || !strcmp(only, "raw");
    n_pair = (long)(N_PAIR * scale);
    n_self = (long)(N_SELF * scale);
    n_raw = (long)(N_RAW * scale);
    if (n_pair < 1) n_pair = 1;
    if (n_self < 1) n_self = 1;
    if (n_raw < 1) n_raw = 1;

    double pair = 1e30, self = 1e30, raw = 1e30;
    for (int k = 0; k < reps; k++) {
        double ns;
        int r;
        if (do_pair) {
            if ((r = co_run(pair_main, &ns)) < 0) {
                fprintf(stderr, "switch: pair: %s\n", co_strerror(r));
                return 1;
            }
            if (ns < pair) pair = ns;
        }
        if (do_self) {
            if ((r = co_run(self_main, &ns)) < 0) {
                fprintf(stderr, "switch: self: %s\n", co_strerror(r));
                return 1;
            }
            if (ns < self) self = ns;
        }
#ifdef HAVE_RAW
        if (do_raw && (ns = raw_once()) < raw) raw = ns;
#endif
    }
    printf("reps=%d\n", reps);
    if (do_pair) printf("yield_pair_ns=%.2f\n", pair);
    if (do_self) printf("yield_self_ns=%.2f\n", self);
#ifdef HAVE_RAW
    if (do_raw) printf("raw_ns=%.2f\n", raw);
#else
    if (do_raw) printf("raw_ns=n/a\n");
#endif
    return 0;
}
