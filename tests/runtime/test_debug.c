/* SPDX-License-Identifier: MIT */
/* test_debug.c -- debug mode and "where is it stuck": co_dump with call
 * stacks, slow-step reports naming the awaits around the blocking code,
 * the watchdog naming the function that blocks the loop (blocked in a
 * system call, and spinning on the CPU), the SIGQUIT dump, and the
 * pending-at-close report with stacks.
 *
 * The functions the reports must name are noinline and do something after
 * their call, so no inlining or tail call can take their frame away.  The
 * blocking durations are 2-3x the threshold, far from its edge, so the
 * tests do not depend on timing luck.
 */
#include "testutil.h"
#include <uv.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))
#define KEEP_FRAME() __asm__ volatile("" ::: "memory")

/* Run body as the main task of a loop with the given debug options. */
static int run_opts(int (*body)(void *), void *arg, int debug, int slow_ms)
{
    co_loop_t *loop;
    co_loop_opts o = { .debug = debug, .slow_ms = slow_ms };
    failed[0] = 0;
    assert_int_equal(co_loop_new(&loop, &o), 0);
    int r = co_loop_run(loop, body, arg);
    assert_int_equal(co_loop_free(loop), 0);
    if (failed[0]) fail_msg("%s", failed);
    return r;
}

#define assert_contains(hay, needle) do { \
    if (!strstr((hay), (needle))) fail_msg("'%s' not found in:\n%s", (needle), (hay)); \
} while (0)

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++) n++;
    return n;
}

/* ------------------------------------------------------------------------ */
/* Functions the stacks must show                                            */

NOINLINE int wait_here_for_event(co_event_t *e)
{
    int r = co_event_wait(e);
    KEEP_FRAME();
    return r;
}

static int waiter(void *arg)
{
    int r = wait_here_for_event(arg);
    KEEP_FRAME();
    return r;
}

NOINLINE void block_in_sleep(void)
{
    usleep(300000);
    KEEP_FRAME();
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

NOINLINE void spin_in_loop(int ms)
{
    volatile uint64_t x = 0;
    uint64_t end = now_ns() + (uint64_t)ms * 1000000u;
    while (now_ns() < end)
        for (int i = 0; i < 1000000; i++) x += (uint64_t)i; /* mostly here, not in the clock */
    KEEP_FRAME();
}

/* ------------------------------------------------------------------------ */
/* co_dump                                                                   */

typedef struct {
    co_event_t ev, release;
    co_lock_t lock;
    char *out;
} dump_ctx;

static int holder(void *arg)
{
    dump_ctx *c = arg;
    int r = co_lock_acquire(&c->lock);
    if (r < 0) return r;
    r = co_event_wait(&c->release);
    co_lock_release(&c->lock);
    return r;
}

static int lock_waiter(void *arg)
{
    dump_ctx *c = arg;
    int r = co_lock_acquire(&c->lock);
    if (r == 0) co_lock_release(&c->lock);
    return r;
}

NOINLINE int dump_main(void *arg)
{
    dump_ctx *c = arg;
    co_event_init(&c->ev);
    co_event_init(&c->release);
    co_lock_init(&c->lock);
    co_task_t t[3] = { co_spawn(waiter, &c->ev), co_spawn(holder, c), co_spawn(lock_waiter, c) };
    EXPECT_INT(co_yield(), 0);
    EXPECT_INT(co_yield(), 0);
    size_t len = 0;
    FILE *f = open_memstream(&c->out, &len);
    co_dump(f);
    fclose(f);
    KEEP_FRAME();
    co_event_set(&c->ev);
    co_event_set(&c->release);
    int res[3];
    EXPECT_INT(co_gather(t, 3, res, 0), 0);
    return 0;
}

static void test_dump_stacks(void **state)
{
    dump_ctx c = { 0 };
    assert_int_equal(run_opts(dump_main, &c, 0, 0), 0);
    const char *o = c.out;
    assert_non_null(o);
    assert_contains(o, "coscope: 4 tasks");
    assert_contains(o, "'main' running");
    assert_contains(o, "'waiter' waiting on event");
    assert_contains(o, "'holder' waiting on event");
    assert_contains(o, "'lock_waiter' waiting on lock");
    assert_contains(o, "held by 'holder'");
    assert_contains(o, "spawned at " __FILE__);
    assert_contains(o, "stack:");
    /* The waiting task's stack shows the function it waits in, below the
     * await (co_event_wait_at) and above the task's body. */
    const char *w = strstr(o, "'waiter' waiting");
    assert_non_null(w);
    const char *next = strstr(w + 1, "  task #");
    const char *at = strstr(w, "wait_here_for_event");
    assert_non_null(at);
    assert_true(!next || at < next);
    assert_true(strstr(w, "co_event_wait_at") < at);
    assert_true(strstr(at, "waiter+") != NULL);
    /* The runtime's plumbing is left out. */
    assert_true(strstr(o, "co__suspend") == NULL);
    assert_true(strstr(o, "co__task_main") == NULL);
    /* The running task's stack starts at its call to co_dump. */
    const char *m = strstr(o, "'main' running");
    const char *mstack = strstr(m, "#0 ");
    assert_non_null(mstack);
    assert_true(strncmp(mstack, "#0 dump_main+", 13) == 0);
    free(c.out);
}

/* With libdw (runtime/symbols.c, the symbolizer the tracer uses too): a
 * frame names its line, the path relative to the build directory whatever
 * the compiler (clang's DWARF 5 names files from the compilation
 * directory; its partial .debug_aranges once hid every line but the
 * assembly file's). */
static void test_dump_lines(void **state)
{
    dump_ctx c = { 0 };
    assert_int_equal(run_opts(dump_main, &c, 0, 0), 0);
    const char *w = strstr(c.out, "wait_here_for_event+0x");
    assert_non_null(w);
    const char *eol = strchr(w, '\n');
    const char *at = strstr(w, " (" __FILE__ ":");
    if (!at || (eol && at > eol)) fail_msg("no (" __FILE__ ":LINE) after wait_here_for_event in:\n%s", c.out);
    free(c.out);
}

/* Without libdw: names still come from the ELF symbol table. */
static void test_dump_without_libdw(void **state)
{
    setenv("CO_LIBDW", "0", 1);
    dump_ctx c = { 0 };
    assert_int_equal(run_opts(dump_main, &c, 0, 0), 0);
    unsetenv("CO_LIBDW");
    assert_contains(c.out, "wait_here_for_event+0x");
    assert_contains(c.out, "[test_debug]");
    assert_true(strstr(c.out, " (" __FILE__ ":") == NULL);
    free(c.out);
}

/* ------------------------------------------------------------------------ */
/* Slow steps                                                                */

static int line_a, line_b, line_c;

static int slow_main(void *arg)
{
    EXPECT_INT(co_sleep(1), 0); line_a = __LINE__;
    usleep(150000); /* blocks the loop: the step from line_a to line_b is slow */
    EXPECT_INT(co_sleep(1), 0); line_b = __LINE__;
    return 0;
}

static int slow_edges(void *arg)
{
    usleep(120000); /* between the task's start and its first await */
    EXPECT_INT(co_yield(), 0); line_c = __LINE__;
    usleep(120000); /* between its last await and its end */
    return 0;
}

static int slow_edges_main(void *arg)
{
    co_task_t t = co_spawn(slow_edges, NULL);
    EXPECT_INT(co_await(t), 0);
    return 0;
}

/* A program's own libuv callback blocking the loop, outside any task. */
static void blocking_timer_cb(uv_timer_t *t)
{
    usleep(250000);
    uv_close((uv_handle_t *)t, NULL);
}

static int slow_callback_main(void *arg)
{
    static uv_timer_t timer;
    uv_timer_init(co_loop_uv(co_loop_current()), &timer);
    uv_timer_start(&timer, blocking_timer_cb, 5, 0);
    return co_sleep(400); /* the task itself never runs long */
}

static void test_slow_callback(void **state)
{
    capture cap;
    capture_begin(&cap);
    int r = run_opts(slow_callback_main, NULL, 1, 100);
    const char *o = capture_end(&cap);
    assert_int_equal(r, 0);
    assert_contains(o, "coscope: slow callback: libuv callbacks (not tasks) ran ");
    assert_int_equal(count(o, "slow step:"), 0);
    assert_int_equal(count(o, "slow callback:"), 1);
}

static void test_slow_step(void **state)
{
    capture cap;
    capture_begin(&cap);
    int r = run_opts(slow_main, NULL, 1, 100);
    const char *o = capture_end(&cap);
    assert_int_equal(r, 0);
    char want[512];
    snprintf(want, sizeof want, "between await at %s:%d and await at %s:%d\n", __FILE__, line_a, __FILE__, line_b);
    assert_contains(o, "coscope: slow step: task 'main' (#");
    assert_contains(o, want);
    assert_int_equal(count(o, "slow step:"), 1);
    /* Steps below the threshold are not reported: the sleeps themselves. */
    const char *ran = strstr(o, ") ran ");
    assert_non_null(ran);
    double ms = atof(ran + 6);
    assert_true(ms >= 140 && ms < 2000);

    capture_begin(&cap);
    r = run_opts(slow_edges_main, NULL, 1, 100);
    o = capture_end(&cap);
    assert_int_equal(r, 0);
    assert_int_equal(count(o, "slow step: task 'slow_edges'"), 2);
    snprintf(want, sizeof want, "between start and await at %s:%d\n", __FILE__, line_c);
    assert_contains(o, want);
    snprintf(want, sizeof want, "between await at %s:%d and end\n", __FILE__, line_c);
    assert_contains(o, want);
}

/* Debug mode off, or a negative threshold: nothing. */
static void test_slow_step_off(void **state)
{
    capture cap;
    capture_begin(&cap);
    assert_int_equal(run_opts(slow_main, NULL, 0, 100), 0);
    assert_int_equal(run_opts(slow_main, NULL, 1, -1), 0);
    const char *o = capture_end(&cap);
    assert_true(strstr(o, "slow step") == NULL);
    assert_true(strstr(o, "loop blocked") == NULL);
}

/* ------------------------------------------------------------------------ */
/* Watchdog                                                                  */

static int blocker(void *arg)
{
    block_in_sleep();
    KEEP_FRAME();
    return 0;
}

static int spinner(void *arg)
{
    spin_in_loop(250);
    KEEP_FRAME();
    return 0;
}

static int spawn_and_await(void *arg)
{
    const char *name = arg;
    co_task_t t = co_spawn_named(name, strcmp(name, "spinner") == 0 ? spinner : blocker, NULL);
    EXPECT_INT(co_await(t), 0);
    return 0;
}

static void watchdog_case(const char *task, const char *func)
{
    capture cap;
    capture_begin(&cap);
    int r = run_opts(spawn_and_await, (void *)task, 1, 100);
    const char *o = capture_end(&cap);
    assert_int_equal(r, 0);
    char want[128];
    snprintf(want, sizeof want, "coscope: loop blocked: task '%s' (#", task);
    assert_contains(o, want);
    assert_int_equal(count(o, "loop blocked"), 1); /* one report per stall */
    const char *rep = strstr(o, "loop blocked");
    assert_contains(rep, "since its start without awaiting; its thread is in:");
    const char *f = strstr(rep, func);
    if (!f) fail_msg("'%s' not in the watchdog's report:\n%s", func, o);
    /* ... and below it, the task's own body. */
    snprintf(want, sizeof want, "%s+0x", task);
    if (!strstr(f, want)) fail_msg("%s not below %s in:\n%s", want, func, o);
}

static void test_watchdog_sleep(void **state) { watchdog_case("blocker", "block_in_sleep"); }
static void test_watchdog_spin(void **state) { watchdog_case("spinner", "spin_in_loop"); }

/* ------------------------------------------------------------------------ */
/* SIGQUIT                                                                   */

static int sigquit_main(void *arg)
{
    co_event_t *ev = arg;
    co_event_init(ev);
    co_task_t t = co_spawn(waiter, ev);
    EXPECT_INT(co_yield(), 0);
    raise(SIGQUIT);
    EXPECT_INT(co_sleep(50), 0); /* the loop polls, libuv hands it the signal */
    co_event_set(ev);
    EXPECT_INT(co_await(t), 0);
    return 0;
}

static void test_sigquit_dump(void **state)
{
    co_event_t ev;
    capture cap;
    capture_begin(&cap);
    int r = run_opts(sigquit_main, &ev, 1, 0);
    const char *o = capture_end(&cap);
    assert_int_equal(r, 0);
    assert_contains(o, "coscope: SIGQUIT");
    assert_contains(o, "'main' waiting on sleep at " __FILE__);
    assert_contains(o, "'waiter' waiting on event");
    assert_contains(o, "wait_here_for_event");
    assert_contains(o, "sigquit_main");
}

/* Outside debug mode SIGQUIT dumps, then quits as its default action does
 * (Go's behaviour).  In a child: the process dies. */
static void test_sigquit_dump_then_quit(void **state)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], 2);
        signal(SIGQUIT, SIG_DFL);
        co_event_t ev;
        run_opts(sigquit_main, &ev, 0, 0); /* debug off */
        _exit(0);                           /* not reached: SIGQUIT ends it */
    }
    close(fds[1]);
    char out[16384];
    size_t n = 0;
    ssize_t k;
    while (n + 1 < sizeof out && (k = read(fds[0], out + n, sizeof out - 1 - n)) > 0) n += (size_t)k;
    out[n] = 0;
    close(fds[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGQUIT);
    assert_contains(out, "coscope: SIGQUIT");
    assert_contains(out, "'waiter' waiting on event");
    assert_contains(out, "wait_here_for_event");
}

/* ------------------------------------------------------------------------ */
/* Loop close                                                                */

static int leave_waiter(void *arg)
{
    co_event_init((co_event_t *)arg);
    co_spawn(waiter, arg); /* never set, never awaited */
    EXPECT_INT(co_yield(), 0);
    return 0;
}

static void test_pending_at_close(void **state)
{
    co_event_t ev;
    capture cap;
    capture_begin(&cap);
    int r = run_opts(leave_waiter, &ev, 1, 0);
    const char *o = capture_end(&cap);
    assert_int_equal(r, 0);
    assert_contains(o, "coscope: task 'waiter' (#");
    assert_contains(o, "spawned at " __FILE__);
    assert_contains(o, "was still waiting for event");
    assert_contains(o, "when the loop closed");
    assert_contains(o, "wait_here_for_event");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dump_stacks),
        cmocka_unit_test(test_dump_lines),
        cmocka_unit_test(test_dump_without_libdw),
        cmocka_unit_test(test_slow_step),
        cmocka_unit_test(test_slow_step_off),
        cmocka_unit_test(test_slow_callback),
        cmocka_unit_test(test_watchdog_sleep),
        cmocka_unit_test(test_watchdog_spin),
        cmocka_unit_test(test_sigquit_dump),
        cmocka_unit_test(test_sigquit_dump_then_quit),
        cmocka_unit_test(test_pending_at_close),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
