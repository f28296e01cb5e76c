/* SPDX-License-Identifier: MIT */
/* parity.c -- the coscope side of the differential test (tests/asyncio/run.sh).
 *
 * Every scenario of parity.py, in the same order, printing the same lines:
 * one of CPython's own asyncio test cases reduced to the order of its
 * events.  Errors print as errno names (ECANCELED where Python raises
 * CancelledError, ETIMEDOUT for TimeoutError, EIO for the tasks' own
 * failures).  Where coscope differs on purpose, parity.py says so and why
 * next to the scenario; this side just prints what coscope does. */
#include "coscope.h"
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define P(i) ((void *)(intptr_t)(i))
#define I(p) ((int)(intptr_t)(p))
#define UNIT 10 /* ms: parity.py's 10 * ms */

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

/* Errors by errno name, results as numbers. */
static const char *en(int r)
{
    static char buf[32];
    switch (r) {
    case -ECANCELED: return "ECANCELED";
    case -ETIMEDOUT: return "ETIMEDOUT";
    case -EIO: return "EIO";
    case -EPIPE: return "EPIPE";
    case -EOVERFLOW: return "EOVERFLOW";
    case -EAGAIN: return "EAGAIN";
    case -EINVAL: return "EINVAL";
    }
    snprintf(buf, sizeof buf, "%d", r);
    return buf;
}

/* A task that ended, awaited: the word parity.py's res() prints. */
static const char *res(co_task_t t) { return en(co_await(t)); }

/* --------------------------------------------------------------------------
 * Locks */

static co_lock_t lock;

static int lock_w(void *arg)
{
    co_lock_acquire(&lock);
    say("w%d acquired", I(arg));
    co_sleep(0);
    co_lock_release(&lock);
    say("w%d released", I(arg));
    return 0;
}

static int lock_fifo(void *arg)
{
    co_lock_init(&lock);
    co_lock_acquire(&lock);
    co_task_t ts[3];
    for (int i = 0; i < 3; i++) ts[i] = co_spawn(lock_w, P(i + 1));
    co_sleep(0);
    say("main releases");
    co_lock_release(&lock);
    co_gather(ts, 3, NULL, 0);
    say("locked %d", co_lock_locked(&lock));
    return 0;
}

static int lock_acquirer(void *arg) { return co_lock_acquire(&lock); }

static int lock_acquire_cancel(void *arg)
{
    co_lock_init(&lock);
    co_lock_acquire(&lock);
    co_task_t t = co_spawn(lock_acquirer, NULL);
    co_sleep(0);
    co_cancel(t);
    say("acquire %s", en(co_await(t)));
    say("locked %d", co_lock_locked(&lock));
    co_lock_release(&lock);
    say("locked %d", co_lock_locked(&lock));
    return 0;
}

static int lockit(void *arg)
{
    const char *name = arg;
    int r = co_lock_acquire(&lock);
    if (r < 0) {
        say("%s: acquire %s", name, en(r));
        return r;
    }
    say("%s acquired", name);
    r = co_sleep(0);
    if (r < 0) say("%s: sleep %s", name, en(r));
    co_lock_release(&lock);
    say("%s released", name);
    return r;
}

static int lock_cancel_release_race(void *arg)
{
    co_lock_init(&lock);
    co_lock_acquire(&lock);
    co_task_t ta = co_spawn(lockit, "A"), tb = co_spawn(lockit, "B");
    co_sleep(0);
    co_lock_release(&lock);
    co_cancel(ta);
    co_task_t both[2] = { ta, tb };
    co_wait(both, 2, CO_WAIT_ALL, CO_NO_TIMEOUT);
    say("A %s", res(ta));
    say("B %s", res(tb));
    return 0;
}

/* --------------------------------------------------------------------------
 * Semaphores */

static co_sem_t sem;

static int sem_w(void *arg)
{
    co_sem_acquire(&sem);
    say("w%d acquired", I(arg));
    return 0;
}

static int sem_acquire(void *arg)
{
    co_sem_init(&sem, 3);
    co_task_t ts[4];
    for (int i = 0; i < 4; i++) ts[i] = co_spawn(sem_w, P(i + 1));
    co_sleep(0);
    say("value %lld locked %d", (long long)co_sem_value(&sem), co_sem_value(&sem) == 0);
    co_sem_release(&sem);
    co_gather(ts, 4, NULL, 0);
    say("value %lld", (long long)co_sem_value(&sem));
    for (int i = 0; i < 3; i++) co_sem_release(&sem);
    say("value %lld", (long long)co_sem_value(&sem));
    return 0;
}

static int sem_acquirer(void *arg) { return co_sem_acquire(&sem); }

static int sem_acquire_cancel(void *arg)
{
    co_sem_init(&sem, 0);
    co_task_t t = co_spawn(sem_acquirer, NULL);
    co_sleep(0);
    co_cancel(t);
    say("acquire %s", en(co_await(t)));
    co_sem_release(&sem);
    say("value %lld", (long long)co_sem_value(&sem));
    return 0;
}

static int sem_bounded_overflow(void *arg)
{
    co_sem_init_bounded(&sem, 2);
    co_sem_acquire(&sem);
    co_sem_release(&sem);
    int r = co_sem_release(&sem);
    if (r == 0) say("released");
    else say("release %s", en(r));
    say("value %lld", (long long)co_sem_value(&sem));
    return 0;
}

/* --------------------------------------------------------------------------
 * Conditions */

static co_cond_t cond;

static int cond_w(void *arg)
{
    co_lock_acquire(&lock);
    co_cond_wait(&cond);
    say("w%d woken", I(arg));
    co_lock_release(&lock);
    return 0;
}

static int cond_notify(void *arg)
{
    co_lock_init(&lock);
    co_cond_init(&cond, &lock);
    co_task_t ts[3];
    for (int i = 0; i < 3; i++) ts[i] = co_spawn(cond_w, P(i + 1));
    co_sleep(0);
    co_lock_acquire(&lock);
    say("notify 1: 3 waiting"); /* coscope does not expose the waiter count */
    co_cond_notify(&cond, 1);
    co_lock_release(&lock);
    co_sleep(0);
    co_lock_acquire(&lock);
    co_cond_notify(&cond, 2);
    co_lock_release(&lock);
    co_gather(ts, 3, NULL, 0);
    say("done");
    return 0;
}

static int cond_notify_all(void *arg)
{
    co_lock_init(&lock);
    co_cond_init(&cond, &lock);
    co_task_t ts[3];
    for (int i = 0; i < 3; i++) ts[i] = co_spawn(cond_w, P(i + 1));
    co_sleep(0);
    co_lock_acquire(&lock);
    co_cond_notify_all(&cond);
    co_lock_release(&lock);
    co_gather(ts, 3, NULL, 0);
    return 0;
}

static int cond_canceller(void *arg)
{
    co_lock_acquire(&lock);
    int r = co_cond_wait(&cond);
    if (r < 0) say("wait %s, lock held %d", en(r), co_lock_locked(&lock));
    co_lock_release(&lock);
    return r;
}

static int cond_wait_cancel(void *arg)
{
    co_lock_init(&lock);
    co_cond_init(&cond, &lock);
    co_task_t t = co_spawn(cond_canceller, NULL);
    co_sleep(0);
    co_cancel(t);
    co_wait(&t, 1, CO_WAIT_ALL, CO_NO_TIMEOUT);
    const char *r = res(t);
    say("task %s, locked %d", r, co_lock_locked(&lock));
    return 0;
}

/* --------------------------------------------------------------------------
 * Events */

static co_event_t ev;

static int ev_w(void *arg)
{
    co_event_wait(&ev);
    say("w%d woken", I(arg));
    return 0;
}

static int event_wait(void *arg)
{
    co_event_init(&ev);
    co_task_t ts[3];
    for (int i = 0; i < 3; i++) ts[i] = co_spawn(ev_w, P(i + 1));
    co_sleep(0);
    say("set %d", co_event_is_set(&ev));
    co_event_set(&ev);
    co_gather(ts, 3, NULL, 0);
    co_event_wait(&ev);
    say("passes while set");
    co_event_clear(&ev);
    say("set %d", co_event_is_set(&ev));
    return 0;
}

/* --------------------------------------------------------------------------
 * Queues */

static co_queue_t q;

static int putter(void *arg)
{
    for (int i = 0; i < 3; i++) {
        co_queue_put(&q, P(i));
        say("put %d", i);
    }
    return 0;
}

static int queue_blocking_put(void *arg)
{
    co_queue_init(&q, 1);
    co_task_t t = co_spawn(putter, NULL);
    co_sleep(0);
    for (int i = 0; i < 3; i++) {
        void *v;
        co_queue_get(&q, &v);
        say("got %d", I(v));
        co_sleep(0);
    }
    co_await(t);
    co_queue_destroy(&q);
    return 0;
}

static int getter(void *arg)
{
    void *v;
    int r = co_queue_get(&q, &v);
    if (r < 0) say("%s %s", (char *)arg, en(r));
    else say("%s got %d", (char *)arg, I(v));
    return r;
}

static int queue_get_cancelled(void *arg)
{
    co_queue_init(&q, 0);
    co_task_t t[2] = { co_spawn(getter, "a"), co_spawn(getter, "b") };
    co_sleep(0);
    co_cancel(t[0]);
    co_sleep(0);
    co_queue_put_nowait(&q, P(1));
    co_wait(t, 2, CO_WAIT_ALL, CO_NO_TIMEOUT);
    co_await(t[0]);
    co_await(t[1]);
    say("size %zu", co_queue_size(&q));
    co_queue_destroy(&q);
    return 0;
}

static int queue_nowait(void *arg)
{
    co_queue_init(&q, 1);
    int r = co_queue_get_nowait(&q, NULL);
    if (r < 0) say("get_nowait %s", en(r));
    co_queue_put_nowait(&q, P(1));
    r = co_queue_put_nowait(&q, P(2));
    if (r < 0) say("put_nowait %s", en(r));
    say("size %zu", co_queue_size(&q));
    co_queue_destroy(&q);
    return 0;
}

static int worker(void *arg)
{
    for (;;) {
        void *v;
        int r = co_queue_get(&q, &v);
        if (r == 0) r = co_sleep(0);
        if (r < 0) return r;
        say("%s done %d", (char *)arg, I(v));
        co_queue_task_done(&q);
    }
}

static int queue_join(void *arg)
{
    co_queue_init(&q, 0);
    co_queue_join(&q);
    say("join on empty returns");
    for (int i = 0; i < 3; i++) co_queue_put_nowait(&q, P(i));
    co_task_t ws[2] = { co_spawn(worker, "a"), co_spawn(worker, "b") };
    co_queue_join(&q);
    say("joined");
    for (int i = 0; i < 2; i++) co_cancel(ws[i]);
    co_gather(ws, 2, NULL, CO_GATHER_COLLECT);
    int r = co_queue_task_done(&q);
    if (r < 0) say("task_done %s", en(r));
    co_queue_destroy(&q);
    return 0;
}

/* --------------------------------------------------------------------------
 * gather */

/* parity.py's after(n, v, fail): sleep n units, log "end v", return or fail. */
typedef struct { int n; const char *v; int fail; } after_t;

static int after(void *arg)
{
    after_t *a = arg;
    int r = co_sleep(a->n * UNIT);
    if (r < 0) return r;
    say("end %s", a->v);
    return a->fail;
}

static int gather_result(void *arg)
{
    after_t a[3] = { { 3, "a", 0 }, { 1, "b", 0 }, { 2, "c", 0 } };
    co_task_t t[3];
    for (int i = 0; i < 3; i++) t[i] = co_spawn(after, &a[i]);
    int r[3];
    co_gather(t, 3, r, 0);
    say("results %s %s %s", a[0].v, a[1].v, a[2].v); /* r[i] == 0 for each: the values are a[i].v */
    return 0;
}

static int gather_return_exceptions(void *arg)
{
    after_t a[3] = { { 1, "a", 0 }, { 2, "EIO", -EIO }, { 3, "c", 0 } };
    co_task_t t[3];
    for (int i = 0; i < 3; i++) t[i] = co_spawn(after, &a[i]);
    int r[3];
    co_gather(t, 3, r, CO_GATHER_COLLECT);
    say("results %s %s %s", r[0] < 0 ? en(r[0]) : a[0].v, r[1] < 0 ? en(r[1]) : a[1].v,
        r[2] < 0 ? en(r[2]) : a[2].v);
    return 0;
}

static int gather_first_error(void *arg)
{
    after_t a[2] = { { 1, "EIO", -EIO }, { 3, "c", 0 } };
    co_task_t t[2] = { co_spawn(after, &a[0]), co_spawn(after, &a[1]) };
    int r[2];
    say("gather %s", en(co_gather(t, 2, r, 0)));
    say("c %s", r[1] < 0 ? en(r[1]) : "'c'");
    return 0;
}

static int gchild(void *arg)
{
    int r = co_sleep(100000);
    if (r == -ECANCELED) say("child %d cancelled", I(arg));
    return r;
}

static int gathers(void *arg)
{
    co_task_t t[2] = { co_spawn(gchild, P(1)), co_spawn(gchild, P(2)) };
    return co_gather(t, 2, NULL, 0);
}

static int gather_cancelled(void *arg)
{
    co_task_t t = co_spawn(gathers, NULL);
    co_sleep(UNIT);
    co_cancel(t);
    say("gather %s", res(t));
    return 0;
}

/* --------------------------------------------------------------------------
 * wait */

static int wait_all(void *arg)
{
    after_t a[2] = { { 2, "2", 0 }, { 1, "1", 0 } };
    co_task_t t[2] = { co_spawn(after, &a[0]), co_spawn(after, &a[1]) };
    int done = co_wait(t, 2, CO_WAIT_ALL, CO_NO_TIMEOUT);
    say("done %d pending %d", done, 2 - done);
    co_gather(t, 2, NULL, 0);
    return 0;
}

static int wait_first_completed(void *arg)
{
    after_t a[2] = { { 10, "a", 0 }, { 1, "b", 0 } };
    co_task_t t[2] = { co_spawn(after, &a[0]), co_spawn(after, &a[1]) };
    int done = co_wait(t, 2, CO_WAIT_FIRST_COMPLETED, CO_NO_TIMEOUT);
    say("done %d pending %d a.done %d", done, 2 - done, co_task_done(t[0]));
    co_cancel(t[0]);
    co_gather(t, 2, NULL, CO_GATHER_COLLECT);
    return 0;
}

static int yields_n(void *arg)
{
    for (int i = 0; i < I(arg); i++) co_sleep(0);
    return I(arg);
}

static int wait_really_done(void *arg)
{
    co_task_t a = co_spawn(yields_n, P(1)), b = co_spawn(yields_n, P(2));
    co_task_t t[2] = { b, a };
    int done = co_wait(t, 2, CO_WAIT_FIRST_COMPLETED, CO_NO_TIMEOUT);
    say("done %d pending %d", done, 2 - done);
    co_gather(t, 2, NULL, CO_GATHER_COLLECT);
    return 0;
}

static int wait_first_exception(void *arg)
{
    after_t a[3] = { { 1, "a", 0 }, { 2, "EIO", -EIO }, { 10, "c", 0 } };
    co_task_t t[3];
    for (int i = 0; i < 3; i++) t[i] = co_spawn(after, &a[i]);
    int done = co_wait(t, 3, CO_WAIT_FIRST_ERROR, CO_NO_TIMEOUT);
    say("done %d pending %d", done, 3 - done);
    co_cancel(t[2]);
    co_gather(t, 3, NULL, CO_GATHER_COLLECT);
    return 0;
}

static int wait_with_timeout(void *arg)
{
    after_t a[2] = { { 1, "a", 0 }, { 10, "b", 0 } };
    co_task_t t[2] = { co_spawn(after, &a[0]), co_spawn(after, &a[1]) };
    int done = co_wait(t, 2, CO_WAIT_ALL, 5 * UNIT);
    say("done %d pending %d b.cancelled %d", done, 2 - done, co_task_state_of(t[1]) == CO_TASK_CANCELLED);
    co_gather(t, 2, NULL, 0);
    return 0;
}

/* --------------------------------------------------------------------------
 * wait_for */

typedef struct { const char *name; int n; } sleeper_t;

static int sleeper(void *arg)
{
    sleeper_t *s = arg;
    int r = co_sleep(s->n * UNIT);
    if (r < 0) {
        say("%s cleanup", s->name);
        co_sleep(0);
        return r;
    }
    return 0;
}

static int wait_for_result(void *arg)
{
    sleeper_t s = { "a", 1 };
    int r = co_wait_for(co_spawn(sleeper, &s), 1000 * UNIT);
    say("got %s", r == 0 ? s.name : en(r));
    return 0;
}

static int wait_for_timeout(void *arg)
{
    sleeper_t s = { "a", 100 };
    say("wait_for %s", en(co_wait_for(co_spawn(sleeper, &s), 2 * UNIT)));
    return 0;
}

static int wait_for_zero_or_negative(void *arg)
{
    int64_t timeouts[] = { 0, -1 };
    for (int i = 0; i < 2; i++) {
        char name[8];
        snprintf(name, sizeof name, "t%d", (int)timeouts[i]);
        sleeper_t s = { name, 100 };
        say("timeout %d: %s", (int)timeouts[i], en(co_wait_for(co_spawn(sleeper, &s), timeouts[i])));
    }
    co_task_t t = co_spawn(yields_n, P(0));
    co_sleep(0);
    int r = co_wait_for(t, -1);
    say("ended task: %s", r == 0 ? "ready" : en(r));
    return 0;
}

static int swallow(void *arg)
{
    if (co_sleep(100000) == -ECANCELED) say("swallowed");
    return 42;
}

static int wait_for_swallowed(void *arg)
{
    say("wait_for %s", en(co_wait_for(co_spawn(swallow, NULL), UNIT)));
    return 0;
}

static int wait_for_none(void *arg)
{
    sleeper_t s = { "a", 1 };
    int r = co_wait_for(co_spawn(sleeper, &s), CO_NO_TIMEOUT);
    say("got %s", r == 0 ? s.name : en(r));
    return 0;
}

/* --------------------------------------------------------------------------
 * Timeouts */

static int timeout_basic(void *arg)
{
    co_timeout_t s;
    co_timeout_begin(&s, 2 * UNIT);
    int r = co_sleep(100000);
    int e = co_timeout_end(&s);
    if (r < 0) say("scope %s expired %d", en(r), e == -ETIMEDOUT);
    return 0;
}

static int timeout_not_triggered(void *arg)
{
    co_timeout_t s;
    co_timeout_begin(&s, 100 * UNIT);
    co_sleep(UNIT);
    say("ok expired %d", co_timeout_end(&s) == -ETIMEDOUT);
    return 0;
}

static int timeout_none(void *arg)
{
    co_timeout_t s;
    co_timeout_begin(&s, CO_NO_TIMEOUT);
    co_sleep(UNIT);
    say("ok expired %d", co_timeout_end(&s) == -ETIMEDOUT);
    return 0;
}

static int timeout_sleep_zero(int64_t ms)
{
    co_timeout_t s;
    co_timeout_begin(&s, ms);
    int r = co_sleep(0);
    co_timeout_end(&s);
    if (r < 0) say("sleep(0) %s", en(r));
    else say("not cut");
    return 0;
}

static int timeout_zero_sleep_zero(void *arg) { return timeout_sleep_zero(0); }
static int timeout_in_the_past_sleep_zero(void *arg) { return timeout_sleep_zero(-11000); }

static int timeout_nested_inner(void *arg)
{
    co_timeout_t outer, inner;
    co_timeout_begin(&outer, 100 * UNIT);
    co_timeout_begin(&inner, 2 * UNIT);
    int r = co_sleep(100000);
    co_timeout_end(&inner);
    if (r < 0) say("inner %s", en(r));
    co_sleep(0);
    say("outer expired %d", co_timeout_end(&outer) == -ETIMEDOUT);
    return 0;
}

static int timeout_cpu_loop(void *arg)
{
    co_timeout_t s;
    int rounds = 0, r = 0;
    co_timeout_begin(&s, 3 * UNIT);
    while (rounds < 300) {
        usleep(1000);
        if ((r = co_sleep(0)) < 0) break;
        rounds++;
    }
    co_timeout_end(&s);
    if (r < 0) say("loop %s early %d", en(r), rounds < 200);
    return 0;
}

/* --------------------------------------------------------------------------
 * Task groups */

static int taskgroup_results(void *arg)
{
    after_t a[2] = { { 2, "a", 0 }, { 1, "b", 0 } };
    co_group_t g;
    co_group_init(&g);
    for (int i = 0; i < 2; i++) co_group_spawn(&g, after, &a[i]);
    if (co_group_wait(&g) == 0) say("results %s %s", a[0].v, a[1].v);
    return 0;
}

static int taskgroup_child_error(void *arg)
{
    after_t fail = { 1, "EIO", -EIO };
    co_group_t g;
    co_group_init(&g);
    co_group_spawn(&g, gchild, P(1));
    co_group_spawn(&g, after, &fail);
    int r = co_sleep(100000);
    if (r == 0) say("body slept on");
    else say("body %s", en(r));
    say("group %s", en(co_group_wait(&g)));
    say("cancelling %d", co_cancelling());
    return 0;
}

static int group_owner(void *arg)
{
    co_group_t g;
    co_group_init(&g);
    co_group_spawn(&g, gchild, P(1));
    return co_group_wait(&g);
}

static int taskgroup_cancelled_from_outside(void *arg)
{
    co_task_t t = co_spawn(group_owner, NULL);
    co_sleep(UNIT);
    co_cancel(t);
    say("owner %s", res(t));
    return 0;
}

static int taskgroup_two_errors(void *arg)
{
    after_t a[2] = { { 1, "EIO", -EIO }, { 1, "EPIPE", -EPIPE } };
    co_group_t g;
    co_group_init(&g);
    for (int i = 0; i < 2; i++) co_group_spawn(&g, after, &a[i]);
    say("group %s", en(co_group_wait(&g)));
    return 0;
}

/* --------------------------------------------------------------------------
 * Cancellation */

static int cancels_itself(void *arg)
{
    co_cancel(co_current());
    return 12;
}

static int cancel_at_end(void *arg)
{
    co_task_t t = co_spawn(cancels_itself, NULL);
    co_wait(&t, 1, CO_WAIT_ALL, CO_NO_TIMEOUT);
    say("task %s", res(t));
    return 0;
}

static int two_yields(void *arg)
{
    int r = co_sleep(0);
    if (r == 0) r = co_sleep(0);
    return r < 0 ? r : 12;
}

static int cancel_yield(void *arg)
{
    co_task_t t = co_spawn(two_yields, NULL);
    co_sleep(0);
    co_cancel(t);
    co_wait(&t, 1, CO_WAIT_ALL, CO_NO_TIMEOUT);
    say("task %s", res(t));
    return 0;
}

static int says_ran(void *arg)
{
    say("ran");
    return 1;
}

static int cancel_before_start(void *arg)
{
    co_task_t t = co_spawn(says_ran, NULL);
    co_cancel(t);
    co_wait(&t, 1, CO_WAIT_ALL, CO_NO_TIMEOUT);
    say("task %s", res(t));
    return 0;
}

static int cancel_cleanup_awaits(void *arg)
{
    sleeper_t s = { "a", 100 };
    co_task_t t = co_spawn(sleeper, &s);
    co_sleep(0);
    co_cancel(t);
    co_wait(&t, 1, CO_WAIT_ALL, CO_NO_TIMEOUT);
    say("task %s", res(t));
    return 0;
}

static int inner(void *arg)
{
    int r = co_sleep(2 * UNIT);
    if (r == -ECANCELED) say("inner cancelled");
    else say("inner done");
    return r;
}

static co_task_t inner_task;

static int outer(void *arg) { return co_await(inner_task); }

static int cancel_awaiter(void *arg)
{
    inner_task = co_spawn(inner, NULL);
    co_task_t o = co_spawn(outer, NULL);
    co_sleep(0);
    co_cancel(o);
    co_wait(&o, 1, CO_WAIT_ALL, CO_NO_TIMEOUT);
    say("outer %s", res(o));
    co_await(inner_task); /* still ours: co_await shields */
    return 0;
}

static int spawn_t(void *arg)
{
    say("t%d", I(arg));
    return 0;
}

static int spawn_fifo(void *arg)
{
    co_task_t t[3];
    for (int i = 0; i < 3; i++) t[i] = co_spawn(spawn_t, P(i + 1));
    say("creator first");
    co_gather(t, 3, NULL, 0);
    return 0;
}

/* -------------------------------------------------------------------------- */

static const struct { const char *name; co_fn fn; } scenarios[] = {
#define S(f) { #f, f }
    S(lock_fifo), S(lock_acquire_cancel), S(lock_cancel_release_race),
    S(sem_acquire), S(sem_acquire_cancel), S(sem_bounded_overflow),
    S(cond_notify), S(cond_notify_all), S(cond_wait_cancel),
    S(event_wait),
    S(queue_blocking_put), S(queue_get_cancelled), S(queue_nowait), S(queue_join),
    S(gather_result), S(gather_return_exceptions), S(gather_first_error), S(gather_cancelled),
    S(wait_all), S(wait_first_completed), S(wait_really_done), S(wait_first_exception), S(wait_with_timeout),
    S(wait_for_result), S(wait_for_timeout), S(wait_for_zero_or_negative), S(wait_for_swallowed),
    S(wait_for_none),
    S(timeout_basic), S(timeout_not_triggered), S(timeout_none), S(timeout_zero_sleep_zero),
    S(timeout_in_the_past_sleep_zero), S(timeout_nested_inner), S(timeout_cpu_loop),
    S(taskgroup_results), S(taskgroup_child_error), S(taskgroup_cancelled_from_outside),
    S(taskgroup_two_errors),
    S(cancel_at_end), S(cancel_yield), S(cancel_before_start), S(cancel_cleanup_awaits),
    S(cancel_awaiter), S(spawn_fifo),
#undef S
};

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++) {
        if (argc > 1) {
            int want = 0;
            for (int a = 1; a < argc; a++) want |= strcmp(argv[a], scenarios[i].name) == 0;
            if (!want) continue;
        }
        fflush(stdout);
        printf("== %s\n", scenarios[i].name);
        int r = co_run(scenarios[i].fn, NULL);
        if (r != 0) say("!! main returned %s", en(r));
    }
    return 0;
}
