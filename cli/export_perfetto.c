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

/* The one sequence every packet is on. */
#define SEQ_ID 1
/* Track uuids: the process, a task, a task's lane of spans. */
#define UUID_PROCESS 1u
#define UUID_TASK(id) (((uint64_t)(id) << 8) | 2u)
#define UUID_LANE(id, lane) (((uint64_t)(id) << 8) | (3u + (uint64_t)(lane)))
#define MAX_LANES 250

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
    int err;                /* the first failure, a negative errno; 0 if none */
    cli_pb pkt;                 /* the packet being built */
    cli_pb interned;            /* its InternedData body, when it adds names */
    cli_intern names, cats, locs;
    flow_end *flows;
    size_t nflows, capflows;
    uint64_t nflow_ids;
    /* progress */
    int tty;
    int64_t done, total;
    int64_t last_ns;
    const char *phase;
    int64_t packets;        /* written so far */
    /* walking */
    size_t fi;              /* slice(): the flow ends before this step */
    int64_t lane_task;      /* async_span(): whose lanes lane_end holds */
    int nlanes;
    int64_t lane_end[MAX_LANES];
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
    cli_pb *p = &x->pkt;
    if (x->interned.n) {
        cli_pb_append(p, PKT_INTERNED, &x->interned);
        x->interned.n = 0;
    }
    if (p->oom || x->interned.oom) {
        if (!x->err) x->err = -ENOMEM;
        p->oom = x->interned.oom = 0;
        p->n = 0;
        return;
    }
    cli_pb_write(x->f, TRACE_PACKET, p);
    p->n = 0;
    x->packets++;
}
static void packet_start(px *x, int64_t ts, unsigned flags)
{
    x->pkt.n = 0;
    if (ts >= 0) cli_pb_uint(&x->pkt, PKT_TIMESTAMP, (uint64_t)ts);
    cli_pb_uint(&x->pkt, PKT_SEQ_ID, SEQ_ID);
    if (flags) cli_pb_uint(&x->pkt, PKT_SEQ_FLAGS, flags);
}

/* An iid for s in table t, adding its InternedData entry (field) to the
 * packet under construction when it is new. */
static uint64_t iid_of(px *x, cli_intern *t, unsigned field, const char *s)
{
    int fresh;
    uint64_t iid = cli_intern_get(t, s ? s : "", &fresh);
    if (!iid) { x->interned.oom = 1; return 0; }
    if (fresh) {
        size_t at = cli_pb_begin(&x->interned, field);
        cli_pb_uint(&x->interned, IID, iid);
        cli_pb_str(&x->interned, IID_NAME, s ? s : "");
        cli_pb_end(&x->interned, at);
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
    uint64_t iid = cli_intern_get(&x->locs, key, &fresh);
    if (!iid) { x->interned.oom = 1; return 0; }
    if (fresh) {
        size_t at = cli_pb_begin(&x->interned, ID_SOURCE_LOCATIONS);
        cli_pb_uint(&x->interned, IID, iid);
        cli_pb_str(&x->interned, SL_FILE, file);
        cli_pb_uint(&x->interned, SL_LINE, line > 0 && line < UINT32_MAX ? (uint64_t)line : 0);
        cli_pb_end(&x->interned, at);
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
    size_t at = cli_pb_begin(&x->pkt, PKT_TRACK_EVENT);
    cli_pb_uint(&x->pkt, TE_TYPE, (uint64_t)type);
    cli_pb_uint(&x->pkt, TE_TRACK_UUID, track);
    if (cat_iid) cli_pb_uint(&x->pkt, TE_CATEGORY_IIDS, cat_iid);
    if (name_iid) cli_pb_uint(&x->pkt, TE_NAME_IID, name_iid);
    if (loc) cli_pb_uint(&x->pkt, TE_SOURCE_LOCATION_IID, loc);
    for (size_t i = 0; i < nfl; i++)
        cli_pb_fixed64(&x->pkt, fl[i].id & 1 ? TE_TERMINATING_FLOW_IDS : TE_FLOW_IDS, fl[i].id >> 1);
    cli_pb_end(&x->pkt, at);
    flush_packet(x);
}

static void track(px *x, uint64_t uuid, uint64_t parent, const char *name, int64_t rank)
{
    packet_start(x, -1, 0);
    size_t at = cli_pb_begin(&x->pkt, PKT_TRACK_DESCRIPTOR);
    cli_pb_uint(&x->pkt, TD_UUID, uuid);
    if (parent) cli_pb_uint(&x->pkt, TD_PARENT, parent);
    cli_pb_str(&x->pkt, TD_NAME, name);
    cli_pb_uint(&x->pkt, TD_SIBLING_RANK, (uint64_t)(int64_t)(int32_t)rank);
    cli_pb_end(&x->pkt, at);
    flush_packet(x);
}

/* ---- sections -------------------------------------------------------------- */

/* After a read: its failure kept, the first one only. */
static void check(px *x, int err)
{
    if (err < 0 && !x->err) x->err = err;
}

/* End of a slice that the next one on its track may begin at: 1 ns short
 * (see the top); never before its start. */
static int64_t end_ts(int64_t start, int64_t end)
{
    return end > start ? end - 1 : start;
}

static uint64_t src_iid(px *x, tr_src at)
{
    return at.file ? loc_iid(x, at.file, at.line) : 0;
}

static int task_track(void *ctx, int64_t id, const char *label)
{
    track(ctx, UUID_TASK(id), UUID_PROCESS, label, id);
    return 0;
}

static void tracks(px *x)
{
    tr_run run;
    tr_run_summary(x->db, 0, &run);
    char name[1024];
    snprintf(name, sizeof name, "%s (coscope)", *run.program ? run.program : "program");
    /* The first packet clears the sequence's incremental state (interning). */
    packet_start(x, -1, SEQ_INCREMENTAL_STATE_CLEARED);
    size_t at = cli_pb_begin(&x->pkt, PKT_TRACK_DESCRIPTOR);
    cli_pb_uint(&x->pkt, TD_UUID, UUID_PROCESS);
    size_t pd = cli_pb_begin(&x->pkt, TD_PROCESS);
    cli_pb_uint(&x->pkt, PD_PID, (uint64_t)(run.pid > 0 && run.pid < INT32_MAX ? run.pid : 1));
    cli_pb_str(&x->pkt, PD_NAME, name);
    cli_pb_end(&x->pkt, pd);
    cli_pb_uint(&x->pkt, TD_CHILD_ORDERING, TD_ORDER_EXPLICIT);
    cli_pb_end(&x->pkt, at);
    flush_packet(x);
    check(x, tr_walk_tasks(x->db, task_track, x));
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
 * walk of the step rows in (task, start) order; the ends found are then
 * sorted by step, for slice() to put on the steps' BEGINs. */
typedef struct edge {
    int64_t from, ts, to, resume;   /* ts becomes the waker's step start once found */
} edge;

typedef struct match {
    px *x;
    edge *e;
    size_t n, cap;
    uint32_t *of, *in;      /* edges by waker (from, ts), by woken (to, resume) */
    uint8_t *ok;            /* bit 0: the waker's step found, bit 1: the woken one's */
    size_t oi, ii;          /* how far each order is matched */
    int have;
    int64_t ct, cs, ce;     /* the step row before this one */
} match;

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
    match *m = ctx;
    if (w->resume == INT64_MIN) return 0;
    if (m->n == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 4096;
        edge *e = cap < UINT32_MAX ? realloc(m->e, cap * sizeof *e) : NULL;
        if (!e) return 1;
        m->e = e;
        m->cap = cap;
    }
    m->e[m->n++] = (edge){ w->from, w->ts, w->to, w->resume };
    return 0;
}

/* The edges' ends at or before step row (task, start); the end of the
 * walk passes INT64_MAX for both. */
static void match_upto(match *m, int64_t task, int64_t start)
{
    /* Wakers at a time before this row: in the row before, if it is
     * theirs and still running then (tr_step_at's answer). */
    while (m->oi < m->n) {
        edge *e = &m->e[m->of[m->oi]];
        if (e->from > task || (e->from == task && e->ts >= start)) break;
        if (m->have && m->ct == e->from && m->cs <= e->ts && m->ce >= e->ts) {
            e->ts = m->cs;
            m->ok[m->of[m->oi]] |= 1;
        }
        m->oi++;
    }
    /* Woken ones resuming exactly at this row's start. */
    while (m->ii < m->n) {
        edge *e = &m->e[m->in[m->ii]];
        if (e->to > task || (e->to == task && e->resume > start)) break;
        if (e->to == task && e->resume == start) m->ok[m->in[m->ii]] |= 2;
        m->ii++;
    }
}

static int match_step(void *ctx, const tr_walk_step *r)
{
    match *m = ctx;
    match_upto(m, r->task, r->start);
    m->have = 1;
    m->ct = r->task;
    m->cs = r->start;
    m->ce = r->end;
    step_done(m->x);
    return 0;
}

static void flows(px *x)
{
    x->phase = "flows";
    if (x->err) return;
    match m = { .x = x };
    int r = tr_wakeups(x->db, on_wake, &m);
    if (r == 0 && m.n) {
        m.of = malloc(m.n * sizeof *m.of);
        m.in = malloc(m.n * sizeof *m.in);
        m.ok = calloc(m.n, 1);
        if (!m.of || !m.in || !m.ok) r = -ENOMEM;
    }
    check(x, r > 0 ? -ENOMEM : r);
    if (x->err || !m.n) goto out;   /* no edges: nothing to sort (qsort wants an array) */
    for (size_t i = 0; i < m.n; i++) m.of[i] = m.in[i] = (uint32_t)i;
    g_sort_edges = m.e;
    qsort(m.of, m.n, sizeof *m.of, by_from);
    qsort(m.in, m.n, sizeof *m.in, by_to);
    check(x, tr_walk_steps(x->db, 0, match_step, &m));
    if (x->err) goto out;
    match_upto(&m, INT64_MAX, INT64_MAX);
    for (size_t i = 0; i < m.n; i++) {
        if (m.ok[i] != 3) continue;
        uint64_t id = ++x->nflow_ids;
        if (add_end(x, m.e[i].from, m.e[i].ts, id << 1) < 0 || add_end(x, m.e[i].to, m.e[i].resume, id << 1 | 1) < 0) {
            check(x, -ENOMEM);
            goto out;
        }
    }
    if (x->nflows) qsort(x->flows, x->nflows, sizeof *x->flows, flow_cmp);
out:
    free(m.e);
    free(m.of);
    free(m.in);
    free(m.ok);
}

/* Steps and awaits, task by task in time order (the same walk as the
 * Chrome export's); the flows found above ride on the steps' BEGINs. */
static int slice(void *ctx, const tr_walk_step *r)
{
    px *x = ctx;
    uint64_t tr = UUID_TASK(r->task);
    /* This step's flow ends: the sorted list, walked alongside. */
    size_t fi = x->fi;
    while (fi < x->nflows && (x->flows[fi].task < r->task || (x->flows[fi].task == r->task && x->flows[fi].start < r->start)))
        fi++;
    size_t fe = fi;
    while (fe < x->nflows && x->flows[fe].task == r->task && x->flows[fe].start == r->start) fe++;
    track_event(x, r->start, tr, TYPE_SLICE_BEGIN, TR_NAME_STEP, "run", src_iid(x, r->from), x->flows + fi, fe - fi);
    track_event(x, end_ts(r->start, r->end), tr, TYPE_SLICE_END, NULL, NULL, 0, NULL, 0);
    x->fi = fe;
    if (r->awaited) {
        track_event(x, r->end, tr, TYPE_SLICE_BEGIN, TR_NAME_AWAIT, r->what, src_iid(x, r->to), NULL, 0);
        track_event(x, end_ts(r->end, r->resumed), tr, TYPE_SLICE_END, NULL, NULL, 0, NULL, 0);
    }
    step_done(x);
    return 0;
}

/* Holds, regions, thread-pool work: on lanes under their task's track, the
 * first lane whose last span ended by this one's start. */
static int async_span(void *ctx, const tr_walk_span *r)
{
    px *x = ctx;
    int64_t task = r->task, start = r->start, end = r->end < r->start ? r->start : r->end;
    if (task != x->lane_task) { x->lane_task = task; x->nlanes = 0; }
    int lane = 0;
    while (lane < x->nlanes && x->lane_end[lane] > start) lane++;
    if (lane == MAX_LANES) lane = MAX_LANES - 1;   /* past 250 at once: overlap on the last */
    if (lane == x->nlanes) {
        char tname[700];
        x->nlanes++;
        snprintf(tname, sizeof tname, "task #%lld spans %d", (long long)task, lane + 1);
        track(x, UUID_LANE(task, lane), task ? UUID_TASK(task) : UUID_PROCESS, tname, lane);
    }
    x->lane_end[lane] = end;
    track_event(x, start, UUID_LANE(task, lane), TYPE_SLICE_BEGIN, tr_span_name((unsigned)r->kind), r->name,
                src_iid(x, r->at), NULL, 0);
    track_event(x, end_ts(start, end), UUID_LANE(task, lane), TYPE_SLICE_END, NULL, NULL, 0, NULL, 0);
    step_done(x);
    return 0;
}

/* Logs and marks named by their text; warnings by kind and message. */
static int instant(void *ctx, const tr_walk_instant *r)
{
    px *x = ctx;
    char name[4200];
    const char *cat = "warning", *text = name;
    if (r->kind == TR_WARN) snprintf(name, sizeof name, "warning: %s: %s", r->warning, r->text ? r->text : "");
    else {
        cat = tr_event_name((unsigned)r->kind);
        text = r->text ? r->text : "?";
    }
    uint64_t tr = !r->has_task || r->task == 0 ? UUID_PROCESS : UUID_TASK(r->task);
    track_event(x, r->ts, tr, TYPE_INSTANT, cat, text, src_iid(x, r->at), NULL, 0);
    step_done(x);
    return 0;
}

int cli_export_perfetto(sqlite3 *db, FILE *f)
{
    px x = { .db = db, .f = f, .tty = isatty(2), .phase = "tracks", .lane_task = INT64_MIN };
    /* Progress counts rows: wake-ups are about as many as steps. */
    int64_t steps, spans, instants;
    check(&x, tr_export_rows(db, &steps, &spans, &instants));
    x.total = 2 * steps + spans + instants;
    if (!x.err) tracks(&x);
    flows(&x);
    x.phase = "slices";
    if (!x.err) check(&x, tr_walk_steps(db, 1, slice, &x));
    x.phase = "spans";
    if (!x.err) check(&x, tr_walk_spans(db, 1, async_span, &x));
    x.phase = "instants";
    if (!x.err) check(&x, tr_walk_instants(db, instant, &x));
    x.done = x.total;
    progress(&x, 1);
    if (x.tty) fputc('\n', stderr);
    free(x.flows);
    free(x.pkt.b);
    free(x.interned.b);
    cli_intern_free(&x.names);
    cli_intern_free(&x.cats);
    cli_intern_free(&x.locs);
    return x.err;
}
