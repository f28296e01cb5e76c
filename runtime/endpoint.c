/* SPDX-License-Identifier: MIT */
/* endpoint.c -- sockets as endpoints with addresses, paired within a loop.
 *
 * A client and a server in one program talk over a connection whose two
 * ends are both this process's: A's peer address is B's local address and
 * the other way round.  Then a task reading A can only be woken by a task
 * of this process writing to (or closing) B.  When every task is asleep --
 * the readers on such connections, the rest on locks, events, queues, other
 * tasks -- nothing can ever wake any of them, yet the loop never returns:
 * the reading sockets keep it alive.  asyncio hangs there, and so did we
 * (`coscope run` until killed).
 *
 * So every connection records its addresses when it is connected or
 * accepted (TR_ENDPOINT: the trace pairs them the same way, a first step
 * toward seeing several processes in one view), and is linked to the
 * connection of this thread's loop at its other end.  While a pair exists,
 * an unref'd timer looks every CHECK_MS at whether the loop is stuck so:
 * no task ready, every task waiting on something only a task can end (or
 * a read on a paired connection with nothing arrived), no request in
 * flight, no handle alive but our sockets, no deadline.  Twice in a row,
 * and the loop is stopped: co_loop_run_at then reports "all tasks are
 * asleep" as for a loop that ran out of handles, and co_run returns
 * -EDEADLK.  Loop thread only; one loop per thread, so the state is the
 * thread's.
 */
#include "tcp.h"
#include "endpoint.h"
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <sys/un.h>

#define CHECK_MS 250 /* two looks: a loop stuck this way is reported within half a second */

static __thread struct {
    co_tcp_t *list;     /* every socket of this thread not yet closing */
    uv_timer_t timer;
    uv_loop_t *uv;      /* the loop the timer was made on; NULL: none */
    size_t paired;      /* connections with a pair */
    int strikes;        /* consecutive looks that found the loop stuck */
} ep;

void co__ep_add(co_tcp_t *c)
{
    c->ep_prev = NULL;
    c->ep_next = ep.list;
    if (ep.list) ep.list->ep_prev = c;
    ep.list = c;
}

static void check_stop(void)
{
    if (ep.paired == 0 && ep.uv && !uv_is_closing((uv_handle_t *)&ep.timer)) uv_timer_stop(&ep.timer);
}

void co__ep_remove(co_tcp_t *c)
{
    if (c->ep_prev) c->ep_prev->ep_next = c->ep_next;
    else if (ep.list == c) ep.list = c->ep_next;
    if (c->ep_next) c->ep_next->ep_prev = c->ep_prev;
    c->ep_next = c->ep_prev = NULL;
    if (c->pair) {
        c->pair->pair = NULL;
        c->pair = NULL;
        ep.paired -= ep.paired >= 2 ? 2 : ep.paired;
        check_stop();
    }
}

/* "127.0.0.1:5555", "[::1]:5555", "unix:/run/x.sock". */
static void addr_text(const struct sockaddr_storage *ss, char *out, size_t cap)
{
    char host[INET6_ADDRSTRLEN] = "?";
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        snprintf(out, cap, "%s:%u", host, ntohs(a->sin_port));
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
        snprintf(out, cap, "[%s]:%u", host, ntohs(a->sin6_port));
    } else if (ss->ss_family == AF_UNIX) {
        const struct sockaddr_un *a = (const struct sockaddr_un *)ss;
        snprintf(out, cap, "unix:%s", a->sun_path[0] ? a->sun_path : "(unnamed)");
    } else {
        snprintf(out, cap, "?");
    }
}

static int same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family) return 0;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    if (a->ss_family == AF_INET6) {
        const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
        return x->sin6_port == y->sin6_port && !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr);
    }
    if (a->ss_family == AF_UNIX) { /* the listening path names both ends' connection */
        const struct sockaddr_un *x = (const void *)a, *y = (const void *)b;
        return !strncmp(x->sun_path, y->sun_path, sizeof x->sun_path);
    }
    return 0;
}

static void on_check(uv_timer_t *h);

void co__ep_connected(co_tcp_t *c, co_loc *loc, co__task *by)
{
    int n = sizeof c->laddr;
    if (uv_tcp_getsockname(&c->h, (struct sockaddr *)&c->laddr, &n) < 0) return;
    n = sizeof c->paddr;
    if (uv_tcp_getpeername(&c->h, (struct sockaddr *)&c->paddr, &n) < 0) return;
    c->has_addr = 1;
    if (by) c->last_user = co__handle(by);
    if (CO_UNLIKELY(co__tracing)) {
        char l[128], p[128];
        addr_text(&c->laddr, l, sizeof l);
        addr_text(&c->paddr, p, sizeof p);
        uint64_t lid = co__tr_intern(l, strlen(l)), pid = co__tr_intern(p, strlen(p));
        co__tr_emit(TR_ENDPOINT, loc, by ? by->id : 0, c->id, (lid & 0xffffffffu) | pid << 32);
    }
    /* Its other end, if this loop has it. */
    for (co_tcp_t *o = ep.list; o; o = o->ep_next) {
        if (o == c || !o->has_addr || o->pair || o->closing || o->h.loop != c->h.loop) continue;
        if (!same_addr(&o->laddr, &c->paddr) || !same_addr(&o->paddr, &c->laddr)) continue;
        o->pair = c;
        c->pair = o;
        ep.paired += 2;
        if (ep.uv != c->h.loop || uv_is_closing((uv_handle_t *)&ep.timer)) {
            if (uv_timer_init(c->h.loop, &ep.timer) < 0) {
                ep.uv = NULL;
                return;
            }
            ep.uv = c->h.loop;
            uv_unref((uv_handle_t *)&ep.timer); /* it looks; it keeps nothing alive */
        }
        if (!uv_is_active((uv_handle_t *)&ep.timer)) {
            ep.strikes = 0;
            uv_timer_start(&ep.timer, on_check, CHECK_MS, CHECK_MS);
        }
        return;
    }
}

co__task *co__ep_peer_user(co__task *x)
{
    if (x->state != CO_TASK_WAITING || x->wait_kind != CO_WAIT_TCP_READ || !x->wait_obj) return NULL;
    co_tcp_t *c = x->wait_obj;
    if (!co__tcp_valid(c) || !c->pair) return NULL;
    co__task *u = co__task_lookup(x->loop, c->pair->last_user);
    return u && u != x && !co__task_ended(u) ? u : NULL;
}

int co__ep_describe(co__task *x, char *out, size_t cap, uint64_t *peer_id)
{
    if (x->state != CO_TASK_WAITING || x->wait_kind != CO_WAIT_TCP_READ || !x->wait_obj) return 0;
    co_tcp_t *c = x->wait_obj;
    if (!co__tcp_valid(c) || !c->pair) return 0;
    char l[128], p[128];
    addr_text(&c->laddr, l, sizeof l);
    addr_text(&c->paddr, p, sizeof p);
    snprintf(out, cap, "%s -> %s", l, p);
    if (peer_id) *peer_id = c->pair->id;
    return 1;
}

/* ------------------------------------------------------------------------ */
/* Is the loop stuck?                                                         */

/* Bytes or an end of stream the loop has not read yet: a reader will wake. */
static int readable(co_tcp_t *c)
{
    uv_os_fd_t fd;
    if (uv_fileno((uv_handle_t *)&c->h, &fd) < 0) return 1;
    struct pollfd p = { .fd = fd, .events = POLLIN };
    return poll(&p, 1, 0) != 0;
}

static void count_handle(uv_handle_t *h, void *arg)
{
    if (uv_is_active(h) && uv_has_ref(h) && !uv_is_closing(h)) ++*(size_t *)arg;
}

static bool stuck(co__loop *l)
{
    if (l->current) return false; /* a ready task is not WAITING: the scan below sees it */
    if (l->uv->active_reqs.count) return false; /* a write, connect, lookup, file or pool job in flight */
    size_t reads = 0;
    for (uint32_t s = 0; s < l->nslots; s++) {
        co__task *t = &l->chunks[s / CO__CHUNK][s % CO__CHUNK];
        if (!(t->gen & 1) || co__task_ended(t)) continue;
        if (t->state != CO_TASK_WAITING || t->deadline != CO__NODEADLINE) return false;
        switch (t->wait_kind) {
        case CO_WAIT_TASK: case CO_WAIT_TASKS: case CO_WAIT_GROUP: case CO_WAIT_FUTURE: case CO_WAIT_LOCK:
        case CO_WAIT_EVENT: case CO_WAIT_SEM: case CO_WAIT_COND: case CO_WAIT_QUEUE_GET: case CO_WAIT_QUEUE_PUT:
        case CO_WAIT_QUEUE_JOIN: case CO_WAIT_GEN:
            break; /* only a task can end these */
        case CO_WAIT_TCP_READ: {
            co_tcp_t *c = t->wait_obj;
            if (!c || !co__tcp_valid(c) || !c->pair || c->closing || c->pair->closing || c->rlen || c->rerr ||
                readable(c))
                return false;
            reads++;
            break;
        }
        default:
            return false; /* a timer, the pool, another process, another thread, the network */
        }
    }
    if (!reads) return false; /* not this case: uv_run returns by itself */
    size_t all = 0, ours = 0;
    uv_walk(l->uv, count_handle, &all);
    for (co_tcp_t *c = ep.list; c; c = c->ep_next)
        if (c->h.loop == l->uv) count_handle((uv_handle_t *)&c->h, &ours);
    return all == ours; /* nothing alive but our sockets: no callback of anyone else's can run */
}

static void on_check(uv_timer_t *h)
{
    co__loop *l = co__tl_loop;
    if (!l || !l->running || !l->main || l->uv != h->loop || l->closing) return;
    if (!stuck(l)) {
        ep.strikes = 0;
        return;
    }
    if (++ep.strikes < 2) return;
    ep.strikes = 0;
    /* co_loop_run_at finds main not done and nothing ready: all asleep. */
    uv_stop(l->uv);
}
