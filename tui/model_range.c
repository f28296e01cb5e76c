/* SPDX-License-Identifier: MIT */
/* model_range.c -- where time went over a range of the run (the Timeline's
 * marked range): per task alive in it, its running, its waits by kind and
 * its idle time (alive, neither running nor waiting: ready, not run); per
 * loop, its busy and idle time.  The sums are the reader's
 * (tr_task_range, tr_loop_idle); this file picks the tasks and orders
 * them, busiest first. */
#include "model_int.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(CO_WAIT_KIND_COUNT <= TUI_WAIT_KINDS, "a range's waits by kind");

static int cmp_busy(const void *pa, const void *pb)
{
    const tui_range_task *a = pa, *b = pb;
    if (a->busy != b->busy) return a->busy < b->busy ? 1 : -1;
    if (a->wait != b->wait) return a->wait < b->wait ? 1 : -1;
    return (a->idx > b->idx) - (a->idx < b->idx);
}

int tui_model_range(tui_model *m, int64_t from, int64_t to, const tui_range **out)
{
    *out = NULL;
    if (to <= from || from < 0) return -EINVAL;
    tui_range *g = &m->range;
    if (g->tasks && m->range_gen == m->gen && g->from == from && g->to == to) {
        *out = g;
        return 0;
    }
    free(g->tasks);
    memset(g, 0, sizeof *g);
    m->range_gen = m->gen - 1; /* not kept until it is whole */
    g->from = from;
    g->to = to;
    size_t n = 0, rows = 0;
    for (size_t i = 0; i < m->ntasks; i++) {
        const tui_task *k = &m->tasks[i];
        if (k->spawn_ts < to && (k->end_ts < 0 || k->end_ts > from)) n++;
    }
    g->tasks = calloc(n + 1, sizeof *g->tasks);
    if (!g->tasks) return -ENOMEM;
    int64_t end = m->info.duration_ns;
    for (size_t i = 0; i < m->ntasks && g->ntasks < n; i++) {
        const tui_task *k = &m->tasks[i];
        if (!(k->spawn_ts < to && (k->end_ts < 0 || k->end_ts > from))) continue;
        if (rows >= TUI_RANGE_ROWS) {
            g->truncated = 1;
            break;
        }
        tr_range_sum s;
        int r = tr_task_range(m->q, k->id, from, to, end, TUI_RANGE_ROWS - rows, &s);
        if (r < 0) return r;
        rows += s.rows;
        g->truncated |= s.truncated;
        tui_range_task *x = &g->tasks[g->ntasks++];
        x->idx = (int)i;
        x->busy = s.run;
        x->wait = s.wait;
        memcpy(x->by_kind, s.by_kind, sizeof s.by_kind);
        int64_t a = k->spawn_ts > from ? k->spawn_ts : from;
        int64_t b = k->end_ts >= 0 && k->end_ts < to ? k->end_ts : to;
        int64_t alive = b > a ? b - a : 0, used; /* a, b within [from, to]: no overflow */
        if (__builtin_add_overflow(s.run, s.wait, &used) || used > alive) used = alive; /* a file's rows that overlap */
        x->idle = alive - used;
        if (__builtin_add_overflow(g->busy, s.run, &g->busy)) g->busy = INT64_MAX;
    }
    qsort(g->tasks, g->ntasks, sizeof *g->tasks, cmp_busy);
    /* The loops: the rings tasks run on, each from its thread's first
     * event (or the range's start) to the range's end. */
    int64_t idle[TR_NRINGS];
    int r = tr_loop_idle(m->db, from, to, idle);
    if (r < 0) return r;
    unsigned char has[TR_NRINGS] = { 0 };
    for (size_t i = 0; i < m->ntasks; i++)
        if (m->tasks[i].ring < TR_NRINGS) has[m->tasks[i].ring] = 1;
    for (uint32_t ring = 0; ring < TR_NRINGS && g->nloops < TUI_RANGE_LOOPS; ring++) {
        if (!has[ring]) continue;
        tui_range_loop *l = &g->loops[g->nloops++];
        l->ring = ring;
        l->idle = idle[ring] < to - from ? idle[ring] : to - from; /* to - from: both >= 0 */
        l->busy = to - from - l->idle;
    }
    m->range_gen = m->gen;
    *out = g;
    return 0;
}
