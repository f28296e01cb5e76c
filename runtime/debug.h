/* SPDX-License-Identifier: MIT */
/* debug.h -- debug mode and the step hooks (debug.c, watchdog.c): where a
 * task is switched in and where it suspends or ends, the loop thread tells
 * the watchdog thread which step runs, through a seqlock; debug mode also
 * times each step.  Part of internal.h, which includes it after the loop
 * and task structs it uses: not included on its own. */
#ifndef CO_DEBUG_H
#define CO_DEBUG_H

/* Debug mode (debug.c, watchdog.c).  The step hooks run where a task is
 * switched in and where it suspends or ends, only while debug mode is on or
 * a trace records: otherwise they cost one predictable branch. */
#define CO__STEP_HOOKS(l) CO_UNLIKELY((l)->debug | co__tracing)
void co__step_begin(co__loop *l, co__task *t, co_loc *from); /* from: await resumed from, NULL = start */
void co__step_end(co__loop *l, co__task *t, co_loc *at);     /* at: await suspended at, NULL = end */
void co__debug_loop_init(co__loop *l, const co_loop_opts *opts); /* co_loop_new, on the loop thread */
void co__debug_loop_free(co__loop *l); /* co_loop_free, before its last uv_run (closes handles) */
void co__debug_quiet(co__loop *l, int on); /* bracket a dump: its time is neither stall nor slow step */
void co__debug_trace_off(co__loop *l); /* a trace stopped: outside debug mode, free the step state and watchdog */

/* A loop's debug state.  The step fields are written on the loop thread and
 * read by the watchdog thread as a seqlock: seq is odd while a task runs a
 * step; task/from/t0 are written before seq turns odd (release) and hold
 * while it stays odd. */
typedef struct co__dbg {
    co__loop *loop;
    uint64_t slow_ns;            /* 0: no slow-step reports, no watchdog */
    _Atomic uint64_t seq;
    _Atomic uint64_t t0;         /* CLOCK_MONOTONIC ns at switch-in */
    co__task *_Atomic task;      /* the task running the step */
    co_loc *_Atomic from;        /* the await it resumed from, NULL = its start */
    _Atomic int quiet;           /* > 0 while co_dump runs: not a stall */
    int sigquit_on;
    uv_signal_t sigquit;         /* debug mode: SIGQUIT dumps the loop; unref'd */
    struct co__watchdog *wd;     /* watchdog.c; NULL if not started */
    uint64_t iter_t0;            /* loop thread only: when this iteration's callbacks began, 0 = unknown */
    uint64_t iter_steps;         /* loop thread only: ns of task steps in this iteration */
    _Atomic uint64_t polls;      /* +1 as the loop enters poll and as it leaves: odd while it polls, even
                                  * while it runs callbacks (the watchdog's view of a callback that blocks) */
} co__dbg;
/* The watchdog's seqlock (co__dbg.seq), written by the loop thread: seq
 * odd while d->task's step runs.  Closing t's step: only if it is the one
 * open (tracing may have begun in the middle of it); returns seq as it now
 * is.  Opening to's step on top of seq s: task, from and t0 (0: untimed,
 * the watchdog times it) ordered after the previous step's end. */
static inline __attribute__((always_inline)) uint64_t co__step_close(co__dbg *d, co__task *t)
{
    uint64_t s = atomic_load_explicit(&d->seq, memory_order_relaxed);
    if ((s & 1) && atomic_load_explicit(&d->task, memory_order_relaxed) == t)
        atomic_store_explicit(&d->seq, ++s, memory_order_release);
    return s;
}
static inline __attribute__((always_inline)) void co__step_open(co__dbg *d, uint64_t s, co__task *to, co_loc *from,
                                                                uint64_t t0)
{
    atomic_thread_fence(memory_order_release);
    atomic_store_explicit(&d->task, to, memory_order_relaxed);
    atomic_store_explicit(&d->from, from, memory_order_relaxed);
    atomic_store_explicit(&d->t0, t0, memory_order_relaxed);
    atomic_store_explicit(&d->seq, (s + 1) | 1, memory_order_release);
}
/* The step hooks of a switch (await.c) while only a trace records: the
 * seqlock's stores and nothing else, inline.  Debug mode (it times the
 * step) and a loop with no step state yet go to co__step_begin/end. */
static inline __attribute__((always_inline)) void co__step_in(co__loop *l, co__task *t, co_loc *from)
{
    co__dbg *d = l->dbg;
    if (CO_UNLIKELY(!d || l->debug)) co__step_begin(l, t, from);
    else co__step_open(d, atomic_load_explicit(&d->seq, memory_order_relaxed), t, from, 0);
}
static inline __attribute__((always_inline)) void co__step_out(co__loop *l, co__task *t, co_loc *at)
{
    co__dbg *d = l->dbg;
    if (CO_UNLIKELY(!d || l->debug)) co__step_end(l, t, at);
    else co__step_close(d, t);
}
/* co__step_out(l, t, at) then co__step_in(l, to, from), for a switch from t
 * to to (await.c): the same stores, the state looked at once. */
static inline __attribute__((always_inline)) void co__step_switch(co__loop *l, co__task *t, co_loc *at,
                                                                  co__task *to, co_loc *from)
{
    co__dbg *d = l->dbg;
    if (CO_UNLIKELY(!d || l->debug)) {
        co__step_out(l, t, at);
        co__step_in(l, to, from);
        return;
    }
    co__step_open(d, co__step_close(d, t), to, from, 0);
}
/* Around libuv's poll (loop.c's check/prepare callbacks): time spent in
 * callbacks that is not task steps is a slow libuv callback when long. */
void co__debug_iter_begin(co__loop *l);
void co__debug_iter_end(co__loop *l);
struct co__watchdog *co__watchdog_start(co__dbg *d);
void co__watchdog_stop(struct co__watchdog *w); /* joins the thread, frees w */

#endif
