/* SPDX-License-Identifier: MIT */
/* leaked.h -- the teardown of tests that run assertions inside tasks.  A
 * failing cmocka assertion inside a task longjmps off the task's stack and
 * leaves its loop installed on the thread (it still thinks a task runs, so
 * it cannot be freed); drop_leaked_loop abandons it so the next test starts
 * clean instead of failing with -EBUSY.  T(f) registers f with it. */
#ifndef CO_TEST_LEAKED_H
#define CO_TEST_LEAKED_H

#include "testutil.h"
#include "internal.h" /* co__tl_loop, for drop_leaked_loop only */

static inline int drop_leaked_loop(void **state)
{
    (void)state;
    co__tl_loop = NULL;
    return 0;
}

#define T(f) cmocka_unit_test_teardown(f, drop_leaked_loop)

#endif
