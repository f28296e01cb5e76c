/* tcp.c -- TCP listeners and connections as awaits on libuv streams.
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
static int io_wait(co__task *self, co_wait_kind kind, co_tcp_t *c, co_loc *loc,
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

/* ------------------------------------------------------------------------ */
/* Object lifetime                                                           */

static void tcp_free(co_tcp_t *c)
{
    c->magic = CO__MAGIC_DEAD;
    free(c->rbuf);
    free(c);
}

static inline void unref(co_tcp_t *c)
{
    if (--c->refs == 0 && c->closed) tcp_free(c);
}

static void on_close(uv_handle_t *h)
{
    co_tcp_t *c = h->data;
    c->closed = 1;
    if (c->refs == 0) tcp_free(c);
}

static void ignore_sigpipe(void)
{
    struct sigaction sa;
    if (sigaction(SIGPIPE, NULL, &sa) == 0 && !(sa.sa_flags & SA_SIGINFO) && sa.sa_handler == SIG_DFL) {
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = SIG_IGN;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGPIPE, &sa, NULL);
    }
}

/* `what` names the kind of socket in traces (a static string). */
static co_tcp_t *tcp_new(uv_loop_t *uv, co_loc *loc, co_wait_kind kind, const char *what)
{
    static pthread_once_t sigpipe_once = PTHREAD_ONCE_INIT;
    pthread_once(&sigpipe_once, ignore_sigpipe);
    co_tcp_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    if (uv_tcp_init(uv, &c->h) < 0) {
        free(c);
        return NULL;
    }
    c->h.data = c;
    c->magic = CO__MAGIC_TCP;
    c->id = co__resource_new(loc, kind, what);
    return c;
}

/* Wake everyone waiting on c with -EBADF and close the handle. */
static void begin_close(co_tcp_t *c, int reset)
{
    c->closing = 1;
    if (c->reader) {
        co__task *t = c->reader;
        c->reader = NULL;
        io_complete(t, -EBADF);
    }
    co__task *t;
    while ((t = co__waitq_first(&c->acceptors)) != NULL) co__wake(t, -EBADF);
    /* Pending writes, shutdowns and connects get UV_ECANCELED in their
     * callbacks, which map it to -EBADF for a task still waiting. */
    /* close_reset refuses while a shutdown is pending: then close normally. */
    if (reset && uv_tcp_close_reset(&c->h, on_close) == 0) return;
    uv_close((uv_handle_t *)&c->h, on_close);
}

static inline bool valid(const co_tcp_t *c) { return c && c->magic == CO__MAGIC_TCP; }

/* Status of a request on c: UV_ECANCELED because c closed is -EBADF. */
static inline int req_status(co_tcp_t *c, int status)
{
    return (status == UV_ECANCELED && c->closing) ? -EBADF : status;
}

int co_tcp_close(co_tcp_t *c)
{
    if (!valid(c) || c->closing) return -EBADF;
    begin_close(c, 0);
    return 0;
}

int co_tcp_close_reset(co_tcp_t *c)
{
    if (!valid(c) || c->closing) return -EBADF;
    if (c->listener) return -EINVAL;
    begin_close(c, 1);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Reading                                                                   */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    co_tcp_t *c = h->data;
    if (c->reader && c->rdst_len >= RBUF_DIRECT) {
        /* rlen == 0: read straight into the waiting task's buffer. */
        buf->base = c->rdst;
        buf->len = c->rdst_len;
        return;
    }
    if (!c->rbuf) {
        c->rbuf = malloc(RBUF_HIGH);
        if (!c->rbuf) {
            buf->base = NULL; /* libuv reports UV_ENOBUFS to on_read */
            buf->len = 0;
            return;
        }
        c->rcap = RBUF_HIGH;
    }
    if (c->rlen == 0) {
        c->roff = 0;
    } else if (c->rcap - c->roff - c->rlen < c->rcap / 4 && c->roff > 0) {
        memmove(c->rbuf, c->rbuf + c->roff, c->rlen); /* reclaim the consumed front */
        c->roff = 0;
    }
    buf->base = c->rbuf + c->roff + c->rlen;
    buf->len = c->rcap - c->roff - c->rlen;
}

static void stop_reading(co_tcp_t *c)
{
    if (c->reading) {
        uv_read_stop((uv_stream_t *)&c->h);
        c->reading = 0;
    }
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    co_tcp_t *c = s->data;
    if (nread > 0) {
        co__task *t = c->reader;
        if (t && buf->base == c->rdst) {
            c->reader = NULL;
            io_complete(t, (int)nread);
            return;
        }
        c->rlen += (size_t)nread;
        if (t) { /* a small read: hand over what fits, keep the rest */
            size_t n = c->rlen < c->rdst_len ? c->rlen : c->rdst_len;
            memcpy(c->rdst, c->rbuf + c->roff, n);
            c->roff += n;
            c->rlen -= n;
            if (c->rlen == 0) c->roff = 0;
            c->reader = NULL;
            io_complete(t, (int)n);
        }
        if (c->rlen >= RBUF_HIGH) stop_reading(c);
        return;
    }
    if (nread == 0) return; /* EAGAIN: nothing this time */
    if (nread == UV_ENOBUFS) { /* out of memory for the buffer: pause, retry at the next read */
        stop_reading(c);
        if (c->reader) {
            co__task *t = c->reader;
            c->reader = NULL;
            io_complete(t, -ENOMEM);
        }
        return;
    }
    /* End of stream or an error: sticky, after the buffered bytes. */
    stop_reading(c);
    if (c->rerr == 0) c->rerr = (int)nread;
    if (c->reader) {
        co__task *t = c->reader;
        c->reader = NULL;
        io_complete(t, nread == UV_EOF ? 0 : (int)nread);
    }
}

static void read_cancel(co__task *t)
{
    co_tcp_t *c = t->wake_value;
    if (c->reader == t) c->reader = NULL;
}

static int start_reading(co_tcp_t *c)
{
    if (c->reading || c->rerr) return 0;
    int e = uv_read_start((uv_stream_t *)&c->h, on_alloc, on_read);
    if (e < 0) return e;
    c->reading = 1;
    return 0;
}

/* Take up to len buffered bytes. */
static size_t take(co_tcp_t *c, char *dst, size_t len)
{
    size_t n = c->rlen < len ? c->rlen : len;
    memcpy(dst, c->rbuf + c->roff, n);
    c->roff += n;
    c->rlen -= n;
    if (c->rlen == 0) c->roff = 0;
    if (!c->reading && c->rlen <= RBUF_LOW) start_reading(c); /* error, if any, resurfaces at the next read */
    return n;
}

/* Put n bytes back in front of the unread data (read_exact's rollback). */
static int unread(co_tcp_t *c, const char *src, size_t n)
{
    if (n == 0) return 0;
    if (c->roff >= n) {
        c->roff -= n;
        memcpy(c->rbuf + c->roff, src, n);
        c->rlen += n;
        return 0;
    }
    size_t need = c->rlen + n;
    if (need > c->rcap) {
        size_t cap = need > RBUF_HIGH ? need : RBUF_HIGH;
        char *b = malloc(cap);
        if (!b) return -ENOMEM;
        if (c->rlen) memcpy(b + n, c->rbuf + c->roff, c->rlen);
        free(c->rbuf);
        c->rbuf = b;
        c->rcap = cap;
    } else {
        memmove(c->rbuf + n, c->rbuf + c->roff, c->rlen);
    }
    memcpy(c->rbuf, src, n);
    c->roff = 0;
    c->rlen = need;
    /* Over the high mark now, possibly: pause like on_read would. */
    if (c->rlen >= RBUF_HIGH) stop_reading(c);
    return 0;
}

static int read_some(co_loc *loc, co__task *self, co_tcp_t *c, char *buf, size_t len)
{
    if (c->rlen > 0) return (int)take(c, buf, len);
    if (c->rerr) return c->rerr == UV_EOF ? 0 : c->rerr;
    int e = start_reading(c);
    if (e < 0) return e;
    c->reader = self;
    c->rdst = buf;
    c->rdst_len = len;
    c->refs++;
    int r = io_wait(self, CO_WAIT_TCP_READ, c, loc, read_cancel, c);
    unref(c);
    return r;
}

static int check_conn(co_tcp_t *c)
{
    if (CO_UNLIKELY(!valid(c) || c->closing)) return -EBADF;
    if (CO_UNLIKELY(c->listener)) return -EINVAL;
    return 0;
}

int co_tcp_read_at(co_loc *loc, co_tcp_t *c, void *buf, size_t len)
{
    co__task *self = co__self();
    if (CO_UNLIKELY(!self)) return -EPERM;
    int e = check_conn(c);
    if (e < 0) return e;
    if (c->reader) return -EBUSY;
    if (len == 0) return 0;
    if (len > INT_MAX) len = INT_MAX;
    return read_some(loc, self, c, buf, len);
}

int co_tcp_read_exact_at(co_loc *loc, co_tcp_t *c, void *buf, size_t len)
{
    co__task *self = co__self();
    if (CO_UNLIKELY(!self)) return -EPERM;
    int e = check_conn(c);
    if (e < 0) return e;
    if (c->reader) return -EBUSY;
    if (len > INT_MAX) return -EINVAL;
    char *p = buf;
    size_t got = 0;
    int r = 0;
    c->refs++; /* c stays readable below even if closed while we wait */
    while (got < len) {
        r = read_some(loc, self, c, p + got, len - got);
        if (r > 0) {
            got += (size_t)r;
            continue;
        }
        if (r == 0) {
            r = got == 0 ? 0 : -EPIPE;
        } else if ((r == -ECANCELED || r == -ETIMEDOUT) && got > 0 && !c->closing) {
            /* All or nothing: the next read sees these bytes again.  Only
             * out of memory can stop that, and then the error says so. */
            if (unread(c, p, got) < 0) r = -ENOMEM;
        }
        break;
    }
    if (got == len) r = (int)len;
    unref(c);
    return r;
}

/* ------------------------------------------------------------------------ */
/* Writing and shutdown                                                      */

static void req_cancel(co__task *t)
{
    tcp_req *q = t->wake_value;
    q->waiter = NULL; /* the request completes in the background */
}

static void on_write(uv_write_t *w, int status)
{
    tcp_req *q = w->data;
    co_tcp_t *c = q->conn;
    if (status < 0 && status != UV_ECANCELED && c->werr == 0) c->werr = status;
    if (q->waiter) io_complete(q->waiter, status < 0 ? req_status(c, status) : 0);
    free(q);
}

int co_tcp_write_at(co_loc *loc, co_tcp_t *c, const void *buf, size_t len)
{
    co__task *self = co__self();
    if (CO_UNLIKELY(!self)) return -EPERM;
    int e = check_conn(c);
    if (e < 0) return e;
    if (CO_UNLIKELY(c->werr)) return c->werr;
    if (len == 0) return 0;
    size_t done = 0;
    /* uv_try_write refuses (EAGAIN) while earlier writes are queued, so
     * order is kept. */
    while (done < len) {
        size_t chunk = len - done > INT_MAX ? INT_MAX : len - done;
        uv_buf_t b = uv_buf_init((char *)buf + done, (unsigned)chunk);
        int n = uv_try_write((uv_stream_t *)&c->h, &b, 1);
        if (n == UV_EAGAIN || n == 0) break;
        if (n < 0) return n;
        done += (size_t)n;
        if ((size_t)n < chunk) break; /* socket full */
    }
    if (done == len) return 0;
    size_t rest = len - done;
    if (rest > UINT_MAX) return -EINVAL; /* one uv_buf_t */
    tcp_req *q = malloc(sizeof *q + rest);
    if (!q) return -ENOMEM;
    memcpy(q->data, (const char *)buf + done, rest);
    q->u.write.data = q;
    q->waiter = self;
    q->conn = c;
    uv_buf_t b = uv_buf_init(q->data, (unsigned)rest);
    e = uv_write(&q->u.write, (uv_stream_t *)&c->h, &b, 1, on_write);
    if (e < 0) {
        free(q);
        return e;
    }
    c->refs++;
    int r = io_wait(self, CO_WAIT_TCP_WRITE, c, loc, req_cancel, q);
    unref(c);
    return r;
}

static void on_shutdown(uv_shutdown_t *s, int status)
{
    tcp_req *q = s->data;
    if (q->waiter) io_complete(q->waiter, status < 0 ? req_status(q->conn, status) : 0);
    free(q);
}

int co_tcp_shutdown_at(co_loc *loc, co_tcp_t *c)
{
    co__task *self = co__self();
    if (CO_UNLIKELY(!self)) return -EPERM;
    int e = check_conn(c);
    if (e < 0) return e;
    tcp_req *q = malloc(sizeof *q);
    if (!q) return -ENOMEM;
    q->u.shutdown.data = q;
    q->waiter = self;
    q->conn = c;
    e = uv_shutdown(&q->u.shutdown, (uv_stream_t *)&c->h, on_shutdown);
    if (e < 0) {
        free(q);
        return e;
    }
    c->refs++;
    int r = io_wait(self, CO_WAIT_TCP_SHUTDOWN, c, loc, req_cancel, q);
    unref(c);
    return r;
}

/* ------------------------------------------------------------------------ */
/* Connecting                                                                */

static void on_connect(uv_connect_t *req, int status)
{
    tcp_req *q = req->data;
    if (q->waiter) io_complete(q->waiter, status < 0 ? req_status(q->conn, status) : 0);
    free(q);
}

/* A cancelled connect closes its half-made socket: libuv then runs
 * on_connect with UV_ECANCELED (freeing the request) and on_close frees c. */
static void connect_cancel(co__task *t)
{
    tcp_req *q = t->wake_value;
    q->waiter = NULL;
    if (!q->conn->closing) begin_close(q->conn, 0);
}

static int connect_one(co_loc *loc, co__task *self, const struct sockaddr *addr, co_tcp_t **out)
{
    co_tcp_t *c = tcp_new(self->loop->uv, loc, CO_WAIT_TCP_READ, "tcp connected");
    if (!c) return -ENOMEM;
    tcp_req *q = malloc(sizeof *q);
    if (!q) {
        begin_close(c, 0);
        return -ENOMEM;
    }
    q->u.connect.data = q;
    q->waiter = self;
    q->conn = c;
    int e = uv_tcp_connect(&q->u.connect, &c->h, addr, on_connect);
    if (e < 0) {
        free(q);
        begin_close(c, 0);
        return e;
    }
    c->refs++; /* a cancelled connect's c may be closed before we resume */
    int r = io_wait(self, CO_WAIT_TCP_CONNECT, c, loc, connect_cancel, q);
    if (r < 0) {
        if (!c->closing) begin_close(c, 0); /* a failed attempt leaves the socket unusable */
        unref(c);
        return r;
    }
    unref(c);
    uv_tcp_nodelay(&c->h, 1);
    *out = c;
    return 0;
}

int co_tcp_connect_at(co_loc *loc, co_tcp_t **out, const char *host, int port)
{
    co__task *self = co__self();
    if (CO_UNLIKELY(!self)) return -EPERM;
    if (!out) return -EINVAL;
    *out = NULL;
    if (port <= 0 || port > 65535 || !host || !*host) return -EINVAL;
    struct sockaddr_storage ss;
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)&ss) == 0 ||
        uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss) == 0)
        return connect_one(loc, self, (struct sockaddr *)&ss, out);

    /* A name: try each address it has, in the resolver's order. */
    char service[8];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV; /* no AI_ADDRCONFIG: it hides 127.0.0.1 on hosts with only loopback */
    int r = co_getaddrinfo_at(loc, host, service, &hints, &res);
    if (r < 0) return r;
    r = UV_EAI_NONAME;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
        r = connect_one(loc, self, ai->ai_addr, out);
        if (r == 0 || r == -ECANCELED || r == -ETIMEDOUT || r == -ENOMEM) break;
    }
    uv_freeaddrinfo(res);
    return r;
}

/* ------------------------------------------------------------------------ */
/* Listening and accepting                                                   */

/* Take the connection libuv holds for us. */
static int accept_now(co_tcp_t *srv, co_loc *loc, co_tcp_t **out)
{
    co_tcp_t *c = tcp_new(srv->h.loop, loc, CO_WAIT_TCP_READ, "tcp accepted");
    if (!c) return -ENOMEM;
    int e = uv_accept((uv_stream_t *)&srv->h, (uv_stream_t *)&c->h);
    srv->accept_ready = 0;
    if (e < 0) {
        begin_close(c, 0);
        return e;
    }
    uv_tcp_nodelay(&c->h, 1);
    *out = c;
    return 0;
}

static void on_connection(uv_stream_t *s, int status)
{
    co_tcp_t *srv = s->data;
    co__task *t = co__waitq_first(&srv->acceptors);
    if (status < 0) {
        if (t) co__wake(t, status);
        else srv->accept_err = status;
        return;
    }
    srv->accept_ready = 1;
    if (!t) return; /* libuv stops accepting until we uv_accept: backpressure */
    co_tcp_t *c = NULL;
    int e = accept_now(srv, t->wait_loc, &c);
    t->wake_value = c;
    co__wake(t, e);
}

int co_tcp_listen_at(co_loc *loc, co_tcp_t **out, const char *host, int port, int backlog)
{
    co__task *self = co__self();
    if (CO_UNLIKELY(!self)) return -EPERM;
    if (!out) return -EINVAL;
    *out = NULL;
    struct sockaddr_storage ss;
    int r = co_resolve_at(loc, host, port, &ss);
    if (r < 0) return r;
    co_tcp_t *c = tcp_new(self->loop->uv, loc, CO_WAIT_TCP_ACCEPT, "tcp listener");
    if (!c) return -ENOMEM;
    c->listener = 1;
    r = uv_tcp_bind(&c->h, (struct sockaddr *)&ss, 0);
    if (r == 0) r = uv_listen((uv_stream_t *)&c->h, backlog > 0 ? backlog : SOMAXCONN, on_connection);
    if (r < 0) {
        begin_close(c, 0);
        return r;
    }
    *out = c;
    return 0;
}

int co_tcp_accept_at(co_loc *loc, co_tcp_t *srv, co_tcp_t **out)
{
    co__task *self = co__self();
    if (CO_UNLIKELY(!self)) return -EPERM;
    if (!out) return -EINVAL;
    *out = NULL;
    if (!valid(srv) || srv->closing) return -EBADF;
    if (!srv->listener) return -EINVAL;
    if (co__waitq_empty(&srv->acceptors)) { /* FIFO: earlier waiters go first */
        if (srv->accept_err) {
            int e = srv->accept_err;
            srv->accept_err = 0;
            return e;
        }
        if (srv->accept_ready) return accept_now(srv, loc, out);
    }
    co__waitq_push(&srv->acceptors, self);
    srv->refs++;
    int r = co__suspend(self, CO_WAIT_TCP_ACCEPT, srv, srv->id, loc, &srv->acceptors);
    if (r == 0) *out = self->wake_value;
    self->wake_value = NULL;
    unref(srv);
    return r;
}

/* ------------------------------------------------------------------------ */
/* Introspection and options                                                 */

int co_tcp_local_port(co_tcp_t *c)
{
    if (!valid(c) || c->closing) return -EBADF;
    struct sockaddr_storage ss;
    int len = sizeof ss;
    int e = uv_tcp_getsockname(&c->h, (struct sockaddr *)&ss, &len);
    if (e < 0) return e;
    if (ss.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return -EAFNOSUPPORT;
}

int co_tcp_peer(co_tcp_t *c, char *host, size_t cap, int *port)
{
    if (!valid(c) || c->closing) return -EBADF;
    struct sockaddr_storage ss;
    int len = sizeof ss;
    int e = uv_tcp_getpeername(&c->h, (struct sockaddr *)&ss, &len);
    if (e < 0) return e;
    if (ss.ss_family == AF_INET) {
        if (host && (e = uv_ip4_name((struct sockaddr_in *)&ss, host, cap)) < 0) return e;
        if (port) *port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    } else if (ss.ss_family == AF_INET6) {
        if (host && (e = uv_ip6_name((struct sockaddr_in6 *)&ss, host, cap)) < 0) return e;
        if (port) *port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    } else {
        return -EAFNOSUPPORT;
    }
    return 0;
}

int co_tcp_nodelay(co_tcp_t *c, int on)
{
    if (!valid(c) || c->closing) return -EBADF;
    return uv_tcp_nodelay(&c->h, on ? 1 : 0);
}

void *co_tcp_uv(co_tcp_t *c) { return valid(c) ? &c->h : NULL; }
uint64_t co_tcp_id(co_tcp_t *c) { return valid(c) ? c->id : 0; }
