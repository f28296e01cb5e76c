/* SPDX-License-Identifier: MIT */
/* spawn_yield.c -- workload (a): spawn 100,000 tasks that each co_yield()
 * 10 times, awaited together with one co_gather.  Mirrors
 * bench/python/spawn_yield.py: the clock covers spawning, running and
 * gathering.
 *
 * Each repetition runs in a fresh loop, so it pays for everything a first
 * run pays for; but the first loop of the process also maps the stack slabs,
 * installs their guard pages and faults their pages in, where later loops
 * find the slabs of the freed ones in the runtime's process-wide cache,
 * each stack's top page still in place, and the freed loop's task chunks
 * (runtime/stack.c, runtime/task.c): the best of them is `seconds`, the
 * first `first_seconds`.  The same loop then repeats the
 * workload with its stack pool warm: `warm_seconds`, for information.
 *
 * Usage: spawn_yield [--reps N] [--scale F]
 * Prints key=value lines; see bench/run.sh. */
#include "bench.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TASKS 100000
#define YIELDS 10
#define TIME_BUDGET 20.0 /* stop repeating once this many seconds were spent */

static long yields_done;

static int worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < YIELDS; i++) {
        int r = co_yield();
        if (r < 0) return r;
        yields_done++;
    }
    return 0;
}

struct job {
    size_t n;
    double cold, warm;
};

static int once(size_t n, double *secs)
{
    co_task_t *h = malloc(n * sizeof *h);
    if (!h) return -ENOMEM;
    yields_done = 0;
    double t0 = bench_now_s();
    for (size_t i = 0; i < n; i++) {
        h[i] = co_spawn(worker, NULL);
        if (!h[i].h) {
            free(h);
            return -ENOMEM;
        }
    }
    int r = co_gather(h, n, NULL, 0);
    *secs = bench_now_s() - t0;
    free(h);
    if (r < 0) return r;
    if (yields_done != (long)n * YIELDS) {
        fprintf(stderr, "spawn_yield: %ld yields, expected %ld\n", yields_done, (long)n * YIELDS);
        return -EPROTO;
    }
    return 0;
}

static int bench_main(void *arg)
{
    struct job *j = arg;
    int r = once(j->n, &j->cold);
    if (r < 0) return r;
    return once(j->n, &j->warm);
}

int main(int argc, char **argv)
{
    int reps = 3;
    double scale = 1.0;
    bench_args(argc, argv, &reps, &scale);
    size_t n = (size_t)(TASKS * scale);
    if (n < 1) n = 1;
    double best = 1e30, best_warm = 1e30, first = 0, spent = 0;
    int done = 0;
    for (int k = 0; k < reps && (k == 0 || spent < TIME_BUDGET); k++) {
        struct job j = { .n = n };
        int r = co_run(bench_main, &j);
        if (r < 0) {
            fprintf(stderr, "spawn_yield: %s\n", co_strerror(r));
            return 1;
        }
        if (k == 0) first = j.cold;
        if (j.cold < best) best = j.cold;
        if (j.warm < best_warm) best_warm = j.warm;
        spent += j.cold + j.warm;
        done++;
    }
    printf("tasks=%zu\nyields=%d\nreps=%d\nseconds=%.6f\nwarm_seconds=%.6f\nfirst_seconds=%.6f\n", n, YIELDS, done,
           best, best_warm, first);
    return 0;
}
