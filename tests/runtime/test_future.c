/* SPDX-License-Identifier: MIT */
/* test_future.c -- co_future, the bridge from callback code to tasks: await
 * before and after the result, failure, several awaiters, resolution from a
 * plain libuv callback, one-shot (a second set is -EINVAL), cancellation
 * and timeouts while awaiting, destroy, and the rule that every suspending
 * call made outside a task is -EPERM. */
#include "testutil.h"
#include <stdio.h>
#include <uv.h>


typedef struct {
    co_future_t f;
    order_log log;
    int res[8];
    void *val[8];
} ctx_t;

typedef struct { ctx_t *c; int id; } who;

static int awaiter(void *arg)
{
    who *w = arg;
    void *v = P(-1);
    int r = co_future_await(&w->c->f, &v);
    w->c->res[w->id] = r;
    w->c->val[w->id] = v;
    log_add(&w->c->log, r == 0 ? w->id : 100 + w->id);
    return r;
}

/* ------------------------------------------------------------------------ */

static int after_set_main(void *arg)
{
    ctx_t *c = arg;
    co_future_init(&c->f);
    EXPECT_INT(co_future_done(&c->f), 0);
    EXPECT_INT(co_future_set(&c->f, P(42)), 0);
    EXPECT_INT(co_future_done(&c->f), 1);
    who w = { c, 1 };
    co_task_t t = co_spawn(awaiter, &w);
    void *v = NULL;
    EXPECT_INT(co_future_await(&c->f, &v), 0);
    EXPECT_INT(I(v), 42);
    EXPECT_INT(c->log.n, 0); /* resolved: we did not suspend */
    EXPECT_INT(co_future_await(&c->f, NULL), 0); /* again, value ignored */
    EXPECT_INT(co_await(t), 0);
    return co_future_destroy(&c->f);
}

static void test_await_after_set(void **state)
{
    ctx_t c = { 0 };
    run(after_set_main, &c);
    assert_int_equal(I(c.val[1]), 42);
    assert_log(&c.log, 1);
}

/* Several awaiters block until set and are all woken, in FIFO order, with
 * the same value. */
static int before_set_main(void *arg)
{
    ctx_t *c = arg;
    co_future_init(&c->f);
    who w[3] = { { c, 0 }, { c, 1 }, { c, 2 } };
    co_task_t t[3];
    for (int i = 2; i >= 0; i--) t[i] = co_spawn(awaiter, &w[i]); /* queue 2,1,0 */
    co_yield();
    co_yield();
    EXPECT_INT(c->log.n, 0);
    EXPECT_INT(co_future_destroy(&c->f), -EBUSY);
    EXPECT_INT(co_future_set(&c->f, P(7)), 0);
    for (int i = 0; i < 3; i++) EXPECT_INT(co_await(t[i]), 0);
    return co_future_destroy(&c->f);
}

static void test_several_awaiters(void **state)
{
    ctx_t c = { 0 };
    run(before_set_main, &c);
    assert_log(&c.log, 2, 1, 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(c.res[i], 0);
        assert_int_equal(I(c.val[i]), 7);
    }
}

/* A failed future gives every awaiter, early or late, its error; the value
 * out-parameter is left alone. */
static int fail_main(void *arg)
{
    ctx_t *c = arg;
    co_future_init(&c->f);
    EXPECT_INT(co_future_fail(&c->f, 0), -EINVAL);  /* not an error */
    EXPECT_INT(co_future_fail(&c->f, 5), -EINVAL);
    EXPECT_INT(co_future_done(&c->f), 0);            /* and still pending */
    who w = { c, 1 };
    co_task_t t = co_spawn(awaiter, &w);
    co_yield();
    EXPECT_INT(co_future_fail(&c->f, -ECONNRESET), 0);
    EXPECT_INT(co_future_done(&c->f), 1);
    void *v = P(-1);
    EXPECT_INT(co_future_await(&c->f, &v), -ECONNRESET);
    EXPECT_INT(I(v), -1);
    EXPECT_INT(co_await(t), -ECONNRESET);
    return co_future_destroy(&c->f);
}

static void test_fail(void **state)
{
    ctx_t c = { 0 };
    run(fail_main, &c);
    assert_int_equal(c.res[1], -ECONNRESET);
    assert_int_equal(I(c.val[1]), -1);
    assert_log(&c.log, 101);
}

/* One-shot: once resolved, set and fail are -EINVAL and change nothing. */
static int double_set_main(void *arg)
{
    ctx_t *c = arg;
    void *v = NULL;
    co_future_init(&c->f);
    EXPECT_INT(co_future_set(&c->f, P(1)), 0);
    EXPECT_INT(co_future_set(&c->f, P(2)), -EINVAL);
    EXPECT_INT(co_future_fail(&c->f, -EIO), -EINVAL);
    EXPECT_INT(co_future_await(&c->f, &v), 0);
    EXPECT_INT(I(v), 1);
    EXPECT_INT(co_future_destroy(&c->f), 0);

    co_future_init(&c->f);
    EXPECT_INT(co_future_fail(&c->f, -EIO), 0);
    EXPECT_INT(co_future_set(&c->f, P(2)), -EINVAL);
    EXPECT_INT(co_future_fail(&c->f, -EPIPE), -EINVAL);
    EXPECT_INT(co_future_await(&c->f, &v), -EIO);
    return co_future_destroy(&c->f);
}

static void test_double_set_einval(void **state)
{
    ctx_t c = { 0 };
    run(double_set_main, &c);
}

/* ------------------------------------------------------------------------ */
/* Bridging a callback API: a "read" that completes in a libuv timer callback
 * (plain code, no task) resolves the future the task awaits. */

typedef struct {
    uv_timer_t timer;
    co_future_t done;
    int value;
    int closed;
} fake_read;

static void on_closed(uv_handle_t *h)
{
    fake_read *r = h->data;
    r->closed = 1;
}

static void on_read(uv_timer_t *h)
{
    fake_read *r = h->data;
    if (r->value < 0)
        co_future_fail(&r->done, r->value);
    else
        co_future_set(&r->done, P(r->value));
    uv_close((uv_handle_t *)h, on_closed);
}

/* The task-side wrapper: start the operation, await its future. */
static int read_async(fake_read *r, int value, uint64_t delay_ms, void **out)
{
    r->value = value;
    r->closed = 0;
    co_future_init(&r->done);
    uv_timer_init(co_loop_uv(co_loop_current()), &r->timer);
    r->timer.data = r;
    uv_timer_start(&r->timer, on_read, delay_ms, 0);
    int res = co_future_await(&r->done, out);
    co_future_destroy(&r->done);
    return res;
}

/* One fake_read per operation: a closing uv handle may not be reused
 * before its close callback has run. */
static int bridge_main(void *arg)
{
    fake_read *r = arg;
    void *v = NULL;
    EXPECT_INT(read_async(&r[0], 1234, 0, &v), 0);
    EXPECT_INT(I(v), 1234);
    EXPECT_INT(read_async(&r[1], 99, 2, &v), 0);
    EXPECT_INT(I(v), 99);
    EXPECT_INT(read_async(&r[2], -EIO, 1, &v), -EIO);
    EXPECT_INT(I(v), 99);
    EXPECT_INT(co_sleep(1), 0); /* a turn of the loop: close callbacks run */
    for (int i = 0; i < 3; i++) EXPECT_INT(r[i].closed, 1);
    return 0;
}

static void test_set_from_uv_callback(void **state)
{
    fake_read r[3];
    memset(r, 0, sizeof r);
    run(bridge_main, r);
}

/* ------------------------------------------------------------------------ */
/* Cancellation while awaiting: -ECANCELED, the awaiter leaves the queue, the
 * future stays pending and still works for the others. */

static int cancel_main(void *arg)
{
    ctx_t *c = arg;
    co_future_init(&c->f);
    who w[3] = { { c, 0 }, { c, 1 }, { c, 2 } };
    co_task_t t[3];
    for (int i = 0; i < 3; i++) t[i] = co_spawn(awaiter, &w[i]);
    co_yield();
    EXPECT_INT(co_cancel(t[1]), 1);
    EXPECT_INT(co_await(t[1]), -ECANCELED);
    EXPECT_INT(co_future_done(&c->f), 0);
    EXPECT_INT(co_future_set(&c->f, P(5)), 0);
    EXPECT_INT(co_await(t[0]), 0);
    EXPECT_INT(co_await(t[2]), 0);

    /* The sole awaiter cancelled: nothing is left linked. */
    co_future_init(&c->f);
    co_task_t u = co_spawn(awaiter, &w[0]);
    co_yield();
    EXPECT_INT(co_cancel(u), 1);
    EXPECT_INT(co_await(u), -ECANCELED);
    return co_future_destroy(&c->f); /* -EBUSY if the awaiter lingered */
}

static void test_cancel_while_awaiting(void **state)
{
    ctx_t c = { 0 };
    run(cancel_main, &c);
    assert_log(&c.log, 101, 0, 2, 100);
    assert_int_equal(c.res[1], -ECANCELED);
    assert_int_equal(I(c.val[1]), -1);
    assert_int_equal(I(c.val[2]), 5);
}

/* Resolved and then cancelled before the awaiter ran: the result is
 * delivered; the cancellation lands on the next await. */
static int resolved_then_cancelled(void *arg)
{
    ctx_t *c = arg;
    c->res[0] = co_future_await(&c->f, &c->val[0]);
    c->res[1] = co_yield();
    return c->res[1];
}

static int cancel_after_set_main(void *arg)
{
    ctx_t *c = arg;
    co_future_init(&c->f);
    co_task_t t = co_spawn(resolved_then_cancelled, c);
    co_yield();
    EXPECT_INT(co_future_set(&c->f, P(8)), 0);
    EXPECT_INT(co_cancel(t), 1);
    EXPECT_INT(co_await(t), -ECANCELED);
    return co_future_destroy(&c->f);
}

static void test_cancel_after_set(void **state)
{
    ctx_t c = { 0 };
    run(cancel_after_set_main, &c);
    assert_int_equal(c.res[0], 0);
    assert_int_equal(I(c.val[0]), 8);
    assert_int_equal(c.res[1], -ECANCELED);
}

static int timeout_main(void *arg)
{
    ctx_t *c = arg;
    co_future_init(&c->f);
    co_timeout_t s;
    void *v = P(-1);
    EXPECT_INT(co_timeout_begin(&s, 2), 0);
    EXPECT_INT(co_future_await(&c->f, &v), -ETIMEDOUT);
    EXPECT_INT(co_timeout_end(&s), -ETIMEDOUT);
    EXPECT_INT(I(v), -1);
    EXPECT_INT(co_future_done(&c->f), 0);
    EXPECT_INT(co_future_set(&c->f, P(3)), 0); /* no waiter left to wake */
    EXPECT_INT(co_future_await(&c->f, &v), 0);
    EXPECT_INT(I(v), 3);
    return co_future_destroy(&c->f);
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
    void *v = NULL;
    co_future_init(&c->f);
    EXPECT_INT(co_future_set(&c->f, P(1)), 0);
    EXPECT_INT(co_future_destroy(&c->f), 0);
    EXPECT_INT(co_future_await(&c->f, &v), -EINVAL);
    EXPECT_INT(v == NULL, 1);
    EXPECT_INT(co_future_set(&c->f, P(2)), -EINVAL);
    EXPECT_INT(co_future_fail(&c->f, -EIO), -EINVAL);
    EXPECT_INT(co_future_done(&c->f), 0);
    EXPECT_INT(co_future_destroy(&c->f), -EINVAL);
    return 0;
}

static void test_destroyed(void **state)
{
    ctx_t c = { 0 };
    run(destroyed_main, &c);
}

/* ------------------------------------------------------------------------ */
/* Every suspending call, made outside a task, is -EPERM: first on a thread
 * with no loop, then from a libuv callback on a running loop (the place
 * where a mistaken blocking call is most likely).  set/fail are plain calls
 * and work from there. */

typedef struct {
    co_lock_t lock;
    co_event_t ev;
    co_sem_t sem;
    co_cond_t cond;
    co_queue_t q;
    co_group_t g;
    co_future_t f;
    co_task_t t;
} objs;

static void init_objs(objs *o)
{
    co_lock_init(&o->lock);
    co_event_init(&o->ev);
    co_sem_init(&o->sem, 0);
    co_cond_init(&o->cond, &o->lock);
    co_queue_init(&o->q, 1);
    co_queue_put_nowait(&o->q, P(1)); /* full: put would block, so would join */
    co_group_init(&o->g);
    co_future_init(&o->f);
}

static void fini_objs(objs *o)
{
    assert_int_equal(co_future_destroy(&o->f), 0);
    assert_int_equal(co_queue_destroy(&o->q), 0);
    assert_int_equal(co_cond_destroy(&o->cond), 0);
    assert_int_equal(co_sem_destroy(&o->sem), 0);
    assert_int_equal(co_event_destroy(&o->ev), 0);
    assert_int_equal(co_lock_destroy(&o->lock), 0);
}

/* Each call returns -EPERM; the count of those that did not is returned. */
static int count_not_eperm(objs *o)
{
    void *v;
    co_task_t ts[1] = { o->t };
    int rs[] = {
        co_sleep(1),
        co_sleep(0),
        co_yield(),
        co_await(o->t),
        co_gather(ts, 1, NULL, 0),
        co_wait(ts, 1, CO_WAIT_ALL, CO_NO_TIMEOUT),
        co_wait_for(o->t, 1),
        co_group_wait(&o->g),
        co_future_await(&o->f, &v),
        co_lock_acquire(&o->lock),
        co_event_wait(&o->ev),
        co_sem_acquire(&o->sem),
        co_cond_wait(&o->cond),
        co_queue_put(&o->q, P(2)),
        co_queue_join(&o->q),
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof rs / sizeof rs[0]; i++)
        if (rs[i] != -EPERM) {
            fprintf(stderr, "call #%zu outside a task returned %d, not -EPERM\n", i, rs[i]);
            bad++;
        }
    void *it;
    co_queue_get_nowait(&o->q, &it); /* now empty: get would block */
    if (co_queue_get(&o->q, &it) != -EPERM) bad++;
    co_queue_put_nowait(&o->q, P(1));
    return bad;
}

typedef struct { objs o; int bad; int set; } outside_ctx;

static void uv_outside_cb(uv_timer_t *h)
{
    outside_ctx *x = h->data;
    x->bad = count_not_eperm(&x->o);
    x->set = co_future_set(&x->o.f, P(77));
    uv_close((uv_handle_t *)h, NULL);
}

static int never_runs(void *arg) { return 0; }

static int outside_main(void *arg)
{
    outside_ctx *x = arg;
    init_objs(&x->o);
    x->o.t = co_spawn(never_runs, NULL); /* a real handle for the task calls */
    static uv_timer_t timer;
    uv_timer_init(co_loop_uv(co_loop_current()), &timer);
    timer.data = x;
    uv_timer_start(&timer, uv_outside_cb, 0, 0);
    void *v = NULL;
    EXPECT_INT(co_future_await(&x->o.f, &v), 0);
    EXPECT_INT(I(v), 77);
    return co_await(x->o.t);
}

static void test_suspending_calls_outside_task_eperm(void **state)
{
    outside_ctx x;
    memset(&x, 0, sizeof x);
    init_objs(&x.o);
    assert_null(co_loop_current());
    assert_int_equal(count_not_eperm(&x.o), 0);
    assert_int_equal(co_future_set(&x.o.f, P(1)), 0); /* plain calls work */
    assert_int_equal(co_future_done(&x.o.f), 1);
    fini_objs(&x.o);

    memset(&x, 0, sizeof x);
    run(outside_main, &x);
    assert_int_equal(x.bad, 0);
    assert_int_equal(x.set, 0);
    fini_objs(&x.o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_await_after_set),
        cmocka_unit_test(test_several_awaiters),
        cmocka_unit_test(test_fail),
        cmocka_unit_test(test_double_set_einval),
        cmocka_unit_test(test_set_from_uv_callback),
        cmocka_unit_test(test_cancel_while_awaiting),
        cmocka_unit_test(test_cancel_after_set),
        cmocka_unit_test(test_timeout_scope),
        cmocka_unit_test(test_destroyed),
        cmocka_unit_test(test_suspending_calls_outside_task_eperm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
