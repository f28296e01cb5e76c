/* SPDX-License-Identifier: MIT */
/* reader_series.c -- what a view shows for a whole run, read from the
 * summaries the builder wrote (seriesrows.c) instead of from everything
 * behind them: a queue's depth over a range, a task's histograms of step
 * and await durations.  A trace without them (still recording; a task
 * under TR_HIST_MIN steps) is answered from its rows, which are few then
 * or grow only as the recording does. */
#include "reader_int.h"
#include <errno.h>
#include <string.h>

#define DEPTH_SHIFT 20 /* seriesrows.c's bucket */

int tr__series_prep(tr_at *q, sqlite3 *db)
{
    q->db = db;
    int r = tr__prep(db, &q->hist, "SELECT which, bucket, n FROM task_hist WHERE task = ?");
    if (r == 0)
        r = tr__prep(db, &q->hist_steps, "SELECT end - start, open, resumed - end FROM spans WHERE task = ? AND kind = '"
                                         TR_NAME_STEP "'");
    if (r == 0)
        r = tr__prep(db, &q->depth, "SELECT ts, depth, max FROM queue_depth WHERE resource = ?1 AND ts <= ?2"
                                    " ORDER BY ts DESC LIMIT 1");
    return r;
}

int tr_task_hist(tr_at *q, int64_t task, int64_t out[2][TR_HIST_BUCKETS], int64_t n[2])
{
    memset(out, 0, 2 * sizeof out[0]);
    n[0] = n[1] = 0;
    sqlite3_stmt *st = q->hist;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, task);
    int rc, got = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t w = sqlite3_column_int64(st, 0), b = sqlite3_column_int64(st, 1), c = sqlite3_column_int64(st, 2);
        got = 1;
        if (w < 0 || w > 1 || b < 0 || b >= TR_HIST_BUCKETS || c < 0) continue; /* not a row the builder wrote */
        out[w][b] += c;
        n[w] += c;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return -EILSEQ;
    if (got) return 0;
    /* Not a busy task (or not built yet): its step rows, both at once. */
    st = q->hist_steps;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, task);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!sqlite3_column_int(st, 1)) {
            out[0][tr_hist_bucket(sqlite3_column_int64(st, 0))]++;
            n[0]++;
        }
        if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
            out[1][tr_hist_bucket(sqlite3_column_int64(st, 2))]++;
            n[1]++;
        }
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -EILSEQ;
}

int tr_queue_depths(tr_at *q, int64_t res, int64_t from, int64_t to, int64_t *out, int n)
{
    sqlite3_stmt *st = q->depth;
    for (int i = 0; i < n; i++) {
        /* In doubles, clamped: to - from and its scaled share overflow on
         * a hostile trace's times (clang's UBSan). */
        double x = n > 1 ? (double)from + ((double)to - (double)from) * i / (n - 1) : (double)from;
        int64_t t = x >= 9.2e18 ? INT64_MAX : x <= -9.2e18 ? INT64_MIN : (int64_t)x;
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, res);
        sqlite3_bind_int64(st, 2, t);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            int64_t ts = sqlite3_column_int64(st, 0);
            /* Inside a bucket where it changed: the most it held there (a
             * line drawn at this resolution shows the peaks); after one,
             * what that bucket left. */
            int64_t v = (t >> DEPTH_SHIFT) == (ts >> DEPTH_SHIFT) ? sqlite3_column_int64(st, 2) : sqlite3_column_int64(st, 1);
            out[i] = v < 0 ? 0 : v;
        } else if (rc == SQLITE_DONE) {
            out[i] = 0; /* no put or get yet */
        } else {
            sqlite3_reset(st);
            return -EILSEQ;
        }
    }
    sqlite3_reset(st);
    return 0;
}
