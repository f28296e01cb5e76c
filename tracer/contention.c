/* SPDX-License-Identifier: MIT */
/* contention.c -- per lock, semaphore and queue figures (the
 * resource_stats table behind the lock_contention view), accumulated while
 * the builder replays the events: waits, holds, percentiles, the most
 * waiters at once, the longest waiter and holder, queue depth; and the same
 * per acquire site (contention_sites: where the waiting happens, as Go's
 * block profile names stacks). */
#include "builder.h"
#include <stdlib.h>

rstat *tr_rs_of(tr_builder *b, uint64_t res) { return res ? tr_map_put(&b->rstats, res) : NULL; }

/* A site is (resource, location): keyed by a hash of both, which also
 * keeps them (a collision of two full 64-bit mixes is not a concern). */
static rstat *site_of(tr_builder *b, uint64_t res, uint32_t loc)
{
    if (!res || !loc) return NULL;
    uint64_t key = mix(res * 0x9e3779b97f4a7c15ull ^ ((uint64_t)loc << 1)) | 1;
    rstat *r = tr_map_put(&b->sites, key);
    if (r) {
        r->longest_waiter = res; /* (the fields this table does not use hold the key's parts) */
        r->longest_holder = loc;
    }
    return r;
}

static void add_wait(rstat *r, int64_t dur)
{
    r->contended++;
    r->wait_total += dur;
    if (dur > r->wait_max) r->wait_max = dur;
    if (r->nwaits == r->capwaits) {
        size_t cap = r->capwaits ? r->capwaits * 2 : 16;
        int64_t *w = realloc(r->waits, cap * sizeof *w);
        if (!w) return;
        r->waits = w;
        r->capwaits = cap;
    }
    r->waits[r->nwaits++] = dur;
}

void tr_site_acquire(tr_builder *b, uint64_t res, uint32_t loc)
{
    rstat *r = site_of(b, res, loc);
    if (r) r->acquisitions++;
}

void tr_site_wait(tr_builder *b, uint64_t res, uint32_t loc, int64_t dur)
{
    rstat *r = site_of(b, res, loc);
    if (r) add_wait(r, dur);
}

void tr_rs_wait(tr_builder *b, uint64_t res, uint64_t task, int64_t dur)
{
    rstat *r = tr_rs_of(b, res);
    if (!r) return;
    r->contended++;
    r->wait_total += dur;
    if (dur >= r->wait_max) {
        r->wait_max = dur;
        r->longest_waiter = task;
    }
    if (r->nwaits == r->capwaits) {
        size_t cap = r->capwaits ? r->capwaits * 2 : 64;
        int64_t *w = realloc(r->waits, cap * sizeof *w);
        if (!w) return;
        r->waits = w;
        r->capwaits = cap;
    }
    r->waits[r->nwaits++] = dur;
}

void tr_rs_hold(tr_builder *b, uint64_t res, uint64_t task, int64_t dur)
{
    rstat *r = tr_rs_of(b, res);
    if (!r) return;
    r->holds++;
    r->hold_total += dur;
    if (dur >= r->hold_max) {
        r->hold_max = dur;
        r->longest_holder = task;
    }
}

static void swap64(int64_t *a, int64_t *b) { int64_t t = *a; *a = *b; *b = t; }

/* Put the k-th smallest of v[lo, hi) at v[k], smaller ones before it, larger
 * after (quickselect, median-of-three pivots): O(n) where sorting millions
 * of waits for two percentiles took a noticeable part of the build. */
static void select_kth(int64_t *v, size_t lo, size_t hi, size_t k)
{
    while (hi - lo > 2) {
        size_t mid = lo + (hi - lo) / 2, last = hi - 1;
        if (v[mid] < v[lo]) swap64(&v[mid], &v[lo]);
        if (v[last] < v[lo]) swap64(&v[last], &v[lo]);
        if (v[last] < v[mid]) swap64(&v[last], &v[mid]);
        int64_t pivot = v[mid];
        size_t i = lo, j = last;
        for (;;) {  /* Hoare partition: [lo, j] <= pivot <= [j + 1, hi) */
            while (v[i] < pivot) i++;
            while (v[j] > pivot) j--;
            if (i >= j) break;
            swap64(&v[i++], &v[j--]);
        }
        if (k <= j) hi = j + 1; else lo = j + 1;
    }
    if (hi - lo == 2 && v[lo] > v[lo + 1]) swap64(&v[lo], &v[lo + 1]);
}

/* Nearest rank: the smallest wait with at least p% of the waits <= it.
 * Percentiles are asked in increasing order: everything below the previous
 * one's rank is already on its left. */
static int64_t percentile(rstat *r, int p, size_t *from)
{
    if (!r->nwaits) return 0;
    size_t k = (r->nwaits * (size_t)p + 99) / 100;
    k = k ? k - 1 : 0;
    select_kth(r->waits, *from, r->nwaits, k);
    *from = k;
    return r->waits[k];
}

int tr_write_rstats(tr_builder *b)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(b->db, "INSERT OR REPLACE INTO resource_stats VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", -1,
                                &st, NULL);
    if (rc != SQLITE_OK) return tr_sqlite_err(rc);
    for (size_t i = 0; i < b->rstats.cap; i++) {
        if (!b->rstats.keys[i]) continue;
        rstat *r = (rstat *)(b->rstats.vals + i * b->rstats.vsize);
        size_t from = 0;
        sqlite3_bind_int64(st, 1, (int64_t)b->rstats.keys[i]);
        /* Locks and semaphores: every hold; queues: items taken out. */
        sqlite3_bind_int64(st, 2, r->seen_depth ? r->acquisitions : r->holds);
        sqlite3_bind_int64(st, 3, r->contended);
        sqlite3_bind_int64(st, 4, r->wait_total);
        sqlite3_bind_int64(st, 5, percentile(r, 50, &from));
        sqlite3_bind_int64(st, 6, percentile(r, 99, &from));
        sqlite3_bind_int64(st, 7, r->wait_max);
        sqlite3_bind_int64(st, 8, r->hold_total);
        sqlite3_bind_int64(st, 9, r->hold_max);
        sqlite3_bind_int64(st, 10, r->max_waiters);
        tr_bind_opt(st, 11, (int64_t)r->longest_waiter);
        tr_bind_opt(st, 12, (int64_t)r->longest_holder);
        if (r->seen_depth) sqlite3_bind_int64(st, 13, r->max_depth); else sqlite3_bind_null(st, 13);
        tr_bstep(b, st);
    }
    sqlite3_finalize(st);
    if (b->err) return b->err;
    rc = sqlite3_prepare_v2(b->db, "INSERT INTO contention_sites VALUES (?,?,?,?,?,?,?)", -1, &st, NULL);
    if (rc != SQLITE_OK) return tr_sqlite_err(rc);
    sqlite3_exec(b->db, "DELETE FROM contention_sites", NULL, NULL, NULL); /* a live build writes them again */
    for (size_t i = 0; i < b->sites.cap; i++) {
        if (!b->sites.keys[i]) continue;
        rstat *r = (rstat *)(b->sites.vals + i * b->sites.vsize);
        size_t from = 0;
        sqlite3_bind_int64(st, 1, (int64_t)r->longest_waiter);
        sqlite3_bind_int64(st, 2, (int64_t)r->longest_holder);
        sqlite3_bind_int64(st, 3, r->acquisitions);
        sqlite3_bind_int64(st, 4, r->contended);
        sqlite3_bind_int64(st, 5, r->wait_total);
        sqlite3_bind_int64(st, 6, percentile(r, 99, &from));
        sqlite3_bind_int64(st, 7, r->wait_max);
        tr_bstep(b, st);
    }
    sqlite3_finalize(st);
    return b->err;
}

