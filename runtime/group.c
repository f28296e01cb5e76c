/* SPDX-License-Identifier: MIT */
/* group.c -- task groups (asyncio.TaskGroup, trio's nursery): children
 * owned by the group, awaited together; the first failure cancels the rest.
 *
 * Children are linked through group_next/group_prev while alive; an ended
 * child is unlinked and marked detached, so the scheduler frees it as soon
 * as its stack is released.
 */
#include "internal.h"

void co_group_init(co_group_t *g)
{
    memset(g, 0, sizeof *g);
    g->magic = CO__MAGIC_GROUP;
    g->owner = co_current(); /* the body of `async with TaskGroup()` */
}

/* A child failed while the owner is still in the body (not yet in
 * co_group_wait): cancel the body too, as asyncio's TaskGroup does, so that
 * a body busy with awaits of its own stops and comes to wait. */
static void cancel_owner(co_group_t *g)
{
    co__task *o = co__task_lookup(co__tl_loop, g->owner);
    if (!o || co__task_ended(o) || g->waiter || g->owner_cancelled) return;
    if (co_cancel(g->owner) == 1) g->owner_cancelled = 1;
}

/* co_group_wait by the owner: take back the cancellation the group made
 * (asyncio's uncancel), whether it was delivered or is still pending.  A
 * cancellation from elsewhere stays pending or counted. */
static void uncancel_owner(co_group_t *g, co__task *self)
{
    if (!g->owner_cancelled || co__handle(self).h != g->owner.h) return;
    g->owner_cancelled = 0;
    if (self->cancel_count > 0 && --self->cancel_count == 0) self->cancel_pending = 0;
}

static void cancel_children(co_group_t *g)
{
    for (co__task *c = g->children; c; c = c->group_next)
        if (!co__task_ended(c)) co_cancel(co__handle(c));
}

int co_group_spawn_at(co_loc *loc, co_group_t *g, const char *name, co_fn fn, void *arg)
{
    if (g->magic != CO__MAGIC_GROUP) return -EINVAL;
    co_task_t h = co_spawn_at(loc, name, fn, arg);
    co__task *t = co__task_lookup(co__tl_loop, h);
    if (!t) return -ENOMEM;
    t->group = g;
    t->group_prev = NULL;
    t->group_next = g->children;
    if (g->children) ((co__task *)g->children)->group_prev = t;
    g->children = t;
    g->count++;
    if (g->first_error) co_cancel(h); /* the group is already failing */
    return 0;
}

void co__group_child_ended(co__task *t)
{
    co_group_t *g = t->group;
    if (t->group_prev)
        t->group_prev->group_next = t->group_next;
    else
        g->children = t->group_next;
    if (t->group_next) t->group_next->group_prev = t->group_prev;
    t->group_next = t->group_prev = NULL;
    t->detached = 1;
    g->count--;
    if (t->state == CO_TASK_FAILED && g->first_error == 0) {
        g->first_error = t->result;
        cancel_children(g);
        cancel_owner(g);
    }
    co__task *w = g->waiter;
    if (g->count == 0 && w && w->state == CO_TASK_WAITING && w->wait_obj == g) co__wake(w, 0);
}

int co_group_wait_at(co_loc *loc, co_group_t *g)
{
    co__task *self = co__self();
    if (!self) return -EPERM;
    if (g->magic != CO__MAGIC_GROUP) return -EINVAL;
    if (g->waiter) return -EBUSY;
    int interrupted = 0;
    g->waiter = self;
    while (g->count > 0) {
        /* Once interrupted we wait past the deadline of any timeout scope we
         * are in: an expired deadline makes every suspend return at once,
         * and we would spin while the cancelled children never run. */
        uint64_t deadline = self->deadline;
        if (interrupted) self->deadline = CO__NODEADLINE;
        int r = co__suspend(self, CO_WAIT_GROUP, g, 0, loc, NULL);
        self->deadline = deadline;
        if ((r == -ECANCELED || r == -ETIMEDOUT) && !interrupted) {
            interrupted = r;
            cancel_children(g);
        } else if (r == -ECANCELED) {
            interrupted = r; /* outranks a timeout; must not be swallowed */
        }
    }
    g->waiter = NULL;
    g->magic = CO__MAGIC_DEAD; /* a group is used once */
    /* The group's own cancellation of its owner is not the caller's to
     * keep: the child's error says what happened. */
    uncancel_owner(g, self);
    if (g->first_error) return g->first_error; /* the owner is cancelled only after one */
    return interrupted;
}
