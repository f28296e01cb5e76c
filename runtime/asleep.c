/* asleep.c -- "all tasks are asleep", one story per stuck group.
 *
 * Listing every waiting task told the same thing once per task (a producer
 * that forgot 4 consumers' sentinels: 5 entries, then 5 more "still
 * pending" at the loop's close) and never how they hang together.  The
 * waiting tasks are split into groups stuck together (a task with the tasks
 * it awaits, a lock's holder, a semaphore's last taker; tasks with the
 * object they wait on), and each group is told from its root -- the task
 * nobody in the group awaits -- down, tasks that wait alike told once:
 *
 *   coscope: 'main' (#1) awaits 'consumer 1'..'consumer 4' (#2..#5), each
 *   waiting for an item from queue 'jobs' #2 that nobody will put
 *
 * then each of its tasks with its stack (dump.c).  The trace's all_asleep
 * rows tell the same groups (tracer/asleep.c, from the TR_WARN events). */
#include "internal.h"
#include "endpoint.h"

#define NAMES_MAX 8

typedef struct {
    co__loop *l;
    uint32_t *up;        /* by slot: union-find parent slot */
    uint8_t *awaited;    /* by slot: another waiting task waits for it */
    uint8_t *told;
    co__task **set;      /* scratch: a class of tasks that wait alike */
} groups;

static co__task *at(co__loop *l, uint32_t s) { return &l->chunks[s / CO__CHUNK][s % CO__CHUNK]; }
static bool asleep(const co__task *t) { return (t->gen & 1) && t->state == CO_TASK_WAITING; }

static uint32_t find(uint32_t *up, uint32_t i)
{
    while (up[i] != i) i = up[i] = up[up[i]];
    return i;
}

static void unite(uint32_t *up, uint32_t a, uint32_t b)
{
    a = find(up, a);
    b = find(up, b);
    if (a != b) up[a > b ? a : b] = a < b ? a : b;
}

/* Call fn(g, x, y) for each task y the waiting task x waits for. */
static void each_target(groups *g, co__task *x, void (*fn)(groups *, co__task *, co__task *))
{
    co__loop *l = g->l;
    switch (x->wait_kind) {
    case CO_WAIT_TASKS:
        for (uint32_t s = 0; s < l->nslots; s++) {
            co__task *y = at(l, s);
            if (!(y->gen & 1) || co__task_ended(y)) continue;
            for (co__watch *w = y->watchers; w; w = w->next)
                if (w->waiter == x) {
                    fn(g, x, y);
                    break;
                }
        }
        break;
    case CO_WAIT_GROUP:
        for (co__task *c = x->wait_obj ? ((co_group_t *)x->wait_obj)->children : NULL; c; c = c->group_next)
            if (!co__task_ended(c)) fn(g, x, c);
        break;
    case CO_WAIT_SEM: {
        co__task *y = co__sem_last_taker((co_sem_t *)x->wait_obj);
        if (y) fn(g, x, y);
        break;
    }
    case CO_WAIT_TCP_READ: { /* the other end is ours: its user could write */
        co__task *y = co__ep_peer_user(x);
        if (y) fn(g, x, y);
        break;
    }
    default: {
        co__task *y = co__waits_for(x);
        if (y) fn(g, x, y);
        break;
    }
    }
}

static void link_target(groups *g, co__task *x, co__task *y)
{
    if (!asleep(y)) return;
    unite(g->up, x->slot, y->slot);
    if (y != x) g->awaited[y->slot] = 1;
}

static bool on_object(const co__task *t)
{
    return t->wait_obj && t->wait_kind != CO_WAIT_TASK && t->wait_kind != CO_WAIT_TASKS &&
           t->wait_kind != CO_WAIT_GROUP && t->wait_kind != CO_WAIT_SLEEP;
}

static bool same_wait(const co__task *a, const co__task *b)
{
    return a->wait_kind == b->wait_kind && a->wait_obj == b->wait_obj && on_object(a) && a->wait_kind != CO_WAIT_LOCK;
}

static const char *shown(const char *name) { return name && name[0] == '&' ? name + 1 : name ? name : "?"; }

static int by_id(const void *a, const void *b)
{
    uint64_t x = (*(co__task *const *)a)->id, y = (*(co__task *const *)b)->id;
    return x < y ? -1 : x > y;
}

/* 'a' (#2), 'a'..'d' (#2..#5), or 'a' (#2), 'b' (#4) and 'c' (#7). */
static void put_names(FILE *out, co__task **t, size_t n)
{
    qsort(t, n, sizeof *t, by_id);
    if (n >= 3 && t[n - 1]->id - t[0]->id == n - 1) {
        fprintf(out, "'%s'..'%s' (#%llu..#%llu)", t[0]->name, t[n - 1]->name, (unsigned long long)t[0]->id,
                (unsigned long long)t[n - 1]->id);
        return;
    }
    for (size_t i = 0; i < n && i < NAMES_MAX; i++)
        fprintf(out, "%s'%s' (#%llu)", i == 0 ? "" : i + 1 == n ? " and " : ", ", t[i]->name, (unsigned long long)t[i]->id);
    if (n > NAMES_MAX) fprintf(out, " and %zu more", n - NAMES_MAX);
}

static size_t collect_n; /* collect's count: reports run on the loop thread, one at a time */
static void collect(groups *g, co__task *x, co__task *y)
{
    (void)x;
    if (asleep(y) && collect_n < g->l->nslots) g->set[collect_n++] = y;
}

/* What x waits for, after its subject, and why nothing will come. */
static void put_wait(groups *g, FILE *out, co__task *x, bool ing)
{
    const char *name = NULL;
    switch (x->wait_kind) {
    case CO_WAIT_TASK:
    case CO_WAIT_TASKS:
    case CO_WAIT_GROUP: {
        fprintf(out, "%s ", ing ? "awaiting" : "awaits");
        collect_n = 0;
        each_target(g, x, collect);
        if (collect_n) put_names(out, g->set, collect_n);
        else fprintf(out, "tasks");
        return;
    }
    case CO_WAIT_LOCK: name = ((co_lock_t *)x->wait_obj)->name; break;
    case CO_WAIT_SEM: name = ((co_sem_t *)x->wait_obj)->name; break;
    case CO_WAIT_EVENT: name = ((co_event_t *)x->wait_obj)->name; break;
    case CO_WAIT_COND: name = ((co_cond_t *)x->wait_obj)->name; break;
    case CO_WAIT_QUEUE_GET:
    case CO_WAIT_QUEUE_PUT:
    case CO_WAIT_QUEUE_JOIN: name = ((co_queue_t *)x->wait_obj)->name; break;
    default: break;
    }
    fprintf(out, "%s ", ing ? "waiting for" : "waits for");
    unsigned long long id = (unsigned long long)x->wait_obj_id;
    switch (x->wait_kind) {
    case CO_WAIT_LOCK: {
        co__task *o = co__lock_owner((co_lock_t *)x->wait_obj);
        fprintf(out, "lock '%s' (#%llu)", shown(name), id);
        if (o) fprintf(out, " held by '%s' (#%llu)", o->name, (unsigned long long)o->id);
        break;
    }
    case CO_WAIT_SEM: {
        co_sem_t *s = x->wait_obj;
        co__task *o = co__sem_last_taker(s);
        fprintf(out, "semaphore '%s' (#%llu)", shown(name), id);
        if (o)
            fprintf(out, " last taken by '%s' (#%llu)%s", o->name, (unsigned long long)o->id,
                    co__task_ended(o) ? ", since ended" : "");
        else if (s->last_taker_id) fprintf(out, " last taken by task #%llu, since ended", (unsigned long long)s->last_taker_id);
        break;
    }
    case CO_WAIT_EVENT: fprintf(out, "event '%s' (#%llu) to be set, and nothing left will set it", shown(name), id); break;
    case CO_WAIT_COND: fprintf(out, "condition '%s' (#%llu) to be notified, and nothing left will notify it", shown(name), id); break;
    case CO_WAIT_QUEUE_GET: fprintf(out, "an item from queue '%s' (#%llu) that nobody will put", shown(name), id); break;
    case CO_WAIT_QUEUE_PUT: fprintf(out, "room in queue '%s' (#%llu) that nobody will make", shown(name), id); break;
    case CO_WAIT_QUEUE_JOIN:
        fprintf(out, "queue '%s' (#%llu) to be drained, and nothing left will take its items", shown(name), id);
        break;
    case CO_WAIT_TCP_READ: {
        char conn[300];
        uint64_t peer = 0;
        if (co__ep_describe(x, conn, sizeof conn, &peer)) {
            co__task *o = co__ep_peer_user(x);
            fprintf(out, "a read on connection %s (#%llu), whose other end (#%llu) is this process's own", conn, id,
                    (unsigned long long)peer);
            if (o) fprintf(out, ": only '%s' (#%llu) could write to it", o->name, (unsigned long long)o->id);
            else fprintf(out, ", and no task left will write to it");
            break;
        }
    }
        /* fall through */
    default:
        fprintf(out, "%s", co_wait_kind_name(x->wait_kind));
        if (id) fprintf(out, " (#%llu)", id);
        fprintf(out, ", and nothing left can wake it");
        break;
    }
}

/* Tell the tasks of root's group, class by class (tasks that wait alike
 * together), breadth first from root: each task once. */
static void tell(groups *g, FILE *out, co__task *root, co__task **queue)
{
    co__loop *l = g->l;
    uint32_t gid = find(g->up, root->slot);
    size_t head = 0, tail = 0, named_from = 0, named_to = 0;
    queue[tail++] = root;
    g->told[root->slot] = 1;
    bool first = true;
    for (;;) {
        if (head == tail) { /* the rest of the group shares an object with it: go on from there */
            for (uint32_t s = 0; s < l->nslots && head == tail; s++)
                if (asleep(at(l, s)) && !g->told[s] && find(g->up, s) == gid) {
                    queue[tail++] = at(l, s);
                    g->told[s] = 1;
                }
            if (head == tail) break;
        }
        co__task *x = queue[head];
        /* x's class: the queued tasks after it that wait alike. */
        size_t m = 0;
        for (size_t i = head; i < tail; i++)
            if (i == head || same_wait(x, queue[i])) {
                co__task *y = queue[i];
                queue[i] = queue[head + m];
                queue[head + m] = y;
                g->set[m++] = y;
            }
        /* Exactly the tasks the last clause named: not named again. */
        bool just_named = head == named_from && head + m == named_to;
        head += m;
        if (just_named) {
            fprintf(out, m > 1 ? ", each " : ", which ");
        } else {
            fprintf(out, first ? "coscope: " : "; ");
            put_names(out, g->set, m);
            fprintf(out, m > 1 ? ", each " : " ");
        }
        put_wait(g, out, x, m > 1);
        first = false;
        named_from = tail;
        for (size_t i = head - m; i < head; i++) {
            collect_n = 0;
            each_target(g, queue[i], collect);
            for (size_t k = 0; k < collect_n; k++) {
                co__task *y = g->set[k];
                if (g->told[y->slot] || find(g->up, y->slot) != gid) continue;
                g->told[y->slot] = 1;
                queue[tail++] = y;
            }
        }
        named_to = x->wait_kind == CO_WAIT_TASK || x->wait_kind == CO_WAIT_TASKS || x->wait_kind == CO_WAIT_GROUP ||
                   x->wait_kind == CO_WAIT_LOCK ? tail : named_from; /* their names were in the clause */
    }
    fprintf(out, "\n");
}

size_t co__asleep_groups(co__loop *l, FILE *out, void (*each)(FILE *out, co__task *t, void *arg), void *arg)
{
    size_t n = l->nslots ? l->nslots : 1, groups_told = 0;
    groups g = { .l = l };
    g.up = calloc(n, sizeof *g.up);
    g.awaited = calloc(n, 1);
    g.told = calloc(n, 1);
    g.set = calloc(n, sizeof *g.set);
    co__task **queue = calloc(n, sizeof *queue);
    struct { void *obj; uint32_t slot; } *objs = calloc(n, sizeof *objs);
    if (!g.up || !g.awaited || !g.told || !g.set || !queue || !objs) goto out;
    for (uint32_t s = 0; s < l->nslots; s++) g.up[s] = s;
    for (uint32_t s = 0; s < l->nslots; s++) {
        co__task *x = at(l, s);
        if (!asleep(x)) continue;
        each_target(&g, x, link_target);
        if (!on_object(x)) continue;
        /* Tasks waiting on one object are stuck together. */
        uint32_t k = 0;
        while (k < n && objs[k].obj && objs[k].obj != x->wait_obj) k++; /* few objects: a list is enough */
        if (k == n) continue;
        if (objs[k].obj) unite(g.up, s, objs[k].slot);
        else objs[k].obj = x->wait_obj, objs[k].slot = s;
    }
    /* Root: main if it is in the group, else the first task nobody awaits. */
    for (int pass = 0; pass < 3; pass++)
        for (uint32_t s = 0; s < l->nslots; s++) {
            co__task *x = at(l, s);
            if (!asleep(x) || g.told[find(g.up, s)] == 2) continue;
            if (pass == 0 ? x != l->main : pass == 1 ? g.awaited[s] : 0) continue;
            uint32_t gid = find(g.up, s);
            if (g.told[gid] == 2) continue;
            tell(&g, out, x, queue);
            g.told[gid] = 2; /* the group's head slot marks it done (its told flag is set anyway) */
            groups_told++;
            for (uint32_t k = 0; k < l->nslots; k++)
                if (asleep(at(l, k)) && find(g.up, k) == gid) each(out, at(l, k), arg);
        }
out:
    free(g.up);
    free(g.awaited);
    free(g.told);
    free(g.set);
    free(queue);
    free(objs);
    return groups_told;
}
