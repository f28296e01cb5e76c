/* SPDX-License-Identifier: MIT */
/* reader_clock.c -- a trace's raw timestamps to ns from the start of the
 * run: the one conversion the builder (rows) and every reader of chunks
 * (the TUI's events) use, so a time read from a chunk and the same time
 * read from the tables are equal. */
#include "reader.h"
#include <sqlite3.h>

void tr_clock_load(sqlite3 *db, tr_clock *c)
{
    c->kind = (int)tr_meta_int(db, TR_META_CLOCK_KIND, TR_CLOCK_MONO);
    c->origin = (uint64_t)tr_meta_int(db, TR_META_CLOCK_ORIGIN, 0);
    c->ns_per_tick = 1.0;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = '" TR_META_NS_PER_TICK "'", -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) c->ns_per_tick = sqlite3_column_double(st, 0);
        sqlite3_finalize(st);
    }
    /* What comes from the file is clamped to what a recorder writes (a tick
     * of 1 fs to 1 ms), so the arithmetic on it cannot overflow. */
    if (!(c->ns_per_tick >= 1e-6 && c->ns_per_tick <= 1e6)) c->ns_per_tick = 1.0;
}

int64_t tr_clock_ns(const tr_clock *c, uint64_t raw)
{
    if (c->kind == TR_CLOCK_TSC) {
        /* Converting a double out of int64_t's range is undefined: a damaged
         * or hostile chunk's timestamp is clamped (NaN reads as 0). */
        double ns = (double)(int64_t)(raw - c->origin) * c->ns_per_tick;
        return ns >= 9.2e18 ? INT64_MAX : ns <= -9.2e18 ? INT64_MIN : ns == ns ? (int64_t)ns : 0;
    }
    return (int64_t)(raw - c->origin);
}
