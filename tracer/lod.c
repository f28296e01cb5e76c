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
 */
#include "builder.h"

static inline int shift_of(int level) { return TR_LOD_SHIFT0 + 4 * level; }

static uint8_t last_of(const tr_lod *l)
{
    return (uint8_t)(l->state | (l->hold ? TR_LOD_HOLDING : 0));
}

static void emit(tr_builder *b, uint64_t task, int level, const tr_lod_acc *a, uint8_t last)
{
    int err = 0;
    tr_cell *c = tr_batch_next(&b->lod, &err);
    if (!c) {
        if (err && !b->err) b->err = err;
        return;
    }
    cell_int(&c[0], (int64_t)task);
    cell_int(&c[1], level);
    cell_int(&c[2], a->bucket);
    cell_int(&c[3], a->busy);
    cell_int(&c[4], a->waited);
    cell_int(&c[5], a->best_kind);
    cell_int(&c[6], a->flags);
    cell_int(&c[7], last);
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
            if (a->used && a->dirty) emit(b, task, level, a, last_of(l));
            open_bucket(a, b0);
        }
        if (b1 == b0) {
            add(a, l, ts - l->ts);
            continue;
        }
        add(a, l, ((b0 + 1) << s) - l->ts);
        emit(b, task, level, a, last_of(l));
        open_bucket(a, b1); /* the buckets between are whole, in l->state: no rows */
        add(a, l, ts - (b1 << s));
    }
    l->ts = ts;
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
        if (a->used && a->dirty) emit(b, task, level, a, last_of(l));
        a->dirty = 0;
    }
}
