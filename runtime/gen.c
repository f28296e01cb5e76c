/* SPDX-License-Identifier: MIT */
/* gen.c -- generators (Python's async generators): a body task that yields
 * values one at a time to a consumer pulling them with co_gen_next.
 *
 * The body is a real task, so it can await anything between yields and shows
 * up in co_dump and the tracer under its function's name.  The two sides meet
 * in the co_gen_t through a one-value slot and a request flag:
 *
 *   consumer  co_gen_next: take the slot if full; else raise `requested`,
 *             wake the body if parked, and wait on `consumers` until the
 *             slot fills or the body ends.
 *   body      co_gen_yield: fill the slot, lower `requested`, wake the
 *             consumer, then park on `producer` until the next request.
 *
 * The body starts parked too (gen_main waits for the first request), which
 * makes generators lazy as in Python: nothing runs before the first next.
 * Invariant: `requested` implies the slot is empty, so a value is never
 * overwritten.  A consumer interrupted while waiting (cancelled, timed out)
 * leaves its request standing: the value still arrives and waits in the slot
 * for the next co_gen_next, the way co_await shields the awaited task.
 *
 * The body's end is learnt from a watcher on its task rather than from
 * gen_main returning, because a body cancelled before it ever ran ends
 * without gen_main being called.  Close stops the body (waking it out of its
 * yield with -ECANCELED, or cancelling whatever else it awaits), then awaits
 * the task, which also frees it.
 */
#include "internal.h"

#define GEN_MAGIC 0x47454e52u /* "GENR" */

struct co_gen {
    uint32_t magic;       /* GEN_MAGIC while usable; CO__MAGIC_DEAD just before free */
    uint8_t requested;    /* a consumer asked for a value the body has not yielded yet */
    uint8_t has_value;    /* `value` holds a yielded value not yet taken */
    uint8_t done;         /* the body task has ended; `result` is its result */
    uint8_t closing;      /* co_gen_close has begun: the body must stop */
    uint8_t parked;       /* the body is inside wait_request's suspend (maybe already woken) */
    int result;
    void *value;
    uint64_t id;          /* resource id, shown as what both sides wait on */
    co_gen_fn fn;
    void *arg;
    co_loc *loc;          /* the co_gen_new call site: where a not-yet-started body waits */
    co_task_t task;       /* the body task, owned by the generator until close awaits it */
    co__task *body;       /* the same; the struct stays valid until close awaits it */
    co_waitq producer;    /* the body, parked until a request or close */
    co_waitq consumers;   /* the one task waiting in co_gen_next */
    co__watch end_watch;  /* on the body task: records its end */
};

static bool valid(const co_gen_t *g) { return g && g->magic == GEN_MAGIC; }

/* Deliver a close to the body at one of its generator waits.  A cancellation
 * already pending for it is delivered by the same -ECANCELED: cancellations
 * coalesce into one, and close may have sent one (the body was running then)
 * that would otherwise hit its cleanup's first await. */
static int closed_for_body(co__task *self)
{
    self->cancel_pending = 0;
    return -ECANCELED;
}

/* Body side: wait until a consumer asks for a value.  0 when one did;
 * -ECANCELED on close or cancellation, -ETIMEDOUT from a timeout scope. */
static int wait_request(co__task *self, co_gen_t *g, co_loc *loc)
{
    for (;;) {
        if (g->closing) return closed_for_body(self);
        if (g->requested) return 0;
        co__waitq_push(&g->producer, self);
        g->parked = 1;
        int r = co__suspend(self, CO_WAIT_GEN, g, g->id, loc, &g->producer);
        g->parked = 0;
        if (r < 0) return r;
    }
}

static void wake_body(co_gen_t *g)
{
    co__task *b = co__waitq_first(&g->producer);
    if (b) co__wake(b, 0);
}

static void wake_consumer(co_gen_t *g)
{
    co__task *c = co__waitq_first(&g->consumers);
    if (c) co__wake(c, 0);
}

/* The body task's function: wait for the first request, then run the body. */
static int gen_main(void *arg)
{
    co_gen_t *g = arg;
    int r = wait_request(co__self(), g, g->loc);
    if (r < 0) return r;
    return g->fn(g, g->arg);
}

/* Runs on the body task as it ends, for any reason. */
static void on_body_end(co__watch *w, co__task *ended)
{
    co_gen_t *g = w->data;
    g->done = 1;
    g->result = ended->result;
    wake_consumer(g);
}

co_gen_t *co_gen_new_at(co_loc *loc, const char *name, co_gen_fn fn, void *arg)
{
    co__loop *l = co__tl_loop;
    if (!l || !fn) return NULL;
    co_gen_t *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->fn = fn;
    g->arg = arg;
    g->loc = loc;
    g->id = co__next_resource_id();
    g->task = co_spawn_at(loc, name, gen_main, g);
    g->body = co__task_lookup(l, g->task);
    if (!g->body) {
        free(g);
        return NULL;
    }
    g->end_watch = (co__watch){ .fn = on_body_end, .data = g };
    co__watch_add(g->body, &g->end_watch);
    g->magic = GEN_MAGIC;
    return g;
}

int co_gen_yield_at(co_loc *loc, co_gen_t *g, void *value)
{
    co__task *self = co__self();
    if (CO_UNLIKELY(!self)) return -EPERM;
    if (CO_UNLIKELY(!valid(g))) return -EINVAL;
    if (CO_UNLIKELY(self != g->body)) return -EPERM;
    if (g->closing) return closed_for_body(self);
    /* Normally the request that woke the body is still standing.  If the
     * body left a previous yield early (its own timeout, a cancellation it
     * chose to ignore), wait for a request before filling the slot. */
    if (!g->requested) {
        int r = wait_request(self, g, loc);
        if (r < 0) return r;
    }
    g->requested = 0;
    g->value = value;
    g->has_value = 1;
    wake_consumer(g);
    return wait_request(self, g, loc);
}

int co_gen_next_at(co_loc *loc, co_gen_t *g, void **value)
{
    co__task *self = co__self();
    if (CO_UNLIKELY(!self)) return -EPERM;
    if (CO_UNLIKELY(!valid(g) || g->closing)) return -EINVAL;
    if (CO_UNLIKELY(self == g->body)) return -EDEADLK;
    if (CO_UNLIKELY(!co__waitq_empty(&g->consumers))) return -EBUSY;
    for (;;) {
        if (g->has_value) {
            g->has_value = 0;
            if (value) *value = g->value;
            g->value = NULL;
            return 1;
        }
        if (g->done) return g->result < 0 ? g->result : 0;
        if (!g->requested) {
            g->requested = 1;
            wake_body(g);
        }
        co__waitq_push(&g->consumers, self);
        int r = co__suspend(self, CO_WAIT_GEN, g, g->id, loc, &g->consumers);
        if (r < 0) return r; /* the request stands: the value will wait in the slot */
    }
}

int co_gen_close_at(co_loc *loc, co_gen_t *g)
{
    co__task *self = co__self();
    if (CO_UNLIKELY(!self)) return -EPERM;
    if (CO_UNLIKELY(!valid(g) || g->closing)) return -EINVAL;
    if (CO_UNLIKELY(self == g->body)) return -EDEADLK;
    if (CO_UNLIKELY(!co__waitq_empty(&g->consumers))) return -EBUSY;
    bool stopped = !g->done;
    g->closing = 1;
    if (!g->done) {
        /* In a generator wait, the body sees `closing` once it runs (or the
         * -ECANCELED it was already woken with).  Anywhere else -- awaiting
         * something, not started yet, or about to leave its wait with
         * -ETIMEDOUT and carry on -- cancel what it awaits next. */
        if (g->parked && g->body->wake_result != -ETIMEDOUT)
            wake_body(g); /* a no-op if already woken */
        else
            co_cancel(g->task);
    }
    /* Wait for the body to end whatever happens to us meanwhile: it uses g
     * until it returns.  Timeout scopes are set aside (an expired one would
     * make every await fail at once); a cancellation of ours is passed on to
     * the body's cleanup and reported once it is over. */
    uint64_t deadline = self->deadline;
    self->deadline = CO__NODEADLINE;
    int interrupted = 0, r;
    for (;;) {
        r = co_await_at(loc, g->task);
        if (!co__task_lookup(self->loop, g->task)) break; /* awaited and freed */
        if (CO_UNLIKELY(r != -ECANCELED)) {
            /* Only if someone else took over the body task through its
             * handle (co_detach, co_await): we cannot wait, so neither can
             * we free g.  Every await here follows a wake or a cancel of
             * the body, so it is never caught waiting on us (-EDEADLK). */
            self->deadline = deadline;
            return r;
        }
        interrupted = r;
        co_cancel(g->task);
    }
    self->deadline = deadline;
    CO_ASSERT(g->done);
    int result = g->result >= 0 || (stopped && g->result == -ECANCELED) ? 0 : g->result;
    g->magic = CO__MAGIC_DEAD;
    free(g);
    return interrupted ? interrupted : result;
}
