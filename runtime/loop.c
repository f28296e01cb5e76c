/* SPDX-License-Identifier: MIT */
/* loop.c -- the loop: creation and teardown, the ready queue, and the
 * scheduler that switches between tasks.
 *
 * Scheduling.  Ready tasks form a FIFO.  A uv_idle handle is active while it
 * is non-empty, so libuv polls I/O without blocking and then calls on_idle,
 * which switches from the loop thread's own stack into the first ready task.
 * From then on tasks switch *directly* to one another: a task that suspends
 * pops the next ready task and switches to it (one switch per hand-off, not
 * two).  Control goes back to libuv when the ready queue is empty or after
 * CO__BUDGET switches, so I/O and timers are never starved.
 *
 * An ended task cannot free its own stack while running on it: it leaves
 * itself in loop->dead and whoever runs next releases it (co__post_switch).
 */
#include "internal.h"
#include "story.h"
#include "xthread.h"
#include <pthread.h>

#define CO__BUDGET 4096

__thread co__loop *co__tl_loop;

_Noreturn void co__assert_fail(const char *expr, const char *file, int line, const char *func)
{
    co__log_fatal("internal invariant broken: %s (%s:%d in %s)", expr, file, line, func);
    fflush(stderr);
    abort();
}

/* ------------------------------------------------------------------------ */
/* Switching: co__post_switch, co__transfer and co__switch_away are inlines
 * in internal.h (the one call site of co__switch for tasks is in
 * co__suspend); an ended task switches away at the end of co__task_main
 * (task.c). */

_Noreturn void co__canary_smashed(co__task *self)
{
    co__log_fatal("stack overflow in task '%s' (#%llu, spawned at %s:%d): the canary at the "
             "bottom of its unguarded stack was overwritten; raise the stack size",
            self->name, (unsigned long long)self->id,
            self->spawn_loc ? self->spawn_loc->file : "?",
            self->spawn_loc ? self->spawn_loc->line : 0);
    abort();
}

/* ------------------------------------------------------------------------ */
/* libuv callbacks                                                           */

static void on_idle(uv_idle_t *h)
{
    co__loop *l = h->data;
    l->budget = CO__BUDGET;
    CO_ASSERT(l->ready_tail - l->ready_head <= l->ready_mask + 1); /* the ring never overflowed */
    co__task *next = co__pop_ready(l);
    if (next) {
        next->state = CO_TASK_RUNNING;
        co__tr_step = 0; /* the next step's first stamp reads the clock (trace.h) */
        co__transfer(l, NULL, next);
        co__tr_step = 0; /* back on the scheduler: what runs here reads the clock */
    }
    if (co__ready_empty(l)) {
        uv_idle_stop(&l->idle);
        l->idle_on = 0;
    }
}

int co__ready_reserve(co__loop *l, uint32_t n)
{
    uint32_t cap = l->ready ? l->ready_mask + 1 : 0;
    if (n <= cap) return 0;
    uint32_t ncap = cap ? cap : CO__CHUNK;
    while (ncap < n) ncap *= 2;
    co__task **ring = malloc(ncap * sizeof *ring);
    if (!ring) return -ENOMEM;
    /* The entries keep their free-running indices; only the mask changes. */
    for (uint32_t i = l->ready_head; i != l->ready_tail; i++) ring[i & (ncap - 1)] = l->ready[i & l->ready_mask];
    free(l->ready);
    l->ready = ring;
    l->ready_mask = ncap - 1;
    return 0;
}

void co__idle_start(co__loop *l)
{
    uv_idle_start(&l->idle, on_idle);
    l->idle_on = 1;
}

static void on_prepare(uv_prepare_t *h)
{
    co__loop *l = h->data;
    /* About to block in poll: a good moment to give back idle stack pages.
     * Not once the main task has ended (co_loop_run returns, the loop is
     * about to be freed): its stacks go to the next loop (stack.c). */
    if (co__ready_empty(l) && !(l->main && co__task_ended(l->main))) co__stackpool_trim(&l->pool);
    if (CO__STEP_HOOKS(l)) co__debug_iter_end(l);
    /* Nothing ready: the loop may block in poll.  (Not uv_backend_timeout:
     * it answers 0 whenever libuv has fd changes to hand to epoll, as at
     * the first poll after a handle starts, though that poll blocks too; an
     * idle period missing there made the time look like a slow callback.) */
    if (CO_UNLIKELY(co__tracing) && co__ready_empty(l) && (l->idle_on == 0 || uv_backend_timeout(l->uv) != 0)) {
        CO_TRACE(TR_LOOP_IDLE, NULL, 0, 0, 0);
        l->idle_traced = 1;
    }
}

static void on_check(uv_check_t *h)
{
    co__loop *l = h->data;
    if (CO__STEP_HOOKS(l)) co__debug_iter_begin(l);
    if (l->idle_traced) {
        CO_TRACE(TR_LOOP_BUSY, NULL, 0, 0, 0);
        l->idle_traced = 0;
    }
}

/* ------------------------------------------------------------------------ */
/* Loop lifecycle                                                            */

#define CO__GRACE_DEFAULT_MS 2000

/* The shutdown grace period: the option, else $CO_SHUTDOWN_GRACE_MS, else
 * the default; "none" (negative, or 0 from the environment) is 1 ms: the
 * cancelled tasks still get to run their cleanup once. */
static int grace_ms(const co_loop_opts *opts)
{
    if (opts && opts->shutdown_grace_ms) return opts->shutdown_grace_ms < 0 ? 1 : opts->shutdown_grace_ms;
    const char *v = getenv("CO_SHUTDOWN_GRACE_MS");
    if (v && *v) {
        char *end;
        long ms = strtol(v, &end, 10);
        if (!*end && ms >= 0 && ms <= 3600000) return ms ? (int)ms : 1;
        co__logf("ignoring CO_SHUTDOWN_GRACE_MS=%s (milliseconds, 0 to 3600000)", v);
    }
    return CO__GRACE_DEFAULT_MS;
}

int co_loop_new(co_loop_t **out, const co_loop_opts *opts)
{
    *out = NULL;
    if (co__tl_loop) return -EBUSY;
    co__loop *l = calloc(1, sizeof *l);
    if (!l) return -ENOMEM;
    int r;
    if (opts && opts->uv_loop) {
        l->uv = opts->uv_loop;
    } else {
        r = uv_loop_init(&l->uv_own);
        if (r < 0) {
            free(l);
            return r;
        }
        l->uv = &l->uv_own;
        l->owns_uv = 1;
    }
    co__stackpool_init(&l->pool, opts ? opts->stack_size : 0);
    l->shutdown_grace_ms = grace_ms(opts);
    l->debug = (!opts || opts->debug < 0) ? co__debug_from_env() : opts->debug;
    l->log_stderr = co__log_env_stderr();
    uv_idle_init(l->uv, &l->idle);
    l->idle.data = l;
    uv_prepare_init(l->uv, &l->prepare);
    l->prepare.data = l;
    uv_prepare_start(&l->prepare, on_prepare);
    uv_unref((uv_handle_t *)&l->prepare);
    uv_check_init(l->uv, &l->check);
    l->check.data = l;
    uv_check_start(&l->check, on_check);
    uv_unref((uv_handle_t *)&l->check);
    co__timers_init(l);
    co__overflow_handler_install();
    co__debug_loop_init(l, opts); /* slow-step threshold; in debug mode the watchdog and SIGQUIT */
    /* Ready for co_call_threadsafe from any thread from the start. */
    if (!co__xthread_get(l)) {
        co__tl_loop = l;
        co_loop_free((co_loop_t *)l);
        return -ENOMEM;
    }
    co__tl_loop = l;
    co__attach_loop_init(l); /* before the registry: the attach signal wakes it from then on */
    co__debug_loop_register(l);
    *out = (co_loop_t *)l;
    return 0;
}

co_loop_t *co_loop_current(void) { return (co_loop_t *)co__tl_loop; }
void *co_loop_uv(co_loop_t *loop) { return ((co__loop *)loop)->uv; }

static bool anything_ready(co__loop *l) { return !co__ready_empty(l); }

int co_loop_run_at(co_loc *loc, co_loop_t *loop, int (*main_fn)(void *), void *arg)
{
    co__loop *l = (co__loop *)loop;
    if (!l || l != co__tl_loop) return -EINVAL; /* NULL, or another thread's loop */
    if (l->current || l->running) return -EBUSY;
    co_task_t h = co_spawn_at(loc, "main", main_fn, arg);
    co__task *m = co__task_lookup(l, h);
    if (!m) return -ENOMEM;
    l->main = m;
    l->running = 1;
    /* Its tasks may wake now: an earlier all-asleep report no longer says
     * what they wait for. */
    for (uint32_t s = 0; s < l->nslots; s++) l->chunks[s / CO__CHUNK][s % CO__CHUNK].asleep_told = 0;
    int result;
    for (;;) {
        uv_run(l->uv, UV_RUN_DEFAULT);
        if (co__task_ended(m)) {
            result = m->result;
            break;
        }
        if (anything_ready(l)) continue; /* stopped by someone else */
        /* libuv has nothing left that could wake a task, and main is not done:
         * every task is asleep forever. */
        co__logf("all tasks are asleep: nothing left can wake them (deadlock)");
        co__log_report(co__report_asleep, l);
        co__warn_loop(l, TR_WARN_ALL_ASLEEP);
        result = -EDEADLK;
        break;
    }
    l->running = 0;
    l->main = NULL;
    if (co__task_ended(m)) co__task_free(l, m);
    else m->detached = 1; /* co_loop_free cancels it and frees it */
    return result;
}

/* Called when the main task ends: make uv_run return. */
void co__main_ended(co__loop *l) { uv_stop(l->uv); }

static size_t count_unended(co__loop *l)
{
    size_t n = 0;
    for (uint32_t s = 0; s < l->nslots; s++) {
        co__task *t = &l->chunks[s / CO__CHUNK][s % CO__CHUNK];
        if ((t->gen & 1) && !co__task_ended(t)) n++;
    }
    return n;
}

static void cancel_all(co__loop *l)
{
    for (uint32_t s = 0; s < l->nslots; s++) {
        co__task *t = &l->chunks[s / CO__CHUNK][s % CO__CHUNK];
        if ((t->gen & 1) && !co__task_ended(t)) co_cancel(co__handle(t));
    }
}

static void on_close_noop(uv_handle_t *h) { (void)h; }

static void on_grace(uv_timer_t *h)
{
    co__loop *l = h->data;
    l->grace_expired = 1;
}

/* The grace period is over and these tasks are still alive: each ignored
 * its cancellation (or waits on something that never ends).  Say so, and
 * let go of what they wait on (a thread-pool request must not wake a task
 * that is gone) without running them again. */
static void abandon_leftovers(co__loop *l)
{
    for (uint32_t s = 0; s < l->nslots; s++) {
        co__task *t = &l->chunks[s / CO__CHUNK][s % CO__CHUNK];
        if (!(t->gen & 1) || co__task_ended(t)) continue;
        char who[300], what[400], at[300];
        snprintf(who, sizeof who, "'%s' (#%llu, spawned at %s:%d)", t->name, (unsigned long long)t->id,
                 t->spawn_loc ? t->spawn_loc->file : "?", t->spawn_loc ? t->spawn_loc->line : 0);
        snprintf(at, sizeof at, "%s:%d", t->wait_loc ? t->wait_loc->file : "?", t->wait_loc ? t->wait_loc->line : 0);
        bool waiting = t->state == CO_TASK_WAITING;
        if (waiting) co__wait_what(t, what, sizeof what);
        co__story_text s = { 0 };
        co__story_abandoned(&s, who, waiting ? what : NULL, at);
        co__logf("%s (the shutdown grace period is %d ms)", s.p ? s.p : "", l->shutdown_grace_ms);
        free(s.p);
        co__warn_abandoned(t);
        if (t->state == CO_TASK_WAITING && t->wait_cancel) {
            void (*fn)(co__task *) = t->wait_cancel;
            t->wait_cancel = NULL;
            fn(t);
        }
    }
}

static void close_leftover(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h)) uv_close(h, NULL);
}

int co_loop_free(co_loop_t *loop)
{
    co__loop *l = (co__loop *)loop;
    if (!l) return 0;
    if (l->current || l->running) return -EBUSY;
    l->closing = 1;
    co__debug_loop_unregister(l); /* before anything is freed: a reader never follows it into freed memory */
    co__attach_loop_free(l);      /* no attach signal wakes it now; detaches if it holds the attachment */
    co__log_report(co__report_pending, l);
    co__warn_loop(l, TR_WARN_PENDING_AT_EXIT);
    for (uint32_t s = 0; s < l->nslots; s++) {
        co__task *t = &l->chunks[s / CO__CHUNK][s % CO__CHUNK];
        if ((t->gen & 1) && !co__task_ended(t)) t->closing_cancelled = 1;
    }
    /* asyncio.run's epilogue: cancel what is left and let it clean up.  A
     * task may catch one cancellation and wait again, so repeat a few
     * times; a task that never lets go is given the grace period (an
     * unref'd timer: it bounds the wait but keeps no loop alive). */
    l->grace_expired = 0;
    int timed = 0;
    if (count_unended(l) > 0 && uv_timer_init(l->uv, &l->grace) == 0) {
        timed = 1;
        l->grace.data = l;
        uv_timer_start(&l->grace, on_grace, (uint64_t)l->shutdown_grace_ms, 0);
        uv_unref((uv_handle_t *)&l->grace);
    }
    for (int round = 0; round < 8 && count_unended(l) > 0 && timed && !l->grace_expired; round++) {
        cancel_all(l);
        while (count_unended(l) > 0 && !l->grace_expired) {
            int more = uv_run(l->uv, UV_RUN_ONCE);
            if (!more && !anything_ready(l)) break;
        }
    }
    if (timed) uv_close((uv_handle_t *)&l->grace, on_close_noop);
    if (l->grace_expired) abandon_leftovers(l);
    co__log_report(co__report_leftovers, l);
    co__warn_loop(l, TR_WARN_NEVER_AWAITED);
    co__xthread_free(l); /* waits for abandoned thread work, runs queued calls, closes its handle */
    co__debug_loop_free(l); /* stops the watchdog, closes the SIGQUIT handle */
    uv_close((uv_handle_t *)&l->idle, on_close_noop);
    uv_close((uv_handle_t *)&l->prepare, on_close_noop);
    uv_close((uv_handle_t *)&l->check, on_close_noop);
    uv_close((uv_handle_t *)&l->timer, on_close_noop);
    if (l->owns_uv) {
        /* Handles the program left open (a socket never closed) would make
         * uv_loop_close fail and leak; requests cancelled at the last moment
         * may still be on a pool thread.  Close everything and let libuv
         * finish, so nothing completes into freed memory. */
        uv_walk(l->uv, close_leftover, NULL);
        uv_run(l->uv, UV_RUN_DEFAULT);
        int r = uv_loop_close(l->uv);
        if (r < 0) co__logf("closing the loop: %s", uv_strerror(r));
    } else {
        uv_run(l->uv, UV_RUN_NOWAIT); /* our close callbacks; the user's handles are theirs */
    }
    for (uint32_t c = 0; c < (l->nslots + CO__CHUNK - 1) / CO__CHUNK; c++) {
        for (uint32_t i = 0; i < CO__CHUNK; i++) {
            co__task *t = &l->chunks[c][i];
            if ((t->gen & 1) && t->name_owned) free((char *)t->name);
        }
        co__chunk_free(l->chunks[c]);
    }
    free(l->chunks);
    free(l->ready);
    free(l->heap);
    co__stackpool_destroy(&l->pool);
    if (co__tl_loop == l) co__tl_loop = NULL;
    free(l);
    return 0;
}

int co_run_at(co_loc *loc, int (*main_fn)(void *), void *arg)
{
    co_loop_t *loop;
    int r = co_loop_new(&loop, NULL);
    if (r < 0) return r;
    r = co_loop_run_at(loc, loop, main_fn, arg);
    co_loop_free(loop);
    return r;
}
