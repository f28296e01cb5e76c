/* SPDX-License-Identifier: MIT */
/* flightwin.c -- the flight recorder's window: the events the helper keeps
 * (flight.c runs it, flightdump.c writes it), cut into periods, within the
 * window's time and byte budget.
 *
 * The rings are drained as the recorder drains them, into the same compact
 * chunks (encode.c), but kept in memory rather than written: one list of
 * sealed chunks ("pieces") per ring.  Each ring's list is cut into periods.
 * A loop's ring starts a period at each of its snapshots (the runtime
 * writes one per loop when the helper asks), and its snapshot records go
 * into a piece of their own; other rings (pool threads) start one when the
 * helper asks.  A period is dropped whole, oldest first, once the next one
 * starts before the window does, or when the budget needs room: so a kept
 * window opens, on every loop, with that loop's snapshot.  TR_THREAD and
 * TR_MODULE (where the code is, for a crash's stack) and the names of
 * resources made before the window are kept apart.
 *
 * The budget.  The program sized the parts the helper cannot drop -- the
 * rings and the texts' arena -- from max_bytes before anything was
 * recorded (runtime/flight.c); the rest is the window's (w->budget), and
 * everything the window holds (kept pieces, the open chunks' buffers, the
 * records kept apart: w->held) is admitted only once there is room for it,
 * the oldest periods dropped first.  So rings, texts and window together
 * never pass max_bytes, not even between two drains.  A loop's only period
 * stays (its events would continue nothing kept): what finds no room then
 * is let go, counted (torn_events), until the loop's next snapshot, which
 * the helper asks for at once (w->forced).
 */
#include "flight.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PIECE_EVENTS 16384       /* a piece is one chunk blob: readers take at most this many events */
#define PIECE_BYTES  (256u << 10) /* an open chunk is sealed rather than grown past this */
#define RES_KEEP     16384       /* resources made before the window, kept per ring */

static uint64_t piece_cost(const tr_fpiece *p) { return sizeof *p + p->len; }

/* What the parts sized at the start hold now (at most w->fixed). */
static uint64_t fixed_now(const tr_fwindow *w)
{
    uint64_t top = atomic_load(&w->shm->arena_top);
    uint64_t rings = atomic_load(&w->shm->rings_used);
    return (top < w->shm->arena_size ? top : w->shm->arena_size) + rings * sizeof(tr_ring);
}

static void note(tr_fwindow *w)
{
    w->bytes = fixed_now(w) + w->held;
    if (w->bytes > w->bytes_peak) w->bytes_peak = w->bytes;
}

int tr_fwindow_init(tr_fwindow *w, tr_shm *shm, uint64_t window_ms, uint64_t max_bytes, const char **why)
{
    w->shm = shm;
    w->window_ms = window_ms;
    w->max_bytes = max_bytes;
    for (uint32_t i = 0; i < TR_NRINGS; i++) {
        tr_chunk_reset(&w->rings[i].body, i);
        tr_chunk_reset(&w->rings[i].snapbuf, i);
    }
    w->fixed = (uint64_t)shm->nrings * sizeof(tr_ring) + shm->arena_size;
    /* The program refuses such a budget first (runtime/flight.c); this is
     * for a region sized by anything else. */
    if (shm->nrings > TR_NRINGS || max_bytes < w->fixed + 4 * (uint64_t)PIECE_BYTES) {
        *why = "the budget leaves no room for a window beside the rings and texts";
        return -EINVAL;
    }
    w->budget = max_bytes - w->fixed;
    note(w);
    return 0;
}

static void drop_first_period(tr_fwindow *w, tr_fring *fr)
{
    if (!fr->head) return;
    uint32_t seg = fr->head->seg;
    while (fr->head && fr->head->seg == seg) {
        tr_fpiece *p = fr->head;
        fr->head = p->next;
        w->events -= p->n;
        w->held -= piece_cost(p);
        free(p);
    }
    if (!fr->head) fr->tail = NULL;
    w->periods_dropped++;
}

/* A loop whose kept periods are all gone: what it records next continues
 * nothing kept, so it is let go until its next snapshot (a snapshot being
 * read opens the next period itself). */
static void tear(tr_fwindow *w, tr_fring *fr)
{
    if (!fr->is_loop || fr->head || fr->in_snap) return;
    w->torn_events += fr->body.n;
    tr_chunk_reset(&fr->body, fr->body.ring);
    fr->torn = 1;
}

/* The first piece of the ring's second period, or NULL. */
static tr_fpiece *second_period(const tr_fring *fr)
{
    if (!fr->head) return NULL;
    for (tr_fpiece *p = fr->head->next; p; p = p->next)
        if (p->seg != fr->head->seg) return p;
    return NULL;
}

/* Room for need more bytes, the oldest period that has a successor
 * dropped first; opening: a loop whose snapshot is being read (it will
 * open a new period, so its only one may go too), or NULL.  A loop's only
 * period is never dropped otherwise: its events would continue nothing
 * kept, so the newest events are let go instead until its next snapshot
 * (w->forced asks for one).  Returns 0, or -ENOSPC with nothing left to
 * drop. */
static int make_room(tr_fwindow *w, uint64_t need, const tr_fring *opening)
{
    while (w->held + need > w->budget) {
        tr_fring *best = NULL, *any = NULL;
        for (uint32_t i = 0; i < TR_NRINGS; i++) {
            tr_fring *fr = &w->rings[i];
            if (!fr->head) continue;
            if ((fr == opening || second_period(fr)) && (!best || fr->head->first_ts < best->head->first_ts))
                best = fr;
            if (!fr->is_loop && (!any || fr->head->first_ts < any->head->first_ts)) any = fr;
        }
        w->forced |= !best;
        if (!best && !(best = any)) return -ENOSPC;
        drop_first_period(w, best);
    }
    return 0;
}

/* Seal an open chunk into a piece of the ring's period being filled, room
 * made first (opening: as make_room's).  Returns it, not yet listed, or
 * NULL with its events let go (counted) and *err = -ENOSPC / -ENOMEM. */
static tr_fpiece *seal_piece(tr_fwindow *w, tr_fring *fr, tr_chunkbuf *c, int snap, int *err)
{
    /* The blob is at most c->len: room first, then it is copied. */
    int r = make_room(w, sizeof(tr_fpiece) + c->len, snap ? fr : NULL);
    size_t len;
    const uint8_t *blob = r ? NULL : tr_chunk_seal(c, &len);
    tr_fpiece *p = blob ? malloc(sizeof *p + len) : NULL;
    if (!p) {
        w->torn_events += c->n;
        tr_chunk_reset(c, c->ring);
        *err = r ? r : -ENOMEM;
        return NULL;
    }
    p->next = NULL;
    p->ring = c->ring;
    p->n = c->n;
    p->seg = fr->seg;
    p->snap = snap;
    p->first_ts = c->first_ts;
    p->last_ts = c->last_ts;
    p->len = len;
    memcpy(p->data, blob, len);
    w->added += piece_cost(p);
    w->held += piece_cost(p);
    tr_chunk_reset(c, c->ring);
    note(w);
    return p;
}

/* Pieces (first .. last, linked) join the ring's list, newest. */
static void list_pieces(tr_fwindow *w, tr_fring *fr, tr_fpiece *first, tr_fpiece *last)
{
    for (tr_fpiece *p = first; p; p = p->next) w->events += p->n;
    if (fr->tail) fr->tail->next = first;
    else fr->head = first;
    fr->tail = last;
}

/* Seal an open chunk onto the ring's period.  Returns 0, or -ENOSPC /
 * -ENOMEM with its events let go (counted). */
static int add_piece(tr_fwindow *w, tr_fring *fr, tr_chunkbuf *c)
{
    if (c->n == 0) return 0;
    int err = 0;
    tr_fpiece *p = seal_piece(w, fr, c, 0, &err);
    if (!p) {
        if (fr->is_loop) fr->torn = 1; /* the rest of this period continues what is gone */
        return err;
    }
    list_pieces(w, fr, p, p);
    return 0;
}

/* Seal the snapshot being read into a piece held aside (fr->snap_head):
 * its period opens only once the snapshot is whole.  Returns 0 or < 0
 * (its events let go). */
static int hold_snap_piece(tr_fwindow *w, tr_fring *fr)
{
    if (fr->snapbuf.n == 0) return 0;
    int err = 0;
    tr_fpiece *p = seal_piece(w, fr, &fr->snapbuf, 1, &err);
    if (!p) return err;
    if (fr->snap_tail) fr->snap_tail->next = p;
    else fr->snap_head = p;
    fr->snap_tail = p;
    return 0;
}

/* Let the snapshot being read go: what it held aside and its open chunk. */
static void drop_snap(tr_fwindow *w, tr_fring *fr)
{
    while (fr->snap_head) {
        tr_fpiece *p = fr->snap_head;
        fr->snap_head = p->next;
        w->torn_events += p->n;
        w->held -= piece_cost(p);
        free(p);
    }
    fr->snap_tail = NULL;
    w->torn_events += fr->snapbuf.n;
    tr_chunk_reset(&fr->snapbuf, fr->snapbuf.ring);
    note(w);
}

/* A chunk sealed rather than grown to take e (nev events): readers take at most
 * PIECE_EVENTS events from one blob, and a big one would need a big buffer
 * at once. */
static int piece_full(const tr_chunkbuf *c, const tr_rec *e, unsigned nev)
{
    return c->n + nev > PIECE_EVENTS || (c->cap >= PIECE_BYTES && tr_chunk_growth(c, e) > 0);
}

/* Add e to an open chunk, its buffer's growth admitted first.  Returns 0,
 * -ENOSPC (no room: let go) or -ENOMEM. */
static int admit(tr_fwindow *w, tr_fring *fr, tr_chunkbuf *c, const tr_rec *e)
{
    size_t growth = tr_chunk_growth(c, e);
    if (growth == 0) return tr_chunk_add(c, e);
    if (make_room(w, growth, fr->in_snap ? fr : NULL) < 0) return -ENOSPC;
    size_t before = c->cap;
    int r = tr_chunk_add(c, e);
    w->held += c->cap - before;
    note(w);
    return r;
}

/* Keep e in a growing array of records (*cap of them), its growth admitted
 * first.  Returns 0 or -ENOSPC / -ENOMEM (not kept). */
static int keep_rec(tr_fwindow *w, tr_rec **arr, size_t *n, size_t *cap, size_t first, const tr_rec *e)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : first;
        if (make_room(w, (ncap - *cap) * sizeof(tr_rec), NULL) < 0) return -ENOSPC;
        tr_rec *grown = realloc(*arr, ncap * sizeof *grown);
        if (!grown) return -ENOMEM;
        w->held += (ncap - *cap) * sizeof(tr_rec);
        *arr = grown;
        *cap = ncap;
        note(w);
    }
    (*arr)[(*n)++] = *e;
    return 0;
}

/* Resources made (and named) before the window: their TR_RES_NEW, at most
 * RES_KEEP a ring, the oldest let go first (a long-lived lock is made
 * early; a per-request future comes and goes). */
static void add_res(tr_fwindow *w, tr_fring *fr, const tr_rec *e)
{
    if (fr->nres == RES_KEEP) {
        memmove(fr->res, fr->res + RES_KEEP / 2, (RES_KEEP / 2) * sizeof *fr->res);
        fr->nres = RES_KEEP / 2;
    }
    keep_rec(w, &fr->res, &fr->nres, &fr->capres, 64, e);
}

void tr_fwindow_seal(tr_fwindow *w)
{
    for (uint32_t i = 0; i < TR_NRINGS; i++) add_piece(w, &w->rings[i], &w->rings[i].body);
}

void tr_fwindow_new_period(tr_fwindow *w)
{
    for (uint32_t i = 0; i < TR_NRINGS; i++) {
        tr_fring *fr = &w->rings[i];
        if (fr->is_loop) continue; /* its snapshot starts its period */
        add_piece(w, fr, &fr->body);
        fr->seg++;
    }
}

void tr_fwindow_drop_all(tr_fwindow *w)
{
    for (uint32_t i = 0; i < TR_NRINGS; i++) {
        tr_fring *fr = &w->rings[i];
        while (fr->head) drop_first_period(w, fr);
        tear(w, fr);
    }
    note(w);
}

void tr_fwindow_trim(tr_fwindow *w, uint64_t now_ts)
{
    uint64_t win = (uint64_t)((double)w->window_ms * 1e6 / w->ns_per_tick);
    for (uint32_t i = 0; i < TR_NRINGS; i++) {
        tr_fring *fr = &w->rings[i];
        tr_fpiece *s;
        while ((s = second_period(fr)) && s->first_ts + win <= now_ts) drop_first_period(w, fr);
    }
    note(w);
}

/* One record of ring fr into the window. */
static int take(tr_fwindow *w, tr_fring *fr, const tr_rec *e)
{
    unsigned kind = e->kind_loc & 0xff;
    unsigned nev = tr_rec_events(e);
    if (kind == TR_THREAD || kind == TR_MODULE) return keep_rec(w, &fr->sticky, &fr->nsticky, &fr->capsticky, 8, e);
    if (kind == TR_SNAP_BEGIN) {
        add_piece(w, fr, &fr->body);
        fr->torn = 0;
        drop_snap(w, fr); /* an unfinished one: cannot happen, one thread writes it */
        fr->seg++;
        fr->is_loop = 1;
        fr->in_snap = 1;
        fr->snap_lost = 0;
    }
    if (fr->in_snap) {
        int r = 0;
        if (!fr->snap_lost && piece_full(&fr->snapbuf, e, nev)) r = hold_snap_piece(w, fr);
        if (!r) r = fr->snap_lost ? -ENOSPC : admit(w, fr, &fr->snapbuf, e);
        if (r < 0) {
            fr->snap_lost = 1;
            w->torn_events += nev;
        }
        if (kind == TR_SNAP_END) {
            /* Its room may be this ring's older periods: it opens the next. */
            if (!fr->snap_lost && hold_snap_piece(w, fr) == 0 && fr->snap_head) {
                list_pieces(w, fr, fr->snap_head, fr->snap_tail);
                fr->snap_head = fr->snap_tail = NULL;
            } else {
                /* Without its snapshot the period opens nothing kept. */
                drop_snap(w, fr);
                fr->torn = 1;
            }
            fr->in_snap = 0;
        }
        return r == -ENOMEM ? r : 0;
    }
    if (fr->torn) {
        w->torn_events += nev;
        return 0;
    }
    if (piece_full(&fr->body, e, nev) && add_piece(w, fr, &fr->body) < 0) {
        w->torn_events += nev;
        return 0;
    }
    int r = admit(w, fr, &fr->body, e);
    if (r == -ENOSPC) {
        w->torn_events += nev;
        if (fr->is_loop) fr->torn = 1; /* no gap inside a period: the rest waits for the next snapshot */
    }
    if (r == 0 && kind == TR_RES_NEW && e->arg >> 8) add_res(w, fr, e);
    return r == -ENOMEM ? r : 0;
}

int64_t tr_fwindow_drain(tr_fwindow *w, tr_fseen_fn *seen, void *ctx)
{
    tr_shm *s = w->shm;
    tr_ring *rings = tr_rings(s);
    int64_t got = 0;
    int r = 0;
    for (uint32_t i = 0; i < s->nrings && i < TR_NRINGS; i++) {
        tr_ring *ring = &rings[i];
        uint64_t head = atomic_load_explicit(&ring->head, memory_order_acquire);
        uint64_t tail = atomic_load_explicit(&ring->tail, memory_order_relaxed);
        if (head == tail) continue;
        tr_fring *fr = &w->rings[i];
        for (uint64_t k = tail; k < head; k++) {
            const tr_rec *e = &ring->recs[k & (TR_RING_RECS - 1)];
            if (take(w, fr, e) < 0) r = -ENOMEM;
            if (!fr->in_snap) seen(ctx, fr, e); /* triggers see every event, kept or not */
            if ((k & 4095) == 4095) tr_ring_free_slots(s, ring, k + 1);
        }
        tr_ring_free_slots(s, ring, head);
        got += (int64_t)(head - tail);
    }
    return r < 0 ? r : got;
}
