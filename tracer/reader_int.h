/* SPDX-License-Identifier: MIT */
/* reader_int.h -- what the reader's files (reader_*.c) share: the
 * statements behind tr_at.  Not for front ends: they see tracer/reader.h. */
#ifndef TR_READER_INT_H
#define TR_READER_INT_H

#include "reader.h"

struct tr_at {
    sqlite3 *db;
    sqlite3_stmt *step_at, *step_after, *waits, *holds, *holders;  /* reader_at.c */
    sqlite3_stmt *count_at, *count_any;                            /* reader_at.c: tr_waiters_of */
    sqlite3_stmt *hist, *hist_steps, *depth;                       /* reader_series.c */
    sqlite3_stmt *steps_near[2];                                   /* reader_events.c, prepared on first use */
    sqlite3_stmt *lod_rows, *lod_before, *lod_level, *tl_spans;    /* reader_timeline.c, prepared on first use */
    int lod_checked, lod_present;                                  /* reader_timeline.c: the trace has `timeline` */
};

/* A decoded chunk in its cache slot (tr_chunk_events is its public face). */
typedef struct tr__slot {
    tr_chunk_events ev;
    size_t cap;
    tr_rec *recs;
    int64_t *ns;
    uint64_t used;           /* LRU stamp; ev.seq 0: empty */
} tr__slot;

struct tr_chunks {
    sqlite3 *db;
    tr_clock clk;            /* the builder's conversion */
    tr_chunk *dir;           /* seq order */
    size_t n, cap;
    int64_t max_seq;
    sqlite3_stmt *blob, *dir_since;
    tr__slot slot[TR_CHUNK_SLOTS];
    uint64_t stamp;
};

#include <errno.h>

/* Prepare sql once for the connection's life: 0 or -EILSEQ. */
static inline int tr__prep(sqlite3 *db, sqlite3_stmt **st, const char *sql)
{
    return sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) == SQLITE_OK ? 0 : -EILSEQ;
}
/* A one-off statement of a walk (reader_export.c, reader_tables.c): 0,
 * -EPROTO for a table or column this coscope does not know (another
 * version's layout), or SQLite's error as a negative errno. */
static inline int tr__prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
    return sqlite3_prepare_v2(db, sql, -1, st, NULL) == SQLITE_OK ? 0 : tr_sqlite_err(sqlite3_extended_errcode(db));
}
/* Its next row: 1, or 0 at the end or on failure, then *err set: -E2BIG
 * for a value over the connection's length limit (SQLITE_TOOBIG), else
 * -EILSEQ (damaged further in) unless SQLite names something more exact. */
static inline int tr__next(sqlite3_stmt *st, int *err)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) return 1;
    if (rc == SQLITE_TOOBIG) *err = -E2BIG;
    else if (rc != SQLITE_DONE) *err = tr_sqlite_err(rc) == -EPROTO ? -EILSEQ : tr_sqlite_err(rc);
    return 0;
}
/* reader_series.c: its statements, at tr_at_open. */
int tr__series_prep(tr_at *q, sqlite3 *db);

#endif
