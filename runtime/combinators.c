/* SPDX-License-Identifier: MIT */
/* combinators.c -- co_gather, co_wait and co_wait_for: waiting on several
 * tasks, or on one with a deadline.
 *
 * Each combinator hangs a watcher on every task it waits for.  Watchers stay
 * attached for the whole call, so a cancellation of the caller never loses
 * track of a child; a watcher wakes the caller only while the caller is
 * suspended in this very call (wait_obj == the call's state).
 *
 * Once a combinator is taking its children down (a failure, our
 * cancellation, a timeout) it must see them end, so it waits past the
 * deadline of any timeout scope it is in: with an expired deadline every
 * suspend returns -ETIMEDOUT at once, and the call would spin without ever
 * letting the children run their cleanup.
 */
#include "internal.h"

/* co__suspend, but ignoring the task's timeout-scope deadline. */
static int suspend_past_deadline(co__task *self, co_wait_kind kind, void *obj, uint64_t obj_id, co_loc *loc)
{
    uint64_t deadline = self->deadline;
    self->deadline = CO__NODEADLINE;
    int r = co__suspend(self, kind, obj, obj_id, loc, NULL);
    self->deadline = deadline;
    return r;
}

typedef struct gather_state {
    co__task *waiter;
    size_t remaining;   /* watched tasks not yet ended */
    size_t ended;
    int first_error;    /* first failure seen, 0 if none */
    int mode;           /* CO_WAIT_* for co_wait; -1 for gather (wake on all, or on error) */
    int collect;
} gather_state;

static void maybe_wake(gather_state *st, bool failed, bool bad)
{
    co__task *w = st->waiter;
    if (w->state != CO_TASK_WAITING || w->wait_obj != st) return;
    bool wake = st->remaining == 0;
    if (st->mode == -1) wake |= bad && !st->collect;
    else if (st->mode == CO_WAIT_FIRST_COMPLETED) wake = true;
    else if (st->mode == CO_WAIT_FIRST_ERROR) wake |= failed;
    if (wake) co__wake(w, 0);
}

static void on_child_end(co__watch *watch, co__task *ended)
{
    gather_state *st = watch->data;
    bool failed = ended->state == CO_TASK_FAILED;
    bool bad = failed || ended->state == CO_TASK_CANCELLED; /* gather counts both */
    st->remaining--;
    st->ended++;
    if ((st->mode == -1 ? bad : failed) && st->first_error == 0) st->first_error = ended->result;
    maybe_wake(st, failed, bad);
}

int co_gather_at(co_loc *loc, co_task_t *handles, size_t n, int *results, int flags)
{
    co__task *self = co__self();
    if (CO_UNLIKELY(!self)) return -EPERM;
    co__loop *l = self->loop;
    if (n == 0) return 0;
    co__task **tasks = malloc(n * sizeof *tasks);
    co__watch *watches = malloc(n * sizeof *watches);
    if (!tasks || !watches) {
        free(tasks);
        free(watches);
        return -ENOMEM;
    }
    gather_state st = { .waiter = self, .mode = -1, .collect = !!(flags & CO_GATHER_COLLECT) };
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        co__task *t = co__task_lookup(l, handles[i]);
        int err = 0;
        if (!t) err = -ESRCH;
        else if (t == self || co__would_deadlock(self, t)) err = -EDEADLK;
        else if (t->detached || t->awaited || t->group) err = -EINVAL; /* the same task twice too */
        tasks[i] = err ? NULL : t;
        if (err) {
            if (results) results[i] = err;
            if (!bad) bad = err;
            continue;
        }
        t->awaited = 1;
        if (co__task_ended(t)) {
            st.ended++;
            if (t->state >= CO_TASK_FAILED && !st.first_error) st.first_error = t->result;
            continue;
        }
        watches[i] = (co__watch){ .fn = on_child_end, .waiter = self, .index = i, .data = &st };
        co__watch_add(t, &watches[i]);
        st.remaining++;
    }
    if (bad && !st.collect && !st.first_error) st.first_error = bad;
    /* An interruption of our own wait (-ECANCELED, or -ETIMEDOUT from an
     * enclosing scope) is what we return, whatever the children did. */
    int interrupted = 0;
    bool aborting = false;
    while (st.remaining > 0) {
        if (!aborting && ((st.first_error && !st.collect) || interrupted)) {
            aborting = true; /* trio-style: a failure or our cancellation takes the rest down */
            for (size_t i = 0; i < n; i++)
                if (tasks[i] && !co__task_ended(tasks[i])) co_cancel(co__handle(tasks[i]));
            continue;
        }
        int r = aborting ? suspend_past_deadline(self, CO_WAIT_TASKS, &st, 0, loc)
                         : co__suspend(self, CO_WAIT_TASKS, &st, 0, loc, NULL);
        /* A cancellation outranks a timeout: one that arrives while the
         * children clean up after our deadline must not be swallowed. */
        if (r < 0 && (!interrupted || r == -ECANCELED)) interrupted = r;
    }
    for (size_t i = 0; i < n; i++) {
        if (!tasks[i]) continue;
        if (results) results[i] = tasks[i]->result;
        co__task_free(l, tasks[i]);
    }
    free(tasks);
    free(watches);
    if (interrupted) return interrupted;
    return st.collect ? bad : st.first_error;
}

int co_wait_at(co_loc *loc, co_task_t *handles, size_t n, int mode, int64_t timeout_ms)
{
    co__task *self = co__self();
    if (CO_UNLIKELY(!self)) return -EPERM;
    if (mode < CO_WAIT_ALL || mode > CO_WAIT_FIRST_ERROR) return -EINVAL;
    co__loop *l = self->loop;
    if (n == 0) return 0;
    /* co_wait does not own the tasks: while we sleep, their owner may collect
     * them or, if detached, they are freed as they end.  So keep the handles
     * (the caller's array may change too) and look each task up again after
     * waking; a handle gone stale means that task ended. */
    co_task_t *hs = malloc(n * sizeof *hs);
    co__watch *watches = malloc(n * sizeof *watches);
    if (!hs || !watches) {
        free(hs);
        free(watches);
        return -ENOMEM;
    }
    memcpy(hs, handles, n * sizeof *hs);
    gather_state st = { .waiter = self, .mode = mode };
    int err = 0;
    bool satisfied = false;
    for (size_t i = 0; i < n; i++) {
        co__task *t = co__task_lookup(l, hs[i]);
        if (!t) { err = -ESRCH; break; }
        if (t == self) { err = -EDEADLK; break; }
        if (co__task_ended(t)) {
            st.ended++;
            if (mode == CO_WAIT_FIRST_COMPLETED) satisfied = true;
            if (mode == CO_WAIT_FIRST_ERROR && t->state == CO_TASK_FAILED) satisfied = true;
        }
    }
    if (err) {
        free(hs);
        free(watches);
        return err;
    }
    for (size_t i = 0; i < n; i++) {
        co__task *t = co__task_lookup(l, hs[i]);
        watches[i] = (co__watch){ .fn = on_child_end, .waiter = self, .index = i, .data = &st };
        if (!co__task_ended(t)) {
            co__watch_add(t, &watches[i]);
            st.remaining++;
        }
    }
    int r = 0;
    if (!satisfied && st.remaining > 0) {
        co_timeout_t scope;
        co_timeout_begin(&scope, timeout_ms);
        r = co__suspend(self, CO_WAIT_TASKS, &st, 0, loc, NULL);
        int expired = co_timeout_end(&scope);
        /* Our own deadline is not an error (asyncio.wait returns what is
         * done); an enclosing scope's is. */
        if (r == -ETIMEDOUT && expired && !(self->scope && self->scope->expired))
            r = 0;
        else if (r == 0 && mode != CO_WAIT_ALL && st.remaining > 0)
            /* Woken by the first end (or error): one more turn before
             * counting, so that tasks ending in the same loop turn are
             * counted, as asyncio's waiter (woken through two callbacks)
             * counts them (test_wait_really_done). */
            r = co_yield_at(loc);
    }
    size_t ended = 0;
    for (size_t i = 0; i < n; i++) {
        co__task *t = co__task_lookup(l, hs[i]);
        if (!t || co__task_ended(t))
            ended++; /* its end already unlinked our watcher */
        else
            co__watch_remove(t, &watches[i]);
    }
    free(hs);
    free(watches);
    return r < 0 ? r : (int)ended;
}

static void wake_one(co__watch *w, co__task *ended)
{
    (void)ended;
    co__task *waiter = w->waiter;
    if (waiter->state == CO_TASK_WAITING && waiter->wait_obj == w->data) co__wake(waiter, 0);
}

/* Wait for t to end.  If `shielded`, interruptions do not stop the wait
 * (used while a cancelled child finishes its cleanup).  Returns 0 when t
 * ended, else the interruption; shielded, -ECANCELED if a cancellation
 * arrived meanwhile, so that the caller can pass it on instead of losing it. */
static int wait_end(co__task *self, co__task *t, co_loc *loc, bool shielded)
{
    co__watch w = { .fn = wake_one, .waiter = self, .data = t };
    co__watch_add(t, &w);
    int r = 0, cancelled = 0;
    while (!co__task_ended(t)) {
        r = shielded ? suspend_past_deadline(self, CO_WAIT_TASK, t, t->id, loc)
                     : co__suspend(self, CO_WAIT_TASK, t, t->id, loc, NULL);
        if (r < 0 && !shielded) break;
        if (r == -ECANCELED) cancelled = r;
        r = 0;
    }
    co__watch_remove(t, &w);
    if (shielded) return cancelled;
    return co__task_ended(t) ? 0 : r;
}

int co_wait_for_at(co_loc *loc, co_task_t h, int64_t ms)
{
    co__task *self = co__self();
    if (CO_UNLIKELY(!self)) return -EPERM;
    co__loop *l = self->loop;
    co__task *t = co__task_lookup(l, h);
    if (!t) return -ESRCH;
    if (t == self || co__would_deadlock(self, t)) return -EDEADLK;
    if (t->detached || t->awaited || t->group) return -EINVAL;
    t->awaited = 1;
    co_timeout_t scope;
    co_timeout_begin(&scope, ms);
    int r = wait_end(self, t, loc, false);
    co_timeout_end(&scope); /* its expiry is r == -ETIMEDOUT; an enclosing scope's too */
    int ret;
    if (r == 0) {
        ret = t->result;
    } else {
        /* Timed out or we were cancelled: cancel the child and wait for its
         * cleanup, as asyncio.wait_for does. */
        co_cancel(h);
        int late = wait_end(self, t, loc, true);
        if (t->state != CO_TASK_CANCELLED) {
            /* It ended on its own terms (it finished what it was handed,
             * or swallowed the cancellation): its result or error is the
             * outcome, as asyncio gives it.  Our own cancellation, if that
             * is what cut the wait, is kept for our next await (a
             * hand-off: the result is consumed here, await.c). */
            ret = t->result;
            if (r == -ECANCELED || late < 0) co__cancel_keep(self, ret);
        } else {
            ret = late < 0 ? late : r; /* a cancellation outranks the timeout */
        }
    }
    co__task_free(l, t);
    return ret;
}
