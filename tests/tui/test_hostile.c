/* SPDX-License-Identifier: MIT */
/* test_hostile.c -- the TUI's model on traces that lie.  A trace is input:
 * people send each other files, and a file can say anything.  Each case
 * records a small real trace, damages it with SQL the way a hostile or
 * broken file could, then opens the model and asks it every question a
 * view asks, at times before, inside and after the run.  The model may
 * answer "nothing", but must not crash, hang, or hand a view text with
 * control characters in it (make check runs this under ASan and UBSan).
 */
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
#include <sqlite3.h>
#include "coscope.h"
#include "ask_model.h"
#include "../../tracer/fmt.h"
#include "../../tracer/tracer.h" /* TR_TEXT_MAX, TR_VALUE_MAX */

static char dir[256], clean[300];
static co_lock_t lk;
static co_queue_t q;

static int worker(void *arg)
{
    (void)arg;
    co_lock_acquire(&lk);
    co_log("worker \x1b]0;pwned\x07 logs");
    co_sleep(2);
    co_lock_release(&lk);
    void *item;
    return co_queue_get(&q, &item);
}

static int program(void *arg)
{
    (void)arg;
    co_lock_init_named(&lk, "lock\x1b[2J");
    co_queue_init(&q, 2);
    co_task_t a = co_spawn_named("evil\x1b[31mname", worker, NULL);
    co_task_t b = co_spawn(worker, NULL);
    co_sleep(5);
    co_queue_put(&q, &q);
    co_queue_put(&q, &q);
    co_await(a);
    co_await(b);
    return 0;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/coscope-test-hostile-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(clean, sizeof clean, "%s/clean.db", dir);
    assert_int_equal(co_trace_start(clean), 0);
    assert_int_equal(co_run(program, NULL), 0);
    assert_int_equal(co_trace_stop(), 0);
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

/* An invisible format character at p (UTF-8): bidi embeddings, overrides,
 * isolates and marks, zero-width ones, U+FEFF, U+2028/9 -- text that can
 * make a line read as something else (Trojan Source). */
static int invisible(const unsigned char *p)
{
    if (p[0] == 0xd8 && p[1] == 0x9c) return 1; /* U+061C */
    if (p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf) return 1;
    if (p[0] != 0xe2) return 0;
    if (p[1] == 0x80) return (p[2] >= 0x8b && p[2] <= 0x8f) || (p[2] >= 0xa8 && p[2] <= 0xae);
    if (p[1] == 0x81) return p[2] == 0xa0 || (p[2] >= 0xa6 && p[2] <= 0xa9);
    return 0;
}

static void no_controls(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        if (*p < 0x20 || *p == 0x7f) fail_msg("control character 0x%02x in \"%s\"", *p, s);
        if (invisible(p)) fail_msg("invisible format character in \"%s\"", s);
    }
}

/* A copy of the clean trace with sql applied to it. */
static void damaged(const char *name, const char *sql, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s.db", dir, name);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", clean, out);
    assert_int_equal(system(cmd), 0);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(out, &db), SQLITE_OK);
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) fail_msg("%s: %s", name, err);
    sqlite3_close(db);
}

/* Every question of every view (ask_model.h); returns whether it opened. */
static int exercise(const char *path)
{
    tui_model *m;
    char why[600];
    if (tui_model_open(&m, path, NULL, NULL, why, sizeof why) < 0) {
        no_controls(why);
        return 0;
    }
    ask_model(m, 0, "SELECT name FROM tasks", no_controls);
    tui_model_close(m);
    return 1;
}

static void test_clean(void **state)
{
    (void)state;
    assert_true(exercise(clean));
}

static void test_hostile(void **state)
{
    (void)state;
    static const struct { const char *name, *sql; int opens; } cases[] = {
        { "times", "UPDATE spans SET start = -start, end = 9223372036854775807 WHERE id % 2 = 0;"
                   "UPDATE tasks SET spawn_ts = 9223372036854775807, end_ts = -5 WHERE id = 2;"
                   "UPDATE meta SET value = -1 WHERE key = 'duration_ns'", 1 },
        { "ids", "UPDATE tasks SET parent = id WHERE id = 2; UPDATE tasks SET parent = 3 WHERE id = 3;"
                 "INSERT INTO tasks(id, name, parent) VALUES (-7, NULL, 99999999);"
                 "UPDATE spans SET resource = 424242 WHERE kind = 'step'", 1 },
        { "texts", "UPDATE tasks SET name = char(27) || '[2J' || char(7) || x'ff' WHERE id = 1;"
                   "UPDATE locations SET file = char(27) || ']0;x' || char(7), func = char(8);"
                   "UPDATE warnings SET message = char(155) || 'csi', stack = char(27) || char(10) || char(27);"
                   "UPDATE strings SET text = char(27) || '[31m'", 1 },
        { "kinds", "UPDATE spans SET wait = 'no-such-wait', kind = 'step' WHERE wait IS NOT NULL;"
                   "UPDATE resources SET kind = NULL; UPDATE warnings SET kind = 'bogus'", 1 },
        { "chunks", "UPDATE chunks SET data = x'0102030405', ring = 9999 WHERE seq % 2 = 0;"
                    "UPDATE chunks SET first_ts = 9223372036854775807, last_ts = -9223372036854775807 WHERE seq % 2 = 1;"
                    "UPDATE meta SET value = 'nan' WHERE key = 'ns_per_tick'", 1 },
        { "lod", "UPDATE timeline SET bucket = -bucket - 1, last = 255, kind = 99999, busy = -1 WHERE level < 3;"
                 "INSERT INTO timeline VALUES (1, 9, 9223372036854775807, 1, 1, 1, 1, 1)", 1 },
        { "no-lod", "DROP TABLE timeline", 1 },
        { "lod-is-a-view", "DROP TABLE timeline; CREATE VIEW timeline AS SELECT 1 AS task", 1 },
        { "no-tasks", "DROP TABLE tasks", 0 },
        /* its error quotes the file's own names: escapes in them must not reach the line */
        { "escape-in-error", "DROP TABLE tasks; CREATE TABLE \"x\x1b[2J\"(a); CREATE VIEW tasks AS SELECT a FROM"
                             " \"x\x1b[2J\"; DROP TABLE \"x\x1b[2J\"", 0 },
        { "no-meta", "DROP TABLE meta", 0 },
        /* bidi and invisible format characters in every text (issue 24) */
        { "bidi", "UPDATE tasks SET name = 'ab' || char(0x202e) || 'cd' || char(0x2066) || char(0x200b) || char(0xfeff);"
                  "UPDATE resources SET name = char(0x202a) || 'lock' || char(0x2069);"
                  "UPDATE locations SET file = char(0x200f) || 'f.c', func = char(0x2067);"
                  "UPDATE warnings SET message = char(0x202d) || 'm' || char(0x2028);"
                  "UPDATE strings SET text = char(0x202e) || 'log'", 1 },
        /* NULL arrays (issue 24, clang's UBSan): no warnings at all (NULL +
         * 0 in the timeline), an empty resources table that spans still
         * name (bsearch on NULL) */
        { "no-warnings", "DELETE FROM warnings", 1 },
        { "no-resources", "DELETE FROM resources", 1 },
        { "newer", "UPDATE meta SET value = 99 WHERE key = 'schema_version'", 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[400];
        damaged(cases[i].name, cases[i].sql, path, sizeof path);
        int opened = exercise(path);
        if (opened != cases[i].opens) fail_msg("%s: opened %d, expected %d", cases[i].name, opened, cases[i].opens);
    }
}

/* tr_sanitize shows what it does not obey: <U+202E>, not the override. */
static void test_sanitize_bidi(void **state)
{
    (void)state;
    char out[64];
    tr_sanitize(out, sizeof out, "a\u202eb\u2066c\u200bd\ufeff");
    assert_string_equal(out, "a<U+202E>b<U+2066>c<U+200B>d<U+FEFF>");
    tr_sanitize(out, sizeof out, "caf\u00e9 \u4e2d");   /* letters stay letters */
    assert_string_equal(out, "caf\u00e9 \u4e2d");
    tr_sanitize(out, 6, "ab\u202e");                  /* an escape that does not fit is cut whole */
    assert_string_equal(out, "ab");
}

/* Huge names: what the model keeps of a text is cut at TR_TEXT_MAX bytes
 * (tui__intern, and the SELECTs before it), so memory stays bounded by the
 * number of names. */
static void test_huge_names(void **state)
{
    (void)state;
    char path[400], why[600];
    damaged("huge", "UPDATE tasks SET name = printf('%.*c', 3000000, 'x');"
                    "UPDATE resources SET name = printf('%.*c', 3000000, 'y')", path, sizeof path);
    tui_model *m;
    assert_int_equal(tui_model_open(&m, path, NULL, NULL, why, sizeof why), 0);
    const tui_task *tasks;
    size_t nt = tui_model_tasks(m, &tasks);
    assert_true(nt > 0);
    for (size_t i = 0; i < nt; i++) assert_true(strlen(tasks[i].name) <= TR_TEXT_MAX);
    const tui_resource *res;
    size_t nr = tui_model_resources(m, &res);
    for (size_t i = 0; i < nr; i++) assert_true(strlen(res[i].name) <= TR_TEXT_MAX);
    tui_model_close(m);
}

/* A value over TR_VALUE_MAX: SQLite would load all of it even to cut it,
 * so the open is refused in one line that says why. */
static void test_value_over_bound(void **state)
{
    (void)state;
    char path[400], why[600];
    damaged("toobig", "UPDATE tasks SET name = hex(zeroblob(" TR__XSTR(TR_VALUE_MAX) " / 2 + 1)) WHERE id = 1", path,
            sizeof path);
    tui_model *m;
    assert_true(tui_model_open(&m, path, NULL, NULL, why, sizeof why) < 0);
    assert_non_null(strstr(why, "longer than 64 MB"));
    assert_null(strchr(why, '\n'));
}

/* A recording that stopped short says so in the model, for good. */
static void test_incomplete(void **state)
{
    (void)state;
    char path[400], why[600];
    damaged("incomplete", "INSERT OR REPLACE INTO meta VALUES ('complete', 0), ('incomplete', 'disk full')", path,
            sizeof path);
    tui_model *m;
    assert_int_equal(tui_model_open(&m, path, NULL, NULL, why, sizeof why), 0);
    assert_true(tui_model_info(m)->incomplete);
    assert_non_null(strstr(tui_model_info(m)->note, "incomplete"));
    tui_model_close(m);
    assert_int_equal(tui_model_open(&m, clean, NULL, NULL, why, sizeof why), 0);
    assert_false(tui_model_info(m)->incomplete);
    tui_model_close(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_incomplete),
        cmocka_unit_test(test_sanitize_bidi),
        cmocka_unit_test(test_huge_names),
        cmocka_unit_test(test_value_over_bound),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
