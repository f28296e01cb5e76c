/* SPDX-License-Identifier: MIT */
/* diag_cause.c -- the line that caused a wait, for the all_asleep stories;
 * the thresholds of issue 22's detections; connections' endpoints.
 *
 * A story used to name where each task waits, never what put it there.
 * What the builder keeps for that, from events it already had:
 *   - a task that ended: its result, its last await line, and if a timeout
 *     cut it short, which: its own await that timed out (a timeout scope),
 *     or the co_wait_for whose expiry cancelled it (the awaiting task's
 *     await ended -ETIMEDOUT and its very next act was the cancel);
 *   - a wakeup dropped: a task woken from a condition, event, queue or
 *     semaphore (or re-taking a condition's lock) that was cancelled
 *     before it could use it (TR_CANCEL not interrupting a wait: a
 *     hand-off stands, runtime/coscope.h at co_cancel), so what it was
 *     woken for went nowhere when it ended;
 *   - the holds still open (replay.c): a lock or semaphore unit taken by a
 *     task that ended, and where it was taken.
 * tr_dx_why turns these into the story's words and its cause_loc: where
 * the holder took what it never gave back (or the timeout that made it
 * leave without giving it back), where the dropped wakeup was received,
 * where the other end of a connection within the process was made.
 *
 * Thresholds (meta, set by `coscope run`): sustain_ms (default 1000: how
 * long a queue must grow or a failure loop last; shorter is a burst),
 * fail_rate (default 100 failures a second: a retry with backoff stays far
 * below, a spin far above), queue_min (default 256 items left at the end).
 */
#include "diag.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Read when first needed: `coscope run` writes them into meta after the
 * builder is made. */
const tr_dx_limits *tr_dx_limits_of(tr_builder *b)
{
    static const tr_dx_limits none = { 0, 0, 0 };
    tr_dx *x = b->dx;
    if (!x) return &none;
    if (!x->lim_loaded) {
        int64_t ms = tr_meta_int(b->db, TR_META_SUSTAIN_MS, 1000);
        x->lim.sustain_ns = (ms < 0 ? 0 : ms > 3600000 ? 3600000 : ms) * 1000000;
        x->lim.fail_rate = tr_meta_int(b->db, TR_META_FAIL_RATE, 100);
        x->lim.queue_min = tr_meta_int(b->db, TR_META_QUEUE_MIN, 256);
        if (x->lim.queue_min < 1) x->lim.queue_min = 1;
        x->lim_loaded = 1;
    }
    return &x->lim;
}

/* ------------------------------------------------------------------------ */
/* What happened to tasks                                                    */

void tr_dx_resume(tr_builder *b, uint64_t task, tstate *t, int64_t ts, int64_t result)
{
    tr_dx *x = b->dx;
    if (result >= 0 && t->await_kind != CO_WAIT_COND) return;
    tr_dx_last *l = tr_map_put(&x->last, task);
    if (!l) return;
    if (result < 0) {
        l->ts = ts;
        l->result = result;
        l->loc = t->await_loc;
    } else { /* notified: it re-takes the condition's lock next, at the same line */
        l->cond = t->await_res;
        l->cond_loc = t->await_loc;
    }
}

void tr_dx_cancel(tr_builder *b, const tr_rec *e, int64_t ts)
{
    tr_dx *x = b->dx;
    tstate *t = e->res ? tr_map_find(&b->tasks, e->res) : NULL;
    if (!x || !t) return;
    unsigned how = (unsigned)(e->arg & 0xff);
    /* A wakeup it holds and may now drop. */
    if (t->in_await) {
        uint64_t res = 0;
        tr_dx_last *l = tr_map_find(&x->last, e->res);
        if (t->await_kind == CO_WAIT_LOCK && l && l->cond && l->cond_loc == t->await_loc)
            res = l->cond; /* inside co_cond_wait, notified, re-taking the lock */
        else if (how != TR_CANCEL_INTERRUPTS &&
                 (t->await_kind == CO_WAIT_COND || t->await_kind == CO_WAIT_EVENT ||
                  t->await_kind == CO_WAIT_QUEUE_GET || t->await_kind == CO_WAIT_SEM))
            res = t->await_res;
        if (res) {
            tr_dx_lost *lo = tr_map_put(&x->lost, res);
            if (lo) {
                lo->task = e->res;
                lo->by = e->task;
                lo->loc = t->await_loc;
                lo->ts = ts;
            }
        }
    }
    /* Cancelled because the requester's timed await (co_wait_for) just expired. */
    tstate *rq = e->task ? tr_map_find(&b->tasks, e->task) : NULL;
    tr_dx_last *rl = e->task ? tr_map_find(&x->last, e->task) : NULL;
    if (rq && rl && rq->in_step && rl->result == -ETIMEDOUT && rl->ts == rq->step_start) {
        tr_dx_end *en = tr_map_put(&x->ended, e->res); /* filled in at its end */
        if (en && !en->cancel_loc) {
            en->cancel_loc = rl->loc;
            en->cancel_by = e->task;
        }
    }
}

void tr_dx_ended(tr_builder *b, uint64_t task, tstate *t, int64_t ts, int64_t result)
{
    tr_dx *x = b->dx;
    tr_dx_end *en = tr_map_put(&x->ended, task);
    if (!en) return;
    en->ts = ts;
    en->result = result;
    en->last_loc = t->step_loc;
    tr_dx_last *l = tr_map_find(&x->last, task);
    if (l && l->result == -ETIMEDOUT) {
        en->timeout_loc = l->loc;
        en->timeout_ts = l->ts;
    }
    if (l) tr_map_del(&x->last, task);
}

/* ------------------------------------------------------------------------ */
/* Endpoints                                                                 */

void tr_dx_endpoint(tr_builder *b, const tr_rec *e, int64_t ts, uint32_t loc)
{
    tr_dx *x = b->dx;
    if (!x) return;
    tr_dx_ep *p = tr_map_put(&x->eps, e->res);
    if (!p) return;
    p->local = e->arg & 0xffffffffu;
    p->peer = e->arg >> 32;
    p->task = e->task;
    p->loc = loc;
    if (!x->ins_ep) return;
    const char *l = tr_string_of(b, p->local), *r = tr_string_of(b, p->peer);
    sqlite3_stmt *st = x->ins_ep;
    sqlite3_bind_int64(st, 1, (int64_t)e->res);
    if (l) sqlite3_bind_text(st, 2, l, -1, SQLITE_TRANSIENT); else sqlite3_bind_null(st, 2);
    if (r) sqlite3_bind_text(st, 3, r, -1, SQLITE_TRANSIENT); else sqlite3_bind_null(st, 3);
    tr_bind_opt(st, 4, (int64_t)e->task);
    sqlite3_bind_int64(st, 5, ts);
    tr_bind_opt(st, 6, loc);
    tr_bstep(b, st);
}

static int same_text(tr_builder *b, uint64_t a, uint64_t c)
{
    if (a == c) return 1;
    const char *s = tr_string_of(b, a);
    char *keep = s ? strdup(s) : NULL; /* tr_string_of may reuse its buffer */
    const char *t = tr_string_of(b, c);
    int same = keep && t && !strcmp(keep, t);
    free(keep);
    return same;
}

/* ------------------------------------------------------------------------ */
/* Why a wait will not end                                                   */

/* The open hold of res by an ended task (prefer `who`): its start and line. */
static int ended_hold(tr_builder *b, uint64_t res, uint64_t who, uint64_t *task, int64_t *start, uint32_t *loc)
{
    tr_dx *x = b->dx;
    int found = 0;
    for (size_t i = 0; i < b->holds.cap; i++) {
        if (!b->holds.keys[i]) continue;
        const hold *h = (const hold *)(b->holds.vals + i * b->holds.vsize);
        if (h->kind != 'h' || h->res != res || !h->task || !tr_map_find(&x->ended, h->task)) continue;
        if (found && h->task != who) continue;
        *task = h->task;
        *start = h->start;
        *loc = h->loc;
        found = 1;
        if (h->task == who) break;
    }
    return found;
}

/* "a.c:12" */
static void at(tr_builder *b, uint32_t loc, char *out, size_t cap) { tr_loc_label(b, loc, out, cap); }

uint32_t tr_dx_why(tr_builder *b, int kind, uint64_t res, uint64_t other, char *out, size_t cap)
{
    tr_dx *x = b->dx;
    out[0] = 0;
    if (!x || !res) return 0;
    char who[160], l1[160], l2[160], l3[160], by[160];
    if (kind == CO_WAIT_LOCK || kind == CO_WAIT_SEM) {
        uint64_t task;
        int64_t start;
        uint32_t took;
        if (!ended_hold(b, res, other, &task, &start, &took)) return 0;
        tr_dx_end *en = tr_map_find(&x->ended, task);
        tr_task_label(b, task, who, sizeof who);
        at(b, took, l1, sizeof l1);
        char after[200] = "";
        if (en->last_loc) { /* the line its last step began at: it returned from there */
            at(b, en->last_loc, l2, sizeof l2);
            snprintf(after, sizeof after, ", after %s", l2);
        }
        int n = snprintf(out, cap, "; %s %s took %s at %s and ended (%s%s) without releasing it",
                         kind == CO_WAIT_LOCK ? "its holder" : "a unit never came back:", who,
                         kind == CO_WAIT_LOCK ? "it" : "one", l1,
                         en->result >= 0 ? "returned" : en->result == -ECANCELED ? "cancelled" : "failed", after);
        uint32_t cause = took;
        if (en->cancel_loc) {
            at(b, en->cancel_loc, l3, sizeof l3);
            tr_task_label(b, en->cancel_by, by, sizeof by);
            n += snprintf(out + n, cap - (size_t)n, ": cancelled when the wait for it at %s by %s timed out", l3, by);
            cause = en->cancel_loc;
        } else if (en->timeout_loc && en->timeout_ts >= start) {
            at(b, en->timeout_loc, l3, sizeof l3);
            n += snprintf(out + n, cap - (size_t)n, ": its await at %s timed out and it left without releasing", l3);
            cause = en->timeout_loc;
        }
        at(b, cause, l3, sizeof l3);
        snprintf(out + n, cap - (size_t)n, " (caused at %s)", l3);
        return cause;
    }
    if (kind == CO_WAIT_COND || kind == CO_WAIT_EVENT || kind == CO_WAIT_QUEUE_GET) {
        tr_dx_lost *lo = tr_map_find(&x->lost, res);
        if (!lo) return 0;
        tr_task_label(b, lo->task, who, sizeof who);
        at(b, lo->loc, l1, sizeof l1);
        if (lo->by) tr_task_label(b, lo->by, by, sizeof by);
        else snprintf(by, sizeof by, "code outside tasks");
        tr_dx_end *en = tr_map_find(&x->ended, lo->task);
        snprintf(out, cap, "; the wakeup went to %s, woken at %s and cancelled by %s before it used it%s, so it went "
                 "nowhere (caused at %s)", who, l1, by, en ? ", then it ended" : "", l1);
        return lo->loc;
    }
    if (kind == CO_WAIT_TCP_READ) {
        tr_dx_ep *a = tr_map_find(&x->eps, res);
        if (!a) return 0;
        tr_dx_ep me = *a;
        uint64_t oid = 0;
        tr_dx_ep o = { 0 };
        for (size_t i = 0; i < x->eps.cap && !oid; i++) {
            if (!x->eps.keys[i] || x->eps.keys[i] == res) continue;
            const tr_dx_ep *c = (const tr_dx_ep *)(x->eps.vals + i * x->eps.vsize);
            if (same_text(b, c->local, me.peer) && same_text(b, c->peer, me.local)) {
                oid = x->eps.keys[i];
                o = *c;
            }
        }
        if (!oid) return 0;
        at(b, me.loc, l1, sizeof l1);
        at(b, o.loc, l2, sizeof l2);
        tr_task_label(b, o.task, who, sizeof who);
        const char *peer = tr_string_of(b, me.peer);
        char pbuf[160];
        snprintf(pbuf, sizeof pbuf, "%s", peer ? peer : "?");
        const char *local = tr_string_of(b, me.local);
        snprintf(out, cap, ": connection %s -> %s (#%llu, made at %s), whose other end (#%llu, %s -> %s, made at %s by %s) "
                 "is this process's own, so only a task of this process could write to it (caused at %s)",
                 local ? local : "?", pbuf, (unsigned long long)res, l1, (unsigned long long)oid, pbuf,
                 local ? local : "?", l2, who, l2);
        return o.loc;
    }
    return 0;
}
