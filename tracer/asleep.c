/* asleep.c -- the `all_asleep` rows: one story per stuck group.
 *
 * When every task is asleep the runtime writes one TR_WARN per waiting task
 * (runtime/warn.c), all at once on the loop's ring.  One row per task told
 * the same thing over and over (a producer that forgot the sentinels of 4
 * consumers made 5 rows), and none said how they hang together.  So they
 * are gathered here until that ring moves on, split into groups of tasks
 * stuck together (a task with what it awaits: tasks, a lock's holder, a
 * semaphore's last taker; tasks with the resource they wait on), and each
 * group is told as one chain from its root, the task nobody in it awaits:
 * "every task is asleep: 'main' (#1) awaits 'consumer 1'..'consumer 4'
 * (#2..#5), each waiting for an item from queue 'jobs' (#2) that nobody
 * will put: its producer 'producer' (#6) ended".  The groups are found from
 * the events alone, so older traces read the same. */
#include "builder.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAMES_MAX 8 /* tasks named in one list; the rest are counted */

typedef struct tr_asleep_ent {
    uint64_t task, res, other;
    int64_t ts;
    uint32_t loc;
    uint8_t kind, told;
    uint32_t nwf, up;     /* up: union-find parent (an index) */
    uint64_t wf[16];
} ent;

typedef struct { char *p; size_t n, cap; } sbuf;

static void put(sbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(sbuf *s, const char *fmt, ...)
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
        if (!p) return; /* the story stops short; the row is still written */
        s->p = p;
        s->cap = cap;
    }
}

void tr_asleep_add(tr_builder *b, uint32_t ring, const tr_rec *e, int64_t ts, uint32_t loc)
{
    if (b->nasleep && ring != b->asleep_ring) tr_asleep_flush(b); /* another loop's */
    if (b->nasleep == b->capasleep) {
        size_t cap = b->capasleep ? b->capasleep * 2 : 16;
        ent *p = realloc(b->asleep, cap * sizeof *p);
        if (!p) {
            if (!b->err) b->err = -ENOMEM;
            return;
        }
        b->asleep = p;
        b->capasleep = cap;
    }
    ent *x = &b->asleep[b->nasleep];
    memset(x, 0, sizeof *x);
    x->task = e->task;
    x->res = e->res;
    x->kind = (uint8_t)(e->arg >> 8);
    x->other = e->arg >> 16;
    x->ts = ts;
    x->loc = loc;
    x->up = (uint32_t)b->nasleep;
    if ((x->kind == CO_WAIT_TASKS || x->kind == CO_WAIT_GROUP) && b->wf_task == e->task) {
        x->nwf = (uint32_t)b->nwf;
        memcpy(x->wf, b->wf, (size_t)b->nwf * sizeof *x->wf);
    }
    b->nwf = 0;
    b->wf_task = 0;
    b->asleep_ring = ring;
    b->nasleep++;
}

typedef struct {
    tr_builder *b;
    ent *e;
    size_t n;
    tr_map at;  /* task id -> 1 + its index */
    sbuf s;
    uint64_t first_res; /* the chain's first resource, and the line that waits on it */
    uint32_t res_loc;
    uint32_t cause;     /* the first line found that caused a wait (diag_cause.c), 0: none */
} story;

static ent *of_task(story *st, uint64_t id)
{
    uint32_t *i = id ? tr_map_find(&st->at, id) : NULL;
    return i ? &st->e[*i - 1] : NULL;
}

static uint32_t find(ent *e, uint32_t i)
{
    while (e[i].up != i) i = e[i].up = e[e[i].up].up;
    return i;
}

static void unite(ent *e, uint32_t a, uint32_t c)
{
    a = find(e, a);
    c = find(e, c);
    if (a != c) e[a > c ? a : c].up = a < c ? a : c;
}

/* The tasks x waits for, as entries of the group: the awaited ones, a
 * lock's holder, a semaphore's last taker (if it is stuck too). */
static size_t targets(story *st, const ent *x, ent **out, size_t cap)
{
    size_t n = 0;
    if (x->kind == CO_WAIT_TASKS || x->kind == CO_WAIT_GROUP) {
        for (uint32_t i = 0; i < x->nwf && n < cap; i++)
            if ((out[n] = of_task(st, x->wf[i]))) n++;
    } else {
        uint64_t id = x->kind == CO_WAIT_TASK ? x->res : x->other;
        if (n < cap && (out[n] = of_task(st, id))) n++;
    }
    return n;
}

static int ended(tr_builder *b, uint64_t id)
{
    tstate *t = tr_map_find(&b->tasks, id);
    return !t || t->ended;
}

/* 'a' (#2), 'a'..'d' (#2..#5) or 'a' (#2), 'b' (#4) and 'c' (#7). */
static int cmp_id(const void *a, const void *c)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)c;
    return x < y ? -1 : x > y;
}

static void put_names(story *st, uint64_t *ids, size_t n)
{
    char l1[160], l2[160];
    qsort(ids, n, sizeof *ids, cmp_id);
    if (n >= 3 && ids[n - 1] - ids[0] == n - 1) {
        uint64_t *nm = tr_map_find(&st->b->names, ids[0]), *nm2 = tr_map_find(&st->b->names, ids[n - 1]);
        const char *a = nm ? tr_string_of(st->b, *nm) : NULL, *z = nm2 ? tr_string_of(st->b, *nm2) : NULL;
        put(&st->s, "'%s'..'%s' (#%llu..#%llu)", a ? a : "?", z ? z : "?", (unsigned long long)ids[0],
            (unsigned long long)ids[n - 1]);
        return;
    }
    for (size_t i = 0; i < n && i < NAMES_MAX; i++) {
        tr_task_label(st->b, ids[i], l1, sizeof l1);
        put(&st->s, "%s%s", i == 0 ? "" : i + 1 == n ? " and " : ", ", l1);
    }
    if (n > NAMES_MAX) {
        snprintf(l2, sizeof l2, " and %zu more", n - NAMES_MAX);
        put(&st->s, "%s", l2);
    }
}

static int same_wait(const ent *x, const ent *y)
{
    return x->kind == y->kind && x->res == y->res && x->kind != CO_WAIT_TASKS && x->kind != CO_WAIT_GROUP &&
           x->kind != CO_WAIT_TASK && x->kind != CO_WAIT_LOCK;
}

/* What x waits for, after its subject: "awaits ...", "waits for ..." (or
 * "awaiting", "waiting for" after "each"), and why nothing will come. */
static void put_wait(story *st, const ent *x, int ing)
{
    tr_builder *b = st->b;
    char what[240], o[160];
    if (x->kind == CO_WAIT_TASKS || x->kind == CO_WAIT_GROUP || x->kind == CO_WAIT_TASK) {
        put(&st->s, "%s ", ing ? "awaiting" : "awaits");
        uint64_t ids[16] = { x->res };
        size_t n = x->kind == CO_WAIT_TASK ? 1 : x->nwf;
        if (x->kind != CO_WAIT_TASK) memcpy(ids, x->wf, n * sizeof *ids);
        if (n) put_names(st, ids, n);
        else put(&st->s, "%s", x->kind == CO_WAIT_GROUP ? "the tasks of a task group" : "tasks (gather/wait)");
        if (x->kind == CO_WAIT_GROUP && n) put(&st->s, " (a task group)");
        return;
    }
    char why[1200];
    uint32_t cause = tr_dx_why(b, x->kind, x->res, x->other, why, sizeof why);
    if (cause && !st->cause) st->cause = cause;
    if (x->kind == CO_WAIT_TCP_READ && why[0]) { /* a connection within the process: its two ends */
        put(&st->s, "%s a read%s", ing ? "waiting for" : "waits for", why);
        if (x->other) {
            tr_task_label(b, x->other, o, sizeof o);
            put(&st->s, ", and the task using that end, %s, %s", o,
                ended(b, x->other) ? "ended" : of_task(st, x->other) ? "is asleep too" : "is stuck elsewhere");
        }
        if (!st->first_res) {
            st->first_res = x->res;
            st->res_loc = x->loc;
        }
        return;
    }
    tr_wait_label(b, x->kind, x->res, what, sizeof what);
    put(&st->s, "%s %s", ing ? "waiting for" : "waits for", what);
    if (!st->first_res && x->res) {
        st->first_res = x->res;
        st->res_loc = x->loc;
    }
    rstat *r = x->res ? tr_map_find(&b->rstats, x->res) : NULL;
    switch (x->kind) {
    case CO_WAIT_LOCK:
        if (x->other) {
            tr_task_label(b, x->other, o, sizeof o);
            put(&st->s, " held by %s%s", o, ended(b, x->other) ? ", which ended holding it" : "");
        }
        break;
    case CO_WAIT_SEM:
        if (x->other) {
            tr_task_label(b, x->other, o, sizeof o);
            put(&st->s, " last taken by %s%s", o, ended(b, x->other) ? ", since ended" : "");
        }
        break;
    case CO_WAIT_QUEUE_GET:
    case CO_WAIT_QUEUE_PUT: {
        int get = x->kind == CO_WAIT_QUEUE_GET;
        uint64_t by = r ? (get ? r->last_put : r->last_get) : 0;
        put(&st->s, " that nobody will %s", get ? "put" : "make");
        if (by) {
            tr_task_label(b, by, o, sizeof o);
            put(&st->s, ": its %s %s %s", get ? "producer" : "consumer", o,
                ended(b, by) ? "ended" : of_task(st, by) ? "is stuck too" : "is stuck elsewhere");
        } else if (get) {
            put(&st->s, " (nothing was ever put)");
        }
        break;
    }
    case CO_WAIT_EVENT:
    case CO_WAIT_FUTURE: put(&st->s, ", and nothing left will set it"); break;
    case CO_WAIT_COND: put(&st->s, ", and nothing left will notify it"); break;
    case CO_WAIT_QUEUE_JOIN: put(&st->s, ", and nothing left will take its items"); break;
    default: put(&st->s, ", and nothing left can wake it"); break;
    }
    if (why[0]) put(&st->s, "%s", why);
}

static void tell_below(story *st, ent **kids, size_t n);

/* The tasks below a set just told: what they wait for in turn. */
static void tell_targets(story *st, ent **set, size_t n)
{
    ent **kids = calloc(st->n, sizeof *kids);
    if (!kids) return;
    size_t nk = 0;
    for (size_t i = 0; i < n; i++) {
        ent *t[16];
        size_t m = targets(st, set[i], t, 16);
        for (size_t j = 0; j < m; j++)
            if (!t[j]->told && nk < st->n) {
                t[j]->told = 2; /* listed: not twice */
                kids[nk++] = t[j];
            }
    }
    for (size_t i = 0; i < nk; i++) kids[i]->told = 0;
    tell_below(st, kids, nk);
    free(kids);
}

/* kids were named by the clause just written: each class of them that
 * waits alike is told once ("each waiting for ..."), then what is below. */
static void tell_below(story *st, ent **kids, size_t n)
{
    if (!n) return;
    ent **cls = calloc(n, sizeof *cls);
    uint64_t *ids = calloc(n, sizeof *ids);
    if (!cls || !ids) goto out;
    int first = 1;
    for (size_t i = 0; i < n; i++) {
        if (kids[i]->told) continue;
        size_t m = 0;
        for (size_t j = i; j < n; j++)
            if (!kids[j]->told && (j == i || same_wait(kids[i], kids[j]))) {
                kids[j]->told = 1;
                cls[m] = kids[j];
                ids[m++] = kids[j]->task;
            }
        int all = first && m == n; /* the whole set waits alike: no need to name it again */
        if (all) {
            put(&st->s, m == 1 ? ", which " : ", each ");
        } else {
            put(&st->s, first ? ": " : "; ");
            put_names(st, ids, m);
            put(&st->s, m == 1 ? " " : ", each ");
        }
        put_wait(st, kids[i], m > 1);
        first = 0;
        tell_targets(st, cls, m);
    }
out:
    free(cls);
    free(ids);
}

static int root_first(const ent *x, const ent *y, const uint8_t *awaited, size_t ix, size_t iy)
{
    if (awaited[ix] != awaited[iy]) return awaited[ix] < awaited[iy];
    return x->task < y->task;
}

/* One group: the members are the entries whose find() is g. */
static void tell_group(story *st, uint32_t g, const uint8_t *awaited)
{
    tr_builder *b = st->b;
    size_t root = SIZE_MAX;
    for (size_t i = 0; i < st->n; i++)
        if (find(st->e, (uint32_t)i) == g && (root == SIZE_MAX || root_first(&st->e[i], &st->e[root], awaited, i, root)))
            root = i;
    ent *r = &st->e[root];
    char l[160];
    st->s.n = 0;
    st->first_res = 0;
    st->res_loc = 0;
    st->cause = 0;
    tr_task_label(b, r->task, l, sizeof l);
    put(&st->s, "every task is asleep: %s ", l);
    put_wait(st, r, 0);
    r->told = 1;
    tell_targets(st, &r, 1);
    /* Others of the group nobody awaits: they share a resource with it. */
    for (size_t i = 0; i < st->n; i++) {
        ent *x = &st->e[i];
        if (x->told || find(st->e, (uint32_t)i) != g) continue;
        uint64_t ids[NAMES_MAX + 1];
        ent *set[NAMES_MAX + 1];
        size_t m = 0, more = 0;
        for (size_t j = i; j < st->n; j++) {
            ent *y = &st->e[j];
            if (y->told || find(st->e, (uint32_t)j) != g || (j != i && !same_wait(x, y))) continue;
            y->told = 1;
            if (m < NAMES_MAX) { set[m] = y; ids[m++] = y->task; } else more++;
        }
        put(&st->s, "; ");
        put_names(st, ids, m);
        if (more) put(&st->s, " and %zu more", more);
        put(&st->s, m + more > 1 ? ", each " : " ");
        put_wait(st, x, m + more > 1);
        tell_targets(st, set, m);
    }
    uint64_t task2 = r->kind == CO_WAIT_TASK ? r->res : r->other ? r->other : r->nwf ? r->wf[0] : 0;
    b->warn_cause = st->cause;
    tr_warning(b, tr_warning_name(TR_WARN_ALL_ASLEEP), r->task, task2, st->first_res, r->ts, 0, r->loc,
               st->res_loc != r->loc ? st->res_loc : 0, st->s.p ? st->s.p : "every task is asleep");
}

void tr_asleep_flush(tr_builder *b)
{
    story st = { .b = b, .e = b->asleep, .n = b->nasleep };
    b->nasleep = 0;
    if (!st.n) return;
    tr_map_init(&st.at, sizeof(uint32_t));
    tr_map res;
    tr_map_init(&res, sizeof(uint32_t));
    uint8_t *awaited = calloc(st.n, 1);
    if (!awaited) goto out;
    for (size_t i = 0; i < st.n; i++) {
        uint32_t *p = tr_map_put(&st.at, st.e[i].task);
        if (!p) goto out;
        *p = (uint32_t)i + 1;
    }
    for (size_t i = 0; i < st.n; i++) {
        ent *x = &st.e[i], *t[16];
        size_t m = targets(&st, x, t, 16);
        for (size_t j = 0; j < m; j++) {
            unite(st.e, (uint32_t)i, (uint32_t)(t[j] - st.e));
            if (t[j] != x) awaited[t[j] - st.e] = 1;
        }
        if (x->res && x->kind != CO_WAIT_TASK && x->kind != CO_WAIT_TASKS && x->kind != CO_WAIT_GROUP) {
            /* Tasks waiting on one resource are stuck together. */
            uint32_t *p = tr_map_put(&res, x->res);
            if (!p) goto out;
            if (*p) unite(st.e, (uint32_t)i, *p - 1);
            else *p = (uint32_t)i + 1;
        }
    }
    for (size_t i = 0; i < st.n; i++)
        if (find(st.e, (uint32_t)i) == i) tell_group(&st, (uint32_t)i, awaited);
out:
    free(awaited);
    free(st.s.p);
    tr_map_free(&st.at);
    tr_map_free(&res);
}
