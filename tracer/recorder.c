/* SPDX-License-Identifier: MIT */
/* recorder.c -- the consumer: drains every ring of a shared trace region
 * into compact chunk rows, persists interned strings and locations, and
 * drives the builder behind it.
 *
 * It runs in the `coscope run` parent (or on a thread of the traced program
 * after co_trace_start).  A slot of a ring is released (tail advanced) only
 * once its event is in the recorder's own memory, so a traced program that
 * dies loses nothing it had published.  Writes are grouped in one
 * transaction per ~100 ms, which is also the latency of the live view.
 */
#define _GNU_SOURCE
#include "tracer.h"
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#define CHUNK_EVENTS 16384
#define COMMIT_NS    (100 * 1000000ll)

struct tr_recorder {
    sqlite3 *db;
    tr_shm *shm;
    tr_chunkbuf chunks[TR_NRINGS];
    uint64_t arena_done;     /* arena persisted up to this offset */
    sqlite3_stmt *ins_chunk, *ins_str, *ins_loc;
    uint64_t events;
    int in_txn;
    int64_t txn_start;
    tr_builder *builder;
    int64_t idle_since;      /* tr_recorder_turn: when events last came */
    int64_t live_every;      /* > 0: build tables, and commit, at least this often (ns), busy or not */
    int64_t live_slice;      /* at most this many events built each time */
    int live_asked;          /* tr_recorder_set_live: always live; else only while followed() */
    uint64_t shm_ino;        /* the trace's -shm, to see followers by their locks (0: not known yet) */
    unsigned shm_dev_major, shm_dev_minor;
    int64_t last_probe;      /* when followed() last looked */
    int64_t last_build;      /* valid only if live_every: when tables were last built */
    int err;
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

double tr_calibrate(const tr_shm *shm)
{
    if (shm->clock != TR_CLOCK_TSC) return 1.0;
    /* Measure ticks against CLOCK_MONOTONIC over 20 ms from a fresh pair:
     * a few ppm, good to microseconds over an hour-long run. */
    int64_t m0 = mono_ns();
    uint64_t t0 = co__tr_now();
    int64_t m1;
    do m1 = mono_ns(); while (m1 - m0 < 20000000);
    uint64_t t1 = co__tr_now();
    return (double)(m1 - m0) / (double)(t1 - t0);
}

static int begin(tr_recorder *r)
{
    if (r->in_txn) return 0;
    int e = tr_exec(r->db, "BEGIN");
    if (e == 0) {
        r->in_txn = 1;
        r->txn_start = mono_ns();
    }
    return e;
}

/* A failed commit lost what the transaction held (SQLite rolls it back
 * on a full disk): the recording is incomplete for good, even if the disk
 * has room again by the finish (the rollback freed it) -- r->err is
 * sticky, so tr_recorder_finish never marks such a trace complete. */
static int commit(tr_recorder *r)
{
    if (!r->in_txn) return 0;
    r->in_txn = 0;
    int e = tr_exec(r->db, "COMMIT");
    if (e < 0 && !r->err) r->err = e;
    return e;
}

int tr_recorder_new(tr_recorder **out, sqlite3 *db, tr_shm *shm)
{
    tr_recorder *r = calloc(1, sizeof *r);
    if (!r) return -ENOMEM;
    r->db = db;
    r->shm = shm;
    r->arena_done = 8;
    for (uint32_t i = 0; i < TR_NRINGS; i++) tr_chunk_reset(&r->chunks[i], i);
    int rc = sqlite3_prepare_v2(db, "INSERT INTO chunks(ring, n, first_ts, last_ts, data) VALUES (?,?,?,?,?)", -1, &r->ins_chunk, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO strings(id, text) VALUES (?,?)", -1, &r->ins_str, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO locations(id, file, line, func) VALUES (?,?,?,?)", -1, &r->ins_loc, NULL);
    if (rc != SQLITE_OK) {
        tr_recorder_free(r);
        return tr_sqlite_err(rc);
    }
    /* The clock mapping goes in first, so the chunks alone can be rebuilt. */
    double npt = tr_calibrate(shm);
    char buf[64];
    snprintf(buf, sizeof buf, "%.17g", npt);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta(key, value) VALUES ('" TR_META_NS_PER_TICK "', ?)", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_double(st, 1, npt);
        sqlite3_step(st);
        sqlite3_finalize(st);
    }
    tr_meta_set_int(db, TR_META_CLOCK_KIND, shm->clock);
    tr_meta_set(db, TR_META_CLOCK, shm->clock == TR_CLOCK_TSC
                                 ? (shm->clock_invariant ? "tsc" : "tsc (rate not declared invariant: durations approximate)")
                                 : "monotonic");
    tr_meta_set_int(db, TR_META_CLOCK_ORIGIN, (int64_t)shm->tsc0);
    tr_meta_set_int(db, TR_META_SLOW_MS, shm->slow_ms);
    int e = tr_builder_new(&r->builder, db);
    if (e < 0) {
        tr_recorder_free(r);
        return e;
    }
    *out = r;
    return 0;
}

static void flush_chunk(tr_recorder *r, tr_chunkbuf *c)
{
    if (c->n == 0) return;
    size_t len;
    const uint8_t *blob = tr_chunk_seal(c, &len);
    sqlite3_stmt *st = r->ins_chunk;
    sqlite3_bind_int(st, 1, (int)c->ring);
    sqlite3_bind_int(st, 2, (int)c->n);
    sqlite3_bind_int64(st, 3, (int64_t)c->first_ts);
    sqlite3_bind_int64(st, 4, (int64_t)c->last_ts);
    sqlite3_bind_blob(st, 5, blob, (int)len, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE && !r->err) {
        tr_logf("cannot write the trace: %s", sqlite3_errmsg(r->db));
        r->err = tr_sqlite_err(rc);
    }
    tr_chunk_reset(c, c->ring);
}

/* Persist arena entries up to the first one still being written.  `final`:
 * the program is gone, so skip entries it never finished. */
static void persist_arena(tr_recorder *r, int final)
{
    tr_shm *s = r->shm;
    char *arena = tr_arena(s);
    uint64_t top = atomic_load_explicit(&s->arena_top, memory_order_acquire);
    if (top > s->arena_size) top = s->arena_size;
    while (r->arena_done + sizeof(tr_str) <= top) {
        tr_str *e = (tr_str *)(arena + r->arena_done);
        uint32_t ready = atomic_load_explicit(&e->ready, memory_order_acquire);
        if (!ready && !final) break;
        size_t size = (sizeof(tr_str) + e->len + 1 + 7) & ~(size_t)7;
        if (ready == TR_STR_PLAIN) {
            sqlite3_bind_int64(r->ins_str, 1, (int64_t)r->arena_done);
            sqlite3_bind_text(r->ins_str, 2, e->text, (int)e->len, SQLITE_STATIC);
            sqlite3_step(r->ins_str);
            sqlite3_reset(r->ins_str);
        } else if (ready == TR_STR_LOC && e->func_off <= e->len) {
            sqlite3_bind_int64(r->ins_loc, 1, (int64_t)(r->arena_done >> 3));
            sqlite3_bind_text(r->ins_loc, 2, e->text, -1, SQLITE_STATIC);
            sqlite3_bind_int(r->ins_loc, 3, (int)e->line);
            sqlite3_bind_text(r->ins_loc, 4, e->text + e->func_off, -1, SQLITE_STATIC);
            sqlite3_step(r->ins_loc);
            sqlite3_reset(r->ins_loc);
        } else if (!ready && (e->len == 0 || r->arena_done + size > top)) {
            break; /* never written: nothing after it can be trusted */
        }
        r->arena_done += size;
    }
}

/* Release the ring's slots before `tail`, and wake producers waiting for
 * room.  The fence orders the store before the look at room_waiters, as
 * the producer's increment is ordered before its look at tail: one of the
 * two sees the other. */
void tr_ring_free_slots(tr_shm *s, tr_ring *ring, uint64_t tail)
{
    atomic_store_explicit(&ring->tail, tail, memory_order_release);
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&s->room_waiters, memory_order_relaxed)) {
        atomic_fetch_add(&s->room_wake, 1);
        syscall(SYS_futex, &s->room_wake, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
    }
}

int64_t tr_recorder_poll(tr_recorder *r)
{
    tr_shm *s = r->shm;
    tr_ring *rings = tr_rings(s);
    int64_t drained = 0;
    for (uint32_t i = 0; i < s->nrings; i++) {
        tr_ring *ring = &rings[i];
        uint64_t head = atomic_load_explicit(&ring->head, memory_order_acquire);
        uint64_t tail = atomic_load_explicit(&ring->tail, memory_order_relaxed);
        if (head == tail) continue;
        if (begin(r) < 0) return -EIO;
        tr_chunkbuf *c = &r->chunks[i];
        for (uint64_t k = tail; k < head; k++) {
            const tr_rec *e = &ring->recs[k & (TR_RING_RECS - 1)];
            if (tr_chunk_add(c, e) < 0) return -ENOMEM;
            r->events += tr_rec_events(e) - 1; /* drained counts one a record */
            if (c->n >= CHUNK_EVENTS) flush_chunk(r, c);
            /* Free slots as we go: a producer waiting on a full ring
             * resumes after 4096 events, not after the whole ring. */
            if ((k & 4095) == 4095) tr_ring_free_slots(s, ring, k + 1);
        }
        tr_ring_free_slots(s, ring, head);
        drained += (int64_t)(head - tail);
    }
    r->events += (uint64_t)drained;
    if (r->in_txn && mono_ns() - r->txn_start >= (r->live_every > 0 ? r->live_every : COMMIT_NS)) {
        for (uint32_t i = 0; i < TR_NRINGS; i++) flush_chunk(r, &r->chunks[i]);
        persist_arena(r, 0);
        if (commit(r) < 0) return -EIO;
    }
    return r->err ? r->err : drained;
}

void tr_wait_for_events(tr_shm *s, long ns, uint64_t backlog)
{
    uint32_t seq = atomic_load(&s->consumer_wake);
    atomic_store(&s->consumer_sleeping, 1);
    tr_ring *rings = tr_rings(s);
    for (uint32_t i = 0; i < s->nrings; i++) {
        uint64_t head = atomic_load_explicit(&rings[i].head, memory_order_acquire);
        if (head - atomic_load_explicit(&rings[i].tail, memory_order_relaxed) >= backlog) {
            atomic_store(&s->consumer_sleeping, 0);
            return;
        }
    }
    struct timespec ts = { 0, ns };
    syscall(SYS_futex, &s->consumer_wake, FUTEX_WAIT, seq, &ts, NULL, 0);
    atomic_store(&s->consumer_sleeping, 0);
}

static void watch_followers(tr_recorder *r, int64_t now);

int64_t tr_recorder_turn(tr_recorder *r)
{
    int64_t got = tr_recorder_poll(r);
    if (got < 0) return got;
    int64_t now = mono_ns();
    if (got > 0 || r->idle_since == 0) r->idle_since = now;
    watch_followers(r, now);
    /* Busy: drain again at once.  A trickle or nothing: let events
     * accumulate for 5 ms (a producer wakes us sooner if its ring gets
     * half full), since every poll pulls each ring's head line out of its
     * producer's cache.  Quiet for 20 ms: build tables behind the
     * recorder, in slices, for the live view. */
    if (r->live_every > 0 && now - r->last_build >= r->live_every) {
        /* Someone is watching: the tables follow the recording however
         * busy the program is, and are committed at once. */
        r->last_build = now;
        int64_t built = tr_recorder_build_some(r, r->live_slice);
        if (built > 0 && commit(r) < 0) return -EIO;
        if (built > 0) return got;
    }
    if (got >= 4096) return got;
    if (got == 0 && now - r->idle_since > 20000000) {
        /* A failed slice is tried again by the build at the end. */
        if (tr_recorder_build_some(r, 2000) > 0) return got;
    }
    tr_wait_for_events(r->shm, 5000000, TR_RING_RECS / 2); /* or until a producer finds its ring half full */
    return got;
}

int64_t tr_recorder_build_some(tr_recorder *r, int64_t max_events)
{
    if (begin(r) < 0) return -EIO;
    persist_arena(r, 0);
    int64_t n = tr_builder_step(r->builder, max_events);
    /* A write that failed for want of room may have rolled back the whole
     * transaction, and the chunks drained into it with it. */
    if (r->in_txn && sqlite3_get_autocommit(r->db)) {
        r->in_txn = 0;
        if (!r->err) r->err = -EIO;
    }
    return n;
}

void tr_recorder_set_live(tr_recorder *r, int64_t every_ns)
{
    r->live_asked = every_ns > 0;
    r->live_every = every_ns;
    r->live_slice = 1 << 20;
    r->last_build = 0;
}

/* Any recording can be followed (`coscope tui FILE` from another terminal
 * while `coscope run -o FILE` records, issue 23): while someone follows,
 * the tables are built every 100 ms however busy the program is, as for
 * `run --tui`, so the follower sees the tasks within a quarter second.
 * Not always: building while a busy program runs takes the recorder from
 * draining the rings, and on a two-core machine made a traced ping-pong
 * 7x slower.  A follower only reads, so it cannot say it is there -- but a
 * reader of a WAL database holds a shared lock on one of the read-mark
 * bytes of the -shm file (SQLite's file format, "WAL-index format": bytes
 * 120-127 are its locks, 123-127 the read marks) for as long as its read
 * transaction lasts, and a follower is always in one.  POSIX record locks
 * are per process, so F_GETLK sees only other processes': our own
 * connection's never count.  Read from /proc/locks rather than with
 * F_GETLK on a descriptor of our own: closing any descriptor of a file
 * drops every POSIX lock the process holds on it, SQLite's included.  A
 * look every 100 ms. */
static int followed(tr_recorder *r)
{
    if (!r->shm_ino) {
        const char *db = sqlite3_db_filename(r->db, "main");
        if (!db || !*db) return 0;
        char path[4200];
        snprintf(path, sizeof path, "%s-shm", db);
        struct stat st;
        if (stat(path, &st) != 0) return 0;
        r->shm_ino = (uint64_t)st.st_ino;
        r->shm_dev_major = major(st.st_dev);
        r->shm_dev_minor = minor(st.st_dev);
    }
    FILE *f = fopen("/proc/locks", "re");
    if (!f) return 0;
    char line[256];
    int found = 0;
    long me = (long)getpid();
    while (!found && fgets(line, sizeof line, f)) {
        char type[16];
        long pid;
        unsigned maj, min;
        unsigned long long ino, start;
        char end[24];
        const char *p = strstr(line, "POSIX");
        if (!p || sscanf(p, "POSIX %*s %15s %ld %x:%x:%llu %llu %23s", type, &pid, &maj, &min, &ino, &start, end) != 7)
            continue;
        unsigned long long last = strcmp(end, "EOF") ? strtoull(end, NULL, 10) : ~0ull;
        found = pid != me && ino == r->shm_ino && maj == r->shm_dev_major && min == r->shm_dev_minor &&
                start <= 127 && last >= 123;
    }
    fclose(f);
    return found;
}

static void watch_followers(tr_recorder *r, int64_t now)
{
    if (r->live_asked || now - r->last_probe < 100 * 1000000ll) return;
    r->last_probe = now;
    if (followed(r)) {
        if (!r->live_every) r->last_build = 0;
        r->live_every = 100 * 1000000ll;
        r->live_slice = 1 << 20;
    } else {
        r->live_every = 0;
    }
}

/* Writing the trace failed (a full disk, an I/O error): events are
 * missing.  The trace says so for good -- meta.complete is 0 from its
 * creation and never becomes 1 -- and, if the disk lets us, says how many:
 * what the program published (drained, still in the rings, or dropped)
 * less what the chunks hold.  Returns err. */
static int incomplete(tr_recorder *r, int err)
{
    if (!sqlite3_get_autocommit(r->db)) sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
    r->in_txn = 0;
    tr_shm *s = r->shm;
    tr_ring *rings = tr_rings(s);
    uint64_t published = r->events + atomic_load(&s->dropped);
    for (uint32_t i = 0; i < s->nrings; i++)
        for (uint64_t k = atomic_load(&rings[i].tail), h = atomic_load(&rings[i].head); k < h; k++)
            published += tr_rec_events(&rings[i].recs[k & (TR_RING_RECS - 1)]);
    int64_t kept = 0;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(r->db, "SELECT COALESCE(SUM(n), 0) FROM chunks", -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) kept = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    char why[200];
    snprintf(why, sizeof why, "writing the trace failed (%s): %lld of %llu events are missing",
             strerror(-err), (long long)((int64_t)published - kept), (unsigned long long)published);
    if (sqlite3_exec(r->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK) {
        tr_meta_set_int(r->db, TR_META_EVENTS, kept);
        tr_meta_set_int(r->db, TR_META_LOST, (int64_t)published - kept);
        tr_meta_set(r->db, TR_META_INCOMPLETE, why);
        if (sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
            sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
    }
    return err;
}

/* Whoever finishes a trace leaves it one file.  Without a reader the
 * build ran with a rollback journal (tr_db_journal_for_build) and the WAL
 * is gone; with one (a follower) the WAL stayed, holding most of the
 * trace until its size reached SQLite's automatic checkpoint (1000 pages:
 * 64 MB) -- a .db of 64 KB beside a -wal of 18 MB, useless copied alone.
 * Copy every frame into the file now: TRUNCATE also empties the WAL, but
 * waits for readers to leave it; FULL only needs them on the latest
 * snapshot, which a follower is once it read the end. */
static void one_file(sqlite3 *db)
{
    int log = 0, done = 0;
    sqlite3_busy_timeout(db, 200);
    if (sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &log, &done) != SQLITE_OK) {
        sqlite3_busy_timeout(db, 2000);
        sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_FULL, &log, &done);
    }
    sqlite3_busy_timeout(db, 5000);
}

int tr_recorder_finish(tr_recorder *r, tr_progress_fn *progress, void *ctx)
{
    atomic_store(&r->shm->consumer_alive, 1);
    int64_t n;
    while ((n = tr_recorder_poll(r)) > 0) {}
    if (n < 0) return incomplete(r, (int)n);
    if (begin(r) < 0) return incomplete(r, -EIO);
    for (uint32_t i = 0; i < TR_NRINGS; i++) flush_chunk(r, &r->chunks[i]);
    persist_arena(r, 1);
    tr_meta_set_int(r->db, TR_META_EVENTS, (int64_t)r->events);
    tr_meta_set_int(r->db, TR_META_LOST, (int64_t)atomic_load(&r->shm->dropped));
    tr_meta_set_int(r->db, TR_META_LOST_TEXT, (int64_t)atomic_load(&r->shm->text_lost));
    if (atomic_load(&r->shm->refused_procs))
        tr_meta_set_int(r->db, TR_META_UNTRACED_PROCESSES, (int64_t)atomic_load(&r->shm->refused_procs));
    /* Every event the program published is in the file (or counted in
     * lost): the one place that says so. */
    tr_meta_set_int(r->db, TR_META_COMPLETE, 1);
    if (r->err) return incomplete(r, r->err);
    int e = commit(r);
    if (e < 0) return incomplete(r, e);
    tr_db_journal_for_build(r->db);
    /* Tables: in one transaction, so they appear complete or not at all. */
    if ((e = begin(r)) < 0) return e;
    int64_t t0 = mono_ns();
    n = tr_builder_step_all(r->builder, progress, ctx);
    int64_t t1 = mono_ns();
    e = n < 0 ? (int)n : tr_builder_finish(r->builder);
    int64_t t2 = mono_ns();
    if (e < 0) {
        if (!sqlite3_get_autocommit(r->db)) tr_exec(r->db, "ROLLBACK"); /* SQLite may have rolled back itself (disk full) */
        r->in_txn = 0;
        return e;
    }
    e = commit(r);
    if (e == 0) one_file(r->db);
    if (getenv("COSCOPE_BUILD_TIMES"))
        tr_logf("build: rows %.3f s, finish (indexes) %.3f s, commit %.3f s", (t1 - t0) / 1e9,
                (t2 - t1) / 1e9, (mono_ns() - t2) / 1e9);
    return e;
}

uint64_t tr_recorder_events(const tr_recorder *r) { return r->events; }

void tr_recorder_start_clock(tr_recorder *r)
{
    tr_shm *s = r->shm;
    s->mono0 = (uint64_t)mono_ns();
    s->tsc0 = co__tr_now();
    tr_meta_set_int(r->db, TR_META_CLOCK_ORIGIN, (int64_t)s->tsc0);
    tr_builder_set_origin(r->builder, s->tsc0);
}

void tr_recorder_free(tr_recorder *r)
{
    if (!r) return;
    if (r->in_txn) commit(r);
    sqlite3_finalize(r->ins_chunk);
    sqlite3_finalize(r->ins_str);
    sqlite3_finalize(r->ins_loc);
    for (uint32_t i = 0; i < TR_NRINGS; i++) tr_chunk_free(&r->chunks[i]);
    tr_builder_free(r->builder);
    free(r);
}
