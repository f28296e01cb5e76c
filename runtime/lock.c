/* SPDX-License-Identifier: MIT */
/* lock.c -- co_lock: a FIFO-fair mutex that knows its owner task.
 *
 * Fairness by hand-off: release gives the lock straight to the longest
 * waiter (it becomes the owner before it even runs), so a releasing task
 * that re-acquires at once queues behind the others instead of barging.
 * Invariant: owner == NULL implies no waiters.
 */
#include "internal.h"

void co_lock_init_at(co_loc *loc, co_lock_t *l, const char *name)
{
    memset(l, 0, sizeof *l);
    l->magic = CO__MAGIC_LOCK;
    l->name = name;
    l->id = co__resource_new(loc, CO_WAIT_LOCK, name);
}

static inline void take(co_lock_t *l, co__task *t)
{
    l->owner = t;
    l->owner_gen = t ? t->gen : 0;
    if (t) { /* what debug mode's "lock held across await" report needs */
        t->locks_held++;
        t->last_lock = l;
    }
}

void co__report_deadlock(co__task *self, co_lock_t *want, co__task *target, co_loc *loc);

int co_lock_acquire_at(co_loc *loc, co_lock_t *l)
{
    co__task *self = co__self();
    if (CO_UNLIKELY(!self)) return -EPERM;
    if (CO_UNLIKELY(l->magic != CO__MAGIC_LOCK)) return -EINVAL;
    if (CO_LIKELY(l->owner == NULL)) {
        take(l, self);
        CO_TRACE(TR_LOCK_ACQ, loc, self->id, l->id, 0);
        return 0;
    }
    co__task *owner = co__lock_owner(l);
    if (owner && (owner == self || co__would_deadlock(self, owner))) {
        co__report_deadlock(self, l, owner, loc);
        co__warn_cycle(self, l->id, CO_WAIT_LOCK, owner, loc);
        return -EDEADLK;
    }
    co__waitq_push(&l->waiters, self);
    int r = co__suspend(self, CO_WAIT_LOCK, l, l->id, loc, &l->waiters);
    CO_ASSERT(r != 0 || co__lock_owner(l) == self);
    return r;
}

int co_lock_try(co_lock_t *l)
{
    co__task *self = co__self();
    if (CO_UNLIKELY(!self)) return -EPERM;
    if (CO_UNLIKELY(l->magic != CO__MAGIC_LOCK)) return -EINVAL;
    if (l->owner) return -EBUSY;
    take(l, self);
    CO_TRACE(TR_LOCK_ACQ, NULL, self->id, l->id, 0);
    return 0;
}

int co_lock_release(co_lock_t *l)
{
    co__task *self = co__self();
    if (CO_UNLIKELY(l->magic != CO__MAGIC_LOCK)) return -EINVAL;
    if (CO_UNLIKELY(!self || co__lock_owner(l) != self)) return -EPERM;
    co__task *next = co__waitq_first(&l->waiters);
    CO_TRACE(TR_LOCK_REL, NULL, self->id, l->id, next ? next->id : 0);
    self->locks_held--;
    take(l, next);
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
