/* SPDX-License-Identifier: MIT */
/* encode.c -- chunk blobs: the compact form events are persisted in first.
 *
 * Blob: varint version, varint ring, varint count, then per event
 *   zigzag(ts - prev ts)  varint   (first event: delta from 0)
 *   kind                  1 byte
 *   loc                   varint
 *   zigzag(task - prev)   varint
 *   res                   varint
 *   zigzag(arg)           varint
 * A ping-pong event takes about 8 bytes instead of 32.  A ring's TR_SWITCH
 * record is written as the TR_AWAIT and TR_RESUME it holds.
 */
#include "tracer.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_VERSION 1

static inline uint64_t zz(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
static inline int64_t unzz(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

static inline uint8_t *put_varint(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

static inline const uint8_t *get_varint(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; p < end && shift < 64; shift += 7) {
        uint8_t b = *p++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return p;
        }
    }
    return NULL;
}

#define HEADER_MAX 16

void tr_chunk_reset(tr_chunkbuf *c, uint32_t ring)
{
    c->len = HEADER_MAX; /* header written at the front when sealed */
    c->n = 0;
    c->ring = ring;
    c->first_ts = c->last_ts = c->prev_ts = c->prev_task = 0;
}

#define EVENT_MAX  64        /* an encoded event's bytes are fewer: 5 varints and a kind */
#define FIRST_CAP  (1u << 16) /* a buffer's first size; it doubles when an event may not fit */

static int add_one(tr_chunkbuf *c, const tr_rec *e)
{
    if (c->len + EVENT_MAX > c->cap) {
        size_t cap = c->cap ? c->cap * 2 : FIRST_CAP;
        uint8_t *b = realloc(c->buf, cap);
        if (!b) return -ENOMEM;
        c->buf = b;
        c->cap = cap;
    }
    if (c->n == 0) c->first_ts = e->ts;
    uint8_t *p = c->buf + c->len;
    p = put_varint(p, zz((int64_t)(e->ts - c->prev_ts)));
    *p++ = (uint8_t)(e->kind_loc & 0xff);
    p = put_varint(p, e->kind_loc >> 8);
    p = put_varint(p, zz((int64_t)((uint64_t)e->task - c->prev_task)));
    p = put_varint(p, e->res);
    p = put_varint(p, zz((int64_t)e->arg));
    c->len = (size_t)(p - c->buf);
    c->prev_ts = e->ts;
    c->prev_task = e->task;
    c->last_ts = e->ts;
    c->n++;
    return 0;
}

/* A ring's TR_SWITCH is its two events (trace.h): chunks, and everything
 * that reads them, know only those. */
int tr_chunk_add(tr_chunkbuf *c, const tr_rec *e)
{
    if ((e->kind_loc & 0xff) != TR_SWITCH) return add_one(c, e);
    tr_rec await, resume;
    tr_switch_split(e, &await, &resume);
    int r = add_one(c, &await);
    return r < 0 ? r : add_one(c, &resume);
}

size_t tr_chunk_growth(const tr_chunkbuf *c, const tr_rec *e)
{
    size_t len = c->len, cap = c->cap;
    for (unsigned i = tr_rec_events(e); i > 0; i--, len += EVENT_MAX)
        if (len + EVENT_MAX > cap) cap = cap ? cap * 2 : FIRST_CAP;
    return cap - c->cap;
}

/* Write the header just before the events; returns the blob start. */
const uint8_t *tr_chunk_seal(tr_chunkbuf *c, size_t *len)
{
    uint8_t hdr[HEADER_MAX + 16];
    uint8_t *p = put_varint(hdr, CHUNK_VERSION);
    p = put_varint(p, c->ring);
    p = put_varint(p, c->n);
    size_t hl = (size_t)(p - hdr);
    uint8_t *start = c->buf + HEADER_MAX - hl;
    memcpy(start, hdr, hl);
    *len = c->len - (HEADER_MAX - hl);
    return start;
}

void tr_chunk_free(tr_chunkbuf *c)
{
    free(c->buf);
    memset(c, 0, sizeof *c);
}

/* One pass over the events; fn may be NULL (validation only). */
static int walk(const uint8_t *p, const uint8_t *end, uint64_t ring, uint64_t n,
                void (*fn)(void *ctx, uint32_t ring, const tr_rec *e), void *ctx)
{
    uint64_t ts = 0, task = 0, v;
    for (uint64_t i = 0; i < n; i++) {
        tr_rec e;
        if (!(p = get_varint(p, end, &v))) return -EINVAL;
        ts += (uint64_t)unzz(v);
        if (p >= end) return -EINVAL;
        uint8_t kind = *p++;
        if (!(p = get_varint(p, end, &v))) return -EINVAL;
        e.kind_loc = kind | (uint32_t)(v << 8);
        if (!(p = get_varint(p, end, &v))) return -EINVAL;
        task += (uint64_t)unzz(v);
        if (!(p = get_varint(p, end, &e.res))) return -EINVAL;
        if (!(p = get_varint(p, end, &v))) return -EINVAL;
        e.arg = (uint64_t)unzz(v);
        e.ts = ts;
        e.task = (uint32_t)task;
        if (fn) fn(ctx, (uint32_t)ring, &e);
    }
    return p == end ? (int)n : -EINVAL;
}

/* The whole blob is checked before fn sees any event: a damaged chunk is
 * skipped as a whole, never half applied to the tables. */
int tr_chunk_decode(const uint8_t *blob, size_t len, uint32_t *ring_out,
                    void (*fn)(void *ctx, uint32_t ring, const tr_rec *e), void *ctx)
{
    /* An empty blob reads as NULL from SQLite, and NULL + 0 is undefined. */
    if (!blob || !len) return -EINVAL;
    const uint8_t *p = blob, *end = blob + len;
    uint64_t ver, ring, n;
    if (!(p = get_varint(p, end, &ver)) || ver != CHUNK_VERSION) return -EINVAL;
    if (!(p = get_varint(p, end, &ring)) || !(p = get_varint(p, end, &n))) return -EINVAL;
    if (n > len) return -EINVAL; /* every event takes at least 6 bytes */
    if (ring_out) *ring_out = (uint32_t)ring;
    int r = walk(p, end, ring, n, NULL, NULL);
    if (r < 0 || !fn) return r;
    return walk(p, end, ring, n, fn, ctx);
}
