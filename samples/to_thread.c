/* SPDX-License-Identifier: MIT */
/* to_thread.c -- a blocking call moved off the loop with co_to_thread.
 *
 * What it shows: legacy_lookup() stands for a library call that blocks
 * (a synchronous database driver, getpwnam on a slow NSS, ...): 250 ms of
 * usleep.  Called from a task it would freeze every other task for 250 ms
 * (see slow_step.c).  co_to_thread runs it on libuv's thread pool and
 * suspends only the caller: the ticker task keeps ticking every 20 ms
 * while the lookup runs, and the tracer reports no slow step.
 *
 * Run it:
 *     build/coscope run -o t.db -- build/samples/to_thread
 *     build/coscope report t.db
 *
 * What to look for:
 *   - report: no warnings; main waited ~250 ms; ticker did ~12 awaits
 *     while main waited.
 *   - tui: Timeline (4) shows main's 250 ms wait on `thread` with the
 *     ticker's short steps going on underneath; Enter on main shows the
 *     `thread` await at the co_to_thread line.
 */
#include "coscope.h"
#include <stdio.h>
#include <stdint.h>
#include <unistd.h>

/* Runs on a pool thread: must not touch the loop or its objects. */
static void *legacy_lookup(void *arg)
{
    usleep(250 * 1000);
    return (void *)(intptr_t)(42 + (intptr_t)arg);
}

static int ticker(void *arg)
{
    int *ticks = arg;
    /* Ticks until main cancels it: co_sleep then returns -ECANCELED. */
    while (co_sleep(20) == 0) (*ticks)++; /* TICK_SLEEP */
    return 0;
}

static int amain(void *arg)
{
    int ticks = 0;
    co_task_t tick = co_spawn(ticker, &ticks);
    if (!tick.h) return -ENOMEM;

    void *answer;
    int r = co_to_thread(legacy_lookup, (void *)(intptr_t)0, &answer); /* TO_THREAD */
    int ticks_meanwhile = ticks;
    co_cancel(tick);
    int tr = co_await(tick);
    if (r < 0) return r;
    if (tr < 0) return tr;
    printf("lookup answered %d; the ticker ticked %s while it ran\n", (int)(intptr_t)answer,
           ticks_meanwhile >= 5 ? "on" : "NOT");
    return 0;
}

int main(void)
{
    int r = co_run(amain, NULL);
    if (r < 0) {
        fprintf(stderr, "to_thread: %s\n", co_strerror(r));
        return 1;
    }
    return 0;
}
