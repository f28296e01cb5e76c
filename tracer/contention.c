/* contention.c -- per lock, semaphore and queue figures (the
 * resource_stats table behind the lock_contention view), accumulated while
 * the builder replays the events: waits, holds, percentiles, the most
 * waiters at once, the longest waiter and holder, queue depth. */
#include "builder.h"
#include <stdlib.h>

rstat *tr_rs_of(tr_builder *b, uint64_t res) { return res ? tr_map_put(&b->rstats, res) : NULL; }

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

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest wait with at least p% of the waits <= it. */
static int64_t percentile(const rstat *r, int p)
{
    if (!r->nwaits) return 0;
    size_t k = (r->nwaits * (size_t)p + 99) / 100;
    return r->waits[k ? k - 1 : 0];
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
        if (r->waits) qsort(r->waits, r->nwaits, sizeof *r->waits, cmp_i64);
        sqlite3_bind_int64(st, 1, (int64_t)b->rstats.keys[i]);
        /* Locks and semaphores: every hold; queues: items taken out. */
        sqlite3_bind_int64(st, 2, r->seen_depth ? r->acquisitions : r->holds);
        sqlite3_bind_int64(st, 3, r->contended);
        sqlite3_bind_int64(st, 4, r->wait_total);
        sqlite3_bind_int64(st, 5, percentile(r, 50));
        sqlite3_bind_int64(st, 6, percentile(r, 99));
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
    return b->err;
}

