/* SPDX-License-Identifier: MIT */
/* test_timeout.c -- timeout scopes (co_timeout_begin/end, runtime/timer.c):
 * expiry, nesting, one scope per task, and scopes around gather, wait,
 * wait_for and cleanup that awaits. */
#include "children.h"

/* ------------------------------------------------------------------------ */
/* Timeout scopes                                                            */

static int main_scope_expires(void *arg)
{
    co_timeout_t s;
    uint64_t t0 = co_now_ms();
    assert_int_equal(co_timeout_begin(&s, 20), 0);
    assert_int_equal(co_sleep(FOREVER), -ETIMEDOUT);
    assert_true(co_now_ms() - t0 < 10000);
    /* Past the deadline every await in the scope fails at once... */
    assert_int_equal(co_sleep(1), -ETIMEDOUT);
    co_event_t e;
    co_event_init(&e);
    assert_int_equal(co_event_wait(&e), -ETIMEDOUT);
    assert_int_equal(co_timeout_end(&s), -ETIMEDOUT);
    /* ...and none after it. */
    assert_int_equal(co_sleep(1), 0);

    /* An event wait cut short. */
    assert_int_equal(co_timeout_begin(&s, 10), 0);
    assert_int_equal(co_event_wait(&e), -ETIMEDOUT);
    assert_int_equal(co_timeout_end(&s), -ETIMEDOUT);

    /* A co_await cut short leaves the task running and ours. */
    co_task_t t = co_spawn(waits_event, &e);
    assert_int_equal(co_timeout_begin(&s, 10), 0);
    assert_int_equal(co_await(t), -ETIMEDOUT);
    assert_int_equal(co_timeout_end(&s), -ETIMEDOUT);
    assert_int_equal(co_task_state_of(t), CO_TASK_WAITING);
    assert_int_equal(co_event_set(&e), 0);
    assert_int_equal(co_await(t), 77);
    return 0;
}

static void test_scope_expires(void **state)
{
    assert_int_equal(run_main(main_scope_expires, NULL), 0);
}

static int main_scope_not_expired(void *arg)
{
    co_timeout_t s;
    assert_int_equal(co_timeout_begin(&s, 20000), 0);
    assert_int_equal(co_sleep(5), 0);
    co_task_t t = co_spawn(sleep_ms, P(5));
    assert_int_equal(co_await(t), 5);
    assert_int_equal(co_timeout_end(&s), 0);
    /* CO_NO_TIMEOUT is no deadline at all. */
    assert_int_equal(co_timeout_begin(&s, CO_NO_TIMEOUT), 0);
    assert_int_equal(co_sleep(5), 0);
    assert_int_equal(co_yield(), 0);
    assert_int_equal(co_timeout_end(&s), 0);
    /* Deadline reached without an await in the scope: nothing was cut. */
    assert_int_equal(co_timeout_begin(&s, 0), 0);
    assert_int_equal(co_timeout_end(&s), 0);
    return 0;
}

/* Issue 15: a timeout of 0 or less has expired already, whatever its sign
 * (asyncio: test_timeout_zero_sleep_zero, test_timeout_in_the_past_sleep_zero);
 * only CO_NO_TIMEOUT means none.  Every await fails, a yield included. */
static int main_scope_zero_or_negative(void *arg)
{
    int64_t past[] = { 0, -1, -11000, INT64_MIN + 1 };
    for (size_t i = 0; i < sizeof past / sizeof past[0]; i++) {
        co_timeout_t s;
        EXPECT_INT(co_timeout_begin(&s, past[i]), 0);
        EXPECT_INT(co_sleep(0), -ETIMEDOUT);
        EXPECT_INT(co_yield(), -ETIMEDOUT);
        EXPECT_INT(co_sleep(5), -ETIMEDOUT);
        EXPECT_INT(co_timeout_end(&s), -ETIMEDOUT);
    }
    /* A remaining time computed late goes negative: it must expire. */
    uint64_t deadline = co_now_ms() + 5;
    EXPECT_INT(co_sleep(20), 0);
    co_timeout_t s;
    EXPECT_INT(co_timeout_begin(&s, (int64_t)deadline - (int64_t)co_now_ms()), 0);
    EXPECT_INT(co_sleep(FOREVER), -ETIMEDOUT);
    EXPECT_INT(co_timeout_end(&s), -ETIMEDOUT);
    /* A huge timeout is no overflow into the past. */
    EXPECT_INT(co_timeout_begin(&s, CO_NO_TIMEOUT - 1), 0);
    EXPECT_INT(co_sleep(1), 0);
    EXPECT_INT(co_timeout_end(&s), 0);
    return 0;
}

static void test_scope_zero_or_negative_expired(void **state)
{
    run(main_scope_zero_or_negative, NULL);
}

/* Issue 15: the common pattern, a CPU-bound loop that yields now and then
 * under a deadline, times out near the deadline (it used to run all 300
 * rounds: yields were never cut, and the loop's cached clock never moved). */
static int main_scope_cuts_cpu_loop(void *arg)
{
    int *rounds = arg;
    for (int k = 0; k < 2; k++) {
        co_timeout_t s;
        int r = 0;
        *rounds = 0;
        EXPECT_INT(co_timeout_begin(&s, 30), 0);
        while (*rounds < 300 && r == 0) {
            usleep(1000); /* 1 ms of "work" */
            r = k ? co_sleep(0) : co_yield();
            if (r == 0) (*rounds)++;
        }
        EXPECT_INT(r, -ETIMEDOUT);
        EXPECT_INT(co_timeout_end(&s), -ETIMEDOUT);
        EXPECT_TRUE(*rounds < 200);
    }
    return 0;
}

static void test_scope_cuts_yielding_cpu_loop(void **state)
{
    int rounds = 0;
    run(main_scope_cuts_cpu_loop, &rounds);
}

/* A deadline that passes while a yield waits for its turn is returned by
 * that yield, as asyncio raises at the sleep(0) during which it fires. */
static int busy_20ms(void *arg)
{
    usleep(20000);
    *(int *)arg = 1;
    return 0;
}

static int main_scope_expires_during_yield(void *arg)
{
    co_timeout_t s;
    int ran = 0;
    EXPECT_INT(co_timeout_begin(&s, 5), 0);
    co_task_t b = co_spawn(busy_20ms, &ran);
    EXPECT_INT(co_yield(), -ETIMEDOUT); /* b ran past the deadline meanwhile */
    EXPECT_INT(ran, 1);
    EXPECT_INT(co_timeout_end(&s), -ETIMEDOUT);
    EXPECT_INT(co_await(b), 0);
    return 0;
}

static void test_scope_expires_during_yield(void **state)
{
    run(main_scope_expires_during_yield, NULL);
}

/* co_sleep(CO_NO_TIMEOUT) sleeps until cancelled, without a timer: the loop
 * sees a task asleep for good, and a scope still cuts it. */
static int sleeps_forever(void *arg)
{
    return co_sleep(CO_NO_TIMEOUT);
}

static int main_sleep_no_timeout(void *arg)
{
    co_task_t t = co_spawn(sleeps_forever, NULL);
    EXPECT_INT(co_sleep(5), 0);
    EXPECT_INT(co_task_state_of(t), CO_TASK_WAITING);
    EXPECT_INT(co_cancel(t), 1);
    EXPECT_INT(co_await(t), -ECANCELED);
    co_timeout_t s;
    EXPECT_INT(co_timeout_begin(&s, 5), 0);
    EXPECT_INT(co_sleep(CO_NO_TIMEOUT), -ETIMEDOUT);
    EXPECT_INT(co_timeout_end(&s), -ETIMEDOUT);
    return 0;
}

static int main_sleep_no_timeout_asleep(void *arg)
{
    return co_sleep(CO_NO_TIMEOUT);
}

static void test_sleep_no_timeout(void **state)
{
    run(main_sleep_no_timeout, NULL);
    /* Nothing can wake main: the loop says so instead of sleeping on. */
    capture_stderr_off();
    alarm(10);
    int r = run_main(main_sleep_no_timeout_asleep, NULL);
    alarm(0);
    capture_stderr_on();
    assert_int_equal(r, -EDEADLK);
}

static void test_scope_not_expired(void **state)
{
    assert_int_equal(run_main(main_scope_not_expired, NULL), 0);
}

static int main_scope_nested(void *arg)
{
    order_log *lg = arg;
    co_timeout_t outer, inner;
    /* Outer earlier: it is the one that expires. */
    assert_int_equal(co_timeout_begin(&outer, 20), 0);
    assert_int_equal(co_timeout_begin(&inner, 20000), 0);
    assert_int_equal(co_sleep(FOREVER), -ETIMEDOUT);
    log_add(lg, 1);
    assert_int_equal(co_timeout_end(&inner), 0);
    assert_int_equal(co_sleep(1), -ETIMEDOUT); /* still inside the expired outer */
    assert_int_equal(co_timeout_end(&outer), -ETIMEDOUT);

    /* Inner earlier: it expires, the outer lives on. */
    assert_int_equal(co_timeout_begin(&outer, 20000), 0);
    assert_int_equal(co_timeout_begin(&inner, 20), 0);
    assert_int_equal(co_sleep(FOREVER), -ETIMEDOUT);
    log_add(lg, 2);
    assert_int_equal(co_timeout_end(&inner), -ETIMEDOUT);
    assert_int_equal(co_sleep(1), 0);
    assert_int_equal(co_timeout_end(&outer), 0);

    /* Ended out of order: refused, and the scope stays in force. */
    assert_int_equal(co_timeout_begin(&outer, 20000), 0);
    assert_int_equal(co_timeout_begin(&inner, 20000), 0);
    capture_stderr_off();
    assert_int_equal(co_timeout_end(&outer), -EINVAL);
    capture_stderr_on();
    assert_int_equal(co_timeout_end(&inner), 0);
    assert_int_equal(co_timeout_end(&outer), 0);
    return 0;
}

static void test_scope_nested(void **state)
{
    order_log lg = { .n = 0 };
    assert_int_equal(run_main(main_scope_nested, &lg), 0);
    assert_log(&lg, 1, 2);
}

/* Sleeps shorter than the scope end normally; longer ones are cut at the
 * deadline, so of two sleepers in one scope only the long one fails. */
typedef struct { order_log *lg; int ms, tag, r, end_r; } scoped;

static int scoped_sleeper(void *arg)
{
    scoped *s = arg;
    co_timeout_t sc;
    assert_int_equal(co_timeout_begin(&sc, 60), 0);
    s->r = co_sleep(s->ms);
    log_add(s->lg, s->tag);
    s->end_r = co_timeout_end(&sc);
    return 0;
}

static int main_scope_per_task(void *arg)
{
    order_log *lg = arg;
    scoped a = { lg, FOREVER, 1, 1, 1 }, b = { lg, 5, 2, 1, 1 };
    co_task_t ta = co_spawn(scoped_sleeper, &a), tb = co_spawn(scoped_sleeper, &b);
    assert_int_equal(co_await(ta), 0);
    assert_int_equal(co_await(tb), 0);
    assert_int_equal(a.r, -ETIMEDOUT);
    assert_int_equal(a.end_r, -ETIMEDOUT);
    assert_int_equal(b.r, 0);
    assert_int_equal(b.end_r, 0);
    return 0;
}

static void test_scope_is_per_task(void **state)
{
    order_log lg = { .n = 0 };
    assert_int_equal(run_main(main_scope_per_task, &lg), 0);
    assert_log(&lg, 2, 1);
}

/* Combinators inside an expiring scope: the scope cuts the wait; children
 * are cancelled and their cleanup (which awaits, past the deadline) runs
 * before the call returns (gather, wait_for), or are left alone (wait). */
static int main_scope_gather(void *arg)
{
    co_timeout_t s;
    child c[3];
    co_task_t t[3];
    int res[3] = { 1, 1, 1 };
    child_init(&c[0], NULL, 1, FOREVER, 0);
    child_init(&c[1], NULL, 2, 5, 9);
    child_init(&c[2], NULL, 3, 5, -EIO);
    for (int i = 0; i < 3; i++) t[i] = co_spawn(child_body, &c[i]);
    assert_int_equal(co_timeout_begin(&s, 30), 0);
    assert_int_equal(co_gather(t, 3, res, CO_GATHER_COLLECT), -ETIMEDOUT);
    assert_int_equal(co_timeout_end(&s), -ETIMEDOUT);
    assert_int_equal(res[0], -ECANCELED);
    assert_int_equal(res[1], 9);
    assert_int_equal(res[2], -EIO);
    assert_int_equal(c[0].cleanup_r, 0);
    assert_int_equal(co_all_tasks(NULL, 0), 1);
    return 0;
}

static void test_scope_around_gather(void **state)
{
    assert_int_equal(run_main(main_scope_gather, NULL), 0);
}

static int main_scope_wait_for(void *arg)
{
    co_timeout_t s;
    child c;
    child_init(&c, NULL, 1, FOREVER, 0);
    co_task_t t = co_spawn(child_body, &c);
    assert_int_equal(co_timeout_begin(&s, 20), 0);
    assert_int_equal(co_wait_for(t, FOREVER), -ETIMEDOUT);
    assert_int_equal(co_timeout_end(&s), -ETIMEDOUT);
    assert_int_equal(c.sleep_r, -ECANCELED);
    assert_int_equal(c.cleanup_r, 0);
    assert_int_equal(co_task_state_of(t), -ESRCH);
    return 0;
}

static void test_scope_around_wait_for(void **state)
{
    assert_int_equal(run_main(main_scope_wait_for, NULL), 0);
}

static int main_scope_wait(void *arg)
{
    co_timeout_t s;
    child c;
    child_init(&c, NULL, 1, FOREVER, 0);
    co_task_t t = co_spawn(child_body, &c);
    assert_int_equal(co_timeout_begin(&s, 20), 0);
    /* The scope's deadline is an error, unlike co_wait's own timeout. */
    assert_int_equal(co_wait(&t, 1, CO_WAIT_ALL, FOREVER), -ETIMEDOUT);
    assert_int_equal(co_timeout_end(&s), -ETIMEDOUT);
    assert_int_equal(co_task_state_of(t), CO_TASK_WAITING); /* not cancelled */
    assert_int_equal(co_cancel(t), 1);
    assert_int_equal(co_await(t), -ECANCELED);
    return 0;
}

static void test_scope_around_wait(void **state)
{
    assert_int_equal(run_main(main_scope_wait, NULL), 0);
}

/* A cancellation that arrives while a combinator waits for its cancelled
 * children to clean up must not be lost: the call returns -ECANCELED, not
 * the timeout that started the clean-up. */
typedef struct {
    co_event_t cleanup_go;
    int in_cleanup;
    int how;          /* 0 wait_for, 1 gather, 2 group */
    int r, end_r;
} late_cancel;

static int slow_cleanup(void *arg)
{
    late_cancel *lc = arg;
    int r = co_sleep(FOREVER);
    lc->in_cleanup = 1;
    int w = co_event_wait(&lc->cleanup_go);
    assert_int_equal(w, 0);
    return r;
}

static int times_out_then_cleans_up(void *arg)
{
    late_cancel *lc = arg;
    co_timeout_t s;
    co_task_t c = co_spawn(slow_cleanup, lc);
    co_group_t g;
    switch (lc->how) {
    case 0:
        lc->r = co_wait_for(c, 10);
        break;
    case 1:
        assert_int_equal(co_timeout_begin(&s, 10), 0);
        lc->r = co_gather(&c, 1, NULL, 0);
        lc->end_r = co_timeout_end(&s);
        break;
    default:
        assert_int_equal(co_cancel(c), 1);
        assert_int_equal(co_await(c), -ECANCELED); /* not this one: a group child */
        co_group_init(&g);
        assert_int_equal(co_group_spawn(&g, slow_cleanup, lc), 0);
        assert_int_equal(co_timeout_begin(&s, 10), 0);
        lc->r = co_group_wait(&g);
        lc->end_r = co_timeout_end(&s);
        break;
    }
    return lc->r;
}

static int main_late_cancel(void *arg)
{
    for (int how = 0; how < 3; how++) {
        late_cancel lc = { .how = how, .r = 1, .end_r = 1 };
        co_event_init(&lc.cleanup_go);
        co_task_t w = co_spawn(times_out_then_cleans_up, &lc);
        while (!lc.in_cleanup) assert_int_equal(co_sleep(1), 0);
        assert_int_equal(co_task_state_of(w), CO_TASK_WAITING);
        assert_int_equal(co_cancel(w), 1);
        assert_int_equal(co_yield(), 0);
        assert_int_equal(co_task_done(w), 0); /* still waits for the cleanup */
        assert_int_equal(co_event_set(&lc.cleanup_go), 0);
        assert_int_equal(co_await(w), -ECANCELED);
        assert_int_equal(lc.r, -ECANCELED);
        if (how > 0) assert_int_equal(lc.end_r, -ETIMEDOUT); /* the scope did expire */
    }
    assert_int_equal(co_all_tasks(NULL, 0), 1);
    return 0;
}

static void test_cancel_during_cleanup_not_lost(void **state)
{
    assert_int_equal(run_main(main_late_cancel, NULL), 0);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        T(test_scope_expires),
        T(test_scope_not_expired),
        T(test_scope_zero_or_negative_expired),
        T(test_scope_cuts_yielding_cpu_loop),
        T(test_scope_expires_during_yield),
        T(test_sleep_no_timeout),
        T(test_scope_nested),
        T(test_scope_is_per_task),
        T(test_scope_around_gather),
        T(test_scope_around_wait_for),
        T(test_scope_around_wait),
        T(test_cancel_during_cleanup_not_lost),
    };
    if (argc > 1) cmocka_set_test_filter(argv[1]); /* e.g. 'test_scope_*' */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
