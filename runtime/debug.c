/* SPDX-License-Identifier: MIT */
/* debug.c -- debug mode: timing of task steps and slow-step reports, the
 * SIGQUIT dump, and the per-loop state the watchdog reads.
 *
 * A step is what a task runs between being switched in and suspending (or
 * ending): the unit asyncio's slow_callback_duration measures.  Code that
 * blocks the thread (a sleep, a CPU loop, blocking I/O) stalls every task
 * of the loop, and sits between the two awaits that bracket the step, so
 * the report names both.
 *
 * Debug mode is on with CO_DEBUG=1 or co_loop_opts.debug = 1.  The threshold
 * is co_loop_opts.slow_ms, else $CO_SLOW_MS, else $COSCOPE_SLOW_MS (which
 * `coscope run` sets), else 100 ms; 0 from the environment, or a negative
 * slow_ms, turns slow-step reports and the watchdog off.  While a trace
 * records, steps are timed and the watchdog runs too, but only trace records
 * are written (TR_SLOW_STEP, TR_STACK), nothing on stderr.
 */
#include "internal.h"
#include <signal.h>
#include <time.h>

uint64_t co__mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts); /* vDSO: no syscall; _COARSE would be too coarse (4 ms) */
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int env_ms(const char *name, int *out)
{
    const char *v = getenv(name);
    if (!v || !*v) return 0;
    char *end;
    long ms = strtol(v, &end, 10);
    if (*end || ms < 0 || ms > 3600000) {
        co__logf("ignoring %s=%s (milliseconds, 0 to 3600000)", name, v);
        return 0;
    }
    *out = (int)ms;
    return 1;
}

static void on_sigquit(uv_signal_t *h, int signum)
{
    (void)signum;
    co__dbg *d = h->data;
    /* On the loop thread, between steps: every task is suspended, so every
     * stack can be read. */
    fprintf(stderr, "coscope: SIGQUIT: tasks of the loop on this thread\n");
    co__dump(d->loop, stderr, 0);
}

/* Outside debug mode, SIGQUIT (Ctrl-\) dumps the loop's tasks and then
 * quits as its default action does, as Go's runtime does.  Only when the
 * program left SIGQUIT at its default: a handler of its own wins. */
static void on_sigquit_quit(uv_signal_t *h, int signum)
{
    co__loop *l = h->data;
    fprintf(stderr, "coscope: SIGQUIT: tasks of the loop on this thread\n");
    co__dump(l, stderr, 0);
    fflush(stderr);
    signal(signum, SIG_DFL);
    raise(signum);
}

static void quit_dump_install(co__loop *l)
{
    struct sigaction old;
    if (sigaction(SIGQUIT, NULL, &old) != 0 || (old.sa_flags & SA_SIGINFO) || old.sa_handler != SIG_DFL) return;
    uv_signal_t *s = malloc(sizeof *s);
    if (!s) return;
    if (uv_signal_init(l->uv, s) != 0) {
        free(s);
        return;
    }
    s->data = l;
    l->quit = s;
    if (uv_signal_start(s, on_sigquit_quit, SIGQUIT) == 0) uv_unref((uv_handle_t *)s);
}

static void free_handle(uv_handle_t *h) { free(h); }

/* Allocate l->dbg and start the watchdog.  NULL while the loop closes: a
 * trace started then gets no watchdog for the few cleanup steps left. */
static co__dbg *dbg_attach(co__loop *l)
{
    if (l->closing) return NULL;
    co__dbg *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->loop = l;
    d->slow_ns = (uint64_t)l->slow_ms * 1000000u;
    l->dbg = d;
    co__tr_modules(); /* a trace records: where the code is, for a crash's stack (crash.c) */
    if (d->slow_ns) d->wd = co__watchdog_start(d);
    return d;
}

void co__debug_loop_init(co__loop *l, const co_loop_opts *opts)
{
    int ms = 100;
    if (opts && opts->slow_ms)
        ms = opts->slow_ms < 0 ? 0 : opts->slow_ms;
    else if (!env_ms("CO_SLOW_MS", &ms))
        env_ms("COSCOPE_SLOW_MS", &ms);
    l->slow_ms = ms;
    if (!l->debug) {
        quit_dump_install(l);
        return; /* a trace attaches lazily, at its first step */
    }
    co__dbg *d = dbg_attach(l);
    if (!d) return;
    /* Go's SIGQUIT dump, but the process goes on (like the JVM's).  Only in
     * debug mode: a library must not take a process-wide signal over by
     * default.  uv_signal runs the dump on the loop thread, and unref'd it
     * never keeps the loop alive. */
    if (uv_signal_init(l->uv, &d->sigquit) == 0) {
        d->sigquit.data = d;
        d->sigquit_on = 1;
        if (uv_signal_start(&d->sigquit, on_sigquit, SIGQUIT) == 0) uv_unref((uv_handle_t *)&d->sigquit);
    }
}

static void free_dbg(uv_handle_t *h) { free(h->data); }

/* A trace that began mid-run (coscope attach) has stopped: outside debug
 * mode the step state and the watchdog were only for it, so they go, and
 * the loop is back to the cost of tracing off (the next trace makes them
 * again at its first step).  On the loop's thread, between steps. */
void co__debug_trace_off(co__loop *l)
{
    co__dbg *d = l->dbg;
    if (!d || l->debug || co__tracing) return;
    l->dbg = NULL;
    if (d->wd) co__watchdog_stop(d->wd);
    free(d);
}

void co__debug_loop_free(co__loop *l)
{
    if (l->quit) {
        uv_close((uv_handle_t *)l->quit, free_handle);
        l->quit = NULL;
    }
    co__dbg *d = l->dbg;
    if (!d) return;
    l->dbg = NULL;
    if (d->wd) co__watchdog_stop(d->wd);
    if (d->sigquit_on)
        uv_close((uv_handle_t *)&d->sigquit, free_dbg); /* freed by the loop's last uv_run */
    else
        free(d);
}

void co__step_begin(co__loop *l, co__task *t, co_loc *from)
{
    co__dbg *d = l->dbg;
    if (CO_UNLIKELY(!d) && !(d = dbg_attach(l))) return;
    /* Only debug mode times each step (its slow-step reports need the
     * duration): two clock reads per switch cost a traced server a few
     * percent.  While only a trace records, t0 = 0 and the watchdog times
     * the step itself from when it first saw it; the trace has the step's
     * exact bounds anyway. */
    uint64_t now = l->debug ? co__mono_ns() : 0;
    co__step_open(d, atomic_load_explicit(&d->seq, memory_order_relaxed), t, from, now);
    /* Debug mode: a lock held through a long await of something else makes
     * every other task that wants it wait as long (the trace reports the
     * same as lock_held_across_await). */
    if (l->debug && from && t->locks_held > 0 && t->await_t0 && d->slow_ns &&
        now - t->await_t0 >= d->slow_ns && co__lock_owner(t->last_lock) == t &&
        !(t->wait_kind == CO_WAIT_LOCK && t->wait_obj == t->last_lock)) {
        const char *name = t->last_lock->name;
        if (name && name[0] == '&') name++;
        co__logf("lock held across await: task '%s' (#%llu) held lock '%s' #%llu for %.1f ms "
                 "while awaiting %s at %s:%d", t->name, (unsigned long long)t->id, name ? name : "?",
                (unsigned long long)t->last_lock->id, (double)(now - t->await_t0) / 1e6,
                co_wait_kind_name(t->wait_kind), from->file ? from->file : "?", from->line);
    }
    t->await_t0 = 0;
}

static void loc_str(char *buf, size_t cap, const char *what, const co_loc *loc)
{
    if (loc)
        snprintf(buf, cap, "%s at %s:%d", what, loc->file ? loc->file : "?", loc->line);
    else
        snprintf(buf, cap, "%s", what);
}

void co__step_end(co__loop *l, co__task *t, co_loc *at)
{
    co__dbg *d = l->dbg;
    if (!d) return;
    uint64_t s = atomic_load_explicit(&d->seq, memory_order_relaxed);
    /* No step open for t: tracing began in the middle of it. */
    if (!(s & 1) || atomic_load_explicit(&d->task, memory_order_relaxed) != t) return;
    if (!l->debug) {
        atomic_store_explicit(&d->seq, s + 1, memory_order_release);
        return;
    }
    uint64_t now_ns = co__mono_ns();
    if (at) t->await_t0 = now_ns; /* an await begins (at == NULL: the task ends) */
    uint64_t ns = now_ns - atomic_load_explicit(&d->t0, memory_order_relaxed);
    atomic_store_explicit(&d->seq, s + 1, memory_order_release);
    d->iter_steps += ns;
    if (!d->slow_ns || ns < d->slow_ns) return;
    co_loc *from = atomic_load_explicit(&d->from, memory_order_relaxed);
    CO_TRACE(TR_SLOW_STEP, at, t->id, 0, ns); /* after TR_AWAIT/TR_END: the step that just ended */
    if (!l->debug) return;
    char a[512], b[512];
    loc_str(a, sizeof a, from ? "await" : "start", from);
    loc_str(b, sizeof b, at ? "await" : "end", at);
    co__logf("slow step: task '%s' (#%llu) ran %.1f ms between %s and %s", t->name,
            (unsigned long long)t->id, (double)ns / 1e6, a, b);
}

/* co_dump reads every stack and the debug information: tens of milliseconds
 * that are the debugger's, not the task's. */
void co__debug_quiet(co__loop *l, int on)
{
    co__dbg *d = l->dbg;
    if (!d) return;
    static __thread uint64_t since;
    if (on) {
        if (atomic_fetch_add(&d->quiet, 1) == 0) since = co__mono_ns();
    } else if (atomic_fetch_sub(&d->quiet, 1) == 1) {
        atomic_fetch_add_explicit(&d->t0, co__mono_ns() - since, memory_order_relaxed);
    }
}

/* The loop woke from poll: its callbacks start now. */
void co__debug_iter_begin(co__loop *l)
{
    co__dbg *d = l->dbg;
    if (d) atomic_store_explicit(&d->polls, d->polls + 1, memory_order_release); /* left poll */
    /* Debug mode only: it needs every step timed (see co__step_begin). */
    if (!d || !d->slow_ns || !l->debug) return;
    d->iter_t0 = co__mono_ns();
    d->iter_steps = 0;
}

/* About to poll again: what the iteration spent outside task steps was
 * libuv callbacks (timers, I/O, the program's own handles).  asyncio's
 * debug mode reports slow callbacks the same way. */
void co__debug_iter_end(co__loop *l)
{
    co__dbg *d = l->dbg;
    if (d) atomic_store_explicit(&d->polls, d->polls + 1, memory_order_release); /* enters poll */
    if (!d || !d->slow_ns || !d->iter_t0 || !l->debug) return;
    uint64_t busy = co__mono_ns() - d->iter_t0;
    uint64_t other = busy > d->iter_steps ? busy - d->iter_steps : 0;
    d->iter_t0 = 0;
    if (other < d->slow_ns) return;
    CO_TRACE(TR_SLOW_CB, NULL, 0, 0, other);
    if (l->debug)
        co__logf("slow callback: libuv callbacks (not tasks) ran %.1f ms in one loop iteration",
                (double)other / 1e6);
}
