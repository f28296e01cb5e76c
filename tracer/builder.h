/* SPDX-License-Identifier: MIT */
/* builder.h -- private to the builder (build.c, replay.c, spanrows.c,
 * warnings.c, contention.c): its state while it replays events, and the
 * helpers these files share.  Everything here belongs to the one thread
 * that runs the builder; the writer thread (batch.c) only reads the arrays
 * of batches already flushed. */
#ifndef TR_BUILDER_H
#define TR_BUILDER_H

#include "tracer.h"
#include "reader.h"
#include "map.h"
#include <stdbool.h>

/* lod.c: a task's timeline summary (table `timeline`) as it is built;
 * its format (TR_LOD_*) is in reader.h, which reads it back. */
typedef struct tr_lod_acc {
    int64_t bucket;           /* valid only if used */
    int64_t busy, waited;     /* ns of the bucket spent running, waiting */
    int64_t best;             /* the longest wait part in it: best_kind is its kind */
    uint8_t best_kind, flags, used, dirty; /* dirty: has news not written yet */
} tr_lod_acc;
/* A coarse level's row kept back until the task's levels are chosen. */
typedef struct tr_lod_row {
    int64_t bucket, busy, waited;
    uint8_t level, kind, flags, last;
} tr_lod_row;
typedef struct tr_lod {
    int64_t ts;               /* the summary is complete up to here */
    uint8_t state, hold;      /* since ts: TR_LOD_*; holding a lock */
    uint8_t chosen;           /* the levels written are chosen: keep says which */
    uint8_t keep;             /* valid only if chosen: bit L set if level L is written */
    uint32_t nrows[TR_LOD_LEVELS]; /* rows of each level so far; counted only until chosen */
    tr_lod_row *pend;         /* levels 1.. rows until chosen (owned; NULL once chosen) */
    uint32_t npend, cappend;
    tr_lod_acc acc[TR_LOD_LEVELS]; /* the open bucket of each level */
} tr_lod;
void tr_lod_state(tr_builder *b, uint64_t task, tr_lod *l, int64_t ts, int state, int holding);
void tr_lod_flag(tr_builder *b, uint64_t task, tr_lod *l, int64_t ts, int flag);
/* Write the open buckets (after catching up to ts, if ts >= 0) and choose
 * the task's levels if not yet: a task that ends, the trace's end, or a
 * live slice (which keeps every level: a view reads them now). */
void tr_lod_flush(tr_builder *b, uint64_t task, tr_lod *l, int64_t ts);
/* Frees what a summary holds (a builder freed before the end). */
void tr_lod_free(tr_builder *b, tr_lod *l);

typedef struct tstate {
    int64_t spawn_ts, start_ts, step_start, step_end, await_start;
    int64_t busy, wait;
    uint64_t await_res;
    uint32_t step_loc, step_end_loc, await_loc;  /* step_end*: valid only once the step ended */
    uint32_t steps, awaits;
    uint8_t in_step, in_await, await_kind, ended;
    uint8_t handed;           /* the awaited lock/semaphore was handed to it: no longer a waiter */
    uint8_t nheld;            /* locks/semaphores held, up to 4 tracked */
    uint64_t wd_stack;        /* string id of a watchdog's stack not yet matched to its step, 0 if none */
    int64_t wd_ts;            /* when it was caught */
    int64_t cx_ts;            /* diagnose.c: the first cancellation asked of it, by cx_by (0: outside tasks) */
    uint64_t cx_by;
    uint32_t cx_loc;          /* where it received -ECANCELED */
    uint8_t cx_state;         /* diagnose.c: none, asked, received, warned */
    uint8_t dl_pending;       /* waits in a deadlock cycle another task's -EDEADLK broke: warning dl_warning */
    int64_t dl_warning;
    uint32_t ring;
    uint64_t held[4];
    uint64_t parent, name_id; /* from its spawn; 0 if not seen (spawned before tracing began) */
    uint32_t spawn_loc;
    uint8_t detached;
    uint8_t live_dirty;       /* something happened since the last live slice (tr_replay_live) */
    uint64_t live_id;         /* span id of the open step row a live slice wrote; 0: none */
    int64_t live_start;       /* valid only if live_id: that row's start (its final row takes its id) */
    tr_lod lod;
} tstate;

/* Contention figures of one lock, semaphore or queue (resource_stats). */
typedef struct rstat {
    int64_t acquisitions, contended, wait_total, wait_max, holds, hold_total, hold_max, max_depth;
    uint64_t longest_waiter, longest_holder;
    int64_t waiters, max_waiters;  /* tasks suspended on it now, and the most at once */
    int64_t *waits;                /* every wait's duration, for the percentiles */
    size_t nwaits, capwaits;
    int seen_depth;
    uint64_t last_put, last_get;   /* queues: the tasks that last put and got (asleep.c names them) */
    int64_t dq_bucket, dq_depth, dq_max; /* seriesrows.c: queues, the depth bucket not written yet (valid if dq_have) */
    int dq_have;
} rstat;

typedef struct hold {
    int64_t start;
    uint32_t loc;
    uint8_t kind;  /* 'h' hold, 'r' region, 'w' work, 'i' loop idle */
    uint64_t task;
    uint64_t res;  /* the resource; 0 for loop idle (keyed by ring) */
    uint64_t live_id; /* span id of the open row a live slice wrote; 0: none */
    int64_t queue_ns; /* work: how long it waited for a pool thread, -1 if unknown */
    uint8_t wkind;    /* work: enum tr_work_kind */
} hold;

/* A span waiting in spanrows.c to be written in (task, start) order. */
typedef struct tr_span_row {
    int64_t start, end;
    int64_t resumed, result;  /* valid only if wait: the await that ended the step */
    int64_t bin;              /* valid only if kind != TR_SPAN_STEP */
    uint64_t task, res, id;   /* task 0: none (idle spans) */
    uint32_t loc, end_loc, ring;
    uint8_t kind;             /* TR_SPAN_* */
    uint8_t wait;             /* 1 + the wait kind of the await that ended a step; 0: none */
    uint8_t open;             /* its last part had not ended when the trace stopped */
    int64_t queue_ns;         /* work spans: time in libuv's queue; -1 (or kind != work): unknown */
} tr_span_row;

/* An await written to `waits` too (waitrows.c): one that names what it
 * waits on, kept until the spans of its window go in. */
typedef struct tr_wait_row {
    int64_t rkey, bin, start, end; /* [start, end]: the await; end = the trace's end while open; rkey: waits.rkey */
    uint64_t id, task, res;   /* id: the step row's span id */
    uint32_t loc;             /* the await's line */
    uint8_t wait, open;       /* wait: the kind (not + 1) */
} tr_wait_row;

struct tr_builder {
    sqlite3 *db;
    int64_t built_seq;
    tr_clock clk;          /* reader_clock.c: the readers' conversion, shared */
    int64_t slow_ns;
    int64_t max_ts;
    int64_t events;
    tr_map tasks, holds, strcache, rstats;
    tr_map sites;             /* contention.c: figures per (resource, acquire site) */
    tr_map names;             /* task id -> its name's string id, kept after the task ends (labels) */
    tr_writer *writer;        /* runs the batches' inserts; NULL: they run on this thread */
    tr_batch ev, st, sp, tk;  /* rows written in bulk: events, step spans, other spans, tasks */
    tr_batch lod;             /* timeline rows (lod.c) */
    size_t lod_pending;       /* lod.c: rows in every task's pend */
    uint8_t lod_all;          /* lod.c: a live slice was written: every level of every task from now on */
    tr_batch wt;              /* waits rows (waitrows.c) */
    tr_batch qd;              /* queue_depth rows (seriesrows.c) */
    tr_map hists;             /* seriesrows.c: task id -> tr_hist_acc, busy tasks only */
    tr_map crowds;            /* seriesrows.c: resource id -> waiters now and most, for kinds rstats does not count */
    tr_wait_row *waits;       /* waits not written yet, flushed with the spans */
    size_t nwaits, capwaits;
    tr_span_row *spans;       /* spans not written yet (spanrows.c) */
    size_t nspans, capspans;
    uint64_t span_id;         /* the last span id given */
    uint8_t *fetch_buf;       /* chunks copied out by fetch_chunks */
    size_t fetch_cap;
    struct { int64_t seq; size_t off, len; } fetched[16]; /* valid only up to fetch_chunks' count */
    const char *warn_stack;   /* stack text for the next warning row only */
    uint32_t warn_cause;      /* the line that caused the next warning row only (its cause_loc), 0: none */
    struct tr_dx *dx;         /* diag_queue.c, diag_fail.c, diag_cause.c: their state */
    uint64_t wf_task, wf[16]; /* TR_WAITS_FOR: the tasks wf_task's next warning waits for */
    int nwf;
    struct tr_asleep_ent *asleep; /* asleep.c: this all-asleep's TR_WARNs, told once the ring moves on */
    size_t nasleep, capasleep;
    uint32_t asleep_ring;
    sqlite3_stmt *sel_chunks, *ins_res, *ins_thread, *sel_string, *ins_warning, *sel_res, *upd_detached;
    tr_map queued;            /* diagnose.c: pool work queued, not started: request id -> when, where */
#define TR_DG_RECENT 64
    struct tr_dg_work { int64_t start, end; uint32_t loc; uint64_t task; uint8_t wkind; } workdone[TR_DG_RECENT];
    size_t nworkdone;         /* work ended so far; the last TR_DG_RECENT are in workdone */
    sqlite3_stmt *sel_loc, *upd_stack, *upd_message;
    uint64_t dl_requester;    /* the task whose wait closed the last deadlock cycle seen (its rows come together) */
    struct { uint64_t path, bias; } mods[256]; /* symbolize.c: TR_MODULE, where each object was loaded */
    size_t nmods;
#define TR_DG_FRAMES 48
    uint64_t (*stk)[TR_DG_FRAMES]; /* per ring: the last TR_STACK frames (a crash's come just before its warning); */
                              /* bit 63: a guess (a word found on the stack), not from the frame chain */
    uint8_t *nstk;
    struct tr_dg_loopring { int64_t free_since; uint8_t open, tainted; } *lr; /* per ring: callbacks outside tasks */
    uint64_t cb_stack;        /* a watchdog's stack of callbacks outside tasks, not yet matched; at cb_stack_ts */
    int64_t cb_stack_ts;
    int err;
};

static inline bool tr_contended_kind(int wait)
{
    return wait == CO_WAIT_LOCK || wait == CO_WAIT_SEM || wait == CO_WAIT_QUEUE_GET || wait == CO_WAIT_QUEUE_PUT;
}

static inline void cell_int(tr_cell *c, int64_t v) { c->type = TR_CELL_INT; c->i = v; }
static inline void cell_opt(tr_cell *c, int64_t v) { c->type = v ? TR_CELL_INT : TR_CELL_NULL; c->i = v; }
static inline void cell_text(tr_cell *c, const char *s) { c->type = s ? TR_CELL_TEXT : TR_CELL_NULL; c->s = s; }

/* replay.c: the rows the replay writes, for openrows.c too */
/* A span row (hold, region, work, idle); live_id != 0 replaces the open row a live slice wrote. */
tr_span_row *tr_span_as(tr_builder *b, uint64_t live_id, int kind, uint64_t task, uint64_t res, int64_t start,
                        int64_t end, uint32_t loc, uint32_t end_loc, int open, uint32_t ring);
/* The task's step row: its step and, if t->in_await, the await that ended it. */
void tr_step_row(tr_builder *b, uint64_t task, tstate *t, int64_t resumed, int64_t result, int open);
/* The slow_step warning of the task's step that ran from t->step_start to
 * end (ended at end_loc, 0 if still running at the trace's end), if longer
 * than the threshold. */
void tr_slow_step(tr_builder *b, uint64_t task, tstate *t, int64_t end, uint32_t end_loc, int running);
/* snaprows.c: a snapshot's TR_SNAP_TASK and TR_SNAP_VALUE. */
void tr_snap_task(tr_builder *b, uint32_t ring, const tr_rec *e, int64_t ts, uint32_t loc);
void tr_snap_value(tr_builder *b, const tr_rec *e);
/* The task's row as far as it is known (end_ts < 0: not ended). */
tr_cell *tr_next_row(tr_builder *b, tr_batch *batch); /* taskrow.c: NULL once a flush failed (reported) */
void tr_task_row(tr_builder *b, uint64_t id, const tstate *t, int64_t end_ts, unsigned state /* TR_TASK_* */,
                 int64_t result, int has_result);

/* replay.c: events -> rows */
void tr_replay_event(void *ctx, uint32_t ring, const tr_rec *e); /* ctx: the builder; tr_chunk_decode's callback */
/* openrows.c */
void tr_replay_close(tr_builder *b);                            /* at the end of the trace */
void tr_replay_live(tr_builder *b);                             /* a live slice ends: write what is open */

/* bstmt.c: the builder's row writing */
void tr_bstep(tr_builder *b, sqlite3_stmt *st);            /* step + reset, first error kept in b->err */
void tr_bind_opt(sqlite3_stmt *st, int i, int64_t v);      /* 0 binds NULL */
const char *tr_string_of(tr_builder *b, uint64_t id);      /* interned string, NULL if unknown */

/* warnrow.c: a row of `warnings`, and the labels its message words tasks,
 * waits and source lines with */
void tr_warning(tr_builder *b, const char *kind, uint64_t task, uint64_t task2, uint64_t res, int64_t ts,
                int64_t dur, uint32_t loc, uint32_t loc2, const char *msg);
void tr_task_label(tr_builder *b, uint64_t id, char *out, size_t cap);
void tr_wait_label(tr_builder *b, int kind, uint64_t res, char *out, size_t cap);
void tr_loc_label(tr_builder *b, uint32_t loc, char *out, size_t cap);
/* warnings.c: the runtime's detections (TR_WARN) as rows */
void tr_on_warn(tr_builder *b, const tr_rec *e, int64_t ts, uint32_t loc);
/* asleep.c: all_asleep, one row per group of tasks stuck together */
void tr_asleep_add(tr_builder *b, uint32_t ring, const tr_rec *e, int64_t ts, uint32_t loc);
void tr_asleep_flush(tr_builder *b);

/* diagnose.c: pool starvation, ignored cancellations, the watchdog's stacks */
int tr_dg_init(tr_builder *b);
void tr_dg_free(tr_builder *b);
void tr_dg_work_queued(tr_builder *b, const tr_rec *e, int64_t ts, uint32_t loc);
int64_t tr_dg_work_begin(tr_builder *b, const tr_rec *e, int64_t ts, uint32_t loc);
void tr_dg_work_end(tr_builder *b, const hold *h, int64_t end);
void tr_dg_cancel(tr_builder *b, const tr_rec *e, int64_t ts);
void tr_dg_resume(tr_builder *b, uint64_t task, tstate *t, int64_t ts, int64_t result);
void tr_dg_close(tr_builder *b, uint64_t task, tstate *t, int64_t end);
int tr_dg_abandoned_known(tr_builder *b, uint64_t task);
void tr_dg_stack_text(tr_builder *b, uint64_t task, tstate *t, int64_t ts, uint64_t text);
const char *tr_dg_step_stack(tr_builder *b, tstate *t, int64_t start, int64_t end);
void tr_dg_frame(tr_builder *b, uint32_t ring, const tr_rec *e);
void tr_dg_loop_event(tr_builder *b, uint32_t ring, unsigned kind, int64_t ts);
void tr_dg_crash(tr_builder *b, uint32_t ring, const tr_rec *e, int64_t ts, uint32_t loc);

/* diag_queue.c: queues whose depth keeps growing (queue_growth) */
void tr_dq_event(tr_builder *b, const tr_rec *e, int64_t ts, uint32_t loc, int put);
/* diag_fail.c: awaits at one line failing fast for a sustained period (failure_loop) */
void tr_fl_resume(tr_builder *b, uint64_t task, tstate *t, int64_t ts, int64_t result);
void tr_fl_end(tr_builder *b, uint64_t task, tstate *t, int64_t ts, int64_t result);
/* diag_cause.c: the thresholds (meta sustain_ms, fail_rate, queue_min), the
 * endpoints of connections, and what the all_asleep stories name as the
 * line that caused a wait (a lock or semaphore unit never given back, a
 * wakeup dropped by a cancellation, a timeout that left a resource held) */
int tr_dx_init(tr_builder *b);
void tr_dx_free(tr_builder *b);
void tr_dx_close(tr_builder *b);                        /* the trace ended: growth and loops still open */
void tr_dx_cancel(tr_builder *b, const tr_rec *e, int64_t ts);
void tr_dx_endpoint(tr_builder *b, const tr_rec *e, int64_t ts, uint32_t loc);
typedef struct tr_dx_limits { int64_t sustain_ns, fail_rate, queue_min; } tr_dx_limits;
const tr_dx_limits *tr_dx_limits_of(tr_builder *b);
/* asleep.c asks: why the wait x->kind on res, with other the task that could
 * end it, will not end; appends words to out, returns the cause's location
 * (0: none found). */
uint32_t tr_dx_why(tr_builder *b, int kind, uint64_t res, uint64_t other, char *out, size_t cap);

/* symbolize.c: a crash's program counters to function (file:line), with libdw */
void tr_sym_module(tr_builder *b, uint64_t path_id, uint64_t bias);
char *tr_sym_stack(tr_builder *b, const uint64_t *pcs, size_t n, char *top, size_t topcap); /* pcs: bit 63 = guess */

/* spanrows.c: spans wait in memory and go in sorted by (task, start) */
tr_span_row *tr_span_add(tr_builder *b);                   /* zeroed, with its id; NULL on error (b->err) */
int tr_spans_flush(tr_builder *b);

/* waitrows.c: awaits that name what they wait on, binned by time */
int tr_waits_init(tr_builder *b);                          /* the batch; on the builder's connection */
void tr_wait_add(tr_builder *b, const tr_span_row *step); /* the await that ended a final step row */
int tr_waits_flush(tr_builder *b);                         /* sorted by (rkey, bin, start); with the spans */

/* seriesrows.c: the summaries a reader's first frame asks (schema.c). */
#define TR_HIST_MIN 1024  /* steps from which a task's histograms are written */
#define TR_CROWD 32       /* waiters at once from which a resource's count is written */
int tr_series_init(tr_builder *b);
void tr_series_free(tr_builder *b);
void tr_depth_note(tr_builder *b, uint64_t res, rstat *r, int64_t ts, int64_t depth); /* a queue's put or get */
/* An await of kind on res began (delta 1) or resumed (-1): events,
 * conditions, futures (locks, semaphores and queues count in rstat). */
void tr_crowd_note(tr_builder *b, int kind, uint64_t res, int delta);
/* The step rows rows[order[0..n)] of one task, as they go in. */
int tr_hist_rows(tr_builder *b, uint64_t task, const tr_span_row *rows, const uint32_t *order, size_t n);
int tr_series_finish(tr_builder *b);                       /* after the last rows went in */

/* contention.c: per resource figures, into resource_stats */
rstat *tr_rs_of(tr_builder *b, uint64_t res);
void tr_rs_wait(tr_builder *b, uint64_t res, uint64_t task, int64_t dur);
void tr_rs_hold(tr_builder *b, uint64_t res, uint64_t task, int64_t dur);
int tr_write_rstats(tr_builder *b);                        /* and contention_sites */
void tr_site_acquire(tr_builder *b, uint64_t res, uint32_t loc);
void tr_site_wait(tr_builder *b, uint64_t res, uint32_t loc, int64_t dur);

#endif
