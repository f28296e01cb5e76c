/* SPDX-License-Identifier: MIT */
/* test_loop.c -- loops: wrapping an existing uv_loop_t (a libuv program
 * adopting coscope step by step), one loop per thread, loops on several
 * threads at once, co_run's result, the "all tasks are asleep" check,
 * co_loop_free cancelling and reporting leftovers, and misuse outside a
 * task. */
#include "leaked.h"
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <pthread.h>
#include <uv.h>

/* A libuv program with its own timer and its own loop; coscope runs a task
 * on that same loop, and both make progress. */
static int timer_fired;
static void on_timer(uv_timer_t *t) { timer_fired++; }

static int adopted_main(void *arg)
{
    uv_loop_t *uv = co_loop_uv(co_loop_current());
    if (uv != arg) return -1;
    co_sleep(30); /* the user's 10 ms timer fires meanwhile */
    return timer_fired == 1 ? 42 : -2;
}

static void test_wrap_existing_uv_loop(void **state)
{
    uv_loop_t uv;
    assert_int_equal(uv_loop_init(&uv), 0);
    uv_timer_t timer;
    uv_timer_init(&uv, &timer);
    uv_timer_start(&timer, on_timer, 10, 0);

    co_loop_opts opts = { .uv_loop = &uv, .debug = -1 };
    co_loop_t *loop;
    assert_int_equal(co_loop_new(&loop, &opts), 0);
    assert_int_equal(co_loop_run(loop, adopted_main, &uv), 42);
    assert_int_equal(co_loop_free(loop), 0);

    /* The loop is still the program's: its handles are untouched and it
     * closes normally once they are. */
    assert_false(uv_is_closing((uv_handle_t *)&timer));
    uv_close((uv_handle_t *)&timer, NULL);
    uv_run(&uv, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&uv), 0);
}

static void test_one_loop_per_thread(void **state)
{
    co_loop_t *a, *b;
    assert_int_equal(co_loop_new(&a, NULL), 0);
    assert_int_equal(co_loop_new(&b, NULL), -EBUSY);
    assert_ptr_equal(co_loop_current(), a);
    assert_int_equal(co_loop_free(a), 0);
    assert_null(co_loop_current());
    assert_int_equal(co_loop_new(&b, NULL), 0);
    assert_int_equal(co_loop_free(b), 0);
}

/* Several loops on several threads, each with its own tasks. */
static int count_main(void *arg)
{
    long n = (long)(intptr_t)arg, sum = 0;
    co_queue_t q;
    co_queue_init(&q, 4);
    for (long i = 1; i <= n; i++) {
        co_queue_put_nowait(&q, P(i));
        void *v;
        co_queue_get(&q, &v);
        sum += (long)(intptr_t)v;
        co_yield();
    }
    co_queue_destroy(&q);
    return sum == n * (n + 1) / 2 ? 0 : -1;
}

static void *thread_main(void *arg)
{
    return (void *)(intptr_t)co_run(count_main, arg);
}

static void test_loops_on_threads(void **state)
{
    pthread_t th[4];
    for (int i = 0; i < 4; i++) pthread_create(&th[i], NULL, thread_main, P(20000));
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(th[i], &r);
        assert_int_equal(I(r), 0);
    }
}

static int returns_7(void *arg) { return 7; }
static int returns_err(void *arg) { return -EIO; }

static void test_co_run_result(void **state)
{
    assert_int_equal(co_run(returns_7, NULL), 7);
    assert_int_equal(co_run(returns_err, NULL), -EIO);
    assert_int_equal(co_loop_run(NULL, returns_7, NULL), -EINVAL);
}

/* ------------------------------------------------------------------------ */
/* Loop lifecycle                                                            */

static void test_loop_new_twice(void **state)
{
    co_loop_t *a, *b = (co_loop_t *)&b;
    assert_null(co_loop_current());
    assert_int_equal(co_loop_new(&a, NULL), 0);
    assert_ptr_equal(co_loop_current(), a);
    assert_non_null(co_loop_uv(a));
    assert_int_equal(co_loop_new(&b, NULL), -EBUSY);
    assert_null(b);
    assert_int_equal(co_loop_free(a), 0);
    assert_null(co_loop_current());
    assert_int_equal(co_loop_new(&a, NULL), 0); /* free again after free */
    assert_int_equal(co_loop_free(a), 0);
    assert_int_equal(co_loop_free(NULL), 0);
    assert_int_equal(co_loop_run(NULL, return_arg, P(1)), -EINVAL); /* no loop at all */
}

typedef struct { co_event_t never; int wait_r, cleanup_r; } asleep;

static int waits_forever(void *arg)
{
    asleep *a = arg;
    a->wait_r = co_event_wait(&a->never);
    a->cleanup_r = co_sleep(1);
    return a->wait_r;
}

static int main_asleep(void *arg)
{
    asleep *a = arg;
    co_task_t t = co_spawn(waits_forever, a); /* a second sleeper, never awaited */
    (void)t;
    return co_event_wait(&a->never);
}

static void test_all_tasks_asleep(void **state)
{
    asleep a = { .wait_r = 1, .cleanup_r = 1 };
    co_event_init(&a.never);
    co_loop_t *loop;
    assert_int_equal(co_loop_new(&loop, NULL), 0);
    capture c;
    capture_begin(&c);
    int r = co_loop_run(loop, main_asleep, &a);
    const char *err = capture_end(&c);
    assert_int_equal(r, -EDEADLK);
    assert_non_null(strstr(err, "all tasks are asleep"));
    assert_non_null(strstr(err, "'main'"));
    assert_non_null(strstr(err, "'waits_forever'"));
    assert_non_null(strstr(err, "event"));
    /* co_loop_free cancels both; the child's cleanup still gets to sleep. */
    capture_begin(&c);
    assert_int_equal(co_loop_free(loop), 0);
    capture_end(&c);
    assert_int_equal(a.wait_r, -ECANCELED);
    assert_int_equal(a.cleanup_r, 0);
    assert_null(co_loop_current());
}

typedef struct { int started, wait_r, cleanup_r, never_ran; } leftovers;

static int pending_child(void *arg)
{
    leftovers *lo = arg;
    co_event_t e;
    co_event_init(&e);
    lo->started = 1;
    lo->wait_r = co_event_wait(&e);
    lo->cleanup_r = co_sleep(1);
    return lo->wait_r;
}

static int never_runs(void *arg)
{
    ((leftovers *)arg)->never_ran = 0;
    return 0;
}

static int main_leaves_tasks(void *arg)
{
    leftovers *lo = arg;
    co_spawn(pending_child, lo);
    assert_int_equal(co_yield(), 0);
    return 3;
}

static void test_loop_free_cancels_leftovers(void **state)
{
    leftovers lo = { 0, 1, 1, 1 };
    co_loop_t *loop;
    assert_int_equal(co_loop_new(&loop, NULL), 0);
    assert_int_equal(co_loop_run(loop, main_leaves_tasks, &lo), 3);
    assert_int_equal(lo.started, 1);
    assert_int_equal(lo.wait_r, 1); /* not woken yet */
    assert_int_equal(co_all_tasks(NULL, 0), 1);
    /* Spawned from plain code between run and free: cancelled before its
     * first run, so its body never runs. */
    co_spawn(never_runs, &lo);
    assert_int_equal(co_all_tasks(NULL, 0), 2);
    capture c;
    capture_begin(&c);
    assert_int_equal(co_loop_free(loop), 0);
    const char *err = capture_end(&c);
    assert_int_equal(lo.wait_r, -ECANCELED);
    assert_int_equal(lo.cleanup_r, 0);
    assert_int_equal(lo.never_ran, 1); /* cancelled before its first run */
    assert_non_null(strstr(err, "'pending_child'"));
    assert_non_null(strstr(err, "'never_runs'"));
    assert_non_null(strstr(err, "when the loop closed"));
}

/* A task that swallows the first cancellation and waits again: co_loop_free
 * cancels again until it ends. */
static int stubborn(void *arg)
{
    int *rounds = arg;
    co_event_t never;
    co_event_init(&never);
    int r;
    do {
        r = co_event_wait(&never);
        ++*rounds;
    } while (*rounds < 3);
    return r;
}

static int main_leaves_stubborn(void *arg)
{
    co_spawn(stubborn, arg);
    return co_yield();
}

static void test_loop_free_cancels_repeatedly(void **state)
{
    int rounds = 0;
    co_loop_t *loop;
    assert_int_equal(co_loop_new(&loop, NULL), 0);
    assert_int_equal(co_loop_run(loop, main_leaves_stubborn, &rounds), 0);
    assert_int_equal(rounds, 0);
    capture c;
    capture_begin(&c);
    assert_int_equal(co_loop_free(loop), 0);
    capture_end(&c);
    assert_int_equal(rounds, 3);
}

/* Tasks that ended but were never collected are reported when the loop
 * closes; detached failures only in debug mode, as they happen. */
static int main_forgets(void *arg)
{
    co_spawn(return_arg, P(1));
    co_spawn(fail_eio, NULL);
    assert_int_equal(co_detach(co_spawn_named("quiet", fail_eio, NULL)), 0);
    return co_yield();
}

static void test_leftovers_reported(void **state)
{
    co_loop_opts opts = { .debug = 1 };
    co_loop_t *loop;
    assert_int_equal(co_loop_new(&loop, &opts), 0);
    capture c;
    capture_begin(&c);
    assert_int_equal(co_loop_run(loop, main_forgets, NULL), 0);
    const char *err = capture_end(&c);
    assert_non_null(strstr(err, "detached task 'quiet'"));
    capture_begin(&c);
    assert_int_equal(co_loop_free(loop), 0);
    err = capture_end(&c);
    assert_non_null(strstr(err, "'return_arg'"));
    assert_non_null(strstr(err, "never awaited"));
    assert_non_null(strstr(err, "'fail_eio'"));
    assert_non_null(strstr(err, "nobody retrieved the error"));
    assert_null(strstr(err, "quiet"));
}

static int spawned_early(void *arg) { return 21; }

static int main_awaits_early(void *arg)
{
    co_task_t *t = arg;
    assert_int_equal(co_task_parent(*t).h, 0);
    return co_await(*t) * 2;
}

static void test_spawn_from_plain_code(void **state)
{
    co_task_t none = co_spawn(spawned_early, NULL);
    assert_int_equal(none.h, 0); /* no loop on this thread */
    co_loop_t *loop;
    assert_int_equal(co_loop_new(&loop, NULL), 0);
    co_task_t t = co_spawn(spawned_early, NULL);
    assert_int_not_equal(t.h, 0);
    assert_int_equal(co_task_state_of(t), CO_TASK_READY);
    assert_int_equal(co_spawn(NULL, NULL).h, 0);
    assert_int_equal(co_loop_run(loop, main_awaits_early, &t), 42);
    assert_int_equal(co_loop_free(loop), 0);
}

/* ------------------------------------------------------------------------ */
/* Misuse outside a task                                                     */

static void test_misuse_outside_task(void **state)
{
    co_task_t none = { 0 };
    co_timeout_t scope;
    assert_int_equal(co_await(none), -EPERM);
    assert_int_equal(co_sleep(1), -EPERM);
    assert_int_equal(co_yield(), -EPERM);
    assert_int_equal(co_timeout_begin(&scope, 10), -EPERM);
    assert_int_equal(co_timeout_end(&scope), -EPERM);
    assert_int_equal(co_cancel(none), -ESRCH);
    assert_int_equal(co_detach(none), -ESRCH);
    co_loop_t *loop;
    assert_int_equal(co_loop_new(&loop, NULL), 0);
    co_task_t t = co_spawn(return_arg, P(1));
    assert_int_equal(co_await(t), -EPERM); /* a loop, but plain code */
    assert_int_equal(co_sleep(0), -EPERM);
    assert_int_equal(co_yield(), -EPERM);
    assert_int_equal(co_detach(t), 0);
    assert_int_equal(co_loop_run(loop, return_arg, P(0)), 0);
    assert_int_equal(co_task_state_of(t), -ESRCH); /* detached and finished */
    assert_int_equal(co_loop_free(loop), 0);
    assert_string_equal(co_strerror(-EPERM), "not permitted (outside a task, or not the owner)");
    assert_non_null(strstr(co_strerror(-ESRCH), "stale"));
    /* errnos libuv has no name for get the C library's */
    assert_null(strstr(co_strerror(-EBADMSG), "Unknown"));
    assert_null(strstr(co_strerror(-EPROTO), "Unknown"));
}

int main(void)
{
    /* The reports these tests read go to stderr when asked for
     * (test_log.c checks that they do not otherwise). */
    setenv("CO_LOG", "stderr", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wrap_existing_uv_loop),
        cmocka_unit_test(test_one_loop_per_thread),
        cmocka_unit_test(test_loops_on_threads),
        cmocka_unit_test(test_co_run_result),
        T(test_loop_new_twice),
        T(test_all_tasks_asleep),
        T(test_loop_free_cancels_leftovers),
        T(test_loop_free_cancels_repeatedly),
        T(test_leftovers_reported),
        T(test_spawn_from_plain_code),
        T(test_misuse_outside_task),
    };
    return cmocka_run_group_tests_name("loop", tests, NULL, NULL);
}
