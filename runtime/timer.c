/* SPDX-License-Identifier: MIT */
/* timer.c -- time: one uv_timer per loop armed for the earliest deadline of
 * a binary min-heap of tasks, co_sleep, co_yield and timeout scopes.
 *
 * A task is in the heap at most once, at heap_idx, with the instant it must
 * be woken (timer_at) and what to wake it with (0 for the end of a sleep,
 * -ETIMEDOUT for a timeout scope).  Ties break on task id, so wake order is
 * deterministic.  Times are libuv's loop milliseconds (uv_now).
 */
#include "internal.h"

static bool before(const co__task *a, const co__task *b)
{
    return a->timer_at < b->timer_at || (a->timer_at == b->timer_at && a->id < b->id);
}

static void heap_set(co__loop *l, uint32_t i, co__task *t)
{
    l->heap[i] = t;
    t->heap_idx = i;
}

static void sift_up(co__loop *l, uint32_t i)
{
    co__task *t = l->heap[i];
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (!before(t, l->heap[p])) break;
        heap_set(l, i, l->heap[p]);
        i = p;
    }
    heap_set(l, i, t);
}

static void sift_down(co__loop *l, uint32_t i)
{
    co__task *t = l->heap[i];
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= l->heap_len) break;
        if (c + 1 < l->heap_len && before(l->heap[c + 1], l->heap[c])) c++;
        if (!before(l->heap[c], t)) break;
        heap_set(l, i, l->heap[c]);
        i = c;
    }
    heap_set(l, i, t);
}

static void on_timer(uv_timer_t *h);

static void arm(co__loop *l)
{
    if (l->heap_len == 0) {
        if (l->timer_armed) uv_timer_stop(&l->timer);
        l->timer_armed = 0;
        return;
    }
    uint64_t at = l->heap[0]->timer_at;
    if (at == l->timer_armed) return;
    uint64_t now = uv_now(l->uv);
    uv_timer_start(&l->timer, on_timer, at > now ? at - now : 0, 0);
    l->timer_armed = at;
}

void co__heap_insert(co__loop *l, co__task *t, uint64_t at, int result)
{
    CO_ASSERT(t->heap_idx == CO__NOHEAP);
    if (l->heap_len == l->heap_cap) {
        uint32_t cap = l->heap_cap ? l->heap_cap * 2 : 256;
        co__task **h = realloc(l->heap, cap * sizeof *h);
        CO_ASSERT(h != NULL); /* cannot report ENOMEM from inside an await */
        l->heap = h;
        l->heap_cap = cap;
    }
    t->timer_at = at;
    t->timer_result = result;
    heap_set(l, l->heap_len++, t);
    sift_up(l, t->heap_idx);
    if (l->heap[0] == t) arm(l);
}

void co__heap_remove(co__loop *l, co__task *t)
{
    uint32_t i = t->heap_idx;
    CO_ASSERT(i < l->heap_len && l->heap[i] == t);
    t->heap_idx = CO__NOHEAP;
    co__task *last = l->heap[--l->heap_len];
    if (i < l->heap_len) {
        heap_set(l, i, last);
        sift_up(l, i);
        sift_down(l, last->heap_idx);
    }
    /* Leave the uv timer armed if the earliest is gone: on_timer re-arms.
     * Only stop it when nothing is left, so an idle loop can exit. */
    if (l->heap_len == 0) arm(l);
}

static void on_timer(uv_timer_t *h)
{
    co__loop *l = h->data;
    uint64_t now = uv_now(l->uv);
    l->timer_armed = 0;
    while (l->heap_len > 0 && l->heap[0]->timer_at <= now) {
        co__task *t = l->heap[0];
        int r = t->timer_result;
        co__heap_remove(l, t);
        if (t->state != CO_TASK_WAITING) continue;
        if (r == 0)
            co__wake(t, 0);
        else
            co__interrupt(t, r);
    }
    arm(l);
}

void co__timers_init(co__loop *l)
{
    uv_timer_init(l->uv, &l->timer);
    l->timer.data = l;
}

uint64_t co_now_ms(void)
{
    co__loop *l = co__tl_loop;
    return l ? uv_now(l->uv) : 0;
}

int co_sleep_at(co_loc *loc, int64_t ms)
{
    co__task *self = co__self();
    if (CO_UNLIKELY(!self)) return -EPERM;
    /* asyncio.sleep(0) and sleep(-1) both just yield. */
    if (ms <= 0) return co__suspend(self, CO_WAIT_YIELD, NULL, 0, loc, NULL);
    co__loop *l = self->loop;
    /* CO_NO_TIMEOUT: no timer at all, so that a task asleep for good still
     * counts as asleep when the loop looks for "all tasks are asleep". */
    uint64_t at = ms == CO_NO_TIMEOUT ? CO__NODEADLINE : uv_now(l->uv) + (uint64_t)ms;
    if (self->deadline != CO__NODEADLINE && self->deadline <= at) {
        /* The scope ends first: co__suspend arms it. */
    } else if (at != CO__NODEADLINE) {
        co__heap_insert(l, self, at, 0);
    }
    int r = co__suspend(self, CO_WAIT_SLEEP, NULL, 0, loc, NULL);
    if (self->heap_idx != CO__NOHEAP) co__heap_remove(l, self);
    return r;
}

int co_yield_at(co_loc *loc)
{
    co__task *self = co__self();
    if (CO_UNLIKELY(!self)) return -EPERM;
    return co__suspend(self, CO_WAIT_YIELD, NULL, 0, loc, NULL);
}

int co_timeout_begin(co_timeout_t *scope, int64_t ms)
{
    co__task *self = co__self();
    if (!self) return -EPERM;
    /* Only CO_NO_TIMEOUT means "no deadline".  Any other negative value
     * has expired already: a remaining time computed as deadline - now goes
     * negative exactly when it is late, and must not turn the deadline off
     * (asyncio.timeout(-1) expires at once too).  A huge ms saturates. */
    uint64_t now = uv_now(self->loop->uv);
    if (ms == CO_NO_TIMEOUT)
        scope->deadline = CO__NODEADLINE;
    else if (ms <= 0)
        scope->deadline = now;
    else
        scope->deadline = (uint64_t)ms >= CO__NODEADLINE - now ? CO__NODEADLINE - 1 : now + (uint64_t)ms;
    scope->expired = 0;
    scope->saved_deadline = self->deadline;
    scope->outer = self->scope;
    self->scope = scope;
    if (scope->deadline < self->deadline) self->deadline = scope->deadline;
    return 0;
}

int co_timeout_end(co_timeout_t *scope)
{
    co__task *self = co__self();
    if (!self) return -EPERM;
    if (self->scope != scope) {
        co__logf("co_timeout_end: scope ended out of order (not the innermost)");
        return -EINVAL;
    }
    self->scope = scope->outer;
    self->deadline = scope->saved_deadline;
    return scope->expired ? -ETIMEDOUT : 0;
}
