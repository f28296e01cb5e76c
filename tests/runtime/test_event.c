/* SPDX-License-Identifier: MIT */
/* test_event.c -- co_event against what asyncio's test_locks.py checks for
 * Event: wait before and after set, set wakes every waiter in FIFO order,
 * clear, cancellation while waiting, timeouts, destroyed use, and calls
 * from outside a task. */
#include "testutil.h"
#include <stdio.h>
#include <uv.h>


typedef struct {
    co_event_t ev;
    order_log log;
    int res[8];
} ctx_t;

typedef struct { ctx_t *c; int id; } who;

static int waiter(void *arg)
{
    who *w = arg;
    int r = co_event_wait(&w->c->ev);
    w->c->res[w->id] = r;
    log_add(&w->c->log, r == 0 ? w->id : 100 + w->id); /* 100+: cleanup after an error */
    return r;
}

/* ------------------------------------------------------------------------ */

/* Set first: a wait returns at once, without letting anyone else run. */
static int after_set_main(void *arg)
{
    ctx_t *c = arg;
    co_event_init(&c->ev);
    EXPECT_INT(co_event_is_set(&c->ev), 0);
    EXPECT_INT(co_event_set(&c->ev), 0);
    EXPECT_INT(co_event_is_set(&c->ev), 1);
    who w = { c, 1 };
    co_task_t t = co_spawn(waiter, &w);
    EXPECT_INT(co_event_wait(&c->ev), 0);
    EXPECT_INT(c->log.n, 0); /* the spawned task has not run: we never suspended */
    EXPECT_INT(co_event_set(&c->ev), 0); /* setting twice is harmless */
    EXPECT_INT(co_await(t), 0);
    return co_event_destroy(&c->ev);
}

static void test_wait_after_set(void **state)
{
    ctx_t c = { 0 };
    run(after_set_main, &c);
    assert_log(&c.log, 1);
}

/* Waiters block until set; set wakes all of them, longest waiter first. */
static int before_set_main(void *arg)
{
    ctx_t *c = arg;
    co_event_init(&c->ev);
    who w[4] = { { c, 0 }, { c, 1 }, { c, 2 }, { c, 3 } };
    co_task_t t[4];
    for (int i = 3; i >= 0; i--) t[i] = co_spawn(waiter, &w[i]); /* queue as 3,2,1,0 */
    co_yield();
    co_yield();
    EXPECT_INT(c->log.n, 0);
    for (int i = 0; i < 4; i++) EXPECT_INT(co_task_state_of(t[i]), CO_TASK_WAITING);
    EXPECT_INT(co_event_destroy(&c->ev), -EBUSY);
    EXPECT_INT(co_event_set(&c->ev), 0);
    for (int i = 0; i < 4; i++) EXPECT_INT(co_task_state_of(t[i]), CO_TASK_READY);
    for (int i = 0; i < 4; i++) EXPECT_INT(co_await(t[i]), 0);
    return co_event_destroy(&c->ev);
}

static void test_set_wakes_all_fifo(void **state)
{
    ctx_t c = { 0 };
    run(before_set_main, &c);
    assert_log(&c.log, 3, 2, 1, 0);
}

/* clear: later waits block again.  A waiter woken by set and cleared before
 * it runs still returns 0 (it was woken), as in asyncio. */
static int clear_main(void *arg)
{
    ctx_t *c = arg;
    co_event_init(&c->ev);
    EXPECT_INT(co_event_set(&c->ev), 0);
    EXPECT_INT(co_event_clear(&c->ev), 0);
    EXPECT_INT(co_event_is_set(&c->ev), 0);
    EXPECT_INT(co_event_clear(&c->ev), 0); /* clearing a clear event is harmless */

    who w1 = { c, 1 }, w2 = { c, 2 };
    co_task_t t1 = co_spawn(waiter, &w1);
    co_yield();
    EXPECT_INT(c->log.n, 0); /* blocked: the earlier set was cleared */
    EXPECT_INT(co_event_set(&c->ev), 0);
    EXPECT_INT(co_event_clear(&c->ev), 0);
    EXPECT_INT(co_await(t1), 0);

    co_task_t t2 = co_spawn(waiter, &w2);
    co_yield();
    EXPECT_INT(co_task_state_of(t2), CO_TASK_WAITING);
    EXPECT_INT(c->log.n, 1);
    EXPECT_INT(co_event_set(&c->ev), 0);
    EXPECT_INT(co_await(t2), 0);
    return co_event_destroy(&c->ev);
}

static void test_clear(void **state)
{
    ctx_t c = { 0 };
    run(clear_main, &c);
    assert_log(&c.log, 1, 2);
}

/* ------------------------------------------------------------------------ */
/* A cancelled waiter gets -ECANCELED, runs its cleanup and leaves the queue;
 * the others are still woken by set. */

static int cancel_main(void *arg)
{
    ctx_t *c = arg;
    co_event_init(&c->ev);
    who w[3] = { { c, 0 }, { c, 1 }, { c, 2 } };
    co_task_t t[3];
    for (int i = 0; i < 3; i++) t[i] = co_spawn(waiter, &w[i]);
    co_yield();
    EXPECT_INT(co_cancel(t[1]), 1);
    EXPECT_INT(co_await(t[1]), -ECANCELED);
    EXPECT_INT(co_cancel(t[1]), -ESRCH); /* consumed by the await */
    EXPECT_INT(co_event_set(&c->ev), 0);
    EXPECT_INT(co_await(t[0]), 0);
    EXPECT_INT(co_await(t[2]), 0);

    /* The only waiter cancelled: nobody is left queued. */
    EXPECT_INT(co_event_clear(&c->ev), 0);
    co_task_t u = co_spawn(waiter, &w[0]);
    co_yield();
    EXPECT_INT(co_cancel(u), 1);
    EXPECT_INT(co_await(u), -ECANCELED);
    return co_event_destroy(&c->ev); /* -EBUSY if the waiter were still linked */
}

static void test_cancel_waiter(void **state)
{
    ctx_t c = { 0 };
    run(cancel_main, &c);
    assert_log(&c.log, 101, 0, 2, 100);
    assert_int_equal(c.res[0], -ECANCELED);
    assert_int_equal(c.res[1], -ECANCELED);
    assert_int_equal(c.res[2], 0);
}

/* Cancelled after set woke it but before it ran: the wait still returns 0,
 * and the cancellation lands on the next await. */
static int woken_then_cancelled(void *arg)
{
    ctx_t *c = arg;
    c->res[0] = co_event_wait(&c->ev);
    c->res[1] = co_yield();
    return c->res[1];
}

static int cancel_after_wake_main(void *arg)
{
    ctx_t *c = arg;
    co_event_init(&c->ev);
    co_task_t t = co_spawn(woken_then_cancelled, c);
    co_yield();
    co_event_set(&c->ev);
    EXPECT_INT(co_cancel(t), 1);
    EXPECT_INT(co_await(t), -ECANCELED);
    return co_event_destroy(&c->ev);
}

static void test_cancel_after_wake(void **state)
{
    ctx_t c = { 0 };
    run(cancel_after_wake_main, &c);
    assert_int_equal(c.res[0], 0);
    assert_int_equal(c.res[1], -ECANCELED);
}

/* ------------------------------------------------------------------------ */

static int timeout_main(void *arg)
{
    ctx_t *c = arg;
    co_event_init(&c->ev);
    co_timeout_t s;
    EXPECT_INT(co_timeout_begin(&s, 2), 0);
    EXPECT_INT(co_event_wait(&c->ev), -ETIMEDOUT);
    EXPECT_INT(co_timeout_end(&s), -ETIMEDOUT);
    EXPECT_INT(co_event_destroy(&c->ev), 0); /* the timed-out waiter left the queue */

    /* Set while the scope is live: the wait succeeds and the scope is clean. */
    co_event_init(&c->ev);
    co_event_set(&c->ev);
    EXPECT_INT(co_timeout_begin(&s, 0), 0);
    EXPECT_INT(co_event_wait(&c->ev), 0); /* no suspension, so no deadline check */
    EXPECT_INT(co_timeout_end(&s), 0);
    return co_event_destroy(&c->ev);
}

static void test_timeout_scope(void **state)
{
    ctx_t c = { 0 };
    run(timeout_main, &c);
}

/* ------------------------------------------------------------------------ */

static int destroyed_main(void *arg)
{
    ctx_t *c = arg;
    co_event_init(&c->ev);
    co_event_set(&c->ev);
    EXPECT_INT(co_event_destroy(&c->ev), 0);
    EXPECT_INT(co_event_wait(&c->ev), -EINVAL); /* not "set": dead */
    EXPECT_INT(co_event_set(&c->ev), -EINVAL);
    EXPECT_INT(co_event_clear(&c->ev), -EINVAL);
    EXPECT_INT(co_event_is_set(&c->ev), 0);
    EXPECT_INT(co_event_destroy(&c->ev), -EINVAL);
    return 0;
}

static void test_destroyed_is_einval(void **state)
{
    ctx_t c = { 0 };
    run(destroyed_main, &c);
}

/* ------------------------------------------------------------------------ */
/* Outside a task, waiting is -EPERM; set/clear are plain calls and a set
 * from a libuv callback wakes the waiting tasks. */

static void uv_set_cb(uv_timer_t *h)
{
    ctx_t *c = h->data;
    c->res[5] = co_event_wait(&c->ev);
    log_add(&c->log, 50);
    c->res[6] = co_event_set(&c->ev);
    uv_close((uv_handle_t *)h, NULL);
}

static int outside_main(void *arg)
{
    ctx_t *c = arg;
    co_event_init(&c->ev);
    who w = { c, 1 };
    co_task_t t = co_spawn(waiter, &w);
    co_yield(); /* t queues first */
    static uv_timer_t timer;
    uv_timer_init(co_loop_uv(co_loop_current()), &timer);
    timer.data = c;
    uv_timer_start(&timer, uv_set_cb, 0, 0);
    EXPECT_INT(co_event_wait(&c->ev), 0);
    log_add(&c->log, 0);
    EXPECT_INT(co_await(t), 0);
    return co_event_destroy(&c->ev);
}

static void test_outside_task(void **state)
{
    ctx_t c = { 0 };
    co_event_init(&c.ev);
    assert_int_equal(co_event_wait(&c.ev), -EPERM);
    assert_int_equal(co_event_set(&c.ev), 0);
    assert_int_equal(co_event_wait(&c.ev), -EPERM); /* even when set */
    assert_int_equal(co_event_clear(&c.ev), 0);
    assert_int_equal(co_event_destroy(&c.ev), 0);

    run(outside_main, &c);
    assert_int_equal(c.res[5], -EPERM);
    assert_int_equal(c.res[6], 0);
    assert_log(&c.log, 50, 1, 0); /* the waiter queued first wakes first */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wait_after_set),
        cmocka_unit_test(test_set_wakes_all_fifo),
        cmocka_unit_test(test_clear),
        cmocka_unit_test(test_cancel_waiter),
        cmocka_unit_test(test_cancel_after_wake),
        cmocka_unit_test(test_timeout_scope),
        cmocka_unit_test(test_destroyed_is_einval),
        cmocka_unit_test(test_outside_task),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
