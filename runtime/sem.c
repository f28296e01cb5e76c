/* SPDX-License-Identifier: MIT */
/* sem.c -- co_sem: FIFO-fair counting semaphore, and the bounded variant
 * that refuses a release above the initial value.
 *
 * Release hands a unit straight to the longest waiter; the value only grows
 * when nobody waits.  Invariant: value > 0 implies no waiters.
 */
#include "internal.h"

int co_sem_init_at(co_loc *loc, co_sem_t *s, int64_t value, int bounded, const char *name)
{
    memset(s, 0, sizeof *s);
    if (value < 0) return -EINVAL;
    s->magic = CO__MAGIC_SEM;
    s->value = value;
    s->bounded = bounded;
    s->limit = value;
    s->name = name;
    s->id = co__resource_new(loc, CO_WAIT_SEM, name);
    return 0;
}

int co_sem_acquire_at(co_loc *loc, co_sem_t *s)
{
    co__task *self = co__self();
    if (CO_UNLIKELY(!self)) return -EPERM;
    if (CO_UNLIKELY(s->magic != CO__MAGIC_SEM)) return -EINVAL;
    if (s->value > 0) {
        s->value--;
        co__sem_taken(s, self);
        CO_TRACE(TR_SEM_ACQ, loc, self->id, s->id, (uint64_t)s->value);
        return 0;
    }
    co__waitq_push(&s->waiters, self);
    int r = co__suspend(self, CO_WAIT_SEM, s, s->id, loc, &s->waiters);
    if (r == 0) co__sem_taken(s, self);
    return r;
}

int co_sem_try(co_sem_t *s)
{
    if (s->magic != CO__MAGIC_SEM) return -EINVAL;
    if (s->value <= 0) return -EAGAIN;
    s->value--;
    co__sem_taken(s, co__self());
    CO_TRACE(TR_SEM_ACQ, NULL, (co__self() ? co__self()->id : 0), s->id, (uint64_t)s->value);
    return 0;
}

int co_sem_release(co_sem_t *s)
{
    if (s->magic != CO__MAGIC_SEM) return -EINVAL;
    co__task *next = co__waitq_first(&s->waiters);
    CO_TRACE(TR_SEM_REL, NULL, (co__self() ? co__self()->id : 0), s->id, next ? next->id : 0);
    if (next) {
        co__wake(next, 0);
        return 0;
    }
    if (s->bounded && s->value >= s->limit) return -EOVERFLOW;
    if (s->value == INT64_MAX) return -EOVERFLOW; /* the count itself would wrap */
    s->value++;
    return 0;
}

int64_t co_sem_value(const co_sem_t *s) { return s->magic == CO__MAGIC_SEM ? s->value : -EINVAL; }

int co_sem_destroy(co_sem_t *s)
{
    if (s->magic != CO__MAGIC_SEM) return -EINVAL;
    if (!co__waitq_empty(&s->waiters)) return -EBUSY;
    s->magic = CO__MAGIC_DEAD;
    return 0;
}
