/* SPDX-License-Identifier: MIT */
/* diag_queue.c -- queue_growth: a queue whose depth keeps growing.
 *
 * A producer that outpaces its consumers on an unbounded queue grows it
 * until memory runs out; every put succeeds and no task ever waits, so
 * nothing else notices (127k items waiting at the end, "warnings: none").
 * Every put and get records the depth after it (TR_Q_PUT/TR_Q_GET); here
 * each queue keeps one sample per 50 ms bin (its lowest depth in the bin,
 * and the depth and counts at the bin's end) -- the depth history -- and
 * the sites that put into it and the tasks that take from it.
 *
 * At the end of the trace a queue is told of when it is still deep
 * (at least queue_min items) and got there by growing: the last time it
 * was at a quarter of that depth or less is at least sustain_ms before
 * the end, and it still grew in the second half of that time.  So a burst
 * that fills a queue and drains raises nothing (it ends shallow), nor a
 * bounded queue kept full by back-pressure (flat, and at most its bound),
 * nor a queue filled once and left (it did not keep growing).  Decided at
 * the end, not as it grows: a long burst is growth until it drains.
 */
#include "diag.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tr_dq_event(tr_builder *b, const tr_rec *e, int64_t ts, uint32_t loc, int put)
{
    tr_dx *x = b->dx;
    if (!x || !e->res) return;
    tr_dq *q = tr_map_put(&x->queues, e->res);
    if (!q) return;
    if (!q->s) q->first_ts = ts;
    int64_t depth = (int64_t)e->arg;
    q->depth = depth;
    if (put) {
        q->puts++;
        if (depth == 0) q->gets++; /* handed straight to a waiting getter */
        int k = 0, worst = 0;
        while (k < 4 && q->site[k].n && q->site[k].loc != loc) {
            if (q->site[k].n < q->site[worst].n) worst = k;
            k++;
        }
        if (k == 4) { /* a fifth site: it replaces the least used */
            k = worst;
            q->site[k].n = 0;
        }
        q->site[k].loc = loc;
        q->site[k].n++;
        if (e->task) q->site[k].task = e->task;
    } else {
        q->gets++;
        int seen = 0;
        for (int i = 0; i < q->ncons; i++) seen |= q->cons[i] == e->task;
        if (!seen && e->task) {
            if (q->ncons < 8) q->cons[q->ncons++] = e->task;
            else q->more_cons = 1;
        }
    }
    /* The sample of ts's bin. */
    tr_dq_sample *s = q->n ? &q->s[q->n - 1] : NULL;
    if (!s || s->ts / TR_DQ_BIN_NS != ts / TR_DQ_BIN_NS) {
        if (q->n == q->cap) {
            size_t cap = q->cap ? q->cap * 2 : 64;
            tr_dq_sample *p = realloc(q->s, cap * sizeof *p);
            if (!p) return;
            q->s = p;
            q->cap = cap;
        }
        s = &q->s[q->n++];
        s->low = depth;
    }
    s->ts = ts;
    if (depth < s->low) s->low = depth;
    s->depth = depth;
    s->puts = q->puts;
    s->gets = q->gets;
}

static void growth_warning(tr_builder *b, uint64_t id, tr_dq *q, int64_t end)
{
    const tr_dx_limits *lim = tr_dx_limits_of(b);
    if (q->depth < lim->queue_min || q->n == 0 || lim->sustain_ns <= 0) return;
    /* Where the growth began: the last bin that was at a quarter of the
     * final depth or less (none: since the queue's first event, at 0). */
    int64_t start_ts = q->first_ts, start_depth = 0, puts0 = 0, gets0 = 0;
    size_t i0 = 0;
    for (size_t i = q->n; i-- > 0;)
        if (q->s[i].low <= q->depth / 4) {
            start_ts = q->s[i].ts;
            start_depth = q->s[i].depth;
            puts0 = q->s[i].puts;
            gets0 = q->s[i].gets;
            i0 = i + 1;
            break;
        }
    int64_t dur = end - start_ts;
    if (dur < lim->sustain_ns) return;
    /* Still growing in the second half: not a fill-once-and-stop. */
    int64_t mid_depth = start_depth;
    for (size_t i = i0; i < q->n && q->s[i].ts <= start_ts + dur / 2; i++) mid_depth = q->s[i].depth;
    if (q->depth - mid_depth < (q->depth - start_depth) / 4) return;
    double secs = dur / 1e9, in = (q->puts - puts0) / secs, out = (q->gets - gets0) / secs;
    if (in <= out) return;
    int top = 0;
    for (int k = 1; k < 4; k++)
        if (q->site[k].n > q->site[top].n) top = k;
    char what[240], where[160], who[160], msg[1600];
    tr_wait_label(b, CO_WAIT_QUEUE_GET, id, what, sizeof what);
    const char *qname = what + strlen("an item from ");
    tr_loc_label(b, q->site[top].loc, where, sizeof where);
    tr_task_label(b, q->site[top].task, who, sizeof who);
    size_t n = (size_t)snprintf(msg, sizeof msg,
                                "%s grew for %.1f s without draining, from %lld to %lld items at the end: %.0f puts/s in "
                                "(put at %s, by %s), %.0f gets/s out",
                                qname, secs, (long long)start_depth, (long long)q->depth, in, where, who, out);
    if (q->ncons == 0) {
        n += (size_t)snprintf(msg + n, sizeof msg - n, ", and no consumer took anything");
    } else {
        n += (size_t)snprintf(msg + n, sizeof msg - n, " by %d%s consumer%s ", q->ncons, q->more_cons ? "+" : "",
                              q->ncons > 1 || q->more_cons ? "s" : "");
        for (int c = 0; c < q->ncons && c < 4 && n < sizeof msg; c++) {
            char l[160];
            tr_task_label(b, q->cons[c], l, sizeof l);
            n += (size_t)snprintf(msg + n, sizeof msg - n, "%s%s", c ? ", " : "", l);
        }
        if (q->ncons > 4 && n < sizeof msg) n += (size_t)snprintf(msg + n, sizeof msg - n, ", ...");
    }
    if (n < sizeof msg)
        snprintf(msg + n, sizeof msg - n, "; nothing bounds it (a maxsize would make the producer wait for the "
                 "consumers)");
    tr_warning(b, tr_warning_name(TR_WARN_QUEUE_GROWTH), q->site[top].task, q->ncons ? q->cons[0] : 0, id, start_ts,
               dur, q->site[top].loc, 0, msg);
}

void tr_dq_close(tr_builder *b)
{
    tr_dx *x = b->dx;
    if (!x) return;
    for (size_t i = 0; i < x->queues.cap; i++) {
        if (!x->queues.keys[i]) continue;
        growth_warning(b, x->queues.keys[i], (tr_dq *)(x->queues.vals + i * x->queues.vsize), b->max_ts);
    }
}

void tr_dq_free(tr_builder *b)
{
    tr_dx *x = b->dx;
    for (size_t i = 0; x && i < x->queues.cap; i++)
        if (x->queues.keys[i]) free(((tr_dq *)(x->queues.vals + i * x->queues.vsize))->s);
}
