/* SPDX-License-Identifier: MIT */
/* idle_mem.c -- resident bytes per idle task.  Spawn 100,000 tasks that
 * each block on one co_event_t; once all of them are blocked, the growth of
 * the resident set (/proc/self/statm, field 2) divided by the task count is
 * what an idle task costs: its touched stack page(s), its task struct and
 * slot, the pool's per-stack bookkeeping.  The handle array is the caller's
 * and is allocated and touched before the first reading.  Then the event is
 * set and everything gathered.  Runs once, in its own process, so no earlier
 * workload's freed memory is reused.
 *
 * Usage: idle_mem [--scale F] */
#include "bench.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TASKS 100000

static co_event_t ev;
static size_t started, n_tasks;
static long rss_before, rss_after;

static long rss_bytes(void)
{
    long size = 0, resident = -1;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return -1;
    if (fscanf(f, "%ld %ld", &size, &resident) != 2) resident = -1;
    fclose(f);
    return resident < 0 ? -1 : resident * sysconf(_SC_PAGESIZE);
}

static int idle_task(void *arg)
{
    (void)arg;
    started++;
    return co_event_wait(&ev);
}

static int bench_main(void *arg)
{
    (void)arg;
    co_task_t *h = calloc(n_tasks, sizeof *h);
    if (!h) return -ENOMEM;
    memset(h, 0xff, n_tasks * sizeof *h); /* make it resident before measuring */
    co_event_init(&ev);
    rss_before = rss_bytes();
    for (size_t i = 0; i < n_tasks; i++) {
        h[i] = co_spawn(idle_task, NULL);
        if (!h[i].h) return -ENOMEM;
    }
    while (started < n_tasks) co_yield(); /* every task runs and blocks */
    rss_after = rss_bytes();
    co_event_set(&ev);
    int r = co_gather(h, n_tasks, NULL, 0);
    free(h);
    co_event_destroy(&ev);
    return r;
}

int main(int argc, char **argv)
{
    double scale = 1.0;
    bench_args(argc, argv, NULL, &scale);
    n_tasks = (size_t)(TASKS * scale);
    if (n_tasks < 1) n_tasks = 1;
    int r = co_run(bench_main, NULL);
    if (r < 0 || rss_before < 0 || rss_after < 0) {
        fprintf(stderr, "idle_mem: %s\n", r < 0 ? co_strerror(r) : "cannot read /proc/self/statm");
        return 1;
    }
    printf("tasks=%zu\nrss_before=%ld\nrss_after=%ld\nbytes_per_task=%.1f\n", n_tasks, rss_before,
           rss_after, (double)(rss_after - rss_before) / (double)n_tasks);
    return 0;
}
