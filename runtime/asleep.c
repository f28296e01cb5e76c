/* SPDX-License-Identifier: MIT */
/* asleep.c -- "all tasks are asleep", one story per stuck group, from the
 * live tasks.
 *
 * Each waiting task is described as story.h wants it -- what it waits in,
 * on what, who holds the lock or last took the unit, which tasks it
 * awaits -- and story.c groups and words them, as it does the trace's
 * all_asleep rows (tracer/asleep.c), so that the program's stderr and its
 * trace tell a hang in the same words:
 *
 *   coscope: 'main' (#1) awaits 'consumer 1'..'consumer 4' (#2..#5), each
 *   waiting for an item from queue 'jobs' (#2) that nobody will put
 *
 * then each of the group's tasks with its stack (dump.c).  What only the
 * trace knows (who put last, where a unit was taken and never given back)
 * is told there alone.
 */
#include "internal.h"
#include "endpoint.h"
#include "story.h"

static co__task *at(co__loop *l, uint32_t s) { return &l->chunks[s / CO__CHUNK][s % CO__CHUNK]; }
static bool asleep(const co__task *t) { return (t->gen & 1) && t->state == CO_TASK_WAITING; }

/* The tasks a gather, wait or group waits for: those that still run. */
static uint32_t awaited_by(co__loop *l, co__task *x, uint64_t *ids, const char **names, uint32_t cap)
{
    uint32_t n = 0;
    if (x->wait_kind == CO_WAIT_GROUP) {
        for (co__task *c = x->wait_obj ? ((co_group_t *)x->wait_obj)->children : NULL; c && n < cap; c = c->group_next)
            if (!co__task_ended(c)) {
                ids[n] = c->id;
                names[n++] = c->name;
            }
        return n;
    }
    for (uint32_t s = 0; s < l->nslots && n < cap; s++) { /* CO_WAIT_TASKS: who has x's watcher */
        co__task *y = at(l, s);
        if (!(y->gen & 1) || co__task_ended(y)) continue;
        for (co__watch *w = y->watchers; w; w = w->next)
            if (w->waiter == x) {
                ids[n] = y->id;
                names[n++] = y->name;
                break;
            }
    }
    return n;
}

static co__story_ref ref_of(const co__task *t)
{
    co__story_ref r = { 0 };
    if (t) {
        r.id = t->id;
        r.name = t->name;
        r.fate = co__task_ended(t) ? CO__FATE_ENDED : CO__FATE_ALIVE;
    }
    return r;
}

#define AWAITS_MAX 16 /* tasks named per gather: story.c names at most 8 and counts the rest */
#define CONN_CAP 512  /* the words of a connection within the process */

/* Describe the waiting task x for the story. */
static void describe(co__loop *l, co__task *x, co__story_task *d, uint64_t *ids, const char **names, char *conn)
{
    memset(d, 0, sizeof *d);
    d->id = x->id;
    d->name = x->name;
    d->kind = x->wait_kind;
    d->main = x == l->main;
    d->res = x->wait_obj_id;
    switch (x->wait_kind) {
    case CO_WAIT_TASK: {
        co__task *y = x->wait_obj;
        d->res = y ? y->id : 0;
        d->res_name = y ? y->name : NULL;
        break;
    }
    case CO_WAIT_TASKS:
    case CO_WAIT_GROUP:
        d->res = 0;
        d->awaits = ids;
        d->await_names = names;
        d->nawaits = awaited_by(l, x, ids, names, AWAITS_MAX);
        break;
    case CO_WAIT_LOCK:
        d->res_name = ((co_lock_t *)x->wait_obj)->name;
        d->other = ref_of(co__lock_owner((co_lock_t *)x->wait_obj));
        break;
    case CO_WAIT_SEM: {
        co_sem_t *s = x->wait_obj;
        d->res_name = s->name;
        d->other = ref_of(co__sem_last_taker(s));
        if (!d->other.id && s->last_taker_id) /* it took the unit and is gone */
            d->other = (co__story_ref){ s->last_taker_id, NULL, CO__FATE_ENDED };
        break;
    }
    case CO_WAIT_EVENT: d->res_name = ((co_event_t *)x->wait_obj)->name; break;
    case CO_WAIT_COND: d->res_name = ((co_cond_t *)x->wait_obj)->name; break;
    case CO_WAIT_QUEUE_GET:
    case CO_WAIT_QUEUE_PUT:
    case CO_WAIT_QUEUE_JOIN: d->res_name = ((co_queue_t *)x->wait_obj)->name; break;
    case CO_WAIT_TCP_READ: {
        char ends[256];
        uint64_t peer = 0;
        if (co__ep_describe(x, ends, sizeof ends, &peer)) {
            snprintf(conn, CONN_CAP, ": connection %s (#%llu), whose other end (#%llu) is this process's own, so only a "
                     "task of this process could write to it", ends, (unsigned long long)x->wait_obj_id,
                     (unsigned long long)peer);
            d->conn = conn;
            d->other = ref_of(co__ep_peer_user(x));
        }
        break;
    }
    default: break;
    }
}

void co__wait_what(co__task *x, char *out, size_t cap)
{
    co__story_task d;
    uint64_t ids[AWAITS_MAX];
    const char *names[AWAITS_MAX];
    char conn[CONN_CAP];
    describe(x->loop, x, &d, ids, names, conn);
    co__story_wait_what(d.kind, d.res, d.res_name, &d.other, out, cap);
}

typedef struct {
    co__loop *l;
    FILE *out;
    void (*each)(FILE *out, co__task *t, void *arg);
    void *arg;
    co__task **task;
} teller;

static void told(void *ctx, size_t root, const char *text, const size_t *order, size_t m)
{
    (void)root;
    teller *tl = ctx;
    fprintf(tl->out, "coscope: %s\n", text);
    for (size_t i = 0; i < m; i++) tl->each(tl->out, tl->task[order[i]], tl->arg);
}

size_t co__asleep_groups(co__loop *l, FILE *out, void (*each)(FILE *out, co__task *t, void *arg), void *arg)
{
    size_t n = 0;
    for (uint32_t s = 0; s < l->nslots; s++) n += asleep(at(l, s));
    if (!n) return 0;
    co__story_task *d = malloc(n * sizeof *d);
    co__task **task = malloc(n * sizeof *task);
    uint64_t *ids = malloc(n * AWAITS_MAX * sizeof *ids);
    const char **names = malloc(n * AWAITS_MAX * sizeof *names);
    char *conn = malloc(n * CONN_CAP);
    int groups = 0;
    if (d && task && ids && names && conn) {
        size_t i = 0;
        for (uint32_t s = 0; s < l->nslots && i < n; s++) {
            co__task *x = at(l, s);
            if (!asleep(x)) continue;
            task[i] = x;
            describe(l, x, &d[i], ids + i * AWAITS_MAX, names + i * AWAITS_MAX, conn + i * CONN_CAP);
            i++;
        }
        teller tl = { l, out, each, arg, task };
        groups = co__story_tell(d, n, told, &tl);
    }
    free(d);
    free(task);
    free(ids);
    free(names);
    free(conn);
    return groups > 0 ? (size_t)groups : 0;
}
