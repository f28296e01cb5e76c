/* SPDX-License-Identifier: MIT */
/* tcp.c -- TCP connections: object lifetime, reading and writing, as
 * awaits on libuv streams.  The design (buffering, backpressure, lifetime,
 * SIGPIPE) is described in tcp.h; connecting and accepting are in
 * tcp_conn.c. */
#include "tcp.h"

/* ------------------------------------------------------------------------ */
/* Object lifetime                                                           */

static void tcp_free(co_tcp_t *c)
{
    c->magic = CO__MAGIC_DEAD;
    free(c->rbuf);
    free(c);
}

void co__tcp_unref(co_tcp_t *c)
{
    if (--c->refs == 0 && c->closed) tcp_free(c);
}

void co__tcp_on_close(uv_handle_t *h)
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
co_tcp_t *co__tcp_new(uv_loop_t *uv, co_loc *loc, co_wait_kind kind, const char *what)
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
    co__ep_add(c);
    return c;
}

/* Wake everyone waiting on c with -EBADF and close the handle. */
void co__tcp_begin_close(co_tcp_t *c, int reset)
{
    c->closing = 1;
    co__ep_remove(c);
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
    if (reset && uv_tcp_close_reset(&c->h, co__tcp_on_close) == 0) return;
    uv_close((uv_handle_t *)&c->h, co__tcp_on_close);
}

int co_tcp_close(co_tcp_t *c)
{
    if (!co__tcp_valid(c) || c->closing) return -EBADF;
    co__tcp_begin_close(c, 0);
    return 0;
}

int co_tcp_close_reset(co_tcp_t *c)
{
    if (!co__tcp_valid(c) || c->closing) return -EBADF;
    if (c->listener) return -EINVAL;
    co__tcp_begin_close(c, 1);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Reading                                                                   */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested; /* the buffer is the waiting task's or ours, sized by us */
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
    co__ep_used(c, self);
    c->refs++;
    int r = io_wait(self, CO_WAIT_TCP_READ, c, loc, read_cancel, c);
    co__tcp_unref(c);
    return r;
}

static int check_conn(co_tcp_t *c)
{
    if (CO_UNLIKELY(!co__tcp_valid(c) || c->closing)) return -EBADF;
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
    co__tcp_unref(c);
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
    if (q->waiter) io_complete(q->waiter, status < 0 ? co__tcp_req_status(c, status) : 0);
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
    co__ep_used(c, self);
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
    co__tcp_unref(c);
    return r;
}

static void on_shutdown(uv_shutdown_t *s, int status)
{
    tcp_req *q = s->data;
    if (q->waiter) io_complete(q->waiter, status < 0 ? co__tcp_req_status(q->conn, status) : 0);
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
    co__tcp_unref(c);
    return r;
}

