/* SPDX-License-Identifier: MIT */
/* test_group.c -- task groups (runtime/group.c): waiting for all children,
 * the first failure cancelling the siblings, cancellation of the waiter. */
#include "children.h"

/* ------------------------------------------------------------------------ */
/* Task groups                                                               */

static int main_group_all(void *arg)
{
    order_log *lg = arg;
    co_group_t g;
    co_group_init(&g);
    child c[3];
    child_init(&c[0], lg, 1, 30, 0);
    child_init(&c[1], lg, 2, 10, 0);
    child_init(&c[2], lg, 3, 20, 5);
    for (int i = 0; i < 3; i++) assert_int_equal(co_group_spawn(&g, child_body, &c[i]), 0);
    assert_int_equal(co_all_tasks(NULL, 0), 4);
    log_add(lg, 0); /* children have not run yet */
    assert_int_equal(co_group_wait(&g), 0);
    log_add(lg, 4);
    assert_int_equal(g.count, 0);
    /* Children are freed with the group: nothing left to collect. */
    assert_int_equal(co_all_tasks(NULL, 0), 1);
    /* A group is used once. */
    assert_int_equal(co_group_wait(&g), -EINVAL);
    assert_int_equal(co_group_spawn(&g, child_body, &c[0]), -EINVAL);

    co_group_t empty;
    co_group_init(&empty);
    assert_int_equal(co_group_wait(&empty), 0);
    return 0;
}

static void test_group_waits_for_all(void **state)
{
    order_log lg = { .n = 0 };
    assert_int_equal(run_main(main_group_all, &lg), 0);
    assert_log(&lg, 0, 2, 3, 1, 4);
}

static int main_group_failure(void *arg)
{
    order_log *lg = arg;
    co_group_t g;
    co_group_init(&g);
    child c[4];
    child_init(&c[0], lg, 1, FOREVER, 0);
    child_init(&c[1], lg, 2, 10, -EIO);
    child_init(&c[2], lg, 3, FOREVER, 0);
    /* Would fail later; is cancelled first.  Its timer is far enough after
     * the failing child's that a stalled loop does not find both due in one
     * pass: then both would wake before the failure, and a wake is final
     * (co_cancel), so its sleep would return 0. */
    child_init(&c[3], lg, 4, 2000, -EPIPE);
    for (int i = 0; i < 4; i++) assert_int_equal(co_group_spawn(&g, child_body, &c[i]), 0);
    uint64_t t0 = co_now_ms();
    assert_int_equal(co_group_wait(&g), -EIO);
    assert_true(co_now_ms() - t0 < 10000);
    for (int i = 0; i < 4; i++) {
        if (i == 1) continue;
        assert_int_equal(c[i].sleep_r, -ECANCELED);
        assert_int_equal(c[i].cleanup_r, 0);
    }
    assert_int_equal(co_all_tasks(NULL, 0), 1);
    return 0;
}

static void test_group_failure_cancels_siblings(void **state)
{
    order_log lg = { .n = 0 };
    assert_int_equal(run_main(main_group_failure, &lg), 0);
    assert_int_equal(lg.n, 4);
    assert_int_equal(lg.v[0], 2);
    /* The cancelled three clean up in some order after the failure. */
    int seen = 0;
    for (int i = 1; i < 4; i++) seen |= 1 << -lg.v[i];
    assert_int_equal(seen, (1 << 1) | (1 << 3) | (1 << 4));
}

/* A group spawn after a child already failed is cancelled at once. */
static int main_group_spawn_after_failure(void *arg)
{
    co_group_t g;
    co_group_init(&g);
    assert_int_equal(co_group_spawn(&g, fail_eio, NULL), 0);
    assert_int_equal(co_yield(), -ECANCELED); /* the failure cancels the owner too */
    assert_int_equal(g.first_error, -EIO);
    child c;
    child_init(&c, NULL, 1, FOREVER, 0);
    assert_int_equal(co_group_spawn(&g, child_body, &c), 0);
    assert_int_equal(co_group_wait(&g), -EIO);
    assert_int_equal(c.sleep_r, 1); /* cancelled before it first ran */
    return 0;
}

static void test_group_spawn_after_failure(void **state)
{
    assert_int_equal(run_main(main_group_spawn_after_failure, NULL), 0);
}

typedef struct { co_group_t g; child c[2]; int r; } group_owner;

static int runs_group(void *arg)
{
    group_owner *o = arg;
    co_group_init(&o->g);
    for (int i = 0; i < 2; i++) co_group_spawn(&o->g, child_body, &o->c[i]);
    o->r = co_group_wait(&o->g);
    return o->r;
}

static int main_group_cancelled(void *arg)
{
    order_log *lg = arg;
    group_owner o = { .r = 1 };
    child_init(&o.c[0], lg, 1, FOREVER, 0);
    child_init(&o.c[1], lg, 2, FOREVER, 0);
    co_task_t t = co_spawn(runs_group, &o);
    assert_int_equal(co_yield(), 0);
    assert_int_equal(co_task_state_of(t), CO_TASK_WAITING);
    assert_int_equal(co_all_tasks(NULL, 0), 4);
    assert_int_equal(co_cancel(t), 1);
    assert_int_equal(co_await(t), -ECANCELED);
    assert_int_equal(o.r, -ECANCELED);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(o.c[i].sleep_r, -ECANCELED);
        assert_int_equal(o.c[i].cleanup_r, 0);
    }
    assert_int_equal(co_all_tasks(NULL, 0), 1);
    return 0;
}

static void test_group_waiter_cancelled(void **state)
{
    order_log lg = { .n = 0 };
    assert_int_equal(run_main(main_group_cancelled, &lg), 0);
    assert_int_equal(lg.n, 2);
}

static int main_group_scope(void *arg)
{
    co_group_t g;
    co_group_init(&g);
    child c[2];
    child_init(&c[0], NULL, 1, FOREVER, 0);
    child_init(&c[1], NULL, 2, 5, 0);
    for (int i = 0; i < 2; i++) assert_int_equal(co_group_spawn(&g, child_body, &c[i]), 0);
    co_timeout_t s;
    assert_int_equal(co_timeout_begin(&s, 30), 0);
    assert_int_equal(co_group_wait(&g), -ETIMEDOUT);
    assert_int_equal(co_timeout_end(&s), -ETIMEDOUT);
    assert_int_equal(c[0].sleep_r, -ECANCELED);
    assert_int_equal(c[0].cleanup_r, 0);
    assert_int_equal(c[1].sleep_r, 0);
    assert_int_equal(co_all_tasks(NULL, 0), 1);
    return 0;
}

static void test_group_in_timeout_scope(void **state)
{
    assert_int_equal(run_main(main_group_scope, NULL), 0);
}

/* Issue 15 (asyncio's test_cancel_children_on_child_error): a child's
 * failure cancels the owner's own awaits before co_group_wait, as asyncio
 * cancels the body of `async with TaskGroup()`; co_group_wait returns the
 * child's error and takes the group's cancellation back.  The owner's awaits
 * used to run on. */
typedef struct { int body_r, wait_r, cancelling_before, cancelling_after, next_r; } owner_st;

static int owner_body(void *arg)
{
    owner_st *o = arg;
    co_group_t g;
    co_group_init(&g);
    EXPECT_INT(co_group_spawn(&g, fail_eio, NULL), 0);
    o->body_r = co_sleep(FOREVER); /* the body's own work */
    o->cancelling_before = co_cancelling();
    o->wait_r = co_group_wait(&g);
    o->cancelling_after = co_cancelling();
    o->next_r = co_sleep(1); /* nothing left pending */
    return 0;
}

/* The same, the owner's cancellation not yet delivered when it waits: the
 * failure comes during a body that does not await. */
static int owner_no_await(void *arg)
{
    owner_st *o = arg;
    co_group_t g;
    co_group_init(&g);
    EXPECT_INT(co_group_spawn(&g, fail_eio, NULL), 0);
    /* x ends in the turn the child fails: co_await returns x's result and
     * the owner's cancellation stays pending, for co_group_wait to take. */
    co_task_t x = co_spawn(return_arg, P(3));
    o->body_r = co_await(x);
    o->cancelling_before = co_cancelling();
    o->wait_r = co_group_wait(&g);
    o->cancelling_after = co_cancelling();
    o->next_r = co_sleep(1);
    return 0;
}

/* Cancelled from outside as well: that cancellation stays. */
static int owner_also_cancelled(void *arg)
{
    owner_st *o = arg;
    co_group_t g;
    co_group_init(&g);
    EXPECT_INT(co_group_spawn(&g, fail_eio, NULL), 0);
    o->body_r = co_sleep(FOREVER);
    EXPECT_INT(co_cancel(co_current()), 1); /* not the group's */
    o->cancelling_before = co_cancelling();
    o->wait_r = co_group_wait(&g);
    o->cancelling_after = co_cancelling();
    o->next_r = co_sleep(1);
    return 0;
}

static int main_group_cancels_owner(void *arg)
{
    owner_st o = { 1, 1, -1, -1, 1 };
    co_task_t t = co_spawn(owner_body, &o);
    uint64_t t0 = co_now_ms();
    EXPECT_INT(co_await(t), 0);
    EXPECT_TRUE(co_now_ms() - t0 < 10000);
    EXPECT_INT(o.body_r, -ECANCELED);
    EXPECT_INT(o.cancelling_before, 1);
    EXPECT_INT(o.wait_r, -EIO);
    EXPECT_INT(o.cancelling_after, 0);
    EXPECT_INT(o.next_r, 0);

    owner_st p = { 1, 1, -1, -1, 1 };
    t = co_spawn(owner_no_await, &p);
    EXPECT_INT(co_await(t), 0);
    EXPECT_INT(p.body_r, 3);
    EXPECT_INT(p.cancelling_before, 1);
    EXPECT_INT(p.wait_r, -EIO);
    EXPECT_INT(p.cancelling_after, 0);
    EXPECT_INT(p.next_r, 0);

    owner_st q = { 1, 1, -1, -1, 1 };
    t = co_spawn(owner_also_cancelled, &q);
    EXPECT_INT(co_await(t), 0);
    EXPECT_INT(q.body_r, -ECANCELED);
    EXPECT_INT(q.cancelling_before, 2);
    EXPECT_INT(q.wait_r, -EIO);
    EXPECT_INT(q.cancelling_after, 1);
    EXPECT_INT(q.next_r, -ECANCELED); /* still pending */

    return 0;
}

static void test_group_failure_cancels_owner(void **state)
{
    run(main_group_cancels_owner, NULL);
}

/* One waiter per group. */
typedef struct { co_group_t g; co_event_t e; } busy_group;

static int waits_group(void *arg)
{
    busy_group *b = arg;
    return co_group_wait(&b->g);
}

static int main_group_two_waiters(void *arg)
{
    busy_group b;
    co_group_init(&b.g);
    co_event_init(&b.e);
    assert_int_equal(co_group_spawn(&b.g, waits_event, &b.e), 0);
    co_task_t w = co_spawn(waits_group, &b);
    assert_int_equal(co_yield(), 0);
    assert_int_equal(co_group_wait(&b.g), -EBUSY);
    assert_int_equal(co_event_set(&b.e), 0);
    assert_int_equal(co_await(w), 0);
    return 0;
}

static void test_group_two_waiters(void **state)
{
    assert_int_equal(run_main(main_group_two_waiters, NULL), 0);
}

static void test_group_misuse(void **state)
{
    co_group_t g;
    co_group_init(&g);
    assert_int_equal(co_group_wait(&g), -EPERM);
    co_group_t junk;
    memset(&junk, 0, sizeof junk);
    co_loop_t *loop;
    assert_int_equal(co_loop_new(&loop, NULL), 0);
    assert_int_equal(co_group_spawn(&junk, return_arg, NULL), -EINVAL); /* never initialised */
    assert_int_equal(co_loop_free(loop), 0);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        T(test_group_waits_for_all),
        T(test_group_failure_cancels_siblings),
        T(test_group_spawn_after_failure),
        T(test_group_failure_cancels_owner),
        T(test_group_waiter_cancelled),
        T(test_group_in_timeout_scope),
        T(test_group_two_waiters),
        T(test_group_misuse),
    };
    if (argc > 1) cmocka_set_test_filter(argv[1]); /* e.g. 'test_group_*' */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
