/* SPDX-License-Identifier: MIT */
/* event.c -- co_event (asyncio.Event): a flag tasks wait for; set wakes all
 * of them, and later waits pass until it is cleared. */
#include "internal.h"

void co_event_init_at(co_loc *loc, co_event_t *e, const char *name)
{
    memset(e, 0, sizeof *e);
    e->magic = CO__MAGIC_EVENT;
    e->name = name;
    e->id = co__resource_new(loc, CO_WAIT_EVENT, name);
}

int co_event_set(co_event_t *e)
{
    if (e->magic != CO__MAGIC_EVENT) return -EINVAL;
    e->is_set = 1;
    co__task *t;
    uint64_t woken = 0;
    while ((t = co__waitq_first(&e->waiters)) != NULL) {
        co__wake(t, 0);
        woken++;
    }
    CO_TRACE(TR_EV_SET, NULL, (co__self() ? co__self()->id : 0), e->id, woken);
    return 0;
}

int co_event_clear(co_event_t *e)
{
    if (e->magic != CO__MAGIC_EVENT) return -EINVAL;
    e->is_set = 0;
    return 0;
}

int co_event_is_set(const co_event_t *e) { return e->magic == CO__MAGIC_EVENT && e->is_set; }

int co_event_wait_at(co_loc *loc, co_event_t *e)
{
    co__task *self = co__self();
    if (CO_UNLIKELY(!self)) return -EPERM;
    if (CO_UNLIKELY(e->magic != CO__MAGIC_EVENT)) return -EINVAL;
    if (e->is_set) return 0;
    co__waitq_push(&e->waiters, self);
    return co__suspend(self, CO_WAIT_EVENT, e, e->id, loc, &e->waiters);
}

int co_event_destroy(co_event_t *e)
{
    if (e->magic != CO__MAGIC_EVENT) return -EINVAL;
    if (!co__waitq_empty(&e->waiters)) return -EBUSY;
    e->magic = CO__MAGIC_DEAD;
    return 0;
}
