/* SPDX-License-Identifier: MIT */
/* test_thread.c -- co_to_thread (result, the loop runs on meanwhile,
 * cancellation before and after the work starts, timeouts) and
 * co_call_threadsafe / co_loop_ref from plain pthreads. */
#include "testutil.h"
#include <pthread.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* A gate a pool thread can block on until the test opens it. */
typedef struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int open;
    _Atomic int entered; /* threads that reached the gate */
} gate;

static void gate_init(gate *g)
{
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    g->open = 0;
    atomic_init(&g->entered, 0);
}

static void gate_pass(gate *g)
{
    atomic_fetch_add(&g->entered, 1);
    pthread_mutex_lock(&g->mu);
    while (!g->open) pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

static void gate_open(gate *g)
{
    pthread_mutex_lock(&g->mu);
    g->open = 1;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

/* ------------------------------------------------------------------------ */

static void *twice(void *arg) { return P(I(arg) * 2); }

static int result_main(void *arg)
{
    void *out = NULL;
    int r = co_to_thread(twice, P(21), &out);
    if (r != 0) return r;
    if (I(out) != 42) return -1;
    r = co_to_thread(twice, P(5), NULL); /* out may be NULL */
    if (r != 0) return r;
    if (co_to_thread(NULL, NULL, NULL) != -EINVAL) return -2;
    return 0;
}

static void test_result(void **state)
{
    assert_int_equal(run_main(result_main, NULL), 0);
    void *out;
    assert_int_equal(co_to_thread(twice, P(1), &out), -EPERM);
}

/* The loop keeps running other tasks while a pool thread blocks. */
static _Atomic int ticks;
static _Atomic int work_done;

/* Blocks its pool thread until the loop has ticked 10 times (or 10 s have
 * passed): a loop that did not run meanwhile shows as too few ticks, and a
 * loaded machine only makes it wait longer, never fail. */
static void *slow(void *arg)
{
    for (int ms = 0; ms < 10000 && atomic_load(&ticks) < 10; ms++) usleep(1000);
    atomic_store(&work_done, 1);
    return P(7);
}

static int ticker(void *arg)
{
    while (!atomic_load(&work_done)) {
        atomic_fetch_add(&ticks, 1);
        co_sleep(2);
    }
    return 0;
}

static int concurrent_main(void *arg)
{
    co_task_t t = co_spawn(ticker, NULL);
    void *out;
    int r = co_to_thread(slow, NULL, &out);
    if (r != 0 || I(out) != 7) return -1;
    int ticks_seen = atomic_load(&ticks);
    co_await(t);
    return ticks_seen;
}

static void test_loop_runs_meanwhile(void **state)
{
    atomic_store(&ticks, 0);
    atomic_store(&work_done, 0);
    int ticks_seen = run_main(concurrent_main, NULL);
    assert_true(ticks_seen >= 10);
}

/* Several calls at once use several pool threads. */
static void *sleep_50ms(void *arg)
{
    usleep(50 * 1000);
    return arg;
}

static int one_call(void *arg)
{
    void *out;
    int r = co_to_thread(sleep_50ms, arg, &out);
    return r < 0 ? r : I(out);
}

static int parallel_main(void *arg)
{
    co_task_t t[4];
    int res[4];
    uint64_t t0 = co_now_ms();
    for (int i = 0; i < 4; i++) t[i] = co_spawn(one_call, P(i + 1));
    int r = co_gather(t, 4, res, 0);
    if (r != 0) return r;
    for (int i = 0; i < 4; i++)
        if (res[i] != i + 1) return -1;
    return (int)(co_now_ms() - t0);
}

static void test_parallel(void **state)
{
    int ms = run_main(parallel_main, NULL);
    assert_true(ms >= 0);
    assert_true(ms >= 45);
    assert_true(ms < 150); /* 4 x 50 ms in parallel on the 4 pool threads, not 200 ms in turn */
}

/* Cancellation while the work runs: the task returns -ECANCELED at once,
 * the work finishes in the background, *out is untouched. */
static gate g_run;
static _Atomic int blocked_finished;

static void *blocked(void *arg)
{
    gate_pass(&g_run);
    atomic_store(&blocked_finished, 1);
    return P(99);
}

static void *out_slot;

static int call_blocked(void *arg)
{
    return co_to_thread(blocked, NULL, &out_slot);
}

static int cancel_running_main(void *arg)
{
    co_task_t t = co_spawn(call_blocked, NULL);
    while (atomic_load(&g_run.entered) == 0) co_sleep(1); /* the work has started */
    uint64_t t0 = co_now_ms();
    if (co_cancel(t) != 1) return -5;
    int r = co_await(t);
    if (r != -ECANCELED) return -1;
    if (co_now_ms() - t0 > 50) return -2;
    if (atomic_load(&blocked_finished)) return -3; /* still blocked: we did not wait */
    if (out_slot != P(-1)) return -4;
    gate_open(&g_run); /* let it finish; co_loop_free waits for it */
    return 0;
}

static void test_cancel_running(void **state)
{
    gate_init(&g_run);
    atomic_store(&blocked_finished, 0);
    out_slot = P(-1);
    assert_int_equal(run_main(cancel_running_main, NULL), 0);
    assert_int_equal(atomic_load(&blocked_finished), 1); /* co_loop_free waited */
    assert_ptr_equal(out_slot, P(-1));
}

/* Cancellation before the work starts: fill the pool with blocked work,
 * queue one more, cancel it: it never runs. */
static gate g_fill;
static _Atomic int never_ran;

static void *fill(void *arg)
{
    gate_pass(&g_fill);
    return NULL;
}

static void *must_not_run(void *arg)
{
    atomic_store(&never_ran, 0);
    return NULL;
}

static int call_fill(void *arg) { return co_to_thread(fill, NULL, NULL); }
static int call_must_not_run(void *arg) { return co_to_thread(must_not_run, NULL, NULL); }

static int cancel_queued_main(void *arg)
{
    enum { POOL = 4 }; /* libuv's default; the test sets UV_THREADPOOL_SIZE */
    co_task_t f[POOL];
    for (int i = 0; i < POOL; i++) f[i] = co_spawn(call_fill, NULL);
    while (atomic_load(&g_fill.entered) < POOL) co_sleep(1);
    co_task_t t = co_spawn(call_must_not_run, NULL);
    co_yield(); /* t queues its work */
    co_cancel(t);
    int r = co_await(t);
    gate_open(&g_fill);
    int res[POOL];
    int g = co_gather(f, POOL, res, 0);
    if (g != 0) return g;
    return r;
}

static void test_cancel_queued(void **state)
{
    gate_init(&g_fill);
    atomic_store(&never_ran, 1);
    assert_int_equal(run_main(cancel_queued_main, NULL), -ECANCELED);
    assert_int_equal(atomic_load(&never_ran), 1);
}

/* A timeout scope cuts the wait short with -ETIMEDOUT. */
static gate g_timeout;

static void *blocked_t(void *arg)
{
    gate_pass(&g_timeout);
    return NULL;
}

static int timeout_main(void *arg)
{
    co_timeout_t scope;
    co_timeout_begin(&scope, 20);
    void *out = P(-1);
    int r = co_to_thread(blocked_t, NULL, &out);
    int e = co_timeout_end(&scope);
    gate_open(&g_timeout);
    if (out != P(-1)) return -100;
    return r == -ETIMEDOUT && e == -ETIMEDOUT ? 0 : -1;
}

static void test_timeout(void **state)
{
    gate_init(&g_timeout);
    assert_int_equal(run_main(timeout_main, NULL), 0);
}

/* A cancellation requested before the call: it returns -ECANCELED and the
 * work never runs (or runs in the background, harmlessly). */
static int precancelled(void *arg)
{
    co_cancel(co_current());
    return co_to_thread(twice, P(1), NULL);
}

static int precancel_main(void *arg) { return co_await(co_spawn(precancelled, NULL)); }

static void test_precancelled(void **state) { assert_int_equal(run_main(precancel_main, NULL), -ECANCELED); }

/* ------------------------------------------------------------------------ */
/* co_call_threadsafe                                                        */

typedef struct ts_ctx {
    co_loop_t *loop;
    pthread_t loop_thread;
    co_future_t done;
    int calls;        /* loop thread only */
    int wrong_thread; /* loop thread only */
    int order_bad;    /* loop thread only */
    int last[4];      /* per sender: last sequence number seen */
} ts_ctx;

typedef struct ts_msg {
    ts_ctx *ctx;
    int sender, seq;
} ts_msg;

enum { SENDERS = 4, PER_SENDER = 2500 };

static void on_msg(void *arg)
{
    ts_msg *m = arg;
    ts_ctx *c = m->ctx;
    if (!pthread_equal(pthread_self(), c->loop_thread)) c->wrong_thread++;
    if (m->seq != c->last[m->sender] + 1) c->order_bad++; /* FIFO per sending thread */
    c->last[m->sender] = m->seq;
    free(m);
    if (++c->calls == SENDERS * PER_SENDER) {
        co_future_set(&c->done, NULL);
        co_loop_unref(c->loop);
    }
}

typedef struct sender_arg {
    ts_ctx *ctx;
    int id;
} sender_arg;

static void *sender(void *arg)
{
    sender_arg *s = arg;
    for (int i = 1; i <= PER_SENDER; i++) {
        ts_msg *m = malloc(sizeof *m);
        m->ctx = s->ctx;
        m->sender = s->id;
        m->seq = i;
        if (co_call_threadsafe(s->ctx->loop, on_msg, m) != 0) abort();
    }
    return NULL;
}

static int threadsafe_main(void *arg)
{
    ts_ctx *c = arg;
    c->loop = co_loop_current();
    c->loop_thread = pthread_self();
    co_future_init(&c->done);
    /* Without the ref, a main waiting on a future only other threads will
     * set is asleep as far as the loop can tell (-EDEADLK). */
    if (co_loop_ref(c->loop) != 0) return -1;
    pthread_t th[SENDERS];
    sender_arg sa[SENDERS];
    for (int i = 0; i < SENDERS; i++) {
        sa[i].ctx = c;
        sa[i].id = i;
        pthread_create(&th[i], NULL, sender, &sa[i]);
    }
    int r = co_future_await(&c->done, NULL);
    for (int i = 0; i < SENDERS; i++) pthread_join(th[i], NULL);
    return r;
}

static void test_call_threadsafe(void **state)
{
    ts_ctx c;
    memset(&c, 0, sizeof c);
    assert_int_equal(run_main(threadsafe_main, &c), 0);
    assert_int_equal(c.calls, SENDERS * PER_SENDER);
    assert_int_equal(c.wrong_thread, 0);
    assert_int_equal(c.order_bad, 0);
}

/* From the loop's own thread the call is queued, not run inline. */
static void set_flag(void *arg) { *(int *)arg = 1; }

static int own_thread_main(void *arg)
{
    int flag = 0;
    if (co_call_threadsafe(co_loop_current(), set_flag, &flag) != 0) return -1;
    if (flag) return -2;
    co_yield();
    while (!flag) co_sleep(1);
    return 0;
}

static void test_own_thread(void **state) { assert_int_equal(run_main(own_thread_main, NULL), 0); }

/* A freed loop, or one never prepared, refuses calls from other threads. */
typedef struct {
    co_loop_t *loop;
    int r;
} refuse_arg;

static void *try_call(void *arg)
{
    refuse_arg *a = arg;
    static int flag; /* the call may run after this thread is gone */
    a->r = co_call_threadsafe(a->loop, set_flag, &flag);
    return NULL;
}

static int prepare_main(void *arg) { return co_loop_ref(co_loop_current()) || co_loop_unref(co_loop_current()); }

static void test_refused(void **state)
{
    co_loop_t *loop;
    assert_int_equal(co_loop_new(&loop, NULL), 0);
    pthread_t th;
    refuse_arg a = { loop, 1 };
    pthread_create(&th, NULL, try_call, &a); /* a fresh loop takes calls at once */
    pthread_join(th, NULL);
    assert_int_equal(a.r, 0);
    assert_int_equal(co_loop_run(loop, prepare_main, NULL), 0);
    assert_int_equal(co_loop_unref(loop), -EINVAL); /* none held */
    assert_int_equal(co_loop_free(loop), 0);
    a.r = 1;
    pthread_create(&th, NULL, try_call, &a); /* freed */
    pthread_join(th, NULL);
    assert_int_equal(a.r, -EINVAL);
    assert_int_equal(co_call_threadsafe(NULL, set_flag, NULL), -EINVAL);
}

/* co_loop_unref from another thread releases the loop, which then notices
 * that its main task is asleep. */
static void *unref_later(void *arg)
{
    usleep(20 * 1000);
    co_loop_unref(arg);
    return NULL;
}

static int asleep_main(void *arg)
{
    co_loop_t *loop = co_loop_current();
    co_loop_ref(loop);
    pthread_t th;
    pthread_create(&th, NULL, unref_later, loop);
    pthread_detach(th);
    co_event_t never;
    co_event_init(&never);
    return co_event_wait(&never); /* woken by nothing: the loop ends -EDEADLK */
}

static void test_unref_from_thread(void **state)
{
    /* The all-asleep report goes to stderr; quiet it. */
    fflush(stderr);
    int saved = dup(2), nul = open("/dev/null", O_WRONLY);
    dup2(nul, 2);
    close(nul);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int r = run_main(asleep_main, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    assert_int_equal(r, -EDEADLK);
    /* Held until the other thread let go, 20 ms in. */
    assert_true((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 >= 15);
}

int main(void)
{
    setenv("UV_THREADPOOL_SIZE", "4", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_result),
        cmocka_unit_test(test_loop_runs_meanwhile),
        cmocka_unit_test(test_parallel),
        cmocka_unit_test(test_cancel_running),
        cmocka_unit_test(test_cancel_queued),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_precancelled),
        cmocka_unit_test(test_call_threadsafe),
        cmocka_unit_test(test_own_thread),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_unref_from_thread),
    };
    return cmocka_run_group_tests_name("thread", tests, NULL, NULL);
}
