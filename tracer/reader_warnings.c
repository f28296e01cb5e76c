/* SPDX-License-Identifier: MIT */
/* reader_warnings.c -- the warnings table, row by row, for every front end:
 * the report lists them by kind, longest first; the TUI loads them by id
 * as a live trace grows; the exports put them on the timeline by time.
 * One query, so the layouts it knows (warnings.cause_loc is newer than
 * schema 3's first traces) are known once, and every text is cut at
 * TR_TEXT_MAX as it is read (tracer.h).
 */
#include "reader_int.h"
#include <errno.h>
#include <stdio.h>

static const char *text_or_empty(sqlite3_stmt *st, int i)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    return s ? s : "";
}

static tr_src src_at(sqlite3_stmt *st, int file_col)
{
    const char *file = (const char *)sqlite3_column_text(st, file_col);
    return (tr_src){ file, file ? sqlite3_column_int64(st, file_col + 1) : 0 };
}

/* Columns: 0 id, 1 kind, 2 task, 3 task2, 4 resource, 5 ts, 6 dur,
 * 7 loc, 8 loc2, 9 cause_loc, 10 message, 11 stack, 12 task's name,
 * 13 resource's name, then file, line, func for loc (14), loc2 (17),
 * cause_loc (20).  CAUSE is the cause_loc column, or NULL in a trace made
 * before it. */
#define WARNINGS_SQL(CAUSE)                                                                                   \
    "SELECT w.id, " TR_TEXT("w.kind") ", w.task, w.task2, w.resource, w.ts, w.dur, w.loc, w.loc2, " CAUSE ", " \
    TR_TEXT("w.message") ", " TR_TEXT("w.stack") ", " TR_TEXT("t.name") ", " TR_TEXT("r.name") ","            \
    " " TR_TEXT("l.file") ", l.line, " TR_TEXT("l.func") ", " TR_TEXT("l2.file") ", l2.line, " TR_TEXT("l2.func") "," \
    " " TR_TEXT("l3.file") ", l3.line, " TR_TEXT("l3.func")                                                   \
    " FROM warnings w LEFT JOIN tasks t ON t.id = w.task LEFT JOIN resources r ON r.id = w.resource"           \
    " LEFT JOIN locations l ON l.id = w.loc LEFT JOIN locations l2 ON l2.id = w.loc2"                          \
    " LEFT JOIN locations l3 ON l3.id = " CAUSE                                                                \
    " WHERE w.id > ?1 AND (?2 IS NULL OR w.kind = ?2)"

int tr_warnings(sqlite3 *db, const char *kind, int64_t after_id, int order, int limit, tr_warning_fn *fn, void *ctx)
{
    const char *by = order == TR_WARNINGS_LONGEST ? " ORDER BY w.dur DESC, w.ts, w.id"
                   : order == TR_WARNINGS_BY_TIME ? " ORDER BY w.ts, w.id"
                                                  : " ORDER BY w.id";
    char sql[2048];
    sqlite3_stmt *st;
    snprintf(sql, sizeof sql, "%s%s LIMIT ?3", WARNINGS_SQL("w.cause_loc"), by);
    int err = tr__prepare(db, sql, &st);
    if (err == -EPROTO) { /* no cause_loc: a trace from before it */
        snprintf(sql, sizeof sql, "%s%s LIMIT ?3", WARNINGS_SQL("NULL"), by);
        err = tr__prepare(db, sql, &st);
    }
    if (err) return err;
    sqlite3_bind_int64(st, 1, after_id);
    if (kind) sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, limit > 0 ? limit : -1);
    while (tr__next(st, &err)) {
        tr_warning_row w = {
            .id = sqlite3_column_int64(st, 0),
            .kind_name = text_or_empty(st, 1),
            .task = sqlite3_column_int64(st, 2),
            .has_task = sqlite3_column_type(st, 2) != SQLITE_NULL,
            .task2 = sqlite3_column_int64(st, 3),
            .resource = sqlite3_column_int64(st, 4),
            .ts = sqlite3_column_int64(st, 5),
            .dur = sqlite3_column_int64(st, 6),
            .loc = sqlite3_column_int64(st, 7),
            .loc2 = sqlite3_column_int64(st, 8),
            .cause_loc = sqlite3_column_int64(st, 9),
            .message = text_or_empty(st, 10),
            .stack = text_or_empty(st, 11),
            .task_name = text_or_empty(st, 12),
            .resource_name = text_or_empty(st, 13),
            .at = src_at(st, 14),
            .at_func = text_or_empty(st, 16),
            .at2 = src_at(st, 17),
            .at2_func = text_or_empty(st, 19),
            .cause = src_at(st, 20),
            .cause_func = text_or_empty(st, 22),
        };
        int k = tr_warning_from_name(w.kind_name);
        w.kind = k > 0 ? k : 0;
        if (fn(ctx, &w)) break;
    }
    sqlite3_finalize(st);
    return err;
}

int tr_warning_kinds(sqlite3 *db, tr_warning_kind_fn *fn, void *ctx)
{
    /* A crash first: it is how the run ended. */
    static const char sql[] = "SELECT " TR_TEXT("kind") ", COUNT(*) FROM warnings GROUP BY kind"
                              " ORDER BY kind = '" TR_NAME_CRASH "' DESC, COUNT(*) DESC, kind";
    sqlite3_stmt *st;
    int err = tr__prepare(db, sql, &st);
    if (err) return err;
    while (tr__next(st, &err))
        if (fn(ctx, text_or_empty(st, 0), sqlite3_column_int64(st, 1))) break;
    sqlite3_finalize(st);
    return err;
}
