/* SPDX-License-Identifier: MIT */
/* warn_diag.c -- subjects of tests/tracer/warnings.sh for the detections of
 * "Diagnosis II" (issue 13), one mode each; marker comments (DG_*) name the
 * lines the warnings must point at.
 *
 * usage: warn_diag MODE
 *   gather        main gathers two tasks that wait for an event nobody sets
 *   detached      a detached task fails with -EIO (and one that succeeds)
 *   ignore_cancel a task swallows -ECANCELED and sleeps on, through co_run's
 *                 shutdown too (bounded by the grace period)
 *   ignore_shutdown  the same task, cancelled only by co_run's shutdown
 *   cancel_clean  a cancelled task awaits its cleanup briefly, then ends
 *   pool_starved  8 blocking jobs on 4 pool threads; a quick job waits
 *   pool_ok       a pool kept busy by work that never waits to start
 *   slow_cb       a libuv timer callback of the program's own blocks 300 ms
 *   contention    50 workers x 5 holds of one lock, from two acquire sites
 *   crash         a NULL dereference inside a task
 *   overflow      a stack overflow inside a task
 *   wd_order      a blocking call after co_to_thread (the watchdog's stack)
 */
#include "coscope.h"
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

static co_event_t never_ev;

static int sleeper(void *arg)
{
    return co_event_wait(&never_ev); /* DG_GATHER_CHILD */
}

static int gather_main(void)
{
    co_event_init(&never_ev);
    co_task_t t[2] = { co_spawn(sleeper, NULL), co_spawn(sleeper, NULL) };
    return co_gather(t, 2, NULL, 0); /* DG_GATHER */
}

static int failer(void *arg) { return -EIO; }
static int fine(void *arg) { return 0; }

static int detached_main(void)
{
    co_detach(co_spawn(failer, NULL)); /* DG_DETACHED */
    co_detach(co_spawn(fine, NULL));
    co_sleep(10);
    return 0;
}

/* Swallows every cancellation and goes back to sleep. */
static int stubborn(void *arg)
{
    int64_t ms = arg ? (int64_t)(intptr_t)arg : 20;
    for (;;) {
        int r = co_sleep(ms); /* DG_SWALLOW */
        if (r == -ECANCELED) continue; /* the bug: cancellation ignored */
    }
    return 0;
}

/* Only co_run's shutdown cancels it. */
static int ignore_shutdown_main(void)
{
    /* Asleep for longer than the grace period: it is surely in its sleep
     * when the shutdown gives up on it, however late a loaded loop wakes. */
    co_detach(co_spawn(stubborn, (void *)(intptr_t)1000));
    return co_sleep(10);
}

static int ignore_main(void)
{
    co_task_t t = co_spawn(stubborn, NULL);
    co_sleep(10);
    co_cancel(t); /* DG_CANCEL */
    co_sleep(300);
    co_detach(t);
    return 0; /* co_run's cleanup cancels it again: the grace period ends it */
}

/* Cancelled, it flushes for a moment and then honours the cancellation. */
static int polite(void *arg)
{
    int r = co_sleep(10000);
    if (r == -ECANCELED) {
        co_sleep(20); /* cleanup */
        return -ECANCELED;
    }
    return r;
}

static int cancel_clean_main(void)
{
    co_task_t t = co_spawn(polite, NULL);
    co_sleep(10);
    co_cancel(t);
    int r = co_await(t);
    return r == -ECANCELED ? 0 : 1;
}

static void *blocking_job(void *arg)
{
    usleep((useconds_t)(uintptr_t)arg * 1000);
    return NULL;
}

static int hog(void *arg)
{
    return co_to_thread(blocking_job, (void *)(uintptr_t)400, NULL); /* DG_HOG */
}

static int quick(void *arg)
{
    co_sleep(30);
    return co_to_thread(blocking_job, (void *)(uintptr_t)1, NULL); /* DG_QUICK */
}

static int pool_starved_main(void)
{
    co_task_t t[9];
    for (int i = 0; i < 8; i++) t[i] = co_spawn(hog, NULL);
    t[8] = co_spawn(quick, NULL);
    return co_gather(t, 9, NULL, 0);
}

static int busy(void *arg)
{
    for (int i = 0; i < 5; i++) {
        int r = co_to_thread(blocking_job, (void *)(uintptr_t)40, NULL);
        if (r < 0) return r;
    }
    return 0;
}

static int pool_ok_main(void)
{
    co_task_t t[3];
    for (int i = 0; i < 3; i++) t[i] = co_spawn(busy, NULL); /* 3 jobs at a time on 4 threads */
    return co_gather(t, 3, NULL, 0);
}

static void on_slow_timer(uv_timer_t *h)
{
    usleep(900 * 1000); /* DG_SLOW_CB: long beside the 100 ms threshold, so a loaded machine still
                         * lets the watchdog see it and take its stack while it lasts */
    uv_close((uv_handle_t *)h, NULL);
}

static int slow_cb_main(void)
{
    static uv_timer_t timer;
    uv_loop_t *uv = co_loop_uv(co_loop_current());
    uv_timer_init(uv, &timer);
    uv_timer_start(&timer, on_slow_timer, 10, 0);
    return co_sleep(1000);
}

static co_lock_t lock;

static int worker(void *arg)
{
    int odd = (int)(intptr_t)arg & 1;
    for (int i = 0; i < 5; i++) {
        int r = odd ? co_lock_acquire(&lock)  /* DG_ACQ_ODD */
                    : co_lock_acquire(&lock); /* DG_ACQ_EVEN */
        if (r < 0) return r;
        co_sleep(1);
        co_lock_release(&lock);
    }
    return 0;
}

static int contention_main(void)
{
    co_lock_init(&lock);
    co_task_t t[50];
    for (int i = 0; i < 50; i++) t[i] = co_spawn(worker, (void *)(intptr_t)i);
    return co_gather(t, 50, NULL, 0);
}

/* Below mmap_min_addr, never mapped; not NULL, so that UBSan (make check)
 * lets the load through to the fault the test is about. */
static int *volatile nowhere = (int *)16;

__attribute__((noinline)) static int poke(void)
{
    return *nowhere; /* DG_FAULT */
}

static int crasher(void *arg)
{
    co_sleep(5); /* DG_CRASH_AWAIT */
    volatile int r = poke(); /* DG_CRASH_CALL (not a tail call: crasher stays on the stack) */
    return r;
}

__attribute__((noinline)) static unsigned deep(unsigned n)
{
    volatile char frame[512];
    frame[0] = (char)n;
    if (n > 100000000u) return 0;
    return deep(n + 1) + frame[0]; /* DG_RECURSE */
}

static int overflower(void *arg)
{
    co_sleep(5); /* DG_OVERFLOW_AWAIT */
    return (int)deep(0);
}

static int crash_main(int overflow)
{
    co_task_t t = co_spawn_named(overflow ? "overflower" : "crasher", overflow ? overflower : crasher, NULL);
    return co_await(t);
}

static void *nothing(void *arg) { return arg; }

static int blocker(void *arg)
{
    co_to_thread(nothing, NULL, NULL); /* DG_WD_BEFORE */
    usleep(900 * 1000); /* long beside the threshold: the watchdog gets its stack even on a loaded machine */
    return co_sleep(1); /* DG_WD_AFTER */
}

static int wd_order_main(void)
{
    co_task_t t = co_spawn(blocker, NULL);
    return co_await(t);
}

static const char *mode;

static int main_task(void *arg)
{
    if (!strcmp(mode, "gather")) return gather_main();
    if (!strcmp(mode, "detached")) return detached_main();
    if (!strcmp(mode, "ignore_cancel")) return ignore_main();
    if (!strcmp(mode, "ignore_shutdown")) return ignore_shutdown_main();
    if (!strcmp(mode, "cancel_clean")) return cancel_clean_main();
    if (!strcmp(mode, "pool_starved")) return pool_starved_main();
    if (!strcmp(mode, "pool_ok")) return pool_ok_main();
    if (!strcmp(mode, "slow_cb")) return slow_cb_main();
    if (!strcmp(mode, "contention")) return contention_main();
    if (!strcmp(mode, "crash")) return crash_main(0);
    if (!strcmp(mode, "overflow")) return crash_main(1);
    if (!strcmp(mode, "wd_order")) return wd_order_main();
    return -EINVAL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: warn_diag MODE\n");
        return 2;
    }
    mode = argv[1];
    int r = co_run(main_task, NULL);
    printf("co_run returned %d\n", r);
    return r < 0 ? 42 : 0;
}
