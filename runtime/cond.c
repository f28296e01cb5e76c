/* SPDX-License-Identifier: MIT */
/* cond.c -- co_cond (asyncio.Condition): wait releases the lock, sleeps until
 * notified and takes the lock back before returning, on every path. */
#include "internal.h"

void co_cond_init_at(co_loc *loc, co_cond_t *c, co_lock_t *lock, const char *name)
{
    memset(c, 0, sizeof *c);
    c->magic = CO__MAGIC_COND;
    c->lock = lock;
    c->name = name;
    c->id = co__resource_new(loc, CO_WAIT_COND, name);
}

/* co_cond_init cannot fail, so a NULL or dead lock is caught at use. */
static inline bool lock_ok(const co_cond_t *c)
{
    return c->lock && c->lock->magic == CO__MAGIC_LOCK;
}

int co_cond_wait_at(co_loc *loc, co_cond_t *c)
{
    co__task *self = co__self();
    if (CO_UNLIKELY(!self)) return -EPERM;
    if (CO_UNLIKELY(c->magic != CO__MAGIC_COND || !lock_ok(c))) return -EINVAL;
    if (co__lock_owner(c->lock) != self) return -EPERM;
    co_lock_release(c->lock);
    co__waitq_push(&c->waiters, self);
    int r = co__suspend(self, CO_WAIT_COND, c, c->id, loc, &c->waiters);
    /* Take the lock back on every path.  The re-acquire cannot be cut short:
     * with a deadline that has passed, every attempt would fail at once and
     * never let the holder run (a spin), so the deadline is lifted for it;
     * an expired one still fails the next await.  A cancellation arriving
     * meanwhile is deferred to the next await rather than returned: if we
     * were notified, returning -ECANCELED would swallow the notification and
     * leave the other waiters asleep (asyncio's "lost wakeup"); the wake
     * result is final once we are woken, as for a lock handed off. */
    uint64_t deadline = self->deadline;
    self->deadline = CO__NODEADLINE;
    int a, cancelled = 0;
    while ((a = co_lock_acquire_at(loc, c->lock)) == -ECANCELED) cancelled = 1;
    self->deadline = deadline;
    if (cancelled) co__cancel_keep(self, r); /* notified: kept as after a hand-off */
    if (a < 0) return a; /* -EDEADLK: the lock cannot be had */
    return r;
}

int co_cond_notify(co_cond_t *c, int n)
{
    if (c->magic != CO__MAGIC_COND || !lock_ok(c)) return -EINVAL;
    co__task *self = co__self();
    if (!self || co__lock_owner(c->lock) != self) return -EPERM;
    int woken = 0;
    co__task *t;
    while ((n <= 0 || woken < n) && (t = co__waitq_first(&c->waiters)) != NULL) {
        co__wake(t, 0);
        woken++;
    }
    CO_TRACE(TR_COND_NOTIFY, NULL, self->id, c->id, (uint64_t)woken);
    return woken;
}

int co_cond_notify_all(co_cond_t *c) { return co_cond_notify(c, 0); }

int co_cond_destroy(co_cond_t *c)
{
    if (c->magic != CO__MAGIC_COND) return -EINVAL;
    if (!co__waitq_empty(&c->waiters)) return -EBUSY;
    c->magic = CO__MAGIC_DEAD;
    return 0;
}
