/* SPDX-License-Identifier: MIT */
/* await.c -- the one await path.  Every point where a task can suspend ends
 * in co__suspend(), which records what the task waits on and where (for the
 * tracer, co_dump and the deadlock checks), arms its timeout, and switches
 * away; co__wake() (or co__wake_quick(), its form without calls) and
 * co__interrupt() are the only ways back.
 *
 * Wake results: 0 or a payload-specific value from the object that woke the
 * task, -ECANCELED from co_cancel, -ETIMEDOUT from a timeout scope.
 *
 * Cancellation after a wake (the one rule, coscope.h at co_cancel).  Once a
 * task is READY its wake result is final: the call returns what woke it,
 * and a cancellation arriving before the task runs is delivered at its next
 * await.  The wake may have handed the task something: a queue item, a
 * semaphore unit, a lock, a future's value, a channel message, an awaited
 * task's result.  Then a task that returns before its next await ends with
 * its own result, the cancellation undelivered (CO__CANCEL_AFTER_HANDOFF,
 * set by co_cancel), because ending it cancelled would drop what it was
 * handed, or tell its caller an operation failed that happened.  Undoing
 * the hand-off instead (asyncio's way) would need an undo per primitive on
 * the hand-off path, and some cannot be undone at all: a blocked put's item,
 * pulled into the queue by a getter, may be gone by the time the
 * cancellation lands.  A wake that hands nothing (a sleep's end, an event)
 * loses nothing, so a return there ends the task cancelled, as asyncio's
 * test_cancel_at_end wants.  A yield is the one call that returns the
 * cancellation itself (or a deadline that passed while it waited for its
 * turn), as asyncio.sleep(0) raises.
 */
#include "internal.h"

/* Mark every enclosing timeout scope whose deadline has passed. */
static void expire_scopes(co__task *t, uint64_t now)
{
    for (co_timeout_t *s = t->scope; s; s = s->outer)
        if (s->deadline <= now) s->expired = 1;
}

/* A yield under a timeout scope: has the deadline passed?  The loop's
 * cached time is not enough: a task that works and yields may go through
 * thousands of yields without libuv updating it (the scheduler switches
 * from task to task directly), and a CPU-bound loop under a deadline would
 * never see it expire.  Only tasks inside a scope pay for the clock read. */
static __attribute__((noinline)) bool yield_expired(co__loop *l, co__task *t)
{
    uv_update_time(l->uv);
    uint64_t now = uv_now(l->uv);
    if (t->deadline > now) return false;
    expire_scopes(t, now);
    return true;
}

/* co__suspend with a cancellation pending: deliver it instead of waiting. */
static __attribute__((noinline, cold)) int suspend_cancelled(co__task *t, co_waitq *wq)
{
    t->cancel_pending = CO__CANCEL_NONE;
    if (wq) co__waitq_remove(wq, t);
    return -ECANCELED;
}

/* co__suspend under a timeout scope: arm the deadline timer, or return
 * -ETIMEDOUT (t detached from wq) if the deadline has passed. */
static __attribute__((noinline)) int arm_deadline(co__loop *l, co__task *t, co_waitq *wq)
{
    uint64_t now = uv_now(l->uv);
    if (t->deadline <= now) {
        if (wq) co__waitq_remove(wq, t);
        expire_scopes(t, now);
        t->wait_kind = CO_WAIT_NONE;
        return -ETIMEDOUT;
    }
    if (t->heap_idx == CO__NOHEAP) {
        co__heap_insert(l, t, t->deadline, -ETIMEDOUT);
    } else if (t->deadline < t->timer_at) { /* a sleep that outlasts the scope */
        co__heap_remove(l, t);
        co__heap_insert(l, t, t->deadline, -ETIMEDOUT);
    }
    return 0;
}

/* The trace points and step hooks around the switch, out of line: the
 * inlined trace writer needs many registers, which co__suspend would then
 * save and restore on every call. */
static __attribute__((noinline, cold)) void suspend_hooks_out(co__loop *l, co__task *t)
{
    if (CO_UNLIKELY(co__tracing)) {
        /* Switching to a task that resumes an await: its TR_RESUME goes in
         * our TR_SWITCH (one record, not two).  Not in debug mode, whose
         * slow-step event must follow our await directly. */
        co__task *to = l->debug ? NULL : co__next_to_run(l);
        if (to && to->started && t->wait_obj_id <= UINT32_MAX) {
            co__tr_emit_switch(t->wait_loc, t->id, t->wait_obj_id, t->wait_kind, to->id, to->wake_result);
            l->resume_told = to;
            l->resume_told_epoch = co__tr_epoch;
            /* to's step opens here, so that its side of the switch has
             * only resume_told to clear (co__suspend). */
            co__step_switch(l, t, t->wait_loc, to, to->wait_loc);
            return;
        } else {
            co__tr_emit(TR_AWAIT, t->wait_loc, t->id, t->wait_obj_id, (uint64_t)t->wait_kind);
        }
    }
    if (CO__STEP_HOOKS(l)) co__step_out(l, t, t->wait_loc); /* debug.c: step timing */
}

/* Resumed other than by a TR_SWITCH that told it (a TR_AWAIT before, a
 * trace started while we waited, debug mode). */
static __attribute__((noinline, cold)) void suspend_hooks_in(co__loop *l, co__task *t, int r)
{
    co__step_in(l, t, t->wait_loc); /* the loc we suspended at */
    CO_TRACE(TR_RESUME, NULL, t->id, 0, (uint64_t)(int64_t)r);
}

/* The slow parts are out of line so that the common path keeps only t and
 * l live across the switch (fewer registers to save on entry). */
int co__suspend(co__task *t, co_wait_kind kind, void *obj, uint64_t obj_id, co_loc *loc, co_waitq *wq)
{
    co__loop *l = t->loop;
    CO_ASSERT(l->current == t && t->state == CO_TASK_RUNNING);
    if (CO_UNLIKELY(t->cancel_pending)) return suspend_cancelled(t, wq);
    t->wait_kind = (uint8_t)kind;
    t->wait_obj = obj;
    t->wait_obj_id = obj_id;
    t->wait_loc = loc;
    t->wq = wq;
    if (kind == CO_WAIT_YIELD) {
        /* Past the deadline a yield fails like any await (asyncio raises at
         * sleep(0) inside an expired timeout). */
        if (CO_UNLIKELY(t->deadline != CO__NODEADLINE) && yield_expired(l, t)) {
            t->wait_kind = CO_WAIT_NONE;
            return -ETIMEDOUT;
        }
        co__ready(l, t);
    } else {
        if (CO_UNLIKELY(t->deadline != CO__NODEADLINE) && arm_deadline(l, t, wq) < 0) return -ETIMEDOUT;
        t->state = CO_TASK_WAITING;
    }
    /* CO__STEP_HOOKS is true whenever a trace records: one test covers
     * the trace point (TR_AWAIT, then TR_RESUME) and the hook.  They read
     * loc, obj_id and kind back from t (the same values), which need not
     * then be kept in registers across the calls above. */
    if (CO__STEP_HOOKS(l)) suspend_hooks_out(l, t);
    co__switch_away(l, t);
    int r = t->wake_result;
    if (CO__STEP_HOOKS(l)) {
        if (l->resume_told == t && l->resume_told_epoch == co__tr_epoch)
            l->resume_told = NULL; /* the TR_SWITCH that ran us told it and opened our step */
        else
            suspend_hooks_in(l, t, r);
    }
    if (CO_UNLIKELY(r == -ETIMEDOUT)) expire_scopes(t, uv_now(l->uv));
    if (CO_UNLIKELY(t->wait_kind == CO_WAIT_YIELD)) {
        /* What arrived while the yield waited for its turn (co_cancel leaves
         * a READY task's cancellation pending). */
        if (t->cancel_pending) {
            t->cancel_pending = CO__CANCEL_NONE;
            r = -ECANCELED;
        } else if (t->deadline != CO__NODEADLINE && yield_expired(l, t)) {
            r = -ETIMEDOUT;
        }
    }
    t->wait_kind = CO_WAIT_NONE;
    t->wait_obj = NULL;
    t->wake_result = 0;
    return r;
}

void co__interrupt(co__task *t, int result)
{
    CO_ASSERT(t->state == CO_TASK_WAITING);
    if (t->wait_cancel) {
        void (*fn)(co__task *) = t->wait_cancel;
        t->wait_cancel = NULL;
        fn(t);
    }
    co__wake(t, result);
}

/* Follow what `target` waits on (the task it awaits, the owner of the lock
 * it wants) and report whether the chain comes back to `self`.  The chain
 * is acyclic as long as every wait was checked, but bound the walk anyway. */
bool co__would_deadlock(co__task *self, co__task *target)
{
    co__task *x = target;
    size_t limit = self->loop->live + 1;
    while (x && limit--) {
        if (x == self) return true;
        x = co__waits_for(x);
    }
    return false;
}
