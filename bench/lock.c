/* lock.c -- workload (c): 100 tasks x 10,000 acquisitions of one co_lock_t,
 * each holding it across one co_yield().  Mirrors bench/python/lock.py: the
 * clock covers spawning, the contention and gathering.  Best of --reps fresh
 * loops.  Mutual exclusion is checked on every acquisition.
 *
 * Usage: lock [--reps N] [--scale F] */
#include "coscope.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TASKS 100
#define ACQUISITIONS 10000

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static co_lock_t lock;
static long per_task;
static int inside;

static int worker(void *arg)
{
    (void)arg;
    for (long i = 0; i < per_task; i++) {
        int r = co_lock_acquire(&lock);
        if (r < 0) return r;
        if (inside++) return -EPROTO;
        r = co_yield();
        inside--;
        co_lock_release(&lock);
        if (r < 0) return r;
    }
    return 0;
}

static int bench_main(void *arg)
{
    double *secs = arg;
    co_task_t h[TASKS];
    co_lock_init(&lock);
    inside = 0;
    double t0 = now_s();
    for (int i = 0; i < TASKS; i++) h[i] = co_spawn(worker, NULL);
    int r = co_gather(h, TASKS, NULL, 0);
    *secs = now_s() - t0;
    co_lock_destroy(&lock);
    return r;
}

int main(int argc, char **argv)
{
    int reps = 5;
    double scale = 1.0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--reps")) reps = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--scale")) scale = atof(argv[i + 1]);
    }
    per_task = (long)(ACQUISITIONS * scale);
    if (per_task < 1) per_task = 1;
    double best = 1e30;
    for (int k = 0; k < reps; k++) {
        double s = 0;
        int r = co_run(bench_main, &s);
        if (r < 0) {
            fprintf(stderr, "lock: %s\n", co_strerror(r));
            return 1;
        }
        if (s < best) best = s;
    }
    printf("acquisitions=%ld\nreps=%d\nseconds=%.6f\nns_per_acquisition=%.2f\n", per_task * TASKS, reps,
           best, best * 1e9 / (double)(per_task * TASKS));
    return 0;
}
