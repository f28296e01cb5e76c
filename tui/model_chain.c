/* SPDX-License-Identifier: MIT */
/* model_chain.c -- the await chain of a task at t: the task, what it
 * waits on, who holds that, what that one waits on ... to a task that
 * runs or sleeps, or back to a task already on the branch (a cycle); at a
 * gather, a wait or a group, one branch per task it still waits for.  A
 * deadlock the runtime refused (the task runs on, with -EDEADLK) is
 * followed as the wait it would have been.  What a gather waits for is
 * model_tasks.c's answer (tui__waited_children), the tree's too; the
 * tree asks here whether a running task's wait was refused.
 */
#include "model_int.h"
#include <stdio.h>
#include <string.h>

/* A deadlock warning about task k during its step [since, t]: the runtime
 * refused a wait that would have closed a cycle, so the task runs on, but
 * the cycle is what the user came to see. */
const tui_warning *tui__refusal(tui_model *m, const tui_task *k, const tui_at *a, int64_t t)
{
    if (a->state != TUI_RUNNING) return NULL;
    for (size_t i = 0; i < m->nwarn; i++) {
        const tui_warning *w = &m->warn[i];
        if (w->ts > t) break;
        if (w->kind == TR_WARN_DEADLOCK && w->task == k->id && w->ts >= a->since && w->resource) return w;
    }
    return NULL;
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
            const tui_warning *w = tui__refusal(m, k, &a, t);
            if (!w) break;
            res = w->resource;
            refused = 1;
        }
        int ri = res ? tui_model_resource_index(m, res) : -1;
        const char *name = ri >= 0 ? m->res[ri].name : "";
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

