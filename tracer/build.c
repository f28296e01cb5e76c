/* SPDX-License-Identifier: MIT */
/* build.c -- the builder: turns persisted chunks into the relational tables
 * (events, spans, tasks, resources, threads) that reports, SQL users and
 * the TUI read.  This file drives it: the builder's lifetime, chunks read
 * in order and handed to the replay (replay.c), the end of a build
 * (open spans closed, contention figures, statistics), and the rebuild of
 * an interrupted one.
 *
 * Progress is meta 'built_seq' (last chunk built), written in the same
 * transaction as the rows, so a build interrupted by a crash of the
 * recorder is redone from scratch by tr_build_complete() on the next open.
 * While a program runs, the recorder builds in slices (tr_builder_step
 * with max_events) for the live view; at its end, everything at once.
 */
#include "builder.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int prep(tr_builder *b, sqlite3_stmt **st, const char *sql)
{
    int rc = sqlite3_prepare_v3(b->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
    if (rc != SQLITE_OK) tr_logf("sqlite: %s", sqlite3_errmsg(b->db));
    return tr_sqlite_err(rc);
}

int tr_builder_new(tr_builder **out, sqlite3 *db)
{
    tr_builder *b = calloc(1, sizeof *b);
    if (!b) return -ENOMEM;
    b->db = db;
    b->built_seq = tr_meta_int(db, TR_META_BUILT_SEQ, 0);
    tr_clock_load(db, &b->clk);
    /* A threshold of at most an hour (coscope run's limit), so the
     * arithmetic on it cannot overflow. */
    int64_t slow_ms = tr_meta_int(db, TR_META_SLOW_MS, 100);
    b->slow_ns = (slow_ms < 0 ? 0 : slow_ms > 3600000 ? 3600000 : slow_ms) * 1000000;
    tr_map_init(&b->tasks, sizeof(tstate));
    tr_map_init(&b->holds, sizeof(hold));
    tr_map_init(&b->strcache, sizeof(char *));
    tr_map_init(&b->rstats, sizeof(rstat));
    tr_map_init(&b->sites, sizeof(rstat));
    tr_map_init(&b->names, sizeof(uint64_t));
    int r = 0;
    r = r ? r : prep(b, &b->sel_chunks, "SELECT seq, data FROM chunks WHERE seq > ? ORDER BY seq LIMIT 16");
    r = r ? r : prep(b, &b->ins_res, "INSERT OR REPLACE INTO resources(id, kind, name, ring, create_ts, create_loc) VALUES (?,?,?,?,?,?)");
    r = r ? r : prep(b, &b->ins_thread, "INSERT OR REPLACE INTO threads(ring, tid, first_ts) VALUES (?,?,?)");
    r = r ? r : prep(b, &b->sel_string, "SELECT text FROM strings WHERE id = ?");
    r = r ? r : prep(b, &b->ins_warning, "INSERT INTO warnings(kind, task, resource, ts, dur, loc, loc2, message, task2, stack, cause_loc)"
                                     " VALUES (?,?,?,?,?,?,?,?,?,?,?)");
    r = r ? r : prep(b, &b->sel_res, "SELECT kind, name FROM resources WHERE id = ?");
    r = r ? r : prep(b, &b->upd_detached, "UPDATE tasks SET detached = 1 WHERE id = ?");
    r = r ? r : tr_dg_init(b);
    r = r ? r : tr_batch_register(db);
    r = r ? r : tr_writer_new(&b->writer, db);
    r = r ? r : tr_exec(db, TR_TIMELINE_TABLE);
    r = r ? r : tr_batch_init(&b->lod, db, b->writer, "OR REPLACE INTO timeline(task, level, bucket, busy, waited, kind, flags, last)",
                              NULL, 8, 1 << 14);
    b->lod.sort_keys = 3; /* (task, level, bucket): the table's key */
    r = r ? r : tr_batch_init(&b->ev, db, b->writer, "INTO events(ts, ring, task, kind, resource, arg, loc)", NULL, 7, 1 << 14);
    /* Step rows, most of the spans of a trace, leave out what is the same for all of
     * them: 11 cells a row instead of 14 (8% of a build). */
    r = r ? r : tr_batch_init(&b->st, db, b->writer, "OR REPLACE INTO spans(id, task, resource, start, end, wait, resumed, result, loc, "
                                          "end_loc, open, kind)", "c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, '" TR_NAME_STEP "'",
                              11, 1 << 14);
    /* A task's row goes in at its spawn (the live view shows it) and again,
     * replaced, complete, at its end: in one batch, so in that order. */
    r = r ? r : tr_batch_init(&b->tk, db, b->writer, "OR REPLACE INTO tasks(id, name, parent, ring, spawn_loc, spawn_ts, "
                                          "start_ts, end_ts, state, result, detached, steps, awaits, busy_ns, wait_ns)",
                              NULL, 15, 1 << 12);
    r = r ? r : tr_batch_init(&b->sp, db, b->writer, "OR REPLACE INTO spans(id, kind, task, resource, start, end, wait, resumed, result, loc, "
                                          "end_loc, open, bin, ring, queue_dur)", NULL, 15, 1 << 14);
    r = r ? r : tr_waits_init(b);
    r = r ? r : tr_series_init(b);
    if (r < 0) {
        tr_builder_free(b);
        return r;
    }
    *out = b;
    return 0;
}

/* spans: also write the spans found so far.  The build at exit leaves them
 * all to the end, so they go in as one sorted run of appends.  Returns with
 * every row in the database. */
static void flush_batches(tr_builder *b, int spans)
{
    int r = tr_batch_flush(&b->ev);
    if (r == 0) r = tr_batch_flush(&b->tk);
    if (r == 0) r = tr_batch_flush(&b->lod);
    if (r == 0 && spans) r = tr_spans_flush(b);
    int w = tr_writer_sync(b->writer);
    if (r == 0) r = w;
    if (r < 0 && !b->err) {
        tr_logf("sqlite: %s", tr_writer_errmsg(b->writer, b->db));
        b->err = r;
    }
}

void tr_builder_set_origin(tr_builder *b, uint64_t tsc0) { b->clk.origin = tsc0; }

void tr_builder_set_end_tick(tr_builder *b, uint64_t tick)
{
    int64_t end = tr_clock_ns(&b->clk, tick);
    if (end > b->max_ts) b->max_ts = end;
}

void tr_builder_free(tr_builder *b)
{
    if (!b) return;
    sqlite3_stmt *all[] = { b->sel_chunks, b->ins_res, b->ins_thread, b->sel_string, b->ins_warning, b->sel_res,
                            b->upd_detached };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) sqlite3_finalize(all[i]);
    tr_dg_free(b);
    tr_batch_free(&b->ev);
    tr_batch_free(&b->st);
    tr_batch_free(&b->sp);
    tr_batch_free(&b->tk);
    tr_batch_free(&b->lod);
    tr_batch_free(&b->wt);
    tr_series_free(b);
    tr_writer_free(b->writer);
    free(b->spans);
    free(b->waits);
    free(b->asleep);
    free(b->fetch_buf);
    for (size_t i = 0; i < b->tasks.cap; i++)
        if (b->tasks.keys && b->tasks.keys[i]) tr_lod_free(b, &((tstate *)(b->tasks.vals + i * b->tasks.vsize))->lod);
    for (size_t i = 0; i < b->strcache.cap; i++)
        if (b->strcache.keys && b->strcache.keys[i]) free(*(char **)(b->strcache.vals + i * sizeof(char *)));
    tr_map_free(&b->tasks);
    tr_map_free(&b->holds);
    tr_map_free(&b->strcache);
    for (size_t i = 0; i < b->rstats.cap; i++)
        if (b->rstats.keys && b->rstats.keys[i]) free(((rstat *)(b->rstats.vals + i * b->rstats.vsize))->waits);
    tr_map_free(&b->rstats);
    for (size_t i = 0; i < b->sites.cap; i++)
        if (b->sites.keys && b->sites.keys[i]) free(((rstat *)(b->sites.vals + i * b->sites.vsize))->waits);
    tr_map_free(&b->sites);
    tr_map_free(&b->names);
    free(b);
}

/* Copy the next chunks (up to 16) out of the database: they are replayed
 * with no statement of ours running, so the writer's inserts do not wait
 * for the replay nor the replay for them.  Returns how many, or -errno. */
static int fetch_chunks(tr_builder *b)
{
    int n = 0, rc;
    size_t used = 0;
    sqlite3_bind_int64(b->sel_chunks, 1, b->built_seq);
    while ((rc = sqlite3_step(b->sel_chunks)) == SQLITE_ROW) {
        const void *blob = sqlite3_column_blob(b->sel_chunks, 1);
        size_t len = (size_t)sqlite3_column_bytes(b->sel_chunks, 1);
        if (used + len > b->fetch_cap) {
            size_t cap = (used + len) * 2;
            uint8_t *buf = realloc(b->fetch_buf, cap);
            if (!buf) {
                sqlite3_reset(b->sel_chunks);
                return -ENOMEM;
            }
            b->fetch_buf = buf;
            b->fetch_cap = cap;
        }
        if (len) memcpy(b->fetch_buf + used, blob, len);
        b->fetched[n].seq = sqlite3_column_int64(b->sel_chunks, 0);
        b->fetched[n].off = used;
        b->fetched[n].len = len;
        used += len;
        n++;
    }
    sqlite3_reset(b->sel_chunks);
    return rc == SQLITE_DONE ? n : tr_sqlite_err(rc);
}

int64_t tr_builder_step(tr_builder *b, int64_t max_events)
{
    int64_t before = b->events;
    for (int more = 1; more && !b->err;) {
        int got = fetch_chunks(b);
        if (got < 0) {
            tr_logf("cannot read the chunks: %s", sqlite3_errmsg(b->db));
            b->err = got;
            break;
        }
        more = got > 0;
        for (int i = 0; i < got; i++) {
            /* An empty blob (a damaged trace's) leaves fetch_buf NULL: no
             * pointer arithmetic on it (found by tests/fuzz). */
            static const uint8_t none[1];
            const uint8_t *blob = b->fetched[i].len ? b->fetch_buf + b->fetched[i].off : none;
            if (tr_chunk_decode(blob, b->fetched[i].len, NULL, tr_replay_event, b) < 0)
                tr_logf("chunk %lld is damaged; skipped", (long long)b->fetched[i].seq);
            b->built_seq = b->fetched[i].seq;
            if (max_events > 0 && b->events - before >= max_events) {
                more = 0;
                break;
            }
        }
    }
    if (max_events > 0) tr_replay_live(b); /* a live build: open timeline buckets are read now too */
    flush_batches(b, max_events > 0);  /* a live build: its spans are read now */
    if (b->err) return b->err;
    tr_meta_set_int(b->db, TR_META_BUILT_SEQ, b->built_seq);
    return b->events - before;
}

int tr_builder_finish(tr_builder *b)
{
    int64_t end = b->max_ts;
    tr_replay_close(b);
    flush_batches(b, 1);
    if (tr_write_rstats(b) < 0 || tr_series_finish(b) < 0) return b->err;
    /* Statistics, from a sample (a tenth of a second on 10M events): without
     * them SQLite would rather scan spans than probe it once per task. */
    int r = tr_exec(b->db, "PRAGMA analysis_limit=1000; ANALYZE;");
    if (r == 0) r = tr_meta_set_int(b->db, TR_META_BUILT, 1);
    if (r == 0) r = tr_meta_set_int(b->db, TR_META_DURATION_NS, end);
    return b->err ? b->err : r;
}

int64_t tr_builder_step_all(tr_builder *b, tr_progress_fn *progress, void *ctx)
{
    if (!progress) return tr_builder_step(b, 0);
    /* Events in the chunks not built yet: what is left to replay (meta.events
     * is only written at the end of a recording that finished). */
    int64_t total = 0, done = 0, n;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(b->db, "SELECT COALESCE(SUM(n), 0) FROM chunks WHERE seq > ?", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, b->built_seq);
        if (sqlite3_step(st) == SQLITE_ROW) total = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    /* In slices of 2^20 events (a few hundred ms), telling how far it got. */
    while ((n = tr_builder_step(b, 1 << 20)) > 0) {
        done += n;
        progress(ctx, done, total > done ? total : done);
    }
    return n < 0 ? n : done;
}

int tr_build_complete(sqlite3 *db, tr_progress_fn *progress, void *ctx)
{
    if (tr_meta_int(db, TR_META_BUILT, 0)) return 0;
    tr_db_journal_for_build(db);
    /* Interrupted build (or a recorder that died): redo it from the chunks. */
    int r = tr_exec(db, "BEGIN; DELETE FROM events; DELETE FROM spans; DELETE FROM tasks; DELETE FROM resources;"
                        "DELETE FROM threads; DELETE FROM warnings; DELETE FROM resource_stats;" TR_TIMELINE_TABLE "; DELETE FROM timeline;"
                        "DELETE FROM waits; DELETE FROM wait_counts; DELETE FROM queue_depth; DELETE FROM task_hist;"
                        "DELETE FROM meta WHERE key = '" TR_META_BUILT_SEQ "';");
    if (r < 0) return r;
    tr_builder *b;
    r = tr_builder_new(&b, db);
    if (r == 0) {
        int64_t n = tr_builder_step_all(b, progress, ctx);
        r = n < 0 ? (int)n : tr_builder_finish(b);
        tr_builder_free(b);
    }
    if (r == 0) r = tr_exec(db, "COMMIT");
    else if (!sqlite3_get_autocommit(db)) tr_exec(db, "ROLLBACK"); /* SQLite may have rolled back itself (disk full) */
    return r;
}
