/* SPDX-License-Identifier: MIT */
/* test_task.c -- tasks: spawn order, await/detach ownership, cancellation,
 * introspection, sleeping and yielding.  The loop's lifecycle (co_run,
 * co_loop_free's leftovers, "all tasks are asleep") is in test_loop.c.
 *
 * Ordering is asserted through order_log, never through durations: where
 * time is involved the margins are wide and only the order (or an upper
 * bound far above the expected time) is checked.
 */
#include "leaked.h"
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */

/* ------------------------------------------------------------------------ */
/* Spawn order and await                                                     */

typedef struct { order_log *lg; int tag; } tagged;

static int log_tag(void *arg)
{
    tagged *t = arg;
    log_add(t->lg, t->tag);
    return t->tag;
}

static int main_spawn_fifo(void *arg)
{
    order_log *lg = arg;
    tagged tags[3] = { { lg, 1 }, { lg, 2 }, { lg, 3 } };
    co_task_t t[3];
    for (int i = 0; i < 3; i++) t[i] = co_spawn(log_tag, &tags[i]);
    log_add(lg, 0); /* children have not run: the spawner has not suspended */
    for (int i = 0; i < 3; i++) assert_int_equal(co_task_state_of(t[i]), CO_TASK_READY);
    assert_int_equal(co_await(t[0]), 1);
    /* Awaiting the first let all three run, in spawn order. */
    assert_int_equal(co_task_state_of(t[1]), CO_TASK_DONE);
    assert_int_equal(co_await(t[2]), 3);
    assert_int_equal(co_await(t[1]), 2);
    return 0;
}

static void test_spawn_fifo(void **state)
{
    order_log lg = { .n = 0 };
    assert_int_equal(run_main(main_spawn_fifo, &lg), 0);
    assert_log(&lg, 0, 1, 2, 3);
}

static int yield_then_return(void *arg)
{
    assert_int_equal(co_yield(), 0);
    return I(arg);
}

static int main_await_result_error(void *arg)
{
    co_task_t a = co_spawn(return_arg, P(42));
    co_task_t b = co_spawn(fail_eio, NULL);
    co_task_t c = co_spawn(yield_then_return, P(0));
    assert_int_equal(co_await(a), 42);
    assert_int_equal(co_await(b), -EIO);
    assert_int_equal(co_await(c), 0);
    /* A result of an already-ended task is kept until collected. */
    co_task_t d = co_spawn(return_arg, P(7));
    assert_int_equal(co_yield(), 0);
    assert_int_equal(co_task_done(d), 1);
    assert_int_equal(co_await(d), 7);
    return 5;
}

static void test_await_result_and_error(void **state)
{
    assert_int_equal(run_main(main_await_result_error, NULL), 5);
}

static int main_await_consumes(void *arg)
{
    co_task_t t = co_spawn(return_arg, P(9));
    assert_int_equal(co_await(t), 9);
    assert_int_equal(co_await(t), -ESRCH);
    assert_int_equal(co_detach(t), -ESRCH);
    assert_int_equal(co_cancel(t), -ESRCH);
    assert_int_equal(co_task_state_of(t), -ESRCH);
    assert_int_equal(co_task_done(t), -ESRCH);
    assert_null(co_task_name(t));
    assert_int_equal(co_task_id(t), 0);
    assert_null(co_task_spawn_loc(t));
    assert_int_equal(co_task_parent(t).h, 0);
    /* The slot is reused by the next spawn; the old handle stays stale. */
    co_task_t u = co_spawn(return_arg, P(10));
    assert_int_not_equal(u.h, t.h);
    assert_int_equal(co_await(t), -ESRCH);
    assert_int_equal(co_await(u), 10);
    /* {0} is never a task. */
    co_task_t none = { 0 };
    assert_int_equal(co_await(none), -ESRCH);
    assert_int_equal(co_detach(none), -ESRCH);
    assert_int_equal(co_cancel(none), -ESRCH);
    co_task_t far = { ((uint64_t)1 << 32) | 100000 };
    assert_int_equal(co_await(far), -ESRCH);
    return 0;
}

static void test_await_consumes_handle(void **state)
{
    assert_int_equal(run_main(main_await_consumes, NULL), 0);
}

/* ------------------------------------------------------------------------ */
/* Detach                                                                    */

static int detached_body(void *arg)
{
    int *progress = arg;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(co_yield(), 0);
        (*progress)++;
    }
    return -EIO; /* nobody reads it; must not leak or crash */
}

static int main_detach(void *arg)
{
    int progress = 0;
    co_task_t t = co_spawn(detached_body, &progress);
    assert_int_equal(co_detach(t), 0);
    assert_int_equal(co_detach(t), -EINVAL);
    assert_int_equal(co_await(t), -EINVAL);
    assert_int_equal(co_task_state_of(t), CO_TASK_READY); /* still valid until it ends */
    assert_int_equal(co_all_tasks(NULL, 0), 2);
    while (progress < 3) assert_int_equal(co_yield(), 0);
    /* It ended; its stack was released when we resumed, and with it the task. */
    assert_int_equal(co_task_state_of(t), -ESRCH);
    assert_int_equal(co_all_tasks(NULL, 0), 1);

    /* Detaching a task that already ended frees it at once. */
    co_task_t u = co_spawn(return_arg, P(1));
    assert_int_equal(co_yield(), 0);
    assert_int_equal(co_task_state_of(u), CO_TASK_DONE);
    assert_int_equal(co_detach(u), 0);
    assert_int_equal(co_task_state_of(u), -ESRCH);
    assert_int_equal(co_all_tasks(NULL, 0), 1);
    return progress;
}

static void test_detach(void **state)
{
    assert_int_equal(run_main(main_detach, NULL), 3);
}

/* ------------------------------------------------------------------------ */
/* Deadlocks between awaits                                                  */

static int await_self(void *arg)
{
    return co_await(co_current());
}

typedef struct { co_task_t a, b, c; int rb, rc; } cycle;

static int cyc_a(void *arg) { cycle *c = arg; return co_await(c->b); }
static int cyc_b(void *arg) { cycle *c = arg; c->rb = co_await(c->a); return c->rb; }
static int cyc3_b(void *arg) { cycle *c = arg; c->rb = co_await(c->c); return c->rb; }
static int cyc3_c(void *arg) { cycle *c = arg; c->rc = co_await(c->a); return c->rc; }

static int main_await_deadlock(void *arg)
{
    assert_int_equal(co_await(co_current()), -EDEADLK);
    co_task_t s = co_spawn(await_self, NULL);
    assert_int_equal(co_await(s), -EDEADLK);

    /* a awaits b; b awaiting a would close the cycle and is refused. */
    cycle c = { .rb = 1 };
    c.a = co_spawn(cyc_a, &c);
    c.b = co_spawn(cyc_b, &c);
    assert_int_equal(co_yield(), 0); /* let them close the cycle before we await a */
    assert_int_equal(c.rb, -EDEADLK);
    assert_int_equal(co_await(c.a), -EDEADLK); /* a returns what b returned */
    assert_int_equal(c.rb, -EDEADLK);

    /* Three long: a -> b -> c -> a. */
    cycle d = { .rb = 1, .rc = 1 };
    d.a = co_spawn(cyc_a, &d);
    d.b = co_spawn(cyc3_b, &d);
    d.c = co_spawn(cyc3_c, &d);
    assert_int_equal(co_yield(), 0);
    assert_int_equal(co_await(d.a), -EDEADLK);
    assert_int_equal(d.rc, -EDEADLK);
    assert_int_equal(d.rb, -EDEADLK);
    return 0;
}

static void test_await_deadlock(void **state)
{
    assert_int_equal(run_main(main_await_deadlock, NULL), 0);
}

/* Two tasks awaiting the same task: the second is refused. */
typedef struct { co_task_t target; co_event_t ev; int first; } dup_await;

static int waits_event(void *arg)
{
    co_event_t *e = arg;
    int r = co_event_wait(e);
    return r < 0 ? r : 77;
}

static int first_awaiter(void *arg)
{
    dup_await *d = arg;
    d->first = co_await(d->target);
    return d->first;
}

static int main_double_await(void *arg)
{
    dup_await d = { .first = 1 };
    co_event_init(&d.ev);
    d.target = co_spawn(waits_event, &d.ev);
    co_task_t other = co_spawn(first_awaiter, &d);
    assert_int_equal(co_yield(), 0); /* target waits on the event, other on target */
    assert_int_equal(co_await(d.target), -EINVAL);
    assert_int_equal(co_detach(d.target), -EINVAL);
    assert_int_equal(co_task_state_of(d.target), CO_TASK_WAITING); /* the refusal changed nothing */
    assert_int_equal(co_event_set(&d.ev), 0);
    assert_int_equal(co_await(other), 77);
    assert_int_equal(d.first, 77);
    assert_int_equal(co_task_state_of(d.target), -ESRCH);
    return 0;
}

static void test_double_await(void **state)
{
    assert_int_equal(run_main(main_double_await, NULL), 0);
}

/* ------------------------------------------------------------------------ */
/* Names, parents, states, introspection                                     */

static int child_fn(void *arg) { return 0; }

static int spawns_grandchild(void *arg)
{
    co_task_t *gc = arg;
    *gc = co_spawn(child_fn, NULL);
    assert_int_equal(co_task_parent(*gc).h, co_current().h);
    return 0;
}

static int main_names_parents(void *arg)
{
    co_task_t me = co_current();
    assert_string_equal(co_task_name(me), "main");
    assert_int_equal(co_task_parent(me).h, 0);

    co_task_t a = co_spawn(child_fn, NULL);
    assert_string_equal(co_task_name(a), "child_fn");
    const co_loc *loc = co_task_spawn_loc(a);
    assert_non_null(loc);
    assert_non_null(strstr(loc->file, "test_task.c"));
    assert_string_equal(loc->func, "main_names_parents");
    assert_int_equal(co_task_parent(a).h, me.h);

    char buf[32];
    strcpy(buf, "worker-1");
    co_task_t b = co_spawn_named(buf, child_fn, NULL);
    strcpy(buf, "clobbered");
    assert_string_equal(co_task_name(b), "worker-1");
    assert_ptr_not_equal(co_task_name(b), buf);

    assert_true(co_task_id(a) != 0 && co_task_id(b) != 0 && co_task_id(a) != co_task_id(b));
    assert_true(co_task_id(me) != co_task_id(a));

    /* Parent handles go stale with the parent. */
    co_task_t gc = { 0 };
    co_task_t p = co_spawn(spawns_grandchild, &gc);
    assert_int_equal(co_await(p), 0);
    assert_int_not_equal(gc.h, 0);
    assert_int_equal(co_task_parent(gc).h, 0);
    assert_string_equal(co_task_name(gc), "child_fn");

    assert_int_equal(co_await(a), 0);
    assert_int_equal(co_await(b), 0);
    assert_int_equal(co_await(gc), 0);
    return 0;
}

static void test_names_and_parents(void **state)
{
    assert_int_equal(run_main(main_names_parents, NULL), 0);
}

static int check_running(void *arg)
{
    assert_int_equal(co_task_state_of(co_current()), CO_TASK_RUNNING);
    co_event_t *e = arg;
    return co_event_wait(e);
}

static int cancelled_body(void *arg) { return -ECANCELED; }

static int main_states(void *arg)
{
    assert_int_equal(co_task_state_of(co_current()), CO_TASK_RUNNING);
    co_event_t e;
    co_event_init(&e);
    co_task_t t = co_spawn(check_running, &e);
    assert_int_equal(co_task_state_of(t), CO_TASK_READY);
    assert_int_equal(co_task_done(t), 0);
    assert_int_equal(co_yield(), 0);
    assert_int_equal(co_task_state_of(t), CO_TASK_WAITING);
    assert_int_equal(co_event_set(&e), 0);
    assert_int_equal(co_task_state_of(t), CO_TASK_READY); /* woken, not yet run */
    assert_int_equal(co_yield(), 0);
    assert_int_equal(co_task_state_of(t), CO_TASK_DONE);
    assert_int_equal(co_task_done(t), 1);
    assert_int_equal(co_await(t), 0);

    co_task_t f = co_spawn(fail_eio, NULL);
    co_task_t c = co_spawn(cancelled_body, NULL);
    co_task_t k = co_spawn(child_fn, NULL);
    assert_int_equal(co_cancel(k), 1);
    assert_int_equal(co_yield(), 0);
    assert_int_equal(co_task_state_of(f), CO_TASK_FAILED);
    assert_int_equal(co_task_state_of(c), CO_TASK_CANCELLED);
    assert_int_equal(co_task_state_of(k), CO_TASK_CANCELLED);
    assert_int_equal(co_await(f), -EIO);
    assert_int_equal(co_await(c), -ECANCELED);
    assert_int_equal(co_await(k), -ECANCELED);

    assert_string_equal(co_task_state_name(CO_TASK_READY), "ready");
    assert_string_equal(co_task_state_name(CO_TASK_WAITING), "waiting");
    assert_string_equal(co_task_state_name(CO_TASK_CANCELLED), "cancelled");
    assert_string_equal(co_task_state_name(99), "?");
    assert_string_equal(co_task_state_name(-ESRCH), "?");
    assert_string_equal(co_wait_kind_name(CO_WAIT_SLEEP), "sleep");
    assert_string_equal(co_wait_kind_name(CO_WAIT_QUEUE_JOIN), "queue_join");
    assert_string_equal(co_wait_kind_name(CO_WAIT_KIND_COUNT), "?");
    return 0;
}

static void test_states(void **state)
{
    assert_int_equal(run_main(main_states, NULL), 0);
}

static int main_all_tasks(void *arg)
{
    co_task_t out[8];
    assert_int_equal(co_all_tasks(out, 8), 1);
    assert_int_equal(out[0].h, co_current().h);
    co_task_t t[3];
    for (int i = 0; i < 3; i++) t[i] = co_spawn(return_arg, P(i));
    assert_int_equal(co_all_tasks(out, 8), 4);
    for (int i = 0; i < 3; i++) {
        int found = 0;
        for (int j = 0; j < 4; j++) found += out[j].h == t[i].h;
        assert_int_equal(found, 1);
    }
    /* cap smaller than the count: the full count, only cap written. */
    co_task_t two[3] = { { 0 }, { 0 }, { 12345 } };
    assert_int_equal(co_all_tasks(two, 2), 4);
    assert_int_equal(two[2].h, 12345);
    assert_int_equal(co_all_tasks(NULL, 0), 4);
    /* Ended but not awaited still counts. */
    assert_int_equal(co_yield(), 0);
    assert_int_equal(co_all_tasks(NULL, 0), 4);
    assert_int_equal(co_await(t[0]), 0);
    assert_int_equal(co_all_tasks(NULL, 0), 3);
    assert_int_equal(co_await(t[1]), 1);
    assert_int_equal(co_await(t[2]), 2);
    assert_int_equal(co_all_tasks(NULL, 0), 1);
    return 0;
}

static void test_all_tasks(void **state)
{
    assert_int_equal(co_all_tasks(NULL, 0), 0); /* no loop */
    assert_int_equal(run_main(main_all_tasks, NULL), 0);
}

static int record_current(void *arg)
{
    co_task_t *out = arg;
    *out = co_current();
    return 0;
}

static int main_current(void *arg)
{
    assert_int_not_equal(co_current().h, 0);
    co_task_t seen = { 0 };
    co_task_t t = co_spawn(record_current, &seen);
    assert_int_equal(co_await(t), 0);
    assert_int_equal(seen.h, t.h);
    assert_int_equal(co_cancelling(), 0);
    return 0;
}

static void test_current(void **state)
{
    assert_int_equal(co_current().h, 0); /* no loop */
    co_loop_t *loop;
    assert_int_equal(co_loop_new(&loop, NULL), 0);
    assert_int_equal(co_current().h, 0); /* a loop, but plain code */
    assert_int_equal(co_cancelling(), 0);
    assert_int_equal(co_loop_run(loop, main_current, NULL), 0);
    assert_int_equal(co_current().h, 0);
    assert_int_equal(co_loop_free(loop), 0);
}

/* ------------------------------------------------------------------------ */
/* Cancellation                                                              */

static int sets_flag(void *arg)
{
    *(int *)arg = 1;
    return 0;
}

static int main_cancel_before_start(void *arg)
{
    int ran = 0;
    co_task_t t = co_spawn(sets_flag, &ran);
    assert_int_equal(co_cancel(t), 1);
    assert_int_equal(co_cancel(t), 1); /* still not ended: another request */
    assert_int_equal(co_await(t), -ECANCELED);
    assert_int_equal(ran, 0);
    return 0;
}

static void test_cancel_before_start(void **state)
{
    assert_int_equal(run_main(main_cancel_before_start, NULL), 0);
}

typedef struct { int sleep_r, cleanup_r, cancelling, after; } sleeper;

static int long_sleeper(void *arg)
{
    sleeper *s = arg;
    s->sleep_r = co_sleep(100000);
    s->cancelling = co_cancelling();
    /* Cleanup may await again: the cancellation was delivered once. */
    s->cleanup_r = co_sleep(1);
    s->after = co_yield();
    return s->sleep_r;
}

static int main_cancel_sleep(void *arg)
{
    sleeper s = { 1, 1, -1, 1 };
    uint64_t t0 = co_now_ms();
    co_task_t t = co_spawn(long_sleeper, &s);
    assert_int_equal(co_yield(), 0);
    assert_int_equal(co_task_state_of(t), CO_TASK_WAITING);
    assert_int_equal(co_cancel(t), 1);
    assert_int_equal(co_task_state_of(t), CO_TASK_READY);
    assert_int_equal(co_await(t), -ECANCELED);
    assert_int_equal(s.sleep_r, -ECANCELED);
    assert_int_equal(s.cancelling, 1);
    assert_int_equal(s.cleanup_r, 0);
    assert_int_equal(s.after, 0);
    assert_true(co_now_ms() - t0 < 10000); /* woken by the cancel, not the timer */
    return 0;
}

static void test_cancel_during_sleep(void **state)
{
    assert_int_equal(run_main(main_cancel_sleep, NULL), 0);
}

/* A task woken with a result keeps it; the cancel comes at its next await. */
typedef struct { co_event_t e; int wait_r, next_r; } woken;

static int woken_body(void *arg)
{
    woken *w = arg;
    w->wait_r = co_event_wait(&w->e);
    w->next_r = co_yield();
    return 0;
}

static int main_cancel_after_wake(void *arg)
{
    woken w = { .wait_r = 1, .next_r = 1 };
    co_event_init(&w.e);
    co_task_t t = co_spawn(woken_body, &w);
    assert_int_equal(co_yield(), 0);
    assert_int_equal(co_event_set(&w.e), 0);
    assert_int_equal(co_cancel(t), 1);
    assert_int_equal(co_await(t), 0);
    assert_int_equal(w.wait_r, 0);
    assert_int_equal(w.next_r, -ECANCELED);
    return 0;
}

static void test_cancel_after_wake(void **state)
{
    assert_int_equal(run_main(main_cancel_after_wake, NULL), 0);
}

/* Issue 15 (asyncio's test_cancel_at_end): a cancellation requested after
 * the task's last await, and never delivered, makes a task that returns a
 * result end cancelled, as asyncio does; an error it returns stays its
 * error.  It used to end "done", the request silently dropped. */
static int cancels_itself(void *arg)
{
    EXPECT_INT(co_cancel(co_current()), 1);
    EXPECT_INT(co_cancelling(), 1);
    return 12;
}

typedef struct { co_event_t e; int ret, wait_r; } at_end;

static int returns_after_wake(void *arg)
{
    at_end *a = arg;
    a->wait_r = co_event_wait(&a->e);
    return a->ret; /* no await after the wake: the cancel is never delivered */
}

static int main_cancel_at_end(void *arg)
{
    co_task_t t = co_spawn(cancels_itself, NULL);
    EXPECT_INT(co_await(t), -ECANCELED);

    int rets[] = { 5, 0, -EIO };
    int want[] = { -ECANCELED, -ECANCELED, -EIO };
    for (int i = 0; i < 3; i++) {
        at_end a = { .ret = rets[i], .wait_r = 1 };
        co_event_init(&a.e);
        t = co_spawn(returns_after_wake, &a);
        EXPECT_INT(co_yield(), 0);
        EXPECT_INT(co_event_set(&a.e), 0);
        EXPECT_INT(co_cancel(t), 1); /* t is READY, woken with 0 */
        EXPECT_INT(co_yield(), 0);
        EXPECT_INT(co_task_state_of(t), want[i] == -EIO ? CO_TASK_FAILED : CO_TASK_CANCELLED);
        EXPECT_INT(co_await(t), want[i]);
        EXPECT_INT(a.wait_r, 0); /* the wake result itself was kept */
    }
    return 0;
}

static void test_cancel_at_end(void **state)
{
    run(main_cancel_at_end, NULL);
}

/* A cancellation that arrives while a task waits in co_yield for its turn
 * is returned by that yield (asyncio raises at the sleep(0)), not left for
 * a later await. */
typedef struct { int r1, r2, after; } yielder;

static int yields_twice(void *arg)
{
    yielder *y = arg;
    y->r1 = co_yield();
    y->r2 = co_yield();
    y->after = 1;
    return y->r1 < 0 ? y->r1 : y->r2;
}

static int main_cancel_during_yield(void *arg)
{
    yielder y = { 1, 1, 0 };
    co_task_t t = co_spawn(yields_twice, &y);
    EXPECT_INT(co_yield(), 0); /* t is now READY inside its first yield */
    EXPECT_INT(co_task_state_of(t), CO_TASK_READY);
    EXPECT_INT(co_cancel(t), 1);
    EXPECT_INT(co_await(t), -ECANCELED);
    EXPECT_INT(y.r1, -ECANCELED);
    EXPECT_INT(y.r2, 0); /* delivered once */
    return 0;
}

static void test_cancel_during_yield(void **state)
{
    run(main_cancel_during_yield, NULL);
}

/* A cancelled co_await whose target ends before the awaiter runs again
 * returns the target's result (the handle is consumed) and keeps the
 * cancellation for the next await; it used to be dropped. */
typedef struct { co_task_t x; int r1, r2; } late_end;

static int awaits_x(void *arg)
{
    late_end *l = arg;
    l->r1 = co_await(l->x);
    l->r2 = co_sleep(1);
    return 0;
}

static int main_cancel_await_target_ends(void *arg)
{
    co_event_t e;
    co_event_init(&e);
    late_end l = { .r1 = 1, .r2 = 1 };
    l.x = co_spawn(waits_event, &e);
    co_task_t a = co_spawn(awaits_x, &l);
    EXPECT_INT(co_yield(), 0);
    EXPECT_INT(co_event_set(&e), 0); /* x is READY, ahead of a */
    EXPECT_INT(co_cancel(a), 1);
    EXPECT_INT(co_await(a), 0);
    EXPECT_INT(l.r1, 77);
    EXPECT_INT(l.r2, -ECANCELED);
    return 0;
}

static void test_cancel_await_target_ends(void **state)
{
    run(main_cancel_await_target_ends, NULL);
}

static int main_cancel_ended(void *arg)
{
    co_task_t t = co_spawn(return_arg, P(5));
    assert_int_equal(co_yield(), 0);
    assert_int_equal(co_task_done(t), 1);
    assert_int_equal(co_cancel(t), 0);
    assert_int_equal(co_task_state_of(t), CO_TASK_DONE);
    assert_int_equal(co_await(t), 5);
    return 0;
}

static void test_cancel_ended_task(void **state)
{
    assert_int_equal(run_main(main_cancel_ended, NULL), 0);
}

/* co_await shields the awaited task: cancelling the awaiter leaves it be. */
typedef struct { co_event_t e; co_task_t inner; int r1, inner_state, r2; } shield;

static int awaiter_body(void *arg)
{
    shield *s = arg;
    s->r1 = co_await(s->inner);
    s->inner_state = co_task_state_of(s->inner);
    s->r2 = co_await(s->inner); /* still ours to collect */
    return s->r2;
}

static int main_cancel_shield(void *arg)
{
    shield s = { .r1 = 1, .r2 = 1 };
    co_event_init(&s.e);
    s.inner = co_spawn(waits_event, &s.e);
    co_task_t a = co_spawn(awaiter_body, &s);
    assert_int_equal(co_yield(), 0);
    assert_int_equal(co_task_state_of(a), CO_TASK_WAITING);
    assert_int_equal(co_cancel(a), 1);
    assert_int_equal(co_yield(), 0); /* a sees the cancel and awaits again */
    assert_int_equal(s.r1, -ECANCELED);
    assert_int_equal(s.inner_state, CO_TASK_WAITING);
    assert_int_equal(co_task_state_of(s.inner), CO_TASK_WAITING);
    assert_int_equal(co_event_set(&s.e), 0);
    assert_int_equal(co_await(a), 77);
    assert_int_equal(s.r2, 77);
    assert_int_equal(co_task_state_of(s.inner), -ESRCH); /* consumed by a */
    return 0;
}

static void test_cancel_awaiter_shields_awaited(void **state)
{
    assert_int_equal(run_main(main_cancel_shield, NULL), 0);
}

/* A cancel that arrives while the awaiter is merely READY (woken with a
 * result) is delivered by its next co_await, which returns at once and
 * leaves the target owned.  (A READY task inside co_yield gets it from the
 * yield instead: test_cancel_during_yield.) */
static co_event_t go_await;

static int yield_then_await(void *arg)
{
    shield *s = arg;
    assert_int_equal(co_event_wait(&go_await), 0);
    s->r1 = co_await(s->inner);
    s->inner_state = co_task_state_of(s->inner);
    s->r2 = co_await(s->inner);
    return s->r2;
}

static int main_cancel_pending_await(void *arg)
{
    shield s = { .r1 = 1, .r2 = 1 };
    co_event_init(&s.e);
    s.inner = co_spawn(waits_event, &s.e);
    co_event_init(&go_await);
    co_task_t a = co_spawn(yield_then_await, &s);
    assert_int_equal(co_yield(), 0);
    assert_int_equal(co_event_set(&go_await), 0); /* a is READY, woken with 0 */
    assert_int_equal(co_task_state_of(a), CO_TASK_READY);
    assert_int_equal(co_cancel(a), 1);
    assert_int_equal(co_event_set(&s.e), 0);
    assert_int_equal(co_await(a), 77);
    assert_int_equal(s.r1, -ECANCELED);
    assert_int_equal(s.inner_state, CO_TASK_READY);
    return 0;
}

static void test_cancel_pending_at_await(void **state)
{
    assert_int_equal(run_main(main_cancel_pending_await, NULL), 0);
}

static int nested_run(void *arg)
{
    co_loop_t *l = co_loop_current();
    assert_int_equal(co_loop_run(l, return_arg, P(1)), -EBUSY);
    assert_int_equal(co_loop_free(l), -EBUSY);
    co_loop_t *other;
    assert_int_equal(co_loop_new(&other, NULL), -EBUSY);
    return 0;
}

static void test_co_run(void **state)
{
    assert_int_equal(co_run(return_arg, P(17)), 17);
    assert_null(co_loop_current());
    assert_int_equal(co_run(fail_eio, NULL), -EIO);
    assert_int_equal(co_run(main_await_result_error, NULL), 5);
    assert_int_equal(co_run(nested_run, NULL), 0);
    assert_null(co_loop_current());
}

/* ------------------------------------------------------------------------ */
/* Yield and sleep ordering                                                  */

typedef struct { order_log *lg; int base; } stepper;

static int steps(void *arg)
{
    stepper *s = arg;
    for (int i = 0; i < 3; i++) {
        log_add(s->lg, s->base + i);
        assert_int_equal(co_yield(), 0);
    }
    return 0;
}

static int main_yield(void *arg)
{
    order_log *lg = arg;
    assert_int_equal(co_yield(), 0); /* nobody else ready: returns at once */
    assert_int_equal(co_sleep(0), 0);
    stepper a = { lg, 10 }, b = { lg, 20 };
    co_task_t ta = co_spawn(steps, &a), tb = co_spawn(steps, &b);
    assert_int_equal(co_yield(), 0);
    log_add(lg, 0); /* main had one turn after a and b each had one */
    assert_int_equal(co_await(ta), 0);
    assert_int_equal(co_await(tb), 0);
    return 0;
}

static void test_yield_interleaving(void **state)
{
    order_log lg = { .n = 0 };
    assert_int_equal(run_main(main_yield, &lg), 0);
    assert_log(&lg, 10, 20, 0, 11, 21, 12, 22);
}

typedef struct { order_log *lg; int ms, tag; } timed;

static int sleep_then_log(void *arg)
{
    timed *t = arg;
    int r = co_sleep(t->ms);
    log_add(t->lg, t->tag);
    return r;
}

static int main_sleep_order(void *arg)
{
    order_log *lg = arg;
    /* Spawned out of deadline order; the two 40 ms sleeps tie and wake in
     * spawn order (ties break on task id). */
    timed ts[5] = { { lg, 300, 4 }, { lg, 40, 1 }, { lg, 150, 3 }, { lg, 40, 2 }, { lg, 0, 0 } };
    co_task_t t[5];
    for (int i = 0; i < 5; i++) t[i] = co_spawn(sleep_then_log, &ts[i]);
    uint64_t t0 = co_now_ms();
    for (int i = 0; i < 5; i++) assert_int_equal(co_await(t[i]), 0);
    assert_true(co_now_ms() - t0 >= 300 - 1);
    return 0;
}

static void test_sleep_order(void **state)
{
    order_log lg = { .n = 0 };
    assert_int_equal(run_main(main_sleep_order, &lg), 0);
    assert_log(&lg, 0, 1, 2, 3, 4);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        T(test_spawn_fifo),
        T(test_await_result_and_error),
        T(test_await_consumes_handle),
        T(test_detach),
        T(test_await_deadlock),
        T(test_double_await),
        T(test_names_and_parents),
        T(test_states),
        T(test_all_tasks),
        T(test_current),
        T(test_cancel_before_start),
        T(test_cancel_during_sleep),
        T(test_cancel_after_wake),
        T(test_cancel_ended_task),
        T(test_cancel_at_end),
        T(test_cancel_during_yield),
        T(test_cancel_await_target_ends),
        T(test_cancel_awaiter_shields_awaited),
        T(test_cancel_pending_at_await),
        T(test_yield_interleaving),
        T(test_sleep_order),
        T(test_co_run),
    };
    if (argc > 1) cmocka_set_test_filter(argv[1]); /* e.g. 'test_cancel_*' */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
