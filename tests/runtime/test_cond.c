/* SPDX-License-Identifier: MIT */
/* test_cond.c -- co_cond against what asyncio's test_locks.py checks for
 * Condition: wait/notify(n)/notify_all in FIFO order, the lock requirement
 * (-EPERM), the lock held again on every return (cancellation and timeout
 * included), no wakeup lost to a cancellation, and a producer/consumer
 * with a predicate loop. */
#include "testutil.h"
#include <stdio.h>
#include <uv.h>


typedef struct {
    co_lock_t lock;
    co_cond_t cond;
    order_log log;
    int res[8];
    int held[8];   /* did waiter i hold the lock when its wait returned */
} ctx_t;

typedef struct { ctx_t *c; int id; } who;

static void init(ctx_t *c)
{
    co_lock_init(&c->lock);
    co_cond_init(&c->cond, &c->lock);
}

static int fini(ctx_t *c)
{
    EXPECT_INT(co_cond_destroy(&c->cond), 0);
    return co_lock_destroy(&c->lock);
}

/* Take the lock, wait once, note the result and whether the lock came back
 * (a release that succeeds proves it), log id (or 100+id on an error). */
static int waiter(void *arg)
{
    who *w = arg;
    ctx_t *c = w->c;
    if (co_lock_acquire(&c->lock) < 0) return -1;
    int r = co_cond_wait(&c->cond);
    c->res[w->id] = r;
    log_add(&c->log, r == 0 ? w->id : 100 + w->id);
    c->held[w->id] = co_lock_release(&c->lock) == 0;
    return r;
}

/* ------------------------------------------------------------------------ */
/* notify(n) wakes the n longest waiters; a woken waiter runs only once the
 * notifier releases the lock. */

static int notify_main(void *arg)
{
    ctx_t *c = arg;
    init(c);
    who w[4] = { { c, 0 }, { c, 1 }, { c, 2 }, { c, 3 } };
    co_task_t t[4];
    for (int i = 0; i < 4; i++) t[i] = co_spawn(waiter, &w[i]);
    co_yield();
    EXPECT_INT(co_lock_locked(&c->lock), 0); /* every waiter gave it up */
    EXPECT_INT(co_lock_acquire(&c->lock), 0);
    EXPECT_INT(co_cond_notify(&c->cond, 1), 1);
    co_yield();
    EXPECT_INT(c->log.n, 0); /* woken, but blocked on the lock we hold */
    EXPECT_INT(co_lock_release(&c->lock), 0);
    co_yield();
    EXPECT_INT(c->log.n, 1);

    EXPECT_INT(co_lock_acquire(&c->lock), 0);
    EXPECT_INT(co_cond_notify(&c->cond, 2), 2);
    EXPECT_INT(co_lock_release(&c->lock), 0);
    co_yield();
    co_yield();
    EXPECT_INT(c->log.n, 3);

    EXPECT_INT(co_lock_acquire(&c->lock), 0);
    EXPECT_INT(co_cond_notify(&c->cond, 5), 1); /* only one left */
    EXPECT_INT(co_cond_notify(&c->cond, 1), 0);
    EXPECT_INT(co_lock_release(&c->lock), 0);
    for (int i = 0; i < 4; i++) EXPECT_INT(co_await(t[i]), 0);
    return fini(c);
}

static void test_notify_n(void **state)
{
    ctx_t c = { 0 };
    run(notify_main, &c);
    assert_log(&c.log, 0, 1, 2, 3);
    for (int i = 0; i < 4; i++) assert_true(c.held[i]);
}

static int notify_all_main(void *arg)
{
    ctx_t *c = arg;
    init(c);
    who w[3] = { { c, 0 }, { c, 1 }, { c, 2 } };
    co_task_t t[3];
    for (int i = 2; i >= 0; i--) t[i] = co_spawn(waiter, &w[i]); /* queue 2,1,0 */
    co_yield();
    EXPECT_INT(co_lock_acquire(&c->lock), 0);
    EXPECT_INT(co_cond_notify_all(&c->cond), 3);
    EXPECT_INT(co_cond_notify_all(&c->cond), 0);
    EXPECT_INT(co_cond_notify(&c->cond, 0), 0); /* n <= 0 means all */
    EXPECT_INT(co_lock_release(&c->lock), 0);
    for (int i = 0; i < 3; i++) EXPECT_INT(co_await(t[i]), 0);
    return fini(c);
}

static void test_notify_all(void **state)
{
    ctx_t c = { 0 };
    run(notify_all_main, &c);
    assert_log(&c.log, 2, 1, 0);
    for (int i = 0; i < 3; i++) assert_true(c.held[i]);
}

/* ------------------------------------------------------------------------ */
/* The lock is required: by wait, by notify, and it must be the caller's. */

static int hold_lock(void *arg)
{
    ctx_t *c = arg;
    if (co_lock_acquire(&c->lock) < 0) return -1;
    co_yield();
    c->res[6] = co_cond_notify(&c->cond, 1);
    return co_lock_release(&c->lock);
}

static int eperm_main(void *arg)
{
    ctx_t *c = arg;
    init(c);
    EXPECT_INT(co_cond_wait(&c->cond), -EPERM);
    EXPECT_INT(co_cond_notify(&c->cond, 1), -EPERM);
    EXPECT_INT(co_cond_notify_all(&c->cond), -EPERM);
    co_task_t t = co_spawn(hold_lock, c);
    co_yield();
    /* Held, but by another task. */
    EXPECT_INT(co_cond_wait(&c->cond), -EPERM);
    EXPECT_INT(co_cond_notify_all(&c->cond), -EPERM);
    EXPECT_INT(co_await(t), 0);
    EXPECT_INT(c->res[6], 0); /* the owner may notify, with nobody waiting */
    EXPECT_INT(co_lock_locked(&c->lock), 0);
    return fini(c);
}

static void test_lock_required(void **state)
{
    ctx_t c = { 0 };
    run(eperm_main, &c);
}

/* ------------------------------------------------------------------------ */
/* Cancellation while waiting: -ECANCELED, but only once the lock is held
 * again, so the waiter's cleanup runs under the lock. */

static int cancel_main(void *arg)
{
    ctx_t *c = arg;
    init(c);
    who w[3] = { { c, 0 }, { c, 1 }, { c, 2 } };
    co_task_t t[3];
    for (int i = 0; i < 3; i++) t[i] = co_spawn(waiter, &w[i]);
    co_yield();
    EXPECT_INT(co_lock_acquire(&c->lock), 0);
    EXPECT_INT(co_cancel(t[0]), 1);
    co_yield();
    co_yield();
    EXPECT_INT(c->log.n, 0); /* interrupted, now waiting for our lock */
    EXPECT_INT(co_task_state_of(t[0]), CO_TASK_WAITING);
    EXPECT_INT(co_lock_release(&c->lock), 0);
    EXPECT_INT(co_await(t[0]), -ECANCELED);

    /* Its wakeup slot is gone: one notify reaches the next waiter. */
    EXPECT_INT(co_lock_acquire(&c->lock), 0);
    EXPECT_INT(co_cond_notify(&c->cond, 1), 1);
    EXPECT_INT(co_lock_release(&c->lock), 0);
    EXPECT_INT(co_await(t[1]), 0);

    /* Cancelled while the lock is free: it takes it back and returns. */
    EXPECT_INT(co_cancel(t[2]), 1);
    EXPECT_INT(co_await(t[2]), -ECANCELED);
    return fini(c);
}

static void test_cancel_reholds_lock(void **state)
{
    ctx_t c = { 0 };
    run(cancel_main, &c);
    assert_log(&c.log, 100, 1, 102);
    assert_int_equal(c.res[0], -ECANCELED);
    assert_int_equal(c.res[2], -ECANCELED);
    for (int i = 0; i < 3; i++) assert_true(c.held[i]);
}

/* Cancelled before it ran: the wait returns -ECANCELED at once, lock held. */
static int cancel_pending_waiter(void *arg)
{
    ctx_t *c = arg;
    co_task_t self = co_current();
    if (co_lock_acquire(&c->lock) < 0) return -1;
    co_cancel(self); /* pending: no await has happened yet */
    c->res[0] = co_cond_wait(&c->cond);
    c->held[0] = co_lock_release(&c->lock) == 0;
    return c->res[0];
}

static int cancel_pending_main(void *arg)
{
    ctx_t *c = arg;
    init(c);
    co_task_t t = co_spawn(cancel_pending_waiter, c);
    EXPECT_INT(co_await(t), -ECANCELED);
    return fini(c);
}

static void test_cancel_pending_at_wait(void **state)
{
    ctx_t c = { 0 };
    run(cancel_pending_main, &c);
    assert_int_equal(c.res[0], -ECANCELED);
    assert_true(c.held[0]);
}

/* asyncio's test_cancelled_wakeup: a waiter notified and cancelled "at the
 * same time", then made to wait for the lock.  The notification was handed
 * to it, so it must not be lost: the wait returns 0 (lock held) and the
 * cancellation lands on the next await, as for a lock handed to a waiter
 * that is cancelled before it runs. */
static int notified_waiter(void *arg)
{
    who *w = arg;
    ctx_t *c = w->c;
    if (co_lock_acquire(&c->lock) < 0) return -1;
    c->res[w->id] = co_cond_wait(&c->cond);
    log_add(&c->log, c->res[w->id] == 0 ? w->id : 100 + w->id);
    c->held[w->id] = co_lock_locked(&c->lock);
    c->res[4 + w->id] = co_yield(); /* the deferred cancellation, if any */
    co_lock_release(&c->lock);
    return c->res[4 + w->id];
}

static int lost_wakeup_main(void *arg)
{
    ctx_t *c = arg;
    init(c);
    who w[2] = { { c, 0 }, { c, 1 } };
    co_task_t t[2];
    for (int i = 0; i < 2; i++) t[i] = co_spawn(notified_waiter, &w[i]);
    co_yield();
    EXPECT_INT(co_lock_acquire(&c->lock), 0);
    EXPECT_INT(co_cond_notify(&c->cond, 1), 1);
    EXPECT_INT(co_cancel(t[0]), 1);
    co_yield(); /* t0 runs and finds the lock held */
    EXPECT_INT(co_lock_release(&c->lock), 0);
    EXPECT_INT(co_await(t[0]), -ECANCELED);
    EXPECT_INT(co_task_state_of(t[1]), CO_TASK_WAITING); /* not woken spuriously */
    EXPECT_INT(co_lock_acquire(&c->lock), 0);
    EXPECT_INT(co_cond_notify(&c->cond, 1), 1);
    EXPECT_INT(co_lock_release(&c->lock), 0);
    EXPECT_INT(co_await(t[1]), 0);
    return fini(c);
}

static void test_notified_then_cancelled_keeps_wakeup(void **state)
{
    ctx_t c = { 0 };
    run(lost_wakeup_main, &c);
    assert_int_equal(c.res[0], 0);          /* the notification counted */
    assert_true(c.held[0]);
    assert_int_equal(c.res[4], -ECANCELED); /* and so did the cancellation */
    assert_int_equal(c.res[1], 0);
    assert_int_equal(c.res[5], 0);
    assert_log(&c.log, 0, 1);
}

/* ------------------------------------------------------------------------ */
/* Timeout: -ETIMEDOUT with the lock held again. */

static int timeout_main(void *arg)
{
    ctx_t *c = arg;
    init(c);
    co_timeout_t s;
    EXPECT_INT(co_lock_acquire(&c->lock), 0);
    EXPECT_INT(co_timeout_begin(&s, 2), 0);
    EXPECT_INT(co_cond_wait(&c->cond), -ETIMEDOUT);
    EXPECT_INT(co_timeout_end(&s), -ETIMEDOUT);
    EXPECT_INT(co_lock_release(&c->lock), 0); /* held again */
    return fini(c);
}

static void test_timeout_reholds_lock(void **state)
{
    ctx_t c = { 0 };
    run(timeout_main, &c);
}

/* The deadline has passed and another task is queued for the lock: wait
 * hands the lock over, times out at once, and must then *wait* for the lock
 * rather than fail the re-acquire over and over on the same deadline (which
 * spun forever without ever letting the other task run). */
static int queued_for_lock(void *arg)
{
    ctx_t *c = arg;
    if (co_lock_acquire(&c->lock) < 0) return -1;
    log_add(&c->log, 1);
    co_yield();
    log_add(&c->log, 2);
    return co_lock_release(&c->lock);
}

static int expired_reacquire_main(void *arg)
{
    ctx_t *c = arg;
    init(c);
    EXPECT_INT(co_lock_acquire(&c->lock), 0);
    co_task_t t = co_spawn(queued_for_lock, c);
    co_yield(); /* t queues on the lock */
    co_timeout_t s;
    EXPECT_INT(co_timeout_begin(&s, 0), 0);
    EXPECT_INT(co_cond_wait(&c->cond), -ETIMEDOUT);
    log_add(&c->log, 3);
    EXPECT_INT(co_timeout_end(&s), -ETIMEDOUT);
    EXPECT_INT(co_lock_release(&c->lock), 0);
    EXPECT_INT(co_await(t), 0);
    return fini(c);
}

static void test_expired_deadline_reacquire_waits(void **state)
{
    ctx_t c = { 0 };
    run(expired_reacquire_main, &c);
    assert_log(&c.log, 1, 2, 3);
}

/* Notified in time, but the deadline passes while the notifier still holds
 * the lock: the re-acquire is not cut short, the wakeup is delivered (0),
 * and the expired deadline fails the next await in the scope. */
static int slow_notifier(void *arg)
{
    ctx_t *c = arg;
    if (co_lock_acquire(&c->lock) < 0) return -1;
    c->res[6] = co_cond_notify(&c->cond, 1);
    co_sleep(5); /* outlast the waiter's 2 ms scope, lock held */
    return co_lock_release(&c->lock);
}

static int late_reacquire_main(void *arg)
{
    ctx_t *c = arg;
    init(c);
    co_task_t t = co_spawn(slow_notifier, c);
    EXPECT_INT(co_lock_acquire(&c->lock), 0);
    co_timeout_t s;
    EXPECT_INT(co_timeout_begin(&s, 2), 0);
    EXPECT_INT(co_cond_wait(&c->cond), 0);
    EXPECT_INT(co_lock_release(&c->lock), 0);
    EXPECT_INT(co_yield(), -ETIMEDOUT); /* a yield is cut too (issue 15) */
    EXPECT_INT(co_sleep(1000), -ETIMEDOUT);
    EXPECT_INT(co_timeout_end(&s), -ETIMEDOUT);
    EXPECT_INT(co_await(t), 0);
    EXPECT_INT(c->res[6], 1);
    return fini(c);
}

static void test_deadline_during_reacquire(void **state)
{
    ctx_t c = { 0 };
    run(late_reacquire_main, &c);
}

/* ------------------------------------------------------------------------ */
/* Producer/consumer with the predicate loop every condition user writes:
 * spurious or stolen wakeups must not break it, and nothing is lost. */

enum { ITEMS = 60, CONSUMERS = 3 };

typedef struct {
    co_lock_t lock;
    co_cond_t cond;
    int buf[ITEMS];
    int head, tail, done;
    int got[ITEMS];
    int ngot;
    int per[CONSUMERS];
} pc_t;

typedef struct { pc_t *p; int id; } pc_who;

static int consumer(void *arg)
{
    pc_who *w = arg;
    pc_t *p = w->p;
    for (;;) {
        if (co_lock_acquire(&p->lock) < 0) return -1;
        while (p->head == p->tail && !p->done) {
            int r = co_cond_wait(&p->cond);
            if (r < 0) {
                co_lock_release(&p->lock);
                return r;
            }
        }
        if (p->head == p->tail) { /* done and drained */
            co_lock_release(&p->lock);
            return 0;
        }
        p->got[p->ngot++] = p->buf[p->head++];
        p->per[w->id]++;
        co_lock_release(&p->lock);
        co_yield();
    }
}

static int producer_main(void *arg)
{
    pc_t *p = arg;
    co_lock_init(&p->lock);
    co_cond_init(&p->cond, &p->lock);
    pc_who w[CONSUMERS];
    co_task_t t[CONSUMERS];
    for (int i = 0; i < CONSUMERS; i++) {
        w[i] = (pc_who){ p, i };
        t[i] = co_spawn(consumer, &w[i]);
    }
    for (int i = 0; i < ITEMS; i++) {
        if (co_lock_acquire(&p->lock) < 0) return -1;
        p->buf[p->tail++] = i;
        /* Alternate notify(1) and notify_all: the loop copes with both. */
        co_cond_notify(&p->cond, i % 2 ? 1 : 0);
        co_lock_release(&p->lock);
        if (i % 3 == 0) co_yield();
    }
    if (co_lock_acquire(&p->lock) < 0) return -1;
    p->done = 1;
    EXPECT_INT(co_cond_notify_all(&p->cond) >= 0, 1);
    co_lock_release(&p->lock);
    for (int i = 0; i < CONSUMERS; i++) EXPECT_INT(co_await(t[i]), 0);
    EXPECT_INT(co_cond_destroy(&p->cond), 0);
    return co_lock_destroy(&p->lock);
}

static void test_producer_consumer(void **state)
{
    pc_t p;
    memset(&p, 0, sizeof p);
    run(producer_main, &p);
    assert_int_equal(p.ngot, ITEMS);
    for (int i = 0; i < ITEMS; i++) assert_int_equal(p.got[i], i);
    for (int i = 0; i < CONSUMERS; i++) assert_true(p.per[i] > 0); /* everyone got work */
}

/* ------------------------------------------------------------------------ */

static void uv_notify_cb(uv_timer_t *h)
{
    ctx_t *c = h->data;
    c->res[5] = co_cond_wait(&c->cond);
    c->res[6] = co_cond_notify(&c->cond, 1);
    c->res[7] = co_cond_notify_all(&c->cond);
    uv_close((uv_handle_t *)h, NULL);
}

static int outside_main(void *arg)
{
    ctx_t *c = arg;
    static uv_timer_t timer;
    uv_timer_init(co_loop_uv(co_loop_current()), &timer);
    timer.data = c;
    uv_timer_start(&timer, uv_notify_cb, 0, 0);
    EXPECT_INT(co_sleep(1), 0);
    return 0;
}

static void test_outside_task_eperm(void **state)
{
    ctx_t c = { 0 };
    init(&c);
    assert_int_equal(co_cond_wait(&c.cond), -EPERM);
    assert_int_equal(co_cond_notify(&c.cond, 1), -EPERM);
    assert_int_equal(co_cond_notify_all(&c.cond), -EPERM);
    run(outside_main, &c);
    assert_int_equal(c.res[5], -EPERM);
    assert_int_equal(c.res[6], -EPERM);
    assert_int_equal(c.res[7], -EPERM);
    assert_int_equal(co_cond_destroy(&c.cond), 0);
    assert_int_equal(co_lock_destroy(&c.lock), 0);
}

static int destroyed_main(void *arg)
{
    ctx_t *c = arg;
    init(c);
    who w = { c, 0 };
    co_task_t t = co_spawn(waiter, &w);
    co_yield();
    EXPECT_INT(co_cond_destroy(&c->cond), -EBUSY);
    EXPECT_INT(co_lock_acquire(&c->lock), 0);
    EXPECT_INT(co_cond_notify(&c->cond, 1), 1);
    EXPECT_INT(co_lock_release(&c->lock), 0);
    EXPECT_INT(co_await(t), 0);
    EXPECT_INT(co_cond_destroy(&c->cond), 0);
    EXPECT_INT(co_lock_acquire(&c->lock), 0);
    EXPECT_INT(co_cond_wait(&c->cond), -EINVAL);
    EXPECT_INT(co_cond_notify(&c->cond, 1), -EINVAL);
    EXPECT_INT(co_cond_notify_all(&c->cond), -EINVAL);
    EXPECT_INT(co_cond_destroy(&c->cond), -EINVAL);
    EXPECT_INT(co_lock_release(&c->lock), 0); /* the failed wait left it alone */
    return co_lock_destroy(&c->lock);
}

static void test_destroyed(void **state)
{
    ctx_t c = { 0 };
    run(destroyed_main, &c);
}

/* init cannot fail, so a condition on a NULL or destroyed lock must fail at
 * use, not crash. */
static int bad_lock_main(void *arg)
{
    ctx_t *c = arg;
    co_cond_init(&c->cond, NULL);
    EXPECT_INT(co_cond_wait(&c->cond), -EINVAL);
    EXPECT_INT(co_cond_notify(&c->cond, 1), -EINVAL);
    EXPECT_INT(co_cond_notify_all(&c->cond), -EINVAL);
    EXPECT_INT(co_cond_destroy(&c->cond), 0);

    co_lock_init(&c->lock);
    co_cond_init(&c->cond, &c->lock);
    EXPECT_INT(co_lock_destroy(&c->lock), 0);
    EXPECT_INT(co_cond_wait(&c->cond), -EINVAL);
    EXPECT_INT(co_cond_notify(&c->cond, 1), -EINVAL);
    return co_cond_destroy(&c->cond);
}

static void test_bad_lock_einval(void **state)
{
    ctx_t c = { 0 };
    run(bad_lock_main, &c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_notify_n),
        cmocka_unit_test(test_notify_all),
        cmocka_unit_test(test_lock_required),
        cmocka_unit_test(test_cancel_reholds_lock),
        cmocka_unit_test(test_cancel_pending_at_wait),
        cmocka_unit_test(test_notified_then_cancelled_keeps_wakeup),
        cmocka_unit_test(test_timeout_reholds_lock),
        cmocka_unit_test(test_expired_deadline_reacquire_waits),
        cmocka_unit_test(test_deadline_during_reacquire),
        cmocka_unit_test(test_producer_consumer),
        cmocka_unit_test(test_outside_task_eperm),
        cmocka_unit_test(test_destroyed),
        cmocka_unit_test(test_bad_lock_einval),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
