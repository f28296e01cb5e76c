/* SPDX-License-Identifier: MIT */
/* debug_mode.c -- debug mode on: the runtime explains problems on stderr
 * as they happen (asyncio's debug=True, PYTHONASYNCIODEBUG=1).
 *
 * What it shows: instead of co_run, this program makes its loop with
 * co_loop_new and co_loop_opts { .debug = 1, .slow_ms = 50 } (setting
 * CO_DEBUG=1 in the environment does the same for any program).  Then:
 *   - co_log lines are echoed on stderr;
 *   - thumbnail does 150 ms of blocking work (usleep) between two awaits:
 *     stderr gets "coscope: slow step: task 'thumbnail' ... between await at
 *     debug_mode.c:A and await at debug_mode.c:B", and the watchdog prints
 *     the loop thread's stack while the step overruns;
 *   - audit is spawned and forgotten: when the loop is freed, stderr says
 *     it "was never awaited nor detached".
 * No trace is needed to see any of this; under coscope run the same
 * problems are also recorded as warnings.  Exits 0.
 *
 * Run it:
 *     build/samples/debug_mode                     (read stderr)
 *     build/coscope run -o t.db -- build/samples/debug_mode
 *     build/coscope report t.db
 *
 * What to look for:
 *   - report: slow_step on thumbnail from the DEBUG_BEFORE await to the
 *     DEBUG_AFTER one (the 150 ms step), never_awaited on audit at its
 *     spawn line.
 *   - tui: Warnings (3) lists both, Enter jumps to the task; Timeline (4)
 *     shows thumbnail's 150 ms step with nothing else running during it;
 *     Enter on main shows its co_log lines.
 */
#include "coscope.h"
#include <stdio.h>
#include <unistd.h>

static int thumbnail(void *arg)
{
    co_log("thumbnail: fetching the image");
    int r = co_sleep(10); /* DEBUG_BEFORE */
    if (r < 0) return r;
    usleep(150 * 1000); /* decoding with a blocking library call: holds the loop */
    r = co_sleep(10); /* DEBUG_AFTER */
    if (r < 0) return r;
    co_log("thumbnail: done");
    return 0;
}

static int audit(void *arg)
{
    co_log("audit: recorded");
    return 0;
}

static int amain(void *arg)
{
    co_log("main: starting in debug mode");
    co_spawn(audit, NULL); /* DEBUG_FORGOTTEN: never awaited, never detached */
    int r = co_await(co_spawn(thumbnail, NULL));
    printf("thumbnail finished: %s\n", r < 0 ? co_strerror(r) : "ok");
    return r;
}

int main(void)
{
    co_loop_t *loop;
    co_loop_opts opts = { .debug = 1, .slow_ms = 50 };
    int r = co_loop_new(&loop, &opts);
    if (r < 0) {
        fprintf(stderr, "debug_mode: %s\n", co_strerror(r));
        return 1;
    }
    r = co_loop_run(loop, amain, NULL);
    co_loop_free(loop); /* reports audit, never awaited */
    if (r < 0) {
        fprintf(stderr, "debug_mode: %s\n", co_strerror(r));
        return 1;
    }
    return 0;
}
