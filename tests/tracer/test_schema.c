/* SPDX-License-Identifier: MIT */
/* test_schema.c -- the trace database file (tracer/schema.c): creation is
 * 0600 and never clobbers a file unless forced; the schema version is
 * recorded; and opening a wrong file fails with an errno and the one-line
 * reason users see: missing file, directory, not SQLite, SQLite but not a
 * trace, a trace from a newer coscope, and a real trace cut in half. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "tracer.h"

static char dir[256];
static char path[512];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/coscope-test-schema-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/trace.db", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static void write_file(const char *p, const char *text)
{
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* tr_db_open must fail with err and a reason containing `want`, naming the file. */
static void expect_open_fails(const char *p, int err, const char *want)
{
    sqlite3 *db = (sqlite3 *)1;
    const char *why = NULL;
    int r = tr_db_open(&db, p, 0, &why);
    if (r != err) fail_msg("tr_db_open(%s) = %d (%s), expected %d", p, r, why ? why : "no reason", err);
    assert_null(db);
    assert_non_null(why);
    if (!strstr(why, want)) fail_msg("reason '%s' lacks '%s'", why, want);
    if (!strstr(why, p)) fail_msg("reason '%s' does not name the file", why);
    assert_null(strchr(why, '\n')); /* one line */
}

/* ------------------------------------------------------------------------ */

static void test_create_mode_and_version(void **state)
{
    (void)state;
    mode_t old = umask(022);
    sqlite3 *db;
    const char *why = NULL;
    assert_int_equal(tr_db_create(&db, path, 0, &why), 0);
    umask(old);
    assert_non_null(db);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(tr_meta_int(db, "schema_version", -1), TR_SCHEMA_VERSION);
    /* The tables every reader relies on exist (and are empty). */
    assert_int_equal(tr_exec(db, "SELECT COUNT(*) FROM chunks, strings, locations, threads, tasks,"
                                 " resources, events, spans, warnings; SELECT * FROM task_summary;"
                                 " SELECT * FROM lock_contention;"), 0);
    /* meta round trips */
    assert_int_equal(tr_meta_set_int(db, "answer", -42), 0);
    assert_int_equal(tr_meta_int(db, "answer", 0), -42);
    assert_int_equal(tr_meta_int(db, "absent", 17), 17);
    sqlite3_close(db);

    /* What was created opens as a trace. */
    const char *w2 = NULL;
    assert_int_equal(tr_db_open(&db, path, 0, &w2), 0);
    sqlite3_close(db);
    assert_int_equal(tr_db_open(&db, path, 1, &w2), 0);
    sqlite3_close(db);
}

static void test_create_refuses_existing(void **state)
{
    (void)state;
    write_file(path, "precious\n");
    sqlite3 *db = (sqlite3 *)1;
    const char *why = NULL;
    assert_int_equal(tr_db_create(&db, path, 0, &why), -EEXIST);
    assert_null(db);
    assert_non_null(why);
    assert_non_null(strstr(why, "--force"));
    /* untouched */
    FILE *f = fopen(path, "r");
    char buf[32] = { 0 };
    assert_non_null(fgets(buf, sizeof buf, f));
    fclose(f);
    assert_string_equal(buf, "precious\n");

    /* --force replaces it, and stale WAL side files of the old trace go too
     * (SQLite would otherwise replay them into the new database). */
    char side[600];
    snprintf(side, sizeof side, "%s-wal", path);
    write_file(side, "stale wal");
    assert_int_equal(tr_db_create(&db, path, 1, &why), 0);
    assert_int_equal(tr_meta_int(db, "schema_version", -1), TR_SCHEMA_VERSION);
    sqlite3_close(db);
    assert_int_equal(tr_db_open(&db, path, 0, &why), 0);
    sqlite3_close(db);
}

/* Forced onto something that cannot be replaced: the real reason, not a
 * hint to use the --force the user already gave. */
static void test_create_force_on_directory(void **state)
{
    (void)state;
    sqlite3 *db = (sqlite3 *)1;
    const char *why = NULL;
    int r = tr_db_create(&db, dir, 1, &why);
    assert_true(r == -EISDIR || r == -EPERM);
    assert_null(db);
    assert_non_null(why);
    assert_null(strstr(why, "--force"));
}

static void test_create_unwritable(void **state)
{
    (void)state;
    char p[600];
    snprintf(p, sizeof p, "%s/no/such/dir/trace.db", dir);
    sqlite3 *db = (sqlite3 *)1;
    const char *why = NULL;
    assert_int_equal(tr_db_create(&db, p, 0, &why), -ENOENT);
    assert_null(db);
    assert_non_null(why);
}

static void test_open_missing(void **state)
{
    (void)state;
    expect_open_fails(path, -ENOENT, "No such file");
}

static void test_open_directory(void **state)
{
    (void)state;
    expect_open_fails(dir, -EINVAL, "not a regular file");
}

static void test_open_not_sqlite(void **state)
{
    (void)state;
    write_file(path, "this is a text file, long enough to have a header's worth of bytes\n");
    expect_open_fails(path, -EILSEQ, "not a SQLite database");
    write_file(path, ""); /* empty too */
    expect_open_fails(path, -EILSEQ, "not a SQLite database");
}

static void test_open_sqlite_not_trace(void **state)
{
    (void)state;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE users(id INTEGER, name TEXT); INSERT INTO users VALUES (1, 'x');",
                                  NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    expect_open_fails(path, -EINVAL, "not a coscope trace");

    /* A meta table, but no schema version in it. */
    unlink(path);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE meta(key TEXT PRIMARY KEY, value);", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    expect_open_fails(path, -EINVAL, "not a coscope trace");
}

static void test_open_newer_schema(void **state)
{
    (void)state;
    sqlite3 *db;
    const char *why;
    assert_int_equal(tr_db_create(&db, path, 0, &why), 0);
    assert_int_equal(tr_meta_set_int(db, "schema_version", 99), 0);
    sqlite3_close(db);
    expect_open_fails(path, -EPROTONOSUPPORT, "newer coscope");
    expect_open_fails(path, -EPROTONOSUPPORT, "schema 99");
}

/* A schema-2 trace has no `waits` table, which every reader asks: it is
 * refused in one line that says what to do, not read into wrong answers. */
static void test_open_older_schema(void **state)
{
    (void)state;
    sqlite3 *db;
    const char *why;
    assert_int_equal(tr_db_create(&db, path, 0, &why), 0);
    assert_int_equal(tr_exec(db, "DROP TABLE waits"), 0);
    assert_int_equal(tr_meta_set_int(db, "schema_version", TR_SCHEMA_OLDEST - 1), 0);
    sqlite3_close(db);
    expect_open_fails(path, -EPROTONOSUPPORT, "older coscope");
    expect_open_fails(path, -EPROTONOSUPPORT, "record it again");
}

/* ---- a real trace, truncated ---------------------------------------------- */

static int spinner(void *arg)
{
    for (int i = 0; i < 50; i++) {
        co_log("spinner %d at %d", (int)(intptr_t)arg, i);
        co_yield();
    }
    return 0;
}

static int busy_main(void *arg)
{
    (void)arg;
    co_task_t t[40];
    for (int i = 0; i < 40; i++) t[i] = co_spawn(spinner, (void *)(intptr_t)i);
    for (int i = 0; i < 40; i++) co_await(t[i]);
    return 0;
}

static void test_open_truncated(void **state)
{
    (void)state;
    assert_int_equal(co_trace_start(path), 0);
    assert_int_equal(co_run(busy_main, NULL), 0);
    assert_int_equal(co_trace_stop(), 0);
    char side[600];
    snprintf(side, sizeof side, "%s-wal", path);
    struct stat st;
    assert_int_not_equal(stat(side, &st), 0); /* closed cleanly: everything is in the main file */

    sqlite3 *db;
    const char *why = NULL;
    assert_int_equal(tr_db_open(&db, path, 0, &why), 0);
    assert_int_equal(tr_meta_int(db, "built", 0), 1);
    sqlite3_close(db);

    assert_int_equal(stat(path, &st), 0);
    assert_true(st.st_size > 64 * 1024); /* big enough that half loses tables */
    assert_int_equal(truncate(path, st.st_size / 2), 0);
    expect_open_fails(path, -EILSEQ, "damaged or truncated");

    /* Cut to less than one page: SQLite header intact, nothing else. */
    assert_int_equal(truncate(path, 100), 0);
    sqlite3 *db2 = (sqlite3 *)1;
    int r = tr_db_open(&db2, path, 0, &why);
    assert_true(r == -EILSEQ || r == -EINVAL);
    assert_null(db2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_mode_and_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_refuses_existing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_force_on_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_unwritable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_not_sqlite, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_sqlite_not_trace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_older_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_newer_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_truncated, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
