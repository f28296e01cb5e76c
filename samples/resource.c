/* SPDX-License-Identifier: MIT */
/* resource.c -- an async resource with setup and teardown around a block
 * (Python's `async with`).
 *
 * What it shows: with_session(block) opens a "database session" (setup
 * awaits: a 10 ms connect), runs the block with it, and always closes it
 * (teardown awaits too: a 5 ms goodbye), whether the block succeeds, fails,
 * or is cancelled.  Each session is a region ("session"), so it shows as a
 * span in the trace.  Three uses:
 *   1. a block that succeeds: its result comes back;
 *   2. a block that fails with -EIO: the session is still closed and the
 *      error comes back;
 *   3. a block cancelled by co_wait_for's 50 ms deadline while it waits:
 *      teardown still runs, in the cancelled task (cancellation is
 *      delivered once, so teardown's own await works).
 * At the end every opened session has been closed: open == 0.
 *
 * Run it:
 *     build/coscope run -o t.db -- build/samples/resource
 *     build/coscope report t.db
 *
 * What to look for:
 *   - report: use_ok done, use_fails failed (-EIO, read by main, so no
 *     warning), use_slow cancelled; no warnings.
 *   - tui: Timeline (4) shows three "session" region spans, each bracketing
 *     the block; Enter on use_slow shows its query sleep cut short by the
 *     cancel and the teardown sleep that follows it.
 */
#include "coscope.h"
#include <stdio.h>

typedef struct session {
    int id;
} session;

static int sessions_open;

typedef int (*session_block)(session *s);

static int with_session(session_block block)
{
    static int next_id = 1;
    co_region_t region = co_region_begin("session");
    session s = { next_id++ };
    int r = co_sleep(10); /* SESSION_SETUP: connect */
    if (r < 0) {
        co_region_end(region);
        return r;
    }
    sessions_open++;
    printf("session %d: open\n", s.id);

    int result = block(&s);

    /* Teardown: runs on every path.  A cancelled task may still await here
     * because cancellation is delivered only once. */
    co_sleep(5); /* SESSION_TEARDOWN: goodbye */
    sessions_open--;
    printf("session %d: closed (block returned %s)\n", s.id, result < 0 ? co_strerror(result) : "ok");
    co_region_end(region);
    return result;
}

static int query_ok(session *s) { return co_sleep(20) < 0 ? -ECANCELED : 7; }
static int query_fails(session *s) { co_sleep(20); return -EIO; }
static int query_slow(session *s) { return co_sleep(1000); /* SLOW_QUERY: cut short by the deadline */ }

static int use_ok(void *arg) { return with_session(query_ok); }
static int use_fails(void *arg) { return with_session(query_fails); }
static int use_slow(void *arg) { return with_session(query_slow); }

static int amain(void *arg)
{
    int r = co_await(co_spawn(use_ok, NULL));
    printf("use_ok: %d rows\n", r);
    r = co_await(co_spawn(use_fails, NULL));
    printf("use_fails: %s\n", co_strerror(r));
    r = co_wait_for(co_spawn(use_slow, NULL), 50);
    printf("use_slow: %s\n", co_strerror(r));
    printf("sessions still open: %d\n", sessions_open);
    return sessions_open == 0 ? 0 : -EIO;
}

int main(void)
{
    int r = co_run(amain, NULL);
    if (r < 0) {
        fprintf(stderr, "resource: %s\n", co_strerror(r));
        return 1;
    }
    return 0;
}
