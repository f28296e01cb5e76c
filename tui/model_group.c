/* SPDX-License-Identifier: MIT */
/* model_group.c -- tasks grouped by spawn site (gotraceui's goroutine
 * analysis): the 72 tasks one line of code spawned are one row, with how
 * many there are, their states at t, and the spread of their busy and
 * waiting times, unfolding into the tasks.
 *
 * The groups are made from the rows the Tasks view would list (filtered
 * and sorted), so a filter narrows them and an unfolded group lists its
 * tasks in the view's order.  Figures are each task's whole life, as the
 * Tasks view's are; states are at t (tui_model_task_at, cached per task).
 */
#include "model_int.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static tui_model *g_m; /* qsort has no context argument; one UI thread */
static const int *g_rank; /* position of each task in the view's rows */

static int cmp_site(const void *pa, const void *pb)
{
    int a = *(const int *)pa, b = *(const int *)pb;
    int c = strcmp(g_m->tasks[a].spawn_at, g_m->tasks[b].spawn_at);
    return c ? c : (g_rank[a] > g_rank[b]) - (g_rank[a] < g_rank[b]);
}

static int cmp_first(const void *pa, const void *pb)
{
    const tui_group *a = pa, *b = pb;
    int x = g_rank[g_m->grp_members[a->first]], y = g_rank[g_m->grp_members[b->first]];
    return (x > y) - (x < y);
}

static int cmp_i64(const void *pa, const void *pb)
{
    int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
    return (a > b) - (a < b);
}

/* Nearest-rank percentiles of v[0, n), sorted in place. */
static void spread(int64_t *v, size_t n, int64_t out[TUI_PCT_COUNT])
{
    qsort(v, n, sizeof *v, cmp_i64);
    static const int pct[TUI_PCT_COUNT] = { 50, 90, 99, 100 };
    for (int i = 0; i < TUI_PCT_COUNT; i++) {
        size_t r = (size_t)(((double)pct[i] * (double)n + 99.0) / 100.0); /* ceil(p/100 * n) */
        out[i] = n ? v[(r ? r : 1) - 1] : 0;
    }
}

size_t tui_model_groups(tui_model *m, int64_t t, const int *rows, size_t n, const tui_group **out,
                        const int **members)
{
    *out = NULL;
    *members = NULL;
    if (n > m->ntasks) return 0;
    free(m->grp);
    free(m->grp_members);
    m->grp = NULL;
    m->ngrp = 0;
    m->grp_members = malloc((n + 1) * sizeof *m->grp_members);
    int *rank = malloc((m->ntasks + 1) * sizeof *rank);
    int64_t *v = malloc((n + 1) * sizeof *v);
    if (!m->grp_members || !rank || !v) goto fail;
    for (size_t i = 0; i < n; i++) rank[rows[i]] = (int)i;
    memcpy(m->grp_members, rows, n * sizeof *rows);
    g_m = m;
    g_rank = rank;
    qsort(m->grp_members, n, sizeof *m->grp_members, cmp_site);
    size_t ng = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || strcmp(m->tasks[m->grp_members[i]].spawn_at, m->tasks[m->grp_members[i - 1]].spawn_at)) ng++;
    m->grp = calloc(ng + 1, sizeof *m->grp);
    if (!m->grp) goto fail;
    size_t g = 0;
    for (size_t i = 0; i < n; g++) {
        size_t j = i;
        const tui_task *k0 = &m->tasks[m->grp_members[i]];
        while (j < n && !strcmp(m->tasks[m->grp_members[j]].spawn_at, k0->spawn_at)) j++;
        tui_group *x = &m->grp[g];
        x->spawn_at = k0->spawn_at;
        x->spawn_func = k0->spawn_func;
        x->name = k0->name;
        x->first = (int)i;
        x->ntasks = (int)(j - i);
        for (size_t k = i; k < j; k++) {
            const tui_task *tk = &m->tasks[m->grp_members[k]];
            if (strcmp(tk->name, x->name)) x->names_differ = 1;
            tui_at a;
            x->nstate[tui_model_task_at(m, m->grp_members[k], t, &a) == 0 ? a.state : TUI_READY]++;
        }
        for (size_t k = i; k < j; k++) v[k - i] = m->tasks[m->grp_members[k]].busy_ns;
        spread(v, j - i, x->busy);
        for (size_t k = i; k < j; k++) v[k - i] = m->tasks[m->grp_members[k]].wait_ns;
        spread(v, j - i, x->waiting);
        i = j;
    }
    m->ngrp = ng;
    qsort(m->grp, ng, sizeof *m->grp, cmp_first);
    free(rank);
    free(v);
    *out = m->grp;
    *members = m->grp_members;
    return ng;
fail:
    free(rank);
    free(v);
    return 0;
}
