/* SPDX-License-Identifier: MIT */
/* gather_errors.c -- gathering results and errors without failing fast.
 *
 * What it shows: asyncio.gather(..., return_exceptions=True).  Four
 * "health checks" run at once; two fail (-ECONNREFUSED after 30 ms,
 * -ETIMEDOUT after 60 ms).  With CO_GATHER_COLLECT co_gather waits for all
 * four and puts each result or error in results[]: the healthy checks are
 * not cancelled by their siblings' failures, and main prints a line per
 * service.  (Without the flag, the first failure would cancel the rest.)
 * Every error was read, so there is no "unretrieved error".
 *
 * Run it:
 *     build/coscope run -o t.db -- build/samples/gather_errors
 *     build/coscope report t.db
 *
 * What to look for:
 *   - report: check db and check cache done, check mail and check search
 *     failed with their errors, none cancelled; no warnings.
 *   - tui: Tasks (1) shows the two failed tasks (state failed, the error
 *     named); Timeline (4) shows all four running to their own end; Await
 *     tree (5) at ~40 ms shows main still waiting on the survivors.
 */
#include "coscope.h"
#include <stdio.h>

typedef struct check {
    const char *service;
    int latency_ms;
    int outcome; /* 0 healthy, else the error the service answers with */
} check;

static int health_check(void *arg)
{
    const check *c = arg;
    int r = co_sleep(c->latency_ms); /* CHECK_SLEEP */
    if (r < 0) return r;
    return c->outcome < 0 ? c->outcome : c->latency_ms;
}

static int amain(void *arg)
{
    static const check checks[] = {
        { "db", 40, 0 },
        { "mail", 30, -ECONNREFUSED },
        { "cache", 10, 0 },
        { "search", 60, -ETIMEDOUT },
    };
    enum { N = sizeof checks / sizeof checks[0] };
    co_task_t tasks[N];
    for (int i = 0; i < N; i++) {
        char name[32];
        snprintf(name, sizeof name, "check %s", checks[i].service);
        tasks[i] = co_spawn_named(name, health_check, (void *)&checks[i]);
        if (!tasks[i].h) return -ENOMEM;
    }
    int results[N];
    int r = co_gather(tasks, N, results, CO_GATHER_COLLECT); /* GATHER_COLLECT */
    if (r < 0) return r;
    int failed = 0;
    for (int i = 0; i < N; i++) {
        if (results[i] < 0) {
            failed++;
            printf("%-7s DOWN (%s)\n", checks[i].service, co_strerror(results[i]));
        } else {
            printf("%-7s up (%d ms)\n", checks[i].service, results[i]);
        }
    }
    printf("%d of %d services down\n", failed, N);
    return 0;
}

int main(void)
{
    int r = co_run(amain, NULL);
    if (r < 0) {
        fprintf(stderr, "gather_errors: %s\n", co_strerror(r));
        return 1;
    }
    return 0;
}
