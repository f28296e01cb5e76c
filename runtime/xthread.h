/* SPDX-License-Identifier: MIT */
/* xthread.h -- private plumbing for talking to a loop from other threads,
 * shared by thread.c (which owns it) and channel.c.
 *
 * Each loop that needs it gets one co__xthread (loop->xthread, made lazily
 * on the loop's thread): a uv_async_t plus a mutex-protected FIFO of
 * co__xcall nodes.  Any thread may post a node; the loop's thread runs
 * node->fn(node) soon after.  Nodes are intrusive (embedded in whatever
 * posts them), so a channel wake never allocates, and a posted node can be
 * taken back (co__xthread_unpost) as long as it has not run yet.
 */
#ifndef CO_XTHREAD_H
#define CO_XTHREAD_H

#include "internal.h"

typedef struct co__xthread co__xthread;

/* A queued call.  Owned by its poster; linked fields are under the target
 * xthread's mutex while queued. */
typedef struct co__xcall {
    struct co__xcall *next, *prev;
    void (*fn)(struct co__xcall *c); /* runs on the target loop's thread */
    int queued;                      /* in a FIFO now (under the mutex) */
} co__xcall;

/* The loop's xthread, created on first use.  Loop thread only.  NULL if
 * memory ran out. */
co__xthread *co__xthread_get(co__loop *l);
/* Queue c on xt and wake its loop.  Any thread; the caller guarantees xt is
 * alive (e.g. a task of that loop is waiting, so the loop cannot be freed).
 * Returns 0, or -EINVAL if the loop is being torn down. */
int co__xthread_post(co__xthread *xt, co__xcall *c);
/* Take c back if it is still queued; returns 1 if it was.  Any thread. */
int co__xthread_unpost(co__xthread *xt, co__xcall *c);
/* Count reasons to keep the loop alive for wakes from other threads (a
 * task waiting on a channel, a co_loop_ref).  Loop thread only. */
void co__xthread_keep(co__xthread *xt, int delta);
co__loop *co__xthread_loop(const co__xthread *xt);

#endif /* CO_XTHREAD_H */
