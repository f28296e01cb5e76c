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
 */
#ifndef TR_READER_H
#define TR_READER_H

#include "tracer.h"
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
/* The holders of res at t (task ids into out, up to cap, earliest first);
 * returns how many there are, or a negative errno. */
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

#endif
