/* SPDX-License-Identifier: MIT */
/* bench.h -- what the benchmark programs share: the clock, the --reps and
 * --scale options, and "the best of N fresh loops". */
#ifndef CO_BENCH_H
#define CO_BENCH_H

#include "coscope.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double bench_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* --reps N and --scale F, in pairs; other pairs are the caller's. */
static inline void bench_args(int argc, char **argv, int *reps, double *scale)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        if (reps && !strcmp(argv[i], "--reps")) *reps = atoi(argv[i + 1]);
        else if (scale && !strcmp(argv[i], "--scale")) *scale = atof(argv[i + 1]);
    }
}

/* Run body(&figure) as the main task of a fresh co_run, reps times; the
 * smallest figure, or -1 after a message if a run failed. */
static inline double bench_best(const char *name, int reps, int (*body)(void *))
{
    double best = 1e30;
    for (int k = 0; k < reps; k++) {
        double figure = 0;
        int r = co_run(body, &figure);
        if (r < 0) {
            fprintf(stderr, "%s: %s\n", name, co_strerror(r));
            return -1;
        }
        if (figure < best) best = figure;
    }
    return best;
}

#endif
