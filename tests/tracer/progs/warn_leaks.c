/* SPDX-License-Identifier: MIT */
/* warn_leaks.c -- subject for tests/tracer/warnings.sh: tasks leaked when
 * the loop closes.
 *
 * usage: warn_leaks pending | never | error
 *
 *   pending  main returns while its children are still pending:
 *            `napper` sleeps (10 s) and `listener` waits on the event
 *            `shutdown_ev`.  Each is a `pending_at_exit` warning (with what
 *            it waited on and where); they are then cancelled by the loop's
 *            close and are NOT never_awaited.
 *   never    `forgotten` ends normally but nobody awaits or detaches it: a
 *            `never_awaited` warning at its spawn line.  `fire_and_forget`
 *            is detached and `awaited_one` awaited, `detached_late` detached
 *            once it has ended: no warning for them.
 *   error    `failing` returns -EIO and nobody awaits it: an
 *            `unretrieved_error` warning at its spawn line, naming the error.
 *            `failing_awaited` fails the same way but is awaited: no warning.
 *
 * Exits 0.  The lines warnings.sh checks carry LK_* markers.
 */
#include "coscope.h"
#include <stdio.h>
#include <string.h>

static co_event_t shutdown_ev;

static int napper(void *arg)
{
    return co_sleep(10000); /* LK_NAP */
}

static int listener(void *arg)
{
    return co_event_wait(&shutdown_ev); /* LK_LISTEN */
}

static int forgotten(void *arg)
{
    return 0;
}

static int fire_and_forget(void *arg)
{
    return co_yield();
}

static int detached_late(void *arg)
{
    return 0;
}

static int awaited_one(void *arg)
{
    return 0;
}

static int failing(void *arg)
{
    co_yield();
    return -EIO;
}

static int failing_awaited(void *arg)
{
    return -EIO;
}

static int main_task(void *arg)
{
    const char *mode = arg;
    if (strcmp(mode, "pending") == 0) {
        co_event_init(&shutdown_ev);
        co_spawn(napper, NULL);
        co_spawn(listener, NULL);
        co_yield(); /* both start and block */
        return 0;
    }
    if (strcmp(mode, "never") == 0) {
        co_spawn(forgotten, NULL); /* LK_FORGOTTEN */
        co_detach(co_spawn(fire_and_forget, NULL));
        co_task_t late = co_spawn(detached_late, NULL);
        co_task_t a = co_spawn(awaited_one, NULL);
        co_sleep(5); /* everybody ends */
        if (co_detach(late) < 0) return -1; /* after its end: owned all the same */
        return co_await(a);
    }
    co_spawn(failing, NULL); /* LK_FAILING */
    int r = co_await(co_spawn(failing_awaited, NULL));
    printf("failing_awaited returned %d (%s)\n", r, co_strerror(r));
    co_sleep(5); /* failing ends */
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "pending") && strcmp(argv[1], "never") && strcmp(argv[1], "error"))) {
        fprintf(stderr, "usage: warn_leaks pending|never|error\n");
        return 2;
    }
    int r = co_run(main_task, argv[1]);
    printf("co_run returned %d\n", r);
    return r == 0 ? 0 : 1;
}
