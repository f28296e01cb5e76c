/* SPDX-License-Identifier: MIT */
/* openrows.c -- rows for what is still open: at the end of a trace
 * (tr_replay_close: steps, awaits and holds that never ended, every task's
 * figures) and at the end of a live slice (tr_replay_live: what a view of
 * a running program must see now -- each changed task's row, its current
 * step or await, the holds not released -- as rows the final ones replace,
 * by the same key).  replay.c writes rows as things close.
 */
#include "builder.h"

/* The trace ended: whatever is still open ran until its last event.
 * Rows for open holds, steps and awaits (marked open), and every task's
 * figures. */
void tr_replay_close(tr_builder *b)
{
    tr_asleep_flush(b);
    tr_dx_close(b);
    int64_t end = b->max_ts;
    for (size_t i = 0; i < b->holds.cap; i++) {
        if (!b->holds.keys[i]) continue;
        hold *h = (hold *)(b->holds.vals + i * b->holds.vsize);
        int name = h->kind == 'r' ? TR_SPAN_REGION : h->kind == 'w' ? TR_SPAN_WORK : h->kind == 'i' ? TR_SPAN_IDLE : TR_SPAN_HOLD;
        if (h->kind == 'h') tr_rs_hold(b, h->res, h->task, end - h->start);
        tr_span_row *row = tr_span_as(b, h->live_id, name, h->task, h->res, h->start, end, h->loc, 0, 1, 0);
        if (row) row->queue_ns = h->queue_ns;
    }
    for (size_t i = 0; i < b->tasks.cap; i++) {
        if (!b->tasks.keys[i]) continue;
        uint64_t id = b->tasks.keys[i];
        tstate *t = (tstate *)(b->tasks.vals + i * b->tasks.vsize);
        if (t->in_step) {
            t->step_end = end;
            t->step_end_loc = 0;
            tr_step_row(b, id, t, 0, 0, 1);
            t->busy += end - t->step_start;
            /* Still running past the threshold when the trace ended: the
             * hung loop a flight dump is written for (its trigger, a step
             * still running, is timed by the helper, not the runtime). */
            tr_slow_step(b, id, t, end, 0, 1);
        }
        tr_dg_close(b, id, t, end);
        if (t->in_await) {
            tr_step_row(b, id, t, end, 0, 1);
            t->wait += end - t->await_start;
            if (tr_contended_kind(t->await_kind)) tr_rs_wait(b, t->await_res, id, end - t->await_start);
        }
        tr_task_row(b, id, t, -1, t->in_await ? TR_TASK_WAITING : t->start_ts ? TR_TASK_READY : TR_TASK_PENDING, 0, 0);
        tr_lod_flush(b, id, &t->lod, end);
    }
}

/* What a task is doing now, as an open step row (its running step, or the
 * await it is in), written by a live slice and replaced by the final row. */
static void live_step_row(tr_builder *b, uint64_t task, tstate *t)
{
    tr_span_row *s = tr_span_add(b);
    if (!s) return;
    if (t->live_id && t->live_start == t->step_start) s->id = t->live_id; /* the same step again */
    t->live_id = s->id;
    t->live_start = t->step_start;
    s->kind = TR_SPAN_STEP;
    s->task = task;
    s->start = t->step_start;
    s->loc = t->step_loc;
    s->open = 1;
    int64_t now = b->max_ts;
    if (t->in_await) {
        s->end = t->step_end < t->step_start ? t->step_start : t->step_end;
        s->wait = (uint8_t)(t->await_kind + 1);
        s->res = t->await_res;
        s->resumed = now < s->end ? s->end : now;
        s->end_loc = t->await_loc;
    } else {
        s->end = now < s->start ? s->start : now;
    }
}

/* A live slice ends (a view reads the tables while the program runs):
 * write what is open -- each changed task's row with its figures so far
 * and its current step or await, the holds not released yet, the
 * timeline's open buckets -- as rows the final ones will replace. */
void tr_replay_live(tr_builder *b)
{
    b->lod_all = 1; /* a view reads the timeline now: no level kept back */
    for (size_t i = 0; i < b->tasks.cap; i++) {
        if (!b->tasks.keys[i]) continue;
        uint64_t id = b->tasks.keys[i];
        tstate *t = (tstate *)(b->tasks.vals + i * b->tasks.vsize);
        tr_lod_flush(b, id, &t->lod, -1); /* not advanced: other rings may be behind max_ts */
        if (!t->live_dirty) continue;
        t->live_dirty = 0;
        tr_task_row(b, id, t, -1, t->in_await ? TR_TASK_WAITING : t->start_ts ? TR_TASK_READY : TR_TASK_PENDING, 0, 0);
        if (t->in_step || t->in_await) live_step_row(b, id, t);
    }
    for (size_t i = 0; i < b->holds.cap; i++) {
        if (!b->holds.keys[i]) continue;
        hold *h = (hold *)(b->holds.vals + i * b->holds.vsize);
        if (h->kind != 'h' || h->live_id) continue; /* locks and semaphores; an open row's end does not matter */
        tr_span_row *s = tr_span_add(b);
        if (!s) return;
        h->live_id = s->id;
        s->kind = TR_SPAN_HOLD;
        s->task = h->task;
        s->res = h->res;
        s->start = h->start;
        s->end = b->max_ts < h->start ? h->start : b->max_ts;
        s->loc = h->loc;
        s->open = 1;
        s->bin = tr_span_bin(s->start, s->end);
        s->queue_ns = -1;
    }
}
