/* SPDX-License-Identifier: MIT */
/* story.c -- the one wording of what stuck tasks wait for (story.h): the
 * groups they form, and each group told as one sentence from its root
 * down, tasks that wait alike told once ("each waiting for ...").
 *
 * Groups: union-find over the tasks, joining a task with each task it
 * waits for (the awaited ones, a lock's holder, a semaphore's last taker,
 * the user of a connection's other end) when that one is stuck too, and
 * tasks waiting on one object.  Ids are looked up in a sorted index, and
 * the tasks sharing an object found by sorting, so 100k stuck tasks cost
 * n log n, not n squared.
 */
#define _GNU_SOURCE
#include "story.h"
#include "coscope.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAMES_MAX 8 /* tasks named in one list; the rest are counted */
#define TARGETS_MAX 16

void co__story_put(co__story_text *s, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = s->p ? vsnprintf(s->p + s->n, s->cap - s->n, fmt, ap) : -1;
        va_end(ap);
        if (k >= 0 && s->n + (size_t)k < s->cap) {
            s->n += (size_t)k;
            return;
        }
        size_t cap = s->cap ? s->cap * 2 : 1024;
        while (k >= 0 && cap < s->n + (size_t)k + 1) cap *= 2;
        char *p = realloc(s->p, cap);
        if (!p) return; /* the text stops short; what is there stays valid */
        if (!s->p) p[0] = 0;
        s->p = p;
        s->cap = cap;
    }
}

static const char *shown(const char *name) { return name ? (name[0] == '&' ? name + 1 : name) : "?"; }

void co__story_wait_label(int kind, uint64_t res, const char *name, char *out, size_t cap)
{
    unsigned long long id = (unsigned long long)res;
    const char *n = shown(name);
    switch (kind) {
    case CO_WAIT_TASK: snprintf(out, cap, "task '%s' (#%llu)", n, id); break;
    case CO_WAIT_LOCK: snprintf(out, cap, "lock '%s' (#%llu)", n, id); break;
    case CO_WAIT_SEM: snprintf(out, cap, "semaphore '%s' (#%llu)", n, id); break;
    case CO_WAIT_EVENT: snprintf(out, cap, "event '%s' (#%llu) to be set", n, id); break;
    case CO_WAIT_COND: snprintf(out, cap, "condition '%s' (#%llu) to be notified", n, id); break;
    case CO_WAIT_FUTURE: snprintf(out, cap, "future '%s' (#%llu)", n, id); break;
    case CO_WAIT_QUEUE_GET: snprintf(out, cap, "an item from queue '%s' (#%llu)", n, id); break;
    case CO_WAIT_QUEUE_PUT: snprintf(out, cap, "room in queue '%s' (#%llu)", n, id); break;
    case CO_WAIT_QUEUE_JOIN: snprintf(out, cap, "queue '%s' (#%llu) to be drained", n, id); break;
    case CO_WAIT_SLEEP: snprintf(out, cap, "a timer (sleep)"); break;
    case CO_WAIT_NONE: snprintf(out, cap, "nothing (it was ready to run)"); break;
    case CO_WAIT_TASKS: snprintf(out, cap, "tasks (gather/wait)"); break;
    case CO_WAIT_GROUP: snprintf(out, cap, "the tasks of a task group"); break;
    default:
        if (res) snprintf(out, cap, "%s #%llu", co_wait_kind_name(kind), id);
        else snprintf(out, cap, "%s", co_wait_kind_name(kind));
        break;
    }
}

void co__story_wait_what(int kind, uint64_t res, const char *name, const co__story_ref *other, char *out, size_t cap)
{
    co__story_wait_label(kind, res, name, out, cap);
    if (!other || !other->id || (kind != CO_WAIT_LOCK && kind != CO_WAIT_SEM)) return;
    size_t n = strlen(out);
    const char *rel = kind == CO_WAIT_LOCK ? "held by" : "last taken by";
    if (other->name) snprintf(out + n, cap - n, " %s '%s' (#%llu)", rel, other->name, (unsigned long long)other->id);
    else snprintf(out + n, cap - n, " %s task #%llu", rel, (unsigned long long)other->id);
}

/* ------------------------------------------------------------------------ */
/* The loop's close                                                          */

void co__story_pending(co__story_text *s, const char *who, const char *what, const char *at)
{
    if (what) co__story_put(s, "task %s was still waiting for %s%s%s when the loop closed", who, what, at ? " at " : "",
                            at ? at : "");
    else co__story_put(s, "task %s had not ended when the loop closed", who);
}

void co__story_never_awaited(co__story_text *s, const char *who)
{
    co__story_put(s, "task %s was never awaited nor detached", who);
}

void co__story_unretrieved(co__story_text *s, const char *who, int err)
{
    co__story_put(s, "task %s failed with '%s' and nobody retrieved the error", who, co_strerror(err));
}

void co__story_abandoned(co__story_text *s, const char *who, const char *what, const char *at)
{
    co__story_put(s, "task %s ignored its cancellation at the loop's close: still waiting for %s%s%s when the shutdown "
                  "grace period ended, it was abandoned", who, what ? what : "nothing (it kept running)",
                  at ? " at " : "", at ? at : "");
}

/* ------------------------------------------------------------------------ */
/* Stuck groups                                                              */

typedef struct { uint64_t key; size_t ix; } keyed;

typedef struct story {
    const co__story_task *t;
    size_t n;
    keyed *by_id;       /* sorted by id */
    size_t *up;         /* union-find parent */
    uint8_t *awaited;   /* another stuck task waits for it */
    uint8_t *told;      /* 0, 1 told, 2 listed for the clause being written */
    size_t *order, norder;
    co__story_text s;
} story;

static int cmp_keyed(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    return x->key < y->key ? -1 : x->key > y->key ? 1 : x->ix < y->ix ? -1 : x->ix > y->ix;
}

/* The index of task id among the stuck, or -1. */
static long of_task(const story *st, uint64_t id)
{
    if (!id) return -1;
    size_t lo = 0, hi = st->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (st->by_id[mid].key < id) lo = mid + 1;
        else hi = mid;
    }
    return lo < st->n && st->by_id[lo].key == id ? (long)st->by_id[lo].ix : -1;
}

static size_t find(size_t *up, size_t i)
{
    while (up[i] != i) i = up[i] = up[up[i]];
    return i;
}

static void unite(size_t *up, size_t a, size_t b)
{
    a = find(up, a);
    b = find(up, b);
    if (a != b) up[a > b ? a : b] = a < b ? a : b;
}

static int awaits_tasks(int kind) { return kind == CO_WAIT_TASK || kind == CO_WAIT_TASKS || kind == CO_WAIT_GROUP; }

/* The stuck tasks x waits for: the awaited ones, or the holder / taker /
 * other end's user. */
static size_t targets(const story *st, const co__story_task *x, size_t *out, size_t cap)
{
    size_t n = 0;
    if (x->kind == CO_WAIT_TASKS || x->kind == CO_WAIT_GROUP) {
        for (uint32_t i = 0; i < x->nawaits && n < cap; i++) {
            long k = of_task(st, x->awaits[i]);
            if (k >= 0) out[n++] = (size_t)k;
        }
        return n;
    }
    long k = of_task(st, x->kind == CO_WAIT_TASK ? x->res : x->other.id);
    if (k >= 0 && n < cap) out[n++] = (size_t)k;
    return n;
}

/* A task named in a clause: "'name' (#id)", or "task #id" when the name is
 * gone. */
static void put_ref(story *st, uint64_t id, const char *name)
{
    long k = name ? -1 : of_task(st, id);
    if (k >= 0) name = st->t[k].name;
    if (name) co__story_put(&st->s, "'%s' (#%llu)", name, (unsigned long long)id);
    else co__story_put(&st->s, "task #%llu", (unsigned long long)id);
}

typedef struct { uint64_t id; const char *name; } named;

static int cmp_named(const void *a, const void *b)
{
    uint64_t x = ((const named *)a)->id, y = ((const named *)b)->id;
    return x < y ? -1 : x > y;
}

/* 'a' (#2), 'a'..'d' (#2..#5), or 'a' (#2), 'b' (#4) and 'c' (#7). */
static void put_names(story *st, named *v, size_t n, size_t more)
{
    qsort(v, n, sizeof *v, cmp_named);
    for (size_t i = 0; i < n; i++)
        if (!v[i].name) {
            long k = of_task(st, v[i].id);
            if (k >= 0) v[i].name = st->t[k].name;
        }
    if (n >= 3 && !more && v[n - 1].id - v[0].id == n - 1) {
        co__story_put(&st->s, "'%s'..'%s' (#%llu..#%llu)", shown(v[0].name), shown(v[n - 1].name),
                      (unsigned long long)v[0].id, (unsigned long long)v[n - 1].id);
        return;
    }
    size_t total = n + more;
    for (size_t i = 0; i < n && i < NAMES_MAX; i++) {
        co__story_put(&st->s, "%s", i == 0 ? "" : i + 1 == total ? " and " : ", ");
        put_ref(st, v[i].id, v[i].name);
    }
    if (total > NAMES_MAX || more) co__story_put(&st->s, " and %zu more", total - (n < NAMES_MAX ? n : NAMES_MAX));
}

/* Where the ref stands: ended, stuck with the others, or elsewhere. */
static const char *fate(const story *st, const co__story_ref *r, const char *ended, const char *stuck,
                        const char *elsewhere)
{
    if (r->fate == CO__FATE_ENDED) return ended;
    return of_task(st, r->id) >= 0 ? stuck : elsewhere;
}

/* What x waits for, after its subject ("awaits ...", "waits for ...", or
 * "awaiting", "waiting for" after "each"), and why nothing will come. */
static void put_wait(story *st, size_t xi, int ing)
{
    const co__story_task *x = &st->t[xi];
    st->order[st->norder++] = xi;
    if (awaits_tasks(x->kind)) {
        co__story_put(&st->s, "%s ", ing ? "awaiting" : "awaits");
        named v[TARGETS_MAX];
        size_t n = 0, more = 0;
        if (x->kind == CO_WAIT_TASK && x->res) {
            v[n++] = (named){ x->res, x->res_name };
        } else {
            for (uint32_t i = 0; i < x->nawaits; i++) {
                if (n == TARGETS_MAX) { more++; continue; }
                v[n++] = (named){ x->awaits[i], x->await_names ? x->await_names[i] : NULL };
            }
        }
        if (n) put_names(st, v, n, more);
        else co__story_put(&st->s, "%s", x->kind == CO_WAIT_GROUP ? "the tasks of a task group" : "tasks (gather/wait)");
        if (x->kind == CO_WAIT_GROUP && n) co__story_put(&st->s, " (a task group)");
        return;
    }
    if (x->kind == CO_WAIT_TCP_READ && x->conn) { /* a connection within the process: its two ends */
        co__story_put(&st->s, "%s a read%s", ing ? "waiting for" : "waits for", x->conn);
        if (x->other.id) {
            co__story_put(&st->s, ", and the task using that end, ");
            put_ref(st, x->other.id, x->other.name);
            co__story_put(&st->s, ", %s", fate(st, &x->other, "ended", "is asleep too", "is stuck elsewhere"));
        }
        if (x->why) co__story_put(&st->s, "%s", x->why);
        return;
    }
    char what[300];
    co__story_wait_label(x->kind, x->res, x->res_name, what, sizeof what);
    co__story_put(&st->s, "%s %s", ing ? "waiting for" : "waits for", what);
    switch (x->kind) {
    case CO_WAIT_LOCK:
        if (x->other.id) {
            co__story_put(&st->s, " held by ");
            put_ref(st, x->other.id, x->other.name);
            if (x->other.fate == CO__FATE_ENDED) co__story_put(&st->s, ", which ended holding it");
        }
        break;
    case CO_WAIT_SEM:
        if (x->other.id) {
            co__story_put(&st->s, " last taken by ");
            put_ref(st, x->other.id, x->other.name);
            if (x->other.fate == CO__FATE_ENDED) co__story_put(&st->s, ", since ended");
        }
        break;
    case CO_WAIT_QUEUE_GET:
    case CO_WAIT_QUEUE_PUT: {
        int get = x->kind == CO_WAIT_QUEUE_GET;
        co__story_put(&st->s, " that nobody will %s", get ? "put" : "make");
        if (x->by.id) {
            co__story_put(&st->s, ": its %s ", get ? "producer" : "consumer");
            put_ref(st, x->by.id, x->by.name);
            co__story_put(&st->s, " %s", fate(st, &x->by, "ended", "is stuck too", "is stuck elsewhere"));
        } else if (get && x->by_known) {
            co__story_put(&st->s, " (nothing was ever put)");
        }
        break;
    }
    case CO_WAIT_EVENT:
    case CO_WAIT_FUTURE: co__story_put(&st->s, ", and nothing left will set it"); break;
    case CO_WAIT_COND: co__story_put(&st->s, ", and nothing left will notify it"); break;
    case CO_WAIT_QUEUE_JOIN: co__story_put(&st->s, ", and nothing left will take its items"); break;
    default: co__story_put(&st->s, ", and nothing left can wake it"); break;
    }
    if (x->why) co__story_put(&st->s, "%s", x->why);
}

static int same_wait(const co__story_task *x, const co__story_task *y)
{
    return x->kind == y->kind && x->res == y->res && !awaits_tasks(x->kind) && x->kind != CO_WAIT_LOCK;
}

static void tell_below(story *st, size_t *kids, size_t n);

/* The tasks below a set just told: what they wait for in turn. */
static void tell_targets(story *st, const size_t *set, size_t n)
{
    size_t *kids = malloc(st->n * sizeof *kids);
    if (!kids) return;
    size_t nk = 0;
    for (size_t i = 0; i < n; i++) {
        size_t t[TARGETS_MAX];
        size_t m = targets(st, &st->t[set[i]], t, TARGETS_MAX);
        for (size_t j = 0; j < m; j++)
            if (!st->told[t[j]] && nk < st->n) {
                st->told[t[j]] = 2; /* listed: not twice */
                kids[nk++] = t[j];
            }
    }
    for (size_t i = 0; i < nk; i++) st->told[kids[i]] = 0;
    tell_below(st, kids, nk);
    free(kids);
}

/* kids were named by the clause just written: each class of them that
 * waits alike is told once ("each waiting for ..."), then what is below. */
static void tell_below(story *st, size_t *kids, size_t n)
{
    if (!n) return;
    size_t *cls = malloc(n * sizeof *cls);
    named *v = malloc(n * sizeof *v);
    if (!cls || !v) goto out;
    int first = 1;
    for (size_t i = 0; i < n; i++) {
        if (st->told[kids[i]]) continue;
        size_t m = 0;
        for (size_t j = i; j < n; j++)
            if (!st->told[kids[j]] && (j == i || same_wait(&st->t[kids[i]], &st->t[kids[j]]))) {
                st->told[kids[j]] = 1;
                cls[m] = kids[j];
                v[m++] = (named){ st->t[kids[j]].id, st->t[kids[j]].name };
            }
        if (first && m == n) { /* the whole set waits alike: no need to name it again */
            co__story_put(&st->s, m == 1 ? ", which " : ", each ");
        } else {
            co__story_put(&st->s, first ? ": " : "; ");
            put_names(st, v, m, 0);
            co__story_put(&st->s, m == 1 ? " " : ", each ");
        }
        put_wait(st, kids[i], m > 1);
        for (size_t k = 1; k < m; k++) st->order[st->norder++] = cls[k];
        first = 0;
        tell_targets(st, cls, m);
    }
out:
    free(cls);
    free(v);
}

/* Root first: not awaited by another stuck task, then main, then the lowest id. */
static int root_before(const story *st, size_t a, size_t b)
{
    if (st->awaited[a] != st->awaited[b]) return st->awaited[a] < st->awaited[b];
    if (st->t[a].main != st->t[b].main) return st->t[a].main > st->t[b].main;
    return st->t[a].id < st->t[b].id;
}

static void tell_group(story *st, size_t g,
                       void (*told)(void *, size_t, const char *, const size_t *, size_t), void *ctx)
{
    size_t root = SIZE_MAX;
    for (size_t i = 0; i < st->n; i++)
        if (find(st->up, i) == g && (root == SIZE_MAX || root_before(st, i, root))) root = i;
    st->s.n = 0;
    if (st->s.p) st->s.p[0] = 0;
    st->norder = 0;
    put_ref(st, st->t[root].id, st->t[root].name);
    co__story_put(&st->s, " ");
    put_wait(st, root, 0);
    st->told[root] = 1;
    tell_targets(st, &root, 1);
    /* Others of the group nobody awaits: they share an object with it. */
    named v[NAMES_MAX];
    size_t set[NAMES_MAX];
    for (size_t i = 0; i < st->n; i++) {
        if (st->told[i] || find(st->up, i) != g) continue;
        size_t m = 0, more = 0;
        for (size_t j = i; j < st->n; j++) {
            if (st->told[j] || find(st->up, j) != g || (j != i && !same_wait(&st->t[i], &st->t[j]))) continue;
            st->told[j] = 1;
            if (m < NAMES_MAX) {
                set[m] = j;
                v[m++] = (named){ st->t[j].id, st->t[j].name };
            } else {
                more++;
                st->order[st->norder++] = j;
            }
        }
        co__story_put(&st->s, "; ");
        put_names(st, v, m, more);
        co__story_put(&st->s, m + more > 1 ? ", each " : " ");
        put_wait(st, i, m + more > 1);
        for (size_t k = 1; k < m; k++) st->order[st->norder++] = set[k];
        tell_targets(st, set, m);
    }
    told(ctx, root, st->s.p ? st->s.p : "", st->order, st->norder);
}

int co__story_tell(const co__story_task *t, size_t n,
                   void (*told)(void *ctx, size_t root, const char *text, const size_t *order, size_t m), void *ctx)
{
    if (!n) return 0;
    story st = { .t = t, .n = n };
    keyed *by_res = NULL;
    int groups = -ENOMEM;
    st.by_id = malloc(n * sizeof *st.by_id);
    st.up = malloc(n * sizeof *st.up);
    st.awaited = calloc(n, 1);
    st.told = calloc(n, 1);
    st.order = malloc(n * sizeof *st.order);
    by_res = malloc(n * sizeof *by_res);
    if (!st.by_id || !st.up || !st.awaited || !st.told || !st.order || !by_res) goto out;
    size_t nres = 0;
    for (size_t i = 0; i < n; i++) {
        st.by_id[i] = (keyed){ t[i].id, i };
        st.up[i] = i;
        if (t[i].res && !awaits_tasks(t[i].kind)) by_res[nres++] = (keyed){ t[i].res, i };
    }
    qsort(st.by_id, n, sizeof *st.by_id, cmp_keyed);
    qsort(by_res, nres, sizeof *by_res, cmp_keyed);
    for (size_t i = 1; i < nres; i++) /* tasks waiting on one object are stuck together */
        if (by_res[i].key == by_res[i - 1].key) unite(st.up, by_res[i].ix, by_res[i - 1].ix);
    for (size_t i = 0; i < n; i++) {
        size_t tg[TARGETS_MAX];
        size_t m = targets(&st, &t[i], tg, TARGETS_MAX);
        for (size_t j = 0; j < m; j++) {
            unite(st.up, i, tg[j]);
            if (tg[j] != i) st.awaited[tg[j]] = 1;
        }
    }
    groups = 0;
    for (size_t i = 0; i < n; i++)
        if (find(st.up, i) == i) {
            tell_group(&st, i, told, ctx);
            groups++;
        }
out:
    free(st.by_id);
    free(st.up);
    free(st.awaited);
    free(st.told);
    free(st.order);
    free(by_res);
    free(st.s.p);
    return groups;
}
