/* SPDX-License-Identifier: MIT */
/* test_batch.c -- bulk inserts (tracer/batch.c), with and without the
 * writer thread: every row arrives with every cell as given (integers,
 * text, NULL) across many flushes; the builder's own statements on the same
 * connection interleave with the writer's inserts; a failed insert is
 * reported by the next flush or sync, with SQLite's message; a
 * connection without a mutex gets no writer and still writes; and a select
 * list puts constants beside the cells. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "tracer.h"

#define ROWS_PER_BATCH 1000
#define BATCHES 25

static sqlite3 *open_mem(int flags)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | flags, NULL),
                     SQLITE_OK);
    assert_int_equal(tr_exec(db, "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT, c INTEGER);"
                                 "CREATE TABLE side(x INTEGER)"),
                     0);
    assert_int_equal(tr_batch_register(db), 0);
    return db;
}

static int64_t one_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static const char *const WORDS[] = { "step", "hold", "region" };

/* Rows a = 1..n, b = a word, c = a * 3 or NULL for every 7th; between
 * flushes, a row into `side` through a statement of our own. */
static void fill(sqlite3 *db, tr_batch *b)
{
    sqlite3_stmt *side;
    assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO side(x) VALUES (?)", -1, &side, NULL), SQLITE_OK);
    assert_int_equal(tr_exec(db, "BEGIN"), 0);
    int64_t a = 0;
    for (int k = 0; k < BATCHES; k++) {
        for (int i = 0; i < ROWS_PER_BATCH; i++) {
            tr_cell *c = tr_batch_row(b);
            assert_non_null(c);
            a++;
            c[0] = (tr_cell){ .type = TR_CELL_INT, .i = a };
            c[1] = (tr_cell){ .type = TR_CELL_TEXT, .s = WORDS[a % 3] };
            c[2] = a % 7 ? (tr_cell){ .type = TR_CELL_INT, .i = a * 3 } : (tr_cell){ .type = TR_CELL_NULL };
        }
        assert_null(tr_batch_row(b)); /* full at cap */
        assert_int_equal(tr_batch_flush(b), 0);
        sqlite3_bind_int(side, 1, k);
        assert_int_equal(sqlite3_step(side), SQLITE_DONE);
        sqlite3_reset(side);
    }
    assert_int_equal(tr_writer_sync(b->writer), 0);
    assert_int_equal(tr_exec(db, "COMMIT"), 0);
    sqlite3_finalize(side);
}

static void check_rows(sqlite3 *db)
{
    int64_t n = (int64_t)ROWS_PER_BATCH * BATCHES;
    assert_int_equal(one_int(db, "SELECT count(*) FROM t"), n);
    assert_int_equal(one_int(db, "SELECT sum(a) FROM t"), n * (n + 1) / 2);
    assert_int_equal(one_int(db, "SELECT count(*) FROM t WHERE c IS NULL"), n / 7);
    assert_int_equal(one_int(db, "SELECT count(*) FROM t WHERE c IS NOT NULL AND c <> a * 3"), 0);
    assert_int_equal(one_int(db, "SELECT count(*) FROM t WHERE b <> CASE a % 3 WHEN 0 THEN 'step' "
                                 "WHEN 1 THEN 'hold' ELSE 'region' END"),
                     0);
    assert_int_equal(one_int(db, "SELECT count(*) FROM side"), BATCHES);
}

/* A serialized connection, its writer thread, and a batch of cap rows on t. */
static sqlite3 *open_with_writer(tr_writer **w, tr_batch *b, size_t cap)
{
    sqlite3 *db = open_mem(SQLITE_OPEN_FULLMUTEX);
    assert_int_equal(tr_writer_new(w, db), 0);
    assert_non_null(*w);
    assert_int_equal(tr_batch_init(b, db, *w, "INTO t(a, b, c)", NULL, 3, cap), 0);
    return db;
}

static void test_with_writer(void **state)
{
    (void)state;
    tr_writer *w;
    tr_batch b;
    sqlite3 *db = open_with_writer(&w, &b, ROWS_PER_BATCH);
    fill(db, &b);
    check_rows(db);
    tr_batch_free(&b);
    tr_writer_free(w);
    sqlite3_close(db);
}

static void test_without_mutex_no_writer(void **state)
{
    (void)state;
    sqlite3 *db = open_mem(SQLITE_OPEN_NOMUTEX);
    tr_writer *w = (tr_writer *)1;
    assert_int_equal(tr_writer_new(&w, db), 0);
    assert_null(w); /* no mutex: the connection cannot be shared with a thread */
    tr_batch b;
    assert_int_equal(tr_batch_init(&b, db, NULL, "INTO t(a, b, c)", NULL, 3, ROWS_PER_BATCH), 0);
    fill(db, &b);
    check_rows(db);
    tr_batch_free(&b);
    sqlite3_close(db);
}

/* A duplicate key fails the writer's insert: the failure and SQLite's
 * message come back, and later flushes keep reporting it. */
static void test_writer_failure_reported(void **state)
{
    (void)state;
    tr_writer *w;
    tr_batch b;
    sqlite3 *db = open_with_writer(&w, &b, 4);
    for (int i = 0; i < 2; i++) {
        tr_cell *c = tr_batch_row(&b);
        c[0] = (tr_cell){ .type = TR_CELL_INT, .i = 42 };
        c[1] = (tr_cell){ .type = TR_CELL_TEXT, .s = "dup" };
        c[2] = (tr_cell){ .type = TR_CELL_NULL };
    }
    assert_int_equal(tr_batch_flush(&b), 0); /* handed over; the failure comes later */
    int r = tr_writer_sync(w);
    assert_true(r < 0);
    assert_non_null(strstr(tr_writer_errmsg(w, db), "UNIQUE"));
    tr_cell *c = tr_batch_row(&b);
    c[0] = (tr_cell){ .type = TR_CELL_INT, .i = 43 };
    c[1] = c[2] = (tr_cell){ .type = TR_CELL_NULL };
    assert_int_equal(tr_batch_flush(&b), r);
    tr_batch_free(&b);
    tr_writer_free(w);
    sqlite3_close(db);
}

/* "c0, 'k', c1": the constant goes in every row, the cells after it. */
static void test_select_list_constants(void **state)
{
    (void)state;
    sqlite3 *db = open_mem(SQLITE_OPEN_FULLMUTEX);
    tr_batch b;
    assert_int_equal(tr_batch_init(&b, db, NULL, "INTO t(a, b, c)", "c0, 'k', c1", 2, 10), 0);
    for (int i = 1; i <= 10; i++) {
        tr_cell *c = tr_batch_row(&b);
        c[0] = (tr_cell){ .type = TR_CELL_INT, .i = i };
        c[1] = (tr_cell){ .type = TR_CELL_INT, .i = 100 + i };
    }
    assert_int_equal(tr_batch_flush(&b), 0);
    assert_int_equal(one_int(db, "SELECT count(*) FROM t WHERE b = 'k' AND c = 100 + a"), 10);
    tr_batch_free(&b);
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_with_writer),
        cmocka_unit_test(test_without_mutex_no_writer),
        cmocka_unit_test(test_writer_failure_reported),
        cmocka_unit_test(test_select_list_constants),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
