/* SPDX-License-Identifier: MIT */
/* reader_export.c -- the whole run, row by row, for the exports (Chrome
 * JSON, Perfetto protobuf): each task, its steps and the awaits that ended
 * them named by what they wait on, the spans that straddle steps (holds,
 * regions, pool work), and the instants (logs, marks, warnings).  The two
 * exports draw the same picture, so what a row is called ("lock db_lock",
 * "task #7 child", "hold db_lock") is worked out here once.  Each walk is
 * one scan in key order: a 10M-event trace streams through, nothing is
 * held.  The SQL is built from the kinds' names (runtime/trace.h,
 * coscope.h), not literals.
 */
#include "reader_int.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *text(sqlite3_stmt *st, int i) { return (const char *)sqlite3_column_text(st, i); }
static int is_null(sqlite3_stmt *st, int i) { return sqlite3_column_type(st, i) == SQLITE_NULL; }

static tr_src src(sqlite3_stmt *st, int file_col, int line_col)
{
    return (tr_src){ is_null(st, file_col) ? NULL : text(st, file_col), sqlite3_column_int64(st, line_col) };
}

int tr_walk_meta(sqlite3 *db, const char *const *keys, size_t n, tr_walk_meta_fn *fn, void *ctx)
{
    char sql[2048];
    size_t len = (size_t)snprintf(sql, sizeof sql, "SELECT key, value FROM meta WHERE key IN (");
    for (size_t i = 0; i < n && len < sizeof sql; i++) len += (size_t)snprintf(sql + len, sizeof sql - len, "%s?", i ? ", " : "");
    if (len + 20 >= sizeof sql) return -E2BIG;
    strcat(sql, ") ORDER BY key");
    sqlite3_stmt *st;
    int err = tr__prepare(db, sql, &st);
    if (err) return err;
    for (size_t i = 0; i < n; i++) sqlite3_bind_text(st, (int)i + 1, keys[i], -1, SQLITE_STATIC);
    while (tr__next(st, &err))
        if (fn(ctx, text(st, 0), is_null(st, 1) ? NULL : text(st, 1))) break;
    sqlite3_finalize(st);
    return err;
}

int tr_walk_tasks(sqlite3 *db, tr_walk_task_fn *fn, void *ctx)
{
    sqlite3_stmt *st;
    int err = tr__prepare(db, "SELECT id, name FROM tasks ORDER BY id", &st);
    if (err) return err;
    char label[1024];
    while (tr__next(st, &err)) {
        int64_t id = sqlite3_column_int64(st, 0);
        snprintf(label, sizeof label, "%s #%lld", is_null(st, 1) ? "task" : text(st, 1), (long long)id);
        if (fn(ctx, id, label)) break;
    }
    sqlite3_finalize(st);
    return err;
}

/* What an await waits on: a task by id and name, a resource by its name
 * (else by id), else the wait kind alone ("sleep"). */
static void await_name(sqlite3_stmt *st, tr_walk_step *r)
{
    const char *wait = text(st, 3);
    if (tr_wait_from_name(wait) == CO_WAIT_TASK && r->has_res)
        snprintf(r->what, sizeof r->what, "task #%lld %s", (long long)r->res, is_null(st, 14) ? "" : text(st, 14));
    else if (!is_null(st, 13) && *text(st, 13)) snprintf(r->what, sizeof r->what, "%s %s", wait, text(st, 13));
    else if (!is_null(st, 12)) snprintf(r->what, sizeof r->what, "%s #%lld", wait, (long long)r->res);
    else snprintf(r->what, sizeof r->what, "%s", wait);
}

int tr_walk_steps(sqlite3 *db, int names, tr_walk_step_fn *fn, void *ctx)
{
    char sql[1024];
    if (names)
        snprintf(sql, sizeof sql,
                 "SELECT s.task, s.start, s.end, s.wait, s.resource, s.result, s.open, s.resumed,"
                 "  l.file, l.line, l2.file, l2.line, r.kind, r.name, t.name"
                 " FROM spans s LEFT JOIN locations l ON l.id = s.loc LEFT JOIN locations l2 ON l2.id = s.end_loc"
                 " LEFT JOIN resources r ON r.id = s.resource AND s.wait <> '%s'"
                 " LEFT JOIN tasks t ON t.id = s.resource AND s.wait = '%s'"
                 " WHERE s.kind = '%s' AND s.task <> 0 ORDER BY s.task, s.start, s.id",
                 tr_wait_name(CO_WAIT_TASK), tr_wait_name(CO_WAIT_TASK), tr_span_name(TR_SPAN_STEP));
    else
        snprintf(sql, sizeof sql, "SELECT task, start, end FROM spans WHERE kind = '%s' AND task <> 0"
                 " ORDER BY task, start, id", tr_span_name(TR_SPAN_STEP));
    sqlite3_stmt *st;
    int err = tr__prepare(db, sql, &st);
    if (err) return err;
    tr_walk_step r;
    while (tr__next(st, &err)) {
        r.task = sqlite3_column_int64(st, 0);
        r.start = sqlite3_column_int64(st, 1);
        r.end = sqlite3_column_int64(st, 2);
        r.awaited = r.has_res = r.has_result = r.open = 0;
        r.res = r.result = r.resumed = 0;
        r.from = r.to = (tr_src){ NULL, 0 };
        r.what[0] = 0;
        if (names) {
            r.awaited = !is_null(st, 3);
            r.has_res = !is_null(st, 4);
            r.res = sqlite3_column_int64(st, 4);
            r.has_result = !is_null(st, 5);
            r.result = sqlite3_column_int64(st, 5);
            r.open = sqlite3_column_int(st, 6) != 0;
            r.resumed = sqlite3_column_int64(st, 7);
            r.from = src(st, 8, 9);
            r.to = src(st, 10, 11);
            if (r.awaited) await_name(st, &r);
        }
        if (fn(ctx, &r)) break;
    }
    sqlite3_finalize(st);
    return err;
}

int tr_walk_spans(sqlite3 *db, int by_task, tr_walk_span_fn *fn, void *ctx)
{
    char sql[1024];
    const char *hold = tr_span_name(TR_SPAN_HOLD), *region = tr_span_name(TR_SPAN_REGION);
    snprintf(sql, sizeof sql,
             "SELECT s.id, s.kind, s.task, s.resource, s.start, s.end, s.open, r.kind, r.name, str.text, l.file, l.line"
             " FROM spans s LEFT JOIN resources r ON r.id = s.resource AND s.kind = '%s'"
             " LEFT JOIN strings str ON str.id = s.resource AND s.kind = '%s'"
             " LEFT JOIN locations l ON l.id = s.loc"
             " WHERE s.kind IN ('%s', '%s', '%s') ORDER BY %s",
             hold, region, hold, region, tr_span_name(TR_SPAN_WORK), by_task ? "s.task, s.start" : "s.start");
    sqlite3_stmt *st;
    int err = tr__prepare(db, sql, &st);
    if (err) return err;
    tr_walk_span r;
    while (tr__next(st, &err)) {
        r.id = sqlite3_column_int64(st, 0);
        r.kind = tr_span_from_name(text(st, 1));
        r.task = sqlite3_column_int64(st, 2);
        r.has_res = !is_null(st, 3);
        r.res = sqlite3_column_int64(st, 3);
        r.start = sqlite3_column_int64(st, 4);
        r.end = sqlite3_column_int64(st, 5);
        r.open = sqlite3_column_int(st, 6) != 0;
        r.at = src(st, 10, 11);
        if (r.kind == TR_SPAN_HOLD)
            snprintf(r.name, sizeof r.name, "hold %s", !is_null(st, 8) ? text(st, 8) : is_null(st, 7) ? "?" : text(st, 7));
        else if (r.kind == TR_SPAN_REGION) snprintf(r.name, sizeof r.name, "%s", is_null(st, 9) ? "region" : text(st, 9));
        else snprintf(r.name, sizeof r.name, "thread pool work");
        if (fn(ctx, &r)) break;
    }
    sqlite3_finalize(st);
    return err;
}

typedef struct instant_ctx {
    tr_walk_instant_fn *fn;
    void *ctx;
} instant_ctx;

static int warning_instant(void *ctx, const tr_warning_row *w)
{
    instant_ctx *c = ctx;
    tr_walk_instant r = { .ts = w->ts, .task = w->task, .has_task = w->has_task, .kind = TR_WARN,
                          .warning = w->kind_name, .text = w->message[0] ? w->message : NULL, .at = w->at };
    return c->fn(c->ctx, &r);
}

int tr_walk_instants(sqlite3 *db, tr_walk_instant_fn *fn, void *ctx)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT e.ts, e.task, e.kind, s.text, l.file, l.line FROM events e"
             " LEFT JOIN strings s ON s.id = e.resource LEFT JOIN locations l ON l.id = e.loc"
             " WHERE e.kind IN ('%s', '%s') ORDER BY e.ts",
             tr_event_name(TR_LOG), tr_event_name(TR_MARK));
    sqlite3_stmt *st;
    int err = tr__prepare(db, sql, &st);
    if (err) return err;
    int stop = 0;
    while (!stop && tr__next(st, &err)) {
        tr_walk_instant r = { .ts = sqlite3_column_int64(st, 0), .has_task = !is_null(st, 1),
                              .task = sqlite3_column_int64(st, 1), .at = src(st, 4, 5),
                              .text = is_null(st, 3) ? NULL : text(st, 3), .kind = tr_event_from_name(text(st, 2)) };
        stop = fn(ctx, &r);
    }
    sqlite3_finalize(st);
    if (err || stop) return err;
    instant_ctx c = { fn, ctx };
    return tr_warnings(db, NULL, 0, TR_WARNINGS_BY_TIME, 0, warning_instant, &c);
}

int tr_export_rows(sqlite3 *db, int64_t *steps, int64_t *spans, int64_t *instants)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT (SELECT count(*) FROM spans WHERE kind = '%s'),"
             " (SELECT count(*) FROM spans WHERE kind IN ('%s', '%s', '%s')),"
             " (SELECT count(*) FROM events WHERE kind IN ('%s', '%s')) + (SELECT count(*) FROM warnings)",
             tr_span_name(TR_SPAN_STEP), tr_span_name(TR_SPAN_HOLD), tr_span_name(TR_SPAN_REGION),
             tr_span_name(TR_SPAN_WORK), tr_event_name(TR_LOG), tr_event_name(TR_MARK));
    sqlite3_stmt *st;
    *steps = *spans = *instants = 0;
    int err = tr__prepare(db, sql, &st);
    if (err) return err;
    if (tr__next(st, &err)) {
        *steps = sqlite3_column_int64(st, 0);
        *spans = sqlite3_column_int64(st, 1);
        *instants = sqlite3_column_int64(st, 2);
    }
    sqlite3_finalize(st);
    return err;
}
