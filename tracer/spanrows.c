/* SPDX-License-Identifier: MIT */
/* spanrows.c -- spans reach the database in (task, start) order.
 *
 * `spans` is a WITHOUT ROWID table clustered on (task, start, id): "what was
 * task X doing at t" and a task's timeline are range reads of the table
 * itself, with no index to build after the run (building one over millions
 * of rows took a quarter of the time from exit to complete tables).  A
 * clustered table is only cheap to fill in key order -- then every insert
 * appends -- while the builder finds spans in the order they end.  So rows
 * wait here, compact, and are sorted before they go in: grouped by task
 * (a counting pass: task ids are few next to rows), then each task's rows
 * by start.  A task's steps tile its life, so they arrive already in start
 * order; only tasks that also hold locks or open regions need their group
 * sorted.
 *
 * Rows go in every TR_SPAN_BUFFER of them (~80 bytes each), sorted within
 * that window: each task's rows of a window land after its rows of the
 * windows before, so a few insertion points, not one, move through the
 * table.  Measured on a 10M-event ping-pong: windows of 2^18 rows built in
 * 3.1 s against 4.1 s for one flush of everything at the end, because the
 * writer thread (batch.c) inserts while the replay goes on, and a 20 MB
 * buffer reused is not 270 MB faulted in; the file came out no larger.  A
 * live build flushes what each step of it found. */
#include "builder.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TR_SPAN_BUFFER (1u << 18)


tr_span_row *tr_span_add(tr_builder *b)
{
    if (b->nspans == b->capspans) {
        if (b->nspans >= TR_SPAN_BUFFER) {
            if (tr_spans_flush(b) < 0) return NULL;
        } else {
            size_t cap = b->capspans ? b->capspans * 2 : 4096;
            tr_span_row *rows = realloc(b->spans, cap * sizeof *rows);
            if (!rows) {
                if (!b->err) b->err = -ENOMEM;
                return NULL;
            }
            b->spans = rows;
            b->capspans = cap;
        }
    }
    tr_span_row *s = &b->spans[b->nspans++];
    memset(s, 0, sizeof *s);
    s->id = ++b->span_id;
    return s;
}

static const tr_span_row *sort_rows;  /* for cmp_start: qsort has no context argument */

static int cmp_start(const void *a, const void *b)
{
    const tr_span_row *x = &sort_rows[*(const uint32_t *)a], *y = &sort_rows[*(const uint32_t *)b];
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}


static int write_row(tr_builder *b, const tr_span_row *s)
{
    int r = 0;
    int step = s->kind == TR_SPAN_STEP;
    tr_cell *c = tr_batch_next(step ? &b->st : &b->sp, &r);
    if (!c) return r;
    /* Step rows: id task resource start end wait resumed result loc
     * end_loc open (kind is a constant, bin and ring NULL); other spans
     * have kind after id, and bin and ring at the end. */
    if (!step) {
        cell_text(&c[1], tr_span_name(s->kind));
        cell_int(&c[12], s->bin);
        cell_int(&c[13], s->ring);
        if (s->kind == TR_SPAN_WORK && s->queue_ns >= 0) cell_int(&c[14], s->queue_ns); else cell_text(&c[14], NULL);
    }
    tr_cell *d = step ? c + 1 : c + 2; /* from task on */
    cell_int(&c[0], (int64_t)s->id);
    cell_int(&d[0], (int64_t)s->task);
    cell_opt(&d[1], (int64_t)s->res);
    cell_int(&d[2], s->start);
    cell_int(&d[3], s->end);
    cell_text(&d[4], s->wait ? tr_wait_name(s->wait - 1u) : NULL);
    if (s->wait) cell_int(&d[5], s->resumed); else cell_text(&d[5], NULL);
    if (s->wait && !s->open) cell_int(&d[6], s->result); else cell_text(&d[6], NULL);
    cell_opt(&d[7], s->loc);
    cell_opt(&d[8], s->end_loc);
    cell_int(&d[9], s->open);
    return 0;
}

int tr_spans_flush(tr_builder *b)
{
    size_t n = b->nspans;
    if (n == 0 || b->err) return b->err;
    typedef struct { uint64_t count, at; } group;
    tr_map groups;
    tr_map_init(&groups, sizeof(group));
    uint32_t *order = malloc(n * sizeof *order);
    uint64_t *tasks = NULL;
    size_t ntasks = 0;
    int r = order ? 0 : -ENOMEM;
    /* Task 0 (spans of no task) is kept as key ~0 in the map, whose keys
     * cannot be 0, and sorts first all the same. */
    for (size_t i = 0; i < n && r == 0; i++) {
        group *g = tr_map_put(&groups, b->spans[i].task ? b->spans[i].task : ~0ull);
        if (!g) r = -ENOMEM;
        else g->count++;
    }
    if (r == 0 && !(tasks = malloc(groups.len * sizeof *tasks))) r = -ENOMEM;
    if (r == 0) {
        for (size_t i = 0; i < groups.cap; i++)
            if (groups.keys[i]) tasks[ntasks++] = groups.keys[i] == ~0ull ? 0 : groups.keys[i];
        qsort(tasks, ntasks, sizeof *tasks, cmp_u64);
        uint64_t at = 0;
        for (size_t i = 0; i < ntasks; i++) {
            group *g = tr_map_find(&groups, tasks[i] ? tasks[i] : ~0ull);
            g->at = at;
            at += g->count;
        }
        for (size_t i = 0; i < n; i++) {
            group *g = tr_map_find(&groups, b->spans[i].task ? b->spans[i].task : ~0ull);
            order[g->at++] = (uint32_t)i;
        }
        /* Each group is in emission (id) order; sort the ones whose starts
         * are not already in order. */
        sort_rows = b->spans;
        size_t from = 0;
        for (size_t i = 0; i < ntasks; i++) {
            size_t to = ((group *)tr_map_find(&groups, tasks[i] ? tasks[i] : ~0ull))->at;
            for (size_t k = from + 1; k < to; k++)
                if (b->spans[order[k]].start < b->spans[order[k - 1]].start) {
                    qsort(order + from, to - from, sizeof *order, cmp_start);
                    break;
                }
            if (r == 0) r = tr_hist_rows(b, tasks[i], b->spans, order + from, to - from);
            from = to;
        }
        for (size_t i = 0; i < n && r == 0; i++) r = write_row(b, &b->spans[order[i]]);
        if (r == 0) r = tr_batch_flush(&b->st);
        if (r == 0) r = tr_batch_flush(&b->sp);
        if (r == 0) r = tr_waits_flush(b);
    }
    free(order);
    free(tasks);
    tr_map_free(&groups);
    b->nspans = 0;
    if (r < 0 && !b->err) {
        tr_logf("cannot write spans: %s",
                r == -ENOMEM ? "out of memory" : tr_writer_errmsg(b->writer, b->db));
        b->err = r;
    }
    return b->err;
}
