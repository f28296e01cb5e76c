/* SPDX-License-Identifier: MIT */
/* test_encode.c -- chunk blobs (tracer/encode.c): what tr_chunk_add and
 * tr_chunk_seal write, tr_chunk_decode gives back exactly, whatever the
 * values (deltas that go backwards, 64-bit extremes, kinds and locations at
 * the edge of their fields), and a damaged blob is refused with -EINVAL
 * rather than read past its end.  The chunks table is the only durable copy
 * of a trace, so this is the format everything else is rebuilt from; a
 * damaged chunk must be refused whole, before any of it is applied. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "tracer.h"

/* What the decoder hands back, for comparison with what went in. */
typedef struct {
    tr_rec *recs;
    size_t n, cap;
    uint32_t ring;
    int ring_mismatch;
} sink;

static void collect(void *ctx, uint32_t ring, const tr_rec *e)
{
    sink *s = ctx;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->recs = realloc(s->recs, s->cap * sizeof *s->recs);
        assert_non_null(s->recs);
    }
    s->recs[s->n++] = *e;
    if (ring != s->ring) s->ring_mismatch = 1;
}

/* xorshift64*: reproducible "random" records (fixed seed per test). */
static uint64_t rng_state;
static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
    rng_state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* A value biased towards the cases encoders get wrong: 0, small, the
 * extremes, and values one off a varint byte boundary. */
static uint64_t edgy(void)
{
    switch (rnd() % 8) {
    case 0: return 0;
    case 1: return rnd() % 200;
    case 2: return UINT64_MAX - rnd() % 3;
    case 3: return (uint64_t)INT64_MIN + rnd() % 3;
    case 4: return (uint64_t)INT64_MAX - rnd() % 3;
    case 5: return (1ull << (7 * (1 + rnd() % 9))) - 1 + rnd() % 3;
    case 6: return (uint64_t)-(int64_t)(rnd() % 1000);
    default: return rnd();
    }
}

static tr_rec random_rec(void)
{
    tr_rec e;
    e.ts = edgy();
    uint32_t kind = (uint32_t)(rnd() % 256);
    if (kind == TR_SWITCH) kind = TR_AWAIT; /* a ring's, written as two events: test_switch */
    uint32_t loc = rnd() % 4 == 0 ? 0xFFFFFFu : (uint32_t)(rnd() & 0xFFFFFF);
    e.kind_loc = kind | loc << 8;
    e.task = rnd() % 4 == 0 ? UINT32_MAX : (uint32_t)edgy();
    e.res = edgy();
    e.arg = edgy();
    return e;
}

static void assert_rec_equal(const tr_rec *a, const tr_rec *b, size_t i)
{
    if (a->ts != b->ts || a->kind_loc != b->kind_loc || a->task != b->task || a->res != b->res || a->arg != b->arg)
        fail_msg("record %zu differs: in ts=%llu kl=%u task=%u res=%llu arg=%llu, "
                 "out ts=%llu kl=%u task=%u res=%llu arg=%llu", i,
                 (unsigned long long)a->ts, a->kind_loc, a->task, (unsigned long long)a->res,
                 (unsigned long long)a->arg, (unsigned long long)b->ts, b->kind_loc, b->task,
                 (unsigned long long)b->res, (unsigned long long)b->arg);
}

/* Encode recs into a fresh chunk of `ring`, decode, compare. */
static void round_trip(const tr_rec *recs, size_t n, uint32_t ring)
{
    tr_chunkbuf c = { 0 };
    tr_chunk_reset(&c, ring);
    for (size_t i = 0; i < n; i++) assert_int_equal(tr_chunk_add(&c, &recs[i]), 0);
    assert_int_equal(c.n, n);
    if (n) {
        assert_true(c.first_ts == recs[0].ts);
        assert_true(c.last_ts == recs[n - 1].ts);
    }
    size_t len;
    const uint8_t *blob = tr_chunk_seal(&c, &len);
    sink s = { .ring = ring };
    uint32_t got_ring = 12345;
    assert_int_equal(tr_chunk_decode(blob, len, &got_ring, collect, &s), (int)n);
    assert_int_equal(got_ring, ring);
    assert_false(s.ring_mismatch);
    assert_int_equal(s.n, n);
    for (size_t i = 0; i < n; i++) assert_rec_equal(&recs[i], &s.recs[i], i);
    free(s.recs);
    tr_chunk_free(&c);
}

/* ------------------------------------------------------------------------ */

static void test_typical_events(void **state)
{
    (void)state;
    /* What a ping-pong looks like: small forward deltas, two tasks. */
    tr_rec recs[64];
    for (int i = 0; i < 64; i++)
        recs[i] = (tr_rec){ .ts = 1000000 + 37u * (unsigned)i, .kind_loc = (uint32_t)(TR_AWAIT + i % 2) | (5u + (unsigned)i % 3) << 8,
                            .task = 1 + (uint32_t)i % 2, .res = (uint64_t)i % 2 ? 0 : 42, .arg = (uint64_t)(int64_t)-(i % 2) };
    round_trip(recs, 64, 3);
}

/* A ring's TR_SWITCH goes into a chunk as the TR_AWAIT and TR_RESUME it
 * holds: the resume CO__TR_NS_TICKS later, of the task switched to, with
 * its (negative) result; nothing else in the chunk moves. */
static void test_switch(void **state)
{
    (void)state;
    tr_rec in[3] = {
        { .ts = 5000, .kind_loc = TR_Q_PUT | 7u << 8, .task = 3, .res = 9, .arg = 1 },
        { .ts = 5100, .kind_loc = TR_SWITCH | 8u << 8, .task = 3, .res = 9 | (uint64_t)4 << 32,
          .arg = CO_WAIT_QUEUE_GET | (uint64_t)(uint32_t)-ECANCELED << 32 },
        { .ts = 5200, .kind_loc = TR_Q_GET, .task = 4, .res = 9, .arg = 0 },
    };
    tr_rec want[4] = {
        in[0],
        { .ts = 5100, .kind_loc = TR_AWAIT | 8u << 8, .task = 3, .res = 9, .arg = CO_WAIT_QUEUE_GET },
        { .ts = 5100 + CO__TR_NS_TICKS, .kind_loc = TR_RESUME, .task = 4, .res = 0, .arg = (uint64_t)(int64_t)-ECANCELED },
        in[2],
    };
    tr_chunkbuf c = { 0 };
    tr_chunk_reset(&c, 1);
    for (size_t i = 0; i < 3; i++) assert_int_equal(tr_chunk_add(&c, &in[i]), 0);
    assert_int_equal(c.n, 4);
    size_t len;
    const uint8_t *blob = tr_chunk_seal(&c, &len);
    sink s = { .ring = 1 };
    assert_int_equal(tr_chunk_decode(blob, len, NULL, collect, &s), 4);
    for (size_t i = 0; i < 4; i++) assert_rec_equal(&want[i], &s.recs[i], i);
    free(s.recs);
    tr_chunk_free(&c);
}

static void test_random_records(void **state)
{
    (void)state;
    rng_state = 0x9E3779B97F4A7C15ull;
    for (int round = 0; round < 50; round++) {
        size_t n = 1 + rnd() % 3000;
        tr_rec *recs = malloc(n * sizeof *recs);
        assert_non_null(recs);
        for (size_t i = 0; i < n; i++) recs[i] = random_rec();
        round_trip(recs, n, (uint32_t)(rnd() % TR_NRINGS));
        free(recs);
    }
}

/* Every extreme at once, in the order that makes each delta the largest
 * possible in both directions. */
static void test_extremes(void **state)
{
    (void)state;
    tr_rec recs[] = {
        { .ts = UINT64_MAX, .kind_loc = 0xFFFFFFFFu, .task = UINT32_MAX, .res = UINT64_MAX, .arg = (uint64_t)INT64_MIN },
        { .ts = 0, .kind_loc = 0, .task = 0, .res = 0, .arg = (uint64_t)INT64_MAX },
        { .ts = UINT64_MAX, .kind_loc = 0xFF, .task = UINT32_MAX, .res = 1, .arg = UINT64_MAX },
        { .ts = (uint64_t)INT64_MIN, .kind_loc = 0xFFFFFF00u, .task = 1, .res = (uint64_t)INT64_MIN, .arg = 0 },
        { .ts = (uint64_t)INT64_MAX, .kind_loc = TR_END, .task = UINT32_MAX, .res = 0, .arg = (uint64_t)(int64_t)-ECANCELED },
        { .ts = (uint64_t)INT64_MAX, .kind_loc = TR_END, .task = UINT32_MAX, .res = 0, .arg = 0 }, /* zero deltas */
    };
    round_trip(recs, sizeof recs / sizeof recs[0], TR_NRINGS - 1);
}

/* A chunk the size the recorder makes, and a chunk reused after a reset:
 * the delta state must start over, or the first event of the second chunk
 * decodes against the last one of the first. */
static void test_large_chunk_and_reuse(void **state)
{
    (void)state;
    rng_state = 12345;
    tr_chunkbuf c = { 0 };
    for (int k = 0; k < 2; k++) {
        tr_chunk_reset(&c, (uint32_t)k);
        size_t n = 20000;
        tr_rec *recs = malloc(n * sizeof *recs);
        assert_non_null(recs);
        for (size_t i = 0; i < n; i++) {
            recs[i] = random_rec();
            assert_int_equal(tr_chunk_add(&c, &recs[i]), 0);
        }
        size_t len;
        const uint8_t *blob = tr_chunk_seal(&c, &len);
        sink s = { .ring = (uint32_t)k };
        assert_int_equal(tr_chunk_decode(blob, len, NULL, collect, &s), (int)n);
        for (size_t i = 0; i < n; i++) assert_rec_equal(&recs[i], &s.recs[i], i);
        free(s.recs);
        free(recs);
    }
    tr_chunk_free(&c);
    assert_null(c.buf);
}

/* tr_chunk_growth is what the flight recorder admits before an add: the
 * buffer never grows by more than it said, and it says 0 only when the
 * add allocates nothing.  Switch records (two events, so possibly two
 * doublings' worth of room) at every fill level of the first buffers. */
static void test_growth_bound(void **state)
{
    (void)state;
    rng_state = 777;
    tr_chunkbuf c = { 0 };
    tr_chunk_reset(&c, 0);
    int grew_told = 0;
    for (size_t i = 0; i < 60000; i++) {
        tr_rec e = random_rec();
        if (rnd() % 2) {
            e.kind_loc = TR_SWITCH | (e.kind_loc & ~0xffu);
            e.res |= (uint64_t)(uint32_t)rnd() << 32;
        }
        size_t before = c.cap, said = tr_chunk_growth(&c, &e);
        assert_int_equal(tr_chunk_add(&c, &e), 0);
        assert_true(c.cap - before <= said);
        if (said == 0) assert_int_equal(c.cap, before);
        else grew_told++;
    }
    assert_true(grew_told > 0); /* the buffer did grow, and said so first */
    tr_chunk_free(&c);
}

/* Sealing twice gives the same blob (the recorder may retry a write). */
static void test_seal_idempotent(void **state)
{
    (void)state;
    tr_chunkbuf c = { 0 };
    tr_chunk_reset(&c, 7);
    tr_rec e = { 5, TR_MARK | 9u << 8, 3, 77, 0 };
    for (int i = 0; i < 300; i++) assert_int_equal(tr_chunk_add(&c, &e), 0);
    size_t l1, l2;
    const uint8_t *b1 = tr_chunk_seal(&c, &l1);
    uint8_t *copy = malloc(l1);
    memcpy(copy, b1, l1);
    const uint8_t *b2 = tr_chunk_seal(&c, &l2);
    assert_int_equal(l1, l2);
    assert_memory_equal(copy, b2, l1);
    free(copy);
    tr_chunk_free(&c);
}

/* ------------------------------------------------------------------------ */
/* Damaged blobs                                                             */

static int count_only; /* events the decoder handed out */
static void counter(void *ctx, uint32_t ring, const tr_rec *e) { (void)ctx; (void)ring; (void)e; count_only++; }

/* A valid blob of n random events, in a malloc'd copy the test may damage. */
static uint8_t *make_blob(size_t n, size_t *len)
{
    tr_chunkbuf c = { 0 };
    tr_chunk_reset(&c, 2);
    for (size_t i = 0; i < n; i++) {
        tr_rec e = random_rec();
        assert_int_equal(tr_chunk_add(&c, &e), 0);
    }
    const uint8_t *b = tr_chunk_seal(&c, len);
    uint8_t *copy = malloc(*len);
    memcpy(copy, b, *len);
    tr_chunk_free(&c);
    return copy;
}

/* Every proper prefix of a blob is truncated: each must be refused.  The
 * bytes are copied to an exact-size buffer so a read past the end is a
 * real overrun (visible under `make check`). */
static void test_truncated(void **state)
{
    (void)state;
    rng_state = 777;
    size_t len;
    uint8_t *blob = make_blob(200, &len);
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *p = malloc(cut ? cut : 1);
        memcpy(p, blob, cut);
        count_only = 0;
        assert_int_equal(tr_chunk_decode(cut ? p : NULL, cut, NULL, counter, NULL), -EINVAL);
        /* Refused as a whole: the builder must not apply half a chunk. */
        assert_int_equal(count_only, 0);
        free(p);
    }
    /* And trailing garbage after the last event. */
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, blob, len);
    longer[len] = 0;
    assert_int_equal(tr_chunk_decode(longer, len + 1, NULL, counter, NULL), -EINVAL);
    free(longer);
    free(blob);
}

static void test_malformed_headers(void **state)
{
    (void)state;
    uint8_t wrong_version[] = { 2, 0, 0 };
    assert_int_equal(tr_chunk_decode(wrong_version, sizeof wrong_version, NULL, counter, NULL), -EINVAL);
    /* A varint longer than 64 bits. */
    uint8_t long_varint[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 };
    assert_int_equal(tr_chunk_decode(long_varint, sizeof long_varint, NULL, counter, NULL), -EINVAL);
    /* A count far larger than the bytes could hold. */
    uint8_t huge_count[] = { 1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 1, 0, 0, 0, 0 };
    count_only = 0;
    assert_int_equal(tr_chunk_decode(huge_count, sizeof huge_count, NULL, counter, NULL), -EINVAL);
    /* An event cut inside its kind byte. */
    uint8_t no_kind[] = { 1, 0, 1, 4 };
    assert_int_equal(tr_chunk_decode(no_kind, sizeof no_kind, NULL, counter, NULL), -EINVAL);
    /* Empty chunk: valid, zero events. */
    uint8_t empty[] = { 1, 5, 0 };
    uint32_t ring = 0;
    assert_int_equal(tr_chunk_decode(empty, sizeof empty, &ring, counter, NULL), 0);
    assert_int_equal(ring, 5);
}

/* Random bytes and random corruptions of valid blobs: any result is
 * acceptable except a crash or a count that is not -EINVAL or n. */
static void test_fuzz(void **state)
{
    (void)state;
    rng_state = 4242;
    for (int round = 0; round < 3000; round++) {
        size_t len;
        uint8_t *blob;
        if (round % 2) {
            len = rnd() % 64;
            blob = malloc(len ? len : 1);
            for (size_t i = 0; i < len; i++) blob[i] = (uint8_t)rnd();
            if (len) blob[0] = 1; /* get past the version check often */
        } else {
            blob = make_blob(1 + rnd() % 20, &len);
            for (int k = 0; k < 3; k++) blob[rnd() % len] ^= (uint8_t)(1u << (rnd() % 8));
        }
        count_only = 0;
        int r = tr_chunk_decode(len ? blob : NULL, len, NULL, counter, NULL);
        assert_true(r >= 0 || r == -EINVAL);
        assert_int_equal(count_only, r < 0 ? 0 : r);
        free(blob);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_typical_events),
        cmocka_unit_test(test_switch),
        cmocka_unit_test(test_random_records),
        cmocka_unit_test(test_extremes),
        cmocka_unit_test(test_large_chunk_and_reuse),
        cmocka_unit_test(test_growth_bound),
        cmocka_unit_test(test_seal_idempotent),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_malformed_headers),
        cmocka_unit_test(test_fuzz),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
