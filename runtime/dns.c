/* SPDX-License-Identifier: MIT */
/* dns.c -- name resolution as an await: co_getaddrinfo runs getaddrinfo(3)
 * on libuv's thread pool (the runtime's recorded pool path, pool.h) while the task waits as
 * CO_WAIT_DNS, and co_resolve picks one TCP address, parsing numeric hosts
 * without a lookup.
 *
 * A lookup already running on a pool thread cannot be stopped.  So the
 * request lives on the heap, not in the task's frame: a cancelled task
 * detaches from it (waiter = NULL) and returns at once, and the callback
 * frees the request and whatever it resolved.
 */
#include "pool.h"
#include <errno.h>
#include <netdb.h>
#include <stdio.h>

/* One lookup in flight, run by getaddrinfo(3) on a pool thread through the
 * runtime's recorded pool path (pool.h), so it shows in the trace as dns
 * work queued, started and done.  waiter is the task suspended on it, NULL
 * once that task stopped waiting (then the request owns everything and
 * frees it when done); out points into the waiter's frame and is valid
 * only while waiter != NULL.  host and service are copies: a cancelled
 * caller's strings may be gone before a pool thread gets to them. */
typedef struct dns_req {
    co__pool_req pool;        /* first */
    co__task *waiter;
    struct addrinfo **out;
    char *host, *service;
    struct addrinfo hints;
    struct addrinfo *res;     /* written on the pool thread */
    int status;               /* 0 or a UV_EAI_* (negative errno for EAI_SYSTEM) */
} dns_req;

/* getaddrinfo's EAI_* as libuv's UV_EAI_*, as uv_getaddrinfo reports them. */
static int uv_eai(int e)
{
    switch (e) {
    case 0: return 0;
#ifdef EAI_ADDRFAMILY
    case EAI_ADDRFAMILY: return UV_EAI_ADDRFAMILY;
#endif
    case EAI_AGAIN: return UV_EAI_AGAIN;
    case EAI_BADFLAGS: return UV_EAI_BADFLAGS;
    case EAI_FAIL: return UV_EAI_FAIL;
    case EAI_FAMILY: return UV_EAI_FAMILY;
    case EAI_MEMORY: return UV_EAI_MEMORY;
#ifdef EAI_NODATA
    case EAI_NODATA: return UV_EAI_NODATA;
#endif
    case EAI_NONAME: return UV_EAI_NONAME;
    case EAI_SERVICE: return UV_EAI_SERVICE;
    case EAI_SOCKTYPE: return UV_EAI_SOCKTYPE;
#ifdef EAI_OVERFLOW
    case EAI_OVERFLOW: return UV_EAI_OVERFLOW;
#endif
    case EAI_SYSTEM: return errno ? -errno : UV_EAI_FAIL;
    default: return UV_EAI_FAIL;
    }
}

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

static void dns_free(dns_req *r)
{
    if (r->res) freeaddrinfo(r->res);
    free(r->host);
    free(r->service);
    free(r);
}

static void dns_cancel(co__task *t)
{
    dns_req *r = t->wake_value;
    r->waiter = NULL;
    /* Succeeds only if no pool thread picked it up yet; either way done
     * runs once and frees the request. */
    co__pool_cancel(&r->pool);
}

static void dns_run(co__pool_req *p)
{
    dns_req *r = (dns_req *)p;
    errno = 0;
    r->status = uv_eai(getaddrinfo(r->host, r->service, &r->hints, &r->res));
}

static void dns_done(co__pool_req *p, int status)
{
    dns_req *r = (dns_req *)p;
    if (status == UV_ECANCELED) r->status = UV_EAI_CANCELED;
    co__task *t = r->waiter;
    if (t) {
        *r->out = r->status == 0 ? r->res : NULL;
        if (r->status == 0) r->res = NULL; /* the caller's now */
        t->wait_cancel = NULL; /* completed: nothing to detach */
        co__wake(t, r->status == 0 ? 0 : map_eai(r->status));
    }
    dns_free(r);
}

int co_getaddrinfo_at(co_loc *loc, const char *host, const char *service,
                      const struct addrinfo *hints, struct addrinfo **res)
{
    co__task *self = co__self();
    if (CO_UNLIKELY(!self)) return -EPERM;
    if (!res) return -EINVAL;
    *res = NULL;
    if (!host && !service) return map_eai(UV_EINVAL);
    dns_req *r = calloc(1, sizeof *r);
    if (!r) return -ENOMEM;
    r->pool.run = dns_run;
    r->pool.done = dns_done;
    r->waiter = self;
    r->out = res;
    if (hints) {
        r->hints.ai_flags = hints->ai_flags;
        r->hints.ai_family = hints->ai_family;
        r->hints.ai_socktype = hints->ai_socktype;
        r->hints.ai_protocol = hints->ai_protocol;
    } else {
        r->hints.ai_family = AF_UNSPEC;
        r->hints.ai_socktype = SOCK_STREAM;
    }
    if ((host && !(r->host = strdup(host))) || (service && !(r->service = strdup(service)))) {
        dns_free(r);
        return -ENOMEM;
    }
    int e = co__pool_submit(self->loop->uv, &r->pool, loc, TR_WORK_DNS, self->id);
    if (e < 0) {
        dns_free(r);
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
