/* SPDX-License-Identifier: MIT */
/* busy_yield.c -- subject for tests/tui/tui3.sh's following of a plain
 * `coscope run`: a program that is never idle, so its recorder never gets
 * the quiet moment in which it used to build the tables.  A follower
 * (`coscope tui FILE` from another terminal) must see its tasks anyway.
 *
 * usage: busy_yield [SECONDS [TASKS]]     (default 4 s, 4 tasks)
 *
 * main spawns TASKS spinners, one every 100 ms, each working 100 us and
 * yielding in a loop until SECONDS have passed since the start, and awaits
 * them.
 */
#define _GNU_SOURCE
#include "coscope.h"
#include <stdlib.h>
#include <time.h>

static double seconds = 4;
static long ntasks = 4;
static struct timespec t0;

static double since_start(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9;
}

static int spinner(void *arg)
{
    (void)arg;
    /* 100 us of work a step: never idle, yet a few tens of thousands of
     * events a second, not millions. */
    while (since_start() < seconds) {
        double until = since_start() + 0.0001;
        while (since_start() < until) {}
        co_yield();
    }
    return 0;
}

static int main_task(void *arg)
{
    (void)arg;
    co_task_t *w = calloc((size_t)ntasks, sizeof *w);
    if (!w) return 1;
    for (long i = 0; i < ntasks; i++) {
        w[i] = co_spawn(spinner, NULL);
        /* Not a sleep: main stays busy too. */
        double until = since_start() + 0.1;
        while (since_start() < until) {
            double step = since_start() + 0.0001;
            while (since_start() < step) {}
            co_yield();
        }
    }
    for (long i = 0; i < ntasks; i++) co_await(w[i]);
    free(w);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1) seconds = atof(argv[1]);
    if (argc > 2) ntasks = atol(argv[2]);
    if (seconds < 0 || ntasks < 1 || ntasks > 1000) return 2;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    return co_run(main_task, NULL) == 0 ? 0 : 1;
}
