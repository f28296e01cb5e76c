/* SPDX-License-Identifier: MIT */
/* snapshot.c -- a loop's state written into its ring, so that a recording
 * that begins mid-run (coscope attach, each period of the flight recorder)
 * reads as if it had recorded from the start: every task alive with its
 * parent, spawn site, name, state and await, and the resources those
 * awaits and holds reach, with holders, values and depths.
 *
 * The records (TR_SNAP_*, trace.h; docs/schema.md) go on the loop thread's
 * own ring, ahead of every other event of the session from that loop
 * (co__tr_snap_gate), all with one timestamp: the builder opens each task
 * and each wait and hold at that instant.
 *
 * Resources have no registry (a lock is the program's memory, made and
 * dropped without telling the loop), so the snapshot has the ones a task
 * reaches: what each waiting task waits on, the lock each task took last
 * (co__task.last_lock), a condition's lock.  A resource reached by none
 * of these (a lock held under another one, an idle queue) enters the trace
 * at its next event, without its name.
 */
#define _GNU_SOURCE
#include "internal.h"
#include "trace.h"
#include <sys/syscall.h>
#include <unistd.h>

/* The resources seen, by address: an open-addressing set. */
typedef struct seen {
    const void **slot;
    size_t cap, n;
} seen;

static int seen_add(seen *s, const void *p)
{
    if (s->n * 2 >= s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        const void **ns = calloc(cap, sizeof *ns);
        if (!ns) return 0;
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->slot[i]) continue;
            size_t h = ((uintptr_t)s->slot[i] >> 4) * 0x9e3779b97f4a7c15ull & (cap - 1);
            while (ns[h]) h = (h + 1) & (cap - 1);
            ns[h] = s->slot[i];
        }
        free(s->slot);
        s->slot = ns;
        s->cap = cap;
    }
    size_t h = ((uintptr_t)p >> 4) * 0x9e3779b97f4a7c15ull & (s->cap - 1);
    while (s->slot[h]) {
        if (s->slot[h] == p) return 0;
        h = (h + 1) & (s->cap - 1);
    }
    s->slot[h] = p;
    s->n++;
    return 1;
}

/* A resource's name as co__resource_new records it: co_X_init(&x) names it
 * "&x", stored as "x", so a snapshot's lock reads as the one recorded when
 * it was made. */
static uint64_t name_id(const char *name)
{
    if (name && name[0] == '&') name++;
    return name ? co__tr_intern_cached(name, strlen(name)) : 0;
}

static void res_record(unsigned kind, uint64_t id, const char *name)
{
    co__tr_emit(TR_SNAP_RES, NULL, 0, id, kind | name_id(name) << 8);
}

static uint64_t snap_value(unsigned kind, int64_t v)
{
    return ((uint64_t)v & TR_SNAP_VALUE_MASK) | (uint64_t)kind << 56;
}

/* One resource a task reached, once; returns 1 if written. */
static int write_res(seen *s, unsigned kind, const void *obj)
{
    if (!obj || !seen_add(s, obj)) return 0;
    switch (kind) {
    case CO_WAIT_LOCK: {
        const co_lock_t *k = obj;
        if (k->magic != CO__MAGIC_LOCK) return 0;
        res_record(CO_WAIT_LOCK, k->id, k->name);
        co__task *o = co__lock_owner(k);
        if (o) co__tr_emit(TR_SNAP_HOLD, NULL, o->id, k->id, CO_WAIT_LOCK); /* where it took it is not kept */
        return 1;
    }
    case CO_WAIT_SEM: {
        const co_sem_t *m = obj;
        if (m->magic != CO__MAGIC_SEM) return 0;
        res_record(CO_WAIT_SEM, m->id, m->name);
        co__tr_emit(TR_SNAP_VALUE, NULL, m->last_taker_id, m->id, snap_value(CO_WAIT_SEM, m->value));
        return 1;
    }
    case CO_WAIT_QUEUE_GET:
    case CO_WAIT_QUEUE_PUT:
    case CO_WAIT_QUEUE_JOIN: {
        const co_queue_t *q = obj;
        if (q->magic != CO__MAGIC_QUEUE) return 0;
        res_record(CO_WAIT_QUEUE_GET, q->id, q->name);
        co__tr_emit(TR_SNAP_VALUE, NULL, 0, q->id, snap_value(CO_WAIT_QUEUE_GET, (int64_t)q->len));
        return 1;
    }
    case CO_WAIT_EVENT: {
        const co_event_t *e = obj;
        if (e->magic != CO__MAGIC_EVENT) return 0;
        res_record(CO_WAIT_EVENT, e->id, e->name);
        co__tr_emit(TR_SNAP_VALUE, NULL, 0, e->id, snap_value(CO_WAIT_EVENT, e->is_set != 0));
        return 1;
    }
    case CO_WAIT_COND: {
        const co_cond_t *c = obj;
        if (c->magic != CO__MAGIC_COND) return 0;
        res_record(CO_WAIT_COND, c->id, c->name);
        return 1 + write_res(s, CO_WAIT_LOCK, c->lock);
    }
    case CO_WAIT_FUTURE: {
        const co_future_t *f = obj;
        if (f->magic != CO__MAGIC_FUTURE) return 0;
        res_record(CO_WAIT_FUTURE, f->id, NULL);
        return 1;
    }
    default:
        return 0;
    }
}

size_t co__snapshot_write(co__loop *l)
{
    if (!co__tracing) return 0;
    /* This loop's events are recorded from here on (co__tr_claim). */
    l->snap_epoch = co__tr_epoch;
    size_t ntasks = 0, nres = 0;
    co__tr_keep = 1; /* whole or not at all: a torn one would open its period wrong */
    co__tr_emit(TR_SNAP_BEGIN, NULL, 0, l->live, (uint64_t)(uint32_t)syscall(SYS_gettid));
    /* Tasks first, all of them: a wait or hold below may name any. */
    for (uint32_t s = 0; s < l->nslots; s++) {
        co__task *t = &l->chunks[s / CO__CHUNK][s % CO__CHUNK];
        if (!(t->gen & 1) || co__task_ended(t)) continue;
        uint64_t flags = (t->started ? TR_SNAP_F_STARTED : 0) | (t->detached ? TR_SNAP_F_DETACHED : 0) |
                         (t->cancel_pending ? TR_SNAP_F_CANCEL_PENDING : 0);
        co__tr_emit(TR_SNAP_TASK, t->spawn_loc, t->id, t->parent_id,
                    name_id(t->name) | (uint64_t)t->state << 32 | flags << 40);
        ntasks++;
    }
    seen set = { 0 };
    for (uint32_t s = 0; s < l->nslots; s++) {
        co__task *t = &l->chunks[s / CO__CHUNK][s % CO__CHUNK];
        if (!(t->gen & 1) || co__task_ended(t)) continue;
        /* Waiting: its await.  Ready after a wake: the await it woke from
         * (still its wait_kind and wait_loc), until it runs.  Running (a
         * snapshot taken from a task) or not started: no await. */
        int waiting = t->state == CO_TASK_WAITING;
        if (t->started && (waiting || t->state == CO_TASK_READY) && t->wait_loc)
            co__tr_emit(TR_SNAP_AWAIT, t->wait_loc, t->id, waiting ? t->wait_obj_id : 0,
                        waiting ? t->wait_kind : CO_WAIT_NONE);
        if (waiting) nres += (size_t)write_res(&set, t->wait_kind, t->wait_obj);
        if (t->locks_held > 0 && t->last_lock && co__lock_owner(t->last_lock) == t)
            nres += (size_t)write_res(&set, CO_WAIT_LOCK, t->last_lock);
    }
    free(set.slot);
    co__tr_emit(TR_SNAP_END, NULL, 0, ntasks, nres);
    co__tr_keep = 0;
    co__tr_modules(); /* where the code is, for a crash's stack: once per session, now that this ring records */
    return ntasks;
}
