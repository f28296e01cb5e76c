/* SPDX-License-Identifier: MIT */
/* diag.h -- private to diag_queue.c, diag_fail.c, diag_cause.c (issue
 * 22's detections) and diag_state.c: their state in the builder (b->dx),
 * made by tr_dx_init.  Calls go one way: diag_state.c -> diag_queue.c,
 * diag_fail.c -> diag_cause.c (tests/link/calls.py fails a circle). */
#ifndef TR_DIAG_H
#define TR_DIAG_H

#include "builder.h"

typedef struct tr_dx tr_dx;

/* A queue's depth history: one sample per bin of QBIN_NS, the last state
 * in it and its lowest depth. */
#define TR_DQ_BIN_NS 50000000ll
typedef struct tr_dq_sample {
    int64_t ts, low, depth, puts, gets; /* ts, depth, puts, gets: at the bin's last event; cumulative counts */
} tr_dq_sample;
typedef struct tr_dq_site { uint32_t loc; int64_t n; uint64_t task; } tr_dq_site;
typedef struct tr_dq {
    int64_t depth, puts, gets, first_ts;
    tr_dq_sample *s;
    size_t n, cap;
    tr_dq_site site[4];      /* put sites, most used kept */
    uint64_t cons[8];        /* consumers: tasks that took items */
    int ncons, more_cons;
} tr_dq;

/* A run of fast failures of one task at one await line. */
typedef struct tr_fl_site {
    uint32_t loc;
    int64_t start, last, n, busy0, err;
    uint64_t res;
    uint8_t kind;
} tr_fl_site;
typedef struct tr_fl_task { tr_fl_site site[4]; } tr_fl_task;

/* A task that ended: how, where, and who or what cut it short. */
typedef struct tr_dx_end {
    int64_t ts, result;
    uint32_t last_loc;       /* the line its last step began at: its last await */
    uint32_t timeout_loc;    /* its own await that timed out last, if the last failure was one */
    int64_t timeout_ts;
    uint32_t cancel_loc;     /* the co_wait_for (or other timed await) whose timeout cancelled it */
    uint64_t cancel_by;
} tr_dx_end;

/* A wakeup handed to a task that was cancelled before it could use it. */
typedef struct tr_dx_lost { uint64_t task, by; uint32_t loc; int64_t ts; } tr_dx_lost;

/* Per live task: its last failed await (a co_wait_for that timed out
 * cancels what it waited for right after), a condition's wakeup it got. */
typedef struct tr_dx_last { int64_t ts, result; uint32_t loc; uint64_t cond; uint32_t cond_loc; } tr_dx_last;

struct tr_dx {
    tr_dx_limits lim;
    int lim_loaded;
    tr_map queues;           /* queue id -> tr_dq */
    tr_map fails;            /* task -> tr_fl_task */
    tr_map ended;            /* task -> tr_dx_end */
    tr_map lost;             /* resource -> tr_dx_lost */
    tr_map last;             /* task -> tr_dx_last */
    tr_map eps;              /* resource -> tr_dx_ep */
    sqlite3_stmt *ins_ep;
};
typedef struct tr_dx_ep { uint64_t local, peer, task; uint32_t loc; } tr_dx_ep; /* string ids */

/* diag_cause.c: a task's end, for the stories (from tr_fl_end). */
void tr_dx_ended(tr_builder *b, uint64_t task, tstate *t, int64_t ts, int64_t result);
/* diag_cause.c: an await ended (from tr_fl_resume). */
void tr_dx_resume(tr_builder *b, uint64_t task, tstate *t, int64_t ts, int64_t result);
/* diag_queue.c / diag_fail.c: the trace ended */
void tr_dq_close(tr_builder *b);
void tr_fl_close(tr_builder *b);
void tr_dq_free(tr_builder *b);

#endif
