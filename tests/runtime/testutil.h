/* SPDX-License-Identifier: MIT */
/* testutil.h -- shared helpers for the runtime's cmocka tests. */
#ifndef CO_TESTUTIL_H
#define CO_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <unistd.h>
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

/* cmocka's asserts longjmp; from a task that would abandon the loop on a
 * coroutine stack.  Tasks record the first mismatch with EXPECT_INT or
 * EXPECT_TRUE, and run() reports it once the loop has shut down. */
static char failed[512];
#define EXPECT_INT(actual, expected) do { \
    long long a_ = (long long)(actual), e_ = (long long)(expected); \
    if (a_ != e_ && !failed[0]) \
        snprintf(failed, sizeof failed, "%s:%d: %s is %lld (%s), expected %lld", \
                 __FILE__, __LINE__, #actual, a_, a_ < 0 ? co_strerror((int)a_) : "", e_); \
} while (0)
#define EXPECT_TRUE(cond) do { \
    if (!(cond) && !failed[0]) snprintf(failed, sizeof failed, "%s:%d: %s", __FILE__, __LINE__, #cond); \
} while (0)

/* Run body as the main task of a fresh loop; fail on any EXPECT mismatch
 * or a nonzero result.  A hang is a failure (SIGALRM), not a stuck CI job. */
static inline void run(int (*body)(void *), void *arg)
{
    failed[0] = 0;
    alarm(10);
    int r = run_main(body, arg);
    alarm(0);
    if (failed[0]) fail_msg("%s", failed);
    assert_int_equal(r, 0);
}

/* Capture what the runtime prints on stderr (reports), from every thread,
 * so tests can assert on it instead of leaving noise in the output. */
typedef struct { int saved; FILE *f; } capture;

static inline void capture_begin(capture *c)
{
    fflush(stderr);
    c->f = tmpfile();
    assert_non_null(c->f);
    c->saved = dup(2);
    assert_true(c->saved >= 0);
    assert_true(dup2(fileno(c->f), 2) >= 0);
}

/* Restore stderr; return what was printed (a static buffer, until the next
 * capture_end). */
static inline const char *capture_end(capture *c)
{
    static char buf[65536];
    fflush(stderr);
    dup2(c->saved, 2);
    close(c->saved);
    rewind(c->f);
    size_t n = fread(buf, 1, sizeof buf - 1, c->f);
    buf[n] = 0;
    fclose(c->f);
    return buf;
}

/* Task bodies many tests use. */
static inline int return_arg(void *arg) { return I(arg); }
static inline int fail_eio(void *arg) { (void)arg; return -EIO; }

/* An order log: tasks append small integers, tests compare sequences. */
typedef struct { int v[256]; int n; } order_log;
static inline void log_add(order_log *l, int x) { if (l->n < 256) l->v[l->n++] = x; }
#define assert_log(lg, ...) do { \
    int exp_[] = { __VA_ARGS__ }; \
    assert_int_equal((lg)->n, (int)(sizeof exp_ / sizeof exp_[0])); \
    for (size_t i_ = 0; i_ < sizeof exp_ / sizeof exp_[0]; i_++) assert_int_equal((lg)->v[i_], exp_[i_]); \
} while (0)

#endif
