/* SPDX-License-Identifier: MIT */
/* reader_range.c -- where time went over a range [from, to): a task's
 * running and its waits by kind, from its step rows overlapping the range
 * (steps tile a task's life: the row at from, then each next one), and
 * each loop's idle time, from the `idle` spans (task 0 in spans' primary
 * key: the ones begun in the range, and the few begun before it that may
 * reach into it).  The front ends sum tasks; the format is worked out
 * here. */
#include "reader_int.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* A hostile file's rows may overlap or lie: sums saturate, lengths never overflow. */
static int64_t overlap(int64_t a, int64_t b, int64_t from, int64_t to)
{
    if (a < from) a = from;
    if (b > to) b = to;
    int64_t d;
    return b > a ? (__builtin_sub_overflow(b, a, &d) ? INT64_MAX : d) : 0;
}

static void add(int64_t *sum, int64_t v)
{
    if (__builtin_add_overflow(*sum, v, sum)) *sum = INT64_MAX;
}

int tr_task_range(tr_at *q, int64_t task, int64_t from, int64_t to, int64_t end_of_trace, size_t max_rows,
                  tr_range_sum *out)
{
    memset(out, 0, sizeof *out);
    tr_step s;
    int r = tr_step_at(q, task, from, &s);
    if (r == 0) r = tr_step_after(q, task, from, &s);
    while (r == 1 && s.start < to) {
        if (out->rows == max_rows) {
            out->truncated = 1;
            break;
        }
        out->rows++;
        int64_t end = s.open && s.wait < 0 ? end_of_trace : s.end;
        add(&out->run, overlap(s.start, end, from, to));
        if (s.wait >= 0) {
            int64_t back = s.open || !s.has_resumed ? end_of_trace : s.resumed;
            int64_t w = overlap(s.end, back, from, to);
            add(&out->wait, w);
            add(&out->by_kind[s.wait < CO_WAIT_KIND_COUNT ? s.wait : CO_WAIT_NONE], w);
        }
        r = tr_step_after(q, task, s.start, &s);
    }
    return r < 0 ? r : 0;
}

int tr_loop_idle(sqlite3 *db, int64_t from, int64_t to, int64_t idle[TR_NRINGS])
{
    memset(idle, 0, TR_NRINGS * sizeof *idle);
    const char *kind = tr_span_name(TR_SPAN_IDLE);
    char sql[2][300];
    /* Begun in the range; begun before it (the last few, newest first: one
     * a ring is all that can still be open at from). */
    snprintf(sql[0], sizeof sql[0], "SELECT ring, start, end FROM spans WHERE task = 0 AND start >= ?1 AND start < ?2"
             " AND kind = '%s'", kind);
    snprintf(sql[1], sizeof sql[1], "SELECT ring, start, end FROM spans WHERE task = 0 AND start < ?1 AND kind = '%s'"
             " ORDER BY start DESC LIMIT %d", kind, 4 * TR_NRINGS);
    for (int i = 0; i < 2; i++) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db, sql[i], -1, &st, NULL) != SQLITE_OK) return -EILSEQ;
        sqlite3_bind_int64(st, 1, from);
        sqlite3_bind_int64(st, 2, to);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            int64_t ring = sqlite3_column_int64(st, 0);
            if (ring < 0 || ring >= TR_NRINGS) continue;
            add(&idle[ring], overlap(sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2), from, to));
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE) return -EILSEQ;
    }
    return 0;
}
