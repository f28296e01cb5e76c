/* SPDX-License-Identifier: MIT */
/* tcp_conn.c -- making TCP connections: connect (with name resolution),
 * listen, accept, and the address getters.  See tcp.h for the object. */
#include "tcp.h"

/* ------------------------------------------------------------------------ */
/* Connecting                                                                */

static void on_connect(uv_connect_t *req, int status)
{
    tcp_req *q = req->data;
    if (q->waiter) io_complete(q->waiter, status < 0 ? co__tcp_req_status(q->conn, status) : 0);
    free(q);
}

/* A cancelled connect closes its half-made socket: libuv then runs
 * on_connect with UV_ECANCELED (freeing the request) and co__tcp_on_close frees c. */
static void connect_cancel(co__task *t)
{
    tcp_req *q = t->wake_value;
    q->waiter = NULL;
    if (!q->conn->closing) co__tcp_begin_close(q->conn, 0);
}

static int connect_one(co_loc *loc, co__task *self, const struct sockaddr *addr, co_tcp_t **out)
{
    co_tcp_t *c = co__tcp_new(self->loop->uv, loc, CO_WAIT_TCP_READ, "tcp connected");
    if (!c) return -ENOMEM;
    tcp_req *q = malloc(sizeof *q);
    if (!q) {
        co__tcp_begin_close(c, 0);
        return -ENOMEM;
    }
    q->u.connect.data = q;
    q->waiter = self;
    q->conn = c;
    int e = uv_tcp_connect(&q->u.connect, &c->h, addr, on_connect);
    if (e < 0) {
        free(q);
        co__tcp_begin_close(c, 0);
        return e;
    }
    c->refs++; /* a cancelled connect's c may be closed before we resume */
    int r = io_wait(self, CO_WAIT_TCP_CONNECT, c, loc, connect_cancel, q);
    if (r < 0) {
        if (!c->closing) co__tcp_begin_close(c, 0); /* a failed attempt leaves the socket unusable */
        co__tcp_unref(c);
        return r;
    }
    co__tcp_unref(c);
    uv_tcp_nodelay(&c->h, 1);
    co__ep_connected(c, loc, self);
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
    struct addrinfo *res = NULL;
    int r = co__resolve_tcp(loc, host, port, &res);
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
static int accept_now(co_tcp_t *srv, co_loc *loc, co__task *by, co_tcp_t **out)
{
    co_tcp_t *c = co__tcp_new(srv->h.loop, loc, CO_WAIT_TCP_READ, "tcp accepted");
    if (!c) return -ENOMEM;
    int e = uv_accept((uv_stream_t *)&srv->h, (uv_stream_t *)&c->h);
    srv->accept_ready = 0;
    if (e < 0) {
        co__tcp_begin_close(c, 0);
        return e;
    }
    uv_tcp_nodelay(&c->h, 1);
    co__ep_connected(c, loc, by);
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
    int e = accept_now(srv, t->wait_loc, t, &c);
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
    co_tcp_t *c = co__tcp_new(self->loop->uv, loc, CO_WAIT_TCP_ACCEPT, "tcp listener");
    if (!c) return -ENOMEM;
    c->listener = 1;
    r = uv_tcp_bind(&c->h, (struct sockaddr *)&ss, 0);
    if (r == 0) r = uv_listen((uv_stream_t *)&c->h, backlog > 0 ? backlog : SOMAXCONN, on_connection);
    if (r < 0) {
        co__tcp_begin_close(c, 0);
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
    if (!co__tcp_valid(srv) || srv->closing) return -EBADF;
    if (!srv->listener) return -EINVAL;
    if (co__waitq_empty(&srv->acceptors)) { /* FIFO: earlier waiters go first */
        if (srv->accept_err) {
            int e = srv->accept_err;
            srv->accept_err = 0;
            return e;
        }
        if (srv->accept_ready) return accept_now(srv, loc, self, out);
    }
    co__waitq_push(&srv->acceptors, self);
    srv->refs++;
    int r = co__suspend(self, CO_WAIT_TCP_ACCEPT, srv, srv->id, loc, &srv->acceptors);
    if (r == 0) *out = self->wake_value;
    self->wake_value = NULL;
    co__tcp_unref(srv);
    return r;
}

/* ------------------------------------------------------------------------ */
/* Introspection and options                                                 */

int co_tcp_local_port(co_tcp_t *c)
{
    if (!co__tcp_valid(c) || c->closing) return -EBADF;
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
    if (!co__tcp_valid(c) || c->closing) return -EBADF;
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
    if (!co__tcp_valid(c) || c->closing) return -EBADF;
    return uv_tcp_nodelay(&c->h, on ? 1 : 0);
}

void *co_tcp_uv(co_tcp_t *c) { return co__tcp_valid(c) ? &c->h : NULL; }
uint64_t co_tcp_id(co_tcp_t *c) { return co__tcp_valid(c) ? c->id : 0; }
