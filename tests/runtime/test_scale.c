/* SPDX-License-Identifier: MIT */
/* test_scale.c -- the runtime at volume: 100,000 tasks asleep at once, and
 * long runs of spawn/await that must recycle stacks instead of growing.
 *
 * The time bounds are loose (a slow CI machine must pass) but far below
 * what a quadratic scheduler, timer heap or watcher list would need.  They
 * count user CPU time only: such an algorithm would burn user time, while
 * the system time of faulting in 100,000 stacks swings by 2x on a shared VM
 * and once failed a bound on CPU time that included it.
 */
#include "testutil.h"
#include "internal.h" /* co__tl_loop: drop_leaked_loop, and the stack pool's free count */
#include <stdlib.h>
#include <sys/resource.h>

/* Sanitizers make switches and stack pages several times dearer (ASan also
 * quadruples the stacks); the bounds scale with them. */
#if defined(__SANITIZE_ADDRESS__)
#define SLOWDOWN 5.0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLOWDOWN 5.0
#endif
#endif
#ifndef SLOWDOWN
#define SLOWDOWN 1.0
#endif

static double user_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
}

/* ------------------------------------------------------------------------ */
/* 100,000 sleepers                                                          */

#define NSLEEPERS 100000

typedef struct { int woke; int max_live; } sleepers;

static int sleeper(void *arg)
{
    int r = co_sleep(50);
    if (r < 0) return r;
    return I(arg);
}

static int main_sleepers(void *arg)
{
    sleepers *s = arg;
    co_task_t *t = malloc(NSLEEPERS * sizeof *t);
    int *res = malloc(NSLEEPERS * sizeof *res);
    assert_non_null(t);
    assert_non_null(res);
    for (int i = 0; i < NSLEEPERS; i++) {
        t[i] = co_spawn(sleeper, P(i));
        assert_int_not_equal(t[i].h, 0);
    }
    s->max_live = (int)co_all_tasks(NULL, 0);
    uint64_t t0 = co_now_ms();
    assert_int_equal(co_gather(t, NSLEEPERS, res, 0), 0);
    /* They slept concurrently: one 50 ms sleep, not 100,000 of them. */
    assert_true(co_now_ms() - t0 >= 50 - 1);
    for (int i = 0; i < NSLEEPERS; i++) {
        if (res[i] != i) fail_msg("task %d returned %d", i, res[i]);
        s->woke++;
    }
    assert_int_equal(co_all_tasks(NULL, 0), 1);
    free(t);
    free(res);
    return 0;
}

static void test_100k_sleepers(void **state)
{
    sleepers s = { 0, 0 };
    double t0 = user_cpu_s();
    assert_int_equal(run_main(main_sleepers, &s), 0);
    double dt = user_cpu_s() - t0;
    assert_int_equal(s.max_live, NSLEEPERS + 1);
    assert_int_equal(s.woke, NSLEEPERS);
    if (dt > 2.0 * SLOWDOWN) fail_msg("100k sleepers took %.2f s of user CPU", dt);
}

/* ------------------------------------------------------------------------ */
/* Sequential spawn/await recycles stacks                                    */

#define NSEQ 10000

/* Record where this task's stack is: with stacks recycled LIFO, one after
 * another they all land on the same one. */
static int where_am_i(void *arg)
{
    volatile char here = 0;
    *(uintptr_t *)arg = (uintptr_t)&here;
    return 0;
}

/* Stacks the pool holds for reuse.  With only the main task alive, a change
 * means stacks were made (or lost) rather than recycled. */
static size_t free_stacks(void)
{
    return co__tl_loop->pool.nfree;
}

static int main_sequential(void *arg)
{
    size_t *made = arg;
    uintptr_t first = 0, at = 0;
    size_t distinct = 0;
    size_t free_before = free_stacks();
    for (int i = 0; i < NSEQ; i++) {
        co_task_t t = co_spawn(where_am_i, &at);
        assert_int_not_equal(t.h, 0);
        assert_int_equal(co_await(t), 0);
        if (i == 0) first = at;
        if (at != first) distinct++;
    }
    /* Every child ran on the first child's stack, at the same depth. */
    assert_int_equal(distinct, 0);
    /* The pool neither grew nor leaked. */
    *made = free_stacks() - free_before;
    assert_int_equal(co_all_tasks(NULL, 0), 1);
    return 0;
}

static void test_sequential_spawn_reuses_stacks(void **state)
{
    size_t made = 99;
    double t0 = user_cpu_s();
    assert_int_equal(run_main(main_sequential, &made), 0);
    assert_int_equal(made, 0);
    double dt = user_cpu_s() - t0;
    if (dt > 0.5 * SLOWDOWN) fail_msg("10k sequential spawn/await took %.2f s of user CPU", dt);
}

/* Waves of concurrent tasks: the pool grows to the widest wave, then stops. */
static int yield_once(void *arg)
{
    return co_yield();
}

static int main_waves(void *arg)
{
    size_t *growth = arg;
    co_task_t t[500];
    size_t after_first = 0;
    for (int wave = 0; wave < 20; wave++) {
        for (int i = 0; i < 500; i++) t[i] = co_spawn(yield_once, NULL);
        assert_int_equal(co_gather(t, 500, NULL, 0), 0);
        if (wave == 0) after_first = free_stacks();
    }
    *growth = free_stacks() - after_first;
    return 0;
}

static void test_waves_reuse_stacks(void **state)
{
    size_t growth = 99;
    assert_int_equal(run_main(main_waves, &growth), 0);
    assert_int_equal(growth, 0);
}

static int drop_leaked_loop(void **state)
{
    co__tl_loop = NULL; /* a failure inside a task left it installed; leak it */
    return 0;
}

#define T(f) cmocka_unit_test_teardown(f, drop_leaked_loop)

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        T(test_100k_sleepers),
        T(test_sequential_spawn_reuses_stacks),
        T(test_waves_reuse_stacks),
    };
    if (argc > 1) cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
