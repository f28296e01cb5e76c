/* SPDX-License-Identifier: MIT */
/* snaprows.c -- the builder's side of a snapshot (runtime/snapshot.c): the
 * TR_SNAP_* records that open a ring recorded from the middle of a run
 * (coscope attach, a flight-recorder period) become the state the trace
 * would have had, had it recorded from the start: a task row per live task
 * (parent, name, spawn site), and from there the ordinary replay (the
 * await as an open step row, holds as open hold spans: replay.c passes
 * TR_SNAP_AWAIT and TR_SNAP_HOLD to its own await and acquire paths).
 * Every row opens at the snapshot's time: when a task was spawned or an
 * await began before it is not known.
 */
#include "builder.h"

/* A task alive at the snapshot: as if spawned then, and started (its
 * await, if any, follows as TR_SNAP_AWAIT) or running. */
void tr_snap_task(tr_builder *b, uint32_t ring, const tr_rec *e, int64_t ts, uint32_t loc)
{
    uint64_t task = e->task;
    if (!task) return;
    tstate *t = tr_map_put(&b->tasks, task);
    if (!t) return;
    unsigned state = (unsigned)(e->arg >> 32 & 0xff), flags = (unsigned)(e->arg >> 40 & 0xff);
    uint64_t name = e->arg & 0xffffffffu;
    t->spawn_ts = ts;
    t->ring = ring;
    t->parent = e->res;
    t->name_id = name;
    t->spawn_loc = loc;
    t->detached = (flags & TR_SNAP_F_DETACHED) != 0;
    t->lod.ts = ts;
    uint64_t *n = name ? tr_map_put(&b->names, task) : NULL;
    if (n) *n = name;
    if (flags & TR_SNAP_F_STARTED) t->start_ts = ts;
    if (state == CO_TASK_RUNNING) { /* a snapshot taken by a task: its step is under way */
        t->in_step = 1;
        t->step_start = ts;
        t->step_loc = 0;
        tr_lod_state(b, task, &t->lod, ts, TR_LOD_RUN, t->nheld);
    }
    tr_task_row(b, task, t, -1, TR_TASK_PENDING, 0, 0);
}

/* A semaphore's value, a queue's depth, an event's flag at the snapshot.
 * The queue's depth counts as seen (resource_stats.max_depth); the values
 * themselves stay in the events table (snapshot_value). */
void tr_snap_value(tr_builder *b, const tr_rec *e)
{
    unsigned kind = (unsigned)(e->arg >> 56);
    int64_t v = (int64_t)(e->arg & TR_SNAP_VALUE_MASK);
    if (kind != CO_WAIT_QUEUE_GET) return;
    rstat *r = tr_rs_of(b, e->res);
    if (!r) return;
    r->seen_depth = 1;
    if (v > r->max_depth) r->max_depth = v;
}
