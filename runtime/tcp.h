/* SPDX-License-Identifier: MIT */
/* tcp.h -- private to tcp.c and tcp_conn.c: the co_tcp_t object, its
 * requests, and the helpers both files use.  The design notes are here,
 * with the struct they are about. */
/* TCP listeners and connections as awaits on libuv streams.
 *
 * Each co_tcp_t wraps a uv_tcp_t.  Every wait (connect, accept, read, write,
 * shutdown) goes through co__suspend with the object's resource id, so the
 * tracer and co_dump see what each task waits on.
 *
 * Reading.  The first read starts uv_read_start and the stream keeps reading
 * from then on; bytes land in the waiting reader's own buffer when one waits
 * with a large buffer (no copy), else in an internal buffer that the next
 * read drains first.
 * Reading stops while RBUF_HIGH bytes are buffered and restarts once the
 * reader has drained half of them, so a slow reader pushes back on the peer
 * through TCP flow control instead of growing memory.  A reader is woken as
 * soon as bytes reach its buffer; a cancellation that arrives after that is
 * delivered at its next await, so woken-with-data is never lost.
 *
 * Writing.  uv_try_write first: the common small write returns without
 * suspending.  What the kernel does not take is copied into a heap request
 * handed to uv_write, so the caller's buffer is free once co_tcp_write
 * returns and a cancelled write can finish in the background, in order.
 *
 * Lifetime.  libuv owns the handle until the close callback.  A co_tcp_t is
 * freed only when both libuv is done with it (closed) and no task is inside a
 * call on it (refs == 0), so a task woken by co_tcp_close never touches freed
 * memory on its way out.  Requests (connect, write, shutdown) are heap
 * objects freed in their callbacks, which libuv always runs, with
 * UV_ECANCELED if the handle closed first.
 *
 * SIGPIPE.  libuv writes with write(2), so a write to a connection the peer
 * reset raises SIGPIPE, whose default action kills the process.  The first
 * socket made sets SIGPIPE to SIG_IGN if it is still at its default (as
 * Python and Node do at startup), so such a write returns -EPIPE instead.
 * A handler or SIG_IGN the program set itself is left alone.
 */
#ifndef CO_TCP_H
#define CO_TCP_H

#include "internal.h"
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <netinet/in.h>

#define CO__MAGIC_TCP 0x54435053u /* "TCPS" */
#define RBUF_HIGH (64 * 1024)      /* stop reading with this much buffered */
#define RBUF_LOW (RBUF_HIGH / 2)   /* restart reading at or below this */
/* Reads of at least this many bytes go straight into the reader's buffer.
 * Smaller ones go through the internal buffer and a copy: libuv reads again
 * whenever a read fills its buffer exactly, and for a small read_exact that
 * is every time, an extra read(2) that only says EAGAIN.  A copy of a few
 * KiB costs far less than that system call. */
#define RBUF_DIRECT (16 * 1024)

/* Loop thread only (the loop that created it).
 * Invariants:
 *  - reader != NULL implies rlen == 0 (a read with bytes buffered never
 *    waits) and the reader is WAITING in co_tcp_read with rdst/rdst_len;
 *  - rbuf[roff, roff + rlen) are the bytes received and not yet read;
 *  - reading mirrors whether uv_read_start is in effect;
 *  - rerr is 0, UV_EOF or a read error, reported once rlen == 0;
 *  - closing: uv_close was called; closed: its callback ran.  The struct is
 *    freed when closed && refs == 0. */
struct co_tcp {
    uv_tcp_t h;              /* h.data == this */
    uint32_t magic;
    uint8_t listener;        /* made by co_tcp_listen */
    uint8_t closing, closed;
    uint8_t reading;
    int refs;                /* tasks inside a call on this object */
    uint64_t id;             /* resource id */
    /* Reading (connections). */
    char *rbuf;
    size_t roff, rlen, rcap;
    int rerr;
    co__task *reader;
    char *rdst;
    size_t rdst_len;
    /* Writing: first error of a write that finished in the background. */
    int werr;
    /* Accepting (listeners). */
    co_waitq acceptors;      /* tasks in co_tcp_accept, FIFO */
    int accept_ready;        /* libuv holds an accepted fd for us */
    int accept_err;          /* an accept error no task was waiting to see */
    /* Endpoints (endpoint.c): a connection's addresses once connected or
     * accepted, the connection of this loop at its other end (same two
     * addresses, swapped) if there is one, and the task that last read or
     * wrote it (who could write to its peer). */
    struct sockaddr_storage laddr, paddr;
    uint8_t has_addr;
    co_tcp_t *pair;
    co_tcp_t *ep_next, *ep_prev; /* this thread's list of sockets */
    co_task_t last_user;
};

/* A connect/write/shutdown in flight.  waiter is the suspended task, NULL
 * once it stopped waiting (cancelled); the callback frees the request. */
typedef struct tcp_req {
    union {
        uv_connect_t connect;
        uv_write_t write;
        uv_shutdown_t shutdown;
    } u;
    co__task *waiter;
    co_tcp_t *conn;
    char data[]; /* write: the bytes the kernel did not take at once */
} tcp_req;

/* ------------------------------------------------------------------------ */
/* Waiting                                                                   */

/* Suspend until the request's callback wakes us.  `cancel` detaches the task
 * from what it waits on; it runs exactly once if the task stops waiting for
 * any reason other than completion: from co__interrupt (co_cancel, timeout),
 * or here, if co__suspend returned without suspending.  Completion callbacks
 * clear wait_cancel before waking, so the three cases are told apart. */
static inline int io_wait(co__task *self, co_wait_kind kind, co_tcp_t *c, co_loc *loc,
                   void (*cancel)(co__task *), void *ctx)
{
    self->wake_value = ctx;
    self->wait_cancel = cancel;
    int r = co__suspend(self, kind, c, c->id, loc, NULL);
    if (CO_UNLIKELY(self->wait_cancel != NULL)) {
        void (*fn)(co__task *) = self->wait_cancel;
        self->wait_cancel = NULL;
        fn(self);
    }
    self->wake_value = NULL;
    return r;
}

static inline void io_complete(co__task *t, int result)
{
    t->wait_cancel = NULL;
    co__wake(t, result);
}

/* endpoint.c: a socket's addresses and its pairing with the other end
 * when that is a socket of the same loop (a client and a server in one
 * process), and the all-asleep check that pairing allows. */
void co__ep_add(co_tcp_t *c);                       /* co__tcp_new: on this thread's list */
void co__ep_remove(co_tcp_t *c);                    /* closing: off the list, unpaired */
void co__ep_connected(co_tcp_t *c, co_loc *loc, co__task *by); /* connected or accepted */
static inline void co__ep_used(co_tcp_t *c, co__task *t) { c->last_user = co__handle(t); }

/* tcp.c: lifetime, shared with tcp_conn.c. */
co_tcp_t *co__tcp_new(uv_loop_t *uv, co_loc *loc, co_wait_kind kind, const char *what);
void co__tcp_begin_close(co_tcp_t *c, int reset);
void co__tcp_on_close(uv_handle_t *h);
void co__tcp_unref(co_tcp_t *c);

static inline bool co__tcp_valid(const co_tcp_t *c) { return c && c->magic == CO__MAGIC_TCP; }

/* Status of a request on c: UV_ECANCELED because c closed is -EBADF. */
static inline int co__tcp_req_status(co_tcp_t *c, int status)
{
    return (status == UV_ECANCELED && c->closing) ? -EBADF : status;
}

#endif /* CO_TCP_H */
