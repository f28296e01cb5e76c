/* SPDX-License-Identifier: MIT */
/* diagnose.c -- the builder's detections that follow a task or a request
 * over time (issue 13): thread-pool work that waited to start (libuv's
 * pool is UV_THREADPOOL_SIZE threads, 4 by default, and a blocking job
 * holds one), cancellations a task ignored, and the watchdog's stacks
 * matched to the slow step or callback they were caught in whatever the
 * order the chunks arrive in.  Called from replay.c; belongs to the
 * builder's thread. */
#include "builder.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct queued {
    int64_t ts;
    uint32_t loc;
    uint8_t wkind;
} queued;

/* What pool work is, in the starvation story (enum tr_work_kind). */
static const char *work_kind_name(unsigned k)
{
    switch (k) {
    case TR_WORK_THREAD: return "co_to_thread";
    case TR_WORK_DNS: return "dns";
    case TR_WORK_FILE: return "file";
    default: return "pool";
    }
}

int tr_dg_init(tr_builder *b)
{
    tr_map_init(&b->queued, sizeof(queued));
    int rc = sqlite3_prepare_v2(b->db, "SELECT file, line FROM locations WHERE id = ?", -1, &b->sel_loc, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(b->db,
                                "UPDATE warnings SET stack = ?1 WHERE id = (SELECT id FROM warnings WHERE kind = 'slow_step'"
                                " AND stack IS NULL AND COALESCE(task, 0) = ?2 AND ts <= ?3 AND ts + dur >= ?3 LIMIT 1)",
                                -1, &b->upd_stack, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(b->db, "UPDATE warnings SET message = message || ?2 WHERE id = ?1", -1, &b->upd_message, NULL);
    if (rc != SQLITE_OK) return tr_sqlite_err(rc);
    return tr_dx_init(b);
}

void tr_dg_free(tr_builder *b)
{
    free(b->stk);
    free(b->nstk);
    free(b->lr);
    sqlite3_finalize(b->sel_loc);
    sqlite3_finalize(b->upd_stack);
    sqlite3_finalize(b->upd_message);
    tr_map_free(&b->queued);
    tr_dx_free(b);
}


/* ------------------------------------------------------------------------ */
/* Thread-pool starvation                                                    */

void tr_dg_work_queued(tr_builder *b, const tr_rec *e, int64_t ts, uint32_t loc)
{
    queued *q = e->res ? tr_map_put(&b->queued, e->res) : NULL;
    if (!q) return;
    q->ts = ts;
    q->loc = loc;
    q->wkind = (uint8_t)e->arg;
}

/* The work e->res starts on a pool thread: how long it waited (-1 if its
 * queueing was not seen), and a warning if that was longer than slow_ms,
 * naming the call sites of the work that held the threads meanwhile (the
 * work still running as it starts: with a full pool, one thread has just
 * come free and the others are held). */
int64_t tr_dg_work_begin(tr_builder *b, const tr_rec *e, int64_t ts, uint32_t loc)
{
    queued *q = tr_map_find(&b->queued, e->res);
    if (!q) return -1;
    int64_t qts = q->ts, delay = ts - q->ts;
    uint32_t qloc = q->loc;
    unsigned qkind = q->wkind;
    tr_map_del(&b->queued, e->res);
    if (delay < 0) delay = 0;
    if (b->slow_ns <= 0 || delay <= b->slow_ns) return delay;
    /* The holders, by call site (up to 6 sites, each with its count and
     * one task): work that ran while this one waited, still running or
     * ended meanwhile.  Pool threads have rings of their own, so either
     * may be replayed first. */
    struct { uint32_t loc; int n; uint64_t task; uint8_t wkind; } site[6];
    int nsite = 0, others = 0;
    size_t nrecent = b->nworkdone < TR_DG_RECENT ? b->nworkdone : TR_DG_RECENT;
    for (size_t i = 0; i < b->holds.cap + nrecent; i++) {
        uint32_t hloc;
        uint64_t htask;
        uint8_t hkind;
        if (i < b->holds.cap) {
            if (!b->holds.keys[i]) continue;
            const hold *h = (const hold *)(b->holds.vals + i * b->holds.vsize);
            if (h->kind != 'w' || h->res == e->res || h->start >= ts) continue;
            hloc = h->loc;
            htask = h->task;
            hkind = h->wkind;
        } else {
            const struct tr_dg_work *w = &b->workdone[i - b->holds.cap];
            if (w->end <= qts || w->start >= ts) continue;
            hloc = w->loc;
            htask = w->task;
            hkind = w->wkind;
        }
        int k = 0;
        while (k < nsite && site[k].loc != hloc) k++;
        if (k == nsite) {
            if (nsite == 6) { others++; continue; }
            site[nsite].loc = hloc;
            site[nsite].n = 0;
            site[nsite].task = htask;
            site[nsite].wkind = hkind;
            nsite++;
        }
        site[k].n++;
    }
    /* A batch waiting its turn: every job that held the threads came from
     * the same call site as this one (CPU work moved to threads, many file
     * reads at once).  The pool did what it is for; starvation is other
     * work -- a lookup, a health check's read -- stuck behind it. */
    int batch = nsite > 0 && !others;
    for (int k = 0; k < nsite; k++) batch &= site[k].loc == (qloc ? qloc : loc);
    if (batch) return delay;
    char who[160], where[160], msg[1200];
    tr_task_label(b, e->task, who, sizeof who);
    tr_loc_label(b, qloc ? qloc : loc, where, sizeof where);
    size_t n = (size_t)snprintf(msg, sizeof msg, "%s work queued by task %s at %s waited %.1f ms for a thread of libuv's pool "
                                "(UV_THREADPOOL_SIZE)", work_kind_name(qkind), who, where, delay / 1e6);
    int best = -1;
    for (int k = 0; k < nsite && n < sizeof msg; k++) {
        char l[160], t[160];
        tr_loc_label(b, site[k].loc, l, sizeof l);
        tr_task_label(b, site[k].task, t, sizeof t);
        n += (size_t)snprintf(msg + n, sizeof msg - n, "%s%d %s job%s from %s (%s%s)", k ? ", " : "; the threads were held by ",
                              site[k].n, work_kind_name(site[k].wkind), site[k].n > 1 ? "s" : "", l,
                              site[k].n > 1 ? "e.g. task " : "task ", t);
        if (best < 0 || site[k].n > site[best].n) best = k;
    }
    if (others && n < sizeof msg) snprintf(msg + n, sizeof msg - n, ", and jobs from %d other sites", others);
    tr_warning(b, tr_warning_name(TR_WARN_POOL_STARVED), e->task, best >= 0 ? site[best].task : 0, 0, qts, delay,
               qloc ? qloc : loc, best >= 0 ? site[best].loc : 0, msg);
    return delay;
}

/* Work that ended: kept among the last TR_DG_RECENT for the starvation
 * reports of work that waited meanwhile. */
void tr_dg_work_end(tr_builder *b, const hold *h, int64_t end)
{
    struct tr_dg_work *w = &b->workdone[b->nworkdone++ % TR_DG_RECENT];
    w->start = h->start;
    w->end = end;
    w->loc = h->loc;
    w->task = h->task;
    w->wkind = h->wkind;
}

/* ------------------------------------------------------------------------ */
/* Ignored cancellation                                                      */

enum { CX_NONE, CX_ASKED, CX_RECEIVED, CX_WARNED };

void tr_dg_cancel(tr_builder *b, const tr_rec *e, int64_t ts)
{
    tstate *t = e->res ? tr_map_find(&b->tasks, e->res) : NULL;
    if (!t || t->cx_state != CX_NONE) return;
    t->cx_state = CX_ASKED;
    t->cx_ts = ts;
    t->cx_by = e->task;
}

/* Awaiting the end of other tasks after a cancellation is how structured
 * code honours it (a gather cancels its children and waits for them). */
static int awaits_children(int kind)
{
    return kind == CO_WAIT_TASK || kind == CO_WAIT_TASKS || kind == CO_WAIT_GROUP;
}

static void cancel_warning(tr_builder *b, uint64_t task, tstate *t, int64_t now)
{
    char who[160], by[200], got[160], what[240], at[160], msg[1200];
    tr_task_label(b, task, who, sizeof who);
    if (t->cx_by) {
        char l[160];
        tr_task_label(b, t->cx_by, l, sizeof l);
        snprintf(by, sizeof by, "task %s", l);
    } else {
        snprintf(by, sizeof by, "code outside any task (a callback, or the loop's shutdown)");
    }
    tr_loc_label(b, t->cx_loc, got, sizeof got);
    tr_wait_label(b, t->await_kind, t->await_res, what, sizeof what);
    tr_loc_label(b, t->await_loc, at, sizeof at);
    snprintf(msg, sizeof msg, "task %s was cancelled by %s %.1f ms ago but goes on: it got -ECANCELED at %s and "
             "now awaits %s at %s", who, by, (now - t->cx_ts) / 1e6, got, what, at);
    tr_warning(b, tr_warning_name(TR_WARN_CANCEL_IGNORED), task, t->cx_by, t->await_res, t->cx_ts, now - t->cx_ts,
               t->cx_loc, t->await_loc, msg);
    t->cx_state = CX_WARNED;
}

/* t's await (still in t->await_*) ends at ts with result: where a
 * cancellation is received, and where it is found ignored. */
void tr_dg_resume(tr_builder *b, uint64_t task, tstate *t, int64_t ts, int64_t result)
{
    if (t->dl_pending && t->dl_warning && b->upd_message) {
        /* The deadlock it was part of: how its wait ended. */
        char tail[200];
        if (result == 0)
            snprintf(tail, sizeof tail, "; it did: this task got %s %.1f ms later and went on",
                     t->await_kind == CO_WAIT_LOCK ? "the lock" : "what it waited for", (ts - t->await_start) / 1e6);
        else
            snprintf(tail, sizeof tail, "; its wait ended with %lld (%s) %.1f ms later", (long long)result,
                     co_strerror((int)result), (ts - t->await_start) / 1e6);
        sqlite3_bind_int64(b->upd_message, 1, t->dl_warning);
        sqlite3_bind_text(b->upd_message, 2, tail, -1, SQLITE_TRANSIENT);
        tr_bstep(b, b->upd_message);
        t->dl_pending = 0;
        t->dl_warning = 0;
    }
    if (t->cx_state == CX_NONE || t->cx_state == CX_WARNED) return;
    if (t->cx_state == CX_ASKED) {
        if (result != -ECANCELED) return;
        t->cx_state = CX_RECEIVED;
        t->cx_loc = t->await_loc;
        return;
    }
    if (b->slow_ns > 0 && ts - t->cx_ts > b->slow_ns && !awaits_children(t->await_kind))
        cancel_warning(b, task, t, ts);
}

/* The trace ends with t alive: a cancellation received long ago and an
 * await still open is the same story. */
void tr_dg_close(tr_builder *b, uint64_t task, tstate *t, int64_t end)
{
    if (t->cx_state == CX_RECEIVED && t->in_await && b->slow_ns > 0 && end - t->cx_ts > b->slow_ns &&
        !awaits_children(t->await_kind))
        cancel_warning(b, task, t, end);
}

/* The runtime's TR_WARN_CANCEL_IGNORED: co_loop_free gave up on the task
 * after its grace period.  Nothing to add if the builder already told. */
int tr_dg_abandoned_known(tr_builder *b, uint64_t task)
{
    tstate *t = tr_map_find(&b->tasks, task);
    return t && t->cx_state == CX_WARNED;
}

/* ------------------------------------------------------------------------ */
/* The watchdog's stacks                                                     */

/* TR_STACK_TEXT: the watchdog caught task's step (or, task 0, a callback
 * outside tasks) at ts.  Its thread has a ring of its own, so the event
 * may be replayed before or after the one that ends the step: before, it
 * waits in the task's state for the step's slow_step row; after, that row
 * exists and gets it now. */
void tr_dg_stack_text(tr_builder *b, uint64_t task, tstate *t, int64_t ts, uint64_t text)
{
    const char *s = tr_string_of(b, text);
    if (s && b->upd_stack) {
        sqlite3_bind_text(b->upd_stack, 1, s, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(b->upd_stack, 2, (int64_t)task);
        sqlite3_bind_int64(b->upd_stack, 3, ts);
        tr_bstep(b, b->upd_stack);
        if (sqlite3_changes(b->db) > 0) return;
    }
    if (t) { /* its step has not ended yet (as far as replayed): close_step takes it */
        t->wd_stack = text;
        t->wd_ts = ts;
    } else if (!task) { /* callbacks outside tasks: tr_dg_loop_event takes it */
        b->cb_stack = text;
        b->cb_stack_ts = ts;
    }
}

/* ------------------------------------------------------------------------ */
/* Slow callbacks outside tasks                                              */

/* On a loop's ring, the time between a step's end (or the loop waking from
 * poll) and the next step's start (or the loop going back to poll) is
 * spent in libuv callbacks that are not task steps: a timer's or an I/O
 * callback of the program's own.  Longer than slow_ms, it blocked every
 * task.  Gaps holding a runtime detection (TR_WARN: its stderr reports at
 * a deadlock or the loop's close) are the runtime's own time, not a
 * callback's. */
void tr_dg_loop_event(tr_builder *b, uint32_t ring, unsigned kind, int64_t ts)
{
    if (ring >= TR_NRINGS) return;
    if (!b->lr) {
        b->lr = calloc(TR_NRINGS, sizeof *b->lr);
        if (!b->lr) return;
    }
    struct tr_dg_loopring *r = &b->lr[ring];
    switch (kind) {
    case TR_AWAIT:
    case TR_END:
    case TR_LOOP_BUSY:
        r->free_since = ts;
        r->open = 1;
        r->tainted = 0;
        return;
    case TR_WARN:
        r->tainted = 1;
        return;
    default: /* TR_START, TR_RESUME, TR_LOOP_IDLE */
        break;
    }
    int64_t gap = ts - r->free_since;
    if (r->open && !r->tainted && b->slow_ns > 0 && gap > b->slow_ns) {
        char msg[300];
        snprintf(msg, sizeof msg, "libuv callbacks outside any task (a timer's, an I/O callback of the program's own) "
                 "held the loop for %.1f ms (threshold %lld ms): every task waited", gap / 1e6,
                 (long long)(b->slow_ns / 1000000));
        if (b->cb_stack && b->cb_stack_ts >= r->free_since && b->cb_stack_ts <= ts) b->warn_stack = tr_string_of(b, b->cb_stack);
        tr_warning(b, tr_warning_name(TR_WARN_SLOW_STEP), 0, 0, 0, r->free_since, gap, 0, 0, msg);
    }
    if (b->cb_stack && b->cb_stack_ts <= ts) b->cb_stack = 0;
    r->open = 0;
}

/* The step [start, end) of t ends slow: the watchdog's stack caught in it,
 * if it came first; NULL if none. */
const char *tr_dg_step_stack(tr_builder *b, tstate *t, int64_t start, int64_t end)
{
    if (!t->wd_stack || t->wd_ts > end) return NULL; /* none, or caught in a later step */
    uint64_t text = t->wd_stack;
    t->wd_stack = 0;
    return t->wd_ts >= start ? tr_string_of(b, text) : NULL;
}

/* ------------------------------------------------------------------------ */
/* Crashes                                                                   */

/* TR_STACK: frame depth (low 16 bits of arg) of a stack being recorded on
 * this ring. */
void tr_dg_frame(tr_builder *b, uint32_t ring, const tr_rec *e)
{
    if (ring >= TR_NRINGS) return;
    if (!b->stk) {
        b->stk = calloc(TR_NRINGS, sizeof *b->stk);
        b->nstk = calloc(TR_NRINGS, 1);
        if (!b->stk || !b->nstk) {
            free(b->stk);
            free(b->nstk);
            b->stk = NULL;
            b->nstk = NULL;
            return;
        }
    }
    unsigned depth = (unsigned)(e->arg & 0xffff);
    if (depth == 0) b->nstk[ring] = 0;
    if (depth != b->nstk[ring] || depth >= TR_DG_FRAMES) return; /* not in sequence: drop */
    b->stk[ring][b->nstk[ring]++] = (e->res & ~(1ull << 63)) | ((e->arg >> 32) & 1) << 63;
}

static const char *signame(int sig)
{
    switch (sig) {
    case 4: return "SIGILL";
    case 6: return "SIGABRT";
    case 7: return "SIGBUS";
    case 8: return "SIGFPE";
    case 11: return "SIGSEGV";
    default: return "?";
    }
}

/* The signal handler's TR_WARN_CRASH: its frames are this ring's last. */
void tr_dg_crash(tr_builder *b, uint32_t ring, const tr_rec *e, int64_t ts, uint32_t loc)
{
    int sig = (int)((e->arg >> 8) & 0xff), overflow = (int)((e->arg >> 16) & 1);
    size_t n = b->stk && ring < TR_NRINGS ? b->nstk[ring] : 0;
    char top[240] = "", who[160], at[160], msg[1200];
    char *text = n ? tr_sym_stack(b, b->stk[ring], n, top, sizeof top) : NULL;
    if (e->task) tr_task_label(b, e->task, who, sizeof who);
    /* A fault's address; abort()'s signal has none (si_addr is its sender). */
    char addr[64] = ", abort()";
    if (sig != 6) snprintf(addr, sizeof addr, " at address 0x%llx", (unsigned long long)e->res);
    size_t k;
    if (overflow)
        k = (size_t)snprintf(msg, sizeof msg, "stack overflow in task %s: it ran past the guard page of its stack "
                             "(%s, address 0x%llx)", who, signame(sig), (unsigned long long)e->res);
    else if (e->task)
        k = (size_t)snprintf(msg, sizeof msg, "task %s crashed: signal %d (%s)%s", who, sig, signame(sig), addr);
    else
        k = (size_t)snprintf(msg, sizeof msg, "the program crashed outside any task: signal %d (%s)%s", sig,
                             signame(sig), addr);
    if (top[0] && k < sizeof msg) k += (size_t)snprintf(msg + k, sizeof msg - k, ", in %s", top);
    if (e->task && loc && k < sizeof msg) {
        tr_loc_label(b, loc, at, sizeof at);
        snprintf(msg + k, sizeof msg - k, "; its last await was at %s", at);
    }
    b->warn_stack = text;
    tr_warning(b, tr_warning_name(TR_WARN_CRASH), e->task, 0, 0, ts, 0, loc, 0, msg);
    free(text);
    if (b->nstk && ring < TR_NRINGS) b->nstk[ring] = 0;
}
