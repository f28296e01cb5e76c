/* SPDX-License-Identifier: MIT */
/* model_tasks.c -- tasks at a time t: what each was doing, the Tasks
 * view's sorted and filtered rows, what a task waits on in words, its await
 * chain (task -> lock -> holder -> ...), the await tree of every task at t,
 * and the histograms and stack of the task detail.
 *
 * "What was task k doing at t" is one probe of spans' (task, start) key:
 * step rows tile a task's life (docs/schema.md), so the last one starting
 * at or before t says whether it ran (t < end) or awaited (end <= t <
 * resumed), and on what.  Tasks not yet spawned or already ended at t need
 * no probe at all.  Answers are cached per task for the last t asked.
 */
#define _GNU_SOURCE
#include "model_int.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *res_name_of(tui_model *m, int64_t id, int *idx)
{
    int i = tui_model_resource_index(m, id);
    if (idx) *idx = i;
    return i >= 0 ? m->res[i].name : "";
}

/* What task k was doing at t into a, and in *lo, *hi the interval over
 * which that answer holds. */
static int probe(tui_model *m, const tui_task *k, int64_t t, tui_at *a, int64_t *lo, int64_t *hi)
{
    *lo = t;
    *hi = t < INT64_MAX ? t + 1 : t; /* the cases below that know better say so */
    tr_step s;
    int got = tr_step_at(m->q, k->id, t, &s);
    if (got < 0) return got;
    if (got == 0) {
        /* spawned, no step yet */
        a->state = TUI_READY;
        a->since = k->spawn_ts;
        a->until = k->start_ts;
        return 0;
    }
    int64_t start = s.start, end = s.end, res = s.res, resumed = s.resumed, loc = s.loc, end_loc = s.end_loc;
    int has_wait = s.wait >= 0, wk = s.wait, has_resumed = s.has_resumed, open = s.open;
    if (t < end || (!has_wait && open)) {
        a->state = TUI_RUNNING;
        a->since = start;
        a->until = open && !has_wait ? -1 : end;
        a->at = tui__where(m, loc);
        *lo = start;
        *hi = a->until < 0 ? INT64_MAX : a->until;
        return 0;
    }
    if (!has_wait) { /* the task ended with this step */
        a->state = k->end_ts >= 0 ? k->final_state : TUI_DONE;
        a->since = end;
        a->until = -1;
        *lo = end;
        *hi = INT64_MAX;
        return 0;
    }
    if (!has_resumed || t < resumed || open) {
        a->state = TUI_WAITING;
        a->wait = wk >= 0 ? wk : CO_WAIT_NONE;
        a->on = res;
        a->since = end;
        a->until = open || !has_resumed ? -1 : resumed;
        a->at = tui__where(m, end_loc);
        if (a->wait == CO_WAIT_TASK) {
            a->on_task_idx = tui_model_task_index(m, res);
            a->on_name = a->on_task_idx >= 0 ? m->tasks[a->on_task_idx].name : "";
        } else if (res) {
            a->on_name = res_name_of(m, res, NULL);
        }
        *lo = end;
        *hi = a->until < 0 ? INT64_MAX : a->until;
        return 0;
    }
    /* Resumed, with no row after: the trace lost the rest of it. */
    a->state = TUI_READY;
    a->since = resumed;
    a->until = -1;
    return 0;
}

int tui_model_task_at(tui_model *m, int idx, int64_t t, tui_at *out)
{
    if (idx < 0 || (size_t)idx >= m->ntasks) return -EINVAL;
    tui_at_cache *c = &m->at[idx];
    if (c->valid && t >= c->lo && t < c->hi) {
        c->t = t; /* state_text asks holders at the time the state was asked for */
        *out = c->at;
        return 0;
    }
    const tui_task *k = &m->tasks[idx];
    tui_at a = { .on_task_idx = -1, .on_name = "", .at = "", .until = -1 };
    int r = 0;
    int64_t lo, hi;
    if (t < k->spawn_ts) {
        a.state = TUI_UNBORN;
        a.since = 0;
        a.until = k->spawn_ts;
        lo = INT64_MIN;
        hi = k->spawn_ts;
    } else if (k->end_ts >= 0 && t >= k->end_ts) {
        a.state = k->final_state;
        a.since = k->end_ts;
        lo = k->end_ts;
        hi = INT64_MAX;
    } else if (k->start_ts < 0 || t < k->start_ts) {
        a.state = TUI_READY;
        a.since = k->spawn_ts;
        a.until = k->start_ts;
        lo = k->spawn_ts;
        hi = k->start_ts < 0 ? INT64_MAX : k->start_ts;
    } else {
        r = probe(m, k, t, &a, &lo, &hi);
    }
    if (r < 0) return r;
    /* Never wider than the task's life, whatever its rows said. */
    if (k->end_ts >= 0 && hi > k->end_ts && t < k->end_ts) hi = k->end_ts;
    if (lo > t) lo = t;
    if (hi <= t) hi = t < INT64_MAX ? t + 1 : t; /* t + 1 would overflow (a hostile time); nothing cached */
    c->t = t;
    c->lo = lo;
    c->hi = hi;
    c->valid = 1;
    c->at = a;
    *out = a;
    return 0;
}

/* ---- in words ------------------------------------------------------------ */

const char *tui_model_state_text(tui_model *m, int idx, const tui_at *a)
{
    char *o = m->state_text;
    size_t cap = sizeof m->state_text;
    const tui_task *k = idx >= 0 && (size_t)idx < m->ntasks ? &m->tasks[idx] : NULL;
    switch (a->state) {
    case TUI_WAITING:
        switch (a->wait) {
        case CO_WAIT_TASK:
            snprintf(o, cap, "awaiting task #%lld %s", (long long)a->on, a->on_name);
            break;
        case CO_WAIT_SLEEP: snprintf(o, cap, "sleeping"); break;
        case CO_WAIT_YIELD: snprintf(o, cap, "yielded"); break;
        case CO_WAIT_TASKS: {
            int kids[1], n = idx >= 0 ? tui__waited_children(m, idx, m->at[idx].t, kids, 1) : 0;
            if (n > 0) snprintf(o, cap, "gathering %d task%s", n, n == 1 ? "" : "s");
            else snprintf(o, cap, "gathering tasks");
            break;
        }
        case CO_WAIT_GROUP: snprintf(o, cap, "waiting on its task group"); break;
        case CO_WAIT_THREAD: snprintf(o, cap, "waiting on a thread"); break;
        case CO_WAIT_PROCESS: snprintf(o, cap, "waiting on a process"); break;
        default:
            if (a->on && *a->on_name) {
                int n = snprintf(o, cap, "waiting on %s '%s'", tr_wait_name((unsigned)a->wait), a->on_name);
                int64_t holder;
                if ((a->wait == CO_WAIT_LOCK || a->wait == CO_WAIT_SEM) && n > 0 && (size_t)n < cap &&
                    tui__holders_at(m, a->on, m->at[idx].t, &holder, 1) > 0) {
                    int h = tui_model_task_index(m, holder);
                    snprintf(o + n, cap - (size_t)n, " %s #%lld %s", tui_model_holder_word(a->wait), (long long)holder,
                             h >= 0 ? m->tasks[h].name : "?");
                }
            } else {
                snprintf(o, cap, "waiting on %s", tr_wait_name((unsigned)a->wait));
            }
        }
        break;
    case TUI_DONE:
        if (k && k->has_result && k->result) snprintf(o, cap, "done (%lld)", (long long)k->result);
        else snprintf(o, cap, "done");
        break;
    case TUI_FAILED:
        snprintf(o, cap, "failed: %s", k && k->has_result ? co_strerror((int)k->result) : "?");
        break;
    default: snprintf(o, cap, "%s", tui_state_name(a->state)); break;
    }
    return o;
}

const char *tui_model_holder_word(int wait) { return wait == CO_WAIT_SEM ? "last taken by" : "held by"; }

/* ---- the Tasks view's rows -------------------------------------------------- */

typedef struct sort_ctx {
    tui_model *m;
    int col, desc;
} sort_ctx;
static sort_ctx g_sort; /* qsort has no context argument; one UI thread */

static int cmp_i64(int64_t a, int64_t b) { return a < b ? -1 : a > b; }

static int cmp_rows(const void *pa, const void *pb)
{
    int a = *(const int *)pa, b = *(const int *)pb;
    const tui_task *x = &g_sort.m->tasks[a], *y = &g_sort.m->tasks[b];
    int c = 0;
    switch (g_sort.col) {
    case TUI_COL_NAME: c = strcmp(x->name, y->name); break;
    case TUI_COL_STATE: c = cmp_i64(g_sort.m->at[a].at.state, g_sort.m->at[b].at.state); break;
    case TUI_COL_BUSY: c = cmp_i64(x->busy_ns, y->busy_ns); break;
    case TUI_COL_WAIT: c = cmp_i64(x->wait_ns, y->wait_ns); break;
    case TUI_COL_TOTAL: c = cmp_i64(x->total_ns, y->total_ns); break;
    case TUI_COL_STEPS: c = cmp_i64(x->steps, y->steps); break;
    case TUI_COL_AWAITS: c = cmp_i64(x->awaits, y->awaits); break;
    case TUI_COL_SPAWNED_AT: c = strcmp(x->spawn_at, y->spawn_at); break;
    default: break;
    }
    if (g_sort.desc) c = -c;
    return c ? c : cmp_i64(x->id, y->id); /* ties by id, always ascending: stable to the eye */
}

size_t tui_model_task_rows(tui_model *m, int64_t t, int col, int desc, const char *filter, const int **rows)
{
    *rows = NULL;
    if (m->rows_cap < m->ntasks + 1) {
        int *r = realloc(m->rows, (m->ntasks + 1) * sizeof *r);
        if (!r) return 0;
        m->rows = r;
        m->rows_cap = m->ntasks + 1;
    }
    int have_filter = filter && *filter;
    size_t n = 0;
    for (size_t i = 0; i < m->ntasks; i++) {
        if (have_filter || col == TUI_COL_STATE) {
            tui_at a;
            if (tui_model_task_at(m, (int)i, t, &a) < 0) continue;
            if (have_filter) {
                char id[24];
                snprintf(id, sizeof id, "#%lld", (long long)m->tasks[i].id);
                if (!strcasestr(m->tasks[i].name, filter) && !strcasestr(m->tasks[i].spawn_at, filter) &&
                    strcmp(id, filter) != 0 && !strcasestr(tui_model_state_text(m, (int)i, &a), filter))
                    continue;
            }
        }
        m->rows[n++] = (int)i;
    }
    g_sort = (sort_ctx){ m, col, desc };
    if ((col != TUI_COL_ID || desc) && n > 1) qsort(m->rows, n, sizeof *m->rows, cmp_rows);
    *rows = m->rows;
    return n;
}

/* ---- the await chain ------------------------------------------------------- */

/* A deadlock warning about task k during its step [since, t]: the runtime
 * refused a wait that would have closed a cycle, so the task runs on, but
 * the cycle is what the user came to see. */
static const tui_warning *refusal(tui_model *m, const tui_task *k, const tui_at *a, int64_t t)
{
    if (a->state != TUI_RUNNING) return NULL;
    for (size_t i = 0; i < m->nwarn; i++) {
        const tui_warning *w = &m->warn[i];
        if (w->ts > t) break;
        if (w->kind == TR_WARN_DEADLOCK && w->task == k->id && w->ts >= a->since && w->resource) return w;
    }
    return NULL;
}

/* The tasks a gather, wait or group of task idx waits for at t: its
 * children still alive at t (the trace records the await, not its list:
 * a child that has ended no longer holds it up).  The first cap into out;
 * returns how many there are.  The chain and the tree both ask here. */
int tui__waited_children(tui_model *m, int idx, int64_t t, int *out, int cap)
{
    int n = 0;
    for (int c = m->tasks[idx].first_child; c >= 0; c = m->tasks[c].next_sibling) {
        const tui_task *k = &m->tasks[c];
        if (t < k->spawn_ts || (k->end_ts >= 0 && t >= k->end_ts)) continue;
        if (n < cap) out[n] = c;
        n++;
    }
    return n;
}

typedef struct chain_pass {
    tui_model *m;
    int64_t t;
    tui_link *out;
    int n, cap;
    int path[64];           /* task links of the branch being followed, by link index */
    int npath;
} chain_pass;

static int find_task_link(const tui_link *l, int n, int idx)
{
    for (int i = 0; i < n; i++)
        if (l[i].is_task && l[i].task_idx == idx) return i;
    return -1;
}

/* Task idx's chain at depth: the task, what it waits on, whoever holds
 * that, and so on; a gather branches into the tasks it waits for, each
 * followed one level deeper. */
static void follow(chain_pass *p, int idx, int depth)
{
    tui_model *m = p->m;
    int64_t t = p->t;
    int path0 = p->npath, first = p->n;
    while (idx >= 0 && (size_t)idx < m->ntasks && p->n < p->cap) {
        int on_path = -1, before = find_task_link(p->out, p->n, idx);
        for (int i = 0; i < p->npath; i++)
            if (p->out[p->path[i]].task_idx == idx) on_path = p->path[i];
        const tui_task *k = &m->tasks[idx];
        tui_at a;
        if (tui_model_task_at(m, idx, t, &a) < 0) break;
        tui_link *l = &p->out[p->n++];
        *l = (tui_link){ .is_task = 1, .id = k->id, .task_idx = idx, .res_idx = -1, .state = a.state, .wait = a.wait,
                         .name = k->name, .at = a.at, .since = a.since, .cycle_to = on_path, .depth = depth,
                         .shown_above = on_path < 0 && before >= 0, .branch = depth > 0 && p->n - 1 == first };
        if (on_path >= 0 || before >= 0 || p->n >= p->cap) break;
        if (p->npath < 64) p->path[p->npath++] = p->n - 1;
        int64_t res = 0;
        int refused = 0;
        if (a.state == TUI_WAITING && a.wait == CO_WAIT_TASK) {
            idx = a.on_task_idx;
            continue;
        } else if (a.state == TUI_WAITING) {
            res = a.on;
        } else {
            const tui_warning *w = refusal(m, k, &a, t);
            if (!w) break;
            res = w->resource;
            refused = 1;
        }
        int ri = -1;
        const char *name = res ? res_name_of(m, res, &ri) : "";
        tui_link *r = &p->out[p->n++];
        /* An unnamed wait (a sleep, a gather) has no name of its own: its
         * kind says what it is ("sleep", not "sleep sleep"). */
        *r = (tui_link){ .is_task = 0, .id = res, .task_idx = -1, .res_idx = ri, .wait = refused && ri >= 0 ? m->res[ri].kind : a.wait,
                         .name = name, .at = "", .refused = refused, .cycle_to = -1, .depth = depth };
        if (a.state == TUI_WAITING && (a.wait == CO_WAIT_TASKS || a.wait == CO_WAIT_GROUP)) {
            int kids[16];
            int nk = tui__waited_children(m, idx, t, kids, 16);
            r->ntasks = nk;
            r->more = nk > 16 ? nk - 16 : 0;
            for (int i = 0; i < nk && i < 16 && p->n < p->cap; i++) follow(p, kids[i], depth + 1);
            break;
        }
        if (!res) break; /* a sleep, an I/O: nothing to follow */
        int64_t holders[2];
        int nh = tui__holders_at(m, res, t, holders, 2);
        if (nh <= 0) break;
        r->more = nh - 1;
        r->ntasks = nh;
        idx = tui_model_task_index(m, holders[0]);
    }
    p->npath = path0;
}

int tui_model_chain(tui_model *m, int idx, int64_t t, tui_link *out, int cap)
{
    chain_pass p = { .m = m, .t = t, .out = out, .cap = cap };
    if (cap > 0) follow(&p, idx, 0);
    return p.n;
}

/* ---- the await tree ----------------------------------------------------------- */

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
        a.on_name = res_name_of(m, w->res, NULL);
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
        const tui_warning *w = refusal(m, &m->tasks[idx], a, t);
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

/* ---- histograms and stacks ----------------------------------------------------- */

int64_t tui_model_task_hist(tui_model *m, int idx, int which, int64_t buckets[TUI_HIST_BUCKETS])
{
    if (idx < 0 || (size_t)idx >= m->ntasks) return -EINVAL;
    which = which != 0;
    if (m->hist_idx != idx) {
        /* Both at once (the detail draws both every frame): a busy task's
         * from what the builder wrote, another's from its few step rows. */
        int r = tr_task_hist(m->q, m->tasks[idx].id, m->hist, m->hist_n);
        if (r < 0) return r;
        m->hist_idx = idx;
    }
    memcpy(buckets, m->hist[which], sizeof m->hist[which]);
    return m->hist_n[which];
}

const tui_warning *tui_model_stack_warning(tui_model *m, int idx, int64_t t)
{
    if (idx < 0 || (size_t)idx >= m->ntasks || !m->has_stack || !m->has_stack[idx]) return NULL;
    const tui_warning *first = NULL, *best = NULL;
    for (size_t i = 0; i < m->nwarn; i++) {
        const tui_warning *w = &m->warn[i];
        if (w->task != m->tasks[idx].id || !*w->stack) continue;
        if (!first) first = w;
        if (w->ts <= t) best = w;
    }
    return best ? best : first;
}

int tui_model_stack_covers(const tui_warning *w, int64_t t)
{
    /* A slow step's stack was taken during the step [ts, ts + dur]; a
     * crash's at the fault, after which the task runs no more. */
    if (!w) return 0;
    if (w->dur > 0) return t >= w->ts && t <= w->ts + w->dur;
    return t >= w->ts;
}

const char *tui_model_task_stack(tui_model *m, int idx, int64_t t, const char **why)
{
    if (why) *why = "";
    const tui_warning *w = tui_model_stack_warning(m, idx, t);
    if (!w) return "";
    if (why) *why = w->kind_name;
    return w->stack;
}
