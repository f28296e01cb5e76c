/* SPDX-License-Identifier: MIT */
/* test_log.c -- where the runtime's reports go (runtime/log.c): nowhere by
 * default, as libuv; to the program's hook line by line; to stderr in debug
 * mode or with CO_LOG=stderr.  The report used is the all-asleep story of a
 * task waiting on an event nobody sets, and a refused lock cycle. */
#include "testutil.h"
#include <stdlib.h>
#include <sys/wait.h>

static int waits_forever(void *arg)
{
    co_event_t *e = arg;
    return co_event_wait(e);
}

static int main_asleep(void *arg)
{
    co_event_t e;
    co_event_init(&e);
    (void)arg;
    return co_await(co_spawn(waits_forever, &e)); /* all asleep: -EDEADLK */
}

/* Run main_asleep in a fresh loop; return what reached stderr. */
static const char *run_asleep(const co_loop_opts *opts)
{
    co_loop_t *loop;
    capture c;
    capture_begin(&c);
    assert_int_equal(co_loop_new(&loop, opts), 0);
    assert_int_equal(co_loop_run(loop, main_asleep, NULL), -EDEADLK);
    assert_int_equal(co_loop_free(loop), 0);
    return capture_end(&c);
}

static void test_silent_by_default(void **state)
{
    (void)state;
    unsetenv("CO_DEBUG");
    co_loop_opts opts = { .debug = 0 };
    const char *err = run_asleep(&opts);
    assert_string_equal(err, "");
}

static void test_debug_mode_prints(void **state)
{
    (void)state;
    co_loop_opts opts = { .debug = 1 };
    const char *err = run_asleep(&opts);
    assert_non_null(strstr(err, "coscope: all tasks are asleep"));
    assert_non_null(strstr(err, "'waits_forever'"));
}

typedef struct { char lines[64][256]; int n; } sink;

static void to_sink(void *ctx, const char *line)
{
    sink *s = ctx;
    if (s->n < 64) snprintf(s->lines[s->n++], sizeof s->lines[0], "%s", line);
}

static int sink_has(const sink *s, const char *what)
{
    for (int i = 0; i < s->n; i++)
        if (strstr(s->lines[i], what)) return 1;
    return 0;
}

static co_lock_t la, lb;
static int takes_b_then_a(void *arg)
{
    (void)arg;
    co_lock_acquire(&lb);
    co_yield();
    int r = co_lock_acquire(&la); /* closes the cycle: refused */
    co_lock_release(&lb);
    if (r == 0) co_lock_release(&la);
    return r;
}

static int main_cycle(void *arg)
{
    (void)arg;
    co_lock_init(&la);
    co_lock_init(&lb);
    co_lock_acquire(&la);
    co_task_t t = co_spawn(takes_b_then_a, NULL);
    co_yield();
    int mine = co_lock_acquire(&lb); /* waits for t, which then asks for la */
    if (mine == 0) co_lock_release(&lb);
    co_lock_release(&la);
    int theirs = co_await(t);
    return mine == -EDEADLK || theirs == -EDEADLK ? 0 : -1;
}

static void test_hook_gets_lines(void **state)
{
    (void)state;
    static sink s;
    s.n = 0;
    co_set_log_hook(to_sink, &s);
    co_loop_opts opts = { .debug = 0 };
    const char *err = run_asleep(&opts);
    assert_string_equal(err, ""); /* the hook has them, stderr nothing */
    assert_true(sink_has(&s, "all tasks are asleep"));
    assert_true(sink_has(&s, "'waits_forever'"));
    for (int i = 0; i < s.n; i++) {
        assert_null(strchr(s.lines[i], '\n'));                /* one line each */
        assert_int_not_equal(strncmp(s.lines[i], "coscope: ", 9), 0); /* no stderr prefix */
    }
    /* A refused lock cycle is reported through the hook as well. */
    s.n = 0;
    capture c;
    capture_begin(&c);
    int r = run_main(main_cycle, NULL);
    err = capture_end(&c);
    assert_int_equal(r, 0);
    assert_string_equal(err, "");
    assert_true(sink_has(&s, "deadlock: task"));
    co_set_log_hook(NULL, NULL);
}

/* CO_LOG is read once per process: checked in a child. */
static void test_env_asks_for_stderr(void **state)
{
    (void)state;
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setenv("CO_LOG", "stderr", 1);
        co_loop_opts opts = { .debug = 0 };
        const char *err = run_asleep(&opts);
        _exit(strstr(err, "coscope: all tasks are asleep") ? 0 : 1);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
    unsetenv("CO_LOG");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_silent_by_default),
        cmocka_unit_test(test_debug_mode_prints),
        cmocka_unit_test(test_hook_gets_lines),
        cmocka_unit_test(test_env_asks_for_stderr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
