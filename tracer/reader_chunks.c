/* SPDX-License-Identifier: MIT */
/* reader_chunks.c -- the recording itself: the chunk directory and the
 * last few decoded chunks.
 *
 * An index on events(task, ts) would cost a 10M-event trace 2.5 s more to
 * build and 75 MB more on disk; the chunks need none.  Each is the events
 * of one thread over a time range, in order, and there are a few thousand,
 * so the directory (seq, ring, count, first and last time) lives in memory
 * and a question about "near t" decodes the one or two chunks there (about
 * 16k events each).  Every reader of chunks comes through here, so the
 * decoder (encode.c) and the conversion of times (reader_clock.c, clamped)
 * are the builder's, and a chunk that is not one we could have written
 * reads as empty.
 */
#include "reader_int.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int tr_chunks_open(tr_chunks **out, sqlite3 *db)
{
    *out = NULL;
    tr_chunks *c = calloc(1, sizeof *c);
    if (!c) return -ENOMEM;
    c->db = db;
    tr_clock_load(db, &c->clk);
    /* Only the header columns for the directory: the blob stays on its
     * overflow pages until a chunk is decoded. */
    int r = tr__prep(db, &c->dir_since, "SELECT seq, ring, n, first_ts, last_ts FROM chunks WHERE seq > ? ORDER BY seq");
    if (r == 0) r = tr__prep(db, &c->blob, "SELECT data FROM chunks WHERE seq = ?");
    if (r < 0) {
        tr_chunks_close(c);
        return r;
    }
    *out = c;
    return 0;
}

void tr_chunks_close(tr_chunks *c)
{
    if (!c) return;
    sqlite3_finalize(c->dir_since);
    sqlite3_finalize(c->blob);
    for (int i = 0; i < TR_CHUNK_SLOTS; i++) {
        free(c->slot[i].recs);
        free(c->slot[i].ns);
    }
    free(c->dir);
    free(c);
}

/* A recording sets its clock's origin when the program starts
 * (tr_recorder_start_clock), after the file exists: a reader that opened
 * it before then holds another origin, and every time it converted reads
 * off by the machine's uptime.  So each load reads the clock again, and
 * when it changed, converts the whole directory again and drops what was
 * decoded with the old one. */
static void clock_again(tr_chunks *c)
{
    tr_clock now;
    tr_clock_load(c->db, &now);
    if (now.kind == c->clk.kind && now.origin == c->clk.origin && now.ns_per_tick == c->clk.ns_per_tick) return;
    c->clk = now;
    c->n = 0;
    c->max_seq = 0;
    for (int i = 0; i < TR_CHUNK_SLOTS; i++) c->slot[i].ev.seq = 0;
}

int tr_chunks_load(tr_chunks *c)
{
    clock_again(c);
    sqlite3_stmt *st = c->dir_since;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, c->max_seq);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(st, 0);
        int64_t ring = sqlite3_column_int64(st, 1), n = sqlite3_column_int64(st, 2);
        if (seq > c->max_seq) c->max_seq = seq;
        if (ring < 0 || ring >= TR_NRINGS || n < 0 || n > 1 << 26) continue; /* not a chunk we could have written */
        if (c->n == c->cap) {
            size_t cap = c->cap < 64 ? 64 : 2 * c->cap;
            tr_chunk *d = realloc(c->dir, cap * sizeof *d);
            if (!d) {
                sqlite3_reset(st);
                return -ENOMEM;
            }
            c->dir = d;
            c->cap = cap;
        }
        tr_chunk *k = &c->dir[c->n++];
        k->seq = seq;
        k->ring = (uint32_t)ring;
        k->n = (uint32_t)n;
        k->first = tr_clock_ns(&c->clk, (uint64_t)sqlite3_column_int64(st, 3));
        k->last = tr_clock_ns(&c->clk, (uint64_t)sqlite3_column_int64(st, 4));
        if (k->last < k->first) k->last = k->first;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -EILSEQ;
}

const tr_chunk *tr_chunks_dir(const tr_chunks *c, size_t *n)
{
    *n = c->n;
    return c->dir;
}

static void collect(void *ctx, uint32_t ring, const tr_rec *e)
{
    (void)ring;
    tr__slot *s = ctx;
    if (s->ev.n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 4096;
        tr_rec *r = realloc(s->recs, cap * sizeof *r);
        if (!r) return;
        s->recs = r;
        int64_t *ns = realloc(s->ns, cap * sizeof *ns);
        if (!ns) return;
        s->ns = ns;
        s->cap = cap;
    }
    s->recs[s->ev.n++] = *e;
}

const tr_chunk_events *tr_chunk_events_of(tr_chunks *c, size_t ci)
{
    if (ci >= c->n) return NULL;
    int64_t seq = c->dir[ci].seq;
    tr__slot *slot = &c->slot[0];
    for (int i = 0; i < TR_CHUNK_SLOTS; i++) {
        if (c->slot[i].used && c->slot[i].ev.seq == seq) {
            c->slot[i].used = ++c->stamp;
            return &c->slot[i].ev;
        }
        if (c->slot[i].used < slot->used) slot = &c->slot[i];
    }
    sqlite3_stmt *st = c->blob;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, seq);
    slot->ev.seq = 0;
    slot->ev.n = 0;
    slot->used = 0;
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return NULL;
    }
    const void *blob = sqlite3_column_blob(st, 0);
    int len = sqlite3_column_bytes(st, 0);
    uint32_t ring = 0;
    int r = blob ? tr_chunk_decode(blob, (size_t)len, &ring, collect, slot) : -EINVAL;
    sqlite3_reset(st);
    if (r < 0) return NULL; /* damaged: as if it held nothing */
    for (size_t i = 0; i < slot->ev.n; i++) slot->ns[i] = tr_clock_ns(&c->clk, slot->recs[i].ts);
    slot->ev.seq = seq;
    slot->ev.ring = c->dir[ci].ring;
    slot->ev.recs = slot->recs;
    slot->ev.ns = slot->ns;
    slot->used = ++c->stamp;
    return &slot->ev;
}
