/* SPDX-License-Identifier: MIT */
/* model_sql.c -- the SQL prompt's query: run what the user typed on the
 * trace, read-only, with the cursor time and the selected task bound as :t
 * and :task (so docs/schema.md's ready-made queries run as they are), and
 * return the rows as sanitized text for a table view.
 *
 * The reader's connection is guarded (tracer/guard.c): reads only, and a
 * statement that runs too long without a row is interrupted (a UI must not
 * hang on a cross join); SQL_LIMIT_S here, shorter than the command line's
 * bound, since someone is watching the screen.  At most TUI_SQL_MAX_ROWS
 * rows are read.
 */
#include "model_int.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SQL_LIMIT_S 10

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Width in characters of sanitized UTF-8 text (continuation bytes do not count). */
static int text_width(const char *s)
{
    int w = 0;
    for (; *s; s++) w += ((unsigned char)*s & 0xc0) != 0x80;
    return w;
}

static char *cell_copy(const char *s)
{
    size_t n = strlen(s);
    if (n > TR_TEXT_MAX) n = TR_TEXT_MAX;   /* the one cut of a text read from a trace (tracer.h) */
    char tmp[TR_TEXT_MAX + 1];
    memcpy(tmp, s, n);
    tmp[n] = 0;
    char *out = malloc(3 * n + 1); /* an escape (<U+202E>) is 8 bytes for 3 */
    if (out) tr_sanitize(out, 3 * n + 1, tmp);
    return out;
}

void tui_table_free(tui_table *t)
{
    if (t->cells) {
        for (size_t i = 0; i < (t->nrows + 1) * (size_t)t->ncols; i++) free(t->cells[i]);
    }
    free(t->cells);
    free(t->width);
    memset(t, 0, sizeof *t);
}

static void bind_named(sqlite3_stmt *st, const char *name, int64_t v, int is_null)
{
    const char *prefixes = ":@$";
    for (const char *p = prefixes; *p; p++) {
        char full[16];
        snprintf(full, sizeof full, "%c%s", *p, name);
        int i = sqlite3_bind_parameter_index(st, full);
        if (i <= 0) continue;
        if (is_null) sqlite3_bind_null(st, i);
        else sqlite3_bind_int64(st, i, v);
    }
}

/* Read st's rows into t (which starts empty). */
static int read_rows(tui_model *m, sqlite3_stmt *st, tui_table *t)
{
    int ncols = sqlite3_column_count(st);
    size_t cap = 64;
    t->ncols = ncols;
    t->cells = calloc(cap * (size_t)(ncols ? ncols : 1), sizeof *t->cells);
    t->width = calloc((size_t)(ncols ? ncols : 1), sizeof *t->width);
    if (!t->cells || !t->width) return -ENOMEM;
    for (int c = 0; c < ncols; c++) {
        const char *name = sqlite3_column_name(st, c);
        t->cells[c] = cell_copy(name ? name : "?");
        t->width[c] = t->cells[c] ? text_width(t->cells[c]) : 1;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (t->nrows >= TUI_SQL_MAX_ROWS) {
            t->truncated = 1;
            break;
        }
        if ((t->nrows + 2) > cap) {
            size_t ncap = cap * 2;
            char **nc = realloc(t->cells, ncap * (size_t)ncols * sizeof *nc);
            if (!nc) return -ENOMEM;
            memset(nc + cap * (size_t)ncols, 0, (ncap - cap) * (size_t)ncols * sizeof *nc);
            t->cells = nc;
            cap = ncap;
        }
        t->nrows++;
        for (int c = 0; c < ncols; c++) {
            const char *v = sqlite3_column_type(st, c) == SQLITE_NULL ? "NULL" : (const char *)sqlite3_column_text(st, c);
            char *cell = cell_copy(v ? v : "");
            t->cells[t->nrows * (size_t)ncols + (size_t)c] = cell;
            int w = cell ? text_width(cell) : 0;
            if (w > t->width[c]) t->width[c] = w;
        }
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        snprintf(t->error, sizeof t->error, "%s", tr_db_errmsg(m->db));
        return -EIO;
    }
    return 0;
}

int tui_model_sql(tui_model *m, const char *sql, int64_t t, int64_t task_id, tui_table *out)
{
    memset(out, 0, sizeof *out);
    int64_t start = now_ns();
    int64_t limit = tr_db_set_limit(m->db, (int64_t)SQL_LIMIT_S * 1000000000);
    const char *rest = sql;
    int r = 0, ran = 0;
    /* Several statements run in turn; the table shows the last one's rows. */
    while (rest && *rest) {
        sqlite3_stmt *st = NULL;
        const char *tail = NULL;
        if (sqlite3_prepare_v2(m->db, rest, -1, &st, &tail) != SQLITE_OK) {
            tui_table_free(out);
            snprintf(out->error, sizeof out->error, "%s", tr_db_errmsg(m->db));
            r = -EINVAL;
            break;
        }
        rest = tail;
        if (!st) continue; /* whitespace or a comment */
        bind_named(st, "t", t, 0);
        bind_named(st, "task", task_id, task_id == 0);
        tui_table_free(out);
        m->in_sql = 1;
        r = read_rows(m, st, out);
        m->in_sql = 0;
        sqlite3_finalize(st);
        ran = 1;
        if (r < 0) break;
    }
    if (limit >= 0) tr_db_set_limit(m->db, limit);
    if (!ran && r == 0) {
        snprintf(out->error, sizeof out->error, "nothing to run");
        r = -EINVAL;
    }
    if (r < 0 && !out->error[0]) snprintf(out->error, sizeof out->error, "out of memory");
    /* Reuse, not a stale table: sanitize the message too (it can quote the input). */
    char msg[sizeof out->error];
    tr_sanitize(msg, sizeof msg, out->error);
    memcpy(out->error, msg, sizeof msg);
    out->elapsed_us = (now_ns() - start) / 1000;
    return r;
}
