/* SPDX-License-Identifier: MIT */
/* test_lock.c -- co_lock against what asyncio's test_locks.py checks for
 * Lock: FIFO hand-off, cancellation of waiters, try, ownership errors,
 * deadlock detection, destroyed use and timeout scopes.
 *
 * Ordering is driven by co_yield and wait queues only (never by sleeping),
 * so every expected order below is exact. */
#include "testutil.h"
#include <stdio.h>
#include <uv.h>

/* cmocka's asserts longjmp to the test function; from a task that would
 * abandon the loop on a coroutine stack and poison every later test.  Tasks
 * record the first mismatch instead, and run() reports it once the loop is
 * gone. */

typedef struct {
    co_lock_t lock, lock2;
    co_event_t ev;
    order_log log;
    int res[8];
} ctx_t;

/* ------------------------------------------------------------------------ */

static int basic_main(void *arg)
{
    ctx_t *c = arg;
    co_lock_init(&c->lock);
    EXPECT_INT(co_lock_locked(&c->lock), 0);
    EXPECT_INT(co_lock_acquire(&c->lock), 0);
    EXPECT_INT(co_lock_locked(&c->lock), 1);
    EXPECT_INT(co_lock_release(&c->lock), 0);
    EXPECT_INT(co_lock_locked(&c->lock), 0);
    EXPECT_INT(co_lock_destroy(&c->lock), 0);
    return 0;
}

static void test_acquire_release(void **state)
{
    ctx_t c = { 0 };
    run(basic_main, &c);
}

/* ------------------------------------------------------------------------ */
/* FIFO: release hands the lock to the longest waiter, and a releaser that
 * re-acquires at once queues behind the waiters instead of barging. */

typedef struct { ctx_t *c; int id; } who;

static int fifo_worker(void *arg)
{
    who *w = arg;
    int r = co_lock_acquire(&w->c->lock);
    if (r < 0) return r;
    log_add(&w->c->log, w->id);
    co_yield(); /* hold across a switch: nobody may sneak in */
    log_add(&w->c->log, -w->id);
    return co_lock_release(&w->c->lock);
}

static int fifo_main(void *arg)
{
    ctx_t *c = arg;
    co_lock_init(&c->lock);
    EXPECT_INT(co_lock_acquire(&c->lock), 0);
    who w[3] = { { c, 1 }, { c, 2 }, { c, 3 } };
    co_task_t t[3];
    for (int i = 0; i < 3; i++) t[i] = co_spawn(fifo_worker, &w[i]);
    co_yield(); /* all three queue on the lock, in spawn order */
    EXPECT_INT(c->log.n, 0);
    EXPECT_INT(co_lock_release(&c->lock), 0);
    /* Handed off: worker 1 owns it before it even runs. */
    EXPECT_INT(co_lock_locked(&c->lock), 1);
    EXPECT_INT(co_lock_try(&c->lock), -EBUSY);
    EXPECT_INT(co_lock_acquire(&c->lock), 0); /* queues behind 2 and 3 */
    log_add(&c->log, 0);
    EXPECT_INT(co_lock_release(&c->lock), 0);
    for (int i = 0; i < 3; i++) EXPECT_INT(co_await(t[i]), 0);
    EXPECT_INT(co_lock_locked(&c->lock), 0);
    return co_lock_destroy(&c->lock);
}

static void test_fifo_handoff(void **state)
{
    ctx_t c = { 0 };
    run(fifo_main, &c);
    assert_log(&c.log, 1, -1, 2, -2, 3, -3, 0);
}

/* ------------------------------------------------------------------------ */
/* Cancelling a waiter removes it from the queue: its turn passes to the
 * next one, it gets -ECANCELED, and its cleanup runs. */

static int cancellable_worker(void *arg)
{
    who *w = arg;
    int r = co_lock_acquire(&w->c->lock);
    if (r < 0) {
        log_add(&w->c->log, 100 + w->id); /* cleanup */
        w->c->res[w->id] = r;
        return r;
    }
    log_add(&w->c->log, w->id);
    return co_lock_release(&w->c->lock);
}

static int cancel_waiter_main(void *arg)
{
    ctx_t *c = arg;
    co_lock_init(&c->lock);
    EXPECT_INT(co_lock_acquire(&c->lock), 0);
    who w[4] = { { c, 0 }, { c, 1 }, { c, 2 }, { c, 3 } };
    co_task_t t[4];
    for (int i = 0; i < 4; i++) t[i] = co_spawn(cancellable_worker, &w[i]);
    co_yield();
    /* The head and a middle waiter both go; 1 and 3 keep their order. */
    EXPECT_INT(co_cancel(t[0]), 1);
    EXPECT_INT(co_cancel(t[2]), 1);
    EXPECT_INT(co_task_state_of(t[0]), CO_TASK_READY);
    co_yield(); /* the cancelled ones run their cleanup while we hold it */
    EXPECT_INT(co_lock_release(&c->lock), 0);
    EXPECT_INT(co_await(t[0]), -ECANCELED);
    EXPECT_INT(co_await(t[1]), 0);
    EXPECT_INT(co_await(t[2]), -ECANCELED);
    EXPECT_INT(co_await(t[3]), 0);
    EXPECT_INT(co_lock_locked(&c->lock), 0);
    return co_lock_destroy(&c->lock);
}

static void test_cancel_waiter_passes_turn(void **state)
{
    ctx_t c = { 0 };
    run(cancel_waiter_main, &c);
    assert_log(&c.log, 100, 102, 1, 3);
    assert_int_equal(c.res[0], -ECANCELED);
    assert_int_equal(c.res[2], -ECANCELED);
}

/* The only waiter cancelled: the lock stays with its owner and is free
 * after release (nobody was handed a lock it will never release). */
static int cancel_only_main(void *arg)
{
    ctx_t *c = arg;
    co_lock_init(&c->lock);
    EXPECT_INT(co_lock_acquire(&c->lock), 0);
    who w = { c, 1 };
    co_task_t t = co_spawn(cancellable_worker, &w);
    co_yield();
    EXPECT_INT(co_task_state_of(t), CO_TASK_WAITING);
    EXPECT_INT(co_cancel(t), 1);
    EXPECT_INT(co_await(t), -ECANCELED);
    EXPECT_INT(co_lock_locked(&c->lock), 1);
    EXPECT_INT(co_lock_release(&c->lock), 0);
    EXPECT_INT(co_lock_locked(&c->lock), 0);
    return co_lock_destroy(&c->lock);
}

static void test_cancel_only_waiter(void **state)
{
    ctx_t c = { 0 };
    run(cancel_only_main, &c);
    assert_log(&c.log, 101);
    assert_int_equal(c.res[1], -ECANCELED);
}

/* A cancel that arrives after the lock was handed to the waiter (woken, not
 * yet run) does not lose the lock: acquire returns 0, the task owns it, and
 * the cancellation lands on its next await. */
static int handed_worker(void *arg)
{
    ctx_t *c = arg;
    c->res[0] = co_lock_acquire(&c->lock);
    c->res[1] = co_yield();
    c->res[2] = co_lock_release(&c->lock);
    return c->res[1];
}

static int cancel_after_handoff_main(void *arg)
{
    ctx_t *c = arg;
    co_lock_init(&c->lock);
    EXPECT_INT(co_lock_acquire(&c->lock), 0);
    co_task_t t = co_spawn(handed_worker, c);
    co_yield();
    EXPECT_INT(co_lock_release(&c->lock), 0);
    EXPECT_INT(co_task_state_of(t), CO_TASK_READY);
    EXPECT_INT(co_cancel(t), 1);
    EXPECT_INT(co_await(t), -ECANCELED);
    EXPECT_INT(co_lock_locked(&c->lock), 0);
    return co_lock_destroy(&c->lock);
}

static void test_cancel_after_handoff_keeps_lock(void **state)
{
    ctx_t c = { 0 };
    run(cancel_after_handoff_main, &c);
    assert_int_equal(c.res[0], 0);
    assert_int_equal(c.res[1], -ECANCELED);
    assert_int_equal(c.res[2], 0);
}

/* Cancelled before it ever ran: the task never touches the lock. */
static int cancel_before_start_main(void *arg)
{
    ctx_t *c = arg;
    co_lock_init(&c->lock);
    who w = { c, 1 };
    co_task_t t = co_spawn(cancellable_worker, &w);
    EXPECT_INT(co_cancel(t), 1);
    EXPECT_INT(co_await(t), -ECANCELED);
    EXPECT_INT(co_lock_locked(&c->lock), 0);
    EXPECT_INT(c->log.n, 0);
    return co_lock_destroy(&c->lock);
}

static void test_cancel_before_start(void **state)
{
    ctx_t c = { 0 };
    run(cancel_before_start_main, &c);
}

/* ------------------------------------------------------------------------ */

static int holder(void *arg)
{
    ctx_t *c = arg;
    if (co_lock_acquire(&c->lock) < 0) return -1;
    co_event_wait(&c->ev);
    return co_lock_release(&c->lock);
}

static int try_main(void *arg)
{
    ctx_t *c = arg;
    co_lock_init(&c->lock);
    co_event_init(&c->ev);
    EXPECT_INT(co_lock_try(&c->lock), 0);
    EXPECT_INT(co_lock_try(&c->lock), -EBUSY); /* even for its owner */
    EXPECT_INT(co_lock_release(&c->lock), 0);
    co_task_t t = co_spawn(holder, c);
    co_yield();
    EXPECT_INT(co_lock_try(&c->lock), -EBUSY);
    co_event_set(&c->ev);
    EXPECT_INT(co_await(t), 0);
    EXPECT_INT(co_lock_try(&c->lock), 0);
    EXPECT_INT(co_lock_locked(&c->lock), 1);
    EXPECT_INT(co_lock_release(&c->lock), 0);
    return co_lock_destroy(&c->lock);
}

static void test_try(void **state)
{
    ctx_t c = { 0 };
    run(try_main, &c);
}

/* ------------------------------------------------------------------------ */
/* Releasing a lock one does not hold is -EPERM and changes nothing. */

static void uv_release_cb(uv_timer_t *h)
{
    ctx_t *c = h->data;
    c->res[0] = co_lock_release(&c->lock); /* plain code, no task */
    c->res[1] = co_lock_try(&c->lock);
    co_event_set(&c->ev);
    uv_close((uv_handle_t *)h, NULL);
}

static int release_not_held_main(void *arg)
{
    ctx_t *c = arg;
    co_lock_init(&c->lock);
    co_event_init(&c->ev);
    EXPECT_INT(co_lock_release(&c->lock), -EPERM); /* free */
    co_task_t t = co_spawn(holder, c);
    co_yield();
    EXPECT_INT(co_lock_release(&c->lock), -EPERM); /* another task's */
    EXPECT_INT(co_lock_locked(&c->lock), 1);
    /* From a libuv callback, outside any task, while held. */
    static uv_timer_t timer;
    uv_timer_init(co_loop_uv(co_loop_current()), &timer);
    timer.data = c;
    uv_timer_start(&timer, uv_release_cb, 0, 0);
    EXPECT_INT(co_event_wait(&c->ev), 0); /* the callback sets ev, freeing the holder */
    EXPECT_INT(co_await(t), 0);
    EXPECT_INT(co_lock_locked(&c->lock), 0);
    return co_lock_destroy(&c->lock);
}

static void test_release_not_held(void **state)
{
    ctx_t c = { 0 };
    run(release_not_held_main, &c);
    assert_int_equal(c.res[0], -EPERM);
    assert_int_equal(c.res[1], -EPERM);
}

static int reacquire_main(void *arg)
{
    ctx_t *c = arg;
    co_lock_init(&c->lock);
    EXPECT_INT(co_lock_acquire(&c->lock), 0);
    EXPECT_INT(co_lock_acquire(&c->lock), -EDEADLK);
    EXPECT_INT(co_lock_locked(&c->lock), 1); /* still held, once */
    EXPECT_INT(co_lock_release(&c->lock), 0);
    EXPECT_INT(co_lock_locked(&c->lock), 0);
    EXPECT_INT(co_lock_release(&c->lock), -EPERM);
    return co_lock_destroy(&c->lock);
}

static void test_reacquire_held_is_edeadlk(void **state)
{
    ctx_t c = { 0 };
    run(reacquire_main, &c);
}

/* ------------------------------------------------------------------------ */
/* Lock-order deadlock: A holds L1 and waits for L2; B holds L2 and asks for
 * L1.  B's acquire fails at once; once B backs off, A proceeds. */

static int task_a(void *arg)
{
    ctx_t *c = arg;
    if (co_lock_acquire(&c->lock) < 0) return -1;
    log_add(&c->log, 1);
    co_yield(); /* let B take L2 */
    c->res[0] = co_lock_acquire(&c->lock2);
    log_add(&c->log, 3);
    co_lock_release(&c->lock2);
    co_lock_release(&c->lock);
    return c->res[0];
}

static int task_b(void *arg)
{
    ctx_t *c = arg;
    if (co_lock_acquire(&c->lock2) < 0) return -1;
    log_add(&c->log, 2);
    co_yield(); /* A now waits for L2 */
    c->res[1] = co_lock_acquire(&c->lock);
    log_add(&c->log, c->res[1] == -EDEADLK ? 4 : 99);
    c->res[2] = co_lock_locked(&c->lock); /* still A's */
    co_lock_release(&c->lock2);
    return 0;
}

static int lock_order_main(void *arg)
{
    ctx_t *c = arg;
    co_lock_init(&c->lock);
    co_lock_init(&c->lock2);
    co_task_t a = co_spawn(task_a, c);
    co_task_t b = co_spawn(task_b, c);
    EXPECT_INT(co_await(a), 0);
    EXPECT_INT(co_await(b), 0);
    EXPECT_INT(co_lock_destroy(&c->lock), 0);
    return co_lock_destroy(&c->lock2);
}

static void test_lock_order_deadlock(void **state)
{
    ctx_t c = { 0 };
    run(lock_order_main, &c);
    assert_int_equal(c.res[0], 0);
    assert_int_equal(c.res[1], -EDEADLK);
    assert_int_equal(c.res[2], 1);
    assert_log(&c.log, 1, 2, 4, 3);
}

/* The cycle may go through a task await: main holds L and awaits T; T
 * asking for L would wait forever. */
static int wants_lock(void *arg)
{
    ctx_t *c = arg;
    return co_lock_acquire(&c->lock);
}

static int await_cycle_main(void *arg)
{
    ctx_t *c = arg;
    co_lock_init(&c->lock);
    EXPECT_INT(co_lock_acquire(&c->lock), 0);
    co_task_t t = co_spawn(wants_lock, c);
    EXPECT_INT(co_await(t), -EDEADLK);
    EXPECT_INT(co_lock_release(&c->lock), 0);
    return co_lock_destroy(&c->lock);
}

static void test_await_cycle_deadlock(void **state)
{
    ctx_t c = { 0 };
    run(await_cycle_main, &c);
}

/* ------------------------------------------------------------------------ */

static int destroyed_main(void *arg)
{
    ctx_t *c = arg;
    co_lock_init(&c->lock);
    EXPECT_INT(co_lock_destroy(&c->lock), 0);
    EXPECT_INT(co_lock_acquire(&c->lock), -EINVAL);
    EXPECT_INT(co_lock_try(&c->lock), -EINVAL);
    EXPECT_INT(co_lock_release(&c->lock), -EINVAL);
    EXPECT_INT(co_lock_locked(&c->lock), 0);
    EXPECT_INT(co_lock_destroy(&c->lock), -EINVAL);
    return 0;
}

static void test_destroyed_is_einval(void **state)
{
    ctx_t c = { 0 };
    run(destroyed_main, &c);
}

static int destroy_busy_main(void *arg)
{
    ctx_t *c = arg;
    co_lock_init(&c->lock);
    EXPECT_INT(co_lock_acquire(&c->lock), 0);
    EXPECT_INT(co_lock_destroy(&c->lock), -EBUSY);
    who w = { c, 1 };
    co_task_t t = co_spawn(cancellable_worker, &w);
    co_yield();
    EXPECT_INT(co_lock_destroy(&c->lock), -EBUSY); /* held and waited on */
    EXPECT_INT(co_lock_release(&c->lock), 0);
    EXPECT_INT(co_lock_destroy(&c->lock), -EBUSY); /* handed to the waiter */
    EXPECT_INT(co_await(t), 0);
    EXPECT_INT(co_lock_locked(&c->lock), 0);
    return co_lock_destroy(&c->lock);
}

static void test_destroy_busy(void **state)
{
    ctx_t c = { 0 };
    run(destroy_busy_main, &c);
    assert_log(&c.log, 1);
}

/* ------------------------------------------------------------------------ */
/* A timeout scope cuts a lock wait short: -ETIMEDOUT, the scope reports it,
 * the waiter leaves the queue and is never handed the lock afterwards. */

static int timeout_main(void *arg)
{
    ctx_t *c = arg;
    co_lock_init(&c->lock);
    co_event_init(&c->ev);
    co_task_t t = co_spawn(holder, c);
    co_yield();

    co_timeout_t s;
    EXPECT_INT(co_timeout_begin(&s, 0), 0); /* already due: fails without waiting */
    EXPECT_INT(co_lock_acquire(&c->lock), -ETIMEDOUT);
    EXPECT_INT(co_timeout_end(&s), -ETIMEDOUT);

    uint64_t t0 = co_now_ms();
    EXPECT_INT(co_timeout_begin(&s, 5), 0);
    EXPECT_INT(co_lock_acquire(&c->lock), -ETIMEDOUT);
    EXPECT_INT(co_timeout_end(&s), -ETIMEDOUT);
    EXPECT_INT(co_now_ms() - t0 >= 5, 1);

    co_event_set(&c->ev);
    EXPECT_INT(co_await(t), 0);
    EXPECT_INT(co_lock_locked(&c->lock), 0); /* not handed to us */

    /* A scope that does not expire: the lock is had, end() reports 0. */
    co_event_clear(&c->ev);
    t = co_spawn(holder, c);
    co_yield();
    EXPECT_INT(co_timeout_begin(&s, 10000), 0);
    co_event_set(&c->ev);
    EXPECT_INT(co_lock_acquire(&c->lock), 0);
    EXPECT_INT(co_timeout_end(&s), 0);
    EXPECT_INT(co_lock_release(&c->lock), 0);
    EXPECT_INT(co_await(t), 0);
    return co_lock_destroy(&c->lock);
}

static void test_timeout_scope(void **state)
{
    ctx_t c = { 0 };
    run(timeout_main, &c);
}

/* ------------------------------------------------------------------------ */
/* A task that ends holding a lock leaves it held (as asyncio does), but a
 * new task reusing the freed slot must not inherit it: the lock records the
 * owner's slot generation. */

static int ends_holding(void *arg)
{
    ctx_t *c = arg;
    return co_lock_acquire(&c->lock);
}

static int slot_reuser(void *arg)
{
    ctx_t *c = arg;
    c->res[0] = co_lock_release(&c->lock);
    co_timeout_t s;
    co_timeout_begin(&s, 1);
    c->res[1] = co_lock_acquire(&c->lock);
    co_timeout_end(&s);
    return 0;
}

static int abandoned_main(void *arg)
{
    ctx_t *c = arg;
    co_lock_init(&c->lock);
    EXPECT_INT(co_await(co_spawn(ends_holding, c)), 0);
    EXPECT_INT(co_await(co_spawn(slot_reuser, c)), 0); /* the freed slot again */
    return 0;
}

static void test_abandoned_lock_not_inherited_by_slot(void **state)
{
    ctx_t c = { 0 };
    run(abandoned_main, &c);
    assert_int_equal(c.res[0], -EPERM);
    assert_int_equal(c.res[1], -ETIMEDOUT); /* waits: still held by the ended task */
}

/* ------------------------------------------------------------------------ */
/* Outside a task: with no loop at all, and from a libuv callback. */

static void uv_outside_cb(uv_timer_t *h)
{
    ctx_t *c = h->data;
    c->res[0] = co_lock_acquire(&c->lock2);
    c->res[1] = co_lock_try(&c->lock2);
    c->res[2] = co_lock_release(&c->lock2);
    c->res[3] = co_lock_locked(&c->lock2);
    co_event_set(&c->ev);
    uv_close((uv_handle_t *)h, NULL);
}

static int outside_main(void *arg)
{
    ctx_t *c = arg;
    co_event_init(&c->ev);
    static uv_timer_t timer;
    uv_timer_init(co_loop_uv(co_loop_current()), &timer);
    timer.data = c;
    uv_timer_start(&timer, uv_outside_cb, 0, 0);
    return co_event_wait(&c->ev);
}

static void test_outside_task_eperm(void **state)
{
    ctx_t c = { 0 };
    co_lock_init(&c.lock);
    assert_null(co_loop_current());
    assert_int_equal(co_lock_acquire(&c.lock), -EPERM);
    assert_int_equal(co_lock_try(&c.lock), -EPERM);
    assert_int_equal(co_lock_release(&c.lock), -EPERM);
    assert_int_equal(co_lock_locked(&c.lock), 0);
    assert_int_equal(co_lock_destroy(&c.lock), 0);

    co_lock_init(&c.lock2);
    run(outside_main, &c);
    assert_int_equal(c.res[0], -EPERM);
    assert_int_equal(c.res[1], -EPERM);
    assert_int_equal(c.res[2], -EPERM);
    assert_int_equal(c.res[3], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_acquire_release),
        cmocka_unit_test(test_fifo_handoff),
        cmocka_unit_test(test_cancel_waiter_passes_turn),
        cmocka_unit_test(test_cancel_only_waiter),
        cmocka_unit_test(test_cancel_after_handoff_keeps_lock),
        cmocka_unit_test(test_cancel_before_start),
        cmocka_unit_test(test_try),
        cmocka_unit_test(test_release_not_held),
        cmocka_unit_test(test_reacquire_held_is_edeadlk),
        cmocka_unit_test(test_lock_order_deadlock),
        cmocka_unit_test(test_await_cycle_deadlock),
        cmocka_unit_test(test_destroyed_is_einval),
        cmocka_unit_test(test_destroy_busy),
        cmocka_unit_test(test_timeout_scope),
        cmocka_unit_test(test_outside_task_eperm),
        cmocka_unit_test(test_abandoned_lock_not_inherited_by_slot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
