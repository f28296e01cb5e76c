/* SPDX-License-Identifier: MIT */
/* reader_tables.c -- the builder's summaries, ranked: the tasks that ran or
 * waited longest (view task_summary), the locks, semaphores and queues
 * with the most waiting (view lock_contention) and their worst acquire
 * sites (contention_sites).  What `coscope report` prints as tables; the
 * views are the documented ones (docs/schema.md), so a reader of the
 * report can ask `coscope sql` the same.  Texts are the file's, copied
 * raw and cut to fit: the caller sanitizes them.
 */
#include "reader_int.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Column i into out (cap bytes), "" for NULL. */
static void copy(sqlite3_stmt *st, int i, char *out, size_t cap)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    snprintf(out, cap, "%s", s ? s : "");
}

static int64_t num(sqlite3_stmt *st, int i) { return sqlite3_column_int64(st, i); }

int tr_top_tasks(sqlite3 *db, int rank, int top, tr_task_sum_fn *fn, void *ctx)
{
    const char *by = rank == TR_RANK_WAIT ? "wait_ns" : "busy_ns";
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT task, " TR_TEXT("name") ", state, busy_ns, wait_ns, total_ns, steps, awaits, spawned_at FROM task_summary"
             " WHERE %s > 0 ORDER BY %s DESC, task LIMIT %d", by, by, top);
    sqlite3_stmt *st;
    int err = tr__prepare(db, sql, &st);
    if (err) return err;
    tr_task_sum t;
    while (tr__next(st, &err)) {
        t.id = num(st, 0);
        copy(st, 1, t.name, sizeof t.name);
        copy(st, 2, t.state_name, sizeof t.state_name);
        t.state = tr_task_state_from_name(t.state_name);
        t.busy_ns = num(st, 3);
        t.wait_ns = num(st, 4);
        t.total_ns = num(st, 5);
        t.steps = num(st, 6);
        t.awaits = num(st, 7);
        copy(st, 8, t.spawned_at, sizeof t.spawned_at);
        if (fn(ctx, &t)) break;
    }
    sqlite3_finalize(st);
    return err;
}

int tr_top_contention(sqlite3 *db, int top, tr_contention_fn *fn, void *ctx)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT " TR_TEXT("name") ", kind, acquisitions, contended, wait_total_ns, wait_p50_ns, wait_p99_ns, wait_max_ns,"
             " hold_max_ns, max_waiters, longest_waiter, longest_holder, resource FROM lock_contention"
             " ORDER BY wait_total_ns DESC, contended DESC, acquisitions DESC, resource LIMIT %d", top);
    sqlite3_stmt *st;
    int err = tr__prepare(db, sql, &st);
    if (err) return err;
    tr_contention c;
    while (tr__next(st, &err)) {
        copy(st, 0, c.name, sizeof c.name);
        copy(st, 1, c.kind_name, sizeof c.kind_name);
        c.kind = tr_wait_from_name(c.kind_name);
        c.acquisitions = num(st, 2);
        c.contended = num(st, 3);
        c.wait_total_ns = num(st, 4);
        c.wait_p50_ns = num(st, 5);
        c.wait_p99_ns = num(st, 6);
        c.wait_max_ns = num(st, 7);
        c.hold_max_ns = num(st, 8);
        c.max_waiters = num(st, 9);
        c.has_waiter = sqlite3_column_type(st, 10) != SQLITE_NULL;
        c.longest_waiter = num(st, 10);
        c.has_holder = sqlite3_column_type(st, 11) != SQLITE_NULL;
        c.longest_holder = num(st, 11);
        c.res = num(st, 12);
        if (fn(ctx, &c)) break;
    }
    sqlite3_finalize(st);
    return err;
}

int tr_contention_sites(sqlite3 *db, int top, tr_site_fn *fn, void *ctx)
{
    sqlite3_stmt *st;
    int err = tr__prepare(db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'contention_sites'", &st);
    if (err) return err;
    int have = tr__next(st, &err) && num(st, 0) > 0;
    sqlite3_finalize(st);
    if (err || !have) return err;
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT c.resource, " TR_TEXT("r.name") ", l.file || ':' || l.line, l.func, c.acquisitions,"
             " c.contended, c.wait_total_ns, c.wait_p99_ns, c.wait_max_ns, r.kind FROM contention_sites c"
             " JOIN (SELECT resource, wait_total_ns t FROM lock_contention WHERE contended > 0"
             "       ORDER BY wait_total_ns DESC LIMIT %d) k ON k.resource = c.resource"
             " LEFT JOIN resources r ON r.id = c.resource LEFT JOIN locations l ON l.id = c.loc"
             " WHERE c.contended > 0 ORDER BY k.t DESC, c.resource, c.wait_total_ns DESC", top);
    if ((err = tr__prepare(db, sql, &st))) return err;
    tr_site s;
    while (tr__next(st, &err)) {
        s.res = num(st, 0);
        if (sqlite3_column_type(st, 1) == SQLITE_NULL) snprintf(s.name, sizeof s.name, "#%lld", (long long)s.res);
        else copy(st, 1, s.name, sizeof s.name);
        copy(st, 2, s.loc, sizeof s.loc);
        copy(st, 3, s.func, sizeof s.func);
        s.acquisitions = num(st, 4);
        s.contended = num(st, 5);
        s.wait_total_ns = num(st, 6);
        s.wait_p99_ns = num(st, 7);
        s.wait_max_ns = num(st, 8);
        int k = tr_wait_from_name((const char *)sqlite3_column_text(st, 9));
        s.queue = k == CO_WAIT_QUEUE_GET || k == CO_WAIT_QUEUE_PUT || k == CO_WAIT_QUEUE_JOIN;
        if (fn(ctx, &s)) break;
    }
    sqlite3_finalize(st);
    return err;
}
