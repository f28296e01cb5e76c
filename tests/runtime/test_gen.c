/* SPDX-License-Identifier: MIT */
/* test_gen.c -- generators: values arrive in order and lazily, bodies await
 * between yields, early close runs the body's cleanup, errors propagate
 * through next and close, cancellation and timeouts on either side, and
 * misuse is refused with a clear error. */
#include "testutil.h"
#include <stdlib.h>

/* ------------------------------------------------------------------------ */
/* Bodies                                                                    */

typedef struct {
    int n;             /* values to yield: 1..n */
    int sleep_ms;      /* co_sleep before each yield (0: none) */
    int fail;          /* returned after the last value (0: success) */
    int started;       /* the body ran */
    int cleanup;       /* a yield or await returned -ECANCELED */
    int cleanup_sleep; /* the cleanup's own co_sleep(1) result */
    int cleanup_ms;    /* cleanup sleeps this long (default 1) */
    int cleanup_ret;   /* returned after cleanup (0: -ECANCELED) */
    int yield_after_close; /* a second yield during cleanup */
    int base;          /* added to every value */
    int spin;          /* co_yield() before each yield */
    order_log *log;    /* body logs -value before yielding it */
    co_task_t self;
} counter;

static int stop(counter *c)
{
    c->cleanup = 1;
    c->cleanup_sleep = co_sleep(c->cleanup_ms ? c->cleanup_ms : 1); /* cleanup may await */
    return c->cleanup_ret ? c->cleanup_ret : -ECANCELED;
}

static int count(co_gen_t *g, void *arg)
{
    counter *c = arg;
    c->started = 1;
    c->self = co_current();
    for (int i = 1; i <= c->n; i++) {
        if (c->sleep_ms && co_sleep(c->sleep_ms) < 0) return stop(c);
        if (c->spin && co_yield() < 0) return stop(c);
        if (c->log) log_add(c->log, -(c->base + i));
        int r = co_gen_yield(g, P(c->base + i));
        if (r == -ECANCELED) {
            c->yield_after_close = co_gen_yield(g, P(-1));
            return stop(c);
        }
        assert_int_equal(r, 0);
    }
    return c->fail;
}

/* Never ends on its own: stopped by close only. */
static int forever(co_gen_t *g, void *arg)
{
    counter *c = arg;
    c->started = 1;
    for (int i = 1;; i++) {
        if (c->sleep_ms && co_sleep(c->sleep_ms) < 0) return stop(c);
        if (co_gen_yield(g, P(i)) < 0) return stop(c);
    }
}

static int empty(co_gen_t *g, void *arg)
{
    *(int *)arg = 1;
    return 0;
}

/* A consumer in its own task. */
static int waiter(void *arg) { return co_gen_next(arg, NULL); }

/* ------------------------------------------------------------------------ */
/* Values                                                                    */

static int values_main(void *arg)
{
    counter c = { .n = 5 };
    co_gen_t *g = co_gen_new(count, &c);
    assert_non_null(g);
    co_yield();
    assert_int_equal(c.started, 0); /* lazy: nothing runs before the first next */
    int got[8], n = 0, rc;
    CO_GEN_FOR(g, v, rc) got[n++] = I(v);
    assert_int_equal(rc, 0);
    assert_int_equal(n, 5);
    for (int i = 0; i < 5; i++) assert_int_equal(got[i], i + 1);
    assert_int_equal(co_gen_next(g, NULL), 0); /* finished stays finished */
    /* The body was a real task, named after its function, child of ours. */
    assert_string_equal(co_task_name(c.self), "count");
    assert_int_equal(co_task_parent(c.self).h, co_current().h);
    assert_int_equal(co_gen_close(g), 0);
    return 0;
}

static void test_values_in_order(void **state) { assert_int_equal(run_main(values_main, NULL), 0); }

/* The body awaits between yields; values are produced one request at a time. */
static int sleep_main(void *arg)
{
    order_log log = { 0 };
    counter c = { .n = 3, .sleep_ms = 1, .log = &log };
    co_gen_t *g = co_gen_new(count, &c);
    uint64_t t0 = co_now_ms();
    int rc;
    CO_GEN_FOR(g, v, rc) {
        log_add(&log, I(v));
        co_sleep(1); /* the body stays parked meanwhile: it is lazy */
    }
    assert_int_equal(rc, 0);
    assert_true(co_now_ms() - t0 >= 3);
    assert_log(&log, -1, 1, -2, 2, -3, 3);
    assert_int_equal(co_gen_close(g), 0);
    return 0;
}

static void test_body_sleeps_between_yields(void **state) { assert_int_equal(run_main(sleep_main, NULL), 0); }

static int zero_main(void *arg)
{
    int ran = 0;
    co_gen_t *g = co_gen_new(empty, &ran);
    int n = 0, rc;
    CO_GEN_FOR(g, v, rc) n++;
    assert_int_equal(rc, 0);
    assert_int_equal(n, 0);
    assert_int_equal(ran, 1);
    assert_int_equal(co_gen_next(g, NULL), 0);
    assert_int_equal(co_gen_close(g), 0);
    return 0;
}

static void test_zero_values(void **state) { assert_int_equal(run_main(zero_main, NULL), 0); }

/* Two generators consumed alternately keep their own state. */
static int interleave_main(void *arg)
{
    order_log log = { 0 };
    counter a = { .n = 3, .base = 10, .sleep_ms = 1 };
    counter b = { .n = 2, .base = 20 };
    co_gen_t *ga = co_gen_new(count, &a), *gb = co_gen_new(count, &b);
    void *v;
    int ra = 1, rb = 1;
    while (ra > 0 || rb > 0) {
        if (ra > 0 && (ra = co_gen_next(ga, &v)) > 0) log_add(&log, I(v));
        if (rb > 0 && (rb = co_gen_next(gb, &v)) > 0) log_add(&log, I(v));
    }
    assert_int_equal(ra, 0);
    assert_int_equal(rb, 0);
    assert_log(&log, 11, 21, 12, 22, 13);
    assert_int_equal(co_gen_close(ga), 0);
    assert_int_equal(co_gen_close(gb), 0);
    return 0;
}

static void test_two_generators_interleaved(void **state) { assert_int_equal(run_main(interleave_main, NULL), 0); }

/* ------------------------------------------------------------------------ */
/* Close                                                                     */

/* Closing at a yield: the yield returns -ECANCELED, the cleanup runs (and
 * may await), a second yield is refused, close returns 0. */
static int early_close_main(void *arg)
{
    counter c = { 0 };
    co_gen_t *g = co_gen_new(forever, &c);
    void *v;
    for (int i = 1; i <= 3; i++) {
        assert_int_equal(co_gen_next(g, &v), 1);
        assert_int_equal(I(v), i);
    }
    assert_int_equal(c.cleanup, 0);
    assert_int_equal(co_gen_close(g), 0);
    assert_int_equal(c.cleanup, 1);
    assert_int_equal(c.cleanup_sleep, 0); /* the close was delivered once */

    counter d = { .n = 5 };
    g = co_gen_new(count, &d);
    assert_int_equal(co_gen_next(g, &v), 1);
    assert_int_equal(co_gen_close(g), 0);
    assert_int_equal(d.cleanup, 1);
    assert_int_equal(d.yield_after_close, -ECANCELED);
    return 0;
}

static void test_early_close_runs_cleanup(void **state) { assert_int_equal(run_main(early_close_main, NULL), 0); }

/* Closing while the body awaits something else cancels that await. */
static int close_busy_main(void *arg)
{
    counter c = { .sleep_ms = 10000 };
    co_gen_t *g = co_gen_new(forever, &c);
    co_timeout_t to;
    co_timeout_begin(&to, 5);
    assert_int_equal(co_gen_next(g, NULL), -ETIMEDOUT);
    assert_int_equal(co_timeout_end(&to), -ETIMEDOUT);
    uint64_t t0 = co_now_ms();
    assert_int_equal(co_gen_close(g), 0);
    assert_true(co_now_ms() - t0 < 1000);
    assert_int_equal(c.cleanup, 1);
    assert_int_equal(c.cleanup_sleep, 0);
    return 0;
}

static void test_close_while_body_awaits(void **state) { assert_int_equal(run_main(close_busy_main, NULL), 0); }

/* Closing while the body is ready to run, inside a co_yield: the
 * cancellation close sends it is returned by that co_yield (issue 15: a
 * yield gets what arrives while it waits for its turn), once, so the
 * cleanup's own awaits work. */
static int close_ready_main(void *arg)
{
    counter c = { .n = 3, .spin = 1 };
    co_gen_t *g = co_gen_new(count, &c);
    co_task_t t = co_spawn(waiter, g);
    while (!c.started) co_yield();
    assert_int_equal(co_task_state_of(c.self), CO_TASK_READY); /* inside its co_yield */
    co_cancel(t);
    assert_int_equal(co_gen_close(g), 0);
    assert_int_equal(c.cleanup, 1);
    assert_int_equal(c.yield_after_close, 0); /* it stopped at the co_yield */
    assert_int_equal(c.cleanup_sleep, 0);
    assert_int_equal(co_await(t), -ECANCELED);
    return 0;
}

static void test_close_when_body_ready(void **state) { assert_int_equal(run_main(close_ready_main, NULL), 0); }

/* A body whose own timeout scope cut its yield short goes on with other
 * awaits; a close arriving just then (the body woken, not yet run) must
 * cancel those, not wait for them. */
typedef struct { int yield_r, sleep_r; } stubborn_state;

static int stubborn(co_gen_t *g, void *arg)
{
    stubborn_state *s = arg;
    co_timeout_t to;
    co_timeout_begin(&to, 2);
    s->yield_r = co_gen_yield(g, P(1));
    co_timeout_end(&to);
    s->sleep_r = co_sleep(10000); /* ignores the close it has not seen */
    return 0;
}

static int close_timed_out_main(void *arg)
{
    stubborn_state s = { 0 };
    co_gen_t *g = co_gen_new(stubborn, &s);
    assert_int_equal(co_gen_next(g, NULL), 1);
    /* Same tick, same deadline as the body's scope, and our id is lower:
     * we are woken first and close while the body is ready with -ETIMEDOUT. */
    co_sleep(2);
    uint64_t t0 = co_now_ms();
    assert_int_equal(co_gen_close(g), 0);
    assert_true(co_now_ms() - t0 < 1000);
    assert_int_equal(s.yield_r, -ETIMEDOUT);
    assert_int_equal(s.sleep_r, -ECANCELED);
    return 0;
}

static void test_close_after_body_timed_out(void **state) { assert_int_equal(run_main(close_timed_out_main, NULL), 0); }

/* A generator closed before its first next never runs its body. */
static int close_unstarted_main(void *arg)
{
    int ran = 0;
    co_gen_t *g = co_gen_new(empty, &ran);
    assert_int_equal(co_gen_close(g), 0);
    assert_int_equal(ran, 0);
    return 0;
}

static void test_close_unstarted(void **state) { assert_int_equal(run_main(close_unstarted_main, NULL), 0); }

/* Close inside an expired timeout scope still waits for the cleanup
 * (instead of failing every await at once) and returns normally. */
static int close_expired_main(void *arg)
{
    counter c = { .cleanup_ms = 3 };
    co_gen_t *g = co_gen_new(forever, &c);
    assert_int_equal(co_gen_next(g, NULL), 1);
    co_timeout_t to;
    co_timeout_begin(&to, 1);
    assert_int_equal(co_sleep(5), -ETIMEDOUT);
    assert_int_equal(co_gen_close(g), 0);
    assert_int_equal(co_sleep(1), -ETIMEDOUT); /* the scope is back */
    co_timeout_end(&to);
    assert_int_equal(c.cleanup_sleep, 0);
    return 0;
}

static void test_close_in_expired_scope(void **state) { assert_int_equal(run_main(close_expired_main, NULL), 0); }

/* A closer cancelled while the cleanup runs passes the cancellation on,
 * still waits for the body, frees g and reports -ECANCELED. */
static int closer(void *arg) { return co_gen_close(arg); }

static int closer_cancel_main(void *arg)
{
    counter c = { .cleanup_ms = 10000 };
    co_gen_t *g = co_gen_new(forever, &c);
    assert_int_equal(co_gen_next(g, NULL), 1);
    co_task_t t = co_spawn(closer, g);
    co_sleep(2);
    assert_int_equal(c.cleanup, 1); /* in its cleanup's long sleep */
    co_cancel(t);
    assert_int_equal(co_await(t), -ECANCELED);
    assert_int_equal(c.cleanup_sleep, -ECANCELED);
    return 0;
}

static void test_closer_cancelled(void **state) { assert_int_equal(run_main(closer_cancel_main, NULL), 0); }

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */

static int error_main(void *arg)
{
    counter c = { .n = 1, .fail = -EIO };
    co_gen_t *g = co_gen_new(count, &c);
    int n = 0, rc;
    CO_GEN_FOR(g, v, rc) n++;
    assert_int_equal(n, 1);
    assert_int_equal(rc, -EIO);
    assert_int_equal(co_gen_next(g, NULL), -EIO); /* sticky */
    assert_int_equal(co_gen_close(g), -EIO);

    /* An error from the cleanup after an early close is close's result. */
    counter d = { .n = 5, .cleanup_ret = -EPROTO };
    g = co_gen_new(count, &d);
    assert_int_equal(co_gen_next(g, NULL), 1);
    assert_int_equal(co_gen_close(g), -EPROTO);
    return 0;
}

static void test_body_error_propagates(void **state) { assert_int_equal(run_main(error_main, NULL), 0); }

/* ------------------------------------------------------------------------ */
/* Cancellation of the consumer                                              */

typedef struct {
    co_gen_t *g;
    int first, second;
    void *v;
    int close;
} consumer_state;

/* Cancelled in next; then either asks again (the value in flight arrives)
 * or closes (the body is stopped). */
static int consumer(void *arg)
{
    consumer_state *s = arg;
    s->first = co_gen_next(s->g, &s->v);
    if (s->close) return co_gen_close(s->g);
    s->second = co_gen_next(s->g, &s->v);
    return 0;
}

static int consumer_cancel_main(void *arg)
{
    counter c = { .n = 2, .sleep_ms = 20 };
    consumer_state s = { .g = co_gen_new(count, &c) };
    co_task_t t = co_spawn(consumer, &s);
    co_sleep(2);
    assert_int_equal(co_task_state_of(t), CO_TASK_WAITING);
    co_cancel(t);
    assert_int_equal(co_await(t), 0);
    assert_int_equal(s.first, -ECANCELED);
    assert_int_equal(s.second, 1); /* the request stood: value 1, not lost */
    assert_int_equal(I(s.v), 1);
    assert_int_equal(c.cleanup, 0);
    assert_int_equal(co_gen_next(s.g, &s.v), 1);
    assert_int_equal(I(s.v), 2);
    assert_int_equal(co_gen_close(s.g), 0);

    /* The usual reaction: close, which stops the body's sleep. */
    counter d = { .n = 2, .sleep_ms = 10000 };
    consumer_state s2 = { .g = co_gen_new(count, &d), .close = 1 };
    uint64_t t0 = co_now_ms();
    t = co_spawn(consumer, &s2);
    co_sleep(2);
    co_cancel(t);
    assert_int_equal(co_await(t), 0);
    assert_int_equal(s2.first, -ECANCELED);
    assert_int_equal(d.cleanup, 1);
    assert_true(co_now_ms() - t0 < 1000);
    return 0;
}

static void test_consumer_cancelled_in_next(void **state) { assert_int_equal(run_main(consumer_cancel_main, NULL), 0); }

/* ------------------------------------------------------------------------ */
/* Misuse                                                                    */

typedef struct {
    int next_self, close_self, yield_foreign;
    co_gen_t *other;
} selfish_state;

static int selfish(co_gen_t *g, void *arg)
{
    selfish_state *s = arg;
    s->next_self = co_gen_next(g, NULL);
    s->close_self = co_gen_close(g);
    s->yield_foreign = co_gen_yield(s->other, NULL); /* not this body's generator */
    return co_gen_yield(g, P(7));
}

static int misuse_main(void *arg)
{
    co_gen_t *pre = arg;
    void *v;
    assert_int_equal(co_gen_next(NULL, &v), -EINVAL);
    assert_int_equal(co_gen_yield(NULL, NULL), -EINVAL);
    assert_int_equal(co_gen_close(NULL), -EINVAL);

    /* Yield from outside the body. */
    counter c = { .n = 3, .sleep_ms = 5 };
    co_gen_t *g = co_gen_new(count, &c);
    assert_int_equal(co_gen_yield(g, NULL), -EPERM);

    /* Two consumers at once; close under a waiting consumer. */
    co_task_t t = co_spawn(waiter, g);
    co_sleep(1);
    assert_int_equal(co_gen_next(g, &v), -EBUSY);
    assert_int_equal(co_gen_close(g), -EBUSY);
    assert_int_equal(co_await(t), 1);
    assert_int_equal(co_gen_next(g, &v), 1);
    assert_int_equal(I(v), 2);

    /* Next (and a second close) while a close is in progress. */
    c.cleanup_ms = 20;
    t = co_spawn(closer, g);
    while (!c.cleanup) co_yield(); /* the closer starts, the body enters its cleanup sleep */
    assert_int_equal(co_gen_next(g, &v), -EINVAL);
    assert_int_equal(co_gen_close(g), -EINVAL);
    assert_int_equal(co_await(t), 0);

    /* The body using its own generator as a consumer. */
    selfish_state s = { .other = pre };
    g = co_gen_new(selfish, &s);
    assert_int_equal(co_gen_next(g, &v), 1);
    assert_int_equal(I(v), 7);
    assert_int_equal(s.next_self, -EDEADLK);
    assert_int_equal(s.close_self, -EDEADLK);
    assert_int_equal(s.yield_foreign, -EPERM);
    assert_int_equal(co_gen_close(g), 0);
    assert_int_equal(co_gen_close(pre), 0);
    return 0;
}

static void test_misuse(void **state)
{
    assert_null(co_gen_new(empty, NULL)); /* no loop on this thread */
    co_loop_t *loop;
    assert_int_equal(co_loop_new(&loop, NULL), 0);
    assert_null(co_gen_new_at(NULL, "x", NULL, NULL));
    int ran = 0;
    co_gen_t *pre = co_gen_new(empty, &ran); /* plain code may create one */
    assert_non_null(pre);
    assert_int_equal(co_gen_next(pre, NULL), -EPERM); /* ... but not wait on it */
    assert_int_equal(co_gen_yield(pre, NULL), -EPERM);
    assert_int_equal(co_gen_close(pre), -EPERM);
    assert_int_equal(co_loop_run(loop, misuse_main, pre), 0);
    assert_int_equal(ran, 0);
    assert_int_equal(co_loop_free(loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_in_order),
        cmocka_unit_test(test_body_sleeps_between_yields),
        cmocka_unit_test(test_zero_values),
        cmocka_unit_test(test_two_generators_interleaved),
        cmocka_unit_test(test_early_close_runs_cleanup),
        cmocka_unit_test(test_close_while_body_awaits),
        cmocka_unit_test(test_close_when_body_ready),
        cmocka_unit_test(test_close_after_body_timed_out),
        cmocka_unit_test(test_close_unstarted),
        cmocka_unit_test(test_close_in_expired_scope),
        cmocka_unit_test(test_closer_cancelled),
        cmocka_unit_test(test_body_error_propagates),
        cmocka_unit_test(test_consumer_cancelled_in_next),
        cmocka_unit_test(test_misuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
