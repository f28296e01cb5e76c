/* dns.c -- name resolution as an await: co_getaddrinfo runs getaddrinfo(3)
 * on libuv's thread pool (uv_getaddrinfo) while the task waits as
 * CO_WAIT_DNS, and co_resolve picks one TCP address, parsing numeric hosts
 * without a lookup.
 *
 * A lookup already running on a pool thread cannot be stopped.  So the
 * request lives on the heap, not in the task's frame: a cancelled task
 * detaches from it (waiter = NULL) and returns at once, and the callback
 * frees the request and whatever it resolved.
 */
#include "internal.h"
#include <netdb.h>
#include <stdio.h>

/* One lookup in flight.  Loop thread only.  waiter is the task suspended on
 * it, NULL once that task stopped waiting (then the callback owns and frees
 * everything); out points into the waiter's frame and is valid only while
 * waiter != NULL. */
typedef struct dns_req {
    uv_getaddrinfo_t req;
    co__task *waiter;
    struct addrinfo **out;
} dns_req;

/* libuv's UV_EAI_* that have an errno twin become that errno, so callers can
 * test -ENOMEM / -ECANCELED the same way everywhere; the rest stay UV_EAI_*
 * (co_strerror names them through uv_strerror). */
static int map_eai(int status)
{
    switch (status) {
    case UV_EAI_MEMORY: return -ENOMEM;
    case UV_EAI_CANCELED: return -ECANCELED;
    default: return status;
    }
}

static void dns_cancel(co__task *t)
{
    dns_req *r = t->wake_value;
    r->waiter = NULL;
    /* Succeeds only if no pool thread picked it up yet; either way the
     * callback runs once and frees the request. */
    uv_cancel((uv_req_t *)&r->req);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    dns_req *r = req->data;
    co__task *t = r->waiter;
    if (t) {
        *r->out = status == 0 ? res : NULL;
        if (status != 0 && res) uv_freeaddrinfo(res);
        t->wait_cancel = NULL; /* completed: nothing to detach */
        co__wake(t, status == 0 ? 0 : map_eai(status));
    } else if (res) {
        uv_freeaddrinfo(res);
    }
    free(r);
}

int co_getaddrinfo_at(co_loc *loc, const char *host, const char *service,
                      const struct addrinfo *hints, struct addrinfo **res)
{
    co__task *self = co__self();
    if (CO_UNLIKELY(!self)) return -EPERM;
    if (!res) return -EINVAL;
    *res = NULL;
    struct addrinfo def;
    if (!hints) {
        memset(&def, 0, sizeof def);
        def.ai_family = AF_UNSPEC;
        def.ai_socktype = SOCK_STREAM;
        hints = &def;
    }
    dns_req *r = malloc(sizeof *r);
    if (!r) return -ENOMEM;
    r->req.data = r;
    r->waiter = self;
    r->out = res;
    /* uv_getaddrinfo copies host, service and hints. */
    int e = uv_getaddrinfo(self->loop->uv, &r->req, on_resolved, host, service, hints);
    if (e < 0) {
        free(r);
        return map_eai(e);
    }
    self->wake_value = r;
    self->wait_cancel = dns_cancel;
    int rc = co__suspend(self, CO_WAIT_DNS, r, co__resource_new(loc, CO_WAIT_DNS, "getaddrinfo"), loc, NULL);
    if (self->wait_cancel) { /* returned without waiting (cancel pending, deadline past) */
        self->wait_cancel = NULL;
        dns_cancel(self);
    }
    self->wake_value = NULL;
    return rc;
}

void co_freeaddrinfo(struct addrinfo *ai)
{
    if (ai) uv_freeaddrinfo(ai);
}

int co__resolve_tcp(co_loc *loc, const char *host, int port, struct addrinfo **res)
{
    char service[8];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV; /* no AI_ADDRCONFIG: it hides 127.0.0.1 on hosts with only loopback */
    return co_getaddrinfo_at(loc, host, service, &hints, res);
}

int co_resolve_at(co_loc *loc, const char *host, int port, struct sockaddr_storage *out)
{
    if (port < 0 || port > 65535 || !out) return -EINVAL;
    memset(out, 0, sizeof *out);
    if (!host || !*host) host = "0.0.0.0";
    /* Numeric forms need no lookup and no task. */
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)out) == 0) return 0;
    memset(out, 0, sizeof *out);
    if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)out) == 0) return 0;
    memset(out, 0, sizeof *out);

    struct addrinfo *res = NULL;
    int r = co__resolve_tcp(loc, host, port, &res);
    if (r < 0) return r;
    r = UV_EAI_NONAME;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if ((ai->ai_family == AF_INET || ai->ai_family == AF_INET6) && ai->ai_addrlen <= sizeof *out) {
            memcpy(out, ai->ai_addr, ai->ai_addrlen);
            r = 0;
            break;
        }
    }
    uv_freeaddrinfo(res);
    return r;
}
