/* SPDX-License-Identifier: MIT */
/* leak.c -- FAILURE CASE: a leaked task.
 *
 * The bug: main starts a `heartbeat` task that pings every 30 ms, does its
 * real work (a few steps), and returns -- forgetting to cancel and await
 * the heartbeat.  In asyncio that task would be destroyed while pending
 * ("Task was destroyed but it is pending!").  Here the loop's close cancels
 * it (its sleep returns -ECANCELED) and reports it.  Exits 0.
 *
 * Run it:
 *     build/coscope run -o t.db -- build/samples/leak
 *     build/coscope report t.db
 *
 * What to look for:
 *   - report: one pending_at_exit warning: heartbeat, still waiting on a
 *     sleep at the LEAK_SLEEP line when the loop closed; heartbeat's state
 *     is cancelled (cancelled by the close, not by the program).
 *   - tui: Warnings (3) shows the pending_at_exit row, Enter opens
 *     heartbeat: its last await is the sleep cut short at the very end;
 *     Timeline (4) shows it outliving main's work.
 */
#include "coscope.h"
#include <stdio.h>

static int heartbeat(void *arg)
{
    int *beats = arg;
    for (;;) {
        int r = co_sleep(30); /* LEAK_SLEEP */
        if (r < 0) return r;
        (*beats)++;
    }
}

static int amain(void *arg)
{
    static int beats;
    co_spawn(heartbeat, &beats); /* LEAK_SPAWN: the handle is dropped on the floor */
    for (int step = 1; step <= 4; step++) {
        int r = co_sleep(25); /* the real work */
        if (r < 0) return r;
        printf("work step %d done\n", step);
    }
    printf("main done; heartbeat is still running (the leak)\n");
    return 0; /* BUG: no co_cancel + co_await of the heartbeat */
}

int main(void)
{
    int r = co_run(amain, NULL);
    if (r < 0) {
        fprintf(stderr, "leak: %s\n", co_strerror(r));
        return 1;
    }
    return 0;
}
