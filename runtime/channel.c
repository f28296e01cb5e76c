/* SPDX-License-Identifier: MIT */
/* channel.c -- co_chan: a FIFO of void * values shared by tasks on any number
 * of loops and threads (Go's channels), with Go's close semantics mapped to
 * -EPIPE.
 *
 * Everything in a channel is under its mutex.  Values are handed off
 * directly where possible, as in queue.c: a send with a receiver waiting
 * gives the value to the longest-waiting receiver, and a receive from a full
 * buffer pulls the longest-waiting sender's value in behind it.  So FIFO
 * order holds and a woken task never finds its turn taken.
 * Invariants: receivers waiting implies len == 0 and no sender waiting;
 * senders waiting implies len == cap.
 *
 * Waking.  A blocked task leaves a waiter record (on its own stack) in the
 * channel.  Whoever matches it, on whatever thread, fills in the record and
 * marks it done under the channel's mutex, then wakes the task: directly if
 * it runs on the task's loop thread, else by posting the record's embedded
 * co__xcall to the task's loop (xthread.h), so a wake never allocates.
 *
 * Cancellation races.  A waiting task can be interrupted (co_cancel, a
 * timeout scope) on its own thread while another thread matches it.  The
 * interrupted task takes its record back under the channel's mutex: still
 * queued in the channel means nothing happened; already done means the
 * transfer happened, so it also takes back the posted wake (which points into
 * its stack) and reports the transfer as done, deferring the cancellation to
 * its next await.  A value is thus never lost or sent twice.
 */
#include "xthread.h"
#include <pthread.h>
#include <stdatomic.h>

#define CO__MAGIC_CHAN 0x4348414eu

typedef struct chan_waiter {
    co__xcall call;                   /* first: posted to wake the task on its loop */
    struct chan_waiter *next, *prev;  /* in the channel's recvq/sendq, under its mutex */
    co_chan_t *ch;                    /* immutable while waiting */
    struct wlist *q;                  /* &ch->recvq or &ch->sendq, immutable */
    co__task *task;                   /* immutable while waiting */
    co__loop *loop;                   /* the task's loop, immutable */
    co__xthread *xt;                  /* the task's loop's xthread, immutable */
    /* Under the channel's mutex until done; then the task's. */
    void *value;                      /* send: the value offered; recv: the value received */
    int result;                       /* 0 or -EPIPE, valid once done */
    int linked;                       /* in recvq/sendq */
    int done;                         /* matched or closed: the transfer's outcome is final */
} chan_waiter;

typedef struct wlist { chan_waiter *head, *tail; } wlist;

struct co_chan {
    uint32_t magic;        /* written at creation and at the last unref only */
    _Atomic unsigned refs;
    uint64_t id;           /* immutable */
    size_t cap;            /* immutable; 0 = unbuffered */
    pthread_mutex_t mu;
    /* Under mu. */
    void **buf;            /* ring of cap slots */
    size_t head, len;
    wlist recvq, sendq;
    int closed;
};

static void wl_push(wlist *q, chan_waiter *w)
{
    w->next = NULL;
    w->prev = q->tail;
    if (q->tail)
        q->tail->next = w;
    else
        q->head = w;
    q->tail = w;
    w->linked = 1;
}

static void wl_remove(wlist *q, chan_waiter *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        q->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        q->tail = w->prev;
    w->next = w->prev = NULL;
    w->linked = 0;
}

static chan_waiter *wl_pop(wlist *q)
{
    chan_waiter *w = q->head;
    if (w) wl_remove(q, w);
    return w;
}

/* ------------------------------------------------------------------------ */
/* Lifetime                                                                  */

co_chan_t *co_chan_new(size_t capacity)
{
    co_chan_t *ch = calloc(1, sizeof *ch);
    if (!ch) return NULL;
    if (capacity) {
        if (capacity > SIZE_MAX / sizeof(void *) || !(ch->buf = malloc(capacity * sizeof(void *)))) {
            free(ch);
            return NULL;
        }
    }
    if (pthread_mutex_init(&ch->mu, NULL) != 0) {
        free(ch->buf);
        free(ch);
        return NULL;
    }
    ch->cap = capacity;
    ch->id = co__next_resource_id();
    atomic_init(&ch->refs, 1);
    ch->magic = CO__MAGIC_CHAN;
    return ch;
}

co_chan_t *co_chan_ref(co_chan_t *ch)
{
    if (ch) atomic_fetch_add_explicit(&ch->refs, 1, memory_order_relaxed);
    return ch;
}

void co_chan_unref(co_chan_t *ch)
{
    if (!ch) return;
    /* acq_rel: every other holder's last use happens before the free. */
    if (atomic_fetch_sub_explicit(&ch->refs, 1, memory_order_acq_rel) != 1) return;
    CO_ASSERT(ch->recvq.head == NULL && ch->sendq.head == NULL); /* waiters hold refs */
    ch->magic = CO__MAGIC_DEAD;
    pthread_mutex_destroy(&ch->mu);
    free(ch->buf);
    free(ch);
}

/* ------------------------------------------------------------------------ */
/* Transfers (under ch->mu)                                                  */

static void wake_posted(co__xcall *c)
{
    chan_waiter *w = (chan_waiter *)c;
    /* Only an interruption could have made it READY, and that takes this
     * call back first (detach). */
    CO_ASSERT(w->task->state == CO_TASK_WAITING && w->task->wake_value == w);
    co__wake(w->task, w->result);
}

/* w has been matched (or the channel closed): make the outcome final and
 * wake its task. */
static void complete(chan_waiter *w, int result)
{
    w->result = result;
    w->done = 1;
    if (w->loop == co__tl_loop) {
        /* Same thread: the task is suspended (it runs nothing between
         * queueing itself and suspending), so wake it now. */
        co__wake(w->task, result);
    } else {
        int r = co__xthread_post(w->xt, &w->call);
        CO_ASSERT(r == 0); /* a loop with a waiting task is not torn down */
    }
}

static inline void buf_push(co_chan_t *ch, void *v)
{
    size_t tail = ch->head + ch->len;
    if (tail >= ch->cap) tail -= ch->cap;
    ch->buf[tail] = v;
    ch->len++;
}

static inline void *buf_pop(co_chan_t *ch)
{
    void *v = ch->buf[ch->head];
    if (++ch->head == ch->cap) ch->head = 0;
    ch->len--;
    return v;
}

static int send_now(co_chan_t *ch, void *v)
{
    if (ch->closed) return -EPIPE;
    chan_waiter *r = wl_pop(&ch->recvq);
    if (r) {
        r->value = v;
        complete(r, 0);
        return 0;
    }
    if (ch->len < ch->cap) {
        buf_push(ch, v);
        return 0;
    }
    return -EAGAIN;
}

static int recv_now(co_chan_t *ch, void **v)
{
    void *x;
    if (ch->len > 0) {
        x = buf_pop(ch);
        chan_waiter *s = wl_pop(&ch->sendq);
        if (s) {
            buf_push(ch, s->value);
            complete(s, 0);
        }
    } else {
        chan_waiter *s = wl_pop(&ch->sendq); /* unbuffered: take it from the sender */
        if (!s) return ch->closed ? -EPIPE : -EAGAIN;
        x = s->value;
        complete(s, 0);
    }
    if (v) *v = x;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Blocking                                                                  */

/* Take w back from the channel after an interruption.  Afterwards nothing
 * else refers to w.  Runs on w's loop thread. */
static void detach(chan_waiter *w)
{
    co_chan_t *ch = w->ch;
    pthread_mutex_lock(&ch->mu);
    if (w->linked)
        wl_remove(w->q, w);                    /* nothing happened */
    else if (w->done)
        co__xthread_unpost(w->xt, &w->call);   /* happened: a wake from another thread may still be queued */
    pthread_mutex_unlock(&ch->mu);
}

static void wait_cancel(co__task *t) { detach(t->wake_value); }

/* Called with ch->mu held and w->value set (for a send); queues w on q,
 * unlocks, waits, and returns the transfer's result. */
static int wait_on(co__task *self, co__xthread *xt, co_chan_t *ch, chan_waiter *w, wlist *q,
                   co_wait_kind kind, co_loc *loc)
{
    w->call.fn = wake_posted;
    w->ch = ch;
    w->q = q;
    w->task = self;
    w->loop = self->loop;
    w->xt = xt;
    w->done = 0;
    wl_push(q, w);
    co_chan_ref(ch);           /* a waiter keeps the channel alive */
    pthread_mutex_unlock(&ch->mu);
    co__xthread_keep(xt, 1);   /* and its loop: another thread may wake it */
    self->wake_value = w;
    self->wait_cancel = wait_cancel;
    int r = co__suspend(self, kind, ch, ch->id, loc, NULL);
    int not_detached = self->wait_cancel != NULL; /* co__interrupt clears it before calling it */
    self->wait_cancel = NULL;
    co__xthread_keep(xt, -1);
    if (r == -ECANCELED || r == -ETIMEDOUT) { /* a channel wakes with 0 or -EPIPE only */
        if (not_detached) detach(w); /* co__suspend returned without suspending */
        if (w->done) {
            /* The transfer won the race: report it, deliver the interruption
             * at the next await (a timeout's deadline stays passed). */
            if (r == -ECANCELED) co__cancel_keep(self, w->result);
            r = w->result;
        }
    }
    co_chan_unref(ch);
    return r;
}

int co_chan_send_at(co_loc *loc, co_chan_t *ch, void *v)
{
    co__task *self = co__self();
    if (CO_UNLIKELY(!self)) return -EPERM;
    if (CO_UNLIKELY(!ch || ch->magic != CO__MAGIC_CHAN)) return -EINVAL;
    co__xthread *xt = co__xthread_get(self->loop);
    if (CO_UNLIKELY(!xt)) return -ENOMEM;
    pthread_mutex_lock(&ch->mu);
    int r = send_now(ch, v);
    if (r != -EAGAIN) {
        pthread_mutex_unlock(&ch->mu);
        return r;
    }
    chan_waiter w;
    w.value = v;
    return wait_on(self, xt, ch, &w, &ch->sendq, CO_WAIT_CHANNEL_SEND, loc);
}

int co_chan_recv_at(co_loc *loc, co_chan_t *ch, void **v)
{
    co__task *self = co__self();
    if (CO_UNLIKELY(!self)) return -EPERM;
    if (CO_UNLIKELY(!ch || ch->magic != CO__MAGIC_CHAN)) return -EINVAL;
    co__xthread *xt = co__xthread_get(self->loop);
    if (CO_UNLIKELY(!xt)) return -ENOMEM;
    pthread_mutex_lock(&ch->mu);
    int r = recv_now(ch, v);
    if (r != -EAGAIN) {
        pthread_mutex_unlock(&ch->mu);
        return r;
    }
    chan_waiter w;
    w.value = NULL;
    r = wait_on(self, xt, ch, &w, &ch->recvq, CO_WAIT_CHANNEL_RECV, loc);
    if (r == 0 && v) *v = w.value;
    return r;
}

/* ------------------------------------------------------------------------ */
/* Non-blocking, any thread                                                  */

int co_chan_try_send(co_chan_t *ch, void *v)
{
    if (!ch || ch->magic != CO__MAGIC_CHAN) return -EINVAL;
    pthread_mutex_lock(&ch->mu);
    int r = send_now(ch, v);
    pthread_mutex_unlock(&ch->mu);
    return r;
}

int co_chan_try_recv(co_chan_t *ch, void **v)
{
    if (!ch || ch->magic != CO__MAGIC_CHAN) return -EINVAL;
    pthread_mutex_lock(&ch->mu);
    int r = recv_now(ch, v);
    pthread_mutex_unlock(&ch->mu);
    return r;
}

int co_chan_close(co_chan_t *ch)
{
    if (!ch || ch->magic != CO__MAGIC_CHAN) return -EINVAL;
    pthread_mutex_lock(&ch->mu);
    int r = -EPIPE;
    if (!ch->closed) {
        ch->closed = 1;
        chan_waiter *w;
        while ((w = wl_pop(&ch->recvq)) != NULL) complete(w, -EPIPE); /* the buffer is empty */
        while ((w = wl_pop(&ch->sendq)) != NULL) complete(w, -EPIPE);
        r = 0;
    }
    pthread_mutex_unlock(&ch->mu);
    return r;
}

size_t co_chan_len(co_chan_t *ch)
{
    if (!ch || ch->magic != CO__MAGIC_CHAN) return 0;
    pthread_mutex_lock(&ch->mu);
    size_t n = ch->len;
    pthread_mutex_unlock(&ch->mu);
    return n;
}
