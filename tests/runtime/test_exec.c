/* SPDX-License-Identifier: MIT */
/* test_exec.c -- co_exec: exit status, captured stdout/stderr, cwd and env,
 * death by signal, program not found, and cancellation/timeouts killing and
 * reaping the child. */
#include "testutil.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int status_main(void *arg)
{
    const char *ok[] = { "/bin/true", NULL };
    const char *three[] = { "/bin/sh", "-c", "exit 3", NULL };
    const char *path[] = { "sh", "-c", "exit 0", NULL }; /* found in PATH */
    int st = -1;
    if (co_exec(ok, &st) != 0 || st != 0) return -1;
    if (co_exec(three, &st) != 0 || st != 3) return -2;
    if (co_exec(path, &st) != 0 || st != 0) return -3;
    if (co_exec(three, NULL) != 0) return -4; /* status may be NULL */
    return 0;
}

static void test_status(void **state)
{
    assert_int_equal(run_main(status_main, NULL), 0);
    const char *ok[] = { "/bin/true", NULL };
    assert_int_equal(co_exec(ok, NULL), -EPERM);
}

static int capture_main(void *arg)
{
    const char *echo[] = { "/bin/echo", "hello", "world", NULL };
    co_exec_opts o = { .capture = CO_EXEC_STDOUT };
    int st = -1;
    int r = co_exec_with(echo, &o, &st);
    if (r != 0) return r;
    if (st != 0 || !o.out || strcmp(o.out, "hello world\n") != 0 || o.out_len != 12) return -1;
    if (o.err != NULL) return -2; /* not captured */
    free(o.out);

    const char *both[] = { "/bin/sh", "-c", "echo out; echo err >&2; exit 5", NULL };
    co_exec_opts b = { .capture = CO_EXEC_STDOUT | CO_EXEC_STDERR };
    if (co_exec_with(both, &b, &st) != 0 || st != 5) return -3;
    if (strcmp(b.out, "out\n") != 0 || strcmp(b.err, "err\n") != 0) return -4;
    free(b.out);
    free(b.err);

    const char *quiet[] = { "/bin/true", NULL };
    co_exec_opts q = { .capture = CO_EXEC_STDOUT };
    if (co_exec_with(quiet, &q, &st) != 0 || !q.out || q.out[0] != 0 || q.out_len != 0) return -5;
    free(q.out);

    /* Larger than any pipe buffer: 1 MB. */
    const char *big[] = { "/bin/sh", "-c", "head -c 1000000 /dev/zero | tr '\\0' x", NULL };
    co_exec_opts g = { .capture = CO_EXEC_STDOUT };
    if (co_exec_with(big, &g, &st) != 0 || st != 0 || g.out_len != 1000000) return -6;
    for (size_t i = 0; i < g.out_len; i++)
        if (g.out[i] != 'x') return -7;
    free(g.out);
    return 0;
}

static void test_capture(void **state) { assert_int_equal(run_main(capture_main, NULL), 0); }

static int cwd_env_main(void *arg)
{
    const char *cmd[] = { "/bin/sh", "-c", "pwd; echo \"$FOO\"", NULL };
    const char *env[] = { "FOO=bar baz", "PATH=/usr/bin:/bin", NULL };
    co_exec_opts o = { .cwd = "/tmp", .env = env, .capture = CO_EXEC_STDOUT };
    int st;
    if (co_exec_with(cmd, &o, &st) != 0 || st != 0) return -1;
    int ok = strcmp(o.out, "/tmp\nbar baz\n") == 0;
    free(o.out);
    return ok ? 0 : -2;
}

static void test_cwd_env(void **state) { assert_int_equal(run_main(cwd_env_main, NULL), 0); }

static int signal_main(void *arg)
{
    const char *kill9[] = { "/bin/sh", "-c", "kill -9 $$", NULL };
    const char *term[] = { "/bin/sh", "-c", "kill -TERM $$", NULL };
    int a = -1, b = -1;
    if (co_exec(kill9, &a) != 0 || co_exec(term, &b) != 0) return -1;
    return a == 128 + SIGKILL && b == 128 + SIGTERM ? 0 : -2;
}

static void test_signal(void **state) { assert_int_equal(run_main(signal_main, NULL), 0); }

static int not_found_main(void *arg)
{
    const char *abs[] = { "/nonexistent/program", NULL };
    const char *rel[] = { "no-such-program-coscope", NULL };
    const char *empty[] = { NULL };
    int st = 12345;
    co_exec_opts o = { .capture = CO_EXEC_STDOUT | CO_EXEC_STDERR };
    if (co_exec_with(abs, &o, &st) != -ENOENT) return -1;
    if (o.out || o.err || st != 12345) return -2;
    if (co_exec(rel, &st) != -ENOENT) return -3;
    if (co_exec(empty, &st) != -EINVAL || co_exec(NULL, &st) != -EINVAL) return -4;
    return 0;
}

static void test_not_found(void **state) { assert_int_equal(run_main(not_found_main, NULL), 0); }

/* Cancellation: the child gets SIGTERM and is reaped before co_exec returns
 * (kill(pid, 0) then fails with ESRCH: not even a zombie is left). */
static char pidfile[64];

static pid_t read_pid(void)
{
    FILE *f = fopen(pidfile, "r");
    if (!f) return 0;
    long pid = 0;
    if (fscanf(f, "%ld", &pid) != 1) pid = 0;
    fclose(f);
    return (pid_t)pid;
}

static int run_sleeper(void *arg)
{
    char script[256];
    /* `exec` so the pid written is the one that sleeps. */
    snprintf(script, sizeof script, "echo $$ > %s.tmp && mv %s.tmp %s && exec sleep 10", pidfile, pidfile, pidfile);
    const char *cmd[] = { "/bin/sh", "-c", script, NULL };
    co_exec_opts o = { .capture = CO_EXEC_STDOUT, .kill_grace_ms = I(arg) };
    int st = 777;
    int r = co_exec_with(cmd, &o, &st);
    if (st != 777 || o.out != NULL) return -1000; /* nothing reported for a cancelled run */
    return r;
}

static int cancel_main(void *arg)
{
    co_task_t t = co_spawn(run_sleeper, P(0));
    pid_t pid = 0;
    for (int i = 0; i < 2000 && !(pid = read_pid()); i++) co_sleep(1);
    if (!pid) return -1;
    if (kill(pid, 0) != 0) return -2; /* running */
    uint64_t t0 = co_now_ms();
    co_cancel(t);
    int r = co_await(t);
    if (r != -ECANCELED) return -3;
    if (co_now_ms() - t0 > 1000) return -4; /* SIGTERM did it, no 10 s sleep */
    if (kill(pid, 0) == 0 || errno != ESRCH) return -5; /* reaped */
    return 0;
}

static void test_cancel_kills(void **state)
{
    snprintf(pidfile, sizeof pidfile, "/tmp/coscope-exec-%d", (int)getpid());
    unlink(pidfile);
    assert_int_equal(run_main(cancel_main, NULL), 0);
    unlink(pidfile);
}

/* A child that ignores SIGTERM gets SIGKILL after the grace period. */
static int stubborn(void *arg)
{
    const char *cmd[] = { "/bin/sh", "-c", "trap '' TERM; exec sleep 10", NULL };
    co_exec_opts o = { .kill_grace_ms = 100 };
    return co_exec_with(cmd, &o, NULL);
}

static int grace_main(void *arg)
{
    co_task_t t = co_spawn(stubborn, NULL);
    co_sleep(50); /* let the shell set up its trap */
    uint64_t t0 = co_now_ms();
    co_cancel(t);
    int r = co_await(t);
    uint64_t ms = co_now_ms() - t0;
    if (r != -ECANCELED) return -1;
    return ms >= 90 && ms < 1000 ? 0 : -2;
}

static void test_cancel_escalates(void **state) { assert_int_equal(run_main(grace_main, NULL), 0); }

/* Cancelled while capturing a child that ignores SIGTERM and writes
 * without end: the capture pipe is closed at once, so the child dies of
 * SIGPIPE well before the 5 s grace period would escalate to SIGKILL. */
static int chatty(void *arg)
{
    const char *cmd[] = { "/bin/sh", "-c", "trap '' TERM; exec yes", NULL };
    co_exec_opts o = { .capture = CO_EXEC_STDOUT, .kill_grace_ms = 5000 };
    return co_exec_with(cmd, &o, NULL);
}

static int chatty_main(void *arg)
{
    co_task_t t = co_spawn(chatty, NULL);
    co_sleep(50);
    uint64_t t0 = co_now_ms();
    co_cancel(t);
    int r = co_await(t);
    if (r != -ECANCELED) return -1;
    return co_now_ms() - t0 < 1000 ? 0 : -2;
}

static void test_cancel_closes_pipes(void **state) { assert_int_equal(run_main(chatty_main, NULL), 0); }

/* A timeout scope around co_exec: -ETIMEDOUT, child reaped, and the scope
 * reports it. */
static int timeout_main(void *arg)
{
    const char *cmd[] = { "sleep", "10", NULL };
    co_timeout_t s;
    co_timeout_begin(&s, 30);
    uint64_t t0 = co_now_ms();
    int r = co_exec(cmd, NULL);
    int e = co_timeout_end(&s);
    if (r != -ETIMEDOUT || e != -ETIMEDOUT) return -1;
    if (co_now_ms() - t0 > 1000) return -2;
    /* A cancelled task does not start a process at all. */
    co_cancel(co_current());
    const char *t[] = { "/bin/true", NULL };
    return co_exec(t, NULL) == -ECANCELED ? 0 : -3;
}

static void test_timeout(void **state) { assert_int_equal(run_main(timeout_main, NULL), 0); }

/* Several children at once, each task waiting on its own. */
static int one_child(void *arg)
{
    char code[16];
    snprintf(code, sizeof code, "exit %d", I(arg));
    const char *cmd[] = { "/bin/sh", "-c", code, NULL };
    int st;
    int r = co_exec(cmd, &st);
    return r < 0 ? r : st;
}

static int parallel_main(void *arg)
{
    enum { N = 8 };
    co_task_t t[N];
    int res[N];
    for (int i = 0; i < N; i++) t[i] = co_spawn(one_child, P(i + 1));
    if (co_gather(t, N, res, 0) != 0) return -1;
    for (int i = 0; i < N; i++)
        if (res[i] != i + 1) return -2;
    return 0;
}

static void test_parallel(void **state) { assert_int_equal(run_main(parallel_main, NULL), 0); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status),
        cmocka_unit_test(test_capture),
        cmocka_unit_test(test_cwd_env),
        cmocka_unit_test(test_signal),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_cancel_kills),
        cmocka_unit_test(test_cancel_escalates),
        cmocka_unit_test(test_cancel_closes_pipes),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_parallel),
    };
    return cmocka_run_group_tests_name("exec", tests, NULL, NULL);
}
