/* SPDX-License-Identifier: MIT */
/* schema.c -- the trace database: its tables and views, creation with the
 * right mode and pragmas, and opening with the checks that turn a wrong
 * file into one clear line (missing, not SQLite, not a trace, newer schema,
 * truncated).  Documented in docs/schema.md; keep the two in step. */
#include "tracer.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *SCHEMA =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;"
    "CREATE TABLE chunks(seq INTEGER PRIMARY KEY, ring INTEGER NOT NULL, n INTEGER NOT NULL,"
    "  first_ts INTEGER, last_ts INTEGER, data BLOB NOT NULL);"
    "CREATE TABLE strings(id INTEGER PRIMARY KEY, text TEXT NOT NULL);"
    "CREATE TABLE locations(id INTEGER PRIMARY KEY, file TEXT NOT NULL, line INTEGER NOT NULL,"
    "  func TEXT NOT NULL);"
    "CREATE TABLE threads(ring INTEGER PRIMARY KEY, tid INTEGER, first_ts INTEGER);"
    "CREATE TABLE tasks(id INTEGER PRIMARY KEY, name TEXT, parent INTEGER, ring INTEGER,"
    "  spawn_loc INTEGER, spawn_ts INTEGER, start_ts INTEGER, end_ts INTEGER,"
    "  state TEXT NOT NULL DEFAULT '" TR_NAME_PENDING "', result INTEGER, detached INTEGER NOT NULL DEFAULT 0,"
    "  steps INTEGER NOT NULL DEFAULT 0, awaits INTEGER NOT NULL DEFAULT 0,"
    "  busy_ns INTEGER NOT NULL DEFAULT 0, wait_ns INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE resources(id INTEGER PRIMARY KEY, kind TEXT, name TEXT, ring INTEGER,"
    "  create_ts INTEGER, create_loc INTEGER);"
    /* Instants.  Awaits and resumes are not rows here: each is a boundary
     * of a 'step' span (the await that ended the step, and when it
     * resumed), which halves the rows a switch-heavy program makes;
     * all_events puts them back into one stream. */
    "CREATE TABLE events(id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, ring INTEGER NOT NULL,"
    "  task INTEGER, kind TEXT NOT NULL, resource INTEGER, arg INTEGER, loc INTEGER);"
    /* Intervals.  A 'step' row is a task step and the await that ended it
     * (wait, resource, end_loc, resumed, result), so a task's rows tile its
     * life: at any time t it is in its last row with start <= t.  Clustered
     * on (task, start): a task's timeline, and what it did at t, are range
     * reads with no index to build after the run (spanrows.c fills it in
     * key order).  task 0: spans of no task (loop idle).  bin is set on the
     * kinds other than 'step' (they may overlap), and only they are in
     * spans_bin. */
    "CREATE TABLE spans(id INTEGER NOT NULL, kind TEXT NOT NULL, task INTEGER NOT NULL, resource INTEGER,"
    "  start INTEGER NOT NULL, end INTEGER NOT NULL, dur INTEGER GENERATED ALWAYS AS (end - start) VIRTUAL,"
    "  wait TEXT, resumed INTEGER, wait_dur INTEGER GENERATED ALWAYS AS (resumed - end) VIRTUAL,"
    "  result INTEGER, loc INTEGER, end_loc INTEGER, open INTEGER NOT NULL DEFAULT 0, bin INTEGER, ring INTEGER,"
    "  queue_dur INTEGER, PRIMARY KEY (task, start, id)) WITHOUT ROWID;"
    "CREATE INDEX spans_bin ON spans(bin, start) WHERE bin IS NOT NULL;"
    /* Every await that names what it waits on (not yields, not sleeps),
     * binned by time and clustered by what it waits on (rkey: the
     * resource, 0 for tasks, gathers and groups): who waits on a resource
     * at t is nine range reads, not a probe per live task (waitrows.c).
     * id is the step row's. */
    "CREATE TABLE waits(rkey INTEGER NOT NULL, bin INTEGER NOT NULL, start INTEGER NOT NULL, id INTEGER NOT NULL,"
    "  task INTEGER NOT NULL, end INTEGER NOT NULL, wait TEXT NOT NULL, resource INTEGER, loc INTEGER,"
    "  open INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (rkey, bin, start, id)) WITHOUT ROWID;"
    /* Summaries the builder writes so that a view's first frame does not
     * read what a whole run holds (seriesrows.c): how many wait on a
     * crowded resource, from each change on; a queue's depth per 2^20-ns
     * bucket; the histograms of a busy task's steps and awaits. */
    "CREATE TABLE wait_counts(resource INTEGER NOT NULL, ts INTEGER NOT NULL, n INTEGER NOT NULL,"
    "  PRIMARY KEY (resource, ts)) WITHOUT ROWID;"
    "CREATE TABLE queue_depth(resource INTEGER NOT NULL, ts INTEGER NOT NULL, depth INTEGER NOT NULL,"
    "  max INTEGER NOT NULL, PRIMARY KEY (resource, ts)) WITHOUT ROWID;"
    "CREATE TABLE task_hist(task INTEGER NOT NULL, which INTEGER NOT NULL, bucket INTEGER NOT NULL,"
    "  n INTEGER NOT NULL, PRIMARY KEY (task, which, bucket)) WITHOUT ROWID;"
    "CREATE INDEX spans_hold ON spans(resource, start) WHERE kind = '" TR_NAME_HOLD "';"
    "CREATE INDEX tasks_parent ON tasks(parent);"
    /* Every await as an interval of its own (a plain view: joins stay
     * index-driven). */
    "CREATE VIEW awaits AS SELECT id, task, resource, end AS start, resumed AS end, resumed - end AS dur, wait,"
    "  end_loc AS loc, result, open, ring FROM spans WHERE kind = '" TR_NAME_STEP "' AND wait IS NOT NULL;"
    /* The whole event stream, awaits and resumes included (ORDER BY ts). */
    "CREATE VIEW all_events AS SELECT id, ts, ring, task, kind, resource, arg, loc FROM events"
    "  UNION ALL SELECT NULL, end, (SELECT ring FROM tasks WHERE id = task), task, 'await', resource, wait, end_loc"
    "    FROM spans WHERE kind = '" TR_NAME_STEP "' AND wait IS NOT NULL"
    "  UNION ALL SELECT NULL, resumed, (SELECT ring FROM tasks WHERE id = task), task, 'resume', NULL, result, NULL"
    "    FROM spans WHERE kind = '" TR_NAME_STEP "' AND wait IS NOT NULL AND open = 0;"
    "CREATE TABLE warnings(id INTEGER PRIMARY KEY, kind TEXT NOT NULL, task INTEGER, task2 INTEGER,"
    "  resource INTEGER, ts INTEGER, dur INTEGER, loc INTEGER, loc2 INTEGER, message TEXT NOT NULL,"
    "  stack TEXT, cause_loc INTEGER);"
    /* Connected sockets with their addresses (TR_ENDPOINT); two rows whose
     * addresses are each other's swapped are the two ends of one
     * connection within the process (view connections). */
    "CREATE TABLE endpoints(resource INTEGER PRIMARY KEY, local TEXT, peer TEXT, task INTEGER, ts INTEGER,"
    "  loc INTEGER);"
    "CREATE VIEW connections AS SELECT a.resource AS resource, b.resource AS peer_resource, a.local, a.peer,"
    "  a.task, b.task AS peer_task, a.loc, b.loc AS peer_loc FROM endpoints a JOIN endpoints b"
    "  ON a.local = b.peer AND a.peer = b.local AND a.resource <> b.resource;"
    /* Per task: the figures the Tasks view and reports sort on. */
    "CREATE VIEW task_summary AS SELECT t.id AS task, t.name, t.state, t.result,"
    "  t.busy_ns, t.wait_ns, COALESCE(t.end_ts, (SELECT value FROM meta WHERE key = 'duration_ns'),"
    "    (SELECT MAX(ts) FROM events)) - t.spawn_ts AS total_ns,"
    "  t.steps, t.awaits, t.parent, l.file || ':' || l.line AS spawned_at"
    "  FROM tasks t LEFT JOIN locations l ON l.id = t.spawn_loc;"
    /* Per lock/semaphore/queue (one row each, documented column by column in
     * docs/schema.md).  Waits are 'await' spans on the object -- filtered by
     * wait kind, since an await's resource is a task id for task waits --
     * holds are 'hold' spans.  Percentiles are nearest-rank over the waits
     * (ROW_NUMBER); "most waiters at once" is a running sum of +1 at each
     * wait's start and -1 at its end (ends first on ties), so all of it is
     * O(n log n), no self-join. */
    /* Per lock/semaphore/queue figures, computed by the builder as it
     * replays the events (a view over millions of spans took seconds). */
    "CREATE TABLE resource_stats(resource INTEGER PRIMARY KEY, acquisitions INTEGER, contended INTEGER,"
    "  wait_total_ns INTEGER, wait_p50_ns INTEGER, wait_p99_ns INTEGER, wait_max_ns INTEGER,"
    "  hold_total_ns INTEGER, hold_max_ns INTEGER, max_waiters INTEGER, longest_waiter INTEGER,"
    "  longest_holder INTEGER, max_depth INTEGER);"
    TR_TIMELINE_TABLE ";"
    /* The same per acquire site (resource, location): where the waiting
     * happens.  Built by the builder too. */
    "CREATE TABLE contention_sites(resource INTEGER NOT NULL, loc INTEGER NOT NULL, acquisitions INTEGER,"
    "  contended INTEGER, wait_total_ns INTEGER, wait_p99_ns INTEGER, wait_max_ns INTEGER,"
    "  PRIMARY KEY (resource, loc)) WITHOUT ROWID;"
    "CREATE VIEW lock_contention AS SELECT r.id AS resource, r.kind, r.name,"
    "  COALESCE(s.acquisitions, 0) AS acquisitions, COALESCE(s.contended, 0) AS contended,"
    "  COALESCE(s.wait_total_ns, 0) AS wait_total_ns, COALESCE(s.wait_p50_ns, 0) AS wait_p50_ns,"
    "  COALESCE(s.wait_p99_ns, 0) AS wait_p99_ns, COALESCE(s.wait_max_ns, 0) AS wait_max_ns,"
    "  COALESCE(s.hold_total_ns, 0) AS hold_total_ns, COALESCE(s.hold_max_ns, 0) AS hold_max_ns,"
    "  COALESCE(s.max_waiters, 0) AS max_waiters, s.longest_waiter, s.longest_holder,"
    "  CASE WHEN r.kind LIKE 'queue%' THEN s.max_depth END AS max_depth,"
    "  l.file || ':' || l.line AS created_at"
    "  FROM resources r LEFT JOIN resource_stats s ON s.resource = r.id"
    "  LEFT JOIN locations l ON l.id = r.create_loc"
    "  WHERE r.kind IN ('lock', 'semaphore') OR r.kind LIKE 'queue%';";


int tr_meta_set(sqlite3 *db, const char *key, const char *text)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", -1, &st, NULL);
    if (rc != SQLITE_OK) return tr_sqlite_err(rc);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, text, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return tr_sqlite_err(rc);
}

int tr_meta_set_int(sqlite3 *db, const char *key, int64_t v)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", -1, &st, NULL);
    if (rc != SQLITE_OK) return tr_sqlite_err(rc);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, v);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return tr_sqlite_err(rc);
}

int64_t tr_meta_int(sqlite3 *db, const char *key, int64_t dflt)
{
    sqlite3_stmt *st;
    int64_t v = dflt;
    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?", -1, &st, NULL) != SQLITE_OK) return dflt;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* SQLite's default page cache (2 MB): with 256 MB, every chunk page the
 * recorder appended was a fresh allocation, faulted in at 10 us a page on
 * the VM this was measured on, and a 10M-event ping-pong under coscope run
 * took 0.63-0.78 s against 0.40-0.61 s.  (The build keeps it small too:
 * tr_db_journal_for_build.) */
static void pragmas(sqlite3 *db)
{
    sqlite3_exec(db, "PRAGMA page_size=65536; PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;"
                     "PRAGMA temp_store=MEMORY; PRAGMA busy_timeout=5000;", NULL, NULL, NULL);
}

void tr_db_journal_for_build(sqlite3 *db)
{
    /* WAL lets a live viewer read while the recorder writes, but it writes
     * every page twice (log, then checkpoint): a quarter of a big build.  A
     * rollback journal writes the new pages once and journals only the few
     * old ones the build changes, and is as crash-safe.  Only possible with
     * nobody else reading: then WAL stays (no waiting for them). */
    sqlite3_busy_timeout(db, 0);
    sqlite3_exec(db, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL);
    sqlite3_busy_timeout(db, 5000);
    /* SQLite's default 2 MB page cache, not the recorder's 256 MB: a build
     * writes hundreds of MB of new pages, and a small cache hands them to
     * the kernel as it goes, reusing the same memory, where a big one
     * faults in fresh pages (10 us each on the VM this was measured on)
     * and writes them all at COMMIT.  10M events: 2.95 s against 4.4 s. */
    sqlite3_exec(db, "PRAGMA cache_size=-2000", NULL, NULL, NULL);
}

int tr_db_create(sqlite3 **out, const char *path, int force, const char **why)
{
    *out = NULL;
    if (force) {
        /* A path that cannot be removed (a directory, say) is reported as
         * such: "exists, use --force" would be no help to a forced run. */
        if (unlink(path) != 0 && errno != ENOENT) {
            int e = errno;
            *why = strerror(e);
            return -e;
        }
        char side[4096];
        snprintf(side, sizeof side, "%s-wal", path);
        unlink(side);
        snprintf(side, sizeof side, "%s-shm", path);
        unlink(side);
    }
    /* O_EXCL: never overwrite a trace by accident; 0600: traces show code paths. */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        int e = errno;
        *why = e == EEXIST ? "the output file exists (use --force to overwrite it)" : strerror(e);
        return -e;
    }
    close(fd);
    sqlite3 *db;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, NULL);
    if (rc != SQLITE_OK) {
        *why = sqlite3_errstr(rc);
        sqlite3_close(db);
        return tr_sqlite_err(rc);
    }
    tr_db_guard(db, 0);
    pragmas(db);
    /* One transaction: a reader (a live view started at once) sees no
     * trace, or one being recorded by this process -- never tables without
     * the facts that say so, which it would take for an interrupted trace
     * and start building. */
    int r = tr_exec(db, "BEGIN");
    if (r == 0) r = tr_exec(db, SCHEMA);
    if (r == 0) r = tr_meta_set_int(db, TR_META_SCHEMA_VERSION, TR_SCHEMA_VERSION);
    if (r == 0) r = tr_meta_set(db, TR_META_ENDED, tr_ending_name(TR_ENDED_RUNNING));
    if (r == 0) r = tr_meta_set_int(db, TR_META_RECORDER_PID, getpid());
    /* Until the recorder has every event in the file: a recording that
     * stops short (a full disk, a killed recorder) stays marked. */
    if (r == 0) r = tr_meta_set_int(db, TR_META_COMPLETE, 0);
    if (r == 0) r = tr_exec(db, "COMMIT");
    if (r < 0) {
        *why = "cannot write the schema";
        sqlite3_close(db);
        return r;
    }
    *out = db;
    return 0;
}

/* Every object of the file (not SQLite's own) is one of SCHEMA's, as
 * SCHEMA made it.  Else 0, with why says which one is not. */
static int schema_is_ours(sqlite3 *db, char *why, size_t cap, const char *path)
{
    sqlite3 *ref = NULL;
    sqlite3_stmt *mine = NULL, *theirs = NULL;
    int ok = sqlite3_open_v2(":memory:", &ref, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
             sqlite3_exec(ref, SCHEMA, NULL, NULL, NULL) == SQLITE_OK &&
             sqlite3_prepare_v2(ref, "SELECT 1 FROM sqlite_schema WHERE type = ?1 AND name = ?2 AND sql IS ?3", -1,
                                &mine, NULL) == SQLITE_OK &&
             sqlite3_prepare_v2(db, "SELECT type, name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
                                -1, &theirs, NULL) == SQLITE_OK;
    if (!ok) snprintf(why, cap, "%s: cannot check its schema: %s", path, ref ? sqlite3_errmsg(ref) : "out of memory");
    int rc;
    while (ok && (rc = sqlite3_step(theirs)) == SQLITE_ROW) {
        for (int i = 0; i < 3; i++) sqlite3_bind_value(mine, i + 1, sqlite3_column_value(theirs, i));
        if (sqlite3_step(mine) != SQLITE_ROW) {
            char name[128];
            tr_sanitize(name, sizeof name, (const char *)sqlite3_column_text(theirs, 1));
            snprintf(why, cap, "%s: has a %s '%s' that coscope did not make; not writing to it", path,
                     sqlite3_column_text(theirs, 0) ? (const char *)sqlite3_column_text(theirs, 0) : "?", name);
            ok = 0;
        }
        sqlite3_reset(mine);
    }
    if (ok && rc != SQLITE_DONE) {
        snprintf(why, cap, "%s: cannot check its schema: %s", path, tr_db_errmsg(db));
        ok = 0;
    }
    sqlite3_finalize(mine);
    sqlite3_finalize(theirs);
    sqlite3_close(ref);
    return ok;
}

int tr_db_open(sqlite3 **out, const char *path, int writable, const char **why)
{
    static char buf[512];
    *out = NULL;
    struct stat stt;
    if (stat(path, &stt) != 0) {
        int e = errno; /* before snprintf, which may change it */
        snprintf(buf, sizeof buf, "%s: %s", path, strerror(e));
        *why = buf;
        return -e;
    }
    if (!S_ISREG(stt.st_mode)) {
        snprintf(buf, sizeof buf, "%s: not a regular file", path);
        *why = buf;
        return -EINVAL;
    }
    /* Check the SQLite header ourselves: SQLite would happily "open" any
     * file and only fail at the first query. */
    FILE *f = fopen(path, "rb");
    if (!f) {
        /* Say what the system said (permission denied, ...): this is not
         * a question of what the file holds. */
        int e = errno;
        snprintf(buf, sizeof buf, "%s: %s", path, strerror(e));
        *why = buf;
        return -e;
    }
    char hdr[16] = { 0 };
    size_t got = fread(hdr, 1, sizeof hdr, f);
    int rerr = ferror(f) ? errno : 0;
    fclose(f);
    if (rerr) {
        snprintf(buf, sizeof buf, "%s: %s", path, strerror(rerr));
        *why = buf;
        return -rerr;
    }
    if (got < 16 || memcmp(hdr, "SQLite format 3", 16) != 0) {
        snprintf(buf, sizeof buf, "%s: not a SQLite database (is it a coscope trace?)", path);
        *why = buf;
        return -EILSEQ;
    }
    sqlite3 *db;
    /* A reading connection belongs to one thread (a command, the TUI's
     * model): no mutex, which serialized mode takes at every column read
     * (a tenth of a pass over 100k rows). */
    int flags = writable ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX : SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(path, &db, flags, NULL);
    if (rc != SQLITE_OK) {
        snprintf(buf, sizeof buf, "%s: %s", path, sqlite3_errstr(rc));
        *why = buf;
        sqlite3_close(db);
        return tr_sqlite_err(rc);
    }
    sqlite3_busy_timeout(db, 5000);
    /* Before the first query: the file's own schema runs in them. */
    int e = tr_db_guard(db, !writable);
    if (e < 0) {
        snprintf(buf, sizeof buf, "%s: cannot open: %s", path, strerror(-e));
        *why = buf;
        sqlite3_close(db);
        return e;
    }
    sqlite3_stmt *st;
    rc = sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'schema_version'", -1, &st, NULL);
    if (rc != SQLITE_OK) {
        /* Damage shows here when it hits the schema pages: same errno as
         * damage found further on. */
        int e = sqlite3_errcode(db), damaged = e == SQLITE_CORRUPT || e == SQLITE_NOTADB || e == SQLITE_IOERR;
        if (damaged)
            snprintf(buf, sizeof buf, "%s: damaged or truncated database (%s)", path, tr_db_errmsg(db));
        else
            snprintf(buf, sizeof buf, "%s: not a coscope trace (no meta table)", path);
        *why = buf;
        sqlite3_close(db);
        return damaged ? -EILSEQ : -EINVAL;
    }
    rc = sqlite3_step(st);
    int64_t version = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    int step_err = rc != SQLITE_ROW && rc != SQLITE_DONE ? rc : 0;
    sqlite3_finalize(st);
    if (step_err) {
        snprintf(buf, sizeof buf, "%s: damaged or truncated database (%s)", path, sqlite3_errstr(step_err));
        *why = buf;
        sqlite3_close(db);
        return -EILSEQ;
    }
    if (version < 1) {
        snprintf(buf, sizeof buf, "%s: not a coscope trace (no schema version)", path);
        *why = buf;
        sqlite3_close(db);
        return -EINVAL;
    }
    if (version < TR_SCHEMA_OLDEST) {
        /* Schema 1 had one row per await and per resume, schema 2 no
         * `waits` table, schema 3 no summaries (wait_counts, queue_depth,
         * task_hist) and its waits not by resource: readers ask them, so
         * nothing reads those now.  (A
         * rebuild could make one from its chunks, but that would write to
         * a file the user gave to be read.) */
        snprintf(buf, sizeof buf, "%s: made by an older coscope (schema %lld; this one reads %d to %d); record it again",
                 path, (long long)version, TR_SCHEMA_OLDEST, TR_SCHEMA_VERSION);
        *why = buf;
        sqlite3_close(db);
        return -EPROTONOSUPPORT;
    }
    if (version > TR_SCHEMA_VERSION) {
        snprintf(buf, sizeof buf, "%s: made by a newer coscope (schema %lld; this one reads up to %d); upgrade coscope",
                 path, (long long)version, TR_SCHEMA_VERSION);
        *why = buf;
        sqlite3_close(db);
        return -EPROTONOSUPPORT;
    }
    /* A quick integrity probe catches truncation before any query does. */
    rc = sqlite3_exec(db, "SELECT COUNT(*) FROM tasks; SELECT COUNT(*) FROM chunks WHERE seq > 0;", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        snprintf(buf, sizeof buf, "%s: damaged or truncated database (%s)", path, tr_db_errmsg(db));
        *why = buf;
        sqlite3_close(db);
        return -EILSEQ;
    }
    /* Writing (finishing a build) runs coscope's statements against the
     * file's tables: only when every table, index and view is the one
     * coscope made, so no trigger, view or index of the file's own runs. */
    if (writable && !schema_is_ours(db, buf, sizeof buf, path)) {
        *why = buf;
        sqlite3_close(db);
        return -EPERM;
    }
    *out = db;
    return 0;
}
