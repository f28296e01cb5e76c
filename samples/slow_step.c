/* SPDX-License-Identifier: MIT */
/* slow_step.c -- FAILURE CASE: a blocking call inside a task.
 *
 * The bug: handle_login "hashes the password" with a blocking 250 ms call
 * (usleep stands for a synchronous bcrypt, a blocking DNS lookup, a
 * time.sleep in asyncio).  No other task can run during those 250 ms:
 * the ticker, which should tick every 20 ms, sees one gap of ~250 ms.  The
 * fix is co_to_thread (see to_thread.c).  Exits 0.
 *
 * Run it:
 *     build/coscope run -o t.db -- build/samples/slow_step
 *     build/coscope report t.db
 *
 * What to look for:
 *   - report: one slow_step warning on handle_login, ~250 ms, between the
 *     await at SLOW_BEFORE and the await at SLOW_AFTER: the blocking code
 *     is between those two lines.
 *   - tui: Warnings (3) shows the slow step, Enter opens handle_login;
 *     Timeline (4) shows its one long step and the hole in the ticker's
 *     ticks at the same moment.
 */
#include "coscope.h"
#include <stdio.h>
#include <unistd.h>

static void hash_password_blocking(void)
{
    usleep(250 * 1000);
}

static int handle_login(void *arg)
{
    int r = co_sleep(30); /* SLOW_BEFORE: read the request */
    if (r < 0) return r;
    hash_password_blocking(); /* BUG: blocks the loop for 250 ms */
    r = co_sleep(5); /* SLOW_AFTER: write the reply */
    if (r < 0) return r;
    printf("login handled\n");
    return 0;
}

static int ticker(void *arg)
{
    uint64_t *worst_gap = arg, last = co_now_ms();
    while (co_sleep(20) == 0) {
        uint64_t now = co_now_ms();
        if (now - last > *worst_gap) *worst_gap = now - last;
        last = now;
    }
    return 0;
}

static int amain(void *arg)
{
    uint64_t worst_gap = 0;
    co_task_t tick = co_spawn(ticker, &worst_gap);
    int r = co_await(co_spawn(handle_login, NULL));
    r = r < 0 ? r : co_sleep(50);
    co_cancel(tick);
    co_await(tick);
    printf("ticker: longest gap between ticks %s 200 ms (it should be ~20)\n", worst_gap > 200 ? "over" : "under");
    return r;
}

int main(void)
{
    int r = co_run(amain, NULL);
    if (r < 0) {
        fprintf(stderr, "slow_step: %s\n", co_strerror(r));
        return 1;
    }
    return 0;
}
