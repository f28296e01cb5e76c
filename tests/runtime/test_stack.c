/* SPDX-License-Identifier: MIT */
/* test_stack.c -- stacks: an overflow is caught and reported naming the task,
 * in every guard mode; deep-but-legal use works; stacks are reused. */
#include "testutil.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int sink;

static int recurse(int n)
{
    volatile char pad[256];
    pad[0] = (char)n;
    if (sink == -12345) return 0; /* never: keeps the recursion legal C */
    sink += pad[0];
    return recurse(n + 1) + pad[1];
}

static int overflow_body(void *arg) { return recurse(0); }

static int overflow_main(void *arg)
{
    co_task_t t = co_spawn_named("deep_recursion", overflow_body, NULL);
    return co_await(t);
}

/* Smash the canary at the low end of the stack without running off the
 * mapping (a slightly oversized frame), then switch: the switch notices. */
static int smash_body(void *arg)
{
    size_t size = (size_t)(intptr_t)arg;
    char *frame = __builtin_alloca(size);
    memset(frame, 0x5a, size);
    sink += frame[size / 2];
    co_yield();
    return 0;
}

static int smash_main(void *arg)
{
    co_task_t t = co_spawn_named("smasher", smash_body, arg);
    return co_await(t);
}

/* Run fn in a child with CO_STACK_GUARD=mode; return its stderr and status. */
static int run_child(const char *mode, int (*fn)(void *), void *arg, char *err, size_t cap)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], 2);
        if (mode) setenv("CO_STACK_GUARD", mode, 1);
        setenv("ASAN_OPTIONS", "detect_stack_use_after_return=0", 1);
        co_run(fn, arg);
        _exit(0);
    }
    close(fds[1]);
    size_t n = 0;
    ssize_t k;
    while (n + 1 < cap && (k = read(fds[0], err + n, cap - 1 - n)) > 0) n += (size_t)k;
    err[n] = 0;
    close(fds[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static void check_overflow(const char *mode)
{
    char err[4096];
    int status = run_child(mode, overflow_main, NULL, err, sizeof err);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGSEGV);
    if (!strstr(err, "stack overflow in task 'deep_recursion'")) fprintf(stderr, "stderr was: %s\n", err);
    assert_non_null(strstr(err, "stack overflow in task 'deep_recursion'"));
    assert_non_null(strstr(err, "test_stack.c:"));
}

static void test_overflow_guard_default(void **state) { check_overflow(NULL); }

/* Guards go in a whole slab at a time (one process_madvise for all its
 * stacks): a stack deep into the third slab, not just the first stacks
 * taken, must be guarded too.  150 tasks hold their stacks, waiting; the
 * 151st overflows. */
static co_event_t hold;
static int wait_hold(void *arg) { return co_event_wait(&hold); }

static int overflow_late_main(void *arg)
{
    co_event_init(&hold);
    for (int i = 0; i < 150; i++)
        if (!co_spawn(wait_hold, NULL).h) return -ENOMEM;
    co_yield(); /* they all start and wait */
    co_task_t t = co_spawn_named("deep_recursion", overflow_body, NULL);
    return co_await(t);
}

static void test_overflow_guard_late_stack(void **state)
{
    char err[4096];
    int status = run_child(NULL, overflow_late_main, NULL, err, sizeof err);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGSEGV);
    if (!strstr(err, "stack overflow in task 'deep_recursion'")) fprintf(stderr, "stderr was: %s\n", err);
    assert_non_null(strstr(err, "stack overflow in task 'deep_recursion'"));
}
/* A freed loop's slabs go to the runtime's process-wide cache with their
 * guards, pages given back: a later loop's stacks come from there (150
 * tasks: into the third slab) and must still be guarded. */
static int spawn_many_main(void *arg)
{
    co_task_t h[150];
    for (int i = 0; i < 150; i++) h[i] = co_spawn(wait_hold, NULL);
    co_yield();
    co_event_set(&hold);
    return co_gather(h, 150, NULL, 0);
}

static int second_loop_main(void *arg)
{
    co_event_init(&hold);
    if (co_run(spawn_many_main, NULL) != 0) return -EPROTO;
    return 0;
}

static void test_overflow_guard_cached_slab(void **state)
{
    char err[4096];
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], 2);
        setenv("ASAN_OPTIONS", "detect_stack_use_after_return=0", 1);
        if (second_loop_main(NULL) != 0) _exit(3); /* the first loop: its slabs go to the cache */
        co_run(overflow_late_main, NULL); /* a second loop, on cached slabs */
        _exit(0);
    }
    close(fds[1]);
    size_t n = 0;
    ssize_t k;
    while (n + 1 < sizeof err && (k = read(fds[0], err + n, sizeof err - 1 - n)) > 0) n += (size_t)k;
    err[n] = 0;
    close(fds[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGSEGV);
    if (!strstr(err, "stack overflow in task 'deep_recursion'")) fprintf(stderr, "stderr was: %s\n", err);
    assert_non_null(strstr(err, "stack overflow in task 'deep_recursion'"));
}

static void test_overflow_guard_mprotect(void **state) { check_overflow("mprotect"); }

static void test_overflow_canary(void **state)
{
    char err[4096];
    /* 64 KiB stack (256 KiB under ASan): a frame of the whole stack size
     * reaches below the canary into the unused guard-sized gap. */
    size_t size = 64 * 1024 + 1024;
#if defined(__SANITIZE_ADDRESS__)
    size = 256 * 1024 + 1024;
#endif
    int status = run_child("canary", smash_main, (void *)(intptr_t)size, err, sizeof err);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
    assert_non_null(strstr(err, "stack overflow in task 'smasher'"));
}

/* 48 KiB of a 64 KiB stack is legal. */
static int deep_ok(void *arg)
{
    volatile char buf[48 * 1024];
    memset((char *)buf, 1, sizeof buf);
    co_yield();
    return buf[100] + buf[sizeof buf - 1];
}

static int deep_main(void *arg)
{
    co_task_t t = co_spawn(deep_ok, NULL);
    return co_await(t);
}

static void test_deep_but_legal(void **state) { assert_int_equal(run_main(deep_main, NULL), 2); }

static int nothing(void *arg) { return I(arg); }

static int reuse_main(void *arg)
{
    for (int i = 0; i < 20000; i++) {
        co_task_t t = co_spawn(nothing, P(i & 7));
        int r = co_await(t);
        if (r != (i & 7)) return -1;
    }
    return 0;
}

static void test_stacks_reused(void **state) { assert_int_equal(run_main(reuse_main, NULL), 0); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_overflow_guard_default),
        cmocka_unit_test(test_overflow_guard_late_stack),
        cmocka_unit_test(test_overflow_guard_cached_slab),
        cmocka_unit_test(test_overflow_guard_mprotect),
        cmocka_unit_test(test_overflow_canary),
        cmocka_unit_test(test_deep_but_legal),
        cmocka_unit_test(test_stacks_reused),
    };
    return cmocka_run_group_tests_name("stack", tests, NULL, NULL);
}
