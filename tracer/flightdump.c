/* SPDX-License-Identifier: MIT */
/* flightdump.c -- a flight recorder's window written as an ordinary trace:
 * the same chunks, strings and meta a recorder writes, then the builder's
 * tables, so `coscope report`, `sql` and `tui` read it like any trace.
 *
 * What goes in: for each ring, its kept TR_THREAD and TR_MODULE records
 * first (stamped at the ring's first kept event), then its pieces from its
 * first kept snapshot on (a loop's ring; a pool thread's from its first
 * kept piece), later snapshots left out (the events between say the same);
 * all rings' pieces in order of their first event, as a recorder would
 * have written them.  Time 0 is the window's first event.  The file is
 * written aside (PATH.part) and renamed when complete, so a watcher never
 * opens half a dump.
 */
#define _GNU_SOURCE
#include "flight.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *tr_flight_trigger_name(unsigned t)
{
    static const char *const names[] = {
#define TR__FT_NAME(id, name) name,
        TR_FLIGHT_TRIGGERS(TR__FT_NAME)
#undef TR__FT_NAME
    };
    return t < TR_FT_COUNT ? names[t] : "unknown";
}

typedef struct item {
    uint64_t ts;
    uint32_t ring, ord;
    const tr_fpiece *p;   /* NULL: the ring's kept records (sticky) */
} item;

static int by_time(const void *a, const void *b)
{
    const item *x = a, *y = b;
    if (x->ts != y->ts) return x->ts < y->ts ? -1 : 1;
    if (x->ring != y->ring) return x->ring < y->ring ? -1 : 1;
    return x->ord < y->ord ? -1 : x->ord > y->ord;
}

/* The ring's first piece to write: its first snapshot if it is a loop's. */
static const tr_fpiece *first_kept(const tr_fring *fr)
{
    const tr_fpiece *p = fr->head;
    if (fr->is_loop)
        while (p && !p->snap) p = p->next;
    return p;
}

static int insert_chunk(sqlite3_stmt *st, uint32_t ring, uint32_t n, uint64_t first, uint64_t last, const void *blob,
                        size_t len)
{
    sqlite3_bind_int(st, 1, (int)ring);
    sqlite3_bind_int(st, 2, (int)n);
    sqlite3_bind_int64(st, 3, (int64_t)first);
    sqlite3_bind_int64(st, 4, (int64_t)last);
    sqlite3_bind_blob(st, 5, blob, (int)len, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : tr_sqlite_err(rc);
}

/* Every text the program interned (the arena is never rewritten). */
static int write_strings(sqlite3 *db, tr_shm *s, int final)
{
    sqlite3_stmt *str = NULL, *loc = NULL;
    int rc = sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO strings(id, text) VALUES (?,?)", -1, &str, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO locations(id, file, line, func) VALUES (?,?,?,?)", -1,
                                &loc, NULL);
    char *arena = tr_arena(s);
    uint64_t top = atomic_load_explicit(&s->arena_top, memory_order_acquire);
    if (top > s->arena_size) top = s->arena_size;
    for (uint64_t off = 8; rc == SQLITE_OK && off + sizeof(tr_str) <= top;) {
        tr_str *e = (tr_str *)(arena + off);
        uint32_t ready = atomic_load_explicit(&e->ready, memory_order_acquire);
        size_t size = (sizeof(tr_str) + e->len + 1 + 7) & ~(size_t)7;
        if (!ready && (!final || e->len == 0 || off + size > top)) break;
        if (off + size > top) break;
        if (ready == TR_STR_PLAIN) {
            sqlite3_bind_int64(str, 1, (int64_t)off);
            sqlite3_bind_text(str, 2, e->text, (int)e->len, SQLITE_STATIC);
            rc = sqlite3_step(str) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
            sqlite3_reset(str);
        } else if (ready == TR_STR_LOC && e->func_off <= e->len) {
            sqlite3_bind_int64(loc, 1, (int64_t)(off >> 3));
            sqlite3_bind_text(loc, 2, e->text, -1, SQLITE_STATIC);
            sqlite3_bind_int(loc, 3, (int)e->line);
            sqlite3_bind_text(loc, 4, e->text + e->func_off, -1, SQLITE_STATIC);
            rc = sqlite3_step(loc) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
            sqlite3_reset(loc);
        }
        off += size;
    }
    sqlite3_finalize(str);
    sqlite3_finalize(loc);
    return rc == SQLITE_OK ? 0 : -EIO;
}

static int write_meta(sqlite3 *db, tr_fwindow *w, const tr_fdump *d, uint64_t origin, int64_t events)
{
    tr_shm *s = w->shm;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta(key, value) VALUES ('" TR_META_NS_PER_TICK "', ?)", -1,
                           &st, NULL) == SQLITE_OK) {
        sqlite3_bind_double(st, 1, w->ns_per_tick);
        sqlite3_step(st);
        sqlite3_finalize(st);
    }
    int r = 0;
    r = r ? r : tr_meta_set(db, TR_META_PROGRAM, w->program ? w->program : "?");
    r = r ? r : tr_meta_set(db, TR_META_ARGV, w->argv ? w->argv : "");
    r = r ? r : tr_meta_set_int(db, TR_META_PID, w->pid);
    r = r ? r : tr_meta_set_int(db, TR_META_CLOCK_KIND, s->clock);
    r = r ? r : tr_meta_set(db, TR_META_CLOCK, s->clock == TR_CLOCK_TSC ? (s->clock_invariant ? "tsc" : "tsc (rate not declared invariant: durations approximate)") : "monotonic");
    r = r ? r : tr_meta_set_int(db, TR_META_CLOCK_ORIGIN, (int64_t)origin);
    r = r ? r : tr_meta_set_int(db, TR_META_SLOW_MS, s->slow_ms);
    /* The wall time of the window's first event. */
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    uint64_t now = co__tr_now();
    int64_t back = now > origin ? (int64_t)((double)(now - origin) * w->ns_per_tick) : 0;
    int64_t start_ns = (int64_t)wall.tv_sec * 1000000000 + wall.tv_nsec - back;
    r = r ? r : tr_meta_set_int(db, TR_META_START_UNIX_NS, start_ns);
    time_t start_s = (time_t)(start_ns / 1000000000);
    struct tm tm;
    char iso[64];
    gmtime_r(&start_s, &tm);
    strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%SZ", &tm);
    r = r ? r : tr_meta_set(db, TR_META_START_TIME, iso);
    if (d->gone && d->signal > 0) {
        r = r ? r : tr_meta_set(db, TR_META_ENDED, tr_ending_name(TR_ENDED_SIGNAL));
        r = r ? r : tr_meta_set_int(db, TR_META_SIGNAL, d->signal);
        r = r ? r : tr_meta_set(db, TR_META_SIGNAL_NAME, sigabbrev_np(d->signal) ? sigabbrev_np(d->signal) : "?");
    } else {
        r = r ? r : tr_meta_set(db, TR_META_ENDED, tr_ending_name(d->gone ? TR_ENDED_VANISHED : TR_ENDED_DUMPED));
    }
    r = r ? r : tr_meta_set_int(db, TR_META_EVENTS, events);
    r = r ? r : tr_meta_set_int(db, TR_META_LOST, (int64_t)atomic_load(&s->dropped));
    r = r ? r : tr_meta_set_int(db, TR_META_LOST_TEXT, (int64_t)atomic_load(&s->text_lost));
    r = r ? r : tr_meta_set(db, TR_META_FLIGHT_TRIGGER, tr_flight_trigger_name(d->trigger));
    r = r ? r : tr_meta_set_int(db, TR_META_FLIGHT_WINDOW_MS, (int64_t)w->window_ms);
    r = r ? r : tr_meta_set_int(db, TR_META_FLIGHT_MAX_BYTES, (int64_t)w->max_bytes);
    r = r ? r : tr_meta_set_int(db, TR_META_FLIGHT_BYTES, (int64_t)w->bytes);
    r = r ? r : tr_meta_set_int(db, TR_META_FLIGHT_BYTES_PEAK, (int64_t)w->bytes_peak);
    r = r ? r : tr_meta_set_int(db, TR_META_FLIGHT_PERIODS_DROPPED, (int64_t)w->periods_dropped);
    r = r ? r : tr_meta_set_int(db, TR_META_FLIGHT_DUMPS_FAILED, (int64_t)w->dumps_failed);
    r = r ? r : tr_meta_set_int(db, TR_META_FLIGHT_DUMPS_LIMITED, (int64_t)w->dumps_limited);
    /* Every event of the window is in the file (meta.lost counts what the
     * full rings dropped over the whole run). */
    r = r ? r : tr_meta_set_int(db, TR_META_COMPLETE, 1);
    return r;
}

static int write_chunks(sqlite3 *db, tr_fwindow *w, uint64_t *origin, int64_t *events)
{
    size_t n = 0, cap = 0;
    item *items = NULL;
    int r = 0;
    for (uint32_t i = 0; i < TR_NRINGS && !r; i++) {
        const tr_fring *fr = &w->rings[i];
        const tr_fpiece *first = first_kept(fr);
        if (!first) continue;
        uint32_t ord = 0;
        for (const tr_fpiece *p = first; p; p = p->next) {
            if (p->snap && p->seg != first->seg) continue; /* a later period's snapshot */
            if (n + 2 > cap) {
                cap = cap ? cap * 2 : 256;
                item *ni = realloc(items, cap * sizeof *ni);
                if (!ni) {
                    r = -ENOMEM;
                    break;
                }
                items = ni;
            }
            if (p == first && (fr->nsticky || fr->nres)) items[n++] = (item){ p->first_ts, i, ord++, NULL };
            items[n++] = (item){ p->first_ts, i, ord++, p };
        }
    }
    if (r) {
        free(items);
        return r;
    }
    qsort(items, n, sizeof *items, by_time);
    *origin = n ? items[0].ts : co__tr_now();
    *events = 0;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "INSERT INTO chunks(ring, n, first_ts, last_ts, data) VALUES (?,?,?,?,?)", -1, &st,
                           NULL) != SQLITE_OK) {
        free(items);
        return -EIO;
    }
    tr_chunkbuf c = { 0 };
    tr_chunk_reset(&c, 0);
    for (size_t k = 0; k < n && !r; k++) {
        const item *it = &items[k];
        if (it->p) {
            r = insert_chunk(st, it->ring, it->p->n, it->p->first_ts, it->p->last_ts, it->p->data, it->p->len);
            *events += it->p->n;
            continue;
        }
        const tr_fring *fr = &w->rings[it->ring];
        tr_chunk_reset(&c, it->ring);
        for (size_t j = 0; j < fr->nsticky && !r; j++) {
            tr_rec e = fr->sticky[j];
            e.ts = it->ts; /* at the ring's first kept event, before it */
            r = tr_chunk_add(&c, &e);
        }
        for (size_t j = 0; j < fr->nres && !r; j++) {
            if (fr->res[j].ts >= it->ts) break; /* in the window: in its piece */
            tr_rec e = fr->res[j];
            e.ts = it->ts;
            r = tr_chunk_add(&c, &e);
        }
        if (r) break;
        size_t len;
        uint32_t cn = c.n;
        uint64_t f = c.first_ts, l = c.last_ts;
        const uint8_t *blob = tr_chunk_seal(&c, &len);
        r = insert_chunk(st, it->ring, cn, f, l, blob, len);
        *events += cn;
    }
    tr_chunk_free(&c);
    sqlite3_finalize(st);
    free(items);
    return r;
}

/* The schema's secondary indexes (spans_bin, spans_hold, ...), as their
 * CREATE statements, dropped: kept up row by row they cost the build's
 * writer a third of the span rows' time; made once after the rows, from
 * a sort, a tenth of it.  The one schema (schema.c) still says what they
 * are.  Returns how many, or a negative errno; *sql is freed by the caller. */
static int drop_indexes(sqlite3 *db, char ***sql)
{
    sqlite3_stmt *st;
    *sql = NULL;
    if (sqlite3_prepare_v2(db, "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL", -1, &st,
                           NULL) != SQLITE_OK)
        return -EIO;
    int n = 0, r = 0;
    char *drop[16];
    while (n < 16 && sqlite3_step(st) == SQLITE_ROW) {
        char **grown = realloc(*sql, (size_t)(n + 1) * sizeof **sql);
        if (!grown) {
            r = -ENOMEM;
            break;
        }
        *sql = grown;
        (*sql)[n] = sqlite3_mprintf("%s", (const char *)sqlite3_column_text(st, 1));
        drop[n] = sqlite3_mprintf("DROP INDEX \"%w\"", (const char *)sqlite3_column_text(st, 0));
        n++;
    }
    sqlite3_finalize(st);
    for (int i = 0; i < n; i++) {
        if (r == 0 && (!drop[i] || !(*sql)[i])) r = -ENOMEM;
        if (r == 0) r = tr_exec(db, drop[i]);
        sqlite3_free(drop[i]);
    }
    return r < 0 ? r : n;
}

/* The builder's tables from the chunks written in this transaction. */
static int build_tables(sqlite3 *db, uint64_t origin, uint64_t end_tick)
{
    tr_builder *b = NULL;
    char **index_sql = NULL;
    int r = 0;
    int nindex = drop_indexes(db, &index_sql);
    if (nindex < 0) r = nindex;
    if (r == 0) r = tr_builder_new(&b, db);
    if (r == 0) {
        tr_builder_set_origin(b, origin);
        int64_t n = tr_builder_step_all(b, NULL, NULL);
        if (end_tick) tr_builder_set_end_tick(b, end_tick); /* the program ran on to the dump */
        r = n < 0 ? (int)n : tr_builder_finish(b);
        tr_builder_free(b);
    }
    for (int i = 0; i < nindex; i++) {
        if (r == 0) r = tr_exec(db, index_sql[i]);
        sqlite3_free(index_sql[i]);
    }
    free(index_sql);
    /* The builder's ANALYZE ran without them. */
    if (r == 0 && nindex > 0) r = tr_exec(db, "PRAGMA analysis_limit=1000; ANALYZE main");
    return r;
}

int tr_flight_write(tr_fwindow *w, const tr_fdump *d, const char *path, const char **why)
{
    *why = "";
    char part[4200];
    snprintf(part, sizeof part, "%s.part", path);
    if (access(path, F_OK) == 0) {
        *why = "the output file exists";
        return -EEXIST;
    }
    sqlite3 *db = NULL;
    int r = tr_db_create(&db, part, 1, why);
    if (r < 0) return r;
    /* Nobody reads PATH.part and a failed one is removed, so it needs no
     * journal: the window and its tables go in as one transaction, each
     * page written once, at COMMIT.  Not the build's 2 MB cache
     * (schema.c): a window's trace is at most a few hundred MB, and its
     * clustered tables are written in task order, not time order: with
     * 2 MB a 16 s window (470k events, 32 tasks) took 14.8 s, with 256 MB
     * 2.3 s.  The cache is only as large as the pages written. */
    r = tr_exec(db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-262144");
    uint64_t origin = 0;
    int64_t events = 0;
    if (r == 0) r = tr_exec(db, "BEGIN");
    if (r == 0 && (r = write_chunks(db, w, &origin, &events)) < 0) *why = "cannot write the window's events";
    if (r == 0 && (r = write_strings(db, w->shm, d->gone)) < 0) *why = "cannot write the window's texts";
    if (r == 0 && (r = write_meta(db, w, d, origin, events)) < 0) *why = "cannot write the trace's facts";
    if (r == 0 && (r = build_tables(db, origin, d->end_tick)) < 0) *why = "cannot build the trace's tables";
    if (r == 0 && (r = tr_exec(db, "COMMIT")) < 0) *why = "cannot write the trace";
    if (r < 0 && !sqlite3_get_autocommit(db)) tr_exec(db, "ROLLBACK"); /* the file goes anyway */
    if (sqlite3_close(db) != SQLITE_OK && r == 0) r = -EIO;
    if (r == 0 && rename(part, path) != 0) {
        r = -errno;
        *why = strerror(errno);
    }
    if (r < 0) {
        char side[4300];
        unlink(part);
        snprintf(side, sizeof side, "%s-journal", part);
        unlink(side);
        snprintf(side, sizeof side, "%s-wal", part);
        unlink(side);
        snprintf(side, sizeof side, "%s-shm", part);
        unlink(side);
    }
    return r;
}
