/* SPDX-License-Identifier: MIT */
/* future.c -- co_future: a one-shot result set by plain code (a libuv
 * callback, another task) and awaited by any number of tasks. */
#include "internal.h"

enum { PENDING, SET, FAILED };

void co_future_init_at(co_loc *loc, co_future_t *f, const char *name)
{
    (void)name;
    memset(f, 0, sizeof *f);
    f->magic = CO__MAGIC_FUTURE;
    f->id = co__resource_new(loc, CO_WAIT_FUTURE, name);
}

static int resolve(co_future_t *f, int state, void *value, int err)
{
    if (f->magic != CO__MAGIC_FUTURE || f->state != PENDING) return -EINVAL;
    f->state = state;
    f->value = value;
    f->error = err;
    CO_TRACE(TR_FUT_SET, NULL, (co__self() ? co__self()->id : 0), f->id, (uint64_t)(int64_t)err);
    co__task *t;
    while ((t = co__waitq_first(&f->waiters)) != NULL) co__wake(t, 0);
    return 0;
}

int co_future_set(co_future_t *f, void *value) { return resolve(f, SET, value, 0); }

int co_future_fail(co_future_t *f, int err)
{
    if (err >= 0) return -EINVAL;
    return resolve(f, FAILED, NULL, err);
}

int co_future_done(const co_future_t *f) { return f->magic == CO__MAGIC_FUTURE && f->state != PENDING; }

int co_future_await_at(co_loc *loc, co_future_t *f, void **value)
{
    co__task *self = co__self();
    if (CO_UNLIKELY(!self)) return -EPERM;
    if (CO_UNLIKELY(f->magic != CO__MAGIC_FUTURE)) return -EINVAL;
    if (f->state == PENDING) {
        co__waitq_push(&f->waiters, self);
        int r = co__suspend(self, CO_WAIT_FUTURE, f, f->id, loc, &f->waiters);
        if (r < 0) return r;
    }
    if (f->state == FAILED) return f->error;
    if (value) *value = f->value;
    return 0;
}

int co_future_destroy(co_future_t *f)
{
    if (f->magic != CO__MAGIC_FUTURE) return -EINVAL;
    if (!co__waitq_empty(&f->waiters)) return -EBUSY;
    f->magic = CO__MAGIC_DEAD;
    return 0;
}
