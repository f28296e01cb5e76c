/* SPDX-License-Identifier: MIT */
/* reader.h -- the one trace reader: what every front end (the TUI's model,
 * the CLI's commands) and the builder share about reading the format, so
 * that each fact about it is worked out in one place.
 *
 * Opening: tr_reader_open (tracer.h, reader.c) is the one way to open a
 * trace.  Time: a chunk's raw timestamps become ns from the start of the
 * run through tr_clock_ns (reader_clock.c), the builder's conversion, so
 * times decoded from chunks agree with the tables and a hostile timestamp
 * is clamped, never undefined.  Time bins: spans that may overlap (holds,
 * regions, work, idle) carry a bin (reader_bins.c, docs/schema.md), and a
 * question "which overlap t" asks the TR_NBINS bins tr_bins_at names.
 *
 * The state of the run at t (reader_at.c): what a task was doing (its step
 * row at t), the holds open at t in one pass, and the waiters of a
 * resource (through the `waits` table's bins, by resource; how many from
 * the builder's count for a crowded one), so that a front end asks for
 * what it shows, not a probe per live task nor a read of every await.
 * A run's summaries (reader_series.c): a queue's depth over a range, a
 * task's histograms, from what the builder wrote for them.
 *
 * The recording itself (reader_chunks.c): the chunk directory and the last
 * few decoded chunks, through the tracer's one decoder and the clock
 * above; on it, a task's events near t (reader_events.c), the next or
 * previous event (reader_next.c), a queue's depth and awaits near t
 * (reader_queue.c).  A task's timeline at a resolution (reader_timeline.c)
 * reads the builder's levels of detail or the step rows.  The run as a
 * whole -- how it ended, its length, its tasks by state (reader_run.c) --
 * for the report's head and the TUI's header alike.  The whole run row by
 * row (reader_export.c): the walks both exports draw from; the builder's
 * summaries ranked (reader_tables.c): the report's tables.
 *
 * Ownership: a tr_at or tr_chunks belongs to its caller, one thread, on a
 * connection that outlives it (close it before the connection); what a
 * function fills belongs to the caller, except decoded chunks (owned by
 * the tr_chunks, valid as said at tr_chunk_events_of).  Costs are given
 * per function: each is a bounded read whatever the trace's length.
 */
#ifndef TR_READER_H
#define TR_READER_H

#include "tracer.h"
#include <stddef.h>
#include <stdint.h>

/* ---- reader_clock.c: raw timestamps to ns --------------------------------- */

typedef struct tr_clock {
    int kind;              /* TR_CLOCK_* (meta.clock_kind) */
    uint64_t origin;       /* raw value of t = 0 (meta.clock_origin) */
    double ns_per_tick;    /* TSC only (meta.ns_per_tick), clamped to [1e-6, 1e6] */
} tr_clock;

/* The trace's clock from its meta table; what is missing or out of range
 * reads as a monotonic clock in ns from 0.  Never fails. */
void tr_clock_load(sqlite3 *db, tr_clock *c);
/* Raw timestamp -> ns from the start of the run.  A value beyond int64_t's
 * range is clamped (NaN reads as 0). */
int64_t tr_clock_ns(const tr_clock *c, uint64_t raw);

/* ---- reader_bins.c: time bins ----------------------------------------------- */

#define TR_NBINS 9
/* The bin of a span over [s, e]: the finest level whose 2^(20+4*level)-ns
 * bucket holds both ends, or the catch-all level 8. */
int64_t tr_span_bin(int64_t s, int64_t e);
/* The TR_NBINS bins a span overlapping t can be in, into out. */
void tr_bins_at(int64_t t, int64_t out[TR_NBINS]);

/* ---- reader_at.c: the state of the run at t ------------------------------ */

/* The prepared statements of the questions below, on one connection. */
typedef struct tr_at tr_at;
int tr_at_open(tr_at **out, sqlite3 *db);   /* 0 or a negative errno */
void tr_at_close(tr_at *q);

/* A task's step row: it ran over [start, end), then (wait >= 0) awaited
 * over [end, resumed) on res at end_loc.  open: its last part had not
 * ended when the trace stopped. */
typedef struct tr_step {
    int64_t start, end, resumed;  /* resumed: valid only if has_resumed */
    int wait;                     /* co_wait_kind of the await that ended it, -1: none (the task ended) */
    int has_resumed, open;
    int64_t res, loc, end_loc;    /* 0: none */
} tr_step;
/* What task was doing at t: its last step row starting at or before t
 * (steps tile a task's life).  1 with *out set, 0 if none, <0 on error. */
int tr_step_at(tr_at *q, int64_t task, int64_t t, tr_step *out);
/* Its first step row starting after t.  Same returns. */
int tr_step_after(tr_at *q, int64_t task, int64_t t, tr_step *out);

/* An await open at t that names what it waits on (a resource; a task when
 * wait is CO_WAIT_TASK; res 0 for a gather or a group): from `waits`. */
typedef struct tr_wait {
    int64_t task, res, since, until;  /* until: when it resumed; with open, the trace's end */
    int wait;                         /* co_wait_kind */
    int open;
    int64_t loc;                      /* the await's line, 0 if unknown */
} tr_wait;
/* Every such await open at t on resource res (res 0: the awaits on a
 * task, a gather or a group), each once, in one pass (nine range reads
 * of waits' (rkey, bin, start) key), the longest of each bin first; fn
 * returns non-zero to stop.  Yields and sleeps are not among them.
 * Returns 0 or a negative errno. */
int tr_waits_on(tr_at *q, int64_t res, int64_t t, int (*fn)(void *ctx, const tr_wait *w), void *ctx);
/* The waiters of resource res at t: returns how many there are (or a
 * negative errno), and puts the cap longest waiting (earliest since
 * first, ties by task) into out.  A crowded resource's count is one probe
 * of wait_counts and its list the first cap rows of each bin; another's
 * are its few rows. */
int64_t tr_waiters_of(tr_at *q, int64_t res, int64_t t, tr_wait *out, int cap);
/* Every hold open at t (a lock's holder, a semaphore's), in one pass. */
int tr_holds_at(tr_at *q, int64_t t, int (*fn)(void *ctx, int64_t res, int64_t task, int64_t since), void *ctx);
/* The holders of res at t (task ids into out, up to cap), the last to take
 * it first -- the one the runtime's warnings name ("last taken by" a
 * semaphore), so a front end's chain and the warning agree; returns how
 * many there are, or a negative errno. */
int tr_holders_of(tr_at *q, int64_t res, int64_t t, int64_t *out, int cap);

/* ---- reader_series.c: a run's summaries --------------------------------- */

/* Histograms of durations: log2 buckets, [0] < 1 us, [i] in [2^(i-1),
 * 2^i) us, the last open-ended. */
#define TR_HIST_BUCKETS 24
static inline int tr_hist_bucket(int64_t ns)
{
    int64_t us = ns / 1000;
    if (us <= 0) return 0;
    int b = 64 - __builtin_clzll((unsigned long long)us);
    return b < TR_HIST_BUCKETS - 1 ? b : TR_HIST_BUCKETS - 1;
}
/* A task's step durations (out[0], its finished steps) and await
 * durations (out[1], its awaits that resumed), with their counts in n:
 * from task_hist for a busy task, else from its step rows.  0 or a
 * negative errno. */
int tr_task_hist(tr_at *q, int64_t task, int64_t out[2][TR_HIST_BUCKETS], int64_t n[2]);
/* Queue res's depth at n evenly spaced times over [from, to], each to
 * within 2^20 ns (queue_depth: where it changed in that bucket, the most
 * it held there), in n probes whatever the run's length.  0 or a
 * negative errno.  A trace being recorded has the buckets built so far. */
int tr_queue_depths(tr_at *q, int64_t res, int64_t from, int64_t to, int64_t *out, int n);

/* ---- reader_wake.c: wake-up edges ---------------------------------------- */

/* A wake-up: task `from`, at ts, woke task `to`, which resumed at resume.
 * kind: the tr_kind of what woke it (TR_END: from ended; TR_LOCK_REL,
 * TR_SEM_REL: handed over; TR_EV_SET, TR_COND_NOTIFY, TR_FUT_SET; TR_Q_PUT,
 * TR_Q_GET: an item or a slot handed over). */
typedef struct tr_wake {
    int kind;
    int64_t from, ts, to, resume;
} tr_wake;
typedef int tr_wake_fn(void *ctx, const tr_wake *w);  /* non-zero: stop */
/* Every wake-up the trace states soundly (reader_wake.c says which), task
 * ends first by time, then per resource by time.  0 or a negative errno. */
int tr_wakeups(sqlite3 *db, tr_wake_fn *fn, void *ctx);

/* When one wait was over: the moment its task became ready to run again
 * (tokio-console's "scheduled" time runs from there to its resume).  As
 * the trace states it: a yield at once; an awaited task at its end; a
 * gather or group at the end of the last child it waited for; a lock or
 * semaphore at the release before the resume.  A timer's, an event's, a
 * queue's or I/O's moment is in no table: not said.  Prepared statements
 * on db, one thread; close before the connection. */
typedef struct tr_ready tr_ready;
int tr_ready_open(tr_ready **out, sqlite3 *db);   /* 0 or a negative errno */
void tr_ready_close(tr_ready *r);
/* For task's step row s (tr_step_at / tr_step_after) that ended in an
 * await: 1 with *ts in [s->end, s->resumed], 0 if the trace does not say
 * (or it returned by a timeout, a cancellation), <0 on error.  Cost: at
 * most one probe of a key (tasks' id or parent, spans_hold). */
int tr_ready_at(tr_ready *r, int64_t task, const tr_step *s, int64_t *ts);

/* ---- reader_range.c: where time went over a range -------------------------- */

/* A task's time over [from, to). */
typedef struct tr_range_sum {
    int64_t run, wait;                       /* ns running, ns in an await */
    int64_t by_kind[CO_WAIT_KIND_COUNT];     /* wait by co_wait_kind */
    size_t rows;                             /* step rows read */
    int truncated;                           /* max_rows were read before to: the sums stop there */
} tr_range_sum;
/* Task's running and waits by kind over [from, to), from its step rows
 * there (one probe of spans' (task, start) key each, at most max_rows);
 * end_of_trace ends what is still open.  0 or a negative errno. */
int tr_task_range(tr_at *q, int64_t task, int64_t from, int64_t to, int64_t end_of_trace, size_t max_rows,
                  tr_range_sum *out);
/* Each ring's loop's time blocked in poll (`idle` spans) over [from, to)
 * into idle[ring]: a range read of spans' primary key (the idle spans
 * begun in the range) and the last few begun before it.  0 or a negative
 * errno. */
int tr_loop_idle(sqlite3 *db, int64_t from, int64_t to, int64_t idle[TR_NRINGS]);

/* ---- reader_chunks.c: the recording itself --------------------------------- */

/* The events table has no time index and awaits and resumes are not in it
 * (they are the edges of step rows); the chunks are the whole recording,
 * each the events of one thread (ring) over a time range, in order.  A
 * tr_chunks keeps their directory in memory (a few thousand rows: only the
 * header columns are read, the blobs stay on their pages) and the last
 * TR_CHUNK_SLOTS decoded chunks, because a cursor moves by small steps.
 * Decoding is the tracer's one decoder (encode.c) and times are the
 * reader's clock (reader_clock.c, clamped): a hostile chunk decodes to
 * nothing or to clamped times, never to undefined behaviour.  One thread. */
typedef struct tr_chunk {
    int64_t seq;
    int64_t first, last;     /* ns; last >= first */
    uint32_t ring, n;        /* ring < TR_NRINGS */
} tr_chunk;
/* A decoded chunk: recs[i] happened at ns[i].  Owned by the tr_chunks;
 * valid until TR_CHUNK_SLOTS other chunks have been decoded, or the close. */
typedef struct tr_chunk_events {
    int64_t seq;
    uint32_t ring;
    size_t n;
    const tr_rec *recs;
    const int64_t *ns;
} tr_chunk_events;
#define TR_CHUNK_SLOTS 6
typedef struct tr_chunks tr_chunks;
/* The clock is read at open; the directory is empty until tr_chunks_load.
 * 0 or a negative errno. */
int tr_chunks_open(tr_chunks **out, sqlite3 *db);
void tr_chunks_close(tr_chunks *c);
/* Read the directory rows written since the last load (a live trace grows):
 * one query over the new rows.  0 or a negative errno. */
int tr_chunks_load(tr_chunks *c);
/* The directory, in seq order (each ring's chunks in time order); valid
 * until the next load. */
const tr_chunk *tr_chunks_dir(const tr_chunks *c, size_t *n);
/* The events of directory entry ci (one blob read and decode unless it is
 * among the last decoded); NULL for a damaged chunk or ci out of range. */
const tr_chunk_events *tr_chunk_events_of(tr_chunks *c, size_t ci);

/* ---- reader_events.c: a task's events ------------------------------------- */

/* Whether a record is an event a person steps through and reads: not the
 * records that only carry another one's detail (a stack's frames, a
 * crash's mapped objects, the tasks a warning names). */
int tr_event_shown(const tr_rec *r);
/* An event found in the recording. */
typedef struct tr_found {
    tr_rec rec;
    int64_t ns;
    uint32_t ring;
} tr_found;
/* What the readers of a task's events need of it (from its tasks row). */
typedef struct tr_task_life {
    int64_t id;
    uint32_t ring;           /* where its events are */
    int64_t spawn, end;      /* ns; end -1: it had not ended */
} tr_task_life;
/* Task k's events around t, from t outwards: up to cap before t into
 * before[] (newest first) and up to cap at or after t into after[]
 * (oldest first), with their counts.  Its own events and the
 * cancellations aimed at it.  Cost: two probes of its step rows (cap/2+1
 * each way: its events happen only while it runs) and the chunks of its
 * ring under them, from t outwards until cap are found -- a task that did
 * 200k things in one step costs the chunks near t.  0 or a negative errno. */
int tr_task_events(tr_at *q, tr_chunks *c, const tr_task_life *k, int64_t t, size_t cap, tr_found *before,
                   size_t *nb, tr_found *after, size_t *na);
/* The time of event number event_id: 0, or -ENOENT if there is none.
 * The events table numbers the events it keeps (an id from a query: one
 * probe of its key); awaits and resumes are in no table (they are step
 * rows' edges), so the run counts more events than the table has rows.  A
 * number past the table's (c given) is the event_id-th event of the
 * recording, in the order it was written (chunks by seq, each in order):
 * every number up to the run's count (meta events) names an event.  Cost:
 * a pass over the directory in memory and one chunk decoded. */
int tr_event_time(sqlite3 *db, tr_chunks *c, int64_t event_id, int64_t *ts);

/* ---- reader_next.c: event stepping ----------------------------------------- */

/* The time of the next (dir > 0) or previous event strictly after / before
 * t: of anyone (k NULL: each ring's chunks from t until one is found), or
 * of task k (the edges of its step rows at and next to t, its spawn and
 * end, and the events inside the step at t: two probes and the chunks
 * under one step).  end_of_trace bounds a step still open.  0 with *ts
 * set, -ENOENT if there is none. */
int tr_next_event(tr_at *q, tr_chunks *c, const tr_task_life *k, int64_t t, int dir, int64_t end_of_trace, int64_t *ts);

/* ---- reader_queue.c: a queue from the recording ------------------------- */

/* Queue res's depth at t (created on ring): the depth after its last put
 * or get at or before t, looking back at most 4 chunks of the ring; -1 if
 * none was found there.  For a trace whose summaries are not built yet
 * (tr_queue_depths reads those). */
int64_t tr_queue_depth_near(tr_chunks *c, uint32_t ring, int64_t res, int64_t t);
/* The awaits on queue res (gets on an empty queue, puts on a full one,
 * joins) around t: up to cap/2 before t and the rest from t on, at most 8
 * chunks of its ring each way, into out in that order (before t newest
 * first).  Returns how many, and *nbefore how many of them are before t. */
size_t tr_queue_awaits(tr_chunks *c, uint32_t ring, int64_t res, int64_t t, size_t cap, tr_found *out, size_t *nbefore);

/* ---- reader_timeline.c: a task's timeline at a resolution ------------------ */

/* Table `timeline` (the builder's lod.c): per task, a summary of its life
 * at TR_LOD_LEVELS resolutions, buckets of 2^(TR_LOD_SHIFT0 + 4L) ns, a
 * row only where something happened; a bucket without one continues the
 * state `last` of the row before it. */
#define TR_LOD_LEVELS 6
#define TR_LOD_SHIFT0 14          /* level L: buckets of 2^(14 + 4L) ns */
enum { TR_LOD_NONE = 0, TR_LOD_RUN = 1, TR_LOD_WAIT = 2 /* + the wait kind */ };
#define TR_LOD_HOLDING 0x80       /* in `last`: it held a lock at the bucket's end */
enum { TR_LOD_F_LOG = 1, TR_LOD_F_MARK = 2, TR_LOD_F_REGION = 4, TR_LOD_F_WARN = 8, TR_LOD_F_HOLD = 16 };
/* One cell of a row: ns run and waited in it, the kind of its longest wait
 * part (co_wait_kind), what happened there (TR_LOD_F_*). */
typedef struct tr_tl_cell {
    int64_t run, wait, best;
    int kind, flags;
} tr_tl_cell;
/* Task's row over [from, to) in n cells into out (zeroed first).  Zoomed
 * out, from the level whose buckets are just finer than a cell (at most
 * 16 rows a cell: the cost of a redraw does not grow with the trace);
 * finer than 16 us a cell, from its step rows over the window (and the
 * finest level's flags).  end_of_trace ends an open await.  Prepared on
 * first use; a trace without the table (not built yet) reads the spans.
 * 0 or a negative errno. */
int tr_timeline(tr_at *q, int64_t task, int64_t from, int64_t to, int n, int64_t end_of_trace, tr_tl_cell *out);
/* A live trace's build may have written the table since: look again. */
void tr_timeline_recheck(tr_at *q);

/* ---- reader_run.c: the run as a whole --------------------------------------- */

/* What the meta table says of the run.  Texts are the file's, raw and cut
 * to fit: sanitize before printing them. */
typedef struct tr_run {
    char program[512], argv[1024];   /* argv: shell-like, quoted where needed; "" if none */
    char start_time[64];
    char ended[64];                  /* meta.ended as written; has_ended 0: none */
    int has_ended;
    int ending;                      /* TR_ENDED_*, -1 unknown or none */
    int64_t pid, exit_code, signal;
    char signal_name[32];
    int64_t duration_ns, events;     /* -1: meta lacks them (and count was 0) */
    int64_t lost, lost_text, untraced;
    int complete, built;             /* complete 0: events are missing (incomplete_why says why) */
    char incomplete_why[256];
    char flight_trigger[32];         /* a flight recorder's dump (ending TR_ENDED_DUMPED): what asked for it; "" if none */
} tr_run;
/* A dozen probes of meta; with count, what meta lacks (a trace built by an
 * older coscope) is counted from the events table -- a scan, for a report,
 * not a live view (which counts its chunks).  0 or a negative errno. */
int tr_run_summary(sqlite3 *db, int count, tr_run *out);
/* How many tasks are in each state (tasks.state, TR_TASK_*); a state this
 * coscope does not know counts in *other.  One GROUP BY over the tasks. */
int tr_tasks_by_state(sqlite3 *db, int64_t n[TR_TASK_STATE_COUNT], int64_t *other);

/* ---- reader_export.c: the whole run, row by row ----------------------------- */

/* For the exports (Chrome JSON, Perfetto), which draw every row.  Each walk
 * is one scan in key order, nothing held; fn returns non-zero to stop.
 * Texts are the file's, valid only during the call.  Each returns 0,
 * -EPROTO (the trace's tables are another version's layout), -ENOMEM,
 * -E2BIG (a value over the connection's length limit), or another negative
 * errno (-EILSEQ: a damaged file). */
typedef struct tr_src {
    const char *file;        /* NULL: unknown */
    int64_t line;
} tr_src;
/* The meta rows whose keys are among keys[0..n) (TR_META_*), by key;
 * value NULL for an SQL NULL. */
typedef int tr_walk_meta_fn(void *ctx, const char *key, const char *value);
int tr_walk_meta(sqlite3 *db, const char *const *keys, size_t n, tr_walk_meta_fn *fn, void *ctx);
/* Every task by id, with the label the exports give its track: "NAME #ID"
 * ("task #ID" if it has no name). */
typedef int tr_walk_task_fn(void *ctx, int64_t id, const char *label);
int tr_walk_tasks(sqlite3 *db, tr_walk_task_fn *fn, void *ctx);
/* A step row (a step, and the await that ended it) as the walk gives it. */
typedef struct tr_walk_step {
    int64_t task, start, end;
    int awaited;             /* the step ended in an await over [end, resumed) */
    int open;                /* its last part had not ended when the trace stopped */
    int has_res, has_result;
    int64_t res, result, resumed;
    tr_src from, to;         /* where the step began, and the await's line */
    char what[600];          /* awaited: what it waits on, "lock db_lock", "task #7 child", "sleep" */
} tr_walk_step;
typedef int tr_walk_step_fn(void *ctx, const tr_walk_step *r);
/* Every task's step rows, task by task, each in time order (task 0's are
 * not steps).  names 0: only task, start and end are read (no joins: the
 * cheapest pass over a large trace); the rest reads zero. */
int tr_walk_steps(sqlite3 *db, int names, tr_walk_step_fn *fn, void *ctx);
/* A span that straddles steps: a hold, a region, pool work. */
typedef struct tr_walk_span {
    int64_t id, task, start, end;
    int kind;                /* TR_SPAN_HOLD, TR_SPAN_REGION or TR_SPAN_WORK */
    int has_res, open;
    int64_t res;
    tr_src at;
    char name[600];          /* "hold db_lock", the region's text, "thread pool work" */
} tr_walk_span;
typedef int tr_walk_span_fn(void *ctx, const tr_walk_span *r);
/* Every such span, by start (by_task: task by task, each by start). */
int tr_walk_spans(sqlite3 *db, int by_task, tr_walk_span_fn *fn, void *ctx);
/* A log line, a mark, or a warning (a row of warnings). */
typedef struct tr_walk_instant {
    int64_t ts, task;
    int has_task;
    int kind;                /* TR_LOG, TR_MARK, or TR_WARN for a warning */
    const char *warning;     /* TR_WARN: its kind's name as stored */
    const char *text;        /* the line or mark, the warning's message; NULL: none */
    tr_src at;
} tr_walk_instant;
typedef int tr_walk_instant_fn(void *ctx, const tr_walk_instant *r);
/* The logs and marks by time, then the warnings by time. */
int tr_walk_instants(sqlite3 *db, tr_walk_instant_fn *fn, void *ctx);
/* How many rows the walks above will visit (steps, spans, instants): three
 * counts, for progress. */
int tr_export_rows(sqlite3 *db, int64_t *steps, int64_t *spans, int64_t *instants);

/* ---- reader_tables.c: the builder's summaries, ranked ----------------------- */

/* What `coscope report` prints as tables, from the documented views.  Texts
 * are the file's, raw and cut to fit: sanitize before printing them.  One
 * query each, top rows at the most; fn returns non-zero to stop.  0 or a
 * negative errno as the walks above. */
typedef struct tr_task_sum {
    int64_t id;
    char name[256];
    int state;                       /* TR_TASK_*, -1: one this coscope does not know */
    char state_name[32];             /* tasks.state as written */
    int64_t busy_ns, wait_ns, total_ns, steps, awaits;
    char spawned_at[1024];           /* "file:line", "" if unknown */
} tr_task_sum;
typedef int tr_task_sum_fn(void *ctx, const tr_task_sum *t);
enum { TR_RANK_BUSY, TR_RANK_WAIT };
/* The top tasks by time running (TR_RANK_BUSY) or suspended (TR_RANK_WAIT),
 * those with any, most first, ties by id (view task_summary). */
int tr_top_tasks(sqlite3 *db, int rank, int top, tr_task_sum_fn *fn, void *ctx);
/* A lock, semaphore or queue with its figures (view lock_contention). */
typedef struct tr_contention {
    int64_t res;
    char name[256];                  /* "" if none */
    int kind;                        /* co_wait_kind as tr_wait_from_name reads resources.kind (a queue: QUEUE_GET) */
    char kind_name[32];              /* resources.kind as written */
    int64_t acquisitions, contended, wait_total_ns, wait_p50_ns, wait_p99_ns, wait_max_ns, hold_max_ns, max_waiters;
    int has_waiter, has_holder;
    int64_t longest_waiter, longest_holder;   /* task ids, valid with has_* */
} tr_contention;
typedef int tr_contention_fn(void *ctx, const tr_contention *c);
/* The top ones by time waited, then waits, then acquisitions, then id. */
int tr_top_contention(sqlite3 *db, int top, tr_contention_fn *fn, void *ctx);
/* An acquire site of a contended resource (table contention_sites). */
typedef struct tr_site {
    int64_t res;
    char name[256];                  /* the resource's, "#ID" if none */
    char loc[1024], func[256];       /* "file:line" and function, "" if unknown */
    int queue;                       /* a queue: items taken are counted per queue, not per site */
    int64_t acquisitions, contended, wait_total_ns, wait_p99_ns, wait_max_ns;
} tr_site;
typedef int tr_site_fn(void *ctx, const tr_site *s);
/* The sites where the top contended resources (as tr_top_contention, those
 * with waits) waited, resource by resource, worst first; nothing for a
 * trace made before the table. */
int tr_contention_sites(sqlite3 *db, int top, tr_site_fn *fn, void *ctx);


/* ---- reader_warnings.c: the warnings table -------------------------------- */

/* One warning.  Texts are the file's, raw and cut at TR_TEXT_MAX ("" for
 * none), valid until fn returns: sanitize before printing them. */
typedef struct tr_warning_row {
    int64_t id;
    int kind;                        /* TR_WARN_*; 0: one this coscope does not know (kind_name says) */
    const char *kind_name;           /* warnings.kind as written */
    int64_t task, task2, resource;   /* 0: none */
    int has_task;                    /* task is not NULL (task 0 is the loop's own code) */
    int64_t ts, dur;                 /* ns from the trace's start; dur 0: a moment */
    int64_t loc, loc2, cause_loc;    /* locations ids, 0: none (cause_loc: also in traces made before it) */
    tr_src at, at2, cause;           /* the same as file and line */
    const char *at_func, *at2_func, *cause_func;
    const char *task_name, *resource_name;
    const char *message;
    const char *stack;               /* one frame a line */
} tr_warning_row;
typedef int tr_warning_fn(void *ctx, const tr_warning_row *w);
enum { TR_WARNINGS_BY_ID, TR_WARNINGS_BY_TIME, TR_WARNINGS_LONGEST };
/* The warnings with an id above after_id, of one kind as written (NULL:
 * all), by id (the order they were found in: a growing trace's new ones
 * come last), by time, or longest first then by time; at most limit (<= 0:
 * all).  fn returns non-zero to stop.  0 or a negative errno as the walks
 * above. */
int tr_warnings(sqlite3 *db, const char *kind, int64_t after_id, int order, int limit, tr_warning_fn *fn, void *ctx);
/* Each kind of warning present, with its count: a crash first (it is how
 * the run ended), then most first, then by name. */
typedef int tr_warning_kind_fn(void *ctx, const char *kind, int64_t count);
int tr_warning_kinds(sqlite3 *db, tr_warning_kind_fn *fn, void *ctx);

#endif
