/* test_combinators.c -- co_gather, co_wait, co_wait_for, timeout scopes and
 * task groups.
 *
 * Children that must outlive the interesting moment sleep for 100 s or wait
 * on an event nobody sets; only cancellation can end them early, so a test
 * that returns quickly proves the cancellation happened.  Elapsed-time checks
 * are upper bounds far above what the test needs, never exact durations.
 *
 * A failing cmocka assertion inside a task longjmps off the task's stack and
 * leaves its loop installed on the thread; drop_leaked_loop() abandons it so
 * the next test starts clean instead of failing with -EBUSY.
 */
#include "testutil.h"
#include "internal.h" /* co__tl_loop, for drop_leaked_loop only */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#define FOREVER 100000 /* ms: a sleep only cancellation ends */

/* Silence stderr around a call that is expected to print a warning. */
static int saved_stderr = -1;

static void capture_stderr_off(void)
{
    fflush(stderr);
    saved_stderr = dup(2);
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 2);
    close(null);
}

static void capture_stderr_on(void)
{
    fflush(stderr);
    dup2(saved_stderr, 2);
    close(saved_stderr);
}

static int return_arg(void *arg) { return I(arg); }
static int fail_eio(void *arg) { return -EIO; }

/* Sleep arg ms, then return arg. */
static int sleep_ms(void *arg)
{
    int r = co_sleep(I(arg));
    return r < 0 ? r : I(arg);
}

/* A child that logs when it ends, records how its sleep ended and runs a
 * cleanup that itself awaits. */
typedef struct {
    order_log *lg;
    int tag;
    int ms;           /* sleep; FOREVER for "until cancelled" */
    int result;       /* returned after a full sleep */
    int sleep_r;      /* what co_sleep returned */
    int cleanup_r;    /* what the cleanup's await returned */
    int cleaned;
} child;

static int child_body(void *arg)
{
    child *c = arg;
    c->sleep_r = co_sleep(c->ms);
    if (c->sleep_r < 0) {
        c->cleanup_r = co_sleep(1);
        c->cleaned = 1;
        if (c->lg) log_add(c->lg, -c->tag);
        return c->sleep_r;
    }
    if (c->lg) log_add(c->lg, c->tag);
    return c->result;
}

static void child_init(child *c, order_log *lg, int tag, int ms, int result)
{
    *c = (child){ .lg = lg, .tag = tag, .ms = ms, .result = result, .sleep_r = 1, .cleanup_r = 1 };
}

static int waits_event(void *arg)
{
    int r = co_event_wait((co_event_t *)arg);
    return r < 0 ? r : 77;
}

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
    assert_int_equal(co_wait(t, 3, CO_WAIT_ALL, -1), 3);
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
    assert_int_equal(co_wait(t, 0, CO_WAIT_ALL, -1), 0);
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
    assert_int_equal(co_wait(t, 3, CO_WAIT_FIRST_COMPLETED, -1), 1);
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
    assert_int_equal(co_wait(t, 3, CO_WAIT_FIRST_ERROR, -1), 2);
    assert_int_equal(co_task_state_of(t[0]), CO_TASK_DONE);
    assert_int_equal(co_task_state_of(t[1]), CO_TASK_FAILED);
    assert_int_equal(co_task_state_of(t[2]), CO_TASK_WAITING);
    /* An already-failed task satisfies it at once. */
    assert_int_equal(co_wait(&t[1], 2, CO_WAIT_FIRST_ERROR, -1), 1);
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
    w->r = co_wait(w->t, 2, CO_WAIT_ALL, -1);
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
    assert_int_equal(co_wait(&st.t, 1, CO_WAIT_ALL, -1), 1);
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

static int main_wait_misuse(void *arg)
{
    co_task_t t[2];
    t[0] = co_spawn(return_arg, P(1));
    assert_int_equal(co_wait(t, 1, 7, -1), -EINVAL);
    assert_int_equal(co_wait(t, 1, -1, -1), -EINVAL);
    t[1] = co_current();
    assert_int_equal(co_wait(t, 2, CO_WAIT_ALL, -1), -EDEADLK);
    assert_int_equal(co_await(t[0]), 1);
    assert_int_equal(co_wait(t, 1, CO_WAIT_ALL, -1), -ESRCH);
    return 0;
}

static void test_wait_misuse(void **state)
{
    co_task_t none[1] = { { 0 } };
    assert_int_equal(co_wait(none, 1, CO_WAIT_ALL, -1), -EPERM);
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
    /* A negative timeout is no deadline at all. */
    assert_int_equal(co_timeout_begin(&s, -1), 0);
    assert_int_equal(co_sleep(5), 0);
    assert_int_equal(co_timeout_end(&s), 0);
    /* Deadline reached without an await in the scope: nothing was cut. */
    assert_int_equal(co_timeout_begin(&s, 0), 0);
    assert_int_equal(co_yield(), 0); /* yields are not cut by deadlines */
    assert_int_equal(co_timeout_end(&s), 0);
    return 0;
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
    child_init(&c[3], lg, 4, 20, -EPIPE); /* would fail later; is cancelled first */
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
    assert_int_equal(co_yield(), 0);
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

/* Teardown: after a failure inside a task the loop cannot be freed (it
 * still thinks a task is running); leak it and detach it from the thread. */
static int drop_leaked_loop(void **state)
{
    co__tl_loop = NULL;
    return 0;
}

#define T(f) cmocka_unit_test_teardown(f, drop_leaked_loop)

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
        T(test_wait_misuse),
        T(test_wait_for_success),
        T(test_wait_for_timeout),
        T(test_wait_for_cancelled),
        T(test_scope_expires),
        T(test_scope_not_expired),
        T(test_scope_nested),
        T(test_scope_is_per_task),
        T(test_scope_around_gather),
        T(test_scope_around_wait_for),
        T(test_scope_around_wait),
        T(test_cancel_during_cleanup_not_lost),
        T(test_group_waits_for_all),
        T(test_group_failure_cancels_siblings),
        T(test_group_spawn_after_failure),
        T(test_group_waiter_cancelled),
        T(test_group_in_timeout_scope),
        T(test_group_two_waiters),
        T(test_group_misuse),
    };
    if (argc > 1) cmocka_set_test_filter(argv[1]); /* e.g. 'test_scope_*' */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
