/* SPDX-License-Identifier: MIT */
/* timeouts.c -- co_wait_for and a timeout scope, with the cancellation
 * handled.
 *
 * What it shows, in three parts:
 *   1. co_wait_for(slow_report, 100 ms): the task needs 500 ms, so at
 *      100 ms it is cancelled.  Its co_sleep returns -ECANCELED, it runs its
 *      cleanup (printing "cleaning up"), and returns -ECANCELED;
 *      co_wait_for waits for that cleanup, then returns -ETIMEDOUT.
 *   2. co_wait_for(quick_report, 100 ms): done in 20 ms, its result comes
 *      back as if awaited.
 *   3. A timeout scope (asyncio.timeout) of 150 ms around two 100 ms
 *      steps: the first finishes, the second's co_sleep returns -ETIMEDOUT
 *      at the deadline and co_timeout_end says the scope expired; main
 *      falls back to a default instead of failing.
 *
 * Run it:
 *     build/coscope run -o t.db -- build/samples/timeouts
 *     build/coscope report t.db
 *
 * What to look for:
 *   - report: slow_report cancelled (result -ECANCELED), quick_report done,
 *     main done; no warnings: every cancellation was handled.
 *   - tui: Tasks (1) shows slow_report as cancelled; Enter on it shows its
 *     sleep cut short at 100 ms with result -ECANCELED; Enter on main shows
 *     the scope's second sleep ending with -ETIMEDOUT at 150 ms.
 */
#include "coscope.h"
#include <stdio.h>

static int slow_report(void *arg)
{
    int r = co_sleep(500); /* SLOW_REPORT_SLEEP */
    if (r == -ECANCELED) {
        /* Cleanup may await: cancellation is delivered once. */
        printf("slow_report: cancelled, cleaning up\n");
        co_sleep(5);
        return -ECANCELED;
    }
    return r < 0 ? r : 500;
}

static int quick_report(void *arg)
{
    int r = co_sleep(20);
    return r < 0 ? r : 20;
}

static int amain(void *arg)
{
    co_task_t slow = co_spawn(slow_report, NULL);
    if (!slow.h) return -ENOMEM;
    int r = co_wait_for(slow, 100); /* WAIT_FOR_SLOW */
    printf("wait_for(slow_report, 100 ms): %s\n", r == -ETIMEDOUT ? "timed out" : co_strerror(r));
    if (r != -ETIMEDOUT) return -EIO;

    co_task_t quick = co_spawn(quick_report, NULL);
    if (!quick.h) return -ENOMEM;
    r = co_wait_for(quick, 100);
    printf("wait_for(quick_report, 100 ms): result %d\n", r);
    if (r != 20) return -EIO;

    co_timeout_t scope;
    co_timeout_begin(&scope, 150);
    int steps_done = 0;
    for (int i = 0; i < 2; i++) {
        r = co_sleep(100); /* SCOPE_SLEEP */
        if (r < 0) break;
        steps_done++;
    }
    int expired = co_timeout_end(&scope);
    /* The deadline is not an error here: use what was done in time. */
    printf("timeout scope: %d of 2 steps done, scope %s\n", steps_done,
           expired == -ETIMEDOUT ? "expired (using the default for the rest)" : "finished in time");
    return r == -ETIMEDOUT || r == 0 ? 0 : r;
}

int main(void)
{
    int r = co_run(amain, NULL);
    if (r < 0) {
        fprintf(stderr, "timeouts: %s\n", co_strerror(r));
        return 1;
    }
    return 0;
}
