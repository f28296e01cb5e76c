/* SPDX-License-Identifier: MIT */
/* model_tasks.c -- tasks at a time t: what each was doing, the Tasks
 * view's sorted and filtered rows, what a task waits on in words, and the
 * histograms and stack of the task detail.  Its await chain is
 * model_chain.c's, the await tree of every task at t model_tree.c's.
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
            a->on_name = tui__res_name(m, res, NULL);
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
