/* lock.c -- co_lock: a FIFO-fair mutex that knows its owner task.
 *
 * Fairness by hand-off: release gives the lock straight to the longest
 * waiter (it becomes the owner before it even runs), so a releasing task
 * that re-acquires at once queues behind the others instead of barging.
 * Invariant: owner == NULL implies no waiters.
 */
#include "internal.h"

void co_lock_init(co_lock_t *l)
{
    memset(l, 0, sizeof *l);
    l->magic = CO__MAGIC_LOCK;
    l->id = co__next_resource_id();
}

void co__report_deadlock(co__task *self, co_lock_t *want, co__task *target, co_loc *loc);

int co_lock_acquire_at(co_loc *loc, co_lock_t *l)
{
    co__task *self = co__self();
    if (CO_UNLIKELY(!self)) return -EPERM;
    if (CO_UNLIKELY(l->magic != CO__MAGIC_LOCK)) return -EINVAL;
    if (CO_LIKELY(l->owner == NULL)) {
        l->owner = self;
        return 0;
    }
    co__task *owner = l->owner;
    if (owner == self || co__would_deadlock(self, owner)) {
        co__report_deadlock(self, l, owner, loc);
        return -EDEADLK;
    }
    co__waitq_push(&l->waiters, self);
    int r = co__suspend(self, CO_WAIT_LOCK, l, l->id, loc, &l->waiters);
    CO_ASSERT(r != 0 || l->owner == self);
    return r;
}

int co_lock_try(co_lock_t *l)
{
    co__task *self = co__self();
    if (CO_UNLIKELY(!self)) return -EPERM;
    if (CO_UNLIKELY(l->magic != CO__MAGIC_LOCK)) return -EINVAL;
    if (l->owner) return -EBUSY;
    l->owner = self;
    return 0;
}

int co_lock_release(co_lock_t *l)
{
    co__task *self = co__self();
    if (CO_UNLIKELY(l->magic != CO__MAGIC_LOCK)) return -EINVAL;
    if (CO_UNLIKELY(!self || l->owner != self)) return -EPERM;
    co__task *next = co__waitq_first(&l->waiters);
    l->owner = next;
    if (next) co__wake(next, 0);
    return 0;
}

int co_lock_locked(const co_lock_t *l) { return l->magic == CO__MAGIC_LOCK && l->owner != NULL; }

int co_lock_destroy(co_lock_t *l)
{
    if (l->magic != CO__MAGIC_LOCK) return -EINVAL;
    if (l->owner || !co__waitq_empty(&l->waiters)) return -EBUSY;
    l->magic = CO__MAGIC_DEAD;
    return 0;
}
