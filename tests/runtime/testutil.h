/* testutil.h -- shared helpers for the runtime's cmocka tests. */
#ifndef CO_TESTUTIL_H
#define CO_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "coscope.h"

#define P(i) ((void *)(intptr_t)(i))
#define I(p) ((int)(intptr_t)(p))

/* Run body(arg) as the main task of a fresh loop; return its result. */
static inline int run_main(int (*body)(void *), void *arg)
{
    co_loop_t *loop;
    assert_int_equal(co_loop_new(&loop, NULL), 0);
    int r = co_loop_run(loop, body, arg);
    assert_int_equal(co_loop_free(loop), 0);
    return r;
}

/* An order log: tasks append small integers, tests compare sequences. */
typedef struct { int v[256]; int n; } order_log;
static inline void log_add(order_log *l, int x) { if (l->n < 256) l->v[l->n++] = x; }
#define assert_log(lg, ...) do { \
    int exp_[] = { __VA_ARGS__ }; \
    assert_int_equal((lg)->n, (int)(sizeof exp_ / sizeof exp_[0])); \
    for (size_t i_ = 0; i_ < sizeof exp_ / sizeof exp_[0]; i_++) assert_int_equal((lg)->v[i_], exp_[i_]); \
} while (0)

#endif
