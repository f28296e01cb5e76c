/* SPDX-License-Identifier: MIT */
/* warn.c -- the runtime's own detections, as TR_WARN events for the trace
 * (the stderr reports are in dump.c).  A deadlock names every task of the
 * cycle; the loop-wide detections name every task concerned, with what it
 * waits on (the wait kind travels with the event: a resource id alone does
 * not say whether it is a lock, a task or a queue being filled or drained)
 * and the task that could have released it. */
#include "internal.h"
#include "endpoint.h"

/* The task that could end x's wait, if there is a single one: the edge of
 * the deadlock check, for a semaphore its last taker, for a read on a
 * connection whose other end is this loop's the task using that end. */
static co__task *blocker(co__task *x)
{
    if (x->state == CO_TASK_WAITING && x->wait_kind == CO_WAIT_SEM)
        return co__sem_last_taker((co_sem_t *)x->wait_obj);
    if (x->state == CO_TASK_WAITING && x->wait_kind == CO_WAIT_TCP_READ)
        return co__ep_peer_user(x); /* the other end is ours: only its user could write */
    return co__waits_for(x);
}

/* arg = code | wait kind << 8 | other task << 16.  other: the task that
 * could end the wait (the awaited task, a lock's owner, a semaphore's last
 * taker; for a semaphore taker freed since, its id alone). */
static void emit(int code, co__task *t, uint64_t res, int kind, uint64_t other_id, co_loc *loc)
{
    co__tr_emit(TR_WARN, loc, t->id, res, (uint64_t)code | (uint64_t)(kind & 0xff) << 8 | other_id << 16);
}

/* A gather, co_wait or group names no single task: the tasks it waits for
 * go first, one TR_WAITS_FOR each (those watched by t, or the group's
 * children), for the reader to name them in the warning. */
static void emit_awaited(co__task *t)
{
    co__loop *l = t->loop;
    if (t->wait_kind == CO_WAIT_GROUP) {
        co_group_t *g = t->wait_obj;
        for (co__task *c = g ? g->children : NULL; c; c = c->group_next)
            if (!co__task_ended(c)) co__tr_emit(TR_WAITS_FOR, NULL, t->id, c->id, 0);
        return;
    }
    for (uint32_t s = 0; s < l->nslots; s++) {
        co__task *x = &l->chunks[s / CO__CHUNK][s % CO__CHUNK];
        if (!(x->gen & 1) || co__task_ended(x)) continue;
        for (co__watch *w = x->watchers; w; w = w->next)
            if (w->waiter == t) {
                co__tr_emit(TR_WAITS_FOR, NULL, t->id, x->id, 0);
                break;
            }
    }
}

static void emit_waiting(int code, co__task *t)
{
    if (t->wait_kind == CO_WAIT_TASKS || t->wait_kind == CO_WAIT_GROUP) emit_awaited(t);
    co__task *b = blocker(t);
    uint64_t other = b ? b->id : 0;
    if (!other && t->wait_kind == CO_WAIT_SEM) other = ((co_sem_t *)t->wait_obj)->last_taker_id;
    emit(code, t, t->wait_obj_id, t->wait_kind, other, t->wait_loc);
}

void co__warn_cycle(co__task *self, uint64_t want_id, int want_kind, co__task *target, co_loc *loc)
{
    if (!co__tracing) return;
    /* self is still running: its wait was refused, so it is described by
     * what it asked for. */
    emit(TR_WARN_DEADLOCK, self, want_id, want_kind, target ? target->id : 0, loc);
    size_t limit = self->loop->live;
    for (co__task *x = target; x && x != self && limit--; x = blocker(x)) {
        if (x->state != CO_TASK_WAITING) break;
        emit_waiting(TR_WARN_DEADLOCK, x);
    }
}

void co__warn_loop(co__loop *l, int code)
{
    if (!co__tracing) return;
    for (uint32_t s = 0; s < l->nslots; s++) {
        co__task *t = &l->chunks[s / CO__CHUNK][s % CO__CHUNK];
        if (!(t->gen & 1)) continue;
        switch (code) {
        case TR_WARN_ALL_ASLEEP:
        case TR_WARN_PENDING_AT_EXIT:
            /* Told by the all-asleep report, still the same wait: the
             * all_asleep row says it already. */
            if (code == TR_WARN_PENDING_AT_EXIT && t->asleep_told && t->state == CO_TASK_WAITING) break;
            if (t->state == CO_TASK_WAITING) emit_waiting(code, t);
            else if (!co__task_ended(t) && code == TR_WARN_PENDING_AT_EXIT)
                emit(code, t, 0, CO_WAIT_NONE, 0, t->spawn_loc);
            break;
        case TR_WARN_NEVER_AWAITED:
            /* Detached tasks were told of as they failed (co__warn_detached_failed). */
            if (!co__task_ended(t) || t->detached || t->awaited || t->closing_cancelled) break;
            if (t->state == CO_TASK_FAILED)
                emit(TR_WARN_UNRETRIEVED, t, (uint64_t)(int64_t)t->result, CO_WAIT_NONE, 0, t->spawn_loc);
            else if (t->cancel_count == 0)
                emit(code, t, 0, CO_WAIT_NONE, 0, t->spawn_loc);
            break;
        }
    }
}

/* asyncio's "Task exception was never retrieved" for a fire-and-forget
 * task: detached, nobody can read its error, so its end is the moment. */
void co__warn_detached_failed(co__task *t)
{
    if (!co__tracing) return;
    emit(TR_WARN_UNRETRIEVED, t, (uint64_t)(int64_t)t->result, CO_WAIT_NONE, 0, t->spawn_loc);
}

/* co_loop_free gave up on t after the grace period (loop.c). */
void co__warn_abandoned(co__task *t)
{
    if (!co__tracing) return;
    if (t->state == CO_TASK_WAITING)
        emit_waiting(TR_WARN_CANCEL_IGNORED, t);
    else
        emit(TR_WARN_CANCEL_IGNORED, t, 0, CO_WAIT_NONE, 0, t->spawn_loc);
}
