/* SPDX-License-Identifier: MIT */
/* children.h -- what the tests of the combinators, timeout scopes and task
 * groups share (test_combinators.c, test_timeout.c, test_group.c): children
 * that sleep, fail or wait and record how they ended.
 *
 * Children that must outlive the interesting moment sleep for 100 s or wait
 * on an event nobody sets; only cancellation can end them early, so a test
 * that returns quickly proves the cancellation happened.  Elapsed-time checks
 * are upper bounds far above what the test needs, never exact durations. */
#ifndef CO_TEST_CHILDREN_H
#define CO_TEST_CHILDREN_H

#include "leaked.h"
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#define FOREVER 100000 /* ms: a sleep only cancellation ends */

/* Silence stderr around a call that is expected to print a warning. */
static int saved_stderr = -1; /* one per test binary */

static inline void capture_stderr_off(void)
{
    fflush(stderr);
    saved_stderr = dup(2);
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 2);
    close(null);
}

static inline void capture_stderr_on(void)
{
    fflush(stderr);
    dup2(saved_stderr, 2);
    close(saved_stderr);
}

/* Sleep arg ms, then return arg. */
static inline int sleep_ms(void *arg)
{
    int r = co_sleep(I(arg));
    return r < 0 ? r : I(arg);
}

/* A child that logs when it ends, records how its sleep ended and runs a
 * cleanup that itself awaits. */
typedef struct {
    order_log *lg;
    int tag;
    int ms;           /* sleep; FOREVER for "until cancelled" */
    int result;       /* returned after a full sleep */
    int sleep_r;      /* what co_sleep returned */
    int cleanup_r;    /* what the cleanup's await returned */
    int cleaned;
} child;

static inline int child_body(void *arg)
{
    child *c = arg;
    c->sleep_r = co_sleep(c->ms);
    if (c->sleep_r < 0) {
        c->cleanup_r = co_sleep(1);
        c->cleaned = 1;
        if (c->lg) log_add(c->lg, -c->tag);
        return c->sleep_r;
    }
    if (c->lg) log_add(c->lg, c->tag);
    return c->result;
}

static inline void child_init(child *c, order_log *lg, int tag, int ms, int result)
{
    *c = (child){ .lg = lg, .tag = tag, .ms = ms, .result = result, .sleep_r = 1, .cleanup_r = 1 };
}

static inline int waits_event(void *arg)
{
    int r = co_event_wait((co_event_t *)arg);
    return r < 0 ? r : 77;
}

#endif
