/* test_loop.c -- loops: wrapping an existing uv_loop_t (a libuv program
 * adopting coscope step by step), one loop per thread, loops on several
 * threads at once, and co_run's result. */
#include "testutil.h"
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wrap_existing_uv_loop),
        cmocka_unit_test(test_one_loop_per_thread),
        cmocka_unit_test(test_loops_on_threads),
        cmocka_unit_test(test_co_run_result),
    };
    return cmocka_run_group_tests_name("loop", tests, NULL, NULL);
}
