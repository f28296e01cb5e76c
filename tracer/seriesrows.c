/* SPDX-License-Identifier: MIT */
/* seriesrows.c -- the summaries the builder writes so that what a view
 * shows for a whole run, or for a crowd, costs a few probes instead of a
 * read of everything behind it (schema.c, docs/schema.md):
 *
 *   queue_depth   a queue's depth per 2^20-ns bucket in which it changed
 *                 (the depth after the bucket's last put or get, and the
 *                 most in it): a run-wide depth line is n probes, where
 *                 from the chunks it was a decode per sample (a second on
 *                 a 15M-event trace);
 *   task_hist     the log2 histograms of a busy task's step and await
 *                 durations (tasks with TR_HIST_MIN steps or more; the
 *                 others are a short read of their step rows);
 *   wait_counts   how many tasks wait on a crowded resource (one that had
 *                 TR_CROWD waiters at once, as the replay counts them), at
 *                 each change: "how many" is one probe where counting them
 *                 read every one.
 *
 * Each is written as a side effect of rows the builder makes anyway, so a
 * trace without queues, busy tasks or crowds pays nothing for them. */
#include "builder.h"
#include "reader.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DEPTH_SHIFT 20

typedef struct tr_hist_acc {
    int64_t n[2][TR_HIST_BUCKETS];
} tr_hist_acc;

typedef struct crowd {
    int64_t now, most;
} crowd;

int tr_series_init(tr_builder *b)
{
    tr_map_init(&b->hists, sizeof(tr_hist_acc));
    tr_map_init(&b->crowds, sizeof(crowd));
    return tr_batch_init(&b->qd, b->db, b->writer, "OR REPLACE INTO queue_depth(resource, ts, depth, max)", NULL, 4,
                         1 << 12);
}

void tr_series_free(tr_builder *b)
{
    tr_batch_free(&b->qd);
    tr_map_free(&b->hists);
    tr_map_free(&b->crowds);
}

/* ---- crowds -------------------------------------------------------------- */

void tr_crowd_note(tr_builder *b, int kind, uint64_t res, int delta)
{
    if (!res || kind == CO_WAIT_YIELD || kind == CO_WAIT_SLEEP || kind == CO_WAIT_NONE || kind == CO_WAIT_TASK ||
        kind == CO_WAIT_TASKS || kind == CO_WAIT_GROUP)
        return;
    crowd *c = delta > 0 ? tr_map_put(&b->crowds, res) : tr_map_find(&b->crowds, res);
    if (!c) return;
    c->now += delta;
    if (c->now > c->most) c->most = c->now;
}

/* ---- queue depth ------------------------------------------------------- */

static void depth_row(tr_builder *b, uint64_t res, const rstat *r)
{
    int e = 0;
    tr_cell *c = tr_batch_next(&b->qd, &e);
    if (!c) {
        if (e < 0 && !b->err) b->err = e;
        return;
    }
    cell_int(&c[0], (int64_t)res);
    cell_int(&c[1], r->dq_bucket << DEPTH_SHIFT);
    cell_int(&c[2], r->dq_depth);
    cell_int(&c[3], r->dq_max);
}

void tr_depth_note(tr_builder *b, uint64_t res, rstat *r, int64_t ts, int64_t depth)
{
    if (!r || ts < 0) return;
    int64_t bucket = ts >> DEPTH_SHIFT;
    if (r->dq_have && bucket != r->dq_bucket) {
        depth_row(b, res, r);
        r->dq_have = 0;
    }
    if (!r->dq_have) {
        r->dq_have = 1;
        r->dq_bucket = bucket;
        r->dq_max = depth;
    }
    r->dq_depth = depth;
    if (depth > r->dq_max) r->dq_max = depth;
}

/* ---- histograms ---------------------------------------------------------- */

static void hist_add(tr_hist_acc *h, const tr_span_row *s)
{
    if (!s->open) h->n[0][tr_hist_bucket(s->end - s->start)]++;
    if (s->wait) h->n[1][tr_hist_bucket(s->resumed - s->end)]++;
}

/* A task becomes busy in the middle of a build: its rows of the windows
 * before went in uncounted, fewer than TR_HIST_MIN of them (it was not
 * busy at their flush), so they are read back once. */
static int hist_readback(tr_builder *b, uint64_t task, tr_hist_acc *h)
{
    int r = tr_writer_sync(b->writer);
    if (r < 0) return r;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(b->db, "SELECT end - start, open, resumed - end FROM spans WHERE task = ? AND kind = '"
                                  TR_NAME_STEP "'", -1, &st, NULL) != SQLITE_OK)
        return -EILSEQ;
    sqlite3_bind_int64(st, 1, (int64_t)task);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!sqlite3_column_int(st, 1)) h->n[0][tr_hist_bucket(sqlite3_column_int64(st, 0))]++;
        if (sqlite3_column_type(st, 2) != SQLITE_NULL) h->n[1][tr_hist_bucket(sqlite3_column_int64(st, 2))]++;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -EILSEQ;
}

int tr_hist_rows(tr_builder *b, uint64_t task, const tr_span_row *rows, const uint32_t *order, size_t n)
{
    if (!task) return 0;
    tr_hist_acc *h = tr_map_find(&b->hists, task);
    if (!h) {
        size_t steps = 0;
        for (size_t i = 0; i < n; i++) steps += rows[order[i]].kind == TR_SPAN_STEP;
        const tstate *t = tr_map_find(&b->tasks, task);
        if (steps < TR_HIST_MIN && (!t || t->steps < TR_HIST_MIN)) return 0;
        if (!(h = tr_map_put(&b->hists, task))) return -ENOMEM;
        memset(h, 0, sizeof *h);
        int r = hist_readback(b, task, h);
        if (r < 0) return r;
    }
    for (size_t i = 0; i < n; i++)
        if (rows[order[i]].kind == TR_SPAN_STEP) hist_add(h, &rows[order[i]]);
    return 0;
}

/* ---- the end of the build ------------------------------------------------ */

static int write_hists(tr_builder *b)
{
    if (!b->hists.len) return 0;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(b->db, "INSERT OR REPLACE INTO task_hist(task, which, bucket, n) VALUES (?, ?, ?, ?)", -1,
                           &st, NULL) != SQLITE_OK)
        return -EILSEQ;
    int rc = SQLITE_DONE;
    for (size_t i = 0; i < b->hists.cap && rc == SQLITE_DONE; i++) {
        if (!b->hists.keys[i]) continue;
        const tr_hist_acc *h = (const tr_hist_acc *)(b->hists.vals + i * b->hists.vsize);
        for (int w = 0; w < 2 && rc == SQLITE_DONE; w++)
            for (int k = 0; k < TR_HIST_BUCKETS && rc == SQLITE_DONE; k++) {
                if (!h->n[w][k]) continue;
                sqlite3_reset(st);
                sqlite3_bind_int64(st, 1, (int64_t)b->hists.keys[i]);
                sqlite3_bind_int(st, 2, w);
                sqlite3_bind_int(st, 3, k);
                sqlite3_bind_int64(st, 4, h->n[w][k]);
                rc = sqlite3_step(st);
            }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : tr_sqlite_err(rc);
}

/* A crowded resource's count at each time it changed: +1 at every
 * await's start, -1 at every resumed one's end, summed in time order --
 * read from its own rows of `waits` (contiguous: rkey leads the key). */
static int write_counts(tr_builder *b)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(b->db,
                           "INSERT OR REPLACE INTO wait_counts(resource, ts, n) SELECT ?1, ts, SUM(SUM(d)) OVER (ORDER BY ts)"
                           " FROM (SELECT start AS ts, 1 AS d FROM waits WHERE rkey = ?1"
                           "       UNION ALL SELECT end, -1 FROM waits WHERE rkey = ?1 AND NOT open) GROUP BY ts",
                           -1, &st, NULL) != SQLITE_OK)
        return -EILSEQ;
    int rc = SQLITE_DONE;
    for (int m = 0; m < 2; m++) {
        const tr_map *map = m ? &b->crowds : &b->rstats;
        for (size_t i = 0; i < map->cap && rc == SQLITE_DONE; i++) {
            if (!map->keys || !map->keys[i]) continue;
            const void *v = map->vals + i * map->vsize;
            if ((m ? ((const crowd *)v)->most : ((const rstat *)v)->max_waiters) < TR_CROWD) continue;
            sqlite3_reset(st);
            sqlite3_bind_int64(st, 1, (int64_t)map->keys[i]);
            rc = sqlite3_step(st);
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : tr_sqlite_err(rc);
}

int tr_series_finish(tr_builder *b)
{
    for (size_t i = 0; i < b->rstats.cap; i++) {
        if (!b->rstats.keys[i]) continue;
        rstat *r = (rstat *)(b->rstats.vals + i * b->rstats.vsize);
        if (r->dq_have) depth_row(b, b->rstats.keys[i], r);
        r->dq_have = 0;
    }
    int r = tr_batch_flush(&b->qd);
    int w = tr_writer_sync(b->writer);
    if (r == 0) r = w;
    if (r == 0) r = write_hists(b);
    if (r == 0) r = write_counts(b);
    if (r < 0 && !b->err) b->err = r;
    return b->err;
}
