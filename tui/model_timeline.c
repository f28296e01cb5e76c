/* model_timeline.c -- a task's row of the timeline at any zoom.
 *
 * A cell stands for (to - from) / ncells of time.  Zoomed out, it is drawn
 * from the builder's levels of detail (table `timeline`, tracer/lod.c): the
 * level whose buckets are just finer than a cell, so a row reads at most
 * 16 rows a cell and a redraw costs the same on a trace of a thousand
 * events or of ten million.  A bucket without a row continues the state the
 * row before it ended in.  Zoomed in finer than the finest level (16 us a
 * cell), the window is narrow enough to read the step rows themselves.
 */
#include "model_int.h"
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LOD_LEVELS 6
#define LOD_SHIFT0 14
enum { LOD_NONE = 0, LOD_RUN = 1, LOD_WAIT = 2 };
#define LOD_HOLDING 0x80

/* Per-cell sums while a row is built. */
typedef struct acc {
    int64_t run, wait, best;
    int kind;
    int ticks;
} acc;

typedef struct row {
    int64_t from, to;
    int n;
    double w;          /* ns per cell */
    acc *c;
} row;

static int cell_of(const row *r, int64_t t)
{
    int64_t c = (int64_t)((double)(t - r->from) / r->w);
    return c < 0 ? 0 : c >= r->n ? r->n - 1 : (int)c;
}

/* [a, b) spent in state (LOD_*; waits carry their kind), spread over the
 * cells; with hold_only, only whether a lock was held. */
static void add_span(row *r, int64_t a, int64_t b, int state, int holding, int hold_only)
{
    if (a < r->from) a = r->from;
    if (b > r->to) b = r->to;
    if (b <= a || state == LOD_NONE || (hold_only && !holding)) return;
    for (int c = cell_of(r, a); c < r->n; c++) {
        int64_t c0 = r->from + (int64_t)(r->w * c), c1 = r->from + (int64_t)(r->w * (c + 1));
        if (c0 >= b) break;
        int64_t lo = a > c0 ? a : c0, hi = b < c1 ? b : c1;
        if (hi <= lo) continue;
        acc *x = &r->c[c];
        if (hold_only) {
            x->ticks |= TUI_TICK_HOLD;
            continue;
        }
        if (state == LOD_RUN) {
            x->run += hi - lo;
        } else {
            x->wait += hi - lo;
            if (hi - lo > x->best) {
                x->best = hi - lo;
                x->kind = state - LOD_WAIT;
            }
        }
        if (holding) x->ticks |= TUI_TICK_HOLD;
    }
}

static int has_lod(tui_model *m)
{
    if (m->lod_checked) return m->lod_present;
    sqlite3_stmt *st;
    m->lod_checked = 1;
    if (sqlite3_prepare_v2(m->db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'timeline'", -1, &st,
                           NULL) == SQLITE_OK) {
        m->lod_present = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
    }
    return m->lod_present;
}

/* Where bucket b of a level starts; a row's bucket is the file's word, so
 * no shift of a negative number (undefined in C). */
static int64_t at_bucket(int64_t b, int s)
{
    return b <= 0 ? 0 : b >= (INT64_MAX >> s) ? INT64_MAX : b << s;
}

/* Buckets of level `level` over the row; with ticks_only, only what
 * happened and the locks held (the spans gave the rest). */
static int from_lod(tui_model *m, int64_t task, int level, row *r, int ticks_only)
{
    int s = LOD_SHIFT0 + 4 * level;
    int64_t b0 = (r->from > 0 ? r->from : 0) >> s, b1 = (r->to > 0 ? r->to - 1 : 0) >> s;
    int state = LOD_NONE, holding = 0;
    sqlite3_stmt *st = m->st_lod_before;
    {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, task);
        sqlite3_bind_int(st, 2, level);
        sqlite3_bind_int64(st, 3, b0);
        if (sqlite3_step(st) == SQLITE_ROW) {
            int last = sqlite3_column_int(st, 0);
            state = last & ~LOD_HOLDING;
            holding = (last & LOD_HOLDING) != 0;
        }
        sqlite3_reset(st);
    }
    st = m->st_lod_rows;
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
        acc *x = &r->c[cell_of(r, start + (end - start) / 2)];
        if (!ticks_only) {
            x->run += busy > 0 ? busy : 0;
            x->wait += waited > 0 ? waited : 0;
            if (waited > x->best) {
                x->best = waited;
                x->kind = kind;
            }
        }
        x->ticks |= flags & (TUI_TICK_LOG | TUI_TICK_MARK | TUI_TICK_REGION | TUI_TICK_WARN | TUI_TICK_HOLD);
        state = last & ~LOD_HOLDING;
        holding = (last & LOD_HOLDING) != 0;
        pos = end;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return -EILSEQ;
    add_span(r, pos, r->to, state, holding, ticks_only);
    return 0;
}

/* Zoomed in: the step rows over the window (the one running at from first). */
static int from_spans(tui_model *m, int64_t task, row *r)
{
    sqlite3_stmt *st = m->st_tl_spans;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, task);
    sqlite3_bind_int64(st, 2, r->from);
    sqlite3_bind_int64(st, 3, r->to);
    int rc;
    int64_t end_of_trace = m->info.duration_ns;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t start = sqlite3_column_int64(st, 0), end = sqlite3_column_int64(st, 1);
        const char *wait = (const char *)sqlite3_column_text(st, 2);
        int open = sqlite3_column_int(st, 4);
        add_span(r, start, end, LOD_RUN, 0, 0);
        if (wait) {
            int k = tr_wait_from_name(wait);
            int64_t resumed = sqlite3_column_type(st, 3) == SQLITE_NULL || open ? end_of_trace : sqlite3_column_int64(st, 3);
            add_span(r, end, resumed, LOD_WAIT + (k >= 0 ? k : 0), 0, 0);
        }
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -EILSEQ;
}

static int prepare_once(tui_model *m)
{
    const char *lod_rows = "SELECT bucket, busy, waited, kind, flags, last FROM timeline"
                           " WHERE task = ?1 AND level = ?2 AND bucket BETWEEN ?3 AND ?4 ORDER BY bucket";
    const char *lod_before = "SELECT last FROM timeline WHERE task = ?1 AND level = ?2 AND bucket < ?3"
                             " ORDER BY bucket DESC LIMIT 1";
    const char *spans = "SELECT start, end, wait, resumed, open FROM spans WHERE task = ?1 AND kind = '" TR_NAME_STEP "'"
                        " AND start >= COALESCE((SELECT MAX(start) FROM spans WHERE task = ?1 AND kind = '" TR_NAME_STEP "'"
                        " AND start <= ?2), 0) AND start < ?3 ORDER BY start";
    /* The table may appear later (a live trace's build): checked again then. */
    if (!m->st_lod_rows && has_lod(m) &&
        (sqlite3_prepare_v3(m->db, lod_rows, -1, SQLITE_PREPARE_PERSISTENT, &m->st_lod_rows, NULL) != SQLITE_OK ||
         sqlite3_prepare_v3(m->db, lod_before, -1, SQLITE_PREPARE_PERSISTENT, &m->st_lod_before, NULL) != SQLITE_OK))
        m->lod_present = 0; /* not the table we know: use the spans */
    if (!m->st_tl_spans &&
        sqlite3_prepare_v3(m->db, spans, -1, SQLITE_PREPARE_PERSISTENT, &m->st_tl_spans, NULL) != SQLITE_OK)
        return -EILSEQ;
    return 0;
}

int tui_model_timeline(tui_model *m, int idx, int64_t from, int64_t to, int ncells, tui_cell *out)
{
    if (idx < 0 || (size_t)idx >= m->ntasks || ncells <= 0 || to <= from) return -EINVAL;
    memset(out, 0, (size_t)ncells * sizeof *out);
    const tui_task *k = &m->tasks[idx];
    /* Nothing to read outside its life. */
    if (k->spawn_ts >= to || (k->end_ts >= 0 && k->end_ts < from)) return 0;
    int r0 = prepare_once(m);
    if (r0 < 0) return r0;
    if ((size_t)ncells > m->tl_cap) {
        acc *c = realloc(m->tl_acc, (size_t)ncells * sizeof *c);
        if (!c) return -ENOMEM;
        m->tl_acc = c;
        m->tl_cap = (size_t)ncells;
    }
    row r = { .from = from, .to = to, .n = ncells, .w = (double)(to - from) / ncells, .c = m->tl_acc };
    memset(r.c, 0, (size_t)ncells * sizeof *r.c);
    int level = -1;
    int lod = has_lod(m) && m->st_lod_rows && m->st_lod_before;
    for (int l = LOD_LEVELS - 1; l >= 0 && lod; l--)
        if ((double)((int64_t)1 << (LOD_SHIFT0 + 4 * l)) <= r.w) {
            level = l;
            break;
        }
    int err;
    if (level >= 0) {
        err = from_lod(m, k->id, level, &r, 0);
    } else {
        err = from_spans(m, k->id, &r);
        if (err == 0 && lod) err = from_lod(m, k->id, 0, &r, 1); /* ticks: the finest buckets */
    }
    if (err < 0) return err;
    for (const tui_warning *w = m->warn; w < m->warn + m->nwarn; w++)
        if (w->task == k->id && w->ts >= from && w->ts < to) r.c[cell_of(&r, w->ts)].ticks |= TUI_TICK_WARN;
    for (int c = 0; c < ncells; c++) {
        const acc *x = &r.c[c];
        int64_t run = (int64_t)(8.0 * (double)x->run / r.w + 0.5), wait = (int64_t)(8.0 * (double)x->wait / r.w + 0.5);
        /* Something that happened shows, however short. */
        if (run == 0 && x->run > 0) run = 1;
        if (wait == 0 && x->wait > 0) wait = 1;
        out[c].busy8 = (uint8_t)(run > 8 ? 8 : run);
        out[c].wait8 = (uint8_t)(wait > 8 ? 8 : wait);
        out[c].wait = (uint8_t)(x->kind >= 0 && x->kind < CO_WAIT_KIND_COUNT ? x->kind : 0);
        out[c].ticks = (uint8_t)x->ticks;
    }
    return 0;
}
