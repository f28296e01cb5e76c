/* cond.c -- co_cond (asyncio.Condition): wait releases the lock, sleeps until
 * notified and takes the lock back before returning, on every path. */
#include "internal.h"

void co_cond_init(co_cond_t *c, co_lock_t *lock)
{
    memset(c, 0, sizeof *c);
    c->magic = CO__MAGIC_COND;
    c->lock = lock;
    c->id = co__next_resource_id();
}

int co_cond_wait_at(co_loc *loc, co_cond_t *c)
{
    co__task *self = co__self();
    if (CO_UNLIKELY(!self)) return -EPERM;
    if (CO_UNLIKELY(c->magic != CO__MAGIC_COND)) return -EINVAL;
    if (c->lock->owner != self) return -EPERM;
    co_lock_release(c->lock);
    co__waitq_push(&c->waiters, self);
    int r = co__suspend(self, CO_WAIT_COND, c, c->id, loc, &c->waiters);
    /* Take the lock back even if cancelled meanwhile; report the first
     * interruption once the lock is held again. */
    for (;;) {
        int a = co_lock_acquire_at(loc, c->lock);
        if (a == 0) break;
        if (a == -ECANCELED || a == -ETIMEDOUT) {
            if (r == 0) r = a;
            continue;
        }
        return a; /* -EDEADLK: the lock cannot be had */
    }
    return r;
}

int co_cond_notify(co_cond_t *c, int n)
{
    if (c->magic != CO__MAGIC_COND) return -EINVAL;
    co__task *self = co__self();
    if (!self || c->lock->owner != self) return -EPERM;
    int woken = 0;
    co__task *t;
    while ((n <= 0 || woken < n) && (t = co__waitq_first(&c->waiters)) != NULL) {
        co__wake(t, 0);
        woken++;
    }
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
