/* SPDX-License-Identifier: MIT */
/* tracer.h -- internal interfaces of the tracer: chunk encoding, the
 * database schema, the recorder that drains rings into the database, and
 * the builder that turns persisted chunks into relational tables.
 *
 * Data flow:  rings (shared memory) --recorder--> chunks table (compact,
 * durable, cheap to write at any event rate) --builder--> events, spans,
 * tasks, resources (what SQL users, reports and the TUI read).  The builder
 * runs behind the recorder while it is idle and finishes after the program
 * exits; an interrupted build restarts from the chunks on the next open.
 */
#ifndef TR_TRACER_H
#define TR_TRACER_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include "../runtime/trace.h"

#define TR_SCHEMA_VERSION 5
/* The oldest schema still read: 5 only lets a task's timeline leave out a
 * level no coarser in fact than the one below (lod.c); a schema-4 file has
 * every level, which the reader takes as well. */
#define TR_SCHEMA_OLDEST 4

/* ---- log.c: diagnostics --------------------------------------------------- */

/* The library never prints: the detail of a failure (SQLite's message, a
 * damaged chunk skipped) goes to the hook a front end sets, one line
 * without a newline; no hook, dropped.  The CLI prints "coscope: LINE". */
typedef void tr_log_fn(void *ctx, const char *line);
void tr_log_set(tr_log_fn *fn, void *ctx);
void tr_logf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- names.c: the names on disk ------------------------------------------ */

/* The names the trace database stores for the numbers of runtime/trace.h
 * and for co_wait_kind: docs/schema.md lists them.  Each returns a static
 * string, "unknown" for a number out of range.  The *_from_name lookups are
 * the inverse (for readers: a trace's text is untrusted) and return -1 for
 * a name they do not know. */
const char *tr_event_name(unsigned kind);
const char *tr_wait_name(unsigned kind);
/* The kind of a resource as resources.kind holds it: the wait kind's name,
 * except "queue" for a queue (whose getters wait in "queue_get"), the name
 * the report and the TUI use. */
#define TR_RES_KIND_QUEUE "queue"
const char *tr_resource_kind_name(unsigned kind);
const char *tr_warning_name(unsigned code);
const char *tr_span_name(unsigned kind);
int tr_event_from_name(const char *s);
int tr_wait_from_name(const char *s);
int tr_warning_from_name(const char *s);
int tr_span_from_name(const char *s);

/* What only the database holds, in the same form: one X(ID, "name") list
 * each, the enum and the names table expanded from it, and a TR_NAME_*
 * macro for a name that SQL text uses (written once, used by the list and
 * by the SQL).
 *
 * Task states (tasks.state): how a task ended, or where it was when the
 * trace stopped (docs/schema.md, tasks). */
#define TR_NAME_PENDING "pending"
#define TR_NAME_DONE "done"
#define TR_NAME_FAILED "failed"
#define TR_NAME_CANCELLED "cancelled"
#define TR_TASK_STATES(X)                                                    \
    X(PENDING, TR_NAME_PENDING)    /* never ran (or still running, live) */  \
    X(READY, "ready")              /* runnable or running at the end */      \
    X(WAITING, "waiting")          /* in an await at the end */              \
    X(DONE, TR_NAME_DONE)          /* returned >= 0 */                       \
    X(FAILED, TR_NAME_FAILED)      /* returned another error */              \
    X(CANCELLED, TR_NAME_CANCELLED) /* returned -ECANCELED */
enum tr_task_state {
#define TR__STATE_ENUM(id, name) TR_TASK_##id,
    TR_TASK_STATES(TR__STATE_ENUM)
#undef TR__STATE_ENUM
    TR_TASK_STATE_COUNT
};

/* How the run ended (meta.ended). */
#define TR_NAME_RUNNING "running"
#define TR_ENDINGS(X)                                                        \
    X(RUNNING, TR_NAME_RUNNING)  /* still running, or the recorder died */   \
    X(EXIT, "exit")              /* exited: meta.exit_code */                \
    X(SIGNAL, "signal")          /* killed: meta.signal, signal_name */      \
    X(STOPPED, "stopped")        /* co_trace_stop */                         \
    X(VANISHED, "vanished")      /* the program went away unseen */         \
    X(DETACHED, "detached")      /* coscope attach let go; it runs on */  \
    X(DUMPED, "dumped")          /* a flight recorder's window; it ran on */
enum tr_ending {
#define TR__ENDING_ENUM(id, name) TR_ENDED_##id,
    TR_ENDINGS(TR__ENDING_ENUM)
#undef TR__ENDING_ENUM
    TR_ENDING_COUNT
};

/* The keys of table meta (docs/schema.md, meta).  tr_meta_set and friends
 * take the TR_META_* names. */
#define TR_META_SCHEMA_VERSION "schema_version"
#define TR_META_PROGRAM "program"
#define TR_META_ARGV "argv"
#define TR_META_PID "pid"
#define TR_META_RECORDER_PID "recorder_pid"
#define TR_META_START_TIME "start_time"
#define TR_META_START_UNIX_NS "start_unix_ns"
#define TR_META_CLOCK "clock"
#define TR_META_CLOCK_KIND "clock_kind"
#define TR_META_CLOCK_ORIGIN "clock_origin"
#define TR_META_NS_PER_TICK "ns_per_tick"
#define TR_META_SLOW_MS "slow_ms"
#define TR_META_ENDED "ended"
#define TR_META_EXIT_CODE "exit_code"
#define TR_META_SIGNAL "signal"
#define TR_META_SIGNAL_NAME "signal_name"
#define TR_META_EVENTS "events"
#define TR_META_LOST "lost"
#define TR_META_LOST_TEXT "lost_text"
#define TR_META_UNTRACED_PROCESSES "untraced_processes"
#define TR_META_COMPLETE "complete"
#define TR_META_INCOMPLETE "incomplete"
#define TR_META_DURATION_NS "duration_ns"
#define TR_META_BUILT "built"
#define TR_META_BUILT_SEQ "built_seq"
#define TR_META_SUSTAIN_MS "sustain_ms"
#define TR_META_FAIL_RATE "fail_rate"
#define TR_META_QUEUE_MIN "queue_min"
#define TR_META_FLIGHT_TRIGGER "flight_trigger"
#define TR_META_FLIGHT_WINDOW_MS "flight_window_ms"
#define TR_META_FLIGHT_MAX_BYTES "flight_max_bytes"
#define TR_META_FLIGHT_BYTES "flight_bytes"
#define TR_META_FLIGHT_BYTES_PEAK "flight_bytes_peak"
#define TR_META_FLIGHT_PERIODS_DROPPED "flight_periods_dropped"
#define TR_META_FLIGHT_DUMPS_FAILED "flight_dumps_failed"
#define TR_META_FLIGHT_DUMPS_LIMITED "flight_dumps_limited"
#define TR_META_KEYS(X)                                                                     \
    X(SCHEMA_VERSION) X(PROGRAM) X(ARGV) X(PID) X(RECORDER_PID) X(START_TIME)               \
    X(START_UNIX_NS) X(CLOCK) X(CLOCK_KIND) X(CLOCK_ORIGIN) X(NS_PER_TICK) X(SLOW_MS)       \
    X(ENDED) X(EXIT_CODE) X(SIGNAL) X(SIGNAL_NAME) X(EVENTS) X(LOST) X(LOST_TEXT)           \
    X(UNTRACED_PROCESSES) X(COMPLETE) X(INCOMPLETE) X(DURATION_NS) X(BUILT) X(BUILT_SEQ)   \
    X(SUSTAIN_MS) X(FAIL_RATE) X(QUEUE_MIN) X(FLIGHT_TRIGGER) X(FLIGHT_WINDOW_MS)           \
    X(FLIGHT_MAX_BYTES) X(FLIGHT_BYTES) X(FLIGHT_BYTES_PEAK) X(FLIGHT_PERIODS_DROPPED)      \
    X(FLIGHT_DUMPS_FAILED) X(FLIGHT_DUMPS_LIMITED)
enum tr_meta_key {
#define TR__META_ENUM(id) TR_META_KEY_##id,
    TR_META_KEYS(TR__META_ENUM)
#undef TR__META_ENUM
    TR_META_KEY_COUNT
};

const char *tr_task_state_name(unsigned state);
const char *tr_ending_name(unsigned ending);
const char *tr_meta_key_name(unsigned key);
int tr_task_state_from_name(const char *s);
int tr_ending_from_name(const char *s);
int tr_meta_key_from_name(const char *s);

/* The timeline's levels of detail (lod.c).  Traces made before it have
 * none: the builder adds the table when it rebuilds one, readers fall back
 * to spans. */
#define TR_TIMELINE_TABLE \
    "CREATE TABLE IF NOT EXISTS timeline(task INTEGER NOT NULL, level INTEGER NOT NULL, bucket INTEGER NOT NULL," \
    "  busy INTEGER NOT NULL, waited INTEGER NOT NULL, kind INTEGER NOT NULL, flags INTEGER NOT NULL," \
    "  last INTEGER NOT NULL, PRIMARY KEY (task, level, bucket)) WITHOUT ROWID"

/* ---- encode.c: chunk blobs --------------------------------------------- */

/* Events of one ring, delta/varint encoded.  Owned by the recorder thread. */
typedef struct tr_chunkbuf {
    uint8_t *buf;
    size_t len, cap;
    uint32_t n;              /* events in buf */
    uint32_t ring;
    uint64_t first_ts, last_ts;
    uint64_t prev_ts, prev_task; /* valid only if n > 0 */
} tr_chunkbuf;

void tr_chunk_reset(tr_chunkbuf *c, uint32_t ring);
int tr_chunk_add(tr_chunkbuf *c, const tr_rec *e);      /* 0 or -ENOMEM */
/* At most how many bytes c's buffer grows by if e is added now (0: it
 * fits): who budgets memory admits the growth before it happens. */
size_t tr_chunk_growth(const tr_chunkbuf *c, const tr_rec *e);
void tr_chunk_free(tr_chunkbuf *c);
/* Finish the blob in place; returns its start and length (valid until the next add/reset). */
const uint8_t *tr_chunk_seal(tr_chunkbuf *c, size_t *len);
/* Decode a chunk blob.  Calls fn for each event in order; returns the number
 * decoded, or -EINVAL if the blob is malformed. */
int tr_chunk_decode(const uint8_t *blob, size_t len, uint32_t *ring,
                    void (*fn)(void *ctx, uint32_t ring, const tr_rec *e), void *ctx);

/* ---- schema.c: the database ------------------------------------------- */

/* Create a new trace database (mode 0600; refuses an existing file unless
 * force).  Returns 0 or a negative errno; *err_msg gets a static reason. */
int tr_db_create(sqlite3 **out, const char *path, int force, const char **why);
/* Open an existing trace for reading (and finishing its tables if
 * writable).  Checks it is SQLite, a coscope trace, and not from a newer
 * schema; on failure returns a negative errno and a one-line reason in why
 * (a static buffer). */
int tr_db_open(sqlite3 **out, const char *path, int writable, const char **why);
/* Before building tables in one big transaction: leave WAL for a rollback
 * journal if no other connection has the file open (else stay in WAL). */
void tr_db_journal_for_build(sqlite3 *db);
int tr_meta_set(sqlite3 *db, const char *key, const char *text);
int tr_meta_set_int(sqlite3 *db, const char *key, int64_t v);
int64_t tr_meta_int(sqlite3 *db, const char *key, int64_t dflt);
/* Translate a SQLite result code to a negative errno. */
int tr_sqlite_err(int rc);
int tr_exec(sqlite3 *db, const char *sql);

/* ---- guard.c: a trace is input ----------------------------------------- */

/* Seconds a statement on a trace may run without giving a row before it is
 * interrupted ($COSCOPE_QUERY_TIMEOUT overrides; 0 lifts the bound). */
#define TR_QUERY_LIMIT_S 30
int64_t tr_query_limit_ns(void);
/* Limits for a connection to a trace (tr_db_open and tr_db_create call
 * it): defensive mode, untrusted schema, no triggers, no fts3_tokenizer or
 * extensions; and when readonly, query_only, an authorizer that allows
 * reads only (no ATTACH, DDL, DML, or pragma that sets) and the time
 * bound.  Returns 0 or a negative errno. */
int tr_db_guard(sqlite3 *db, int readonly);
/* The connection's last error for people: says when the guard refused a
 * statement or stopped one that ran too long, else sqlite3_errmsg; made
 * safe for a terminal (tr_sanitize: it may quote the file's names).  Valid
 * until the next call on this thread. */
const char *tr_db_errmsg(sqlite3 *db);
/* Change a guarded connection's time bound (ns, 0: none); returns the
 * previous one, or -1 if db has no guard. */
int64_t tr_db_set_limit(sqlite3 *db, int64_t limit_ns);
/* Bounds a UI wants on every statement of a guarded connection besides
 * the time without a row: its whole time from its first step (ns) and the
 * rows it may give (0: none); an endless or dripping view then ends too.
 * Returns 0, or -1 if db has no guard. */
int tr_db_set_bounds(sqlite3 *db, int64_t total_ns, int64_t max_rows);
/* A check asked while a statement runs, at most every 10 ms: nonzero
 * interrupts it (tr_db_errmsg: "query cancelled").  NULL: none. */
int tr_db_set_cancel(sqlite3 *db, int (*cancel)(void *ctx), void *ctx);

/* ---- batch.c: bulk inserts ---------------------------------------------- */

enum { TR_CELL_NULL = 0, TR_CELL_INT, TR_CELL_TEXT };
typedef struct tr_cell {
    int type;          /* TR_CELL_* */
    int64_t i;         /* valid only if type == TR_CELL_INT */
    const char *s;     /* valid only if type == TR_CELL_TEXT; must outlive the flush */
} tr_cell;

/* A thread that runs batch inserts while the builder goes on (batch.c).
 * Its connection must be serialized (SQLITE_OPEN_FULLMUTEX); otherwise
 * tr_writer_new gives NULL and batches are written synchronously. */
typedef struct tr_writer tr_writer;
int tr_writer_new(tr_writer **out, sqlite3 *db);   /* *out may be NULL on success */
/* Wait until every flushed batch is in the database.  Returns the first
 * failure of any (negative errno), 0 if none.  Before COMMIT and before
 * reading what batches wrote. */
int tr_writer_sync(tr_writer *w);
const char *tr_writer_errmsg(tr_writer *w, sqlite3 *db); /* the failure's message */
void tr_writer_free(tr_writer *w);                 /* after the batches using it */

/* Rows for one table, written by tr_batch_flush in one statement.
 * Belongs to the builder's thread; the writer reads the array of a flushed
 * batch until its job is done. */
typedef struct tr_batch {
    tr_cell *cells;    /* n rows of ncols cells, being filled */
    tr_cell *spare;    /* valid only if writer: the array the writer takes or took last */
    size_t n, cap;
    int ncols;
    sqlite3_stmt *insert;
    tr_writer *writer; /* NULL: flush writes at once */
    int sort_keys;     /* > 0: a flush writes its rows sorted by their first sort_keys cells (integers), equal ones in the order added */
} tr_batch;

int tr_batch_register(sqlite3 *db);          /* once per connection */
/* into: what follows INSERT, e.g. "INTO events(ts, ring, task)" or "OR
 * REPLACE INTO tasks(...)"; select: what goes in those columns, from the
 * batch's ncols (at most 16) cells c0, c1, ... and constants (e.g. "c0,
 * 'step', c1"), NULL for c0..c(ncols-1) in order: a constant costs SQLite
 * less than a cell.  writer may be NULL. */
int tr_batch_init(tr_batch *b, sqlite3 *db, tr_writer *writer, const char *into, const char *select, int ncols,
                  size_t cap);
/* The next row's cells (ncols of them), or NULL if the batch is full: flush. */
static inline tr_cell *tr_batch_row(tr_batch *b)
{
    return b->n < b->cap ? &b->cells[b->n++ * (size_t)b->ncols] : NULL;
}
/* The next row's cells, flushing the batch first when it is full; NULL,
 * with *err set to the flush's failure, if that flush failed. */
tr_cell *tr_batch_next(tr_batch *b, int *err);
/* Write the rows (with a writer: start writing them; tr_writer_sync waits).
 * Returns 0 or the first failure so far, negative errno.  Text cells must
 * stay valid until the rows are written. */
int tr_batch_flush(tr_batch *b);
void tr_batch_free(tr_batch *b);

/* ---- build.c: chunks -> tables ---------------------------------------- */

typedef struct tr_builder tr_builder;
/* strings: resolves an arena offset to text (NULL if unknown); may be NULL,
 * then the strings table is used. */
int tr_builder_new(tr_builder **out, sqlite3 *db);
/* Build from every chunk not built yet, at most max_events (0 = all).
 * Returns the number of events built, or a negative errno. */
int64_t tr_builder_step(tr_builder *b, int64_t max_events);
/* Told how far a long build got: done of total events (total is an
 * estimate; done may pass it). */
typedef void tr_progress_fn(void *ctx, int64_t done, int64_t total);
/* Build from every chunk not built yet; with progress (may be NULL), in
 * slices, telling it events built of those left.  Returns the number of
 * events built, or a negative errno. */
int64_t tr_builder_step_all(tr_builder *b, tr_progress_fn *progress, void *ctx);
/* Close spans still open at the end of the run, write indexes and summary
 * rows, mark the build complete. */
int tr_builder_finish(tr_builder *b);
void tr_builder_free(tr_builder *b);
void tr_builder_set_origin(tr_builder *b, uint64_t tsc0);
/* The run went on, with nothing recorded, until the clock read `tick` (a
 * flight dump of a program still running: when it was dumped), so what is
 * open at the end -- a step still running, an await, a hold -- lasts until
 * then, not only until the last event.  Before tr_builder_finish. */
void tr_builder_set_end_tick(tr_builder *b, uint64_t tick);
/* Open-time check: finish a build interrupted earlier.  Returns 0 when the
 * tables are complete (possibly after building), negative errno else.
 * progress (may be NULL) is called after each slice of the build. */
int tr_build_complete(sqlite3 *db, tr_progress_fn *progress, void *ctx);

/* ---- reader.c: opening a trace to read it ----------------------------- */

/* Texts read from a trace (names, messages, file names, meta values) are
 * cut as they are read: TR_TEXT(col) in a reader's SELECT is col's first
 * TR_TEXT_MAX characters, more than any view, report line or table cell
 * shows, and the TUI's model keeps at most TR_TEXT_MAX bytes of a text.
 * But SQLite loads a whole value even to take its substr(), so that alone
 * would still cost a hostile trace's 100 MB name 100 MB a row: a reader's
 * connection (tr_reader_open) also refuses any one string or blob longer
 * than TR_VALUE_MAX bytes (SQLITE_LIMIT_LENGTH: the statement fails with
 * SQLITE_TOOBIG, which tr_db_errmsg words), far above what coscope writes
 * (a chunk blob holds at most 16384 events, or a snapshot's few tens of
 * bytes per live task). */
#define TR_TEXT_MAX 4000
#define TR_VALUE_MAX (64 << 20)
#define TR__STR(x) #x
#define TR__XSTR(x) TR__STR(x)
#define TR_TEXT(col) "substr(" col ", 1, " TR__XSTR(TR_TEXT_MAX) ")"

/* An open trace.  Owned by one thread; db is valid from a successful
 * tr_reader_open until tr_reader_close. */
typedef struct tr_reader {
    sqlite3 *db;         /* read-only connection */
    int recording;       /* the traced program still runs: tables lag behind the recording */
    int finished_now;    /* this open finished a build a recorder had left undone */
    int incomplete;      /* the recording stopped short (meta.complete 0): events are missing */
    char note[640];      /* "" or a fact the user should see (partial tables); the caller words it */
    char why[640];       /* valid only after a failed open: one line, "PATH: reason" */
    char side_wal[4200], side_shm[4200];
    int side_ours;       /* this reader made the -wal/-shm files: close removes them if empty */
    int followed;        /* opened while being recorded: close leaves the finished trace one file */
    int64_t size0;       /* the file as opened: tr_reader_check compares */
    uint64_t dev0, ino0;
    char damage[640];    /* "" or what tr_reader_check found happened to the file since it was opened */
} tr_reader;

/* Open the trace at path for reading: check it is a complete SQLite file,
 * a coscope trace and not from a newer schema; finish its tables if a
 * recorder left them undone and the program is not running any more
 * (progress, which may be NULL, hears how far that build got).  Returns 0,
 * or a negative errno with r->why set (-ENOENT, -EILSEQ for damage or not
 * a trace, -EPROTONOSUPPORT for a newer schema ...).  Never prints. */
int tr_reader_open(tr_reader *r, const char *path, tr_progress_fn *progress, void *ctx);
/* Close the connection and remove the empty side files it made. */
void tr_reader_close(tr_reader *r);
/* The run the trace records is still going: meta.ended is 'running' and
 * its pid is alive. */
int tr_reader_still_recording(sqlite3 *db);
/* Whether the file under an open reader was cut short, damaged, replaced
 * or removed since it was opened -- SQLite only notices when a query
 * reaches a missing page, and a reader caching what it read would answer
 * wrongly and silently.  A cheap stat and a header read: call it on a
 * timer.  Returns 1 (and r->damage says what) once it is, else 0. */
int tr_reader_check(tr_reader *r);

#include "fmt.h"

/* ---- recorder.c: rings -> chunks --------------------------------------- */

typedef struct tr_recorder tr_recorder;
int tr_recorder_new(tr_recorder **out, sqlite3 *db, tr_shm *shm);
/* A consumer of the rings with nothing to do: sleep up to ns, or until a
 * producer's ring holds `backlog` records (the producers wake it then).
 * Shared by the recorder and the flight recorder. */
void tr_wait_for_events(tr_shm *s, long ns, uint64_t backlog);
/* A consumer is done with ring's slots before tail: the program may write
 * them again, and a producer waiting for room (TR_FULL_BLOCK) is woken.
 * Shared by the recorder and the flight recorder. */
void tr_ring_free_slots(tr_shm *s, tr_ring *ring, uint64_t tail);
/* Drain every ring once.  Returns events drained (>= 0) or a negative errno. */
int64_t tr_recorder_poll(tr_recorder *r);
/* One turn of a recorder's loop: drain every ring; if that found little,
 * build tables behind the recorder (when quiet for 20 ms) or sleep until a
 * ring is half full or 5 ms pass.  Returns events drained or a negative
 * errno. */
int64_t tr_recorder_turn(tr_recorder *r);
/* Build tables behind the recorder for a while (live view). */
int64_t tr_recorder_build_some(tr_recorder *r, int64_t max_events);
/* Last drain, persist, build everything; then the database is complete.
 * progress (may be NULL) hears how far the build got. */
int tr_recorder_finish(tr_recorder *r, tr_progress_fn *progress, void *ctx);
/* A live view watches: build the tables at least every every_ns (0: only
 * when the program is quiet), and commit them at once. */
void tr_recorder_set_live(tr_recorder *r, int64_t every_ns);
uint64_t tr_recorder_events(const tr_recorder *r);
/* Time 0 of the trace is now: call right before the program starts (after
 * the recorder's clock calibration, which takes 20 ms). */
void tr_recorder_start_clock(tr_recorder *r);
void tr_recorder_free(tr_recorder *r);
double tr_calibrate(const tr_shm *shm);

/* ---- session.c: the recorder of co_trace_start -------------------------- */

/* Record the program pid into a new trace at path, from the region shm_fd
 * (the program's memfd), until the program says stop over sock or goes
 * away; then finish the trace.  Answers the program over sock: 0 or a
 * negative errno once the database exists, then the result of finishing.
 * Returns 0 or a negative errno, with *why saying what failed. */
int tr_session_record(int shm_fd, int sock, long pid, const char *path, const char **why);

#endif
