/* SPDX-License-Identifier: MIT */
/* reader_queue.c -- a queue as the recording tells it: its depth at t
 * (each put and get records the depth after it) and the awaits on it near
 * t.  For a trace whose summaries are not built yet (a live one) and for
 * a queue's detail; tr_queue_depths (reader_series.c) answers a run-wide
 * line from the builder's buckets instead.  Bounded reads: "near t" looks
 * at a few chunks of the queue's ring, never the whole run.
 */
#include "reader_int.h"

int64_t tr_queue_depth_near(tr_chunks *c, uint32_t ring, int64_t res, int64_t t)
{
    int looked = 0;
    for (size_t ci = c->n; ci-- > 0 && looked < 4;) {
        const tr_chunk *ch = &c->dir[ci];
        if (ch->ring != ring || ch->first > t) continue;
        const tr_chunk_events *d = tr_chunk_events_of(c, ci);
        looked++;
        for (size_t i = d ? d->n : 0; i-- > 0;) {
            unsigned kind = d->recs[i].kind_loc & 0xff;
            if (d->ns[i] > t || d->recs[i].res != (uint64_t)res || (kind != TR_Q_PUT && kind != TR_Q_GET)) continue;
            return (int64_t)d->recs[i].arg;
        }
    }
    return -1;
}

size_t tr_queue_awaits(tr_chunks *c, uint32_t ring, int64_t res, int64_t t, size_t cap, tr_found *out, size_t *nbefore)
{
    size_t mid = c->n;
    for (size_t ci = 0; ci < c->n; ci++)
        if (c->dir[ci].ring == ring && c->dir[ci].last >= t) {
            mid = ci;
            break;
        }
    size_t n = 0;
    *nbefore = 0;
    /* Back from t, then forward, at most 8 chunks each way: a queue little
     * used near t must not make it read the whole run. */
    for (int dir = -1; dir <= 1; dir += 2) {
        int read = 0;
        size_t want = dir < 0 ? cap / 2 : cap - n, got = 0;
        for (size_t ci = dir < 0 ? (mid < c->n ? mid + 1 : c->n) : mid; read < 8 && got < want;) {
            if (dir < 0) {
                if (ci == 0) break;
                ci--;
            } else if (ci >= c->n) {
                break;
            }
            size_t at = ci;
            if (dir > 0) ci++;
            if (c->dir[at].ring != ring) continue;
            const tr_chunk_events *d = tr_chunk_events_of(c, at);
            read++;
            size_t m = d ? d->n : 0;
            for (size_t k = 0; k < m && got < want; k++) {
                size_t i = dir < 0 ? m - 1 - k : k;
                const tr_rec *r = &d->recs[i];
                unsigned kind = r->kind_loc & 0xff, wk = (unsigned)(r->arg & 0xff);
                if (kind != TR_AWAIT || r->res != (uint64_t)res ||
                    (wk != CO_WAIT_QUEUE_GET && wk != CO_WAIT_QUEUE_PUT && wk != CO_WAIT_QUEUE_JOIN))
                    continue;
                if ((dir < 0 && d->ns[i] >= t) || (dir > 0 && d->ns[i] < t)) continue;
                out[n++] = (tr_found){ *r, d->ns[i], d->ring };
                got++;
            }
        }
        if (dir < 0) *nbefore = got;
    }
    return n;
}
