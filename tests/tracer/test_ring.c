/* SPDX-License-Identifier: MIT */
/* test_ring.c -- the shared-memory rings (runtime/trace.h, trace.c) from
 * both ends, in one process: the test plays the recorder on a region made
 * with co__tr_create_shm(NULL).
 *
 * Checks: events come back in order with every field as emitted, after the
 * thread's TR_THREAD record; a full ring makes the producer wait for the
 * consumer (no event lost, order kept) in block mode, and count drops in
 * drop mode or once the consumer is gone; a producer whose ring gets half
 * full wakes a sleeping consumer, once; every producer thread gets a ring
 * of its own, and threads beyond the last ring are counted, not crashed. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <errno.h>
#include <linux/futex.h>
#include "trace.h"

static tr_shm *shm;

static int setup(void **state)
{
    (void)state;
    shm = co__tr_create_shm(NULL);
    assert_non_null(shm);
    assert_int_equal(co__tr_attach(shm), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    co__tr_detach();
    munmap(shm, tr_shm_size());
    shm = NULL;
    return 0;
}

static uint32_t gettid_(void) { return (uint32_t)syscall(SYS_gettid); }

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
    nanosleep(&ts, NULL);
}

static tr_ring *ring_of_tid(uint32_t tid)
{
    tr_ring *rings = tr_rings(shm);
    for (uint32_t i = 0; i < shm->nrings; i++)
        if (atomic_load(&rings[i].owner) == tid) return &rings[i];
    return NULL;
}

/* The recorder's side: copy out what is published and free the slots. */
static size_t drain(tr_ring *r, tr_rec *out, size_t cap)
{
    uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    size_t n = 0;
    for (uint64_t k = tail; k < head && n < cap; k++, n++) out[n] = r->recs[k & (TR_RING_RECS - 1)];
    atomic_store_explicit(&r->tail, tail + n, memory_order_release);
    return n;
}

static void emit_n(uint64_t first, uint64_t n)
{
    for (uint64_t i = first; i < first + n; i++)
        co__tr_emit(TR_MARK, NULL, (uint32_t)(i + 1), i, ~i);
}

/* ------------------------------------------------------------------------ */

static void test_region_header(void **state)
{
    (void)state;
    assert_true(shm->magic == TR_MAGIC);
    assert_int_equal(shm->version, TR_VERSION);
    assert_int_equal(shm->nrings, TR_NRINGS);
    assert_int_equal(shm->ring_recs, TR_RING_RECS);
    assert_int_equal(atomic_load(&shm->rings_used), 0);
    assert_int_equal(atomic_load(&shm->dropped), 0);
    assert_int_equal(atomic_load(&shm->consumer_alive), 1);
    tr_ring *rings = tr_rings(shm);
    for (uint32_t i = 0; i < TR_NRINGS; i++) {
        assert_int_equal(rings[i].index, i);
        assert_int_equal(atomic_load(&rings[i].owner), 0);
    }
    /* A region with the wrong magic or version is refused. */
    shm->version = TR_VERSION + 1;
    assert_int_equal(co__tr_attach(shm), -EINVAL);
    shm->version = TR_VERSION;
    assert_int_equal(co__tr_attach(shm), 0);
}

static void test_in_order_with_fields(void **state)
{
    (void)state;
    const int n = 5000;
    emit_n(0, (uint64_t)n);
    tr_ring *r = ring_of_tid(gettid_());
    assert_non_null(r);
    assert_ptr_equal(r, co__tr_ring);
    assert_int_equal(atomic_load(&shm->rings_used), 1);
    assert_int_equal(atomic_load(&r->head), n + 1);

    tr_rec *got = calloc((size_t)n + 1, sizeof *got);
    assert_int_equal(drain(r, got, (size_t)n + 1), n + 1);
    /* First the thread's announcement: ring index and OS tid. */
    assert_int_equal(got[0].kind_loc, TR_THREAD);
    assert_int_equal(got[0].task, 0);
    assert_int_equal(got[0].res, r->index);
    assert_int_equal(got[0].arg, gettid_());
    for (int i = 0; i < n; i++) {
        tr_rec *e = &got[i + 1];
        assert_int_equal(e->kind_loc, TR_MARK); /* no location */
        assert_int_equal(e->task, (uint32_t)i + 1);
        assert_true(e->res == (uint64_t)i);
        assert_true(e->arg == ~(uint64_t)i);
        assert_true(e->ts >= got[i].ts); /* one thread: the clock never goes back */
    }
    free(got);
    assert_int_equal(atomic_load(&shm->dropped), 0);
}

/* ---- full ring, block mode ------------------------------------------------ */

#define BLOCK_TOTAL ((uint64_t)TR_RING_RECS * 2 + 1000)
static _Atomic uint64_t progress; /* events the producer has emitted */
static _Atomic uint32_t producer_tid;

static void *producer(void *arg)
{
    (void)arg;
    atomic_store(&producer_tid, gettid_());
    for (uint64_t i = 0; i < BLOCK_TOTAL; i++) {
        co__tr_emit(TR_LOG, NULL, 1, i, i * 3);
        atomic_store(&progress, i + 1);
    }
    return NULL;
}

static void test_full_ring_blocks(void **state)
{
    (void)state;
    atomic_store(&progress, 0);
    atomic_store(&producer_tid, 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, producer, NULL), 0);
    tr_ring *r = NULL;
    for (int i = 0; i < 5000 && !r; i++) {
        uint32_t tid = atomic_load(&producer_tid);
        if (tid) r = ring_of_tid(tid);
        if (!r) sleep_ms(1);
    }
    assert_non_null(r);
    /* The producer fills the ring (one slot holds the TR_THREAD record)
     * and then must stop: no progress while nobody consumes. */
    for (int i = 0; i < 5000 && atomic_load(&progress) < TR_RING_RECS - 1; i++) sleep_ms(1);
    assert_true(atomic_load(&progress) == TR_RING_RECS - 1);
    sleep_ms(30);
    assert_true(atomic_load(&progress) == TR_RING_RECS - 1);
    assert_true(atomic_load(&r->head) == TR_RING_RECS);
    assert_true(atomic_load(&r->tail) == 0);
    assert_int_equal(atomic_load(&shm->dropped), 0);

    /* A slow consumer: small batches, pauses.  Every event arrives, once,
     * in order. */
    tr_rec *batch = malloc(4096 * sizeof *batch);
    uint64_t expect = 0, total = 0;
    int saw_thread = 0;
    for (unsigned round = 0; expect < BLOCK_TOTAL; round++) {
        size_t n = drain(r, batch, 1 + (round * 997) % 4096);
        for (size_t k = 0; k < n; k++) {
            tr_rec *e = &batch[k];
            if (e->kind_loc == TR_THREAD) {
                assert_true(total + k == 0);
                saw_thread = 1;
                continue;
            }
            assert_int_equal(e->kind_loc, TR_LOG);
            if (e->res != expect)
                fail_msg("event %llu arrived where %llu was due", (unsigned long long)e->res, (unsigned long long)expect);
            assert_true(e->arg == expect * 3);
            expect++;
        }
        total += n;
        if (n == 0 || round % 64 == 0) sleep_ms(1);
    }
    free(batch);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_true(saw_thread);
    assert_true(total == BLOCK_TOTAL + 1);
    assert_true(atomic_load(&r->head) == BLOCK_TOTAL + 1);
    assert_int_equal(atomic_load(&shm->dropped), 0);
}

/* ---- full ring, drop mode and a dead consumer ------------------------------ */

static void test_drop_mode_counts(void **state)
{
    (void)state;
    shm->full_policy = TR_FULL_DROP;
    emit_n(0, TR_RING_RECS + 100); /* +1 TR_THREAD: 101 do not fit */
    tr_ring *r = co__tr_ring;
    assert_non_null(r);
    assert_int_equal(atomic_load(&shm->dropped), 101);
    assert_true(atomic_load(&r->head) == TR_RING_RECS);
    /* What was kept is the oldest, intact: the ring never overwrites. */
    assert_int_equal(r->recs[0].kind_loc, TR_THREAD);
    assert_true(r->recs[1].res == 0);
    assert_true(r->recs[TR_RING_RECS - 1].res == TR_RING_RECS - 2);

    /* Room again once the consumer catches up: nothing more is dropped. */
    atomic_store(&r->tail, atomic_load(&r->head));
    co__tr_emit(TR_MARK, NULL, 9, 4242, 0);
    assert_int_equal(atomic_load(&shm->dropped), 101);
    assert_true(atomic_load(&r->head) == TR_RING_RECS + 1);
    assert_true(r->recs[TR_RING_RECS & (TR_RING_RECS - 1)].res == 4242);
}

/* Block mode, but the recorder is gone: waiting would hang the program
 * forever, so events are dropped and counted instead. */
static void test_dead_consumer_drops(void **state)
{
    (void)state;
    atomic_store(&shm->consumer_alive, 0);
    emit_n(0, TR_RING_RECS + 9);
    assert_int_equal(atomic_load(&shm->dropped), 10);
}

/* ---- one ring per thread ---------------------------------------------------- */

typedef struct {
    int idx;
    pthread_barrier_t *bar;
    uint32_t tid;
    tr_ring *ring;
} thr_arg;

static void *several(void *p)
{
    thr_arg *a = p;
    a->tid = gettid_();
    pthread_barrier_wait(a->bar); /* all alive at once */
    for (int i = 0; i < 100; i++) co__tr_emit(TR_LOG, NULL, (uint32_t)a->idx, (uint64_t)i, 0);
    a->ring = co__tr_ring;
    return NULL;
}

static void test_threads_get_distinct_rings(void **state)
{
    (void)state;
    enum { N = 8 };
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, N);
    pthread_t th[N];
    thr_arg a[N];
    for (int i = 0; i < N; i++) {
        a[i] = (thr_arg){ .idx = i + 100, .bar = &bar };
        assert_int_equal(pthread_create(&th[i], NULL, several, &a[i]), 0);
    }
    for (int i = 0; i < N; i++) pthread_join(th[i], NULL);
    pthread_barrier_destroy(&bar);
    assert_int_equal(atomic_load(&shm->rings_used), N);
    for (int i = 0; i < N; i++) {
        tr_ring *r = a[i].ring;
        assert_non_null(r);
        for (int j = 0; j < i; j++) assert_ptr_not_equal(r, a[j].ring);
        assert_int_equal(atomic_load(&r->owner), a[i].tid);
        assert_true(atomic_load(&r->head) == 101);
        assert_int_equal(r->recs[0].kind_loc, TR_THREAD);
        assert_true(r->recs[0].res == r->index);
        assert_true(r->recs[0].arg == a[i].tid);
        for (int k = 1; k <= 100; k++) {
            assert_int_equal(r->recs[k].task, (uint32_t)a[i].idx);
            assert_true(r->recs[k].res == (uint64_t)k - 1);
        }
    }
    assert_int_equal(atomic_load(&shm->dropped), 0);
}

/* More threads than rings: the extra one records nothing and the loss is
 * counted (once per event it tried to emit). */
static void *one_event(void *p)
{
    (void)p;
    co__tr_emit(TR_LOG, NULL, 1, 1, 1);
    co__tr_emit(TR_LOG, NULL, 1, 2, 2);
    return NULL;
}

static void test_more_threads_than_rings(void **state)
{
    (void)state;
    for (int i = 0; i < TR_NRINGS; i++) {
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, one_event, NULL), 0);
        pthread_join(th, NULL);
    }
    assert_int_equal(atomic_load(&shm->rings_used), TR_NRINGS);
    assert_int_equal(atomic_load(&shm->dropped), 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, one_event, NULL), 0);
    pthread_join(th, NULL);
    assert_int_equal(atomic_load(&shm->rings_used), TR_NRINGS);
    assert_int_equal(atomic_load(&shm->dropped), 2);
}

/* The consumer sleeps with consumer_sleeping set: nothing wakes it until
 * the ring is half full, then exactly one wake-up. */
static void test_half_full_wakes_consumer(void **state)
{
    (void)state;
    atomic_store(&shm->consumer_sleeping, 1);
    uint32_t seq = atomic_load(&shm->consumer_wake);
    emit_n(0, TR_RING_RECS / 2 - 1); /* + the TR_THREAD record: half full, not past */
    assert_int_equal(atomic_load(&shm->consumer_sleeping), 1);
    assert_int_equal(atomic_load(&shm->consumer_wake), seq);
    emit_n(0, 1);                    /* the first event that finds it half full */
    assert_int_equal(atomic_load(&shm->consumer_sleeping), 0);
    assert_int_equal(atomic_load(&shm->consumer_wake), seq + 1);
    emit_n(0, 100);                  /* the consumer is awake: no more wake-ups */
    assert_int_equal(atomic_load(&shm->consumer_wake), seq + 1);
    tr_rec *out = malloc(TR_RING_RECS * sizeof *out);
    assert_int_equal(drain(co__tr_ring, out, TR_RING_RECS), 1 + TR_RING_RECS / 2 + 100); /* TR_THREAD first */
    free(out);
}

static _Atomic int futex_result = 1;

static void *sleeping_consumer(void *arg)
{
    uint32_t seq = (uint32_t)(uintptr_t)arg;
    struct timespec ts = { 30, 0 };
    long r = syscall(SYS_futex, &shm->consumer_wake, FUTEX_WAIT, seq, &ts, NULL, 0);
    atomic_store(&futex_result, r == 0 || errno == EAGAIN ? 0 : errno); /* EAGAIN: woken before it slept */
    return NULL;
}

/* The same across the futex, as the recorder sleeps: woken, not timed out. */
static void test_half_full_wakes_futex_sleeper(void **state)
{
    (void)state;
    uint32_t seq = atomic_load(&shm->consumer_wake);
    atomic_store(&shm->consumer_sleeping, 1);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, sleeping_consumer, (void *)(uintptr_t)seq), 0);
    sleep_ms(20);
    emit_n(0, TR_RING_RECS / 2);
    pthread_join(th, NULL);
    assert_int_equal(atomic_load(&futex_result), 0);
}

/* Detached: the hot path is off (CO_TRACE checks co__tracing) and a
 * straggler that calls co__tr_emit anyway finds no region and returns. */
static void test_detach(void **state)
{
    (void)state;
    co__tr_emit(TR_MARK, NULL, 1, 1, 1);
    tr_ring *r = co__tr_ring;
    assert_non_null(r);
    co__tr_detach();
    assert_int_equal(co__tracing, 0);
    CO_TRACE(TR_MARK, NULL, 1, 2, 2);
    co__tr_emit(TR_MARK, NULL, 1, 3, 3);
    assert_true(atomic_load(&r->head) == 2);
    assert_int_equal(co__tr_attach(shm), 0); /* for teardown's detach */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_region_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_in_order_with_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_ring_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drop_mode_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dead_consumer_drops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads_get_distinct_rings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_more_threads_than_rings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_half_full_wakes_consumer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_half_full_wakes_futex_sleeper, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detach, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
