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
    sqlite3_stmt *steps_near[2], *hold_near[2], *wait_before;      /* reader_task.c, reader_uses.c */
};

#include <errno.h>

/* Prepare sql once for the connection's life: 0 or -EILSEQ. */
static inline int tr__prep(sqlite3 *db, sqlite3_stmt **st, const char *sql)
{
    return sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) == SQLITE_OK ? 0 : -EILSEQ;
}
/* reader_series.c: its statements, at tr_at_open. */
int tr__series_prep(tr_at *q, sqlite3 *db);

#endif
