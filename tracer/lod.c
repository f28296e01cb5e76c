/* SPDX-License-Identifier: MIT */
/* lod.c -- the timeline's levels of detail: table `timeline`.
 *
 * A terminal timeline zoomed out to the whole run gives each cell
 * milliseconds or seconds of a task's life; reading every step row behind
 * it would make the redraw grow with the trace (a ping-pong task has 2.5M
 * steps in 0.7 s).  So the builder keeps, per task, a summary of its life
 * at six resolutions -- buckets of 2^14 ns (16 us) up to 2^34 ns (17 s), each
 * level 16 times coarser, like Perfetto's per-track mipmaps -- and a reader
 * draws any zoom from the level whose buckets are just finer than a cell,
 * reading at most 16 rows a cell.  Finer than 16 us a cell, it reads the
 * spans themselves: so narrow a window holds few.
 *
 * Rows are written only for buckets in which something happened (a state
 * change, a log line, a mark ...); a bucket without a row continues the
 * state the previous row ended in (`last`), so a task asleep for an hour
 * costs two rows per level, not a row per bucket.  Each row says how long
 * the task ran and waited within the bucket, what it mostly waited on, what
 * happened there (flags), and its state at the bucket's end.
 *
 * The summary is fed as a state machine -- "task k is now running / waiting
 * on X / gone, since ts" -- from the replay (replay.c), in each task's own
 * time order.  A live build writes the buckets still open too (OR REPLACE),
 * so a view of a running program is never behind by a bucket.
 *
 * A level is only worth its rows where it is coarser than the level below
 * in fact, not just in bucket size: a task that wakes every 5 ms has a row
 * per wake at 16 us, 262 us and 4.2 ms alike.  Such a level is left out
 * for that task, and readers use the finer one (reader_timeline.c), which
 * then costs them about as many rows.  In a flight recorder's window of
 * 32 such tasks, levels 1 and 2 were two thirds of the timeline's rows,
 * written by the writer thread the dump waits for.  A task's coarser rows
 * are kept back until its levels are chosen: at its end, the trace's end,
 * or once it has TR_LOD_CHOOSE rows at level 0 (or all tasks together
 * hold TR_LOD_PENDING), from its counts so far.  A live build keeps every
 * level: its rows are read as they are written.
 */
#include "builder.h"
#include <stdlib.h>

#define TR_LOD_CHOOSE 4096
#define TR_LOD_PENDING (1u << 20)

static inline int shift_of(int level) { return TR_LOD_SHIFT0 + 4 * level; }

static uint8_t last_of(const tr_lod *l)
{
    return (uint8_t)(l->state | (l->hold ? TR_LOD_HOLDING : 0));
}

static void write_row(tr_builder *b, uint64_t task, int level, int64_t bucket, int64_t busy, int64_t waited,
                      int kind, int flags, int last)
{
    int err = 0;
    tr_cell *c = tr_batch_next(&b->lod, &err);
    if (!c) {
        if (err && !b->err) b->err = err;
        return;
    }
    cell_int(&c[0], (int64_t)task);
    cell_int(&c[1], level);
    cell_int(&c[2], bucket);
    cell_int(&c[3], busy);
    cell_int(&c[4], waited);
    cell_int(&c[5], kind);
    cell_int(&c[6], flags);
    cell_int(&c[7], last);
}

/* A level is kept if it has at most half the rows of the finer level
 * kept below it, so a reader sent to that one instead reads on the whole
 * at most twice as many.  Level 0 is always kept: the finest zoom and the
 * ticks over the spans read it. */
static void choose(tr_builder *b, uint64_t task, tr_lod *l, int all)
{
    if (l->chosen) return;
    unsigned keep = 1;
    uint32_t ref = l->nrows[0];
    for (int level = 1; level < TR_LOD_LEVELS; level++)
        if (all || b->lod_all || (uint64_t)l->nrows[level] * 2 <= ref) {
            keep |= 1u << level;
            ref = l->nrows[level];
        }
    for (uint32_t i = 0; i < l->npend; i++) {
        const tr_lod_row *p = &l->pend[i];
        if (keep & (1u << p->level)) write_row(b, task, p->level, p->bucket, p->busy, p->waited, p->kind, p->flags, p->last);
    }
    tr_lod_free(b, l);
    l->keep = (uint8_t)keep;
    l->chosen = 1;
}

void tr_lod_free(tr_builder *b, tr_lod *l)
{
    b->lod_pending -= l->npend;
    free(l->pend);
    l->pend = NULL;
    l->npend = l->cappend = 0;
}

static void emit(tr_builder *b, uint64_t task, tr_lod *l, int level, const tr_lod_acc *a, uint8_t last)
{
    if (!l->chosen && b->lod_all) choose(b, task, l, 1);
    if (l->chosen) {
        if (l->keep & (1u << level)) write_row(b, task, level, a->bucket, a->busy, a->waited, a->best_kind, a->flags, last);
        return;
    }
    l->nrows[level]++;
    if (level == 0) {
        write_row(b, task, 0, a->bucket, a->busy, a->waited, a->best_kind, a->flags, last);
        return;
    }
    if (l->npend == l->cappend) {
        uint32_t cap = l->cappend ? l->cappend * 2 : 64;
        tr_lod_row *p = realloc(l->pend, cap * sizeof *p);
        if (!p) { /* no memory to wait in: every level, as before */
            choose(b, task, l, 1);
            write_row(b, task, level, a->bucket, a->busy, a->waited, a->best_kind, a->flags, last);
            return;
        }
        l->pend = p;
        l->cappend = cap;
    }
    l->pend[l->npend++] = (tr_lod_row){ .bucket = a->bucket, .busy = a->busy, .waited = a->waited, .level = (uint8_t)level,
                                        .kind = a->best_kind, .flags = a->flags, .last = last };
    b->lod_pending++;
}

/* After a change has been summed at every level: enough seen to choose? */
static void maybe_choose(tr_builder *b, uint64_t task, tr_lod *l)
{
    if (!l->chosen && (l->nrows[0] >= TR_LOD_CHOOSE || b->lod_pending >= TR_LOD_PENDING)) choose(b, task, l, 0);
}

static void add(tr_lod_acc *a, const tr_lod *l, int64_t len)
{
    if (len <= 0) return;
    if (l->state == TR_LOD_RUN) {
        a->busy += len;
    } else if (l->state >= TR_LOD_WAIT) {
        a->waited += len;
        if (len > a->best) {
            a->best = len;
            a->best_kind = (uint8_t)(l->state - TR_LOD_WAIT);
        }
    }
    if (l->hold) a->flags |= TR_LOD_F_HOLD;
    a->dirty = 1;
}

static void open_bucket(tr_lod_acc *a, int64_t bucket)
{
    *a = (tr_lod_acc){ .bucket = bucket, .used = 1, .dirty = 1 };
}

/* The task's summary catches up to ts, in the state it has been in since
 * l->ts; afterwards the acc of every level is the bucket holding ts. */
static void advance(tr_builder *b, uint64_t task, tr_lod *l, int64_t ts)
{
    if (ts < l->ts) ts = l->ts; /* clocks of a thread never go back; a trace might */
    for (int level = 0; level < TR_LOD_LEVELS; level++) {
        tr_lod_acc *a = &l->acc[level];
        int s = shift_of(level);
        int64_t b0 = l->ts >> s, b1 = ts >> s;
        if (!a->used || a->bucket != b0) {
            if (a->used && a->dirty) emit(b, task, l, level, a, last_of(l));
            open_bucket(a, b0);
        }
        if (b1 == b0) {
            add(a, l, ts - l->ts);
            continue;
        }
        add(a, l, ((b0 + 1) << s) - l->ts);
        emit(b, task, l, level, a, last_of(l));
        open_bucket(a, b1); /* the buckets between are whole, in l->state: no rows */
        add(a, l, ts - (b1 << s));
    }
    l->ts = ts;
    maybe_choose(b, task, l);
}

void tr_lod_state(tr_builder *b, uint64_t task, tr_lod *l, int64_t ts, int state, int holding)
{
    advance(b, task, l, ts);
    l->state = (uint8_t)state;
    l->hold = (uint8_t)(holding != 0);
    for (int level = 0; level < TR_LOD_LEVELS; level++) l->acc[level].dirty = 1; /* a change: the bucket has a row */
}

void tr_lod_flag(tr_builder *b, uint64_t task, tr_lod *l, int64_t ts, int flag)
{
    advance(b, task, l, ts);
    for (int level = 0; level < TR_LOD_LEVELS; level++) {
        l->acc[level].flags |= (uint8_t)flag;
        l->acc[level].dirty = 1;
    }
}

void tr_lod_flush(tr_builder *b, uint64_t task, tr_lod *l, int64_t ts)
{
    if (ts >= 0) advance(b, task, l, ts);
    for (int level = 0; level < TR_LOD_LEVELS; level++) {
        tr_lod_acc *a = &l->acc[level];
        if (a->used && a->dirty) emit(b, task, l, level, a, last_of(l));
        a->dirty = 0;
    }
    choose(b, task, l, 0);
}
