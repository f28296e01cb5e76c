/* SPDX-License-Identifier: MIT */
/* reader_at.c -- the state of the run at a time t, for every front end:
 * a task's step row at t, the awaits open at t on one resource (or on
 * tasks), the waiters of a resource (how many, and the longest waiting),
 * and the holds open at t.  The SQL is built from the names (tracer/names.c), not
 * literals, so a renamed kind cannot leave a query behind.
 *
 * Awaits come from `waits` (waitrows.c), by what they wait on, holds from
 * spans' bins: both are binned intervals, so "open at t" reads, for each of the TR_NBINS bins
 * that can hold such an interval, the range of starts from the bin's
 * bucket start to t -- rows open at t plus the ones of the same bucket
 * that ended before t, whatever the trace's length or its tasks. */
#include "reader_int.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define prep tr__prep

int tr_at_open(tr_at **out, sqlite3 *db)
{
    *out = NULL;
    tr_at *q = calloc(1, sizeof *q);
    if (!q) return -ENOMEM;
    const char *step = tr_span_name(TR_SPAN_STEP), *hold = tr_span_name(TR_SPAN_HOLD);
    char sql[640];
    const char *cols = "start, end, wait, resource, resumed, loc, end_loc, open";
    snprintf(sql, sizeof sql, "SELECT %s FROM spans WHERE task = ?1 AND kind = '%s' AND start <= ?2"
             " ORDER BY start DESC, id DESC LIMIT 1", cols, step);
    int r = prep(db, &q->step_at, sql);
    snprintf(sql, sizeof sql, "SELECT %s FROM spans WHERE task = ?1 AND kind = '%s' AND start > ?2"
             " ORDER BY start, id LIMIT 1", cols, step);
    if (r == 0) r = prep(db, &q->step_after, sql);
    /* One bin's range: ?1 the bin, ?2 its bucket's start, ?3 t.  An open
     * row ends at the trace's end and is still open there. */
    /* ?4 the resource (waits.rkey), ?5 at most how many (ORDER BY is the
     * key's own order: the earliest first, no sort). */
    if (r == 0)
        r = prep(db, &q->waits, "SELECT task, resource, start, end, wait, open, loc FROM waits"
                                " WHERE rkey = ?4 AND bin = ?1 AND start >= ?2 AND start <= ?3"
                                " AND (end > ?3 OR (open AND end >= ?3)) ORDER BY start, id LIMIT ?5");
    if (r == 0)
        r = prep(db, &q->count_at, "SELECT n FROM wait_counts WHERE resource = ?1 AND ts <= ?2 ORDER BY ts DESC LIMIT 1");
    if (r == 0) r = prep(db, &q->count_any, "SELECT 1 FROM wait_counts WHERE resource = ?1 LIMIT 1");
    if (r == 0) r = tr__series_prep(q, db);
    snprintf(sql, sizeof sql, "SELECT resource, task, start FROM spans WHERE bin = ?1 AND start >= ?2 AND start <= ?3"
             " AND kind = '%s' AND (end > ?3 OR (open AND end >= ?3))", hold);
    if (r == 0) r = prep(db, &q->holds, sql);
    snprintf(sql, sizeof sql, "SELECT task, start FROM spans WHERE kind = '%s' AND resource = ?1 AND start <= ?2"
             " AND (end > ?2 OR (open AND end >= ?2)) AND bin IN (?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
             " ORDER BY start DESC", hold);
    if (r == 0) r = prep(db, &q->holders, sql);
    if (r < 0) {
        tr_at_close(q);
        return r;
    }
    *out = q;
    return 0;
}

void tr_at_close(tr_at *q)
{
    if (!q) return;
    sqlite3_finalize(q->step_at);
    sqlite3_finalize(q->step_after);
    sqlite3_finalize(q->waits);
    sqlite3_finalize(q->holds);
    sqlite3_finalize(q->holders);
    sqlite3_finalize(q->count_at);
    sqlite3_finalize(q->count_any);
    sqlite3_finalize(q->hist);
    sqlite3_finalize(q->hist_steps);
    sqlite3_finalize(q->depth);
    sqlite3_finalize(q->steps_near[0]);
    sqlite3_finalize(q->steps_near[1]);
    sqlite3_finalize(q->lod_rows);
    sqlite3_finalize(q->lod_before);
    sqlite3_finalize(q->lod_level);
    sqlite3_finalize(q->tl_spans);
    free(q);
}

static int step_row(sqlite3_stmt *st, int64_t task, int64_t t, tr_step *o)
{
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, task);
    sqlite3_bind_int64(st, 2, t);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? 0 : -EILSEQ;
    }
    o->start = sqlite3_column_int64(st, 0);
    o->end = sqlite3_column_int64(st, 1);
    const char *wait = (const char *)sqlite3_column_text(st, 2);
    o->wait = wait ? tr_wait_from_name(wait) : -1;
    if (wait && o->wait < 0) o->wait = CO_WAIT_NONE; /* a name this coscope does not know: still an await */
    o->res = sqlite3_column_int64(st, 3);
    o->has_resumed = sqlite3_column_type(st, 4) != SQLITE_NULL;
    o->resumed = sqlite3_column_int64(st, 4);
    o->loc = sqlite3_column_int64(st, 5);
    o->end_loc = sqlite3_column_int64(st, 6);
    o->open = sqlite3_column_int(st, 7);
    sqlite3_reset(st);
    return 1;
}

int tr_step_at(tr_at *q, int64_t task, int64_t t, tr_step *out) { return step_row(q->step_at, task, t, out); }
int tr_step_after(tr_at *q, int64_t task, int64_t t, tr_step *out) { return step_row(q->step_after, task, t, out); }

/* The start of the bucket of bin b (level above the low 48 bits). */
static int64_t bin_lo(int64_t b)
{
    int lvl = (int)(b >> 48);
    if (lvl >= 8) return INT64_MIN;
    return (b & (((int64_t)1 << 48) - 1)) << (20 + 4 * lvl);
}

/* One pass over the awaits on rkey open at t: for each bin, its rows
 * earliest first, at most lim (-1: all) of them. */
static int waits_pass(tr_at *q, int64_t rkey, int64_t t, int64_t lim, int (*fn)(void *ctx, const tr_wait *w), void *ctx)
{
    int64_t bins[TR_NBINS];
    tr_bins_at(t, bins);
    sqlite3_stmt *st = q->waits;
    /* The names of the kinds come as text: most rows of a pass share a few,
     * so the last one's number is kept (a lookup per row was a third of a
     * pass over 100k awaits). */
    char last[32] = "";
    int last_kind = CO_WAIT_NONE;
    /* The coarsest bins first: they hold the longest awaits. */
    for (int i = TR_NBINS; i-- > 0;) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, bins[i]);
        sqlite3_bind_int64(st, 2, bin_lo(bins[i]));
        sqlite3_bind_int64(st, 3, t);
        sqlite3_bind_int64(st, 4, rkey);
        sqlite3_bind_int64(st, 5, lim);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            tr_wait w;
            w.task = sqlite3_column_int64(st, 0);
            w.res = sqlite3_column_int64(st, 1);
            w.since = sqlite3_column_int64(st, 2);
            w.until = sqlite3_column_int64(st, 3);
            const char *name = (const char *)sqlite3_column_text(st, 4);
            if (!name) name = "";
            if (strcmp(name, last) != 0) {
                int k = tr_wait_from_name(name);
                last_kind = k >= 0 ? k : CO_WAIT_NONE;
                snprintf(last, sizeof last, "%s", name);
            }
            w.wait = last_kind;
            w.open = sqlite3_column_int(st, 5);
            w.loc = sqlite3_column_int64(st, 6);
            if (fn(ctx, &w)) {
                sqlite3_reset(st);
                return 0;
            }
        }
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) return -EILSEQ;
    }
    return 0;
}

int tr_waits_on(tr_at *q, int64_t res, int64_t t, int (*fn)(void *ctx, const tr_wait *w), void *ctx)
{
    return waits_pass(q, res, t, -1, fn, ctx);
}

/* The cap earliest (since, task) of the awaits seen, and how many. */
typedef struct top {
    tr_wait *out;
    int cap, n;
    int64_t seen;
} top;

static int top_add(void *ctx, const tr_wait *w)
{
    top *p = ctx;
    p->seen++;
    if (p->cap <= 0) return 0;
    int pos = p->n;
    if (pos == p->cap) {
        const tr_wait *l = &p->out[pos - 1];
        if (w->since > l->since || (w->since == l->since && w->task > l->task)) return 0;
        pos--;
    } else {
        p->n++;
    }
    while (pos > 0 && (p->out[pos - 1].since > w->since || (p->out[pos - 1].since == w->since && p->out[pos - 1].task > w->task))) {
        p->out[pos] = p->out[pos - 1];
        pos--;
    }
    p->out[pos] = *w;
    return 0;
}

static int count_at(tr_at *q, int64_t res, int64_t t, int64_t *n)
{
    sqlite3_stmt *st = q->count_at;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, res);
    sqlite3_bind_int64(st, 2, t);
    int rc = sqlite3_step(st), got = rc == SQLITE_ROW;
    if (got) *n = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (got || rc != SQLITE_DONE) return rc == SQLITE_ROW ? 1 : -EILSEQ;
    /* No change yet at t: none wait, if the resource has a count at all. */
    st = q->count_any;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, res);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    *n = 0;
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -EILSEQ;
}

int64_t tr_waiters_of(tr_at *q, int64_t res, int64_t t, tr_wait *out, int cap)
{
    if (!res) return 0;
    int64_t n = 0;
    int counted = count_at(q, res, t, &n);
    if (counted < 0) return counted;
    if (counted && (n <= 0 || cap <= 0)) return n > 0 ? n : 0;
    /* Each bin's first cap rows hold the cap earliest of all; without a
     * count (a resource never crowded: few rows), every row is read. */
    top p = { out, cap, 0, 0 };
    int r = waits_pass(q, res, t, counted ? cap : -1, top_add, &p);
    if (r < 0) return r;
    return counted ? (n > p.n ? n : p.n) : p.seen;
}

int tr_holds_at(tr_at *q, int64_t t, int (*fn)(void *ctx, int64_t res, int64_t task, int64_t since), void *ctx)
{
    int64_t bins[TR_NBINS];
    tr_bins_at(t, bins);
    sqlite3_stmt *st = q->holds;
    for (int i = 0; i < TR_NBINS; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, bins[i]);
        sqlite3_bind_int64(st, 2, bin_lo(bins[i]));
        sqlite3_bind_int64(st, 3, t);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            if (fn(ctx, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2))) {
                sqlite3_reset(st);
                return 0;
            }
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) return -EILSEQ;
    }
    return 0;
}

int tr_holders_of(tr_at *q, int64_t res, int64_t t, int64_t *out, int cap)
{
    sqlite3_stmt *st = q->holders;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, res);
    sqlite3_bind_int64(st, 2, t);
    int64_t bins[TR_NBINS];
    tr_bins_at(t, bins);
    for (int i = 0; i < TR_NBINS; i++) sqlite3_bind_int64(st, 3 + i, bins[i]);
    int n = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n < cap) out[n] = sqlite3_column_int64(st, 0);
        n++;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? n : -EILSEQ;
}
