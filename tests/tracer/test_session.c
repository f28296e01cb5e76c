/* SPDX-License-Identifier: MIT */
/* test_session.c -- in-process recording (tracer/session.c) end to end:
 * co_trace_start, a program with a known tree of tasks, co_trace_stop, then
 * the finished database is read back with plain SQL.
 *
 * Checks: every task is in `tasks` with its name, parent and final state;
 * the number of 'step' spans equals the steps the program counted (first
 * runs plus returns from calls that suspended); awaits name the awaited
 * task or object and the line of the call; co_log/co_mark/co_region land
 * as events and a region span; a second session in the same process
 * records its own call sites afresh (location ids are per session); and
 * the API's errors: -EEXIST for an existing file, -EBUSY while recording,
 * -ENOENT when stopping with nothing recording. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>
#include "coscope.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/coscope-test-session-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

/* One integer from a query with printf-style arguments (-1 if no row). */
static int64_t q_int(sqlite3 *db, const char *fmt, ...)
{
    char sql[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    int64_t v = -1;
    if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static char *q_text(sqlite3 *db, const char *fmt, ...)
{
    static char out[512];
    char sql[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    out[0] = 0;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(out, sizeof out, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return out;
}

static sqlite3 *open_ro(const char *path)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    return db;
}

/* ---- the traced program ---------------------------------------------------- */

static int steps;                 /* what the program knows it ran */
static int lock_waits;
static uint64_t id_main, id_child[3], id_grand;
static uint64_t lock_id;
static int line_lock, line_await_grand, line_await_child;
static co_lock_t lock;

static int grand(void *arg)
{
    (void)arg;
    steps++;
    co_sleep(1);
    steps++;
    return 5;
}

static int child(void *arg)
{
    int i = (int)(intptr_t)arg;
    steps++;
    if (i == 0) {
        co_task_t g = co_spawn(grand, NULL);
        id_grand = co_task_id(g);
        line_await_grand = __LINE__ + 1;
        co_await(g);
        steps++;
    }
    int will_wait = co_lock_locked(&lock); /* held across a yield by another child */
    line_lock = __LINE__ + 1;
    co_lock_acquire(&lock);
    if (will_wait) {
        steps++;
        lock_waits++;
    }
    co_region_t r = co_region_begin("critical");
    co_yield();
    steps++;
    co_region_end(r);
    co_lock_release(&lock);
    return i;
}

static int prog_main(void *arg)
{
    (void)arg;
    steps++;
    id_main = co_task_id(co_current());
    co_lock_init(&lock);
    lock_id = lock.id;
    co_mark("session-start");
    co_task_t t[3];
    char name[32];
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof name, "child-%d", i); /* a reused buffer: names are copied */
        t[i] = co_spawn_named(name, child, (void *)(intptr_t)i);
        id_child[i] = co_task_id(t[i]);
    }
    for (int i = 0; i < 3; i++) {
        if (!co_task_done(t[i])) steps++; /* co_await suspends only then */
        line_await_child = __LINE__ + 1;
        co_await(t[i]);
    }
    co_log("children done: %d", 3);
    return 0;
}

/* ------------------------------------------------------------------------ */

static void check_trace(const char *path)
{
    sqlite3 *db = open_ro(path);
    assert_string_equal(q_text(db, "SELECT value FROM meta WHERE key = 'ended'"), "stopped");
    assert_int_equal(q_int(db, "SELECT value FROM meta WHERE key = 'built'"), 1);
    assert_int_equal(q_int(db, "SELECT value FROM meta WHERE key = 'lost'"), 0);

    /* Tasks: names, parents, all done. */
    assert_int_equal(q_int(db, "SELECT COUNT(*) FROM tasks"), 5);
    assert_string_equal(q_text(db, "SELECT name FROM tasks WHERE id = %llu", (unsigned long long)id_main), "main");
    assert_int_equal(q_int(db, "SELECT parent IS NULL FROM tasks WHERE id = %llu", (unsigned long long)id_main), 1);
    for (int i = 0; i < 3; i++) {
        char want[32];
        snprintf(want, sizeof want, "child-%d", i);
        assert_string_equal(q_text(db, "SELECT name FROM tasks WHERE id = %llu", (unsigned long long)id_child[i]), want);
        assert_int_equal(q_int(db, "SELECT parent FROM tasks WHERE id = %llu", (unsigned long long)id_child[i]),
                         (int64_t)id_main);
        assert_int_equal(q_int(db, "SELECT result FROM tasks WHERE id = %llu", (unsigned long long)id_child[i]), i);
    }
    assert_string_equal(q_text(db, "SELECT name FROM tasks WHERE id = %llu", (unsigned long long)id_grand), "grand");
    assert_int_equal(q_int(db, "SELECT parent FROM tasks WHERE id = %llu", (unsigned long long)id_grand),
                     (int64_t)id_child[0]);
    assert_int_equal(q_int(db, "SELECT COUNT(*) FROM tasks WHERE state = 'done'"), 5);

    /* Steps: one span per step the program ran, and the per-task counts agree. */
    assert_int_equal(q_int(db, "SELECT COUNT(*) FROM spans WHERE kind = 'step'"), steps);
    assert_int_equal(q_int(db, "SELECT SUM(steps) FROM tasks"), steps);
    assert_int_equal(q_int(db, "SELECT COUNT(*) FROM spans WHERE open"), 0);

    /* Awaits point at what was awaited, from the line that awaited it. */
    assert_int_equal(q_int(db, "SELECT COUNT(*) FROM awaits s JOIN locations l ON l.id = s.loc"
                               " WHERE s.wait = 'task' AND s.task = %llu AND s.resource = %llu"
                               " AND l.line = %d AND l.file = '%s'",
                           (unsigned long long)id_child[0], (unsigned long long)id_grand, line_await_grand, __FILE__), 1);
    assert_int_equal(q_int(db, "SELECT COUNT(*) FROM awaits s JOIN locations l ON l.id = s.loc"
                               " WHERE s.wait = 'lock' AND s.resource = %llu AND l.line = %d",
                           (unsigned long long)lock_id, line_lock), lock_waits);
    assert_true(lock_waits >= 1); /* child 2 queues behind child 1 */
    assert_int_equal(q_int(db, "SELECT COUNT(*) FROM awaits s JOIN locations l ON l.id = s.loc"
                               " WHERE s.task = %llu AND s.wait = 'task' AND l.line = %d",
                           (unsigned long long)id_main, line_await_child),
                     q_int(db, "SELECT COUNT(*) FROM awaits WHERE task = %llu AND wait = 'task'",
                           (unsigned long long)id_main));
    assert_int_equal(q_int(db, "SELECT COUNT(*) FROM awaits WHERE task = %llu AND wait = 'sleep'",
                           (unsigned long long)id_grand), 1);

    /* Annotations. */
    assert_int_equal(q_int(db, "SELECT COUNT(*) FROM events e JOIN strings s ON s.id = e.resource"
                               " WHERE e.kind = 'mark' AND s.text = 'session-start' AND e.task = %llu",
                           (unsigned long long)id_main), 1);
    assert_int_equal(q_int(db, "SELECT COUNT(*) FROM events e JOIN strings s ON s.id = e.resource"
                               " WHERE e.kind = 'log' AND s.text = 'children done: 3'"), 1);
    assert_int_equal(q_int(db, "SELECT COUNT(*) FROM spans WHERE kind = 'region'"), 3);
    assert_int_equal(q_int(db, "SELECT COUNT(*) FROM spans s JOIN strings t ON t.id = s.resource"
                               " WHERE s.kind = 'region' AND t.text = 'critical'"), 3);
    sqlite3_close(db);
}

static void test_session_records_program(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/session.db", dir);
    steps = lock_waits = 0;
    assert_int_equal(co_trace_start(path), 0);
    assert_int_equal(co_run(prog_main, NULL), 0);
    assert_int_equal(co_trace_stop(), 0);
    assert_int_equal(access(path, R_OK), 0);
    check_trace(path);

    /* A second session in the same process: the call sites were interned
     * into the first session's arena; they must be interned again. */
    char path2[300];
    snprintf(path2, sizeof path2, "%s/session2.db", dir);
    steps = lock_waits = 0;
    assert_int_equal(co_trace_start(path2), 0);
    assert_int_equal(co_run(prog_main, NULL), 0);
    assert_int_equal(co_trace_stop(), 0);
    check_trace(path2);
}

static void test_session_errors(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/errors.db", dir);
    assert_int_equal(co_trace_stop(), -ENOENT);
    FILE *f = fopen(path, "w");
    fputs("not yours\n", f);
    fclose(f);
    assert_int_equal(co_trace_start(path), -EEXIST);
    assert_int_equal(co_trace_stop(), -ENOENT);
    unlink(path);
    assert_int_equal(co_trace_start(path), 0);
    char other[300];
    snprintf(other, sizeof other, "%s/other.db", dir);
    assert_int_equal(co_trace_start(other), -EBUSY);
    assert_int_not_equal(access(other, F_OK), 0); /* refused before creating anything */
    assert_int_equal(co_trace_stop(), 0);
    assert_int_equal(co_trace_stop(), -ENOENT);
    /* An empty session is still a complete trace. */
    sqlite3 *db = open_ro(path);
    assert_int_equal(q_int(db, "SELECT value FROM meta WHERE key = 'built'"), 1);
    assert_int_equal(q_int(db, "SELECT COUNT(*) FROM tasks"), 0);
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_session_records_program, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
