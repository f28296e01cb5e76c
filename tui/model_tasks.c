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
    *hi = t + 1; /* the cases below that know better say so */
    sqlite3_stmt *st = m->st_step_at;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, k->id);
    sqlite3_bind_int64(st, 2, t);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) return -EILSEQ;
        /* spawned, no step yet */
        a->state = TUI_READY;
        a->since = k->spawn_ts;
        a->until = k->start_ts;
        return 0;
    }
    int64_t start = sqlite3_column_int64(st, 0), end = sqlite3_column_int64(st, 1);
    const char *wait = (const char *)sqlite3_column_text(st, 2);
    int has_wait = wait != NULL;
    int wk = has_wait ? tr_wait_from_name(wait) : -1;
    int64_t res = sqlite3_column_int64(st, 3);
    int has_resumed = sqlite3_column_type(st, 4) != SQLITE_NULL;
    int64_t resumed = sqlite3_column_int64(st, 4);
    int64_t loc = sqlite3_column_int64(st, 5), end_loc = sqlite3_column_int64(st, 6);
    int open = sqlite3_column_int(st, 7);
    sqlite3_reset(st);
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
    if (hi <= t) hi = t + 1;
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
        case CO_WAIT_TASKS: snprintf(o, cap, "gathering tasks"); break;
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
                    snprintf(o + n, cap - (size_t)n, " held by #%lld %s", (long long)holder, h >= 0 ? m->tasks[h].name : "?");
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

static int find_task_link(const tui_link *l, int n, int idx)
{
    for (int i = 0; i < n; i++)
        if (l[i].is_task && l[i].task_idx == idx) return i;
    return -1;
}

int tui_model_chain(tui_model *m, int idx, int64_t t, tui_link *out, int cap)
{
    int n = 0;
    while (idx >= 0 && (size_t)idx < m->ntasks && n < cap) {
        int again = find_task_link(out, n, idx);
        const tui_task *k = &m->tasks[idx];
        tui_at a;
        if (tui_model_task_at(m, idx, t, &a) < 0) break;
        tui_link *l = &out[n++];
        *l = (tui_link){ .is_task = 1, .id = k->id, .task_idx = idx, .res_idx = -1, .state = a.state, .wait = a.wait,
                         .name = k->name, .at = a.at, .since = a.since, .cycle_to = again };
        if (again >= 0 || n >= cap) break;
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
        tui_link *r = &out[n++];
        *r = (tui_link){ .is_task = 0, .id = res, .task_idx = -1, .res_idx = ri, .wait = refused && ri >= 0 ? m->res[ri].kind : a.wait,
                         .name = *name ? name : tr_wait_name((unsigned)a.wait), .at = "", .refused = refused,
                         .cycle_to = -1 };
        if (!res) break; /* a sleep, a gather: nothing to follow */
        int64_t holders[2];
        int nh = tui__holders_at(m, res, t, holders, 2);
        if (nh <= 0) break;
        r->more_holders = nh - 1;
        idx = tui_model_task_index(m, holders[0]);
    }
    return n;
}

/* ---- the await tree ----------------------------------------------------------- */

/* What task idx waits on at t, as tasks: the task it awaits, the holders
 * of what it wants, or its live children when it gathers. */
static int targets(tui_model *m, int idx, int64_t t, const tui_at *a, int *out, int cap)
{
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
        int nh = tui__holders_at(m, res, t, h, 16);
        for (int i = 0; i < nh && i < 16 && n < cap; i++) {
            int j = tui_model_task_index(m, h[i]);
            if (j >= 0 && j != idx) out[n++] = j;
        }
        return n;
    }
    if (a->state == TUI_WAITING && (a->wait == CO_WAIT_TASKS || a->wait == CO_WAIT_GROUP)) {
        for (int c = m->tasks[idx].first_child; c >= 0 && n < cap; c = m->tasks[c].next_sibling) {
            tui_at ca;
            if (tui_model_task_at(m, c, t, &ca) == 0 && ca.state >= TUI_READY && ca.state <= TUI_WAITING) out[n++] = c;
        }
    }
    return n;
}

static int push_row(tui_model *m, size_t *n, int depth, int idx, int via_holder, int cycle, int64_t t)
{
    if (*n >= 50000) return -1; /* a tree nobody reads to the end */
    if (*n >= m->tree_cap) {
        size_t cap = m->tree_cap ? 2 * m->tree_cap : 256;
        tui_tree_row *r = realloc(m->tree, cap * sizeof *r);
        if (!r) return -1;
        m->tree = r;
        m->tree_cap = cap;
    }
    tui_tree_row *r = &m->tree[(*n)++];
    r->depth = depth;
    r->task_idx = idx;
    tui_model_task_at(m, idx, t, &r->at);
    r->via_holder = via_holder;
    r->cycle = cycle;
    r->stack = r->at.state == TUI_WAITING || r->at.state == TUI_RUNNING ? tui_model_task_stack(m, idx, t, NULL) : "";
    return 0;
}

static void walk(tui_model *m, size_t *n, int idx, int depth, int64_t t, int *path, unsigned char *seen)
{
    path[depth] = idx;
    seen[idx] = 1;
    tui_at a;
    if (tui_model_task_at(m, idx, t, &a) < 0) return;
    int kids[64];
    int nk = targets(m, idx, t, &a, kids, 64);
    int via_holder = !(a.state == TUI_WAITING && (a.wait == CO_WAIT_TASK || a.wait == CO_WAIT_TASKS || a.wait == CO_WAIT_GROUP));
    for (int i = 0; i < nk; i++) {
        int on_path = 0;
        for (int d = 0; d <= depth; d++) on_path |= path[d] == kids[i];
        if (push_row(m, n, depth + 1, kids[i], via_holder, on_path, t) < 0) return;
        if (!on_path && depth + 1 < 60) walk(m, n, kids[i], depth + 1, t, path, seen);
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
    unsigned char *awaited = calloc(nt + 1, 1), *seen = calloc(nt + 1, 1), *alive = calloc(nt + 1, 1);
    int path[64];
    if (!awaited || !seen || !alive) goto done;
    for (size_t i = 0; i < nt; i++) {
        tui_at a;
        if (tui_model_task_at(m, (int)i, t, &a) < 0) continue;
        if (a.state < TUI_READY || a.state > TUI_WAITING) continue;
        alive[i] = 1;
        int kids[64];
        int nk = targets(m, (int)i, t, &a, kids, 64);
        for (int k = 0; k < nk; k++) awaited[kids[k]] = 1;
    }
    /* Roots: live tasks nobody live awaits.  Then whatever is left unseen
     * is inside a cycle with no way in: draw it from its lowest id. */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < nt; i++) {
            if (!alive[i] || seen[i] || (pass == 0 && awaited[i])) continue;
            if (push_row(m, &n, 0, (int)i, 0, 0, t) < 0) goto done;
            walk(m, &n, (int)i, 0, t, path, seen);
        }
done:
    free(awaited);
    free(seen);
    free(alive);
    m->tree_t = t;
    m->tree_n = n;
    m->tree_gen = m->gen;
    *out = m->tree;
    return n;
}

/* ---- histograms and stacks ----------------------------------------------------- */

static int bucket_of(int64_t ns)
{
    int64_t us = ns / 1000;
    int b = 0;
    while (us > 0 && b < TUI_HIST_BUCKETS - 1) {
        us >>= 1;
        b++;
    }
    return b;
}

int64_t tui_model_task_hist(tui_model *m, int idx, int which, int64_t buckets[TUI_HIST_BUCKETS])
{
    if (idx < 0 || (size_t)idx >= m->ntasks) return -EINVAL;
    which = which != 0;
    if (m->hist_idx != idx) {
        /* Both at once, in one read of the task's step rows: the detail
         * draws both every frame. */
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(m->db, "SELECT end - start, open, resumed - end FROM spans WHERE task = ? AND kind = 'step'",
                               -1, &st, NULL) != SQLITE_OK)
            return -EILSEQ;
        sqlite3_bind_int64(st, 1, m->tasks[idx].id);
        memset(m->hist, 0, sizeof m->hist);
        memset(m->hist_n, 0, sizeof m->hist_n);
        while (sqlite3_step(st) == SQLITE_ROW) {
            if (!sqlite3_column_int(st, 1)) {
                m->hist[0][bucket_of(sqlite3_column_int64(st, 0))]++;
                m->hist_n[0]++;
            }
            if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
                m->hist[1][bucket_of(sqlite3_column_int64(st, 2))]++;
                m->hist_n[1]++;
            }
        }
        sqlite3_finalize(st);
        m->hist_idx = idx;
    }
    memcpy(buckets, m->hist[which], sizeof m->hist[which]);
    return m->hist_n[which];
}

const char *tui_model_task_stack(tui_model *m, int idx, int64_t t, const char **why)
{
    if (why) *why = "";
    if (idx < 0 || (size_t)idx >= m->ntasks || !m->has_stack || !m->has_stack[idx]) return "";
    const tui_warning *first = NULL, *best = NULL;
    for (size_t i = 0; i < m->nwarn; i++) {
        const tui_warning *w = &m->warn[i];
        if (w->task != m->tasks[idx].id || !*w->stack) continue;
        if (!first) first = w;
        if (w->ts <= t) best = w;
    }
    const tui_warning *w = best ? best : first;
    if (!w) return "";
    if (why) *why = w->kind_name;
    return w->stack;
}
