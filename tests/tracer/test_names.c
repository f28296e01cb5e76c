/* SPDX-License-Identifier: MIT */
/* test_names.c -- the names a trace stores (tracer/names.c): every kind,
 * state, ending and meta key has a distinct name, each name maps back to
 * its number, text a trace may hold that is no name maps to -1, and
 * docs/schema.md documents every one of them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "tracer.h"

typedef struct table {
    const char *what;
    unsigned count, first; /* first: the first number with a name of its own */
    const char *(*name)(unsigned);
    int (*from)(const char *);
} table;

static int wait_from(const char *s) { return tr_wait_from_name(s); }

static const table tables[] = {
    { "event kind", TR_KIND_COUNT, 0, tr_event_name, tr_event_from_name },
    { "wait kind", CO_WAIT_KIND_COUNT, 0, tr_wait_name, wait_from },
    { "warning kind", TR_WARN_COUNT, 1, tr_warning_name, tr_warning_from_name },
    { "span kind", TR_SPAN_KIND_COUNT, 0, tr_span_name, tr_span_from_name },
    { "task state", TR_TASK_STATE_COUNT, 0, tr_task_state_name, tr_task_state_from_name },
    { "ending", TR_ENDING_COUNT, 0, tr_ending_name, tr_ending_from_name },
    { "meta key", TR_META_KEY_COUNT, 0, tr_meta_key_name, tr_meta_key_from_name },
};

static void test_round_trip(void **state)
{
    (void)state;
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
        const table *tb = &tables[t];
        for (unsigned k = tb->first; k < tb->count; k++) {
            const char *n = tb->name(k);
            assert_non_null(n);
            if (!strcmp(n, "unknown") || !n[0]) fail_msg("%s %u has no name", tb->what, k);
            if (tb->from(n) != (int)k) fail_msg("%s '%s' maps back to %d, not %u", tb->what, n, tb->from(n), k);
            for (unsigned j = tb->first; j < k; j++)
                if (!strcmp(tb->name(j), n)) fail_msg("%s %u and %u are both '%s'", tb->what, j, k, n);
        }
        assert_string_equal(tb->name(tb->count), "unknown");
        assert_string_equal(tb->name(~0u), "unknown");
        assert_int_equal(tb->from("no such name"), -1);
        assert_int_equal(tb->from(""), -1);
        assert_int_equal(tb->from(NULL), -1);
    }
}

/* The names SQL text uses are the ones the tables hold. */
static void test_sql_names(void **state)
{
    (void)state;
    assert_string_equal(tr_span_name(TR_SPAN_STEP), TR_NAME_STEP);
    assert_string_equal(tr_span_name(TR_SPAN_HOLD), TR_NAME_HOLD);
    assert_string_equal(tr_event_name(TR_AWAIT), TR_NAME_AWAIT);
    assert_string_equal(tr_warning_name(TR_WARN_SLOW_STEP), TR_NAME_SLOW_STEP);
    assert_string_equal(tr_task_state_name(TR_TASK_DONE), TR_NAME_DONE);
    assert_string_equal(tr_ending_name(TR_ENDED_RUNNING), TR_NAME_RUNNING);
    assert_string_equal(tr_meta_key_name(TR_META_KEY_ENDED), TR_META_ENDED);
}

/* docs/schema.md is the format's reference: every name is in it, quoted as
 * code (`name`). */
static void test_documented(void **state)
{
    (void)state;
    FILE *f = fopen("docs/schema.md", "r");
    if (!f) fail_msg("docs/schema.md: not found (run from the top directory, as make test does)");
    static char doc[1 << 20];
    size_t n = fread(doc, 1, sizeof doc - 1, f);
    fclose(f);
    doc[n] = 0;
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
        const table *tb = &tables[t];
        for (unsigned k = tb->first; k < tb->count; k++) {
            if (tb->name == tr_event_name && k == TR_NONE) continue; /* never stored */
            char quoted[96];
            snprintf(quoted, sizeof quoted, "`%s`", tb->name(k));
            if (!strstr(doc, quoted)) fail_msg("docs/schema.md does not mention %s %s", tb->what, quoted);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_sql_names),
        cmocka_unit_test(test_documented),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
