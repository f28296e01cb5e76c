/* SPDX-License-Identifier: MIT */
/* reader_events.c -- a task's events near t, read from the recording.
 *
 * A task's own events happen only while it runs, so only the chunks of its
 * ring under its step rows near t (and its spawn) can hold them: two probes
 * of spans' (task, start) key give those rows, and the chunks are read from
 * t outwards until enough are found.  The front end puts in words only the
 * events it keeps (main spawning 200k tasks in one step must not describe
 * all of them every frame).
 */
#include "reader_int.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int tr_event_shown(const tr_rec *r)
{
    unsigned k = r->kind_loc & 0xff;
    return k != TR_STACK && k != TR_STACK_TEXT && k != TR_WAITS_FOR && k != TR_MODULE && k != TR_NONE;
}

/* Whether an event belongs in task id's list: its own, and cancellations
 * aimed at it (recorded by the task that asked). */
static int of_task(const tr_rec *r, uint64_t id)
{
    return (r->task == id || ((r->kind_loc & 0xff) == TR_CANCEL && r->res == id)) && tr_event_shown(r);
}

typedef struct interval {
    int64_t a, b;
} interval;

static int cmp_interval(const void *x, const void *y)
{
    int64_t p = ((const interval *)x)->a, q = ((const interval *)y)->a;
    return p < q ? -1 : p > q;
}

static int prep_near(tr_at *q)
{
    if (q->steps_near[1]) return 0;
    const char *step = tr_span_name(TR_SPAN_STEP);
    char sql[2][256];
    snprintf(sql[0], sizeof sql[0],
             "SELECT start, end FROM spans WHERE task = ?1 AND kind = '%s' AND start <= ?2 ORDER BY start DESC LIMIT ?3", step);
    snprintf(sql[1], sizeof sql[1],
             "SELECT start, end FROM spans WHERE task = ?1 AND kind = '%s' AND start > ?2 ORDER BY start LIMIT ?3", step);
    int r = tr__prep(q->db, &q->steps_near[0], sql[0]);
    if (r == 0) r = tr__prep(q->db, &q->steps_near[1], sql[1]);
    if (r < 0) {
        sqlite3_finalize(q->steps_near[0]);
        sqlite3_finalize(q->steps_near[1]);
        q->steps_near[0] = q->steps_near[1] = NULL;
    }
    return r;
}

/* The task's steps nearest t (up to lim each side), plus its spawn, in
 * time order. */
static size_t step_intervals(tr_at *q, const tr_task_life *k, int64_t t, int lim, interval *out)
{
    size_t n = 0;
    out[n++] = (interval){ k->spawn, k->spawn };
    for (int side = 0; side < 2; side++) {
        sqlite3_stmt *st = q->steps_near[side];
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, k->id);
        sqlite3_bind_int64(st, 2, t);
        sqlite3_bind_int(st, 3, lim);
        while (sqlite3_step(st) == SQLITE_ROW)
            out[n++] = (interval){ sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1) };
        sqlite3_reset(st);
    }
    if (n > 1) qsort(out, n, sizeof *out, cmp_interval);
    return n;
}

int tr_task_events(tr_at *q, tr_chunks *c, const tr_task_life *k, int64_t t, size_t cap, tr_found *before,
                   size_t *nb, tr_found *after, size_t *na)
{
    *nb = *na = 0;
    if (cap == 0) return 0;
    int r = prep_near(q);
    if (r < 0) return r;
    uint64_t id = (uint64_t)k->id;
    /* Each step gives at least two events (its resume, its await), so
     * cap/2 steps a side cover the window. */
    int lim = cap / 2 + 1 > 1 << 20 ? 1 << 20 : (int)(cap / 2 + 1);
    interval *iv = malloc(((size_t)lim * 2 + 1) * sizeof *iv);
    size_t *cand = malloc(c->n * sizeof *cand + 1);
    if (!iv || !cand) {
        free(iv);
        free(cand);
        return -ENOMEM;
    }
    size_t niv = step_intervals(q, k, t, lim, iv);
    /* The chunks of its ring under those intervals, in order. */
    size_t nc = 0;
    for (size_t ci = 0; ci < c->n; ci++) {
        const tr_chunk *ch = &c->dir[ci];
        if (ch->ring != k->ring) continue;
        for (size_t v = 0; v < niv; v++)
            if (ch->last >= iv[v].a && ch->first <= iv[v].b) {
                cand[nc++] = ci;
                break;
            }
    }
    free(iv);
    /* From t outwards, up to cap events each way. */
    size_t split = 0;
    while (split < nc && c->dir[cand[split]].last < t) split++;
    size_t b = 0, a = 0;
    for (size_t x = split < nc ? split + 1 : nc; x-- > 0 && b < cap;) {
        const tr_chunk_events *d = tr_chunk_events_of(c, cand[x]);
        for (size_t i = d ? d->n : 0; i-- > 0 && b < cap;)
            if (d->ns[i] < t && of_task(&d->recs[i], id)) before[b++] = (tr_found){ d->recs[i], d->ns[i], d->ring };
    }
    for (size_t x = split; x < nc && a < cap; x++) {
        const tr_chunk_events *d = tr_chunk_events_of(c, cand[x]);
        for (size_t i = 0; d && i < d->n && a < cap; i++)
            if (d->ns[i] >= t && of_task(&d->recs[i], id)) after[a++] = (tr_found){ d->recs[i], d->ns[i], d->ring };
    }
    free(cand);
    *nb = b;
    *na = a;
    return 0;
}

int tr_event_time(sqlite3 *db, tr_chunks *c, int64_t event_id, int64_t *ts)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT ts FROM events WHERE id = ?", -1, &st, NULL) != SQLITE_OK) return -EILSEQ;
    sqlite3_bind_int64(st, 1, event_id);
    int r = -ENOENT;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *ts = sqlite3_column_int64(st, 0);
        r = 0;
    }
    sqlite3_finalize(st);
    if (r == 0 || !c || event_id < 1) return r;
    /* Past the table: the event_id-th event of the recording, counted
     * over the directory (each chunk's n), then one chunk decoded. */
    size_t n;
    const tr_chunk *dir = tr_chunks_dir(c, &n);
    int64_t before = 0;
    for (size_t i = 0; i < n; i++) {
        if (event_id > before + dir[i].n) {
            before += dir[i].n;
            continue;
        }
        const tr_chunk_events *ev = tr_chunk_events_of(c, i);
        size_t k = (size_t)(event_id - before - 1);
        if (!ev || k >= ev->n) return -EILSEQ; /* a damaged chunk, or one whose n lies */
        *ts = ev->ns[k];
        return 0;
    }
    return -ENOENT;
}
