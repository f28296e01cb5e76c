/* SPDX-License-Identifier: MIT */
/* duty.c -- subject for tests/tui/tui3_model.sh's timeline cells: a task
 * that runs about a third of the time, in short turns.
 *
 * usage: duty [BUSY_MS [SLEEP_MS [TOTAL_MS]]]     (default 3, 5, 600)
 *
 * main spawns 'duty', which until TOTAL_MS have passed works BUSY_MS (a
 * spin on the clock) and sleeps SLEEP_MS, and awaits it.  Zoomed out,
 * every cell of its timeline row holds a turn of each.
 */
#define _GNU_SOURCE
#include "coscope.h"
#include <stdlib.h>
#include <time.h>

static long busy_ms = 3, sleep_ms = 5, total_ms = 600;

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int duty(void *arg)
{
    (void)arg;
    double end = now_ms() + (double)total_ms;
    while (now_ms() < end) {
        double stop = now_ms() + (double)busy_ms;
        while (now_ms() < stop) {
        }
        int r = co_sleep((uint64_t)sleep_ms);
        if (r < 0) return r;
    }
    return 0;
}

static int amain(void *arg)
{
    (void)arg;
    co_task_t t = co_spawn_named("duty", duty, NULL);
    return co_await(t);
}

int main(int argc, char **argv)
{
    if (argc > 1) busy_ms = atol(argv[1]);
    if (argc > 2) sleep_ms = atol(argv[2]);
    if (argc > 3) total_ms = atol(argv[3]);
    return co_run(amain, NULL) < 0 ? 1 : 0;
}
