/* SPDX-License-Identifier: MIT */
/* test_intern.c -- the string arena (runtime/trace.c): co__tr_intern and
 * co__tr_intern_loc write complete entries (text, NUL, line, function,
 * ready flag last) at 8-byte-aligned offsets the recorder can walk; a call
 * site's co_loc.id caches its location for one session only (a re-attach
 * must re-intern, since the new region's arena is empty); events carry the
 * location id; a full arena is counted, not overrun; and concurrent
 * interning from several threads never interleaves two entries. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>
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

static tr_str *entry(tr_shm *s, uint64_t off) { return (tr_str *)(tr_arena(s) + off); }
static size_t entry_size(size_t textlen) { return (sizeof(tr_str) + textlen + 1 + 7) & ~(size_t)7; }

static void assert_plain(tr_shm *s, uint64_t off, const char *text, size_t len)
{
    assert_int_not_equal(off, 0);
    assert_int_equal(off % 8, 0);
    tr_str *e = entry(s, off);
    assert_int_equal(atomic_load(&e->ready), TR_STR_PLAIN);
    assert_int_equal(e->len, len);
    assert_memory_equal(e->text, text, len);
    assert_int_equal(e->text[len], 0);
}

/* ------------------------------------------------------------------------ */

static void test_intern_plain(void **state)
{
    (void)state;
    /* Offset 0 means "no string", so the first entry is at 8. */
    assert_int_equal(atomic_load(&shm->arena_top), 8);
    uint64_t a = co__tr_intern("hello", 5);
    assert_int_equal(a, 8);
    assert_plain(shm, a, "hello", 5);
    assert_int_equal(atomic_load(&shm->arena_top), 8 + entry_size(5));

    /* len, not strlen, decides: a prefix of a longer buffer. */
    uint64_t b = co__tr_intern("abcdef", 3);
    assert_int_equal(b, 8 + entry_size(5));
    assert_plain(shm, b, "abc", 3);

    /* Empty strings and text up to an alignment boundary. */
    uint64_t c = co__tr_intern("", 0);
    assert_plain(shm, c, "", 0);
    char big[300];
    memset(big, 'x', sizeof big);
    for (size_t len = 1; len < 20; len++) {
        uint64_t off = co__tr_intern(big, len);
        assert_plain(shm, off, big, len);
    }
    /* Interning is not deduplicating: every call gets its own entry (the
     * callers cache ids where it matters). */
    assert_int_not_equal(co__tr_intern("hello", 5), a);

    assert_int_equal(co__tr_intern(NULL, 3), 0);
    assert_int_equal(atomic_load(&shm->dropped), 0);
}

static void test_intern_loc(void **state)
{
    (void)state;
    co_loc L = { "dir/file.c", "some_func", 42, 0, 0 };
    uint32_t id = co__tr_intern_loc(&L);
    assert_int_not_equal(id, 0);
    tr_str *e = entry(shm, (uint64_t)id << 3);
    assert_int_equal(atomic_load(&e->ready), TR_STR_LOC);
    assert_int_equal(e->line, 42);
    assert_int_equal(e->func_off, strlen("dir/file.c") + 1);
    assert_int_equal(e->len, strlen("dir/file.c") + 1 + strlen("some_func"));
    assert_string_equal(e->text, "dir/file.c");
    assert_string_equal(e->text + e->func_off, "some_func");
    assert_int_equal(L.id, id);
    assert_int_equal(L.epoch, co__tr_epoch);

    /* A site without file or function still gets an entry. */
    co_loc anon = { NULL, NULL, 7, 0, 0 };
    uint32_t id2 = co__tr_intern_loc(&anon);
    e = entry(shm, (uint64_t)id2 << 3);
    assert_int_equal(atomic_load(&e->ready), TR_STR_LOC);
    assert_string_equal(e->text, "?");
    assert_string_equal(e->text + e->func_off, "?");
    assert_int_equal(e->line, 7);
}

/* The hot path: the first event at a site interns it, later ones reuse the
 * cached id without touching the arena; the record carries the id. */
static void test_loc_cached_in_session(void **state)
{
    (void)state;
    co_loc *L = CO_LOC;
    int line = __LINE__ - 1;
    assert_int_equal(L->epoch, 0);
    co__tr_emit(TR_MARK, L, 1, 0, 0);
    uint32_t id = L->id;
    assert_int_not_equal(id, 0);
    assert_int_equal(L->epoch, co__tr_epoch);
    tr_str *e = entry(shm, (uint64_t)id << 3);
    assert_int_equal(e->line, line);
    assert_string_equal(e->text, __FILE__);
    assert_string_equal(e->text + e->func_off, __func__);

    uint64_t top = atomic_load(&shm->arena_top);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(co__tr_loc(L), id);
        co__tr_emit(TR_MARK, L, 1, 0, 0);
    }
    assert_int_equal(atomic_load(&shm->arena_top), top);

    tr_ring *r = co__tr_ring;
    assert_non_null(r);
    assert_int_equal(atomic_load(&r->head), 12); /* TR_THREAD + 11 marks */
    for (int k = 1; k < 12; k++) {
        assert_int_equal(r->recs[k].kind_loc & 0xff, TR_MARK);
        assert_int_equal(r->recs[k].kind_loc >> 8, id);
    }
    assert_int_equal(r->recs[0].kind_loc >> 8, 0); /* TR_THREAD has no site */
    assert_int_equal(co__tr_loc(NULL), 0);
}

/* A new session (another region, or the same one re-attached) starts a new
 * epoch: the old id means nothing there, so the site is interned again. */
static void test_reattach_invalidates(void **state)
{
    (void)state;
    co_loc L = { "a.c", "f", 1, 0, 0 };
    uint32_t id1 = co__tr_loc(&L);
    uint32_t epoch1 = co__tr_epoch;
    assert_int_equal(L.id, id1);
    assert_int_equal(L.epoch, epoch1);

    /* Re-attach to the same region. */
    assert_int_equal(co__tr_attach(shm), 0);
    assert_int_not_equal(co__tr_epoch, epoch1);
    uint64_t top = atomic_load(&shm->arena_top);
    uint32_t id2 = co__tr_loc(&L);
    assert_int_not_equal(id2, id1);
    assert_true(atomic_load(&shm->arena_top) > top);
    assert_int_equal(L.id, id2);
    assert_int_equal(L.epoch, co__tr_epoch);
    assert_int_equal(co__tr_loc(&L), id2);

    /* A fresh region: its arena starts over, and the site is its first entry. */
    tr_shm *other = co__tr_create_shm(NULL);
    assert_non_null(other);
    assert_int_equal(co__tr_attach(other), 0);
    uint32_t id3 = co__tr_loc(&L);
    assert_int_equal((uint64_t)id3 << 3, 8);
    tr_str *e = entry(other, 8);
    assert_int_equal(atomic_load(&e->ready), TR_STR_LOC);
    assert_string_equal(e->text, "a.c");
    co__tr_detach();
    munmap(other, tr_shm_size());
    assert_int_equal(co__tr_attach(shm), 0);
}

/* Epoch 0 means "never interned", and epochs do not wrap back onto an old
 * session's ids within any realistic run (32 bits): 600 sessions later a
 * site interned in the first one is interned again. */
static void test_epoch_never_zero(void **state)
{
    (void)state;
    co_loc L = { "e.c", "f", 1, 0, 0 };
    co__tr_loc(&L);
    uint32_t first = L.epoch;
    for (int i = 0; i < 600; i++) {
        assert_int_equal(co__tr_attach(shm), 0);
        assert_int_not_equal(co__tr_epoch, 0);
        assert_int_not_equal(co__tr_epoch, first);
    }
    co__tr_loc(&L);
    assert_int_equal(L.epoch, co__tr_epoch);
}

/* A text made again and again (a mark, a region, a repeated log line) is
 * stored once: 2M calls used to fill the 32 MiB arena and lose every text
 * after the first 1.4M. */
static void test_intern_cached_once(void **state)
{
    (void)state;
    uint64_t first = co__tr_intern_cached("tick", 4);
    assert_int_not_equal(first, 0);
    uint64_t top = atomic_load(&shm->arena_top);
    for (int i = 0; i < 2000000; i++) {
        uint64_t id = co__tr_intern_cached(i & 1 ? "tick" : "tock", 4);
        if (i == 0) first = id;
        else if (!(i & 1)) assert_true(id == first);
    }
    assert_true(atomic_load(&shm->arena_top) <= top + 64); /* "tock" once more, nothing else */
    assert_int_equal(atomic_load(&shm->text_lost), 0);
    /* Same hash slot, other text: a new entry, never the wrong text. */
    uint64_t other = co__tr_intern_cached("tack", 4);
    assert_int_not_equal(other, first);
    assert_memory_equal(((tr_str *)(tr_arena(shm) + other))->text, "tack", 4);
    /* A new session (an empty arena): nothing reused from the old one. */
    co__tr_detach();
    munmap(shm, tr_shm_size());
    shm = co__tr_create_shm(NULL);
    assert_int_equal(co__tr_attach(shm), 0);
    uint64_t again = co__tr_intern_cached("tick", 4);
    assert_int_equal(again, 8);
    assert_memory_equal(((tr_str *)(tr_arena(shm) + again))->text, "tick", 4);
}

/* A full arena: the string is dropped and counted; a location is not
 * cached, so it is retried (and may succeed) in a later session. */
static void test_arena_full(void **state)
{
    (void)state;
    atomic_store(&shm->arena_top, shm->arena_size - 16);
    assert_int_equal(co__tr_intern("this does not fit in sixteen bytes", 34), 0);
    /* Counted as a lost text, not a lost event: the event still goes in
     * (meta.lost counts events only, so it never exceeds those emitted). */
    assert_int_equal(atomic_load(&shm->text_lost), 1);
    assert_int_equal(atomic_load(&shm->dropped), 0);
    co_loc L = { "full.c", "f", 3, 0, 0 };
    assert_int_equal(co__tr_loc(&L), 0);
    assert_int_equal(L.id, 0);
    assert_int_equal(atomic_load(&shm->text_lost), 2);
    assert_int_equal(atomic_load(&shm->dropped), 0);
    /* An event at that site is still recorded, without its site. */
    co__tr_emit(TR_MARK, &L, 1, 0, 0);
    tr_ring *r = co__tr_ring;
    assert_int_equal(r->recs[1].kind_loc, TR_MARK);
    /* Not attached: nothing to intern into. */
    co__tr_detach();
    assert_int_equal(co__tr_intern("x", 1), 0);
    assert_int_equal(co__tr_intern_loc(&L), 0);
    assert_int_equal(co__tr_attach(shm), 0);
}

/* ---- concurrent interning ---------------------------------------------- */

enum { NTHREADS = 8, PER_THREAD = 2000 };

static void *interner(void *arg)
{
    int t = (int)(intptr_t)arg;
    char buf[64];
    for (int i = 0; i < PER_THREAD; i++) {
        int n = snprintf(buf, sizeof buf, "thread %d string %d%.*s", t, i, i % 17, "................."); /* varied lengths */
        uint64_t off = co__tr_intern(buf, (size_t)n);
        if (!off || memcmp(entry(shm, off)->text, buf, (size_t)n) != 0) return (void *)1;
    }
    return NULL;
}

/* Walk the arena the way the recorder does: every entry is complete and
 * the walk lands exactly on arena_top. */
static void test_concurrent_interning(void **state)
{
    (void)state;
    pthread_t th[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) assert_int_equal(pthread_create(&th[i], NULL, interner, (void *)(intptr_t)i), 0);
    for (int i = 0; i < NTHREADS; i++) {
        void *ret;
        pthread_join(th[i], &ret);
        assert_null(ret);
    }
    static unsigned char seen[NTHREADS][PER_THREAD];
    memset(seen, 0, sizeof seen);
    uint64_t top = atomic_load(&shm->arena_top), off = 8;
    size_t count = 0;
    while (off < top) {
        tr_str *e = entry(shm, off);
        assert_int_equal(atomic_load(&e->ready), TR_STR_PLAIN);
        assert_int_equal(strlen(e->text), e->len);
        int t, i;
        assert_int_equal(sscanf(e->text, "thread %d string %d", &t, &i), 2);
        assert_true(t >= 0 && t < NTHREADS && i >= 0 && i < PER_THREAD);
        assert_int_equal(seen[t][i]++, 0);
        off += entry_size(e->len);
        count++;
    }
    assert_true(off == top);
    assert_int_equal(count, NTHREADS * PER_THREAD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_intern_plain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_intern_loc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loc_cached_in_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reattach_invalidates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_epoch_never_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(test_intern_cached_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_arena_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_interning, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
