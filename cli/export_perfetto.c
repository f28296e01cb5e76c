/* SPDX-License-Identifier: MIT */
/* export_perfetto.c -- `coscope export --format perfetto`: the trace in
 * Perfetto's own protobuf format (a `Trace` of `TracePacket`s, field numbers
 * from perfetto/protos/perfetto/trace/perfetto_trace.proto), which
 * ui.perfetto.dev and trace_processor open at any size.  The Chrome JSON
 * export of a 10M-event trace is ~1.9 GB and past what Perfetto's JSON
 * importer loads; this one is a fraction of it and is written as it goes
 * (one packet at a time, nothing held but the names seen so far and the
 * wake-up edges).
 *
 * What goes where (the same picture as the Chrome export, cmd_export.c):
 *   - a process track (the program) and under it one track per task,
 *     "NAME #ID", ordered by id;
 *   - steps ("run") and awaits (named by what they wait on: "lock db_lock",
 *     "task #7 child", "sleep") are slices on the task's track, one after
 *     the other; each ends 1 ns before the next begins so that no consumer
 *     has to order an END and a BEGIN at the same instant;
 *   - holds, regions and thread-pool work straddle steps and may overlap
 *     each other, so they go on child tracks of the task ("NAME #ID spans
 *     N"), each span on the first lane free at its start;
 *   - logs, marks and warnings are instants on the task's track (the
 *     process track when no task);
 *   - wake-ups (tracer/reader_wake.c's edges) are flows: flow_ids on the
 *     BEGIN of the waker's step, terminating_flow_ids on the BEGIN of the
 *     step the woken task resumed in.
 * Names, categories and source locations are interned (InternedData on
 * the packet that first uses them; one sequence, incremental state cleared
 * by the first packet), so a slice costs about 12 bytes.
 *
 * On a terminal, progress goes to stderr.
 */
#define _GNU_SOURCE
#include "export_perfetto.h"
#include "../tracer/tracer.h"
#include "../tracer/reader.h"
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Field numbers (perfetto_trace.proto). */
enum {
    TRACE_PACKET = 1,
    PKT_TIMESTAMP = 8, PKT_SEQ_ID = 10, PKT_TRACK_EVENT = 11, PKT_INTERNED = 12, PKT_SEQ_FLAGS = 13,
    PKT_TRACK_DESCRIPTOR = 60,
    SEQ_INCREMENTAL_STATE_CLEARED = 1, SEQ_NEEDS_INCREMENTAL_STATE = 2,
    TD_UUID = 1, TD_NAME = 2, TD_PROCESS = 3, TD_PARENT = 5, TD_CHILD_ORDERING = 11, TD_SIBLING_RANK = 12,
    TD_ORDER_EXPLICIT = 3,
    PD_PID = 1, PD_NAME = 6,
    TE_CATEGORY_IIDS = 3, TE_TYPE = 9, TE_NAME_IID = 10, TE_TRACK_UUID = 11, TE_SOURCE_LOCATION_IID = 34,
    TE_FLOW_IDS = 47, TE_TERMINATING_FLOW_IDS = 48,
    TYPE_SLICE_BEGIN = 1, TYPE_SLICE_END = 2, TYPE_INSTANT = 3,
    ID_EVENT_CATEGORIES = 1, ID_EVENT_NAMES = 2, ID_SOURCE_LOCATIONS = 4,
    IID = 1, IID_NAME = 2, SL_FILE = 2, SL_LINE = 4,
};

/* Wire types. */
enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2 };

/* The one sequence every packet is on. */
#define SEQ_ID 1
/* Track uuids: the process, a task, a task's lane of spans. */
#define UUID_PROCESS 1u
#define UUID_TASK(id) (((uint64_t)(id) << 8) | 2u)
#define UUID_LANE(id, lane) (((uint64_t)(id) << 8) | (3u + (uint64_t)(lane)))
#define MAX_LANES 250

/* ---- a protobuf buffer --------------------------------------------------- */

typedef struct pb {
    uint8_t *b;
    size_t n, cap;
    int oom;
} pb;

static void pb_reserve(pb *p, size_t more)
{
    if (p->n + more <= p->cap) return;
    size_t cap = p->cap ? p->cap : 256;
    while (cap < p->n + more) cap *= 2;
    uint8_t *b = realloc(p->b, cap);
    if (!b) { p->oom = 1; p->n = 0; return; }
    p->b = b;
    p->cap = cap;
}

static size_t varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) { v >>= 7; n++; }
    return n;
}

static void put_varint_at(uint8_t *b, uint64_t v)
{
    while (v >= 0x80) { *b++ = (uint8_t)(v | 0x80); v >>= 7; }
    *b = (uint8_t)v;
}

static void pb_varint(pb *p, uint64_t v)
{
    pb_reserve(p, 10);
    if (p->oom) return;
    put_varint_at(p->b + p->n, v);
    p->n += varint_len(v);
}

static void pb_tag(pb *p, unsigned field, unsigned wt) { pb_varint(p, (uint64_t)field << 3 | wt); }
static void pb_uint(pb *p, unsigned field, uint64_t v) { pb_tag(p, field, WT_VARINT); pb_varint(p, v); }

static void pb_fixed64(pb *p, unsigned field, uint64_t v)
{
    pb_tag(p, field, WT_I64);
    pb_reserve(p, 8);
    if (p->oom) return;
    for (int i = 0; i < 8; i++) p->b[p->n++] = (uint8_t)(v >> (8 * i));
}

static void pb_str(pb *p, unsigned field, const char *s)
{
    size_t len = s ? strlen(s) : 0;
    pb_tag(p, field, WT_LEN);
    pb_varint(p, len);
    pb_reserve(p, len);
    if (p->oom || !len) return;
    memcpy(p->b + p->n, s, len);
    p->n += len;
}

/* A nested message: begin returns where its length goes (one byte kept),
 * end writes the length and moves the body if it needs more bytes. */
static size_t pb_begin(pb *p, unsigned field)
{
    pb_tag(p, field, WT_LEN);
    pb_reserve(p, 1);
    if (p->oom) return 0;
    p->b[p->n++] = 0;
    return p->n;
}

static void pb_end(pb *p, size_t body)
{
    if (p->oom) return;
    size_t len = p->n - body, extra = varint_len(len) - 1;
    if (extra) {
        pb_reserve(p, extra);
        if (p->oom) return;
        memmove(p->b + body + extra, p->b + body, len);
        p->n += extra;
    }
    put_varint_at(p->b + body - 1, len);
}

/* ---- interning ----------------------------------------------------------- */

/* name -> iid, open addressing; iids count from 1 per kind. */
typedef struct intern {
    char **key;
    uint64_t *iid;
    size_t cap, n;
} intern;

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

/* The iid of s, and whether it is new (then the caller emits it).  0 on
 * out of memory. */
static uint64_t intern_get(intern *t, const char *s, int *fresh)
{
    *fresh = 0;
    if (2 * (t->n + 1) > t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 1024;
        char **key = calloc(cap, sizeof *key);
        uint64_t *iid = calloc(cap, sizeof *iid);
        if (!key || !iid) { free(key); free(iid); return 0; }
        for (size_t i = 0; i < t->cap; i++) {
            if (!t->key[i]) continue;
            size_t j = hash_str(t->key[i]) & (cap - 1);
            while (key[j]) j = (j + 1) & (cap - 1);
            key[j] = t->key[i];
            iid[j] = t->iid[i];
        }
        free(t->key);
        free(t->iid);
        t->key = key;
        t->iid = iid;
        t->cap = cap;
    }
    size_t j = hash_str(s) & (t->cap - 1);
    while (t->key[j]) {
        if (!strcmp(t->key[j], s)) return t->iid[j];
        j = (j + 1) & (t->cap - 1);
    }
    if (!(t->key[j] = strdup(s))) return 0;
    t->iid[j] = ++t->n;
    *fresh = 1;
    return t->iid[j];
}

static void intern_free(intern *t)
{
    for (size_t i = 0; i < t->cap; i++) free(t->key[i]);
    free(t->key);
    free(t->iid);
}

/* ---- wake-up edges, by the step they attach to --------------------------- */

typedef struct flow_end {
    int64_t task, start;  /* the step's task and start */
    uint64_t id;          /* flow id << 1 | 1 if it terminates here */
} flow_end;

static int flow_cmp(const void *a, const void *b)
{
    const flow_end *x = a, *y = b;
    if (x->task != y->task) return x->task < y->task ? -1 : 1;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* ---- the exporter -------------------------------------------------------- */

typedef struct px {
    sqlite3 *db;
    FILE *f;
    const char *path;
    int failed;
    pb pkt;                 /* the packet being built */
    pb interned;            /* its InternedData body, when it adds names */
    intern names, cats, locs;
    flow_end *flows;
    size_t nflows, capflows;
    uint64_t nflow_ids;
    /* progress */
    int tty;
    int64_t done, total;
    int64_t last_ns;
    const char *phase;
    /* what was written */
    int64_t packets, slices, instants, tracks;
} px;

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void progress(px *x, int force)
{
    if (!x->tty) return;
    int64_t now = mono_ns();
    if (!force && now - x->last_ns < 200000000) return;
    x->last_ns = now;
    int pct = x->total > 0 ? (int)(100 * (x->done < x->total ? x->done : x->total) / x->total) : 100;
    fprintf(stderr, "\rcoscope export: %-9s %3d%%  %lld packets", x->phase, pct, (long long)x->packets);
    fflush(stderr);
}

static void step_done(px *x)
{
    if ((++x->done & 0xfff) == 0) progress(x, 0);
}

/* Write the packet built in x->pkt (with x->interned, if any) to the file. */
static void flush_packet(px *x)
{
    pb *p = &x->pkt;
    if (x->interned.n) {
        size_t at = pb_begin(p, PKT_INTERNED);
        pb_reserve(p, x->interned.n);
        if (!p->oom) {
            memcpy(p->b + p->n, x->interned.b, x->interned.n);
            p->n += x->interned.n;
        }
        pb_end(p, at);
        x->interned.n = 0;
    }
    if (p->oom || x->interned.oom) {
        if (!x->failed) fprintf(stderr, "coscope export: out of memory\n");
        x->failed = 1;
        p->oom = x->interned.oom = 0;
        p->n = 0;
        return;
    }
    uint8_t hdr[11];
    hdr[0] = TRACE_PACKET << 3 | WT_LEN;
    put_varint_at(hdr + 1, p->n);
    fwrite(hdr, 1, 1 + varint_len(p->n), x->f);
    fwrite(p->b, 1, p->n, x->f);
    p->n = 0;
    x->packets++;
}

static void packet_start(px *x, int64_t ts, unsigned flags)
{
    x->pkt.n = 0;
    if (ts >= 0) pb_uint(&x->pkt, PKT_TIMESTAMP, (uint64_t)ts);
    pb_uint(&x->pkt, PKT_SEQ_ID, SEQ_ID);
    if (flags) pb_uint(&x->pkt, PKT_SEQ_FLAGS, flags);
}

/* An iid for s in table t, adding its InternedData entry (field) to the
 * packet under construction when it is new. */
static uint64_t iid_of(px *x, intern *t, unsigned field, const char *s)
{
    int fresh;
    uint64_t iid = intern_get(t, s ? s : "", &fresh);
    if (!iid) { x->interned.oom = 1; return 0; }
    if (fresh) {
        size_t at = pb_begin(&x->interned, field);
        pb_uint(&x->interned, IID, iid);
        pb_str(&x->interned, IID_NAME, s ? s : "");
        pb_end(&x->interned, at);
    }
    return iid;
}

/* A source location "file:line" interned (SourceLocation). */
static uint64_t loc_iid(px *x, const char *file, int64_t line)
{
    if (!file) return 0;
    char key[4200];
    snprintf(key, sizeof key, "%s\n%lld", file, (long long)line);
    int fresh;
    uint64_t iid = intern_get(&x->locs, key, &fresh);
    if (!iid) { x->interned.oom = 1; return 0; }
    if (fresh) {
        size_t at = pb_begin(&x->interned, ID_SOURCE_LOCATIONS);
        pb_uint(&x->interned, IID, iid);
        pb_str(&x->interned, SL_FILE, file);
        pb_uint(&x->interned, SL_LINE, line > 0 && line < UINT32_MAX ? (uint64_t)line : 0);
        pb_end(&x->interned, at);
    }
    return iid;
}

/* One TrackEvent packet.  name NULL: an END.  Flow ends from fl[0..nfl). */
static void track_event(px *x, int64_t ts, uint64_t track, int type, const char *cat, const char *name,
                        uint64_t loc, const flow_end *fl, size_t nfl)
{
    packet_start(x, ts < 0 ? 0 : ts, SEQ_NEEDS_INCREMENTAL_STATE);
    uint64_t cat_iid = cat ? iid_of(x, &x->cats, ID_EVENT_CATEGORIES, cat) : 0;
    uint64_t name_iid = name ? iid_of(x, &x->names, ID_EVENT_NAMES, name) : 0;
    size_t at = pb_begin(&x->pkt, PKT_TRACK_EVENT);
    pb_uint(&x->pkt, TE_TYPE, (uint64_t)type);
    pb_uint(&x->pkt, TE_TRACK_UUID, track);
    if (cat_iid) pb_uint(&x->pkt, TE_CATEGORY_IIDS, cat_iid);
    if (name_iid) pb_uint(&x->pkt, TE_NAME_IID, name_iid);
    if (loc) pb_uint(&x->pkt, TE_SOURCE_LOCATION_IID, loc);
    for (size_t i = 0; i < nfl; i++)
        pb_fixed64(&x->pkt, fl[i].id & 1 ? TE_TERMINATING_FLOW_IDS : TE_FLOW_IDS, fl[i].id >> 1);
    pb_end(&x->pkt, at);
    flush_packet(x);
}

static void track(px *x, uint64_t uuid, uint64_t parent, const char *name, int64_t rank)
{
    packet_start(x, -1, 0);
    size_t at = pb_begin(&x->pkt, PKT_TRACK_DESCRIPTOR);
    pb_uint(&x->pkt, TD_UUID, uuid);
    if (parent) pb_uint(&x->pkt, TD_PARENT, parent);
    pb_str(&x->pkt, TD_NAME, name);
    pb_uint(&x->pkt, TD_SIBLING_RANK, (uint64_t)(int64_t)(int32_t)rank);
    pb_end(&x->pkt, at);
    flush_packet(x);
    x->tracks++;
}

/* ---- queries --------------------------------------------------------------- */

static const char *text(sqlite3_stmt *st, int i) { return (const char *)sqlite3_column_text(st, i); }
static int is_null(sqlite3_stmt *st, int i) { return sqlite3_column_type(st, i) == SQLITE_NULL; }

static sqlite3_stmt *prep(px *x, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (x->failed) return NULL;
    if (sqlite3_prepare_v2(x->db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "coscope export: %s: unexpected trace layout (%s); is it from another coscope version?\n",
                x->path, tr_db_errmsg(x->db));
        x->failed = 1;
    }
    return st;
}

static int row(px *x, sqlite3_stmt *st)
{
    if (!st || x->failed) return 0;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) return 1;
    if (rc != SQLITE_DONE) {
        fprintf(stderr, "coscope export: %s: damaged or truncated database (%s)\n", x->path, tr_db_errmsg(x->db));
        x->failed = 1;
    }
    return 0;
}

static int64_t count(px *x, const char *sql)
{
    sqlite3_stmt *st = prep(x, sql);
    int64_t n = row(x, st) ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return n;
}

/* End of a slice that the next one on its track may begin at: 1 ns short
 * (see the top); never before its start. */
static int64_t end_ts(int64_t start, int64_t end)
{
    return end > start ? end - 1 : start;
}

/* ---- sections -------------------------------------------------------------- */

static void tracks(px *x)
{
    sqlite3_stmt *st = prep(x, "SELECT (SELECT value FROM meta WHERE key = '" TR_META_PROGRAM "'),"
                               " (SELECT value FROM meta WHERE key = '" TR_META_PID "')");
    char name[1024] = "program";
    int64_t pid = 0;
    if (row(x, st)) {
        snprintf(name, sizeof name, "%s (coscope)", is_null(st, 0) ? "program" : text(st, 0));
        pid = is_null(st, 1) ? 0 : sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    /* The first packet clears the sequence's incremental state (interning). */
    packet_start(x, -1, SEQ_INCREMENTAL_STATE_CLEARED);
    size_t at = pb_begin(&x->pkt, PKT_TRACK_DESCRIPTOR);
    pb_uint(&x->pkt, TD_UUID, UUID_PROCESS);
    size_t pd = pb_begin(&x->pkt, TD_PROCESS);
    pb_uint(&x->pkt, PD_PID, (uint64_t)(pid > 0 && pid < INT32_MAX ? pid : 1));
    pb_str(&x->pkt, PD_NAME, name);
    pb_end(&x->pkt, pd);
    pb_uint(&x->pkt, TD_CHILD_ORDERING, TD_ORDER_EXPLICIT);
    pb_end(&x->pkt, at);
    flush_packet(x);
    x->tracks++;

    st = prep(x, "SELECT id, name FROM tasks ORDER BY id");
    while (row(x, st)) {
        int64_t id = sqlite3_column_int64(st, 0);
        snprintf(name, sizeof name, "%s #%lld", is_null(st, 1) ? "task" : text(st, 1), (long long)id);
        track(x, UUID_TASK(id), UUID_PROCESS, name, id);
    }
    sqlite3_finalize(st);
}

static int add_end(px *x, int64_t task, int64_t start, uint64_t id)
{
    if (x->nflows == x->capflows) {
        size_t cap = x->capflows ? 2 * x->capflows : 4096;
        flow_end *f = realloc(x->flows, cap * sizeof *f);
        if (!f) return -ENOMEM;
        x->flows = f;
        x->capflows = cap;
    }
    x->flows[x->nflows++] = (flow_end){ task, start, id };
    return 0;
}

/* Wake-ups as flows.  Each edge (tracer/reader_wake.c) goes from the step
 * of `from` running at ts to the step of `to` that begins at resume
 * (cmd_export.c's flow() says why steps, not instants).  Rather than two
 * indexed lookups per edge (tr_step_at, tr_step_after: most of the time of
 * a 10M-event export), the edges are sorted by each end and matched in one
 * scan of the step rows in (task, start) order; the ends found are then
 * sorted by step, for slices() to put on the steps' BEGINs. */
typedef struct edge {
    int64_t from, ts, to, resume;   /* ts becomes the waker's step start once found */
} edge;

typedef struct px_edges {
    edge *e;
    size_t n, cap;
} px_edges;

static edge *g_sort_edges;   /* qsort has no context argument */

static int by_from(const void *a, const void *b)
{
    const edge *x = &g_sort_edges[*(const uint32_t *)a], *y = &g_sort_edges[*(const uint32_t *)b];
    if (x->from != y->from) return x->from < y->from ? -1 : 1;
    return x->ts < y->ts ? -1 : x->ts > y->ts;
}

static int by_to(const void *a, const void *b)
{
    const edge *x = &g_sort_edges[*(const uint32_t *)a], *y = &g_sort_edges[*(const uint32_t *)b];
    if (x->to != y->to) return x->to < y->to ? -1 : 1;
    return x->resume < y->resume ? -1 : x->resume > y->resume;
}

static int on_wake(void *ctx, const tr_wake *w)
{
    px_edges *E = ctx;
    if (w->resume == INT64_MIN) return 0;
    if (E->n == E->cap) {
        size_t cap = E->cap ? 2 * E->cap : 4096;
        edge *e = cap < UINT32_MAX ? realloc(E->e, cap * sizeof *e) : NULL;
        if (!e) return 1;
        E->e = e;
        E->cap = cap;
    }
    E->e[E->n++] = (edge){ w->from, w->ts, w->to, w->resume };
    return 0;
}

static void flows(px *x)
{
    x->phase = "flows";
    if (x->failed) return;
    px_edges E = { 0 };
    int r = tr_wakeups(x->db, on_wake, &E);
    uint32_t *of = NULL, *in = NULL;
    uint8_t *ok = NULL;
    if (r == 0 && E.n) {
        of = malloc(E.n * sizeof *of);
        in = malloc(E.n * sizeof *in);
        ok = calloc(E.n, 1);    /* bit 0: the waker's step found, bit 1: the woken one's */
    }
    if (r == 0 && E.n && (!of || !in || !ok)) r = -ENOMEM;
    if (r > 0 || r < 0) {
        fprintf(stderr, "coscope export: %s: %s (%s)\n", x->path,
                r > 0 || r == -ENOMEM ? "out of memory" : "damaged or truncated database", tr_db_errmsg(x->db));
        x->failed = 1;
        goto out;
    }
    for (size_t i = 0; i < E.n; i++) of[i] = in[i] = (uint32_t)i;
    g_sort_edges = E.e;
    qsort(of, E.n, sizeof *of, by_from);
    qsort(in, E.n, sizeof *in, by_to);

    sqlite3_stmt *st = prep(x, "SELECT task, start, end FROM spans WHERE kind = '" TR_NAME_STEP "' AND task <> 0"
                               " ORDER BY task, start, id");
    size_t oi = 0, ii = 0;
    int have = 0;
    int64_t ct = 0, cs = 0, ce = 0;   /* the step row before this one */
    for (;;) {
        int more = row(x, st);
        int64_t task = more ? sqlite3_column_int64(st, 0) : INT64_MAX, start = more ? sqlite3_column_int64(st, 1) : INT64_MAX;
        /* Wakers at a time before this row: in the row before, if it is
         * theirs and still running then (tr_step_at's answer). */
        while (oi < E.n) {
            edge *e = &E.e[of[oi]];
            if (e->from > task || (e->from == task && e->ts >= start)) break;
            if (have && ct == e->from && cs <= e->ts && ce >= e->ts) {
                e->ts = cs;
                ok[of[oi]] |= 1;
            }
            oi++;
        }
        if (!more) break;
        /* Woken ones resuming exactly at this row's start. */
        while (ii < E.n) {
            edge *e = &E.e[in[ii]];
            if (e->to > task || (e->to == task && e->resume > start)) break;
            if (e->to == task && e->resume == start) ok[in[ii]] |= 2;
            ii++;
        }
        have = 1;
        ct = task;
        cs = start;
        ce = sqlite3_column_int64(st, 2);
        step_done(x);
    }
    sqlite3_finalize(st);
    if (x->failed) goto out;

    for (size_t i = 0; i < E.n; i++) {
        if (ok[i] != 3) continue;
        uint64_t id = ++x->nflow_ids;
        if (add_end(x, E.e[i].from, E.e[i].ts, id << 1) < 0 || add_end(x, E.e[i].to, E.e[i].resume, id << 1 | 1) < 0) {
            fprintf(stderr, "coscope export: out of memory (%zu wake-ups)\n", E.n);
            x->failed = 1;
            goto out;
        }
    }
    qsort(x->flows, x->nflows, sizeof *x->flows, flow_cmp);
out:
    free(E.e);
    free(of);
    free(in);
    free(ok);
}

static const char *wake_name(sqlite3_stmt *st, char *name, size_t size)
{
    const char *wait = text(st, 3);
    if (!strcmp(wait, CO_WAIT_NAME_TASK) && !is_null(st, 4))
        snprintf(name, size, "task #%lld %s", (long long)sqlite3_column_int64(st, 4), is_null(st, 14) ? "" : text(st, 14));
    else if (!is_null(st, 13) && *text(st, 13)) snprintf(name, size, "%s %s", wait, text(st, 13));
    else if (!is_null(st, 12)) snprintf(name, size, "%s #%lld", wait, (long long)sqlite3_column_int64(st, 4));
    else snprintf(name, size, "%s", wait);
    return name;
}

/* Steps and awaits, task by task in time order (the same rows as the
 * Chrome export); the flows found above ride on the steps' BEGINs. */
static void slices(px *x)
{
    x->phase = "slices";
    sqlite3_stmt *st = prep(x,
        "SELECT s.task, s.start, s.end, s.wait, s.resource, s.result, s.open, s.resumed,"
        "  l.file, l.line, l2.file, l2.line, r.kind, r.name, t.name"
        " FROM spans s LEFT JOIN locations l ON l.id = s.loc LEFT JOIN locations l2 ON l2.id = s.end_loc"
        " LEFT JOIN resources r ON r.id = s.resource AND s.wait <> '" CO_WAIT_NAME_TASK "'"
        " LEFT JOIN tasks t ON t.id = s.resource AND s.wait = '" CO_WAIT_NAME_TASK "'"
        " WHERE s.kind = '" TR_NAME_STEP "' AND s.task <> 0 ORDER BY s.task, s.start");
    size_t fi = 0;
    char name[600];
    while (row(x, st)) {
        int64_t task = sqlite3_column_int64(st, 0), start = sqlite3_column_int64(st, 1),
                end = sqlite3_column_int64(st, 2);
        uint64_t tr = UUID_TASK(task);
        /* This step's flow ends: the sorted list, walked alongside. */
        while (fi < x->nflows && (x->flows[fi].task < task || (x->flows[fi].task == task && x->flows[fi].start < start)))
            fi++;
        size_t fe = fi;
        while (fe < x->nflows && x->flows[fe].task == task && x->flows[fe].start == start) fe++;
        uint64_t from = is_null(st, 8) ? 0 : loc_iid(x, text(st, 8), sqlite3_column_int64(st, 9));
        track_event(x, start, tr, TYPE_SLICE_BEGIN, TR_NAME_STEP, "run", from, x->flows + fi, fe - fi);
        track_event(x, end_ts(start, end), tr, TYPE_SLICE_END, NULL, NULL, 0, NULL, 0);
        x->slices++;
        fi = fe;
        if (!is_null(st, 3)) {
            int64_t resumed = sqlite3_column_int64(st, 7);
            uint64_t at = is_null(st, 10) ? 0 : loc_iid(x, text(st, 10), sqlite3_column_int64(st, 11));
            track_event(x, end, tr, TYPE_SLICE_BEGIN, "await", wake_name(st, name, sizeof name), at, NULL, 0);
            track_event(x, end_ts(end, resumed), tr, TYPE_SLICE_END, NULL, NULL, 0, NULL, 0);
            x->slices++;
        }
        step_done(x);
    }
    sqlite3_finalize(st);
}

/* Holds, regions, thread-pool work: on lanes under their task's track, the
 * first lane whose last span ended by this one's start. */
static void async_spans(px *x)
{
    x->phase = "spans";
    sqlite3_stmt *st = prep(x,
        "SELECT s.kind, s.task, s.start, s.end, r.kind, r.name, str.text, l.file, l.line"
        " FROM spans s LEFT JOIN resources r ON r.id = s.resource AND s.kind = '" TR_NAME_HOLD "'"
        " LEFT JOIN strings str ON str.id = s.resource AND s.kind = '" TR_NAME_REGION "'"
        " LEFT JOIN locations l ON l.id = s.loc"
        " WHERE s.kind IN ('" TR_NAME_HOLD "', '" TR_NAME_REGION "', '" TR_NAME_WORK "') ORDER BY s.task, s.start");
    int64_t cur = INT64_MIN, lane_end[MAX_LANES];
    int nlanes = 0;
    char name[600], tname[700];
    while (row(x, st)) {
        const char *kind = text(st, 0);
        int64_t task = is_null(st, 1) ? 0 : sqlite3_column_int64(st, 1), start = sqlite3_column_int64(st, 2),
                end = sqlite3_column_int64(st, 3);
        if (end < start) end = start;
        if (task != cur) { cur = task; nlanes = 0; }
        int lane = 0;
        while (lane < nlanes && lane_end[lane] > start) lane++;
        if (lane == MAX_LANES) lane = MAX_LANES - 1;   /* past 250 at once: overlap on the last */
        if (lane == nlanes) {
            nlanes++;
            snprintf(tname, sizeof tname, "task #%lld spans %d", (long long)task, lane + 1);
            track(x, UUID_LANE(task, lane), task ? UUID_TASK(task) : UUID_PROCESS, tname, lane);
        }
        lane_end[lane] = end;
        int sk = tr_span_from_name(kind);
        if (sk == TR_SPAN_HOLD)
            snprintf(name, sizeof name, "hold %s", !is_null(st, 5) ? text(st, 5) : is_null(st, 4) ? "?" : text(st, 4));
        else if (sk == TR_SPAN_REGION) snprintf(name, sizeof name, "%s", is_null(st, 6) ? "region" : text(st, 6));
        else snprintf(name, sizeof name, "thread pool work");
        uint64_t at = is_null(st, 7) ? 0 : loc_iid(x, text(st, 7), sqlite3_column_int64(st, 8));
        track_event(x, start, UUID_LANE(task, lane), TYPE_SLICE_BEGIN, kind, name, at, NULL, 0);
        track_event(x, end_ts(start, end), UUID_LANE(task, lane), TYPE_SLICE_END, NULL, NULL, 0, NULL, 0);
        x->slices++;
        step_done(x);
    }
    sqlite3_finalize(st);
}

static void instants(px *x)
{
    x->phase = "instants";
    sqlite3_stmt *st = prep(x,
        "SELECT e.ts, e.task, e.kind, s.text, l.file, l.line FROM events e"
        " LEFT JOIN strings s ON s.id = e.resource LEFT JOIN locations l ON l.id = e.loc"
        " WHERE e.kind IN ('log', 'mark')"
        " UNION ALL SELECT w.ts, w.task, 'warning', 'warning: ' || w.kind || ': ' || coalesce(w.message, ''),"
        "  l.file, l.line FROM warnings w LEFT JOIN locations l ON l.id = w.loc");
    while (row(x, st)) {
        uint64_t tr = is_null(st, 1) || sqlite3_column_int64(st, 1) == 0 ? UUID_PROCESS
                                                                          : UUID_TASK(sqlite3_column_int64(st, 1));
        uint64_t at = is_null(st, 4) ? 0 : loc_iid(x, text(st, 4), sqlite3_column_int64(st, 5));
        track_event(x, sqlite3_column_int64(st, 0), tr, TYPE_INSTANT, text(st, 2), is_null(st, 3) ? "?" : text(st, 3),
                    at, NULL, 0);
        x->instants++;
        step_done(x);
    }
    sqlite3_finalize(st);
}

int cli_export_perfetto(sqlite3 *db, FILE *f, const char *path)
{
    px x = { .db = db, .f = f, .path = path, .tty = isatty(2), .phase = "tracks" };
    /* Progress counts rows: wake-ups are about as many as steps. */
    x.total = 2 * count(&x, "SELECT count(*) FROM spans WHERE kind = '" TR_NAME_STEP "'") +
              count(&x, "SELECT count(*) FROM spans WHERE kind <> '" TR_NAME_STEP "'") +
              count(&x, "SELECT (SELECT count(*) FROM events WHERE kind IN ('log', 'mark')) + (SELECT count(*) FROM warnings)");
    tracks(&x);
    flows(&x);
    slices(&x);
    async_spans(&x);
    instants(&x);
    x.done = x.total;
    progress(&x, 1);
    if (x.tty) fputc('\n', stderr);
    free(x.flows);
    free(x.pkt.b);
    free(x.interned.b);
    intern_free(&x.names);
    intern_free(&x.cats);
    intern_free(&x.locs);
    return x.failed ? 2 : 0;
}
