/* SPDX-License-Identifier: MIT */
/* test_queue.c -- co_queue against what asyncio's test_queues.py checks:
 * FIFO order, bounded put blocking until a get and get until a put, the
 * nowait variants, task_done/join accounting, cancellation of getters and
 * putters without losing or inventing items, growth of the unbounded ring,
 * timeouts, destroy, and calls from outside a task. */
#include "testutil.h"
#include <stdio.h>
#include <uv.h>


typedef struct {
    co_queue_t q;
    order_log log;
    int res[8];
    void *item[8];
} ctx_t;

typedef struct { ctx_t *c; int id; int n; } who;

/* Get one item; log it (or 100+id if the get failed). */
static int getter(void *arg)
{
    who *w = arg;
    void *it = P(-1);
    int r = co_queue_get(&w->c->q, &it);
    w->c->res[w->id] = r;
    w->c->item[w->id] = it;
    log_add(&w->c->log, r == 0 ? I(it) : 100 + w->id);
    return r;
}

/* Put items id*10+1 .. id*10+n, logging each once it is in. */
static int putter(void *arg)
{
    who *w = arg;
    for (int i = 1; i <= w->n; i++) {
        int r = co_queue_put(&w->c->q, P(w->id * 10 + i));
        if (r < 0) {
            w->c->res[w->id] = r;
            log_add(&w->c->log, 100 + w->id);
            return r;
        }
        log_add(&w->c->log, w->id * 10 + i);
    }
    return 0;
}

/* ------------------------------------------------------------------------ */

static int fifo_main(void *arg)
{
    ctx_t *c = arg;
    EXPECT_INT(co_queue_init(&c->q, 0), 0);
    EXPECT_INT(co_queue_size(&c->q), 0);
    for (int i = 1; i <= 5; i++) EXPECT_INT(co_queue_put(&c->q, P(i)), 0);
    EXPECT_INT(co_queue_size(&c->q), 5);
    for (int i = 1; i <= 5; i++) {
        void *it = NULL;
        EXPECT_INT(co_queue_get(&c->q, &it), 0);
        EXPECT_INT(I(it), i);
    }
    EXPECT_INT(co_queue_size(&c->q), 0);
    EXPECT_INT(co_queue_put(&c->q, P(9)), 0);
    EXPECT_INT(co_queue_get(&c->q, NULL), 0); /* the item may be dropped */
    EXPECT_INT(co_queue_size(&c->q), 0);
    return co_queue_destroy(&c->q);
}

static void test_fifo(void **state)
{
    ctx_t c = { 0 };
    run(fifo_main, &c);
}

/* ------------------------------------------------------------------------ */
/* Bounded: a put into a full queue waits for a get, and the blocked item
 * goes in behind the ones already there. */

static int bounded_main(void *arg)
{
    ctx_t *c = arg;
    EXPECT_INT(co_queue_init(&c->q, 2), 0);
    who w = { c, 1, 4 };
    co_task_t t = co_spawn(putter, &w);
    co_yield();
    EXPECT_INT(c->log.n, 2); /* 11 and 12 in; 13 blocked */
    EXPECT_INT(co_task_state_of(t), CO_TASK_WAITING);
    EXPECT_INT(co_queue_size(&c->q), 2);
    void *it;
    EXPECT_INT(co_queue_get(&c->q, &it), 0);
    EXPECT_INT(I(it), 11);
    EXPECT_INT(co_queue_size(&c->q), 2); /* 13 pulled in at once */
    co_yield();                           /* putter: logs 13, blocks on 14 */
    EXPECT_INT(c->log.n, 3);
    for (int want = 12; want <= 14; want++) {
        EXPECT_INT(co_queue_get(&c->q, &it), 0);
        EXPECT_INT(I(it), want);
    }
    EXPECT_INT(co_await(t), 0);
    EXPECT_INT(co_queue_size(&c->q), 0);
    return co_queue_destroy(&c->q);
}

static void test_bounded_put_blocks(void **state)
{
    ctx_t c = { 0 };
    run(bounded_main, &c);
    assert_log(&c.log, 11, 12, 13, 14);
}

/* Several blocked putters are served in the order they blocked. */
static int putters_fifo_main(void *arg)
{
    ctx_t *c = arg;
    EXPECT_INT(co_queue_init(&c->q, 1), 0);
    EXPECT_INT(co_queue_put(&c->q, P(0)), 0);
    who w[3] = { { c, 1, 2 }, { c, 2, 2 }, { c, 3, 2 } };
    co_task_t t[3];
    for (int i = 0; i < 3; i++) t[i] = co_spawn(putter, &w[i]);
    co_yield();
    int expect[] = { 0, 11, 21, 31, 12, 22, 32 };
    for (int i = 0; i < 7; i++) {
        void *it;
        EXPECT_INT(co_queue_get(&c->q, &it), 0);
        EXPECT_INT(I(it), expect[i]);
    }
    for (int i = 0; i < 3; i++) EXPECT_INT(co_await(t[i]), 0);
    return co_queue_destroy(&c->q);
}

static void test_blocked_putters_fifo(void **state)
{
    ctx_t c = { 0 };
    run(putters_fifo_main, &c);
}

/* ------------------------------------------------------------------------ */
/* Get blocks until a put; the put goes straight to the longest waiter. */

static int get_blocks_main(void *arg)
{
    ctx_t *c = arg;
    EXPECT_INT(co_queue_init(&c->q, 0), 0);
    who w[3] = { { c, 0, 0 }, { c, 1, 0 }, { c, 2, 0 } };
    co_task_t t[3];
    for (int i = 0; i < 3; i++) t[i] = co_spawn(getter, &w[i]);
    co_yield();
    EXPECT_INT(c->log.n, 0);
    for (int i = 0; i < 3; i++) EXPECT_INT(co_task_state_of(t[i]), CO_TASK_WAITING);
    EXPECT_INT(co_queue_put(&c->q, P(7)), 0);
    EXPECT_INT(co_queue_size(&c->q), 0); /* handed off, not queued */
    EXPECT_INT(co_queue_get_nowait(&c->q, NULL), -EAGAIN); /* and not stealable */
    EXPECT_INT(co_queue_put_nowait(&c->q, P(8)), 0);
    EXPECT_INT(co_queue_put(&c->q, P(9)), 0);
    for (int i = 0; i < 3; i++) EXPECT_INT(co_await(t[i]), 0);
    return co_queue_destroy(&c->q);
}

static void test_get_blocks_until_put(void **state)
{
    ctx_t c = { 0 };
    run(get_blocks_main, &c);
    assert_log(&c.log, 7, 8, 9);
    assert_int_equal(I(c.item[0]), 7);
    assert_int_equal(I(c.item[1]), 8);
    assert_int_equal(I(c.item[2]), 9);
}

/* ------------------------------------------------------------------------ */

static int nowait_main(void *arg)
{
    ctx_t *c = arg;
    void *it = P(-1);
    EXPECT_INT(co_queue_init(&c->q, 2), 0);
    EXPECT_INT(co_queue_get_nowait(&c->q, &it), -EAGAIN);
    EXPECT_INT(I(it), -1); /* untouched */
    EXPECT_INT(co_queue_put_nowait(&c->q, P(1)), 0);
    EXPECT_INT(co_queue_put_nowait(&c->q, P(2)), 0);
    EXPECT_INT(co_queue_put_nowait(&c->q, P(3)), -EAGAIN);
    EXPECT_INT(co_queue_size(&c->q), 2);
    EXPECT_INT(co_queue_get_nowait(&c->q, &it), 0);
    EXPECT_INT(I(it), 1);

    /* get_nowait with a putter blocked on a full queue pulls its item in
     * (asyncio's test_get_with_putters). */
    EXPECT_INT(co_queue_put_nowait(&c->q, P(3)), 0);
    who w = { c, 4, 1 };
    co_task_t t = co_spawn(putter, &w);
    co_yield();
    EXPECT_INT(co_task_state_of(t), CO_TASK_WAITING);
    EXPECT_INT(co_queue_get_nowait(&c->q, &it), 0);
    EXPECT_INT(I(it), 2);
    EXPECT_INT(co_queue_size(&c->q), 2);
    EXPECT_INT(co_task_state_of(t), CO_TASK_READY);
    EXPECT_INT(co_queue_put_nowait(&c->q, P(5)), -EAGAIN); /* full again */
    EXPECT_INT(co_await(t), 0);
    EXPECT_INT(co_queue_get_nowait(&c->q, &it), 0);
    EXPECT_INT(I(it), 3);
    EXPECT_INT(co_queue_get_nowait(&c->q, &it), 0);
    EXPECT_INT(I(it), 41);
    EXPECT_INT(co_queue_get_nowait(&c->q, &it), -EAGAIN);
    return co_queue_destroy(&c->q);
}

static void test_nowait(void **state)
{
    ctx_t c = { 0 };
    run(nowait_main, &c);
    assert_log(&c.log, 41);
}

/* ------------------------------------------------------------------------ */
/* join waits until every item put has been task_done'd. */

static int joiner(void *arg)
{
    who *w = arg;
    int r = co_queue_join(&w->c->q);
    log_add(&w->c->log, r == 0 ? w->id : 100 + w->id);
    return r;
}

static int join_main(void *arg)
{
    ctx_t *c = arg;
    EXPECT_INT(co_queue_init(&c->q, 0), 0);
    EXPECT_INT(co_queue_join(&c->q), 0); /* nothing put: at once */
    EXPECT_INT(co_queue_task_done(&c->q), -EINVAL);

    for (int i = 0; i < 3; i++) EXPECT_INT(co_queue_put(&c->q, P(i)), 0);
    who w[2] = { { c, 1, 0 }, { c, 2, 0 } };
    co_task_t t[2];
    for (int i = 0; i < 2; i++) t[i] = co_spawn(joiner, &w[i]);
    co_yield();
    /* Getting is not finishing: join still waits after the queue drains. */
    for (int i = 0; i < 3; i++) EXPECT_INT(co_queue_get(&c->q, NULL), 0);
    EXPECT_INT(co_queue_task_done(&c->q), 0);
    EXPECT_INT(co_queue_task_done(&c->q), 0);
    co_yield();
    EXPECT_INT(c->log.n, 0);
    EXPECT_INT(co_queue_destroy(&c->q), -EBUSY); /* joiners wait on it */
    EXPECT_INT(co_queue_task_done(&c->q), 0);
    EXPECT_INT(co_task_state_of(t[0]), CO_TASK_READY);
    EXPECT_INT(co_task_state_of(t[1]), CO_TASK_READY);
    EXPECT_INT(co_queue_task_done(&c->q), -EINVAL); /* one too many */
    for (int i = 0; i < 2; i++) EXPECT_INT(co_await(t[i]), 0);

    /* An item handed straight to a waiting getter counts as unfinished too. */
    who g = { c, 0, 0 };
    co_task_t gt = co_spawn(getter, &g);
    co_yield();
    EXPECT_INT(co_queue_put(&c->q, P(5)), 0);
    EXPECT_INT(co_await(gt), 0);
    co_task_t jt = co_spawn(joiner, &w[0]);
    co_yield();
    EXPECT_INT(co_task_state_of(jt), CO_TASK_WAITING);
    EXPECT_INT(co_queue_task_done(&c->q), 0);
    EXPECT_INT(co_await(jt), 0);
    EXPECT_INT(co_queue_task_done(&c->q), -EINVAL);
    return co_queue_destroy(&c->q);
}

static void test_task_done_join(void **state)
{
    ctx_t c = { 0 };
    run(join_main, &c);
    assert_log(&c.log, 1, 2, 5, 1);
}

/* A classic worker pool: join returns only once every item was processed. */
typedef struct { co_queue_t *q; int *sum; int *done; } pool_arg;

static int pool_worker(void *arg)
{
    pool_arg *a = arg;
    for (;;) {
        void *it;
        int r = co_queue_get(a->q, &it);
        if (r < 0) return r == -ECANCELED ? 0 : r;
        co_yield(); /* "work" */
        *a->sum += I(it);
        (*a->done)++;
        co_queue_task_done(a->q);
    }
}

static int pool_main(void *arg)
{
    ctx_t *c = arg;
    int sum = 0, done = 0;
    pool_arg a = { &c->q, &sum, &done };
    EXPECT_INT(co_queue_init(&c->q, 3), 0);
    co_task_t t[3];
    for (int i = 0; i < 3; i++) t[i] = co_spawn(pool_worker, &a);
    for (int i = 1; i <= 20; i++) EXPECT_INT(co_queue_put(&c->q, P(i)), 0);
    EXPECT_INT(co_queue_join(&c->q), 0);
    EXPECT_INT(done, 20);
    EXPECT_INT(sum, 210);
    for (int i = 0; i < 3; i++) {
        co_cancel(t[i]);
        EXPECT_INT(co_await(t[i]), 0);
    }
    return co_queue_destroy(&c->q);
}

static void test_join_worker_pool(void **state)
{
    ctx_t c = { 0 };
    run(pool_main, &c);
}

/* ------------------------------------------------------------------------ */
/* A cancelled getter leaves the queue: the next put goes to the next getter,
 * no item is lost. */

static int cancel_get_main(void *arg)
{
    ctx_t *c = arg;
    EXPECT_INT(co_queue_init(&c->q, 0), 0);
    who w[3] = { { c, 0, 0 }, { c, 1, 0 }, { c, 2, 0 } };
    co_task_t t[3];
    for (int i = 0; i < 3; i++) t[i] = co_spawn(getter, &w[i]);
    co_yield();
    EXPECT_INT(co_cancel(t[0]), 1);
    EXPECT_INT(co_await(t[0]), -ECANCELED);
    EXPECT_INT(co_queue_put(&c->q, P(7)), 0);
    EXPECT_INT(co_await(t[1]), 0);
    EXPECT_INT(co_queue_size(&c->q), 0);
    EXPECT_INT(co_cancel(t[2]), 1);
    EXPECT_INT(co_await(t[2]), -ECANCELED);
    /* Nobody waits now: a put is queued, not handed to a dead getter. */
    EXPECT_INT(co_queue_put(&c->q, P(8)), 0);
    EXPECT_INT(co_queue_size(&c->q), 1);
    void *it;
    EXPECT_INT(co_queue_get_nowait(&c->q, &it), 0);
    EXPECT_INT(I(it), 8);
    return co_queue_destroy(&c->q);
}

static void test_cancel_get_loses_nothing(void **state)
{
    ctx_t c = { 0 };
    run(cancel_get_main, &c);
    assert_log(&c.log, 100, 7, 102);
    assert_int_equal(c.res[0], -ECANCELED);
    assert_int_equal(I(c.item[0]), -1); /* the out-parameter is untouched */
    assert_int_equal(c.res[2], -ECANCELED);
}

/* asyncio's test_get_cancelled_race: the put hands the item to a getter that
 * is cancelled before it runs.  The item is not lost: get returns it, and
 * the cancellation lands on the getter's next await. */
static int getter_then_await(void *arg)
{
    ctx_t *c = arg;
    c->res[0] = co_queue_get(&c->q, &c->item[0]);
    c->res[1] = co_yield();
    return c->res[1];
}

static int cancel_race_main(void *arg)
{
    ctx_t *c = arg;
    EXPECT_INT(co_queue_init(&c->q, 0), 0);
    co_task_t t = co_spawn(getter_then_await, c);
    co_yield();
    EXPECT_INT(co_queue_put(&c->q, P(3)), 0);
    EXPECT_INT(co_cancel(t), 1);
    EXPECT_INT(co_await(t), -ECANCELED);
    EXPECT_INT(co_queue_size(&c->q), 0);
    return co_queue_destroy(&c->q);
}

static void test_get_cancelled_race(void **state)
{
    ctx_t c = { 0 };
    run(cancel_race_main, &c);
    assert_int_equal(c.res[0], 0);
    assert_int_equal(I(c.item[0]), 3);
    assert_int_equal(c.res[1], -ECANCELED);
}

/* A cancelled blocked putter: -ECANCELED and its item is never enqueued;
 * the putter behind it keeps its place. */
static int cancel_put_main(void *arg)
{
    ctx_t *c = arg;
    EXPECT_INT(co_queue_init(&c->q, 1), 0);
    EXPECT_INT(co_queue_put(&c->q, P(1)), 0);
    who w[2] = { { c, 2, 1 }, { c, 3, 1 } };
    co_task_t t[2];
    for (int i = 0; i < 2; i++) t[i] = co_spawn(putter, &w[i]);
    co_yield();
    EXPECT_INT(co_cancel(t[0]), 1);
    EXPECT_INT(co_await(t[0]), -ECANCELED);
    void *it;
    EXPECT_INT(co_queue_get(&c->q, &it), 0);
    EXPECT_INT(I(it), 1);
    EXPECT_INT(co_queue_get(&c->q, &it), 0);
    EXPECT_INT(I(it), 31); /* 21 was never put */
    EXPECT_INT(co_queue_get_nowait(&c->q, &it), -EAGAIN);
    EXPECT_INT(co_await(t[1]), 0);
    /* Two items went in, so exactly two task_done calls are accepted. */
    EXPECT_INT(co_queue_task_done(&c->q), 0);
    EXPECT_INT(co_queue_task_done(&c->q), 0);
    EXPECT_INT(co_queue_task_done(&c->q), -EINVAL);
    return co_queue_destroy(&c->q);
}

static void test_cancel_put_not_enqueued(void **state)
{
    ctx_t c = { 0 };
    run(cancel_put_main, &c);
    assert_log(&c.log, 102, 31);
    assert_int_equal(c.res[2], -ECANCELED);
}

/* ------------------------------------------------------------------------ */
/* The unbounded ring starts at 16 slots; growing it while wrapped (head not
 * at 0) must keep FIFO order. */

static int growth_main(void *arg)
{
    ctx_t *c = arg;
    EXPECT_INT(co_queue_init(&c->q, 0), 0);
    int next_put = 0, next_get = 0;
    void *it;
    for (int i = 0; i < 12; i++) EXPECT_INT(co_queue_put_nowait(&c->q, P(next_put++)), 0);
    for (int i = 0; i < 10; i++) {
        EXPECT_INT(co_queue_get_nowait(&c->q, &it), 0);
        EXPECT_INT(I(it), next_get++);
    }
    /* head is at 10; fill past 16 (wrapping), then far past 32 and 64. */
    for (int i = 0; i < 200; i++) EXPECT_INT(co_queue_put(&c->q, P(next_put++)), 0);
    EXPECT_INT(co_queue_size(&c->q), 202);
    for (int round = 0; round < 3; round++) { /* interleave to wrap again */
        for (int i = 0; i < 50; i++) {
            EXPECT_INT(co_queue_get(&c->q, &it), 0);
            EXPECT_INT(I(it), next_get++);
        }
        for (int i = 0; i < 30; i++) EXPECT_INT(co_queue_put_nowait(&c->q, P(next_put++)), 0);
    }
    while (co_queue_size(&c->q) > 0) {
        EXPECT_INT(co_queue_get_nowait(&c->q, &it), 0);
        EXPECT_INT(I(it), next_get++);
    }
    EXPECT_INT(next_get, next_put);
    EXPECT_INT(next_put, 302);
    return co_queue_destroy(&c->q);
}

static void test_unbounded_growth_keeps_order(void **state)
{
    ctx_t c = { 0 };
    run(growth_main, &c);
}

/* A bounded queue grows its ring up to maxsize instead of allocating it up
 * front: a large limit costs nothing, and one so large that maxsize slots
 * overflow size_t (which used to yield a tiny buffer with a huge cap, then
 * a heap overflow on the second put) works like any other. */
static int large_bound_main(void *arg)
{
    ctx_t *c = arg;
    void *it;
    EXPECT_INT(co_queue_init(&c->q, 1000), 0);
    for (int i = 0; i < 1000; i++) EXPECT_INT(co_queue_put_nowait(&c->q, P(i)), 0);
    EXPECT_INT(co_queue_put_nowait(&c->q, P(1000)), -EAGAIN); /* the bound still holds */
    EXPECT_INT(co_queue_size(&c->q), 1000);
    for (int i = 0; i < 1000; i++) {
        EXPECT_INT(co_queue_get_nowait(&c->q, &it), 0);
        EXPECT_INT(I(it), i);
    }
    EXPECT_INT(co_queue_destroy(&c->q), 0);

    EXPECT_INT(co_queue_init(&c->q, SIZE_MAX / sizeof(void *) + 2), 0);
    for (int i = 0; i < 40; i++) EXPECT_INT(co_queue_put(&c->q, P(i)), 0);
    for (int i = 0; i < 40; i++) {
        EXPECT_INT(co_queue_get(&c->q, &it), 0);
        EXPECT_INT(I(it), i);
    }
    return co_queue_destroy(&c->q);
}

static void test_large_maxsize_grows_lazily(void **state)
{
    ctx_t c = { 0 };
    run(large_bound_main, &c);
}

/* ------------------------------------------------------------------------ */

static int timeout_main(void *arg)
{
    ctx_t *c = arg;
    co_timeout_t s;
    EXPECT_INT(co_queue_init(&c->q, 1), 0);
    void *it = P(-1);
    EXPECT_INT(co_timeout_begin(&s, 2), 0);
    EXPECT_INT(co_queue_get(&c->q, &it), -ETIMEDOUT);
    EXPECT_INT(co_timeout_end(&s), -ETIMEDOUT);
    EXPECT_INT(I(it), -1);

    EXPECT_INT(co_queue_put(&c->q, P(1)), 0);
    EXPECT_INT(co_timeout_begin(&s, 2), 0);
    EXPECT_INT(co_queue_put(&c->q, P(2)), -ETIMEDOUT);
    EXPECT_INT(co_timeout_end(&s), -ETIMEDOUT);
    EXPECT_INT(co_queue_size(&c->q), 1); /* the timed-out item is not in */
    EXPECT_INT(co_queue_get_nowait(&c->q, &it), 0);
    EXPECT_INT(I(it), 1);
    return co_queue_destroy(&c->q); /* -EBUSY if a timed-out waiter lingered */
}

static void test_timeout_scope(void **state)
{
    ctx_t c = { 0 };
    run(timeout_main, &c);
}

/* ------------------------------------------------------------------------ */

static int destroy_main(void *arg)
{
    ctx_t *c = arg;
    void *it;
    EXPECT_INT(co_queue_init(&c->q, 1), 0);

    who g = { c, 0, 0 };
    co_task_t t = co_spawn(getter, &g);
    co_yield();
    EXPECT_INT(co_queue_destroy(&c->q), -EBUSY); /* a getter waits */
    EXPECT_INT(co_queue_put(&c->q, P(1)), 0);
    EXPECT_INT(co_await(t), 0);

    EXPECT_INT(co_queue_put(&c->q, P(2)), 0);
    who p = { c, 5, 1 };
    t = co_spawn(putter, &p);
    co_yield();
    EXPECT_INT(co_queue_destroy(&c->q), -EBUSY); /* a putter waits */
    EXPECT_INT(co_queue_get(&c->q, &it), 0);
    EXPECT_INT(co_await(t), 0);

    /* Items left over (no waiter) do not stop a destroy. */
    EXPECT_INT(co_queue_size(&c->q), 1);
    EXPECT_INT(co_queue_destroy(&c->q), 0);
    EXPECT_INT(co_queue_put(&c->q, P(3)), -EINVAL);
    EXPECT_INT(co_queue_get(&c->q, &it), -EINVAL);
    EXPECT_INT(co_queue_put_nowait(&c->q, P(3)), -EINVAL);
    EXPECT_INT(co_queue_get_nowait(&c->q, &it), -EINVAL);
    EXPECT_INT(co_queue_task_done(&c->q), -EINVAL);
    EXPECT_INT(co_queue_join(&c->q), -EINVAL);
    EXPECT_INT(co_queue_size(&c->q), 0);
    EXPECT_INT(co_queue_destroy(&c->q), -EINVAL);
    return 0;
}

static void test_destroy(void **state)
{
    ctx_t c = { 0 };
    run(destroy_main, &c);
    assert_log(&c.log, 1, 51);
}

/* ------------------------------------------------------------------------ */
/* Outside a task the blocking calls are -EPERM; the nowait ones are plain
 * calls, and a put_nowait from a libuv callback feeds a waiting getter. */

static void uv_feed_cb(uv_timer_t *h)
{
    ctx_t *c = h->data;
    void *it;
    c->res[4] = co_queue_get(&c->q, &it);
    c->res[5] = co_queue_put(&c->q, P(1));
    c->res[6] = co_queue_join(&c->q);
    c->res[7] = co_queue_put_nowait(&c->q, P(42));
    uv_close((uv_handle_t *)h, NULL);
}

static int outside_main(void *arg)
{
    ctx_t *c = arg;
    EXPECT_INT(co_queue_init(&c->q, 0), 0);
    static uv_timer_t timer;
    uv_timer_init(co_loop_uv(co_loop_current()), &timer);
    timer.data = c;
    uv_timer_start(&timer, uv_feed_cb, 0, 0);
    void *it = NULL;
    EXPECT_INT(co_queue_get(&c->q, &it), 0);
    EXPECT_INT(I(it), 42);
    return co_queue_destroy(&c->q);
}

static void test_outside_task(void **state)
{
    ctx_t c = { 0 };
    void *it;
    assert_int_equal(co_queue_init(&c.q, 0), 0);
    assert_int_equal(co_queue_put(&c.q, P(1)), -EPERM);
    assert_int_equal(co_queue_get(&c.q, &it), -EPERM);
    assert_int_equal(co_queue_join(&c.q), -EPERM);
    assert_int_equal(co_queue_put_nowait(&c.q, P(1)), 0);
    assert_int_equal(co_queue_get_nowait(&c.q, &it), 0);
    assert_int_equal(I(it), 1);
    assert_int_equal(co_queue_task_done(&c.q), 0);
    assert_int_equal(co_queue_destroy(&c.q), 0);

    run(outside_main, &c);
    assert_int_equal(c.res[4], -EPERM);
    assert_int_equal(c.res[5], -EPERM);
    assert_int_equal(c.res[6], -EPERM);
    assert_int_equal(c.res[7], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fifo),
        cmocka_unit_test(test_bounded_put_blocks),
        cmocka_unit_test(test_blocked_putters_fifo),
        cmocka_unit_test(test_get_blocks_until_put),
        cmocka_unit_test(test_nowait),
        cmocka_unit_test(test_task_done_join),
        cmocka_unit_test(test_join_worker_pool),
        cmocka_unit_test(test_cancel_get_loses_nothing),
        cmocka_unit_test(test_get_cancelled_race),
        cmocka_unit_test(test_cancel_put_not_enqueued),
        cmocka_unit_test(test_unbounded_growth_keeps_order),
        cmocka_unit_test(test_large_maxsize_grows_lazily),
        cmocka_unit_test(test_timeout_scope),
        cmocka_unit_test(test_destroy),
        cmocka_unit_test(test_outside_task),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
