/* SPDX-License-Identifier: MIT */
/* queue.c -- co_queue (asyncio.Queue): a FIFO of void * items, bounded or
 * not, with task_done/join accounting.
 *
 * Items are handed off directly where possible: a put with getters waiting
 * gives the item to the longest-waiting getter (the queue stays empty), and
 * a get from a full queue pulls the longest-waiting putter's item in behind
 * it.  So FIFO order holds across blocked and non-blocked callers, and a
 * woken task never finds its turn taken.
 * Invariants: getters waiting implies len == 0; putters waiting implies the
 * queue is bounded and full.  A blocked putter's item is in its wake_value.
 */
#include "internal.h"

/* The ring starts small and doubles on demand, bounded or not: maxsize is a
 * limit, not a size to preallocate (a huge one would also overflow the
 * byte count and hand back a buffer far smaller than its cap). */
#define INITIAL_CAP 16

int co_queue_init_at(co_loc *loc, co_queue_t *q, size_t maxsize, const char *name)
{
    memset(q, 0, sizeof *q);
    q->maxsize = maxsize;
    q->cap = maxsize && maxsize < INITIAL_CAP ? maxsize : INITIAL_CAP;
    q->buf = malloc(q->cap * sizeof *q->buf);
    if (!q->buf) return -ENOMEM;
    q->magic = CO__MAGIC_QUEUE;
    q->name = name;
    q->id = co__resource_new(loc, CO_WAIT_QUEUE_GET, name);
    return 0;
}

static int grow(co_queue_t *q)
{
    if (q->cap > SIZE_MAX / 2 / sizeof *q->buf) return -ENOMEM;
    size_t cap = q->cap * 2;
    if (q->maxsize && cap > q->maxsize) cap = q->maxsize;
    void **buf = malloc(cap * sizeof *buf);
    if (!buf) return -ENOMEM;
    for (size_t i = 0; i < q->len; i++) buf[i] = q->buf[(q->head + i) % q->cap];
    free(q->buf);
    q->buf = buf;
    q->cap = cap;
    q->head = 0;
    return 0;
}

static inline void push_item(co_queue_t *q, void *item)
{
    size_t tail = q->head + q->len;
    if (tail >= q->cap) tail -= q->cap;
    q->buf[tail] = item;
    q->len++;
}

static inline void *pop_item(co_queue_t *q)
{
    void *item = q->buf[q->head];
    if (++q->head == q->cap) q->head = 0;
    q->len--;
    return item;
}

static inline bool full(const co_queue_t *q) { return q->maxsize && q->len >= q->maxsize; }

/* Put without blocking; -EAGAIN if full.  loc: the put's line, for the
 * trace (the site that feeds a queue that keeps growing), or NULL; by:
 * the task that puts (its id, 0 outside a task), for the same. */
static inline __attribute__((always_inline)) int put_now(co_loc *loc, co_queue_t *q, void *item, uint64_t by)
{
    co__task *g = co__waitq_first(&q->getters);
    if (g) {
        g->wake_value = item;
        q->unfinished++;
        CO_TRACE(TR_Q_PUT, loc, by, q->id, 0);
        co__wake(g, 0);
        return 0;
    }
    if (full(q)) return -EAGAIN;
    if (q->len == q->cap && grow(q) < 0) return -ENOMEM;
    push_item(q, item);
    q->unfinished++;
    CO_TRACE(TR_Q_PUT, loc, by, q->id, q->len);
    return 0;
}

/* Get without blocking; -EAGAIN if empty. */
static int get_now(co_queue_t *q, void **item)
{
    if (q->len == 0) return -EAGAIN;
    void *it = pop_item(q);
    if (item) *item = it;
    co__task *p = co__waitq_first(&q->putters);
    /* Depth after the get, before a waiting putter's item moves in. */
    CO_TRACE(TR_Q_GET, NULL, (co__self() ? co__self()->id : 0), q->id, q->len);
    if (p) {
        push_item(q, p->wake_value);
        q->unfinished++;
        CO_TRACE(TR_Q_PUT, p->wait_loc, p->id, q->id, q->len); /* on the putter's behalf, at its line */
        co__wake(p, 0);
    }
    return 0;
}

/* put_now's common cases with no call, so that co_queue_put_at stays a leaf
 * on them: not tracing (put_now traces), and a waiting getter whose wake is
 * quick, or room in the ring.  0 if done, -EAGAIN if put_now must decide. */
static inline int put_quick(co_queue_t *q, void *item)
{
    if (CO_UNLIKELY(co__tracing)) return -EAGAIN;
    co__task *g = co__waitq_first(&q->getters);
    if (g) {
        if (CO_UNLIKELY(!co__wake_is_quick(g))) return -EAGAIN;
        g->wake_value = item;
        q->unfinished++;
        co__wake_quick(g, 0);
        return 0;
    }
    if (full(q) || q->len == q->cap) return -EAGAIN;
    push_item(q, item);
    q->unfinished++;
    return 0;
}

/* get_now's common case with no call: not tracing, an item there and no
 * putter waiting. */
static inline int get_quick(co_queue_t *q, void **item)
{
    if (CO_UNLIKELY(co__tracing) || q->len == 0 || !co__waitq_empty(&q->putters)) return -EAGAIN;
    void *it = pop_item(q);
    if (item) *item = it;
    return 0;
}

/* The rest of co_queue_put_at, out of line so that its quick path needs no
 * stack frame. */
static __attribute__((noinline)) int co__queue_put_slow(co_loc *loc, co_queue_t *q, void *item, co__task *self)
{
    int r = put_now(loc, q, item, self->id);
    if (r != -EAGAIN) return r;
    self->wake_value = item;
    co__waitq_push(&q->putters, self);
    return co__suspend(self, CO_WAIT_QUEUE_PUT, q, q->id, loc, &q->putters);
}

int co_queue_put_at(co_loc *loc, co_queue_t *q, void *item)
{
    co__task *self = co__self();
    if (CO_UNLIKELY(!self)) return -EPERM;
    if (CO_UNLIKELY(q->magic != CO__MAGIC_QUEUE)) return -EINVAL;
    if (CO_LIKELY(put_quick(q, item) == 0)) return 0;
    int r = co__queue_put_slow(loc, q, item, self);
    /* Not a tail call: a blocked put keeps this frame, which co_dump shows
     * as the await (co__ frames are runtime plumbing to it). */
    __asm__ volatile("" ::: "memory");
    return r;
}

int co_queue_get_at(co_loc *loc, co_queue_t *q, void **item)
{
    co__task *self = co__self();
    if (CO_UNLIKELY(!self)) return -EPERM;
    if (CO_UNLIKELY(q->magic != CO__MAGIC_QUEUE)) return -EINVAL;
    if (q->len != 0) return CO_LIKELY(get_quick(q, item) == 0) ? 0 : get_now(q, item); /* never -EAGAIN */
    co__waitq_push(&q->getters, self);
    int r = co__suspend(self, CO_WAIT_QUEUE_GET, q, q->id, loc, &q->getters);
    if (r == 0 && item) *item = self->wake_value;
    return r;
}

int co_queue_put_nowait(co_queue_t *q, void *item)
{
    if (q->magic != CO__MAGIC_QUEUE) return -EINVAL;
    co__task *self = co__self();
    return put_now(NULL, q, item, self ? self->id : 0);
}

int co_queue_get_nowait(co_queue_t *q, void **item)
{
    if (q->magic != CO__MAGIC_QUEUE) return -EINVAL;
    return get_now(q, item);
}

int co_queue_task_done(co_queue_t *q)
{
    if (q->magic != CO__MAGIC_QUEUE) return -EINVAL;
    if (q->unfinished == 0) return -EINVAL;
    if (--q->unfinished == 0) {
        co__task *t;
        while ((t = co__waitq_first(&q->joiners)) != NULL) co__wake(t, 0);
    }
    return 0;
}

int co_queue_join_at(co_loc *loc, co_queue_t *q)
{
    co__task *self = co__self();
    if (CO_UNLIKELY(!self)) return -EPERM;
    if (CO_UNLIKELY(q->magic != CO__MAGIC_QUEUE)) return -EINVAL;
    if (q->unfinished == 0) return 0;
    co__waitq_push(&q->joiners, self);
    return co__suspend(self, CO_WAIT_QUEUE_JOIN, q, q->id, loc, &q->joiners);
}

size_t co_queue_size(const co_queue_t *q) { return q->magic == CO__MAGIC_QUEUE ? q->len : 0; }

int co_queue_destroy(co_queue_t *q)
{
    if (q->magic != CO__MAGIC_QUEUE) return -EINVAL;
    if (!co__waitq_empty(&q->getters) || !co__waitq_empty(&q->putters) || !co__waitq_empty(&q->joiners))
        return -EBUSY;
    free(q->buf);
    q->buf = NULL;
    q->magic = CO__MAGIC_DEAD;
    return 0;
}
