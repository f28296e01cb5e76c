/* SPDX-License-Identifier: MIT */
/* diag_fail.c -- failure_loop: a task whose awaits at one line keep
 * failing fast.
 *
 * A retry without a pause against a refused port (or an EAGAIN, a closed
 * queue) spins: 93k awaits at one line, every one failing at once, the
 * loop at full CPU, and every other detection quiet (each step is short).
 * Each task keeps, per await line (up to four), its run of fast failures:
 * an await that ended with an error other than -ETIMEDOUT (a timeout is a
 * wait, not a spin) after less than FAST_NS.  The run goes on while the
 * failures come less than 10 / fail_rate (or sustain_ms / 4) apart; a
 * success or a timeout at that line, a longer pause or the task's end
 * closes it, and a closed
 * run that lasted sustain_ms at fail_rate a second or more is told: the
 * line, the error, the rate, and the time the task's own steps took
 * meanwhile.  Retries with exponential backoff never qualify: their pauses
 * soon exceed the gap, and their rate stays far below.
 */
#include "diag.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define FAST_NS 5000000ll /* an await that failed within 5 ms failed "at once" */

static void tell(tr_builder *b, uint64_t task, tstate *t, tr_fl_site *s)
{
    const tr_dx_limits *lim = tr_dx_limits_of(b);
    int64_t dur = s->last - s->start;
    if (s->n < 2 || dur <= 0 || lim->sustain_ns <= 0 || dur < lim->sustain_ns) return;
    double secs = dur / 1e9, rate = s->n / secs;
    if (rate < (double)lim->fail_rate) return;
    char who[160], where[160], what[240], msg[1200];
    tr_task_label(b, task, who, sizeof who);
    tr_loc_label(b, s->loc, where, sizeof where);
    tr_wait_label(b, s->kind, s->res, what, sizeof what);
    int64_t busy = t ? t->busy - s->busy0 : -1;
    int n = snprintf(msg, sizeof msg,
                     "task %s failed %lld times in %.1f s at %s (%.0f a second), each await (on %s) failing at once "
                     "with %lld (%s)",
                     who, (long long)s->n, secs, where, rate, what, (long long)s->err, co_strerror((int)s->err));
    if (busy >= 0 && n > 0 && (size_t)n < sizeof msg)
        snprintf(msg + n, sizeof msg - n, "; its own steps ran %.1f ms of it (%.0f%% of a CPU), the loop spinning on "
                 "the retries the rest: retry after a pause that grows (backoff), or stop", busy / 1e6,
                 100.0 * (double)busy / (double)dur);
    tr_warning(b, tr_warning_name(TR_WARN_FAIL_LOOP), task, 0, s->res, s->start, dur, s->loc, 0, msg);
}

static void close_site(tr_builder *b, uint64_t task, tstate *t, tr_fl_site *s)
{
    if (s->n) tell(b, task, t, s);
    memset(s, 0, sizeof *s);
}

void tr_fl_resume(tr_builder *b, uint64_t task, tstate *t, int64_t ts, int64_t result)
{
    tr_dx *x = b->dx;
    if (!x) return;
    tr_dx_resume(b, task, t, ts, result);
    const tr_dx_limits *lim = tr_dx_limits_of(b);
    tr_fl_task *ft = tr_map_find(&x->fails, task);
    int64_t took = ts - t->await_start;
    if (result >= 0 || result == -ETIMEDOUT) { /* a success or a timed wait at this line ends its run */
        for (int i = 0; ft && i < 4; i++)
            if (ft->site[i].n && ft->site[i].loc == t->await_loc) close_site(b, task, t, &ft->site[i]);
        return;
    }
    if (took >= FAST_NS) return; /* a failure that took its time: not counted (a stall of the loop may cause one) */
    if (!ft && !(ft = tr_map_put(&x->fails, task))) return;
    tr_fl_site *s = NULL, *oldest = &ft->site[0];
    for (int i = 0; i < 4; i++) {
        if (ft->site[i].n && ft->site[i].loc == t->await_loc) s = &ft->site[i];
        if (ft->site[i].last < oldest->last) oldest = &ft->site[i];
    }
    /* The longest pause a run survives: 10 / fail_rate s, at least a quarter
     * of sustain_ms (a loop stalled by the recorder is still spinning);
     * exponential backoff still never qualifies, by its rate. */
    int64_t gap = lim->fail_rate > 0 ? 10 * 1000000000ll / lim->fail_rate : 100000000ll;
    if (gap < lim->sustain_ns / 4) gap = lim->sustain_ns / 4;
    if (s && ts - s->last > gap) close_site(b, task, t, s);
    if (!s || !s->n) {
        if (!s) {
            s = oldest;
            if (s->n) close_site(b, task, t, s);
        }
        s->loc = t->await_loc;
        s->start = t->await_start;
        s->busy0 = t->busy;
    }
    s->n++;
    s->last = ts;
    s->err = result;
    s->res = t->await_res;
    s->kind = t->await_kind;
}

void tr_fl_end(tr_builder *b, uint64_t task, tstate *t, int64_t ts, int64_t result)
{
    tr_dx *x = b->dx;
    if (!x) return;
    tr_fl_task *ft = tr_map_find(&x->fails, task);
    for (int i = 0; ft && i < 4; i++) close_site(b, task, t, &ft->site[i]);
    if (ft) tr_map_del(&x->fails, task);
    tr_dx_ended(b, task, t, ts, result);
}

void tr_fl_close(tr_builder *b)
{
    tr_dx *x = b->dx;
    if (!x) return;
    for (size_t i = 0; i < x->fails.cap; i++) {
        if (!x->fails.keys[i]) continue;
        uint64_t task = x->fails.keys[i];
        tr_fl_task *ft = (tr_fl_task *)(x->fails.vals + i * x->fails.vsize);
        tstate *t = tr_map_find(&b->tasks, task);
        for (int k = 0; k < 4; k++) close_site(b, task, t, &ft->site[k]);
    }
}
