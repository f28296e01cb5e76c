/* SPDX-License-Identifier: MIT */
/* emit.c -- a program that records events at a steady rate, for the live
 * view's lag (bench/tui --live): four tasks yield in turn, paced to about
 * --rate events per second (an await and a resume per yield) for --seconds.
 *
 * Usage: emit [--rate N] [--seconds S] */
#include "bench.h"
#include <stdint.h>

static double rate = 1e6, seconds = 5;

static int worker(void *arg)
{
    (void)arg;
    double start = bench_now_s();
    long yields = 0;
    for (;;) {
        double elapsed = bench_now_s() - start;
        if (elapsed >= seconds) return 0;
        /* 4 workers, 2 events a yield: each owes rate / 8 yields a second. */
        long due = (long)(elapsed * rate / 8);
        if (yields >= due) {
            co_sleep(1);
            continue;
        }
        for (int i = 0; i < 1000 && yields < due; i++, yields++) co_yield();
    }
}

static int main_task(void *arg)
{
    (void)arg;
    co_task_t t[4];
    for (int i = 0; i < 4; i++) t[i] = co_spawn(worker, NULL);
    for (int i = 0; i < 4; i++) co_await(t[i]);
    return 0;
}

int main(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--rate")) rate = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--seconds")) seconds = atof(argv[i + 1]);
    }
    return co_run(main_task, NULL) == 0 ? 0 : 1;
}
