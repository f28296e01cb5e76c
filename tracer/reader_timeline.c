/* SPDX-License-Identifier: MIT */
/* reader_timeline.c -- a task's row of the timeline at any resolution.
 *
 * A cell stands for (to - from) / n of time.  Zoomed out, the row is read
 * from the builder's levels of detail (table `timeline`, lod.c): the level
 * whose buckets are just finer than a cell, so it reads at most 16 rows a
 * cell and costs the same on a trace of a thousand events or of ten
 * million.  A bucket without a row continues the state the row before it
 * ended in.  A task may lack a level that would have had about as many
 * rows as a finer one (lod.c): the coarsest level it has at or below the
 * wanted one is read then.  Finer than the finest level (16 us a cell),
 * the window is narrow enough to read the step rows themselves.  Rows' buckets and kinds
 * come from the file: a bucket is clamped before it is shifted, a kind out
 * of range reads as none.
 */
#include "reader_int.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>

typedef struct row {
    int64_t from, to;
    int n;
    double w;          /* ns per cell */
    tr_tl_cell *c;
} row;

static int cell_of(const row *r, int64_t t)
{
    double c = ((double)t - (double)r->from) / r->w;
    return c < 0 ? 0 : c >= r->n ? r->n - 1 : (int)c;
}

/* [a, b) spent in state (TR_LOD_*; waits carry their kind), spread over
 * the cells; with hold_only, only whether a lock was held. */
static void add_span(row *r, int64_t a, int64_t b, int state, int holding, int hold_only)
{
    if (a < r->from) a = r->from;
    if (b > r->to) b = r->to;
    if (b <= a || state == TR_LOD_NONE || (hold_only && !holding)) return;
    for (int c = cell_of(r, a); c < r->n; c++) {
        int64_t c0 = r->from + (int64_t)(r->w * c), c1 = r->from + (int64_t)(r->w * (c + 1));
        if (c0 >= b) break;
        int64_t lo = a > c0 ? a : c0, hi = b < c1 ? b : c1;
        if (hi <= lo) continue;
        tr_tl_cell *x = &r->c[c];
        if (hold_only) {
            x->flags |= TR_LOD_F_HOLD;
            continue;
        }
        if (state == TR_LOD_RUN) {
            x->run += hi - lo;
        } else {
            x->wait += hi - lo;
            if (hi - lo > x->best) {
                x->best = hi - lo;
                x->kind = state - TR_LOD_WAIT;
            }
        }
        if (holding) x->flags |= TR_LOD_F_HOLD;
    }
}

static int has_lod(tr_at *q)
{
    if (q->lod_checked) return q->lod_present;
    sqlite3_stmt *st;
    q->lod_checked = 1;
    if (sqlite3_prepare_v2(q->db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'timeline'", -1, &st,
                           NULL) == SQLITE_OK) {
        q->lod_present = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
    }
    return q->lod_present;
}

void tr_timeline_recheck(tr_at *q)
{
    if (!q->lod_present) q->lod_checked = 0;
}

/* Where bucket b of a level starts; a row's bucket is the file's word, so
 * no shift of a negative number (undefined in C). */
static int64_t at_bucket(int64_t b, int s)
{
    return b <= 0 ? 0 : b >= (INT64_MAX >> s) ? INT64_MAX : b << s;
}

/* Buckets of `level` over the row; with ticks_only, only what happened and
 * the locks held (the spans gave the rest). */
static int from_lod(tr_at *q, int64_t task, int level, row *r, int ticks_only)
{
    int s = TR_LOD_SHIFT0 + 4 * level;
    int64_t b0 = (r->from > 0 ? r->from : 0) >> s, b1 = (r->to > 0 ? r->to - 1 : 0) >> s;
    int state = TR_LOD_NONE, holding = 0;
    sqlite3_stmt *st = q->lod_before;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, task);
    sqlite3_bind_int(st, 2, level);
    sqlite3_bind_int64(st, 3, b0);
    if (sqlite3_step(st) == SQLITE_ROW) {
        int last = sqlite3_column_int(st, 0);
        state = last & ~TR_LOD_HOLDING;
        holding = (last & TR_LOD_HOLDING) != 0;
    }
    sqlite3_reset(st);
    st = q->lod_rows;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, task);
    sqlite3_bind_int(st, 2, level);
    sqlite3_bind_int64(st, 3, b0);
    sqlite3_bind_int64(st, 4, b1);
    int64_t pos = at_bucket(b0, s);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t b = sqlite3_column_int64(st, 0), start = at_bucket(b, s), end = at_bucket(b + 1, s);
        int64_t busy = sqlite3_column_int64(st, 1), waited = sqlite3_column_int64(st, 2);
        int kind = sqlite3_column_int(st, 3), flags = sqlite3_column_int(st, 4), last = sqlite3_column_int(st, 5);
        add_span(r, pos, start, state, holding, ticks_only); /* the bucket(s) without rows */
        /* A bucket is at most a cell wide: its sums go to the cell of its middle. */
        tr_tl_cell *x = &r->c[cell_of(r, start + (end - start) / 2)];
        if (!ticks_only) {
            x->run += busy > 0 ? busy : 0;
            x->wait += waited > 0 ? waited : 0;
            if (waited > x->best) {
                x->best = waited;
                x->kind = kind;
            }
        }
        x->flags |= flags & (TR_LOD_F_LOG | TR_LOD_F_MARK | TR_LOD_F_REGION | TR_LOD_F_WARN | TR_LOD_F_HOLD);
        state = last & ~TR_LOD_HOLDING;
        holding = (last & TR_LOD_HOLDING) != 0;
        pos = end;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return -EILSEQ;
    add_span(r, pos, r->to, state, holding, ticks_only);
    return 0;
}

/* Zoomed in: the step rows over the window (the one running at from first). */
static int from_spans(tr_at *q, int64_t task, row *r, int64_t end_of_trace)
{
    sqlite3_stmt *st = q->tl_spans;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, task);
    sqlite3_bind_int64(st, 2, r->from);
    sqlite3_bind_int64(st, 3, r->to);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t start = sqlite3_column_int64(st, 0), end = sqlite3_column_int64(st, 1);
        const char *wait = (const char *)sqlite3_column_text(st, 2);
        int open = sqlite3_column_int(st, 4);
        add_span(r, start, end, TR_LOD_RUN, 0, 0);
        if (wait) {
            int k = tr_wait_from_name(wait);
            int64_t resumed = sqlite3_column_type(st, 3) == SQLITE_NULL || open ? end_of_trace : sqlite3_column_int64(st, 3);
            add_span(r, end, resumed, TR_LOD_WAIT + (k >= 0 ? k : 0), 0, 0);
        }
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -EILSEQ;
}

static int prepare_once(tr_at *q)
{
    /* The table may appear later (a live trace's build): checked again then. */
    if (!q->lod_rows && has_lod(q) &&
        (tr__prep(q->db, &q->lod_rows, "SELECT bucket, busy, waited, kind, flags, last FROM timeline"
                  " WHERE task = ?1 AND level = ?2 AND bucket BETWEEN ?3 AND ?4 ORDER BY bucket") < 0 ||
         tr__prep(q->db, &q->lod_before, "SELECT last FROM timeline WHERE task = ?1 AND level = ?2 AND bucket < ?3"
                  " ORDER BY bucket DESC LIMIT 1") < 0 ||
         tr__prep(q->db, &q->lod_level, "SELECT level FROM timeline WHERE task = ?1 AND level BETWEEN 0 AND ?2"
                  " ORDER BY level DESC LIMIT 1") < 0)) {
        sqlite3_finalize(q->lod_rows);
        sqlite3_finalize(q->lod_before);
        q->lod_rows = q->lod_before = NULL;
        q->lod_present = 0; /* not the table we know: use the spans */
    }
    if (!q->tl_spans) {
        const char *step = tr_span_name(TR_SPAN_STEP);
        char sql[400];
        snprintf(sql, sizeof sql, "SELECT start, end, wait, resumed, open FROM spans WHERE task = ?1 AND kind = '%s'"
                 " AND start >= COALESCE((SELECT MAX(start) FROM spans WHERE task = ?1 AND kind = '%s'"
                 " AND start <= ?2), 0) AND start < ?3 ORDER BY start", step, step);
        if (tr__prep(q->db, &q->tl_spans, sql) < 0) return -EILSEQ;
    }
    return 0;
}

/* The coarsest level at most `level` the task has rows at; 0 if none. */
static int level_kept(tr_at *q, int64_t task, int level)
{
    sqlite3_stmt *st = q->lod_level;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, task);
    sqlite3_bind_int(st, 2, level);
    int kept = 0;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_INTEGER) {
        int64_t l = sqlite3_column_int64(st, 0);
        kept = l > 0 && l <= level ? (int)l : 0;
    }
    sqlite3_reset(st);
    return kept;
}

int tr_timeline(tr_at *q, int64_t task, int64_t from, int64_t to, int n, int64_t end_of_trace, tr_tl_cell *out)
{
    if (n <= 0 || to <= from) return -EINVAL;
    memset(out, 0, (size_t)n * sizeof *out);
    int r0 = prepare_once(q);
    if (r0 < 0) return r0;
    row r = { .from = from, .to = to, .n = n, .w = ((double)to - (double)from) / n, .c = out };
    int level = -1;
    int lod = has_lod(q) && q->lod_rows && q->lod_before && q->lod_level;
    for (int l = TR_LOD_LEVELS - 1; l >= 0 && lod; l--)
        if ((double)((int64_t)1 << (TR_LOD_SHIFT0 + 4 * l)) <= r.w) {
            level = l;
            break;
        }
    if (level > 0) level = level_kept(q, task, level);
    if (level >= 0) return from_lod(q, task, level, &r, 0);
    int err = from_spans(q, task, &r, end_of_trace);
    if (err == 0 && lod) err = from_lod(q, task, 0, &r, 1); /* ticks: the finest buckets */
    return err;
}
