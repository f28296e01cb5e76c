/* SPDX-License-Identifier: MIT */
/* reader_wake.c -- wake-up edges: who woke whom, and when, as far as the
 * trace states it soundly.  Every front end that draws causality (the
 * Chrome export's flow arrows; any view that follows a wake-up) asks
 * here, so the inference is written once:
 *   task end            -> the task awaiting it (an await on it that spans
 *                          the end: one that returned earlier, by timeout
 *                          or cancellation, was not woken by it);
 *   lock / semaphore release -> the task it was handed to (the event's arg);
 *   event set / future set   -> every waiter open at that instant (an
 *                          event's arg caps it: the waiters it woke);
 *   condition notify     -> the N longest waiters (N = woken, FIFO);
 *   queue put handed to a getter / get that let a putter in -> the longest
 *                          waiting getter / putter (FIFO).
 * Gathers carry no per-task edge in the data: none.  The SQL is built from
 * the kinds' names (runtime/trace.h, coscope.h), not literals.
 *
 * And, for one wait at a time, when it was over (tr_ready_at): the moment
 * the task became ready again, for its scheduled-to-running delay. */
#include "reader.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct wait {
    int64_t task, start, end;
    int wait, claimed;
} wait;

static int step_rows(sqlite3_stmt *st, int *err)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) return 1;
    if (rc != SQLITE_DONE) *err = -EILSEQ;
    return 0;
}

static int task_ends(sqlite3 *db, tr_wake_fn *fn, void *ctx)
{
    sqlite3_stmt *st;
    char sql[600];
    snprintf(sql, sizeof sql,
             "SELECT t.id, t.end_ts, s.task, s.resumed FROM spans s JOIN tasks t ON t.id = s.resource"
             " WHERE s.kind = '%s' AND s.wait = '%s' AND s.open = 0 AND t.end_ts IS NOT NULL"
             " AND t.end_ts BETWEEN s.end AND s.resumed ORDER BY t.end_ts",
             tr_span_name(TR_SPAN_STEP), tr_wait_name(CO_WAIT_TASK));
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return -EILSEQ;
    int err = 0;
    while (!err && step_rows(st, &err)) {
        int64_t end = sqlite3_column_int64(st, 1);
        tr_wake w = { TR_END, sqlite3_column_int64(st, 0), end == INT64_MIN ? end : end - 1, sqlite3_column_int64(st, 2),
                      sqlite3_column_int64(st, 3) };
        if (fn(ctx, &w)) break;
    }
    sqlite3_finalize(st);
    return err;
}

/* The wait kind an event kind ends, -1 for an event that wakes nobody. */
static int wait_of(int kind)
{
    switch (kind) {
    case TR_LOCK_REL: return CO_WAIT_LOCK;
    case TR_SEM_REL: return CO_WAIT_SEM;
    case TR_EV_SET: return CO_WAIT_EVENT;
    case TR_COND_NOTIFY: return CO_WAIT_COND;
    case TR_FUT_SET: return CO_WAIT_FUTURE;
    case TR_Q_PUT: return CO_WAIT_QUEUE_GET;
    case TR_Q_GET: return CO_WAIT_QUEUE_PUT;
    default: return -1;
    }
}

static const int WAKERS[] = { TR_LOCK_REL, TR_SEM_REL, TR_EV_SET, TR_COND_NOTIFY, TR_FUT_SET, TR_Q_PUT, TR_Q_GET };
#define NWAKERS (sizeof WAKERS / sizeof WAKERS[0])

int tr_wakeups(sqlite3 *db, tr_wake_fn *fn, void *ctx)
{
    int err = task_ends(db, fn, ctx);
    if (err) return err;
    /* Object wake-ups: merge, per resource, the waking events (by time)
     * with the awaits on it (by start), all FIFO as the runtime is. */
    char kinds[400] = "", waits[400] = "", sql[1200];
    for (size_t i = 0; i < NWAKERS; i++) {
        size_t n = strlen(kinds), m = strlen(waits);
        snprintf(kinds + n, sizeof kinds - n, "%s'%s'", i ? ", " : "", tr_event_name((unsigned)WAKERS[i]));
        snprintf(waits + m, sizeof waits - m, "%s'%s'", i ? ", " : "", tr_wait_name((unsigned)wait_of(WAKERS[i])));
    }
    sqlite3_stmt *evs = NULL, *ws = NULL;
    snprintf(sql, sizeof sql, "SELECT resource, ts, task, kind, arg FROM events WHERE kind IN (%s)"
             " AND task IS NOT NULL AND resource IS NOT NULL ORDER BY resource, ts, id", kinds);
    if (sqlite3_prepare_v2(db, sql, -1, &evs, NULL) != SQLITE_OK) return -EILSEQ;
    snprintf(sql, sizeof sql, "SELECT resource, task, end, resumed, wait FROM spans WHERE kind = '%s' AND open = 0"
             " AND wait IN (%s) ORDER BY resource, end, id", tr_span_name(TR_SPAN_STEP), waits);
    if (sqlite3_prepare_v2(db, sql, -1, &ws, NULL) != SQLITE_OK) {
        sqlite3_finalize(evs);
        return -EILSEQ;
    }
    wait *w = NULL;
    size_t nw = 0, cap = 0, lo = 0;
    int64_t cur = -1;
    int have_w = step_rows(ws, &err), stop = 0;
    while (!err && !stop && step_rows(evs, &err)) {
        int64_t res = sqlite3_column_int64(evs, 0), ts = sqlite3_column_int64(evs, 1);
        int64_t task = sqlite3_column_int64(evs, 2), arg = sqlite3_column_int64(evs, 4);
        const char *kname = (const char *)sqlite3_column_text(evs, 3);
        int kind = kname ? tr_event_from_name(kname) : -1;
        if (res != cur) {
            /* This resource's awaits (both cursors go by resource). */
            cur = res;
            nw = lo = 0;
            while (have_w && sqlite3_column_int64(ws, 0) < res) have_w = step_rows(ws, &err);
            while (have_w && sqlite3_column_int64(ws, 0) == res) {
                if (nw == cap) {
                    cap = cap ? cap * 2 : 64;
                    wait *n = realloc(w, cap * sizeof *n);
                    if (!n) {
                        err = -ENOMEM;
                        break;
                    }
                    w = n;
                }
                const char *wn = (const char *)sqlite3_column_text(ws, 4);
                w[nw++] = (wait){ sqlite3_column_int64(ws, 1), sqlite3_column_int64(ws, 2), sqlite3_column_int64(ws, 3),
                                  wn ? tr_wait_from_name(wn) : -1, 0 };
                have_w = step_rows(ws, &err);
            }
            if (err) break;
        }
        int want = wait_of(kind), limit = 1;
        int64_t only = 0;
        if (want < 0) continue;
        if (kind == TR_LOCK_REL || kind == TR_SEM_REL) only = arg;
        else if (kind == TR_EV_SET || kind == TR_COND_NOTIFY) limit = (int)arg;
        else if (kind == TR_FUT_SET) limit = 1 << 30;
        else if (kind == TR_Q_PUT && arg != 0) continue; /* not handed to a getter: it stayed in the queue */
        if ((kind == TR_LOCK_REL || kind == TR_SEM_REL) && !only) continue; /* released to nobody */
        /* Waits open at ts, oldest first (the array is by start).  Events
         * come in time order, so waits already used or over are skipped for
         * good: linear overall for FIFO objects. */
        while (lo < nw && (w[lo].claimed || w[lo].end < ts)) lo++;
        for (size_t i = lo; i < nw && limit > 0 && w[i].start <= ts; i++) {
            wait *c = &w[i];
            if (c->claimed || c->wait != want || c->end < ts) continue;
            if (only && c->task != only) continue;
            c->claimed = 1;
            limit--;
            if (c->task != task) {
                tr_wake e = { kind, task, ts, c->task, c->end };
                if (fn(ctx, &e)) {
                    stop = 1;
                    break;
                }
            }
            if (only) break;
        }
    }
    free(w);
    sqlite3_finalize(evs);
    sqlite3_finalize(ws);
    return err;
}

/* ---- when one wait was over ------------------------------------------------ */

struct tr_ready {
    sqlite3_stmt *task_end, *child_end, *release;
};

int tr_ready_open(tr_ready **out, sqlite3 *db)
{
    *out = NULL;
    tr_ready *r = calloc(1, sizeof *r);
    if (!r) return -ENOMEM;
    char sql[400];
    int ok = sqlite3_prepare_v2(db, "SELECT end_ts FROM tasks WHERE id = ?1", -1, &r->task_end, NULL) == SQLITE_OK;
    /* a gather is over when the last of its children it waited for ended */
    ok = ok && sqlite3_prepare_v2(db, "SELECT MAX(end_ts) FROM tasks WHERE parent = ?1 AND end_ts BETWEEN ?2 AND ?3", -1,
                                  &r->child_end, NULL) == SQLITE_OK;
    /* the last release before the waiter resumed, among the last 64 holds
     * begun before (spans_hold's key): a semaphore's holds overlap, so the
     * one begun last need not be the one that ended last */
    snprintf(sql, sizeof sql, "SELECT MAX(e) FROM (SELECT end AS e FROM spans WHERE kind = '%s' AND resource = ?1"
             " AND start < ?3 AND task <> ?4 ORDER BY start DESC LIMIT 64) WHERE e BETWEEN ?2 AND ?3",
             tr_span_name(TR_SPAN_HOLD));
    ok = ok && sqlite3_prepare_v2(db, sql, -1, &r->release, NULL) == SQLITE_OK;
    if (!ok) {
        tr_ready_close(r);
        return -EILSEQ;
    }
    *out = r;
    return 0;
}

void tr_ready_close(tr_ready *r)
{
    if (!r) return;
    sqlite3_finalize(r->task_end);
    sqlite3_finalize(r->child_end);
    sqlite3_finalize(r->release);
    free(r);
}

/* One integer from st with the given binds; 1 with *v, 0 if NULL/none. */
static int one(sqlite3_stmt *st, int64_t *v)
{
    int rc = sqlite3_step(st), got = 0;
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        *v = sqlite3_column_int64(st, 0);
        got = 1;
    } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        got = -EILSEQ;
    }
    sqlite3_reset(st);
    return got;
}

int tr_ready_at(tr_ready *r, int64_t task, const tr_step *s, int64_t *ts)
{
    if (s->wait < 0 || !s->has_resumed || s->open || s->resumed < s->end) return 0;
    int got = 0;
    int64_t v = 0;
    switch (s->wait) {
    case CO_WAIT_YIELD:
        v = s->end; /* ready again at once: its whole wait was for the loop */
        got = 1;
        break;
    case CO_WAIT_TASK:
        sqlite3_bind_int64(r->task_end, 1, s->res);
        got = one(r->task_end, &v);
        break;
    case CO_WAIT_TASKS: case CO_WAIT_GROUP:
        sqlite3_bind_int64(r->child_end, 1, task);
        sqlite3_bind_int64(r->child_end, 2, s->end);
        sqlite3_bind_int64(r->child_end, 3, s->resumed);
        got = one(r->child_end, &v);
        break;
    case CO_WAIT_LOCK: case CO_WAIT_SEM:
        sqlite3_bind_int64(r->release, 1, s->res);
        sqlite3_bind_int64(r->release, 2, s->end);
        sqlite3_bind_int64(r->release, 3, s->resumed);
        sqlite3_bind_int64(r->release, 4, task);
        got = one(r->release, &v);
        break;
    default:
        return 0; /* a timer's, an event's, a queue's, I/O's moment is not in the tables */
    }
    if (got <= 0) return got;
    if (v < s->end || v > s->resumed) return 0; /* it returned by a timeout or a cancellation, not this */
    *ts = v;
    return 1;
}

