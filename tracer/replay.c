/* SPDX-License-Identifier: MIT */
/* replay.c -- the builder's replay: events in order, with a little state
 * per task (the open step, the open await) and per held resource, become
 * rows.  Every span is written once, complete, with an INSERT (no UPDATE
 * of spans).  Awaits and resumes become no rows of their own: a step row
 * carries the await that ended it and when that await resumed, so a task
 * switch costs one row, not four (two events, two spans) -- the
 * difference between minutes and seconds of building on a switch-heavy
 * trace.  Belongs to the builder's thread.
 *
 * A task's step rows tile its life, so "what was it doing at t" is the
 * last of its rows starting at or before t: one probe of (task, start).
 * Other spans (holds, regions, work, idle) may overlap, so they carry a
 * `bin` (a hierarchical time bin, as in genome browsers) and "which of them
 * overlap t" is a lookup on (bin, start) over 9 bins instead of a scan: a
 * span gets the finest level whose 2^shift-ns bucket holds both its ends
 * (shift = 20, 24, ... 48), or the catch-all level 8.
 */
#include "builder.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>



static inline int64_t to_ns(tr_builder *b, uint64_t raw) { return tr_clock_ns(&b->clk, raw); }

/* A span row (a hold, region, work or idle span); live_id != 0: it replaces the open row a live slice wrote
 * (same key: OR REPLACE). */
tr_span_row *tr_span_as(tr_builder *b, uint64_t live_id, int kind, uint64_t task, uint64_t res, int64_t start,
                              int64_t end, uint32_t loc, uint32_t end_loc, int open, uint32_t ring)
{
    tr_span_row *s = tr_span_add(b);
    if (!s) return NULL;
    if (live_id) s->id = live_id;
    if (end < start) end = start;
    s->kind = (uint8_t)kind;
    s->task = task;
    s->res = res;
    s->start = start;
    s->end = end;
    s->loc = loc;
    s->end_loc = end_loc;
    s->open = (uint8_t)open;
    s->bin = tr_span_bin(start, end);
    s->ring = ring;
    s->queue_ns = -1;
    return s;
}

/* The task's step row: the step [step_start, step_end) and, if t->in_await,
 * the await that ended it, resumed at `resumed` with `result`.  open: the
 * row's last part had not ended when the trace stopped. */
void tr_step_row(tr_builder *b, uint64_t task, tstate *t, int64_t resumed, int64_t result, int open)
{
    tr_span_row *s = tr_span_add(b);
    if (!s) return;
    s->kind = TR_SPAN_STEP;
    s->task = task;
    s->start = t->step_start;
    /* A live slice wrote this step open: its final row replaces it. */
    if (t->live_id && t->live_start == s->start) s->id = t->live_id;
    t->live_id = 0;
    s->end = t->step_end < t->step_start ? t->step_start : t->step_end;
    s->loc = t->step_loc;
    s->open = (uint8_t)open;
    if (t->in_await) {
        s->wait = (uint8_t)(t->await_kind + 1);
        s->res = t->await_res;
        s->resumed = resumed < s->end ? s->end : resumed;
        s->result = result;
        s->end_loc = t->await_loc;
        tr_wait_add(b, s);
    } else {
        s->end_loc = t->step_end_loc;
    }
}

static uint64_t hold_key(uint64_t res, uint64_t task, int kind)
{
    return mix(res * 0x9e3779b97f4a7c15ull ^ (task << 3) ^ (uint64_t)kind) | 1;
}

static void track_held(tr_builder *b, uint64_t task, uint64_t res, int add)
{
    tstate *t = task ? tr_map_find(&b->tasks, task) : NULL;
    if (!t) return;
    if (add) {
        if (t->nheld < 4) t->held[t->nheld++] = res;
        return;
    }
    for (int i = 0; i < t->nheld; i++)
        if (t->held[i] == res) {
            t->held[i] = t->held[--t->nheld];
            return;
        }
}

/* kind 'h' with owned != 0: a lock, owned by the task until it releases
 * it (semaphores are released by whoever signals: not owned). */
static void open_hold_owned(tr_builder *b, int kind, uint64_t res, uint64_t task, int64_t ts, uint32_t loc, int owned);

static void open_hold(tr_builder *b, int kind, uint64_t res, uint64_t task, int64_t ts, uint32_t loc)
{
    open_hold_owned(b, kind, res, task, ts, loc, 0);
}

static void open_hold_owned(tr_builder *b, int kind, uint64_t res, uint64_t task, int64_t ts, uint32_t loc, int owned)
{
    if (kind == 'h' && owned) track_held(b, task, res, 1);
    if (kind == 'h') tr_site_acquire(b, res, loc);
    hold *h = tr_map_put(&b->holds, hold_key(res, task, kind));
    if (!h) return;
    h->start = ts;
    h->loc = loc;
    h->kind = (uint8_t)kind;
    h->task = task;
    h->res = kind == 'i' ? 0 : res;
    h->live_id = 0;
    h->queue_ns = -1;
}

static void close_hold(tr_builder *b, int kind, int name, uint64_t res, uint64_t task, int64_t ts,
                       uint32_t loc, uint32_t ring)
{
    uint64_t key = hold_key(res, task, kind);
    hold *h = tr_map_find(&b->holds, key);
    if (!h) return;
    if (kind == 'h') {
        track_held(b, task, res, 0);
        tr_rs_hold(b, h->res, task, ts - h->start);
    }
    tr_span_row *row = tr_span_as(b, h->live_id, name, task, h->res, h->start, ts, h->loc, loc, 0, ring);
    if (row) row->queue_ns = h->queue_ns;
    if (kind == 'w') tr_dg_work_end(b, h, ts);
    tr_map_del(&b->holds, key);
}

/* The running step ends (at an await or the task's end): its figures and
 * slow-step check now; its row is written once we know how the await
 * that ended it went (step_row). */
static void close_step(tr_builder *b, uint64_t task, tstate *t, int64_t ts, uint32_t end_loc)
{
    if (!t->in_step) {  /* no step seen (tracing began while it waited): an empty one */
        t->step_start = ts;
        t->step_loc = 0;
    }
    t->step_end = ts;
    t->step_end_loc = end_loc;
    if (!t->in_step) return;
    t->busy += ts - t->step_start;
    t->steps++;
    t->in_step = 0;
    tr_slow_step(b, task, t, ts, end_loc, 0);
}

void tr_slow_step(tr_builder *b, uint64_t task, tstate *t, int64_t end, uint32_t end_loc, int running)
{
    int64_t dur = end - t->step_start;
    if (b->slow_ns <= 0 || dur <= b->slow_ns) return;
    char msg[200];
    snprintf(msg, sizeof msg, "task ran %.1f ms without awaiting%s (threshold %lld ms)", dur / 1e6,
             running ? ", still running at the end" : "", (long long)(b->slow_ns / 1000000));
    b->warn_stack = tr_dg_step_stack(b, t, t->step_start, end);
    tr_warning(b, tr_warning_name(TR_WARN_SLOW_STEP), task, 0, 0, t->step_start, dur, t->step_loc, end_loc, msg);
}

void tr_replay_event(void *ctx, uint32_t ring, const tr_rec *e)
{
    tr_builder *b = ctx;
    int64_t ts = to_ns(b, e->ts);
    unsigned kind = e->kind_loc & 0xff;
    uint32_t loc = e->kind_loc >> 8;
    uint64_t task = e->task;
    if (ts > b->max_ts) b->max_ts = ts;
    b->events++;
    /* An all-asleep's warnings come together on its ring: the ring's next
     * other event ends them. */
    if (b->nasleep && ring == b->asleep_ring && kind != TR_WAITS_FOR &&
        !(kind == TR_WARN && (e->arg & 0xff) == TR_WARN_ALL_ASLEEP))
        tr_asleep_flush(b);

    sqlite3_stmt *st;
    tstate *t = task ? tr_map_find(&b->tasks, task) : NULL;
    if (t) t->live_dirty = 1;
    /* Awaits and resumes are parts of step rows; a resume whose await was
     * never seen (tracing began while the task waited) has no step row to
     * be part of, so it stays an event. */
    int in_step_row = kind == TR_AWAIT || (kind == TR_RESUME && t && t->in_await);
    tr_cell *c = in_step_row ? NULL : tr_next_row(b, &b->ev);
    if (c) {
        cell_int(&c[0], ts);
        cell_int(&c[1], ring);
        cell_opt(&c[2], (int64_t)task);
        cell_text(&c[3], tr_event_name(kind));
        cell_opt(&c[4], (int64_t)e->res);
        cell_int(&c[5], (int64_t)e->arg);
        cell_opt(&c[6], loc);
    }

    if (__builtin_expect(!t && task && (kind == TR_START || kind == TR_AWAIT || kind == TR_RESUME || kind == TR_END), 0)) {
        /* A task spawned before recording began (co_trace_start in a
         * running program): known from its first event on. */
        t = tr_map_put(&b->tasks, task);
        if (t) {
            t->spawn_ts = ts;
            t->ring = ring;
            if (kind == TR_AWAIT || kind == TR_END) { /* it was running: its step began unseen */
                t->in_step = 1;
                t->step_start = ts;
            }
            t->lod.ts = ts;
            t->lod.state = kind == TR_RESUME ? TR_LOD_WAIT + CO_WAIT_NONE : kind == TR_START ? TR_LOD_NONE : TR_LOD_RUN;
            tr_task_row(b, task, t, -1, TR_TASK_PENDING, 0, 0);
        }
    }
    if (kind == TR_START || kind == TR_RESUME || kind == TR_AWAIT || kind == TR_END || kind == TR_LOOP_IDLE ||
        kind == TR_LOOP_BUSY || kind == TR_WARN)
        tr_dg_loop_event(b, ring, kind, ts);
    switch (kind) {
    case TR_THREAD:
        sqlite3_bind_int64(b->ins_thread, 1, (int64_t)e->res);
        sqlite3_bind_int64(b->ins_thread, 2, (int64_t)e->arg);
        sqlite3_bind_int64(b->ins_thread, 3, ts);
        tr_bstep(b, b->ins_thread);
        break;
    case TR_SPAWN: {
        t = tr_map_put(&b->tasks, task);
        if (!t) break;
        t->spawn_ts = ts;
        t->ring = ring;
        t->parent = e->res;
        t->name_id = e->arg;
        t->spawn_loc = loc;
        t->lod.ts = ts;
        uint64_t *name = e->arg ? tr_map_put(&b->names, task) : NULL;
        if (name) *name = e->arg;
        tr_task_row(b, task, t, -1, TR_TASK_PENDING, 0, 0);
        break;
    }
    case TR_START:
        if (!t) break;
        tr_lod_state(b, task, &t->lod, ts, TR_LOD_RUN, t->nheld);
        t->start_ts = ts;
        t->step_start = ts;
        t->step_loc = 0;
        t->in_step = 1;
        break;
    case TR_SNAP_AWAIT: /* a snapshot's task in its await: the await, begun at the snapshot */
    case TR_AWAIT:
        if (!t) break;
        close_step(b, task, t, ts, loc);
        tr_lod_state(b, task, &t->lod, ts, TR_LOD_WAIT + (int)(e->arg & 0xff), t->nheld);
        t->in_await = 1;
        t->handed = 0;
        t->await_start = ts;
        t->await_kind = (uint8_t)(e->arg & 0xff);
        t->await_res = e->res;
        t->await_loc = loc;
        if (tr_contended_kind(t->await_kind)) {
            rstat *r = tr_rs_of(b, e->res);
            if (r && ++r->waiters > r->max_waiters) r->max_waiters = r->waiters;
        } else {
            tr_crowd_note(b, t->await_kind, e->res, 1);
        }
        break;
    case TR_RESUME: {
        if (!t) break;
        int64_t result = (int64_t)e->arg;
        if (t->in_await) {
            tr_dg_resume(b, task, t, ts, result);
            tr_fl_resume(b, task, t, ts, result);
            tr_step_row(b, task, t, ts, result, 0);
            t->wait += ts - t->await_start;
            t->awaits++;
            t->in_await = 0;
            if (tr_contended_kind(t->await_kind)) {
                tr_rs_wait(b, t->await_res, task, ts - t->await_start);
                tr_site_wait(b, t->await_res, t->await_loc, ts - t->await_start);
                rstat *r = tr_rs_of(b, t->await_res);
                if (r && !t->handed) r->waiters--;
            } else {
                tr_crowd_note(b, t->await_kind, t->await_res, -1);
            }
            t->handed = 0;
            /* A lock held while awaiting something else, for long: others queue behind it. */
            int64_t dur = ts - t->await_start;
            for (int i = 0; i < t->nheld && b->slow_ns > 0 && dur > b->slow_ns; i++) {
                if (t->held[i] == t->await_res) continue;
                char msg[600], who[160], lock[200], what[200];
                tr_task_label(b, task, who, sizeof who);
                tr_wait_label(b, CO_WAIT_LOCK, t->held[i], lock, sizeof lock);
                tr_wait_label(b, t->await_kind, t->await_res, what, sizeof what);
                snprintf(msg, sizeof msg, "task %s held %s for %.1f ms while awaiting %s", who, lock, dur / 1e6,
                         what);
                tr_warning(b, tr_warning_name(TR_WARN_LOCK_HELD), task, 0, t->held[i], t->await_start, dur, t->await_loc, 0, msg);
            }
            if (result == 0 && (t->await_kind == CO_WAIT_LOCK || t->await_kind == CO_WAIT_SEM))
                open_hold_owned(b, 'h', t->await_res, task, ts, t->await_loc, t->await_kind == CO_WAIT_LOCK);
        }
        t->step_start = ts;
        t->step_loc = t->await_loc;
        t->in_step = 1;
        tr_lod_state(b, task, &t->lod, ts, TR_LOD_RUN, t->nheld);
        break;
    }
    case TR_END: {
        if (!t) break;
        int64_t result = (int64_t)e->arg;
        if (t->in_await) {  /* ended without resuming: not seen from the runtime, but keep the await */
            tr_step_row(b, task, t, ts, 0, 0);
            t->in_await = 0;
            t->in_step = 1;
            t->step_start = ts;
        }
        close_step(b, task, t, ts, 0);
        tr_step_row(b, task, t, 0, 0, 0);
        tr_fl_end(b, task, t, ts, result);
        t->ended = 1;
        unsigned state = result >= 0 ? TR_TASK_DONE : result == -ECANCELED ? TR_TASK_CANCELLED : TR_TASK_FAILED;
        tr_task_row(b, task, t, ts, state, result, 1);
        tr_lod_state(b, task, &t->lod, ts, TR_LOD_NONE, 0);
        tr_lod_flush(b, task, &t->lod, -1);
        tr_map_del(&b->tasks, task);
        break;
    }
    case TR_SNAP_RES: /* made before the snapshot: the same row */
    case TR_RES_NEW: {
        st = b->ins_res;
        sqlite3_bind_int64(st, 1, (int64_t)e->res);
        sqlite3_bind_text(st, 2, tr_resource_kind_name((unsigned)(e->arg & 0xff)), -1, SQLITE_STATIC);
        const char *name = tr_string_of(b, e->arg >> 8);
        if (name) sqlite3_bind_text(st, 3, name, -1, SQLITE_TRANSIENT); else sqlite3_bind_null(st, 3);
        sqlite3_bind_int64(st, 4, ring);
        sqlite3_bind_int64(st, 5, ts);
        tr_bind_opt(st, 6, loc);
        tr_bstep(b, st);
        break;
    }
    case TR_SNAP_TASK:
        tr_snap_task(b, ring, e, ts, loc);
        break;
    case TR_SNAP_VALUE:
        tr_snap_value(b, e);
        break;
    case TR_SNAP_HOLD: /* a lock held at the snapshot: a hold from then */
    case TR_LOCK_ACQ:
    case TR_SEM_ACQ:
        open_hold_owned(b, 'h', e->res, task, ts, loc, kind != TR_SEM_ACQ);
        if (t) tr_lod_state(b, task, &t->lod, ts, t->lod.state, t->nheld);
        break;
    case TR_LOCK_REL:
    case TR_SEM_REL: {
        close_hold(b, 'h', TR_SPAN_HOLD, e->res, task, ts, loc, ring);
        /* Handed to a waiter: it stops waiting now, not when it next runs
         * (it may be behind many ready tasks), so max_waiters does not
         * count it any more. */
        tstate *to = e->arg ? tr_map_find(&b->tasks, e->arg) : NULL;
        if (to && to->in_await && !to->handed && to->await_res == e->res && tr_contended_kind(to->await_kind)) {
            rstat *r = tr_rs_of(b, e->res);
            if (r) r->waiters--;
            to->handed = 1;
        }
        if (t) tr_lod_state(b, task, &t->lod, ts, t->lod.state, t->nheld);
        break;
    }
    case TR_LOG:
    case TR_MARK:
        if (t) tr_lod_flag(b, task, &t->lod, ts, kind == TR_LOG ? TR_LOD_F_LOG : TR_LOD_F_MARK);
        break;
    case TR_REGION_BEGIN:
        open_hold(b, 'r', e->res, task, ts, loc);
        if (t) tr_lod_flag(b, task, &t->lod, ts, TR_LOD_F_REGION);
        break;
    case TR_REGION_END:
        close_hold(b, 'r', TR_SPAN_REGION, e->res, task, ts, loc, ring);
        if (t) tr_lod_flag(b, task, &t->lod, ts, TR_LOD_F_REGION);
        break;
    case TR_WORK_QUEUED:
        tr_dg_work_queued(b, e, ts, loc);
        break;
    case TR_WORK_BEGIN: { /* on a pool thread; task = the task that submitted it */
        open_hold(b, 'w', e->res, task, ts, loc);
        int64_t delay = tr_dg_work_begin(b, e, ts, loc);
        hold *h = tr_map_find(&b->holds, hold_key(e->res, task, 'w'));
        if (h) h->queue_ns = delay;
        if (h) h->wkind = (uint8_t)e->arg;
        break;
    }
    case TR_CANCEL:
        tr_dx_cancel(b, e, ts);
        tr_dg_cancel(b, e, ts);
        break;
    case TR_WORK_END:
        close_hold(b, 'w', TR_SPAN_WORK, e->res, task, ts, loc, ring);
        break;
    case TR_Q_PUT:
    case TR_Q_GET: {
        rstat *r = tr_rs_of(b, e->res);
        if (!r) break;
        r->seen_depth = 1;
        if ((int64_t)e->arg > r->max_depth) r->max_depth = (int64_t)e->arg;
        tr_depth_note(b, e->res, r, ts, (int64_t)e->arg);
        if (task) *(kind == TR_Q_PUT ? &r->last_put : &r->last_get) = task;
        tr_dq_event(b, e, ts, loc, kind == TR_Q_PUT);
        /* Items taken out: every get, and every put handed straight to a
         * waiting getter (the queue stays empty: depth 0 after the put). */
        if (kind == TR_Q_GET || e->arg == 0) r->acquisitions++;
        break;
    }
    case TR_DETACH: {
        tstate *d = tr_map_find(&b->tasks, e->res);
        if (d) { /* alive: its row says so now, and again at its end */
            d->detached = 1;
            tr_task_row(b, e->res, d, -1, TR_TASK_PENDING, 0, 0);
            break;
        }
        /* Detached after it ended (rare): its last row may still wait in
         * the batch, so that goes in first. */
        int r = tr_batch_flush(&b->tk);
        if (r == 0) r = tr_writer_sync(b->writer);
        if (r < 0 && !b->err) b->err = r;
        sqlite3_bind_int64(b->upd_detached, 1, (int64_t)e->res);
        tr_bstep(b, b->upd_detached);
        break;
    }
    case TR_LOOP_IDLE: /* the loop of this ring blocks in poll */
        open_hold(b, 'i', ring + 1, 0, ts, 0);
        break;
    case TR_LOOP_BUSY:
        close_hold(b, 'i', TR_SPAN_IDLE, ring + 1, 0, ts, 0, ring);
        break;
    case TR_MODULE:
        tr_sym_module(b, e->res, e->arg);
        break;
    case TR_STACK:
        tr_dg_frame(b, ring, e);
        break;
    case TR_WARN:
        if ((e->arg & 0xff) == TR_WARN_CRASH) tr_dg_crash(b, ring, e, ts, loc);
        else if ((e->arg & 0xff) == TR_WARN_ALL_ASLEEP) tr_asleep_add(b, ring, e, ts, loc);
        else tr_on_warn(b, e, ts, loc);
        if (t) tr_lod_flag(b, task, &t->lod, ts, TR_LOD_F_WARN);
        break;
    case TR_WAITS_FOR:
        if (b->wf_task != task) b->nwf = 0;
        b->wf_task = task;
        if (b->nwf < (int)(sizeof b->wf / sizeof b->wf[0])) b->wf[b->nwf++] = e->res;
        break;
    case TR_STACK_TEXT:
        tr_dg_stack_text(b, task, t, ts, e->res);
        break;
    case TR_ENDPOINT:
        tr_dx_endpoint(b, e, ts, loc);
        break;
    case TR_SLOW_CB: /* debug mode's own measure: the warning comes from the loop's events (tr_dg_loop_event) */
        break;
    default:
        break;
    }
}
