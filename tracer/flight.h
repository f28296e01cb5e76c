/* SPDX-License-Identifier: MIT */
/* flight.h -- the flight recorder's helper (`coscope flight`, started by a
 * program's co_flight_start, runtime/flight.c): the window it keeps
 * (flightwin.c), the helper's loop and triggers (flight.c), and how a
 * window becomes a trace file (flightdump.c).
 */
#ifndef TR_FLIGHT_H
#define TR_FLIGHT_H

#include "tracer.h"

/* What asked for a dump: meta.flight_trigger. */
#define TR_FLIGHT_TRIGGERS(X)                                                          \
    X(API, "api")                       /* co_flight_dump */                           \
    X(SIGNAL, "signal")                 /* the dump signal */                          \
    X(DUMP, "dump")                     /* coscope dump PID */                         \
    X(DEADLOCK, "deadlock")             /* a refused lock or await cycle */            \
    X(ALL_ASLEEP, "all_asleep")         /* every task asleep */                        \
    X(SLOW_STEP, "slow_step")           /* a step over COSCOPE_FLIGHT_SLOW_MS */       \
    X(CANCEL_IGNORED, "cancel_ignored") /* shutdown gave up on a cancelled task */     \
    X(CRASH, "crash")                   /* a fatal signal */
enum tr_flight_trigger {
#define TR__FT_ENUM(id, name) TR_FT_##id,
    TR_FLIGHT_TRIGGERS(TR__FT_ENUM)
#undef TR__FT_ENUM
    TR_FT_COUNT
};
const char *tr_flight_trigger_name(unsigned t);

/* A sealed chunk of one ring's events, kept until its period leaves the
 * window or the budget.  seg: the ring's period it belongs to; snap: it
 * holds part of that period's snapshot (TR_SNAP_BEGIN..TR_SNAP_END) and
 * nothing else: a snapshot is one piece or more, first in its period. */
typedef struct tr_fpiece {
    struct tr_fpiece *next;
    uint32_t ring, n, seg;
    int snap;
    uint64_t first_ts, last_ts;
    size_t len;
    uint8_t data[];
} tr_fpiece;

/* One ring as kept. */
typedef struct tr_fring {
    tr_chunkbuf body, snapbuf;   /* being filled */
    int in_snap;                 /* between TR_SNAP_BEGIN and TR_SNAP_END */
    int snap_lost;               /* valid only if in_snap: a record of it found no room, so it is let go */
    int is_loop;                 /* writes snapshots: its periods start with one */
    int torn;                    /* a loop's events are let go until its next snapshot */
    uint32_t seg;                /* the period being filled */
    tr_fpiece *head, *tail;      /* oldest first */
    tr_fpiece *snap_head, *snap_tail; /* valid only if in_snap: its sealed pieces, listed once it is whole */
    tr_rec *sticky;              /* TR_THREAD, TR_MODULE: kept for good, written first */
    size_t nsticky, capsticky;
    tr_rec *res;                 /* TR_RES_NEW, the last RES_KEEP: a resource made before the window keeps its name */
    size_t nres, capres;
    uint64_t step_ts;            /* a step began (START/RESUME) and has not ended: its ts */
    int step_told;               /* that step fired the slow_step trigger already */
} tr_fring;

typedef struct tr_fwindow {
    tr_shm *shm;
    tr_fring rings[TR_NRINGS];
    double ns_per_tick;
    long pid;
    const char *program, *argv;  /* from /proc/PID/cmdline */
    uint64_t window_ms, max_bytes;
    uint64_t fixed;              /* the rings and the texts' arena as sized at the start (shm): never dropped */
    uint64_t budget;             /* max_bytes - fixed: what the window may hold */
    uint64_t held;               /* what it holds, always <= budget: kept pieces, open chunks' buffers, records kept apart */
    int forced;                  /* a period without a successor went for room: periods should be shorter (the helper clears it) */
    uint64_t bytes, bytes_peak;  /* held + what the fixed parts use, now and at most (<= max_bytes) */
    uint64_t events, periods_dropped;
    uint64_t added;              /* bytes of pieces ever kept */
    uint64_t torn_events;        /* events let go: a loop waiting for its next snapshot, or no room */
    uint64_t dumps, dumps_failed, dumps_limited;
} tr_fwindow;

/* What a dump writes besides the window. */
typedef struct tr_fdump {
    unsigned trigger;       /* TR_FT_* */
    int gone;               /* the program has ended (a crash) */
    int signal;             /* with gone: the fatal signal, 0 if none known */
    uint64_t end_tick;      /* !gone: the clock at the dump, the trace's end (a step still running runs to it); 0 none */
} tr_fdump;

/* flightwin.c: the window.  Set up w (zeroed) for the region shm: the
 * budget's fixed part is what shm's rings and arena were sized to.
 * Returns 0, or -EINVAL with *why if max_bytes leaves no room for a
 * window. */
int tr_fwindow_init(tr_fwindow *w, tr_shm *shm, uint64_t window_ms, uint64_t max_bytes, const char **why);
/* Called for every event drained outside a snapshot, kept or not. */
typedef void tr_fseen_fn(void *ctx, tr_fring *fr, const tr_rec *e);
/* Move what the rings hold into the window.  Returns the events taken, or
 * -ENOMEM (some were lost). */
int64_t tr_fwindow_drain(tr_fwindow *w, tr_fseen_fn *seen, void *ctx);
/* Drop the periods that left the window (now_ts: the region's clock). */
void tr_fwindow_trim(tr_fwindow *w, uint64_t now_ts);
/* Rings other than loops' start a period now (loops start theirs at their
 * snapshots). */
void tr_fwindow_new_period(tr_fwindow *w);
/* Let every kept event go (out of memory). */
void tr_fwindow_drop_all(tr_fwindow *w);
/* Seal every ring's open chunk into a piece (before a dump). */
void tr_fwindow_seal(tr_fwindow *w);
/* Write the window into a new trace at path (written aside as path.part,
 * then renamed): complete tables, meta.flight_*.  Returns 0 or a negative
 * errno, with *why. */
int tr_flight_write(tr_fwindow *w, const tr_fdump *d, const char *path, const char **why);

/* The helper: keep the window of the program pid's region (shm_fd) until
 * it ends or says stop over sock; dump when triggered.  Returns 0 or a
 * negative errno with *why. */
int tr_flight_run(int shm_fd, int sock, long pid, uint64_t window_ms, uint64_t max_bytes, const char **why);

/* `coscope dump PID`: ask the helper of pid for a dump into path (NULL:
 * the default name); the written path goes into out.  Returns 0 or a
 * negative errno: -ECONNREFUSED, no flight recorder there; else the
 * helper's failure to write, with the path it tried in out. */
int tr_flight_request(long pid, const char *path, char *out, size_t outlen);
/* The helper's socket name for pid (abstract). */
#define TR_FLIGHT_SOCKET "coscope-flight-%ld"

#endif
