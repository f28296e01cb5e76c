/* SPDX-License-Identifier: MIT */
/* thread.c -- the ways between a loop and other threads: co_to_thread
 * (blocking work on libuv's thread pool), co_call_threadsafe (run a function
 * on a loop from any thread), co_loop_ref/unref, and the per-loop co__xthread
 * that those and channel.c build on (see xthread.h).
 *
 * Finding a loop from another thread.  A foreign thread must never touch a
 * co__loop's memory: the loop may be freed at any moment.  Every co__xthread
 * is listed in a process-wide registry keyed by its loop's address; foreign
 * callers look the loop up there and lock the xthread's mutex before letting
 * go of the registry lock, and teardown removes the entry under both locks,
 * so a caller either finds a live xthread that stays alive until it unlocks,
 * or finds nothing (-EINVAL).  Channels skip the registry: they hold an
 * xthread pointer only while a task of that loop waits, and a loop with a
 * waiting task is never freed.
 *
 * Lock order: registry_mu, then a channel's mutex, then an xthread's mu.  The
 * loop thread never calls out (runs a queued call) while holding mu.
 */
#include "xthread.h"
#include "pool.h"
#include <pthread.h>

struct co__xthread {
    /* Immutable after creation. */
    co__loop *loop;
    /* Loop thread only. */
    uv_async_t async;      /* wakes the loop; ref'd only while keep > 0 */
    unsigned keep;         /* channel waiters + user_refs */
    unsigned user_refs;    /* co_loop_ref minus co_loop_unref */
    size_t nwork;          /* co_to_thread requests whose after-callback has not run */
    /* Under mu. */
    pthread_mutex_t mu;
    co__xcall *head, *tail;
    size_t queued;
    unsigned pending_unrefs; /* co_loop_unref calls from other threads, not yet applied */
    int closed;              /* torn down: posts are refused */
    /* Under registry_mu. */
    co__xthread *reg_next;
};

static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static co__xthread *registry;

co__loop *co__xthread_loop(const co__xthread *xt) { return xt->loop; }

/* ------------------------------------------------------------------------ */
/* The call FIFO                                                             */

static void push_locked(co__xthread *xt, co__xcall *c)
{
    c->next = NULL;
    c->prev = xt->tail;
    if (xt->tail)
        xt->tail->next = c;
    else
        xt->head = c;
    xt->tail = c;
    c->queued = 1;
    xt->queued++;
}

static void unlink_locked(co__xthread *xt, co__xcall *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        xt->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        xt->tail = c->prev;
    c->next = c->prev = NULL;
    c->queued = 0;
    xt->queued--;
}

int co__xthread_post(co__xthread *xt, co__xcall *c)
{
    pthread_mutex_lock(&xt->mu);
    if (CO_UNLIKELY(xt->closed)) {
        pthread_mutex_unlock(&xt->mu);
        return -EINVAL;
    }
    push_locked(xt, c);
    /* Under mu: teardown sets `closed` under mu before closing the handle,
     * so the handle is open for as long as we hold it. */
    uv_async_send(&xt->async);
    pthread_mutex_unlock(&xt->mu);
    return 0;
}

int co__xthread_unpost(co__xthread *xt, co__xcall *c)
{
    pthread_mutex_lock(&xt->mu);
    int was = c->queued;
    if (was) unlink_locked(xt, c);
    pthread_mutex_unlock(&xt->mu);
    return was;
}

/* Run up to n queued calls, taking them one at a time so that a call can
 * still be taken back (co__xthread_unpost) by the calls that run before it. */
static void run_queued(co__xthread *xt, size_t n)
{
    while (n--) {
        pthread_mutex_lock(&xt->mu);
        co__xcall *c = xt->head;
        if (c) unlink_locked(xt, c);
        pthread_mutex_unlock(&xt->mu);
        if (!c) break;
        c->fn(c); /* may free c */
    }
}

void co__xthread_keep(co__xthread *xt, int delta)
{
    unsigned before = xt->keep;
    CO_ASSERT(delta >= 0 || (unsigned)-delta <= before);
    xt->keep += delta;
    if (before == 0 && xt->keep > 0)
        uv_ref((uv_handle_t *)&xt->async);
    else if (before > 0 && xt->keep == 0)
        uv_unref((uv_handle_t *)&xt->async);
}

static void on_async(uv_async_t *h)
{
    co__xthread *xt = h->data;
    pthread_mutex_lock(&xt->mu);
    /* Only what is queued now: calls posted meanwhile sent the async again
     * and get their own callback, so a flood of posts cannot starve I/O. */
    size_t n = xt->queued;
    unsigned unrefs = xt->pending_unrefs;
    xt->pending_unrefs = 0;
    pthread_mutex_unlock(&xt->mu);
    for (; unrefs > 0 && xt->user_refs > 0; unrefs--) {
        xt->user_refs--;
        co__xthread_keep(xt, -1);
    }
    run_queued(xt, n);
}

co__xthread *co__xthread_get(co__loop *l)
{
    if (CO_LIKELY(l->xthread != NULL)) return l->xthread;
    co__xthread *xt = calloc(1, sizeof *xt);
    if (!xt) return NULL;
    if (pthread_mutex_init(&xt->mu, NULL) != 0) {
        free(xt);
        return NULL;
    }
    if (uv_async_init(l->uv, &xt->async, on_async) < 0) {
        pthread_mutex_destroy(&xt->mu);
        free(xt);
        return NULL;
    }
    xt->async.data = xt;
    /* An idle loop must still be able to end (or report that its tasks are
     * all asleep): only waiters and co_loop_ref hold it (co__xthread_keep). */
    uv_unref((uv_handle_t *)&xt->async);
    xt->loop = l;
    pthread_mutex_lock(&registry_mu);
    xt->reg_next = registry;
    registry = xt;
    pthread_mutex_unlock(&registry_mu);
    l->xthread = xt;
    return xt;
}

/* From any thread: the xthread of loop `l` with its mutex held, or NULL if
 * the loop has none (freed, being freed, or never prepared). */
static co__xthread *lookup_locked(const co__loop *l)
{
    pthread_mutex_lock(&registry_mu);
    co__xthread *xt = registry;
    while (xt && xt->loop != l) xt = xt->reg_next;
    if (xt) pthread_mutex_lock(&xt->mu);
    pthread_mutex_unlock(&registry_mu);
    if (xt && xt->closed) {
        pthread_mutex_unlock(&xt->mu);
        xt = NULL;
    }
    return xt;
}

static void on_async_closed(uv_handle_t *h)
{
    co__xthread *xt = h->data;
    pthread_mutex_destroy(&xt->mu);
    free(xt);
}

void co__xthread_free(co__loop *l)
{
    co__xthread *xt = l->xthread;
    if (!xt) return;
    /* Work abandoned by cancelled co_to_thread calls is still on the pool;
     * its completion is posted to this loop, which must outlive it. */
    while (xt->nwork > 0) uv_run(l->uv, UV_RUN_ONCE);
    pthread_mutex_lock(&registry_mu);
    co__xthread **pp = &registry;
    while (*pp != xt) pp = &(*pp)->reg_next;
    *pp = xt->reg_next;
    pthread_mutex_lock(&xt->mu);
    xt->closed = 1;
    pthread_mutex_unlock(&xt->mu);
    pthread_mutex_unlock(&registry_mu);
    /* Posters of what is still queued were told 0: honour that.  Nothing
     * new can arrive, and no task waits on a channel any more, so this is
     * only co_call_threadsafe calls. */
    run_queued(xt, SIZE_MAX);
    uv_close((uv_handle_t *)&xt->async, on_async_closed); /* co_loop_free's last uv_run frees it */
    l->xthread = NULL;
}

/* ------------------------------------------------------------------------ */
/* co_call_threadsafe, co_loop_ref                                           */

typedef struct user_call {
    co__xcall c; /* first: the node is the allocation */
    void (*fn)(void *);
    void *arg;
} user_call;

static void run_user_call(co__xcall *c)
{
    user_call *u = (user_call *)c;
    void (*fn)(void *) = u->fn;
    void *arg = u->arg;
    free(u);
    fn(arg);
}

int co_call_threadsafe(co_loop_t *loop, void (*fn)(void *), void *arg)
{
    co__loop *l = (co__loop *)loop;
    if (!l || !fn) return -EINVAL;
    user_call *u = malloc(sizeof *u);
    if (!u) return -ENOMEM;
    u->c.fn = run_user_call;
    u->fn = fn;
    u->arg = arg;
    int r;
    if (l == co__tl_loop) { /* our own loop: it is alive, and may prepare itself */
        co__xthread *xt = co__xthread_get(l);
        r = xt ? co__xthread_post(xt, &u->c) : -ENOMEM;
    } else {
        co__xthread *xt = lookup_locked(l);
        if (xt) {
            push_locked(xt, &u->c);
            uv_async_send(&xt->async);
            pthread_mutex_unlock(&xt->mu);
            r = 0;
        } else {
            r = -EINVAL;
        }
    }
    if (r < 0) free(u);
    return r;
}

int co_loop_ref(co_loop_t *loop)
{
    co__loop *l = (co__loop *)loop;
    if (!l || l != co__tl_loop) return -EINVAL;
    co__xthread *xt = co__xthread_get(l);
    if (!xt) return -ENOMEM;
    xt->user_refs++;
    co__xthread_keep(xt, 1);
    return 0;
}

int co_loop_unref(co_loop_t *loop)
{
    co__loop *l = (co__loop *)loop;
    if (!l) return -EINVAL;
    if (l == co__tl_loop) {
        co__xthread *xt = l->xthread;
        if (!xt || xt->user_refs == 0) return -EINVAL;
        xt->user_refs--;
        co__xthread_keep(xt, -1);
        return 0;
    }
    /* keep and the handle's ref belong to the loop thread: ask it. */
    co__xthread *xt = lookup_locked(l);
    if (!xt) return -EINVAL;
    xt->pending_unrefs++;
    uv_async_send(&xt->async);
    pthread_mutex_unlock(&xt->mu);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* co_to_thread                                                              */

/* The pool's recorded path (pool.h): the work on the pool thread, on its
 * own ring, so the trace shows when it really ran apart from how long the
 * task waited for it. */
static void pool_work_cb(uv_work_t *req)
{
    co__pool_req *p = req->data;
    CO_TRACE(TR_WORK_BEGIN, p->loc, p->task_id, p->id, p->kind);
    p->run(p);
    CO_TRACE(TR_WORK_END, p->loc, p->task_id, p->id, p->kind);
}

static void pool_after_cb(uv_work_t *req, int status)
{
    co__pool_req *p = req->data;
    p->done(p, status);
}

int co__pool_submit(uv_loop_t *uv, co__pool_req *p, co_loc *loc, unsigned kind, uint64_t task_id)
{
    p->req.data = p;
    p->id = co__next_resource_id();
    p->task_id = task_id;
    p->loc = loc;
    p->kind = kind;
    /* When it was queued: with TR_WORK_BEGIN, how long it waited for a
     * pool thread (libuv's pool is small: UV_THREADPOOL_SIZE, 4). */
    CO_TRACE(TR_WORK_QUEUED, loc, task_id, p->id, kind);
    return uv_queue_work(uv, &p->req, pool_work_cb, pool_after_cb);
}

/* One request.  Heap-allocated because it can outlive the task that made it
 * (a cancelled task returns while fn still runs); freed by the task once it
 * has its result, or by after_work if the task has gone. */
typedef struct co__work {
    co__pool_req pool;   /* first: the request is the work */
    co_thread_fn fn;     /* immutable */
    void *arg;           /* immutable */
    void *result;        /* written on the pool thread; read on the loop thread after after_work */
    co__task *task;      /* loop thread only: the waiting task, NULL once it gave up */
    co__xthread *xt;     /* for the nwork count co_loop_free waits on */
} co__work;

static void work_run(co__pool_req *p)
{
    co__work *w = (co__work *)p;
    w->result = w->fn(w->arg);
}

static void after_work(co__pool_req *p, int status)
{
    co__work *w = (co__work *)p;
    w->xt->nwork--;
    co__task *t = w->task;
    if (!t) { /* abandoned: ran to completion (or was cancelled) in the background */
        free(w);
        return;
    }
    /* A task still attached is waiting on this request: an interruption
     * would have detached it, and it cannot be READY otherwise. */
    CO_ASSERT(status == 0 && t->state == CO_TASK_WAITING && t->wait_obj == w);
    co__wake(t, 0);
}

/* Cancellation or timeout while waiting (via co__interrupt), or an await that
 * never suspended: let go of the request.  If it has not started, uv_cancel
 * makes sure it never does (after_work then runs with UV_ECANCELED);
 * otherwise it finishes in the background.  Either way after_work frees it. */
static void abandon_work(co__task *t)
{
    co__work *w = t->wake_value;
    w->task = NULL;
    co__pool_cancel(&w->pool);
}

int co_to_thread_at(co_loc *loc, co_thread_fn fn, void *arg, void **out)
{
    co__task *self = co__self();
    if (CO_UNLIKELY(!self)) return -EPERM;
    if (!fn) return -EINVAL;
    co__loop *l = self->loop;
    co__xthread *xt = co__xthread_get(l);
    if (!xt) return -ENOMEM;
    co__work *w = malloc(sizeof *w);
    if (!w) return -ENOMEM;
    w->pool.run = work_run;
    w->pool.done = after_work;
    w->fn = fn;
    w->arg = arg;
    w->result = NULL;
    w->task = self;
    w->xt = xt;
    int r = co__pool_submit(l->uv, &w->pool, loc, TR_WORK_THREAD, self->id);
    if (r < 0) {
        free(w);
        return r;
    }
    xt->nwork++;
    self->wake_value = w;
    self->wait_cancel = abandon_work;
    r = co__suspend(self, CO_WAIT_THREAD, w, w->pool.id, loc, NULL);
    /* co__interrupt clears wait_cancel before calling it: still set means
     * the request is still ours. */
    int ours = self->wait_cancel != NULL;
    self->wait_cancel = NULL;
    if (r < 0) {
        /* Interrupted: w now belongs to after_work, which may already have
         * freed it.  Not interrupted (co__suspend returned at once): let go. */
        if (ours) abandon_work(self);
        return r;
    }
    if (out) *out = w->result;
    free(w);
    return 0;
}
