/* SPDX-License-Identifier: MIT */
/* test_combinators.c -- co_gather, co_wait and co_wait_for (runtime/
 * combinators.c).  Timeout scopes are in test_timeout.c, task groups in
 * test_group.c; the children they share are in children.h. */
#include "children.h"

/* ------------------------------------------------------------------------ */
/* co_gather                                                                 */

static int main_gather_collect(void *arg)
{
    order_log *lg = arg;
    child c[3];
    child_init(&c[0], lg, 1, 30, 10);
    child_init(&c[1], lg, 2, 10, -EIO);
    child_init(&c[2], lg, 3, 20, 30);
    co_task_t t[3];
    for (int i = 0; i < 3; i++) t[i] = co_spawn(child_body, &c[i]);
    int res[3] = { 1, 1, 1 };
    assert_int_equal(co_gather(t, 3, res, CO_GATHER_COLLECT), 0);
    assert_int_equal(res[0], 10);
    assert_int_equal(res[1], -EIO);
    assert_int_equal(res[2], 30);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(co_task_state_of(t[i]), -ESRCH); /* consumed */
        assert_int_equal(c[i].cleaned, 0);
    }
    return 0;
}

static void test_gather_collect(void **state)
{
    order_log lg = { .n = 0 };
    assert_int_equal(run_main(main_gather_collect, &lg), 0);
    assert_log(&lg, 2, 3, 1);
}

static int main_gather_ok(void *arg)
{
    co_task_t t[4];
    for (int i = 0; i < 4; i++) t[i] = co_spawn(sleep_ms, P(4 - i));
    int res[4];
    assert_int_equal(co_gather(t, 4, res, 0), 0);
    for (int i = 0; i < 4; i++) assert_int_equal(res[i], 4 - i);
    /* results may be NULL */
    for (int i = 0; i < 2; i++) t[i] = co_spawn(return_arg, P(i));
    assert_int_equal(co_gather(t, 2, NULL, 0), 0);
    assert_int_equal(co_task_state_of(t[0]), -ESRCH);
    assert_int_equal(co_gather(t, 0, NULL, 0), 0);
    return 0;
}

static void test_gather_all_succeed(void **state)
{
    assert_int_equal(run_main(main_gather_ok, NULL), 0);
}

static int main_gather_first_failure(void *arg)
{
    order_log *lg = arg;
    child c[3];
    child_init(&c[0], lg, 1, FOREVER, 0);
    child_init(&c[1], lg, 2, 10, -EIO);
    child_init(&c[2], lg, 3, FOREVER, 0);
    co_task_t t[3];
    for (int i = 0; i < 3; i++) t[i] = co_spawn(child_body, &c[i]);
    int res[3] = { 1, 1, 1 };
    uint64_t t0 = co_now_ms();
    assert_int_equal(co_gather(t, 3, res, 0), -EIO);
    assert_true(co_now_ms() - t0 < 10000);
    assert_int_equal(res[0], -ECANCELED);
    assert_int_equal(res[1], -EIO);
    assert_int_equal(res[2], -ECANCELED);
    /* The others were cancelled and waited for: their cleanup finished. */
    assert_int_equal(c[0].sleep_r, -ECANCELED);
    assert_int_equal(c[0].cleanup_r, 0);
    assert_int_equal(c[2].sleep_r, -ECANCELED);
    assert_int_equal(c[2].cleanup_r, 0);
    for (int i = 0; i < 3; i++) assert_int_equal(co_task_state_of(t[i]), -ESRCH);
    assert_int_equal(co_all_tasks(NULL, 0), 1);
    return 0;
}

static void test_gather_first_failure_cancels_others(void **state)
{
    order_log lg = { .n = 0 };
    assert_int_equal(run_main(main_gather_first_failure, &lg), 0);
    assert_log(&lg, 2, -1, -3);
}

/* A child that is cancelled (not failed) also takes the gather down. */
static int main_gather_child_cancelled(void *arg)
{
    child c[2];
    child_init(&c[0], NULL, 1, FOREVER, 0);
    child_init(&c[1], NULL, 2, FOREVER, 0);
    co_task_t t[2];
    for (int i = 0; i < 2; i++) t[i] = co_spawn(child_body, &c[i]);
    assert_int_equal(co_yield(), 0);
    assert_int_equal(co_cancel(t[1]), 1);
    int res[2];
    assert_int_equal(co_gather(t, 2, res, 0), -ECANCELED);
    assert_int_equal(res[0], -ECANCELED);
    assert_int_equal(res[1], -ECANCELED);
    assert_int_equal(c[0].cleanup_r, 0);
    return 0;
}

static void test_gather_child_cancelled(void **state)
{
    assert_int_equal(run_main(main_gather_child_cancelled, NULL), 0);
}

static int main_gather_ended(void *arg)
{
    co_task_t t[3];
    t[0] = co_spawn(return_arg, P(5));
    t[1] = co_spawn(return_arg, P(6));
    t[2] = co_spawn(return_arg, P(7));
    assert_int_equal(co_yield(), 0);
    for (int i = 0; i < 3; i++) assert_int_equal(co_task_done(t[i]), 1);
    int res[3];
    assert_int_equal(co_gather(t, 3, res, 0), 0);
    assert_int_equal(res[0], 5);
    assert_int_equal(res[1], 6);
    assert_int_equal(res[2], 7);

    /* An already-failed task: its error is returned, a live sibling is
     * cancelled and collected. */
    child c;
    child_init(&c, NULL, 1, FOREVER, 0);
    t[0] = co_spawn(fail_eio, NULL);
    assert_int_equal(co_yield(), 0);
    t[1] = co_spawn(child_body, &c);
    assert_int_equal(co_gather(t, 2, res, 0), -EIO);
    assert_int_equal(res[0], -EIO);
    assert_int_equal(res[1], -ECANCELED);
    assert_int_equal(c.sleep_r, 1); /* cancelled before it ever ran */

    /* Same with COLLECT: nothing is cancelled. */
    t[0] = co_spawn(fail_eio, NULL);
    assert_int_equal(co_yield(), 0);
    t[1] = co_spawn(sleep_ms, P(5));
    assert_int_equal(co_gather(t, 2, res, CO_GATHER_COLLECT), 0);
    assert_int_equal(res[0], -EIO);
    assert_int_equal(res[1], 5);
    return 0;
}

static void test_gather_already_ended(void **state)
{
    assert_int_equal(run_main(main_gather_ended, NULL), 0);
}

typedef struct {
    child c[2];
    co_task_t t[2];
    int res[2];
    int r;
} outer_gather;

static int gathers(void *arg)
{
    outer_gather *g = arg;
    for (int i = 0; i < 2; i++) g->t[i] = co_spawn(child_body, &g->c[i]);
    g->r = co_gather(g->t, 2, g->res, CO_GATHER_COLLECT);
    return g->r;
}

static int main_gather_cancelled(void *arg)
{
    order_log *lg = arg;
    outer_gather g = { .r = 1, .res = { 1, 1 } };
    child_init(&g.c[0], lg, 1, FOREVER, 0);
    child_init(&g.c[1], lg, 2, FOREVER, 0);
    co_task_t gt = co_spawn(gathers, &g);
    assert_int_equal(co_yield(), 0); /* gathers spawns its children and waits */
    assert_int_equal(co_yield(), 0); /* the children start their sleep */
    assert_int_equal(co_task_state_of(gt), CO_TASK_WAITING);
    assert_int_equal(co_task_state_of(g.t[0]), CO_TASK_WAITING);
    assert_int_equal(co_cancel(gt), 1);
    assert_int_equal(co_await(gt), -ECANCELED);
    assert_int_equal(g.r, -ECANCELED);
    assert_int_equal(g.res[0], -ECANCELED);
    assert_int_equal(g.res[1], -ECANCELED);
    assert_int_equal(g.c[0].cleanup_r, 0);
    assert_int_equal(g.c[1].cleanup_r, 0);
    assert_int_equal(co_all_tasks(NULL, 0), 1);
    return 0;
}

static void test_gather_cancelled_from_outside(void **state)
{
    order_log lg = { .n = 0 };
    assert_int_equal(run_main(main_gather_cancelled, &lg), 0);
    assert_log(&lg, -1, -2);
}

static int gather_self(void *arg)
{
    co_task_t t[1] = { co_current() };
    int res[1] = { 1 };
    int r = co_gather(t, 1, res, CO_GATHER_COLLECT);
    assert_int_equal(res[0], -EDEADLK);
    return r;
}

static int main_gather_misuse(void *arg)
{
    co_task_t t[3];
    int res[3];
    /* A stale handle: -ESRCH in its slot; the others are still collected. */
    t[0] = co_spawn(return_arg, P(1));
    assert_int_equal(co_await(t[0]), 1);
    t[1] = co_spawn(return_arg, P(2));
    t[2] = co_spawn(return_arg, P(3));
    assert_int_equal(co_gather(t, 3, res, CO_GATHER_COLLECT), -ESRCH);
    assert_int_equal(res[0], -ESRCH);
    assert_int_equal(res[1], 2);
    assert_int_equal(res[2], 3);
    assert_int_equal(co_task_state_of(t[1]), -ESRCH);

    /* The same task twice: the second slot is refused. */
    t[0] = co_spawn(return_arg, P(4));
    t[1] = t[0];
    assert_int_equal(co_gather(t, 2, res, CO_GATHER_COLLECT), -EINVAL);
    assert_int_equal(res[0], 4);
    assert_int_equal(res[1], -EINVAL);

    /* A detached task cannot be gathered. */
    t[0] = co_spawn(return_arg, P(1));
    assert_int_equal(co_detach(t[0]), 0);
    assert_int_equal(co_gather(t, 1, res, 0), -EINVAL);
    assert_int_equal(res[0], -EINVAL);

    co_task_t s = co_spawn(gather_self, NULL);
    assert_int_equal(co_await(s), -EDEADLK);
    return 0;
}

static void test_gather_misuse(void **state)
{
    co_task_t none[1] = { { 0 } };
    assert_int_equal(co_gather(none, 1, NULL, 0), -EPERM);
    assert_int_equal(run_main(main_gather_misuse, NULL), 0);
}

/* ------------------------------------------------------------------------ */
/* co_wait                                                                   */

static int main_wait_all(void *arg)
{
    co_task_t t[3];
    for (int i = 0; i < 3; i++) t[i] = co_spawn(sleep_ms, P(10 * (3 - i)));
    assert_int_equal(co_wait(t, 3, CO_WAIT_ALL, CO_NO_TIMEOUT), 3);
    /* Not consumed: each is still ours to await. */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(co_task_done(t[i]), 1);
        assert_int_equal(co_await(t[i]), 10 * (3 - i));
    }
    /* With a timeout that is not reached. */
    uint64_t t0 = co_now_ms();
    for (int i = 0; i < 3; i++) t[i] = co_spawn(sleep_ms, P(i + 1));
    assert_int_equal(co_wait(t, 3, CO_WAIT_ALL, 20000), 3);
    assert_true(co_now_ms() - t0 < 10000);
    for (int i = 0; i < 3; i++) assert_int_equal(co_await(t[i]), i + 1);
    /* Already ended: returns at once. */
    t[0] = co_spawn(return_arg, P(0));
    assert_int_equal(co_yield(), 0);
    assert_int_equal(co_wait(t, 1, CO_WAIT_ALL, 0), 1);
    assert_int_equal(co_await(t[0]), 0);
    assert_int_equal(co_wait(t, 0, CO_WAIT_ALL, CO_NO_TIMEOUT), 0);
    return 0;
}

static void test_wait_all(void **state)
{
    assert_int_equal(run_main(main_wait_all, NULL), 0);
}

static int main_wait_all_timeout(void *arg)
{
    co_event_t e;
    co_event_init(&e);
    co_task_t t[2];
    t[0] = co_spawn(sleep_ms, P(5));
    t[1] = co_spawn(waits_event, &e);
    assert_int_equal(co_wait(t, 2, CO_WAIT_ALL, 100), 1);
    assert_int_equal(co_task_done(t[0]), 1);
    assert_int_equal(co_task_done(t[1]), 0);
    assert_int_equal(co_task_state_of(t[1]), CO_TASK_WAITING); /* not cancelled */
    /* None ended: 0. */
    assert_int_equal(co_wait(&t[1], 1, CO_WAIT_ALL, 10), 0);
    assert_int_equal(co_wait(&t[1], 1, CO_WAIT_FIRST_COMPLETED, 0), 0);
    /* Our own timeout is not an error: the next await is unaffected. */
    assert_int_equal(co_sleep(1), 0);
    assert_int_equal(co_event_set(&e), 0);
    assert_int_equal(co_await(t[0]), 5);
    assert_int_equal(co_await(t[1]), 77);
    return 0;
}

static void test_wait_all_timeout(void **state)
{
    assert_int_equal(run_main(main_wait_all_timeout, NULL), 0);
}

static int main_wait_first_completed(void *arg)
{
    co_event_t e;
    co_event_init(&e);
    co_task_t t[3];
    t[0] = co_spawn(waits_event, &e);
    t[1] = co_spawn(sleep_ms, P(10));
    t[2] = co_spawn(sleep_ms, P(FOREVER));
    assert_int_equal(co_wait(t, 3, CO_WAIT_FIRST_COMPLETED, CO_NO_TIMEOUT), 1);
    assert_int_equal(co_task_done(t[0]), 0);
    assert_int_equal(co_task_done(t[1]), 1);
    assert_int_equal(co_task_done(t[2]), 0);
    /* With one already done: at once, whatever the others do. */
    assert_int_equal(co_event_set(&e), 0);
    assert_int_equal(co_wait(t, 3, CO_WAIT_FIRST_COMPLETED, 20000), 1);
    assert_int_equal(co_task_done(t[0]), 0); /* woken, has not run yet */
    /* With a timeout that is not reached. */
    assert_int_equal(co_wait(t, 1, CO_WAIT_FIRST_COMPLETED, 20000), 1);
    assert_int_equal(co_task_done(t[0]), 1);
    assert_int_equal(co_await(t[0]), 77);
    assert_int_equal(co_await(t[1]), 10);
    assert_int_equal(co_cancel(t[2]), 1);
    assert_int_equal(co_await(t[2]), -ECANCELED);
    return 0;
}

static void test_wait_first_completed(void **state)
{
    assert_int_equal(run_main(main_wait_first_completed, NULL), 0);
}

static int sleep_then_fail(void *arg)
{
    int r = co_sleep(I(arg));
    return r < 0 ? r : -EIO;
}

static int main_wait_first_error(void *arg)
{
    co_event_t e;
    co_event_init(&e);
    co_task_t t[3];
    t[0] = co_spawn(sleep_ms, P(5));           /* ends first, but succeeds */
    t[1] = co_spawn(sleep_then_fail, P(30));
    t[2] = co_spawn(waits_event, &e);
    assert_int_equal(co_wait(t, 3, CO_WAIT_FIRST_ERROR, CO_NO_TIMEOUT), 2);
    assert_int_equal(co_task_state_of(t[0]), CO_TASK_DONE);
    assert_int_equal(co_task_state_of(t[1]), CO_TASK_FAILED);
    assert_int_equal(co_task_state_of(t[2]), CO_TASK_WAITING);
    /* An already-failed task satisfies it at once. */
    assert_int_equal(co_wait(&t[1], 2, CO_WAIT_FIRST_ERROR, CO_NO_TIMEOUT), 1);
    /* No error at all: behaves as ALL; with a short timeout, what is done. */
    assert_int_equal(co_wait(&t[2], 1, CO_WAIT_FIRST_ERROR, 10), 0);
    assert_int_equal(co_event_set(&e), 0);
    assert_int_equal(co_wait(&t[2], 1, CO_WAIT_FIRST_ERROR, 20000), 1);
    assert_int_equal(co_wait(t, 3, CO_WAIT_FIRST_ERROR, 20000), 3);
    assert_int_equal(co_await(t[0]), 5);
    assert_int_equal(co_await(t[1]), -EIO);
    assert_int_equal(co_await(t[2]), 77);
    return 0;
}

static void test_wait_first_error(void **state)
{
    assert_int_equal(run_main(main_wait_first_error, NULL), 0);
}

typedef struct { co_task_t t[2]; int r; } waiter_st;

static int waits_on_both(void *arg)
{
    waiter_st *w = arg;
    w->r = co_wait(w->t, 2, CO_WAIT_ALL, CO_NO_TIMEOUT);
    return w->r;
}

static int main_wait_cancelled(void *arg)
{
    co_event_t e;
    co_event_init(&e);
    waiter_st w = { .r = 1 };
    w.t[0] = co_spawn(waits_event, &e);
    w.t[1] = co_spawn(sleep_ms, P(FOREVER));
    co_task_t wt = co_spawn(waits_on_both, &w);
    assert_int_equal(co_yield(), 0);
    assert_int_equal(co_cancel(wt), 1);
    assert_int_equal(co_await(wt), -ECANCELED);
    assert_int_equal(w.r, -ECANCELED);
    /* co_wait does not cancel what it waits on. */
    assert_int_equal(co_task_state_of(w.t[0]), CO_TASK_WAITING);
    assert_int_equal(co_task_state_of(w.t[1]), CO_TASK_WAITING);
    /* Its watchers are gone: the tasks end and are collected normally. */
    assert_int_equal(co_event_set(&e), 0);
    assert_int_equal(co_cancel(w.t[1]), 1);
    assert_int_equal(co_await(w.t[0]), 77);
    assert_int_equal(co_await(w.t[1]), -ECANCELED);
    return 0;
}

static void test_wait_cancelled(void **state)
{
    assert_int_equal(run_main(main_wait_cancelled, NULL), 0);
}

/* co_wait does not own what it waits on: another task may collect it, or it
 * may be detached and freed, before co_wait gets to count it. */
typedef struct { co_task_t t; co_event_t e; } shared_target;

static int awaits_target(void *arg)
{
    shared_target *st = arg;
    return co_await(st->t);
}

static int sets_event(void *arg)
{
    return co_event_set((co_event_t *)arg);
}

static int main_wait_not_owner(void *arg)
{
    shared_target st;
    co_event_init(&st.e);
    st.t = co_spawn(waits_event, &st.e);
    co_task_t a = co_spawn(awaits_target, &st);
    co_task_t s = co_spawn(sets_event, &st.e);
    /* The awaiter watches st.t after us, so it is woken first and frees
     * st.t before we run again. */
    assert_int_equal(co_wait(&st.t, 1, CO_WAIT_ALL, CO_NO_TIMEOUT), 1);
    assert_int_equal(co_task_state_of(st.t), -ESRCH);
    assert_int_equal(co_await(a), 77);
    assert_int_equal(co_await(s), 0);

    /* Detached: freed as soon as it ends. */
    co_task_t d = co_spawn(sleep_ms, P(5));
    assert_int_equal(co_detach(d), 0);
    assert_int_equal(co_wait(&d, 1, CO_WAIT_FIRST_COMPLETED, 20000), 1);
    assert_int_equal(co_task_state_of(d), -ESRCH);
    return 0;
}

static void test_wait_not_owner(void **state)
{
    assert_int_equal(run_main(main_wait_not_owner, NULL), 0);
}

/* Issue 15: a negative timeout has expired (it used to mean "forever");
 * only CO_NO_TIMEOUT means none.  co_wait counts what has ended and leaves
 * the rest alone. */
static int main_wait_negative_timeout(void *arg)
{
    co_event_t e;
    co_event_init(&e);
    co_task_t t = co_spawn(waits_event, &e);
    EXPECT_INT(co_yield(), 0);
    uint64_t t0 = co_now_ms();
    EXPECT_INT(co_wait(&t, 1, CO_WAIT_ALL, -1), 0);
    EXPECT_INT(co_wait(&t, 1, CO_WAIT_FIRST_COMPLETED, -11000), 0);
    EXPECT_INT(co_wait(&t, 1, CO_WAIT_ALL, 0), 0);
    EXPECT_TRUE(co_now_ms() - t0 < 5000);
    EXPECT_INT(co_task_state_of(t), CO_TASK_WAITING); /* not cancelled */
    EXPECT_INT(co_sleep(1), 0); /* our own timeout is no error for later awaits */
    EXPECT_INT(co_event_set(&e), 0);
    EXPECT_INT(co_wait(&t, 1, CO_WAIT_ALL, CO_NO_TIMEOUT), 1);
    EXPECT_INT(co_await(t), 77);
    return 0;
}

static void test_wait_negative_timeout(void **state)
{
    run(main_wait_negative_timeout, NULL);
}

/* Issue 15 (asyncio's test_wait_really_done): a ends after one yield, b
 * after two; FIRST_COMPLETED counts both, as asyncio's `done` has both.  It
 * used to wake at a's end and count 1. */
static int yields_n(void *arg)
{
    for (int i = 0; i < I(arg); i++)
        if (co_yield() < 0) return -ECANCELED;
    return I(arg);
}

static int main_wait_really_done(void *arg)
{
    co_task_t t[2];
    t[1] = co_spawn(yields_n, P(1));
    t[0] = co_spawn(yields_n, P(2));
    EXPECT_INT(co_wait(t, 2, CO_WAIT_FIRST_COMPLETED, CO_NO_TIMEOUT), 2);
    EXPECT_INT(co_task_done(t[0]), 1);
    EXPECT_INT(co_task_done(t[1]), 1);
    EXPECT_INT(co_await(t[0]), 2);
    EXPECT_INT(co_await(t[1]), 1);
    return 0;
}

static void test_wait_really_done(void **state)
{
    run(main_wait_really_done, NULL);
}

static int main_wait_misuse(void *arg)
{
    co_task_t t[2];
    t[0] = co_spawn(return_arg, P(1));
    assert_int_equal(co_wait(t, 1, 7, CO_NO_TIMEOUT), -EINVAL);
    assert_int_equal(co_wait(t, 1, -1, CO_NO_TIMEOUT), -EINVAL);
    t[1] = co_current();
    assert_int_equal(co_wait(t, 2, CO_WAIT_ALL, CO_NO_TIMEOUT), -EDEADLK);
    assert_int_equal(co_await(t[0]), 1);
    assert_int_equal(co_wait(t, 1, CO_WAIT_ALL, CO_NO_TIMEOUT), -ESRCH);
    return 0;
}

static void test_wait_misuse(void **state)
{
    co_task_t none[1] = { { 0 } };
    assert_int_equal(co_wait(none, 1, CO_WAIT_ALL, CO_NO_TIMEOUT), -EPERM);
    assert_int_equal(run_main(main_wait_misuse, NULL), 0);
}

/* ------------------------------------------------------------------------ */
/* co_wait_for                                                               */

static int main_wait_for(void *arg)
{
    co_task_t t = co_spawn(sleep_ms, P(5));
    assert_int_equal(co_wait_for(t, 20000), 5);
    assert_int_equal(co_task_state_of(t), -ESRCH);
    t = co_spawn(sleep_then_fail, P(1));
    assert_int_equal(co_wait_for(t, 20000), -EIO);
    /* Already ended. */
    t = co_spawn(return_arg, P(8));
    assert_int_equal(co_yield(), 0);
    assert_int_equal(co_wait_for(t, 0), 8);
    /* Misuse. */
    assert_int_equal(co_wait_for(t, 10), -ESRCH);
    assert_int_equal(co_wait_for(co_current(), 10), -EDEADLK);
    return 0;
}

static void test_wait_for_success(void **state)
{
    co_task_t none = { 0 };
    assert_int_equal(co_wait_for(none, 1), -EPERM);
    assert_int_equal(run_main(main_wait_for, NULL), 0);
}

static int main_wait_for_timeout(void *arg)
{
    order_log *lg = arg;
    child c;
    child_init(&c, lg, 1, FOREVER, 0);
    co_task_t t = co_spawn(child_body, &c);
    uint64_t t0 = co_now_ms();
    assert_int_equal(co_wait_for(t, 20), -ETIMEDOUT);
    assert_true(co_now_ms() - t0 < 10000);
    log_add(lg, 0);
    /* The child was cancelled and its cleanup (which awaits) finished
     * before co_wait_for returned. */
    assert_int_equal(c.sleep_r, -ECANCELED);
    assert_int_equal(c.cleanup_r, 0);
    assert_int_equal(c.cleaned, 1);
    assert_int_equal(co_task_state_of(t), -ESRCH);
    /* The timeout was ours: later awaits are unaffected. */
    assert_int_equal(co_sleep(1), 0);
    return 0;
}

static void test_wait_for_timeout(void **state)
{
    order_log lg = { .n = 0 };
    assert_int_equal(run_main(main_wait_for_timeout, &lg), 0);
    assert_log(&lg, -1, 0);
}

typedef struct { child c; int r; } wf_outer;

static int wait_for_long(void *arg)
{
    wf_outer *w = arg;
    co_task_t t = co_spawn(child_body, &w->c);
    w->r = co_wait_for(t, FOREVER);
    return w->r;
}

/* Issue 15 (asyncio's test_wait_for_timeout_less_then_0_or_0): a timeout
 * of 0 or less has expired: the task is cancelled at once and -ETIMEDOUT
 * returned (a negative one used to wait forever).  A task that has already
 * ended gives its result. */
static int main_wait_for_negative(void *arg)
{
    int64_t past[] = { 0, -1, -11000 };
    for (int i = 0; i < 3; i++) {
        child c;
        child_init(&c, NULL, 1, FOREVER, 0);
        co_task_t t = co_spawn(child_body, &c);
        EXPECT_INT(co_yield(), 0);
        uint64_t t0 = co_now_ms();
        EXPECT_INT(co_wait_for(t, past[i]), -ETIMEDOUT);
        EXPECT_TRUE(co_now_ms() - t0 < 5000);
        EXPECT_INT(c.sleep_r, -ECANCELED);
        EXPECT_INT(c.cleaned, 1);
    }
    co_task_t t = co_spawn(return_arg, P(8));
    EXPECT_INT(co_yield(), 0);
    EXPECT_INT(co_wait_for(t, -1), 8);
    t = co_spawn(sleep_ms, P(5));
    EXPECT_INT(co_wait_for(t, CO_NO_TIMEOUT), 5);
    return 0;
}

static void test_wait_for_zero_or_negative(void **state)
{
    run(main_wait_for_negative, NULL);
}

/* A task that swallows its cancellation: co_wait_for returns what it
 * returns (asyncio.wait_for returns fut.result() too), not -ETIMEDOUT. */
static int swallows_cancel(void *arg)
{
    int r = co_sleep(FOREVER);
    EXPECT_INT(r, -ECANCELED);
    EXPECT_INT(co_sleep(1), 0); /* cleanup that awaits */
    return I(arg);
}

static int main_wait_for_swallowed(void *arg)
{
    co_task_t t = co_spawn(swallows_cancel, P(42));
    EXPECT_INT(co_wait_for(t, 10), 42);
    t = co_spawn(swallows_cancel, P(-EIO));
    EXPECT_INT(co_wait_for(t, 10), -EIO);
    return 0;
}

static void test_wait_for_swallowed_cancel(void **state)
{
    run(main_wait_for_swallowed, NULL);
}

static int main_wait_for_cancelled(void *arg)
{
    wf_outer w = { .r = 1 };
    child_init(&w.c, NULL, 1, FOREVER, 0);
    co_task_t t = co_spawn(wait_for_long, &w);
    assert_int_equal(co_yield(), 0);
    assert_int_equal(co_cancel(t), 1);
    assert_int_equal(co_await(t), -ECANCELED);
    assert_int_equal(w.r, -ECANCELED);
    assert_int_equal(w.c.sleep_r, -ECANCELED); /* the child was cancelled too */
    assert_int_equal(w.c.cleanup_r, 0);
    assert_int_equal(co_all_tasks(NULL, 0), 1);
    return 0;
}

static void test_wait_for_cancelled(void **state)
{
    assert_int_equal(run_main(main_wait_for_cancelled, NULL), 0);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        T(test_gather_collect),
        T(test_gather_all_succeed),
        T(test_gather_first_failure_cancels_others),
        T(test_gather_child_cancelled),
        T(test_gather_already_ended),
        T(test_gather_cancelled_from_outside),
        T(test_gather_misuse),
        T(test_wait_all),
        T(test_wait_all_timeout),
        T(test_wait_first_completed),
        T(test_wait_first_error),
        T(test_wait_cancelled),
        T(test_wait_not_owner),
        T(test_wait_negative_timeout),
        T(test_wait_really_done),
        T(test_wait_misuse),
        T(test_wait_for_success),
        T(test_wait_for_timeout),
        T(test_wait_for_zero_or_negative),
        T(test_wait_for_swallowed_cancel),
        T(test_wait_for_cancelled),
    };
    if (argc > 1) cmocka_set_test_filter(argv[1]); /* e.g. 'test_wait_*' */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
