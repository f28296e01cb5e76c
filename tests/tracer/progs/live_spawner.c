/* SPDX-License-Identifier: MIT */
/* live_spawner.c -- subject for tests/tui/live.sh and tests/tui/tui.sh's
 * timeline: a program whose tasks appear over time, so a UI following it
 * live sees the task count grow by itself, and whose trace has waits at
 * known times.
 *
 * usage: live_spawner [N [MS [crash]]]     (default 30 tasks, 100 ms)
 *
 * main spawns `worker` N times, one every MS milliseconds (co_sleep between
 * spawns), printing "spawned worker I" each time (flushed: the Output view
 * shows it as it comes), then awaits them all.  Each worker takes the lock
 * `shared` and sleeps 1.5 * MS holding it, so from the second one on they
 * queue for the lock: worker I waits on it from I*MS until 1.5*MS*I, then
 * sleeps 1.5*MS.  With N=3 MS=100 the run lasts about 450 ms: worker 1
 * waits on the lock over [100, 150) ms and sleeps over [150, 300) ms.
 * With `crash`, main dies of SIGSEGV once all are spawned (after
 * co_mark("all spawned")), the workers still queued on the lock.
 */
#include "coscope.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static co_lock_t shared;
static long n_tasks = 30, period_ms = 100;
static int crash;
/* Below mmap_min_addr, never mapped; volatile: the compiler cannot see the store is bad. */
static int *volatile nowhere = (int *)16;

static int worker(void *arg)
{
    long i = (long)arg;
    co_lock_acquire(&shared);
    co_log("worker %ld has the lock", i);
    co_sleep(period_ms * 3 / 2);
    co_lock_release(&shared);
    return 0;
}

static int main_task(void *arg)
{
    co_task_t *w = calloc((size_t)n_tasks, sizeof *w);
    if (!w) return 1;
    for (long i = 0; i < n_tasks; i++) {
        w[i] = co_spawn(worker, (void *)i);
        printf("spawned worker %ld\n", i);
        fflush(stdout);
        if (i + 1 < n_tasks) co_sleep(period_ms);
    }
    co_mark("all spawned");
    if (crash) {
        printf("crashing now\n");
        fflush(stdout);
        *nowhere = 1;
    }
    for (long i = 0; i < n_tasks; i++) co_await(w[i]);
    free(w);
    printf("all %ld workers done\n", n_tasks);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1) n_tasks = atol(argv[1]);
    if (argc > 2) period_ms = atol(argv[2]);
    crash = argc > 3 && !strcmp(argv[3], "crash");
    if (n_tasks < 1 || n_tasks > 100000 || period_ms < 0) {
        fprintf(stderr, "usage: live_spawner [N [MS [crash]]]\n");
        return 2;
    }
    co_lock_init(&shared);
    return co_run(main_task, NULL) == 0 ? 0 : 1;
}
