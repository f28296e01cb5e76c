/* SPDX-License-Identifier: MIT */
/* test_model_marks.c -- tui/model_marks.c: which tasks the warnings name
 * (the `!` the lists draw), on a trace recorded in-process.
 *
 * The program: two tellers take `acct_a` and `acct_b` in opposite orders,
 * so the runtime refuses the wait that would close the cycle and a
 * `deadlock` warning names them; `bystander` only sleeps.
 * Each task's count is checked against the trace's own warnings table
 * (through the SQL prompt's path, not the model's loaded warnings), so no
 * figure is written down here; the bystander must have none and some
 * teller one at least, or the check would pass on a model that counts
 * nothing. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "coscope.h"
#include "../../tui/model.h"

static char dir[256], path[300];
static co_lock_t acct_a, acct_b;
static tui_model *m;

static int teller_ab(void *arg)
{
    (void)arg;
    co_lock_acquire(&acct_a);
    co_sleep(5);
    int r = co_lock_acquire(&acct_b);
    if (r == 0) co_lock_release(&acct_b);
    co_lock_release(&acct_a);
    return 0;
}

static int teller_ba(void *arg)
{
    (void)arg;
    co_lock_acquire(&acct_b);
    co_sleep(10);
    int r = co_lock_acquire(&acct_a); /* refused: -EDEADLK */
    if (r == 0) co_lock_release(&acct_a);
    co_lock_release(&acct_b);
    return 0;
}

static int bystander(void *arg)
{
    (void)arg;
    co_sleep(2);
    return 0;
}

static int program(void *arg)
{
    (void)arg;
    co_lock_init(&acct_a);
    co_lock_init(&acct_b);
    co_task_t a = co_spawn(teller_ab, NULL);
    co_task_t b = co_spawn(teller_ba, NULL);
    co_task_t s = co_spawn(bystander, NULL);
    co_await(a);
    co_await(b);
    co_await(s);
    return 0;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/coscope-test-marks-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/t.db", dir);
    assert_int_equal(co_trace_start(path), 0);
    assert_int_equal(co_run(program, NULL), 0);
    assert_int_equal(co_trace_stop(), 0);
    char why[600];
    int r = tui_model_open(&m, path, NULL, NULL, why, sizeof why);
    if (r < 0) fail_msg("open: %s", why);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tui_model_close(m);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

/* The warnings naming task id, as the trace's table has them. */
static int64_t in_table(int64_t id)
{
    tui_table tb;
    assert_int_equal(tui_model_sql(m, "SELECT COUNT(*) FROM warnings WHERE task = :task OR task2 = :task", 0, id, &tb),
                     0);
    assert_int_equal(tb.nrows, 1);
    int64_t v = atoll(tb.cells[1]);
    tui_table_free(&tb);
    return v;
}

static void test_counts(void **state)
{
    (void)state;
    const tui_task *t;
    size_t n = tui_model_tasks(m, &t);
    assert_true(n >= 4);
    int64_t named = 0;
    for (size_t i = 0; i < n; i++) {
        int c = tui_model_task_warnings(m, (int)i);
        assert_int_equal(c, in_table(t[i].id));
        if (!strcmp(t[i].name, "bystander")) assert_int_equal(c, 0);
        if (!strncmp(t[i].name, "teller", 6)) named += c;
    }
    assert_true(named >= 1);   /* the deadlock names a teller */
    /* Asked again: the same (kept, not recounted wrongly). */
    for (size_t i = 0; i < n; i++) assert_int_equal(tui_model_task_warnings(m, (int)i), in_table(t[i].id));
}

static void test_out_of_range(void **state)
{
    (void)state;
    const tui_task *t;
    size_t n = tui_model_tasks(m, &t);
    assert_int_equal(tui_model_task_warnings(m, -1), 0);
    assert_int_equal(tui_model_task_warnings(m, (int)n), 0);
    assert_int_equal(tui_model_task_warnings(m, 1 << 30), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_out_of_range),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
