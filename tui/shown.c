/* SPDX-License-Identifier: MIT */
/* shown.c -- which tasks the lists show (see view.h): the filter (`\`,
 * F4) and hiding the ended ones (H) of the Tasks view, applied to the
 * task trees of the Timeline and the Await tree too, where a task left out
 * still shows as the ancestor of one shown so the tree reads; and the
 * tasks a search (`/`) matches.  A match is the model's own (the Tasks
 * filter's: name, state at the cursor, spawn site), asked once per
 * (cursor, pattern) and kept as a byte per task.
 */
#include "view.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tui_task_hidden(tui_app *a, int idx)
{
    const tui_task *tk;
    size_t n = tui_model_tasks(a->m, &tk);
    return a->hide_done && idx >= 0 && (size_t)idx < n && tk[idx].end_ts >= 0 && tk[idx].end_ts <= a->t;
}

/* A byte per task, grown with the tasks (a live trace adds them). */
typedef struct bytes {
    unsigned char *v;
    size_t n;
} bytes;

static int grow(bytes *b, size_t n)
{
    if (n <= b->n && b->v) return 0;
    unsigned char *v = realloc(b->v, n ? n : 1);
    if (!v) return -1;
    b->v = v;
    b->n = n;
    return 0;
}

static bytes match;
static int64_t match_t = -1;
static size_t match_ntasks;
static uint64_t match_model;   /* which model the bytes are of (a pointer's bits) */
static char match_pat[TUI_FILTER_CAP];

const unsigned char *tui_tasks_matching(tui_app *a, const char *pattern)
{
    const tui_task *tk;
    size_t n = tui_model_tasks(a->m, &tk);
    if (grow(&match, n) < 0) return NULL;
    if (match_t == a->t && match_ntasks == n && match_model == (uint64_t)(uintptr_t)a->m &&
        !strcmp(match_pat, pattern))
        return match.v;
    memset(match.v, 0, n);
    const int *rows;
    size_t k = tui_model_task_rows(a->m, a->t, TUI_COL_ID, 0, pattern, &rows);
    for (size_t i = 0; i < k; i++)
        if (rows[i] >= 0 && (size_t)rows[i] < n) match.v[rows[i]] = 1;
    match_t = a->t;
    match_ntasks = n;
    match_model = (uint64_t)(uintptr_t)a->m;
    snprintf(match_pat, sizeof match_pat, "%s", pattern);
    return match.v;
}

static bytes kept;

const unsigned char *tui_tasks_kept(tui_app *a, int view)
{
    const char *f = a->filter[view];
    if (!f[0] && !a->hide_done) return NULL;
    const tui_task *tk;
    size_t n = tui_model_tasks(a->m, &tk);
    const unsigned char *m = f[0] ? tui_tasks_matching(a, f) : NULL;
    if ((f[0] && !m) || grow(&kept, n) < 0) return NULL;
    memset(kept.v, 0, n);
    for (size_t i = 0; i < n; i++) {
        if ((m && !m[i]) || tui_task_hidden(a, (int)i)) continue;
        kept.v[i] = 1;
        /* Its ancestors, up to one already kept (parents come first by
         * index or not: the walk stops at any kept one). */
        for (int p = tk[i].parent_idx; p >= 0 && (size_t)p < n && !kept.v[p]; p = tk[p].parent_idx) kept.v[p] = 2;
    }
    return kept.v;
}

int tui_tree_kept(tui_app *a, const tui_tree_row *rows, size_t n, unsigned char *keep)
{
    const char *f = a->filter[TUI_V_TREE];
    if (!f[0]) return 0;
    const unsigned char *m = tui_tasks_matching(a, f);
    const tui_task *tk;
    size_t ntasks = tui_model_tasks(a->m, &tk);
    /* Rows come in preorder: the ancestors of row i are the latest rows
     * at each smaller depth, kept on a stack as the rows go by. */
    static size_t *up;
    static size_t up_cap;
    if (n + 1 > up_cap) {
        size_t *u = realloc(up, (n + 1) * sizeof *u);
        if (!u) return 0;
        up = u;
        up_cap = n + 1;
    }
    memset(keep, 0, n);
    memset(up, 0, (n + 1) * sizeof *up);   /* a depth that jumps (a hostile trace) finds row 0 */
    for (size_t i = 0; i < n; i++) {
        int d = rows[i].depth;
        if (d < 0 || (size_t)d > n) d = 0;
        up[d] = i;
        int ti = rows[i].task_idx;
        if (!m || ti < 0 || (size_t)ti >= ntasks || !m[ti]) continue;
        keep[i] = 1;
        for (int k = d - 1; k >= 0 && !keep[up[k]]; k--) keep[up[k]] = 2;
    }
    return 1;
}
