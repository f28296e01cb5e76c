/* SPDX-License-Identifier: MIT */
/* test_reader_chunks.c -- the chunk directory (tracer/reader_chunks.c):
 * times come out in ns from the run's start, converted with the clock the
 * file has now.  A recording sets its origin when the program starts,
 * after the file exists, so a reader that opened it before must not keep
 * converting with the origin it first saw (the live TUI then read the
 * machine's uptime as the run's length). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include "reader.h"

static sqlite3 *db;

static int setup(void **state)
{
    (void)state;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TABLE meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;"
                                  "CREATE TABLE chunks(seq INTEGER PRIMARY KEY, ring INTEGER NOT NULL, n INTEGER NOT NULL,"
                                  "  first_ts INTEGER, last_ts INTEGER, data BLOB NOT NULL);",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sqlite3_close(db);
    return 0;
}

static void add_chunk(int64_t seq, int64_t first, int64_t last)
{
    char sql[200];
    snprintf(sql, sizeof sql, "INSERT INTO chunks VALUES (%lld, 0, 1, %lld, %lld, x'')", (long long)seq,
             (long long)first, (long long)last);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
}

static void test_origin_set_after_open(void **state)
{
    (void)state;
    /* The recorder's first origin: the clock as the file was made. */
    assert_int_equal(tr_meta_set_int(db, TR_META_CLOCK_KIND, TR_CLOCK_MONO), 0);
    assert_int_equal(tr_meta_set_int(db, TR_META_CLOCK_ORIGIN, 1000000000), 0);
    tr_chunks *c;
    assert_int_equal(tr_chunks_open(&c, db), 0);
    add_chunk(1, 1000000500, 1000000900);
    assert_int_equal(tr_chunks_load(c), 0);
    size_t n;
    const tr_chunk *d = tr_chunks_dir(c, &n);
    assert_int_equal(n, 1);
    assert_int_equal(d[0].first, 500);
    assert_int_equal(d[0].last, 900);

    /* The program starts: the origin moves on; what was read converts again. */
    assert_int_equal(tr_meta_set_int(db, TR_META_CLOCK_ORIGIN, 1000000400), 0);
    add_chunk(2, 1000001000, 1000001400);
    assert_int_equal(tr_chunks_load(c), 0);
    d = tr_chunks_dir(c, &n);
    assert_int_equal(n, 2);
    assert_int_equal(d[0].seq, 1);
    assert_int_equal(d[0].first, 100);
    assert_int_equal(d[0].last, 500);
    assert_int_equal(d[1].first, 600);
    assert_int_equal(d[1].last, 1000);

    /* An unchanged clock loads only what is new. */
    add_chunk(3, 1000001500, 1000001600);
    assert_int_equal(tr_chunks_load(c), 0);
    d = tr_chunks_dir(c, &n);
    assert_int_equal(n, 3);
    assert_int_equal(d[2].first, 1100);
    tr_chunks_close(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_origin_set_after_open, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
