/* SPDX-License-Identifier: MIT */
/* test_sem.c -- co_sem against what asyncio's test_locks.py checks for
 * Semaphore and BoundedSemaphore: counting, FIFO hand-off, try, cancelling
 * a waiter, value accounting, the bounded variant's overflow, bad init,
 * destroyed use and calls from outside a task. */
#include "testutil.h"
#include <stdio.h>
#include <uv.h>


typedef struct {
    co_sem_t sem;
    order_log log;
    int res[8];
} ctx_t;

typedef struct { ctx_t *c; int id; } who;

/* Acquire, log, hold across a yield, release; 100+id is the cleanup of a
 * failed acquire. */
static int worker(void *arg)
{
    who *w = arg;
    int r = co_sem_acquire(&w->c->sem);
    w->c->res[w->id] = r;
    if (r < 0) {
        log_add(&w->c->log, 100 + w->id);
        return r;
    }
    log_add(&w->c->log, w->id);
    co_yield();
    return co_sem_release(&w->c->sem);
}

/* Acquire and keep the unit (the test releases on its behalf). */
static int taker(void *arg)
{
    who *w = arg;
    int r = co_sem_acquire(&w->c->sem);
    w->c->res[w->id] = r;
    log_add(&w->c->log, r == 0 ? w->id : 100 + w->id);
    return r;
}

/* ------------------------------------------------------------------------ */

static int counting_main(void *arg)
{
    ctx_t *c = arg;
    EXPECT_INT(co_sem_init(&c->sem, 3), 0);
    EXPECT_INT(co_sem_value(&c->sem), 3);
    for (int i = 0; i < 3; i++) EXPECT_INT(co_sem_acquire(&c->sem), 0);
    EXPECT_INT(co_sem_value(&c->sem), 0);
    who w = { c, 1 };
    co_task_t t = co_spawn(taker, &w);
    co_yield();
    EXPECT_INT(co_task_state_of(t), CO_TASK_WAITING); /* a fourth unit blocks */
    EXPECT_INT(c->log.n, 0);
    EXPECT_INT(co_sem_release(&c->sem), 0);
    EXPECT_INT(co_sem_value(&c->sem), 0); /* handed to the waiter, not banked */
    EXPECT_INT(co_await(t), 0);
    /* Every unit back (main's two, the waiter's one): the initial value. */
    EXPECT_INT(co_sem_release(&c->sem), 0);
    EXPECT_INT(co_sem_release(&c->sem), 0);
    EXPECT_INT(co_sem_release(&c->sem), 0);
    EXPECT_INT(co_sem_value(&c->sem), 3);
    /* The plain semaphore counts past its initial value (asyncio.Semaphore). */
    EXPECT_INT(co_sem_release(&c->sem), 0);
    EXPECT_INT(co_sem_release(&c->sem), 0);
    EXPECT_INT(co_sem_value(&c->sem), 5);
    return co_sem_destroy(&c->sem);
}

static void test_counting(void **state)
{
    ctx_t c = { 0 };
    run(counting_main, &c);
    assert_log(&c.log, 1);
}

/* ------------------------------------------------------------------------ */
/* FIFO: with two units, four workers go through in spawn order, two at a
 * time; a releaser that re-acquires at once queues behind the others. */

static int fifo_main(void *arg)
{
    ctx_t *c = arg;
    EXPECT_INT(co_sem_init(&c->sem, 0), 0);
    who w[4] = { { c, 1 }, { c, 2 }, { c, 3 }, { c, 4 } };
    co_task_t t[4];
    for (int i = 0; i < 4; i++) t[i] = co_spawn(worker, &w[i]);
    co_yield();
    EXPECT_INT(c->log.n, 0);
    EXPECT_INT(co_sem_release(&c->sem), 0);
    EXPECT_INT(co_sem_release(&c->sem), 0);
    EXPECT_INT(co_sem_try(&c->sem), -EAGAIN); /* both units handed off: no barging */
    EXPECT_INT(co_sem_acquire(&c->sem), 0);   /* behind workers 3 and 4 */
    log_add(&c->log, 0);
    for (int i = 0; i < 4; i++) EXPECT_INT(co_await(t[i]), 0);
    EXPECT_INT(co_sem_value(&c->sem), 1);
    EXPECT_INT(co_sem_release(&c->sem), 0);
    EXPECT_INT(co_sem_value(&c->sem), 2);
    return co_sem_destroy(&c->sem);
}

static void test_fifo(void **state)
{
    ctx_t c = { 0 };
    run(fifo_main, &c);
    /* 1 and 2 hold together; each release hands its unit to the next in
     * line: 3, then 4, then main. */
    assert_log(&c.log, 1, 2, 3, 4, 0);
}

/* ------------------------------------------------------------------------ */

static int bounded_main(void *arg)
{
    ctx_t *c = arg;
    EXPECT_INT(co_sem_init_bounded(&c->sem, 2), 0);
    EXPECT_INT(co_sem_release(&c->sem), -EOVERFLOW);
    EXPECT_INT(co_sem_value(&c->sem), 2);
    EXPECT_INT(co_sem_acquire(&c->sem), 0);
    EXPECT_INT(co_sem_release(&c->sem), 0);
    EXPECT_INT(co_sem_release(&c->sem), -EOVERFLOW); /* the double release */
    EXPECT_INT(co_sem_value(&c->sem), 2);

    /* Waiters are handed units; the bound still holds afterwards. */
    EXPECT_INT(co_sem_acquire(&c->sem), 0);
    EXPECT_INT(co_sem_acquire(&c->sem), 0);
    who w = { c, 1 };
    co_task_t t = co_spawn(taker, &w);
    co_yield();
    EXPECT_INT(co_sem_release(&c->sem), 0); /* to the waiter */
    EXPECT_INT(co_await(t), 0);
    EXPECT_INT(co_sem_release(&c->sem), 0); /* the waiter's unit */
    EXPECT_INT(co_sem_release(&c->sem), 0);
    EXPECT_INT(co_sem_value(&c->sem), 2);
    EXPECT_INT(co_sem_release(&c->sem), -EOVERFLOW);
    EXPECT_INT(co_sem_destroy(&c->sem), 0);

    /* The plain semaphore has no bound but its counter's: a release that
     * would wrap it is refused, not undefined. */
    EXPECT_INT(co_sem_init(&c->sem, INT64_MAX - 1), 0);
    EXPECT_INT(co_sem_release(&c->sem), 0);
    EXPECT_INT(co_sem_release(&c->sem), -EOVERFLOW);
    EXPECT_INT(co_sem_value(&c->sem) == INT64_MAX, 1);
    EXPECT_INT(co_sem_destroy(&c->sem), 0);

    /* Bounded at 0: nothing may ever be released into it. */
    EXPECT_INT(co_sem_init_bounded(&c->sem, 0), 0);
    EXPECT_INT(co_sem_release(&c->sem), -EOVERFLOW);
    EXPECT_INT(co_sem_value(&c->sem), 0);
    return co_sem_destroy(&c->sem);
}

static void test_bounded_overflow(void **state)
{
    ctx_t c = { 0 };
    run(bounded_main, &c);
}

/* ------------------------------------------------------------------------ */

static int try_main(void *arg)
{
    ctx_t *c = arg;
    EXPECT_INT(co_sem_init(&c->sem, 1), 0);
    EXPECT_INT(co_sem_try(&c->sem), 0);
    EXPECT_INT(co_sem_value(&c->sem), 0);
    EXPECT_INT(co_sem_try(&c->sem), -EAGAIN);
    EXPECT_INT(co_sem_value(&c->sem), 0); /* a failed try takes nothing */
    who w = { c, 1 };
    co_task_t t = co_spawn(taker, &w);
    co_yield();
    EXPECT_INT(co_sem_release(&c->sem), 0);
    EXPECT_INT(co_sem_try(&c->sem), -EAGAIN); /* the unit went to the waiter */
    EXPECT_INT(co_await(t), 0);
    EXPECT_INT(co_sem_release(&c->sem), 0);
    EXPECT_INT(co_sem_try(&c->sem), 0);
    EXPECT_INT(co_sem_release(&c->sem), 0);
    return co_sem_destroy(&c->sem);
}

static void test_try(void **state)
{
    ctx_t c = { 0 };
    run(try_main, &c);
}

/* ------------------------------------------------------------------------ */
/* A cancelled waiter leaves the queue: the next release goes to the next
 * waiter, no unit is lost and none is created. */

static int cancel_main(void *arg)
{
    ctx_t *c = arg;
    EXPECT_INT(co_sem_init(&c->sem, 0), 0);
    who w[4] = { { c, 0 }, { c, 1 }, { c, 2 }, { c, 3 } };
    co_task_t t[4];
    for (int i = 0; i < 4; i++) t[i] = co_spawn(taker, &w[i]);
    co_yield();
    EXPECT_INT(co_cancel(t[0]), 1); /* the head of the queue */
    EXPECT_INT(co_cancel(t[2]), 1);
    EXPECT_INT(co_await(t[0]), -ECANCELED);
    EXPECT_INT(co_await(t[2]), -ECANCELED);
    EXPECT_INT(co_sem_value(&c->sem), 0);
    EXPECT_INT(co_sem_release(&c->sem), 0);
    EXPECT_INT(co_await(t[1]), 0);
    EXPECT_INT(co_sem_release(&c->sem), 0);
    EXPECT_INT(co_await(t[3]), 0);
    EXPECT_INT(co_sem_value(&c->sem), 0);
    EXPECT_INT(co_sem_release(&c->sem), 0); /* nobody left: banked */
    EXPECT_INT(co_sem_value(&c->sem), 1);
    return co_sem_destroy(&c->sem);
}

static void test_cancel_waiter_passes_turn(void **state)
{
    ctx_t c = { 0 };
    run(cancel_main, &c);
    assert_log(&c.log, 100, 102, 1, 3);
    assert_int_equal(c.res[0], -ECANCELED);
    assert_int_equal(c.res[2], -ECANCELED);
}

/* Cancelled after a release handed it a unit, before it ran: it keeps the
 * unit (acquire returns 0) and sees the cancellation at its next await. */
static int handed(void *arg)
{
    ctx_t *c = arg;
    c->res[0] = co_sem_acquire(&c->sem);
    c->res[1] = co_yield();
    c->res[2] = co_sem_release(&c->sem);
    return c->res[1];
}

static int cancel_after_handoff_main(void *arg)
{
    ctx_t *c = arg;
    EXPECT_INT(co_sem_init_bounded(&c->sem, 1), 0);
    EXPECT_INT(co_sem_acquire(&c->sem), 0);
    co_task_t t = co_spawn(handed, c);
    co_yield();
    EXPECT_INT(co_sem_release(&c->sem), 0);
    EXPECT_INT(co_cancel(t), 1);
    EXPECT_INT(co_await(t), -ECANCELED);
    EXPECT_INT(co_sem_value(&c->sem), 1); /* the unit came back exactly once */
    return co_sem_destroy(&c->sem);
}

static void test_cancel_after_handoff(void **state)
{
    ctx_t c = { 0 };
    run(cancel_after_handoff_main, &c);
    assert_int_equal(c.res[0], 0);
    assert_int_equal(c.res[1], -ECANCELED);
    assert_int_equal(c.res[2], 0);
}

/* ------------------------------------------------------------------------ */

static int timeout_main(void *arg)
{
    ctx_t *c = arg;
    EXPECT_INT(co_sem_init(&c->sem, 0), 0);
    co_timeout_t s;
    EXPECT_INT(co_timeout_begin(&s, 2), 0);
    EXPECT_INT(co_sem_acquire(&c->sem), -ETIMEDOUT);
    EXPECT_INT(co_timeout_end(&s), -ETIMEDOUT);
    EXPECT_INT(co_sem_release(&c->sem), 0); /* nobody waits: banked */
    EXPECT_INT(co_sem_value(&c->sem), 1);
    return co_sem_destroy(&c->sem);
}

static void test_timeout_scope(void **state)
{
    ctx_t c = { 0 };
    run(timeout_main, &c);
}

/* ------------------------------------------------------------------------ */

static void test_init_negative_einval(void **state)
{
    co_sem_t s;
    assert_int_equal(co_sem_init(&s, -1), -EINVAL);
    assert_int_equal(co_sem_try(&s), -EINVAL); /* unusable, not half-made */
    assert_int_equal(co_sem_release(&s), -EINVAL);
    assert_int_equal(co_sem_value(&s), -EINVAL);
    assert_int_equal(co_sem_destroy(&s), -EINVAL);
    assert_int_equal(co_sem_init_bounded(&s, -5), -EINVAL);
    assert_int_equal(co_sem_release(&s), -EINVAL);
    assert_int_equal(co_sem_init(&s, 0), 0);
    assert_int_equal(co_sem_value(&s), 0);
    assert_int_equal(co_sem_destroy(&s), 0);
}

static int destroyed_main(void *arg)
{
    ctx_t *c = arg;
    EXPECT_INT(co_sem_init(&c->sem, 0), 0);
    who w = { c, 1 };
    co_task_t t = co_spawn(taker, &w);
    co_yield();
    EXPECT_INT(co_sem_destroy(&c->sem), -EBUSY);
    EXPECT_INT(co_sem_release(&c->sem), 0);
    EXPECT_INT(co_await(t), 0);
    EXPECT_INT(co_sem_destroy(&c->sem), 0);
    EXPECT_INT(co_sem_acquire(&c->sem), -EINVAL);
    EXPECT_INT(co_sem_try(&c->sem), -EINVAL);
    EXPECT_INT(co_sem_release(&c->sem), -EINVAL);
    EXPECT_INT(co_sem_value(&c->sem), -EINVAL);
    EXPECT_INT(co_sem_destroy(&c->sem), -EINVAL);
    return 0;
}

static void test_destroyed(void **state)
{
    ctx_t c = { 0 };
    run(destroyed_main, &c);
    assert_log(&c.log, 1);
}

/* ------------------------------------------------------------------------ */
/* Outside a task only acquire is refused; try and release are plain calls,
 * and a release from a libuv callback hands a unit to a waiting task. */

static void uv_release_cb(uv_timer_t *h)
{
    ctx_t *c = h->data;
    c->res[5] = co_sem_acquire(&c->sem);
    c->res[6] = co_sem_release(&c->sem);
    uv_close((uv_handle_t *)h, NULL);
}

static int outside_main(void *arg)
{
    ctx_t *c = arg;
    EXPECT_INT(co_sem_init(&c->sem, 0), 0);
    static uv_timer_t timer;
    uv_timer_init(co_loop_uv(co_loop_current()), &timer);
    timer.data = c;
    uv_timer_start(&timer, uv_release_cb, 0, 0);
    EXPECT_INT(co_sem_acquire(&c->sem), 0);
    EXPECT_INT(co_sem_value(&c->sem), 0);
    return co_sem_destroy(&c->sem);
}

static void test_outside_task(void **state)
{
    ctx_t c = { 0 };
    assert_int_equal(co_sem_init(&c.sem, 1), 0);
    assert_int_equal(co_sem_acquire(&c.sem), -EPERM);
    assert_int_equal(co_sem_value(&c.sem), 1);
    assert_int_equal(co_sem_try(&c.sem), 0);
    assert_int_equal(co_sem_release(&c.sem), 0);
    assert_int_equal(co_sem_destroy(&c.sem), 0);

    run(outside_main, &c);
    assert_int_equal(c.res[5], -EPERM);
    assert_int_equal(c.res[6], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counting),
        cmocka_unit_test(test_fifo),
        cmocka_unit_test(test_bounded_overflow),
        cmocka_unit_test(test_try),
        cmocka_unit_test(test_cancel_waiter_passes_turn),
        cmocka_unit_test(test_cancel_after_handoff),
        cmocka_unit_test(test_timeout_scope),
        cmocka_unit_test(test_init_negative_einval),
        cmocka_unit_test(test_destroyed),
        cmocka_unit_test(test_outside_task),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
