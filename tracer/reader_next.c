/* SPDX-License-Identifier: MIT */
/* reader_next.c -- stepping by event: the next or previous event after t,
 * of anyone or of one task.
 *
 * Of anyone: each ring's chunks from t on, until one holds an event past
 * t (chunks of a ring are in time order).  Of a task: its life is cut by
 * its spawn, its end and its step rows' edges (start, await, resume);
 * between those its other events happen only while it runs, so the chunks
 * are read only inside the step at t.
 */
#include "reader_int.h"
#include <errno.h>

/* The next (dir > 0) or previous shown event strictly after / before t on
 * one ring, narrowing *best; events of task id only if id != 0 (and then
 * only those strictly between t and limit, which bounds the search). */
static int ring_step(tr_chunks *c, uint32_t ring, int64_t t, int dir, uint64_t id, int64_t limit, int64_t *best)
{
    int found = 0;
    if (dir > 0) {
        for (size_t ci = 0; ci < c->n; ci++) {
            const tr_chunk *ch = &c->dir[ci];
            if (ch->ring != ring || ch->last <= t) continue;
            if (ch->first >= *best || (id && ch->first >= limit)) break;
            const tr_chunk_events *d = tr_chunk_events_of(c, ci);
            for (size_t i = 0; d && i < d->n; i++) {
                int64_t ns = d->ns[i];
                if (ns <= t || ns >= *best || (id && (d->recs[i].task != id || ns >= limit)) || !tr_event_shown(&d->recs[i]))
                    continue;
                *best = ns;
                found = 1;
            }
            if (found) break;
        }
    } else {
        for (size_t ci = c->n; ci-- > 0;) {
            const tr_chunk *ch = &c->dir[ci];
            if (ch->ring != ring || ch->first >= t) continue;
            if (ch->last <= *best || (id && ch->last <= limit)) break;
            const tr_chunk_events *d = tr_chunk_events_of(c, ci);
            for (size_t i = 0; d && i < d->n; i++) {
                int64_t ns = d->ns[i];
                if (ns >= t || ns <= *best || (id && (d->recs[i].task != id || ns <= limit)) || !tr_event_shown(&d->recs[i]))
                    continue;
                *best = ns;
                found = 1;
            }
            if (found) break;
        }
    }
    return found;
}

/* The edges of a step row (start, end, resumed; -1: none), from the row
 * at t (after: the first row after t). */
static int step_row(tr_at *q, int after, int64_t task, int64_t t, int64_t b[3])
{
    tr_step s;
    int got = (after ? tr_step_after(q, task, t, &s) : tr_step_at(q, task, t, &s)) > 0;
    if (got) {
        b[0] = s.start;
        b[1] = s.wait >= 0 || !s.open ? s.end : -1;
        b[2] = s.has_resumed ? s.resumed : -1;
    }
    return got;
}

int tr_next_event(tr_at *q, tr_chunks *c, const tr_task_life *k, int64_t t, int dir, int64_t end_of_trace, int64_t *ts)
{
    if (!k) {
        int64_t best = dir > 0 ? INT64_MAX : INT64_MIN;
        int found = 0;
        unsigned char seen[TR_NRINGS] = { 0 };
        for (size_t ci = 0; ci < c->n; ci++) {
            uint32_t r = c->dir[ci].ring;
            if (seen[r]) continue;
            seen[r] = 1;
            found |= ring_step(c, r, t, dir, 0, 0, &best);
        }
        if (!found) return -ENOENT;
        *ts = best;
        return 0;
    }
    int64_t cand[8], n = 0, row[3], nxt[3];
    cand[n++] = k->spawn;
    if (k->end >= 0) cand[n++] = k->end;
    int have = step_row(q, 0, k->id, t, row);
    if (have) for (int i = 0; i < 3; i++) cand[n++] = row[i];
    /* and the row next to it in the direction of the move */
    if (dir > 0 ? step_row(q, 1, k->id, t, nxt) : have && step_row(q, 0, k->id, row[0] - 1, nxt))
        for (int i = 0; i < 3; i++) cand[n++] = nxt[i];
    int64_t best = dir > 0 ? INT64_MAX : INT64_MIN;
    for (int i = 0; i < n; i++) {
        if (cand[i] < 0) continue;
        if (dir > 0 && cand[i] > t && cand[i] < best) best = cand[i];
        if (dir < 0 && cand[i] < t && cand[i] > best) best = cand[i];
    }
    /* Instant events inside the step running at t (or, going back, the
     * step the cursor is in or just after). */
    if (have) {
        int64_t lo = row[0], hi = row[1] >= 0 ? row[1] : end_of_trace < INT64_MAX ? end_of_trace + 1 : INT64_MAX;
        int64_t b = best;
        if (dir > 0 && t < hi) {
            if (ring_step(c, k->ring, t, 1, (uint64_t)k->id, hi, &b)) best = b;
        } else if (dir < 0 && t > lo) {
            if (ring_step(c, k->ring, t, -1, (uint64_t)k->id, lo, &b)) best = b;
        }
    }
    if (best == INT64_MAX || best == INT64_MIN) return -ENOENT;
    *ts = best;
    return 0;
}
