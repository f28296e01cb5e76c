/* SPDX-License-Identifier: MIT */
/* model_tree.c -- the await tree at t: from the tasks nobody alive awaits,
 * each task's children are what it waits on (the task it awaits, the
 * holder of what it wants, the children a gather waits for), cycles cut
 * where they close.
 */
#include "model_int.h"
#include <stdlib.h>
#include <string.h>

/* The tree is made from what names an edge -- the awaits open at t that
 * name a task, a gather's or group's children, a resource's holders --
 * and from which tasks are alive (their spawn and end, in memory).  A
 * task in no such await is a leaf whatever it does (runs, yields, sleeps),
 * so its state is asked only when its row is drawn (tui_model_tree_row):
 * a tree of 200k tasks costs the awaits open at t, not 200k probes. */
typedef struct tree_pass {
    tui_model *m;
    int64_t t;
    unsigned char *alive;   /* per task: spawned and not ended at t */
    unsigned char *named;   /* per task: its state at t is known (an await from `waits`, or asked) */
    unsigned char *refuses; /* per task: a deadlock warning names it (its refused wait is an edge while it runs) */
    unsigned char *seen;
    int64_t (*held)[3];     /* (resource, start, task) of every hold open at t, in that order */
    size_t nheld, capheld;
    int path[64];
} tree_pass;

static int tree_hold(void *ctx, int64_t res, int64_t task, int64_t since)
{
    tree_pass *p = ctx;
    if (p->nheld == p->capheld) {
        size_t cap = p->capheld ? 2 * p->capheld : 64;
        int64_t (*h)[3] = realloc(p->held, cap * sizeof *h);
        if (!h) return 1;
        p->held = h;
        p->capheld = cap;
    }
    p->held[p->nheld][0] = res;
    p->held[p->nheld][1] = since;
    p->held[p->nheld++][2] = task;
    return 0;
}

/* By resource, then the last to take it first (tr_holders_of's order). */
static int cmp_held(const void *a, const void *b)
{
    const int64_t *x = a, *y = b;
    if (x[0] != y[0]) return x[0] < y[0] ? -1 : 1;
    if (x[1] != y[1]) return x[1] > y[1] ? -1 : 1;
    return x[2] < y[2] ? -1 : x[2] > y[2];
}

/* The holders of res at t from the pass (up to cap): a resource waited on
 * by 100k tasks is asked once, not once per waiter. */
static int pass_holders(tree_pass *p, int64_t res, int64_t *out, int cap)
{
    size_t lo = 0, hi = p->nheld;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (p->held[mid][0] < res) lo = mid + 1;
        else hi = mid;
    }
    int n = 0;
    for (size_t i = lo; i < p->nheld && p->held[i][0] == res; i++, n++)
        if (n < cap) out[n] = p->held[i][2];
    return n;
}

/* The answer a `waits` row gives for its task, the same as a probe's, kept
 * in the task's cache over the interval it holds. */
static void at_from_wait(tui_model *m, int idx, const tr_wait *w, int64_t t)
{
    const tui_task *k = &m->tasks[idx];
    tui_at a = { .state = TUI_WAITING, .wait = w->wait, .on = w->res, .on_task_idx = -1, .on_name = "",
                 .since = w->since, .until = w->open ? -1 : w->until, .at = tui__where(m, w->loc) };
    if (a.wait == CO_WAIT_TASK) {
        a.on_task_idx = tui_model_task_index(m, w->res);
        a.on_name = a.on_task_idx >= 0 ? m->tasks[a.on_task_idx].name : "";
    } else if (w->res) {
        a.on_name = tui__res_name(m, w->res, NULL);
    }
    tui_at_cache *c = &m->at[idx];
    c->t = t;
    c->lo = w->since < t ? w->since : t;
    c->hi = a.until < 0 ? INT64_MAX : a.until;
    if (k->end_ts >= 0 && c->hi > k->end_ts) c->hi = k->end_ts;
    if (c->hi <= t) c->hi = t + 1;
    c->valid = 1;
    c->at = a;
}

static int tree_wait(void *ctx, const tr_wait *w)
{
    tree_pass *p = ctx;
    int idx = tui_model_task_index(p->m, w->task);
    if (idx < 0 || !p->alive[idx]) return 0;
    at_from_wait(p->m, idx, w, p->t);
    p->named[idx] = 1;
    return 0;
}

/* What task idx waits on at t, as tasks: the task it awaits, the holders
 * of what it wants, or its live children when it gathers. */
static int targets(tree_pass *p, int idx, const tui_at *a, int *out, int cap)
{
    tui_model *m = p->m;
    int64_t t = p->t;
    int n = 0;
    if (a->state == TUI_WAITING && a->wait == CO_WAIT_TASK) {
        if (a->on_task_idx >= 0) out[n++] = a->on_task_idx;
        return n;
    }
    int64_t res = 0;
    if (a->state == TUI_WAITING) res = a->on;
    else {
        const tui_warning *w = tui__refusal(m, &m->tasks[idx], a, t);
        if (w) res = w->resource;
    }
    if (res && a->wait != CO_WAIT_TASKS && a->wait != CO_WAIT_GROUP) {
        int64_t h[16];
        int nh = p->held ? pass_holders(p, res, h, 16) : tui__holders_at(m, res, t, h, 16);
        for (int i = 0; i < nh && i < 16 && n < cap; i++) {
            int j = tui_model_task_index(m, h[i]);
            if (j >= 0 && j != idx) out[n++] = j;
        }
        return n;
    }
    if (a->state == TUI_WAITING && (a->wait == CO_WAIT_TASKS || a->wait == CO_WAIT_GROUP)) {
        n = tui__waited_children(m, idx, t, out, cap);
        if (n > cap) n = cap;
    }
    return n;
}

/* Task idx's edges at t (none for a task in no named await), and whether
 * they lead to holders. */
static int node(tree_pass *p, int idx, int *kids, int cap, int *via_holder)
{
    *via_holder = 0;
    if (!p->named[idx] && !p->refuses[idx]) return 0;
    tui_at a;
    if (tui_model_task_at(p->m, idx, p->t, &a) < 0) return 0;
    *via_holder = !(a.state == TUI_WAITING && (a.wait == CO_WAIT_TASK || a.wait == CO_WAIT_TASKS || a.wait == CO_WAIT_GROUP));
    return targets(p, idx, &a, kids, cap);
}

static int push_row(tree_pass *p, size_t *n, int depth, int idx, int via_holder, int cycle)
{
    tui_model *m = p->m;
    if (*n >= 50000) return -1; /* a tree nobody reads to the end */
    if (*n >= m->tree_cap) {
        size_t cap = m->tree_cap ? 2 * m->tree_cap : 256;
        tui_tree_row *r = realloc(m->tree, cap * sizeof *r);
        if (!r) return -1;
        m->tree = r;
        m->tree_cap = cap;
    }
    tui_tree_row *r = &m->tree[(*n)++];
    memset(r, 0, sizeof *r);
    r->depth = depth;
    r->task_idx = idx;
    r->via_holder = via_holder;
    r->cycle = cycle;
    r->stack = "";
    /* The stack is drawn under its row, so it is asked now: only of the
     * few tasks a warning with a stack names. */
    if (m->has_stack && m->has_stack[idx]) {
        tui_model_task_at(m, idx, p->t, &r->at);
        r->filled = 1;
        /* Only a stack of this moment: one taken at another time would
         * read as what the task is doing now. */
        const tui_warning *w = tui_model_stack_warning(m, idx, p->t);
        if ((r->at.state == TUI_WAITING || r->at.state == TUI_RUNNING) && tui_model_stack_covers(w, p->t)) {
            r->stack = w->stack;
            r->stack_ts = w->ts;
        }
    } else if (p->named[idx]) {
        r->at = m->at[idx].at; /* from the pass: no probe */
        r->filled = 1;
    }
    return 0;
}

static void walk(tree_pass *p, size_t *n, int idx, int depth)
{
    p->path[depth] = idx;
    p->seen[idx] = 1;
    int kids[64], via_holder;
    int nk = node(p, idx, kids, 64, &via_holder);
    for (int i = 0; i < nk; i++) {
        int on_path = 0;
        for (int d = 0; d <= depth; d++) on_path |= p->path[d] == kids[i];
        if (push_row(p, n, depth + 1, kids[i], via_holder, on_path) < 0) return;
        if (!on_path && depth + 1 < 60) walk(p, n, kids[i], depth + 1);
    }
}

size_t tui_model_await_tree(tui_model *m, int64_t t, const tui_tree_row **out)
{
    *out = NULL;
    if (m->tree_gen == m->gen && m->tree_t == t) {
        *out = m->tree;
        return m->tree_n;
    }
    size_t nt = m->ntasks, n = 0;
    tree_pass p = { .m = m, .t = t };
    p.alive = calloc(nt + 1, 1);
    p.named = calloc(nt + 1, 1);
    p.refuses = calloc(nt + 1, 1);
    p.seen = calloc(nt + 1, 1);
    unsigned char *awaited = calloc(nt + 1, 1);
    if (!p.alive || !p.named || !p.refuses || !p.seen || !awaited) goto done;
    for (size_t i = 0; i < nt; i++) {
        const tui_task *k = &m->tasks[i];
        p.alive[i] = t >= k->spawn_ts && (k->end_ts < 0 || t < k->end_ts);
    }
    for (size_t i = 0; i < m->nwarn; i++)
        if (m->warn[i].kind == TR_WARN_DEADLOCK && m->warn[i].resource && m->warn[i].ts <= t) {
            int k = tui_model_task_index(m, m->warn[i].task);
            if (k >= 0) p.refuses[k] = 1;
        }
    if (m->built) {
        /* A finished trace: the holds open at t, then the awaits that can
         * be edges -- on tasks, gathers and groups, and on the resources
         * held at t (an await on something nobody holds, an event, a
         * queue, leads nowhere: its task's state is asked when drawn). */
        if (tr_holds_at(m->q, t, tree_hold, &p) < 0 || (!p.held && !(p.held = malloc(sizeof *p.held)))) goto done;
        /* holders of a resource the last to take it first, as tui__holders_at gives them */
        if (p.nheld > 1) qsort(p.held, p.nheld, sizeof *p.held, cmp_held);
        if (tr_waits_on(m->q, 0, t, tree_wait, &p) < 0) goto done;
        for (size_t i = 0; i < p.nheld; i++)
            if ((i == 0 || p.held[i][0] != p.held[i - 1][0]) && p.held[i][0] &&
                tr_waits_on(m->q, p.held[i][0], t, tree_wait, &p) < 0)
                goto done;
    } else {
        /* Still recording: open awaits are not in `waits` yet. */
        for (size_t i = 0; i < nt; i++) {
            tui_at a;
            if (p.alive[i] && tui_model_task_at(m, (int)i, t, &a) == 0) p.named[i] = a.state == TUI_WAITING;
        }
    }
    for (size_t i = 0; i < nt; i++) {
        if (!p.alive[i] || (!p.named[i] && !p.refuses[i])) continue;
        int kids[64], via;
        int nk = node(&p, (int)i, kids, 64, &via);
        for (int k = 0; k < nk; k++) awaited[kids[k]] = 1;
    }
    /* Roots: live tasks nobody live awaits.  Then whatever is left unseen
     * is inside a cycle with no way in: draw it from its lowest id. */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < nt; i++) {
            if (!p.alive[i] || p.seen[i] || (pass == 0 && awaited[i])) continue;
            if (push_row(&p, &n, 0, (int)i, 0, 0) < 0) goto done;
            walk(&p, &n, (int)i, 0);
        }
done:
    free(awaited);
    free(p.alive);
    free(p.named);
    free(p.refuses);
    free(p.seen);
    free(p.held);
    m->tree_t = t;
    m->tree_n = n;
    m->tree_gen = m->gen;
    *out = m->tree;
    return n;
}

const tui_tree_row *tui_model_tree_row(tui_model *m, size_t i)
{
    if (m->tree_gen != m->gen || i >= m->tree_n) return NULL;
    tui_tree_row *r = &m->tree[i];
    if (!r->filled) {
        tui_model_task_at(m, r->task_idx, m->tree_t, &r->at);
        r->filled = 1;
    }
    return r;
}

