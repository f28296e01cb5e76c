/* SPDX-License-Identifier: MIT */
/* test_lod.c -- the timeline's levels of detail (tracer/lod.c) and their
 * reader (tracer/reader_timeline.c).  A task that wakes every 3 ms has a
 * row per wake at the 16 us, 262 us and 4.2 ms levels alike: a build with
 * no live slice leaves the levels that are no coarser in fact out for it,
 * and a reader zoomed to them reads the finer level instead, as exact as
 * that level: each cell within two 16 us buckets of what the step rows
 * say.  A busy task keeps its levels. */
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
#include "coscope.h"
#include "tracer.h"
#include "reader.h"

static char path[128];

static int sleeper(void *arg)
{
    (void)arg;
    for (int i = 0; i < 60; i++) co_sleep(3);
    return 0;
}

static int spinner(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20000; i++) co_yield();
    return 0;
}

static int main_task(void *arg)
{
    (void)arg;
    co_task_t t[2] = { co_spawn_named("sleeper", sleeper, NULL), co_spawn_named("spinner", spinner, NULL) };
    return co_gather(t, 2, NULL, 0);
}

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof path, "/tmp/coscope-test-lod-%d.db", (int)getpid());
    unlink(path);
    assert_int_equal(co_trace_start(path), 0);
    assert_int_equal(co_run(main_task, NULL), 0);
    assert_int_equal(co_trace_stop(), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    return 0;
}

/* The file's tables again, in one pass with no live slice (as a flight
 * recorder's dump is built). */
static sqlite3 *rebuild(void)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, NULL), SQLITE_OK);
    assert_int_equal(tr_exec(db, "DELETE FROM meta WHERE key = '" TR_META_BUILT "'"), 0);
    assert_int_equal(tr_build_complete(db, NULL, NULL), 0);
    assert_int_equal(tr_meta_int(db, TR_META_BUILT, 0), 1);
    return db;
}

static int64_t one(sqlite3 *db, const char *sql, const char *arg)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (arg) sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static int64_t rows_at(sqlite3 *db, const char *task, int level)
{
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM timeline WHERE level = %d AND task = (SELECT id FROM tasks WHERE name = ?)",
             level);
    return one(db, sql, task);
}

enum { N = 60 };

/* The task's row over N cells of w ns from its start. */
static void draw(sqlite3 *db, const char *task, int64_t from, int64_t w, tr_tl_cell *c, int64_t *run, int64_t *wait)
{
    int64_t id = one(db, "SELECT id FROM tasks WHERE name = ?", task);
    int64_t end = one(db, "SELECT value FROM meta WHERE key = '" TR_META_DURATION_NS "'", NULL);
    tr_at *q;
    assert_int_equal(tr_at_open(&q, db), 0);
    assert_int_equal(tr_timeline(q, id, from, from + w * N, N, end, c), 0);
    tr_at_close(q);
    *run = *wait = 0;
    for (int i = 0; i < N; i++) {
        *run += c[i].run;
        *wait += c[i].wait;
    }
}

/* The exact row from the task's step rows: each cell's time run and waited. */
static void truth(sqlite3 *db, const char *task, int64_t from, int64_t w, int64_t *run, int64_t *wait)
{
    memset(run, 0, N * sizeof *run);
    memset(wait, 0, N * sizeof *wait);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT start, end, resumed FROM spans WHERE kind = 'step'"
                                            " AND task = (SELECT id FROM tasks WHERE name = ?)", -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, task, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        int64_t t[3] = { sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2) };
        int parts = sqlite3_column_type(st, 2) == SQLITE_NULL ? 1 : 2;
        for (int p = 0; p < parts; p++)
            for (int i = 0; i < N; i++) {
                int64_t c0 = from + w * i, c1 = c0 + w;
                int64_t lo = t[p] > c0 ? t[p] : c0, hi = t[p + 1] < c1 ? t[p + 1] : c1;
                if (hi > lo) (p ? wait : run)[i] += hi - lo;
            }
    }
    sqlite3_finalize(st);
}

static void test_sparse_task_levels_left_out(void **state)
{
    (void)state;
    sqlite3 *db = rebuild();
    /* The sleeper: a row per wake at level 0 and none at level 1, which
     * would have had as many. */
    assert_true(rows_at(db, "sleeper", 0) >= 60);
    assert_int_equal(rows_at(db, "sleeper", 1), 0);
    /* The busy task's levels compress: kept. */
    assert_true(rows_at(db, "spinner", 1) > 0);
    assert_true(rows_at(db, "spinner", 1) * 2 <= rows_at(db, "spinner", 0));

    /* Zoomed to level 1 (cells of 1 ms: buckets of 262 us are the finest
     * not wider than a cell), the sleeper's row comes from level 0: each
     * cell within two level-0 buckets of the exact figures, where level 1
     * could be a bucket of 262 us off and a missing one reads nothing. */
    tr_tl_cell c[N];
    int64_t run, wait, exact_run[N], exact_wait[N], w = 1 << 20;
    int64_t from = one(db, "SELECT start_ts FROM tasks WHERE name = ?", "sleeper");
    draw(db, "sleeper", from, w, c, &run, &wait);
    truth(db, "sleeper", from, w, exact_run, exact_wait);
    int64_t total_run = 0, total_wait = 0;
    for (int i = 0; i < N; i++) {
        total_run += exact_run[i];
        total_wait += exact_wait[i];
        if (llabs(c[i].run - exact_run[i]) > 2 * (1 << 14) || llabs(c[i].wait - exact_wait[i]) > 2 * (1 << 14))
            fail_msg("cell %d: run %lld wait %lld, exactly %lld and %lld", i, (long long)c[i].run, (long long)c[i].wait,
                     (long long)exact_run[i], (long long)exact_wait[i]);
    }
    assert_true(total_wait > N * w / 2); /* asleep most of the time: the row is not empty */
    assert_true(llabs(run - total_run) <= 2 * (1 << 14));
    assert_true(llabs(wait - total_wait) <= 2 * (1 << 14));
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sparse_task_levels_left_out, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
