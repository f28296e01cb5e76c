/* SPDX-License-Identifier: MIT */
/* waitrows.c -- the `waits` table: every await that names what it waits
 * on (a resource, a task, the tasks of a gather or group), as an interval
 * with its time bin (reader_bins.c).
 *
 * Why a table of its own: awaits are the tail of `step` rows, clustered by
 * task, so "which tasks wait at t, and on what" was one probe per live
 * task -- a seek in a trace with 100k tasks alive cost half a second in the
 * Resources view and the await tree.  Clustered by what they wait on
 * (rkey), then binned, "who waits on this resource at t" is nine range
 * reads on (rkey, bin, start) whatever the number of tasks, and a view
 * reads only the resources it shows (100k awaits open at t, read all at
 * once, were 50-100 ms a frame).  Yields and sleeps are left out: they name nothing, no
 * view lists their waiters, and they are most of the awaits of a busy
 * program (the table would double the build for no question).
 *
 * Rows wait here and go in sorted by (rkey, bin, start, id) with each window of
 * spans (spanrows.c): awaits end in about the order they start, so the
 * inserts append to a few places of the table instead of landing anywhere.
 * Only final rows are written: a live slice's open awaits are not (a
 * reader of a trace still recording asks the step rows). */
#include "builder.h"
#include <errno.h>
#include <stdlib.h>

int tr_waits_init(tr_builder *b)
{
    return tr_batch_init(&b->wt, b->db, b->writer,
                         "OR REPLACE INTO waits(rkey, bin, start, id, task, end, wait, resource, loc, open)", NULL, 10, 1 << 14);
}

void tr_wait_add(tr_builder *b, const tr_span_row *s)
{
    if (!s->wait) return;
    unsigned kind = s->wait - 1u;
    if (kind == CO_WAIT_YIELD || kind == CO_WAIT_SLEEP || kind == CO_WAIT_NONE) return;
    if (!s->res && kind != CO_WAIT_TASKS && kind != CO_WAIT_GROUP) return;
    if (b->nwaits == b->capwaits) {
        size_t cap = b->capwaits ? 2 * b->capwaits : 1024;
        tr_wait_row *w = realloc(b->waits, cap * sizeof *w);
        if (!w) {
            if (!b->err) b->err = -ENOMEM;
            return;
        }
        b->waits = w;
        b->capwaits = cap;
    }
    tr_wait_row *w = &b->waits[b->nwaits++];
    w->start = s->end;
    w->end = s->resumed < s->end ? s->end : s->resumed;
    w->bin = tr_span_bin(w->start, w->end);
    /* Awaits on tasks share key 0: a task id is not a resource id, and the
     * await tree asks for all of them at once. */
    w->rkey = kind == CO_WAIT_TASK || kind == CO_WAIT_TASKS || kind == CO_WAIT_GROUP ? 0 : (int64_t)s->res;
    w->id = s->id;
    w->task = s->task;
    w->res = s->res;
    w->loc = s->end_loc;
    w->wait = (uint8_t)kind;
    w->open = s->open;
}

static int cmp_wait(const void *a, const void *b)
{
    const tr_wait_row *x = a, *y = b;
    if (x->rkey != y->rkey) return x->rkey < y->rkey ? -1 : 1;
    if (x->bin != y->bin) return x->bin < y->bin ? -1 : 1;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

int tr_waits_flush(tr_builder *b)
{
    size_t n = b->nwaits;
    if (n == 0 || b->err) return b->err;
    qsort(b->waits, n, sizeof *b->waits, cmp_wait);
    int r = 0;
    for (size_t i = 0; i < n && r == 0; i++) {
        const tr_wait_row *w = &b->waits[i];
        tr_cell *c = tr_batch_next(&b->wt, &r);
        if (!c) break;
        cell_int(&c[0], w->rkey);
        cell_int(&c[1], w->bin);
        cell_int(&c[2], w->start);
        cell_int(&c[3], (int64_t)w->id);
        cell_int(&c[4], (int64_t)w->task);
        cell_int(&c[5], w->end);
        cell_text(&c[6], tr_wait_name(w->wait));
        cell_opt(&c[7], (int64_t)w->res);
        cell_opt(&c[8], w->loc);
        cell_int(&c[9], w->open);
    }
    if (r == 0) r = tr_batch_flush(&b->wt);
    b->nwaits = 0;
    if (r < 0 && !b->err) b->err = r;
    return b->err;
}
