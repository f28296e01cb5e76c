/* SPDX-License-Identifier: MIT */
/* test_channel.c -- co_chan: FIFO order, buffered and unbuffered hand-off,
 * close semantics, cancellation of waiters, and several loops on several
 * threads passing a million values through a pipeline of channels with
 * nothing lost or duplicated, also while waits are cancelled and time out. */
#include "testutil.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* One loop                                                                  */

static int basic_main(void *arg)
{
    co_chan_t *ch = co_chan_new(4);
    if (!ch) return -1;
    for (int i = 1; i <= 4; i++)
        if (co_chan_send(ch, P(i)) != 0) return -2;
    if (co_chan_try_send(ch, P(5)) != -EAGAIN) return -3; /* full */
    if (co_chan_len(ch) != 4) return -4;
    void *v;
    for (int i = 1; i <= 4; i++)
        if (co_chan_recv(ch, &v) != 0 || I(v) != i) return -5;
    if (co_chan_try_recv(ch, &v) != -EAGAIN) return -6; /* empty */
    /* Close: buffered values still come out, then -EPIPE. */
    co_chan_send(ch, P(7));
    co_chan_send(ch, P(8));
    if (co_chan_close(ch) != 0) return -7;
    if (co_chan_close(ch) != -EPIPE) return -8;
    if (co_chan_send(ch, P(9)) != -EPIPE) return -9;
    if (co_chan_try_send(ch, P(9)) != -EPIPE) return -10;
    if (co_chan_recv(ch, &v) != 0 || I(v) != 7) return -11;
    if (co_chan_try_recv(ch, &v) != 0 || I(v) != 8) return -12;
    if (co_chan_recv(ch, &v) != -EPIPE) return -13;
    if (co_chan_try_recv(ch, &v) != -EPIPE) return -14;
    co_chan_unref(ch);
    return 0;
}

static void test_basic(void **state)
{
    assert_int_equal(run_main(basic_main, NULL), 0);
    co_chan_t *ch = co_chan_new(1);
    assert_non_null(ch);
    assert_int_equal(co_chan_send(ch, NULL), -EPERM); /* outside a task */
    assert_int_equal(co_chan_recv(ch, NULL), -EPERM);
    assert_int_equal(co_chan_try_send(ch, P(3)), 0);  /* plain code: fine */
    void *v;
    assert_int_equal(co_chan_try_recv(ch, &v), 0);
    assert_int_equal(I(v), 3);
    assert_ptr_equal(co_chan_ref(ch), ch);
    co_chan_unref(ch);
    co_chan_unref(ch);
    assert_int_equal(co_chan_try_send(NULL, NULL), -EINVAL);
    co_chan_unref(NULL);
}

/* Unbuffered: each send waits for a receiver; order is kept. */
typedef struct {
    co_chan_t *ch;
    int n;
} prod_arg;

static int producer(void *arg)
{
    prod_arg *a = arg;
    for (int i = 1; i <= a->n; i++) {
        int r = co_chan_send(a->ch, P(i));
        if (r != 0) return r;
    }
    return co_chan_close(a->ch);
}

static int unbuffered_main(void *arg)
{
    co_chan_t *ch = co_chan_new(0);
    if (co_chan_try_send(ch, P(1)) != -EAGAIN) return -1; /* nobody receiving */
    prod_arg pa = { ch, 1000 };
    co_task_t p = co_spawn(producer, &pa);
    int expect = 1;
    void *v;
    int r;
    while ((r = co_chan_recv(ch, &v)) == 0) {
        if (I(v) != expect) return -2;
        expect++;
    }
    if (r != -EPIPE || expect != 1001) return -3;
    if (co_await(p) != 0) return -4;
    co_chan_unref(ch);
    return 0;
}

static void test_unbuffered(void **state) { assert_int_equal(run_main(unbuffered_main, NULL), 0); }

/* Blocked senders are served in FIFO order, behind the buffer. */
static int send_one(void *arg)
{
    void **a = arg;
    return co_chan_send(a[0], a[1]);
}

static int fifo_main(void *arg)
{
    co_chan_t *ch = co_chan_new(1);
    co_chan_send(ch, P(0));
    co_task_t t[5];
    void *args[5][2];
    for (int i = 0; i < 5; i++) {
        args[i][0] = ch;
        args[i][1] = P(i + 1);
        t[i] = co_spawn(send_one, args[i]);
        co_yield(); /* each queues behind the previous */
    }
    for (int i = 0; i <= 5; i++) {
        void *v;
        if (co_chan_recv(ch, &v) != 0 || I(v) != i) return -1 - i;
    }
    int res[5];
    if (co_gather(t, 5, res, 0) != 0) return -10;
    co_chan_unref(ch);
    return 0;
}

static void test_fifo(void **state) { assert_int_equal(run_main(fifo_main, NULL), 0); }

/* Close wakes waiting receivers and senders with -EPIPE. */
static int recv_one(void *arg)
{
    void *v;
    return co_chan_recv(arg, &v);
}

static int close_wakes_main(void *arg)
{
    co_chan_t *empty = co_chan_new(2), *full = co_chan_new(1);
    co_chan_send(full, P(1));
    co_task_t r1 = co_spawn(recv_one, empty), r2 = co_spawn(recv_one, empty);
    void *sa[2] = { full, P(2) };
    co_task_t s1 = co_spawn(send_one, sa);
    co_sleep(1);
    if (co_task_state_of(r1) != CO_TASK_WAITING || co_task_state_of(s1) != CO_TASK_WAITING) return -1;
    co_chan_close(empty);
    co_chan_close(full);
    if (co_await(r1) != -EPIPE || co_await(r2) != -EPIPE) return -2;
    if (co_await(s1) != -EPIPE) return -3;
    void *v;
    if (co_chan_recv(full, &v) != 0 || I(v) != 1) return -4; /* the buffered one, not the refused one */
    if (co_chan_recv(full, &v) != -EPIPE) return -5;
    co_chan_unref(empty);
    co_chan_unref(full);
    return 0;
}

static void test_close_wakes(void **state) { assert_int_equal(run_main(close_wakes_main, NULL), 0); }

/* A cancelled receiver leaves the channel clean: the next value is not
 * handed to it. */
static int cancel_waiter_main(void *arg)
{
    co_chan_t *ch = co_chan_new(1);
    co_task_t r = co_spawn(recv_one, ch);
    co_yield();
    co_cancel(r);
    if (co_await(r) != -ECANCELED) return -1;
    if (co_chan_send(ch, P(4)) != 0) return -2;
    if (co_chan_len(ch) != 1) return -3;
    co_timeout_t s;
    co_timeout_begin(&s, 5);
    void *v;
    int a = co_chan_recv(ch, &v);            /* a value is there: no wait */
    int b = co_chan_recv(ch, &v);            /* none: times out */
    int e = co_timeout_end(&s);
    if (a != 0 || b != -ETIMEDOUT || e != -ETIMEDOUT) return -4;
    if (co_chan_len(ch) != 0) return -5;
    co_chan_unref(ch);
    return 0;
}

static void test_cancel_waiter(void **state) { assert_int_equal(run_main(cancel_waiter_main, NULL), 0); }

/* ------------------------------------------------------------------------ */
/* Across threads                                                            */

/* A task waiting on a channel keeps its loop alive until a plain thread
 * (no loop) sends. */
static void *late_sender(void *arg)
{
    usleep(30 * 1000);
    co_chan_try_send(arg, P(5));
    return NULL;
}

static int alive_main(void *arg)
{
    co_chan_t *ch = co_chan_new(1);
    pthread_t th;
    pthread_create(&th, NULL, late_sender, ch);
    void *v = NULL;
    int r = co_chan_recv(ch, &v);
    pthread_join(th, NULL);
    co_chan_unref(ch);
    return r == 0 ? I(v) : r;
}

static void test_keeps_loop_alive(void **state) { assert_int_equal(run_main(alive_main, NULL), 5); }

/* The pipeline: on each of NTHREADS loops, producers send to `a`,
 * forwarders move from `a` to `b`, consumers drain `b`.  The last producer
 * closes `a`, the last forwarder closes `b`. */
enum { NTHREADS = 4, PRODUCERS = 2, FORWARDERS = 2, CONSUMERS = 2, NVALUES = 1000000 };

typedef struct pipeline {
    co_chan_t *a, *b;
    _Atomic int producers_left, forwarders_left;
    _Atomic int64_t count;
    _Atomic uint64_t sum;
    _Atomic unsigned char *seen; /* NVALUES + 1 */
    _Atomic int errors;
} pipeline;

typedef struct worker {
    pipeline *p;
    int index; /* producer index 0..NTHREADS*PRODUCERS-1 */
} worker;

static int pipe_producer(void *arg)
{
    worker *w = arg;
    pipeline *p = w->p;
    for (int v = w->index + 1; v <= NVALUES; v += NTHREADS * PRODUCERS)
        if (co_chan_send(p->a, P(v)) != 0) atomic_fetch_add(&p->errors, 1);
    if (atomic_fetch_sub(&p->producers_left, 1) == 1) co_chan_close(p->a);
    return 0;
}

static int pipe_forwarder(void *arg)
{
    pipeline *p = arg;
    void *v;
    int r;
    while ((r = co_chan_recv(p->a, &v)) == 0)
        if (co_chan_send(p->b, v) != 0) atomic_fetch_add(&p->errors, 1);
    if (r != -EPIPE) atomic_fetch_add(&p->errors, 1);
    if (atomic_fetch_sub(&p->forwarders_left, 1) == 1) co_chan_close(p->b);
    return 0;
}

static int pipe_consumer(void *arg)
{
    pipeline *p = arg;
    void *v;
    int r;
    int64_t n = 0;
    uint64_t sum = 0;
    while ((r = co_chan_recv(p->b, &v)) == 0) {
        int x = I(v);
        if (x < 1 || x > NVALUES || atomic_fetch_add(&p->seen[x], 1) != 0) atomic_fetch_add(&p->errors, 1);
        n++;
        sum += (uint64_t)x;
    }
    if (r != -EPIPE) atomic_fetch_add(&p->errors, 1);
    atomic_fetch_add(&p->count, n);
    atomic_fetch_add(&p->sum, sum);
    return 0;
}

typedef struct thread_arg {
    pipeline *p;
    int t;
    int result;
} thread_arg;

static int pipeline_main(void *arg)
{
    thread_arg *ta = arg;
    enum { N = PRODUCERS + FORWARDERS + CONSUMERS };
    co_task_t t[N];
    worker w[PRODUCERS];
    int k = 0;
    for (int i = 0; i < PRODUCERS; i++) {
        w[i].p = ta->p;
        w[i].index = ta->t * PRODUCERS + i;
        t[k++] = co_spawn(pipe_producer, &w[i]);
    }
    for (int i = 0; i < FORWARDERS; i++) t[k++] = co_spawn(pipe_forwarder, ta->p);
    for (int i = 0; i < CONSUMERS; i++) t[k++] = co_spawn(pipe_consumer, ta->p);
    int res[N];
    return co_gather(t, N, res, 0);
}

static void *pipeline_thread(void *arg)
{
    thread_arg *ta = arg;
    co_loop_t *loop;
    if (co_loop_new(&loop, NULL) != 0) {
        ta->result = -1;
        return NULL;
    }
    ta->result = co_loop_run(loop, pipeline_main, ta);
    co_loop_free(loop);
    return NULL;
}

static void test_many_loops(void **state)
{
    pipeline p;
    memset(&p, 0, sizeof p);
    p.a = co_chan_new(256);
    p.b = co_chan_new(256);
    atomic_init(&p.producers_left, NTHREADS * PRODUCERS);
    atomic_init(&p.forwarders_left, NTHREADS * FORWARDERS);
    p.seen = calloc(NVALUES + 1, 1);
    pthread_t th[NTHREADS];
    thread_arg ta[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        ta[i].p = &p;
        ta[i].t = i;
        ta[i].result = 0;
        pthread_create(&th[i], NULL, pipeline_thread, &ta[i]);
    }
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(ta[i].result, 0);
    }
    assert_int_equal(atomic_load(&p.errors), 0);
    assert_int_equal(atomic_load(&p.count), NVALUES);
    assert_true(atomic_load(&p.sum) == (uint64_t)NVALUES * (NVALUES + 1) / 2);
    for (int v = 1; v <= NVALUES; v++)
        if (p.seen[v] != 1) fail_msg("value %d seen %d times", v, (int)p.seen[v]);
    assert_int_equal(co_chan_len(p.a), 0);
    assert_int_equal(co_chan_len(p.b), 0);
    free((void *)p.seen);
    co_chan_unref(p.a);
    co_chan_unref(p.b);
}

/* The race, made deterministic: another thread completes a waiting task's
 * transfer, and before the loop gets to process the wake, a task of the
 * same loop cancels the waiter.  The transfer wins: the call returns 0 with
 * the value, and the cancellation arrives at the next await. */
typedef struct det {
    co_chan_t *ch;
    _Atomic int done;
    co_task_t t;
    int r1, r2;
    void *v;
} det;

static void *det_try_send(void *arg)
{
    det *d = arg;
    while (co_chan_try_send(d->ch, P(77)) != 0) usleep(100); /* until the receiver waits */
    atomic_store(&d->done, 1);
    return NULL;
}

static void *det_try_recv(void *arg)
{
    det *d = arg;
    while (co_chan_try_recv(d->ch, &d->v) != 0) usleep(100); /* takes the buffered 1, pulls in 2 */
    atomic_store(&d->done, 1);
    return NULL;
}

static int det_receiver(void *arg)
{
    det *d = arg;
    d->r1 = co_chan_recv(d->ch, &d->v);
    d->r2 = co_sleep(1000);
    return 0;
}

static int det_sender(void *arg)
{
    det *d = arg;
    d->r1 = co_chan_send(d->ch, P(2)); /* the buffer is full: waits */
    d->r2 = co_sleep(1000);
    return 0;
}

static int det_main(void *arg)
{
    det *d = arg;
    int sending = d->ch != NULL;
    d->ch = co_chan_new(sending ? 1 : 0);
    if (sending) co_chan_send(d->ch, P(1));
    d->t = co_spawn(sending ? det_sender : det_receiver, d);
    co_yield(); /* it waits now */
    pthread_t th;
    pthread_create(&th, NULL, sending ? det_try_recv : det_try_send, d);
    while (!atomic_load(&d->done)) { /* spin: the wake stays queued */ }
    co_cancel(d->t);
    co_await(d->t);

    pthread_join(th, NULL);
    if (sending) {
        void *v;
        if (co_chan_try_recv(d->ch, &v) != 0 || I(v) != 2) return -1; /* sent, not lost */
    }
    co_chan_unref(d->ch);
    return 0;
}

static void test_transfer_beats_cancel(void **state)
{
    det d;
    memset(&d, 0, sizeof d);
    assert_int_equal(run_main(det_main, &d), 0);
    assert_int_equal(d.r1, 0);
    assert_int_equal(I(d.v), 77);
    assert_int_equal(d.r2, -ECANCELED);
    memset(&d, 0, sizeof d);
    d.ch = (co_chan_t *)&d; /* "sending" */
    assert_int_equal(run_main(det_main, &d), 0);
    assert_int_equal(d.r1, 0);
    assert_int_equal(I(d.v), 1);
    assert_int_equal(d.r2, -ECANCELED);
}

/* Interruptions racing with cross-thread transfers: receivers on one loop
 * time out and get cancelled all the time while a sender on another loop,
 * itself timing out, pushes values through an unbuffered channel.  Every
 * value reported sent is received exactly once. */
enum { RACE_VALUES = 10000, RACERS = 4 };

typedef struct race {
    co_chan_t *ch;
    _Atomic unsigned char seen[RACE_VALUES + 1];
    _Atomic int received, errors, receivers_done, sender_done;
    co_task_t racers[RACERS];
} race;

static int race_receiver(void *arg)
{
    race *rc = arg;
    for (int i = 0;; i++) {
        co_timeout_t s;
        co_timeout_begin(&s, i % 3); /* 0 ms: often expired at once; 1-2 ms: expires while waiting */
        void *v;
        int r = co_chan_recv(rc->ch, &v);
        co_timeout_end(&s);
        if (r == 0) {
            int x = I(v);
            if (x < 1 || x > RACE_VALUES || atomic_fetch_add(&rc->seen[x], 1) != 0) atomic_fetch_add(&rc->errors, 1);
            atomic_fetch_add(&rc->received, 1);
        } else if (r == -EPIPE) {
            break;
        } else if (r != -ETIMEDOUT && r != -ECANCELED) {
            atomic_fetch_add(&rc->errors, 1);
        }
    }
    atomic_fetch_add(&rc->receivers_done, 1);
    return 0;
}

/* Busy for us microseconds without yielding: the loop cannot process the
 * wakes and timer expiries that pile up meanwhile, so they race with what
 * comes next (a cancellation here, a timeout on the sending side). */
static void spin_us(long us)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    do clock_gettime(CLOCK_MONOTONIC, &b);
    while ((b.tv_sec - a.tv_sec) * 1000000 + (b.tv_nsec - a.tv_nsec) / 1000 < us);
}

static int race_canceller(void *arg)
{
    race *rc = arg;
    for (unsigned i = 0; atomic_load(&rc->receivers_done) < RACERS; i++) {
        spin_us(50);
        for (int k = 0; k < RACERS; k++) co_cancel(rc->racers[k]);
        co_sleep(i % 2);
    }
    return 0;
}

static int race_hog(void *arg)
{
    race *rc = arg;
    while (!atomic_load(&rc->sender_done)) {
        spin_us(50);
        co_sleep(1);
    }
    return 0;
}

static int race_recv_main(void *arg)
{
    race *rc = arg;
    for (int i = 0; i < RACERS; i++) rc->racers[i] = co_spawn(race_receiver, rc);
    co_task_t c = co_spawn(race_canceller, rc);
    for (int i = 0; i < RACERS; i++) co_await(rc->racers[i]);
    return co_await(c);
}

static int race_send_main(void *arg)
{
    race *rc = arg;
    co_task_t hog = co_spawn(race_hog, rc);
    for (int v = 1; v <= RACE_VALUES;) {
        co_timeout_t s;
        co_timeout_begin(&s, 1 + v % 2);
        int r = co_chan_send(rc->ch, P(v));
        co_timeout_end(&s);
        if (r == 0) v++; /* sent: next; timed out: not sent, send again */
        else if (r != -ETIMEDOUT) return r;
    }
    atomic_store(&rc->sender_done, 1);
    int r = co_await(hog);
    return r < 0 ? r : co_chan_close(rc->ch);
}

static void *run_loop_thread(void *arg)
{
    void **a = arg;
    *(int *)a[2] = co_run((co_fn)a[0], a[1]);
    return NULL;
}

static void test_interrupt_races(void **state)
{
    race *rc = calloc(1, sizeof *rc);
    rc->ch = co_chan_new(0);
    int rr = 1, rs = 1;
    void *ra[3] = { (void *)race_recv_main, rc, &rr }, *sa[3] = { (void *)race_send_main, rc, &rs };
    pthread_t t1, t2;
    pthread_create(&t1, NULL, run_loop_thread, ra);
    pthread_create(&t2, NULL, run_loop_thread, sa);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    assert_int_equal(rr, 0);
    assert_int_equal(rs, 0);
    assert_int_equal(atomic_load(&rc->errors), 0);
    assert_int_equal(atomic_load(&rc->received), RACE_VALUES);
    for (int v = 1; v <= RACE_VALUES; v++) assert_int_equal(rc->seen[v], 1);
    co_chan_unref(rc->ch);
    free(rc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_unbuffered),
        cmocka_unit_test(test_fifo),
        cmocka_unit_test(test_close_wakes),
        cmocka_unit_test(test_cancel_waiter),
        cmocka_unit_test(test_keeps_loop_alive),
        cmocka_unit_test(test_many_loops),
        cmocka_unit_test(test_transfer_beats_cancel),
        cmocka_unit_test(test_interrupt_races),
    };
    return cmocka_run_group_tests_name("channel", tests, NULL, NULL);
}
