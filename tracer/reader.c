/* SPDX-License-Identifier: MIT */
/* reader.c -- opening a trace to read it: the one way every command and
 * the TUI open a trace file.
 *
 * A trace is input: it may be cut short, damaged, from a newer coscope,
 * not a trace at all, still being written by a running program, or left
 * unfinished by a recorder that was killed.  tr_reader_open tells these
 * apart before anything reads the tables, finishes an interrupted build
 * once (the only write a reader ever makes), and hands back a read-only
 * connection with a reason or a note in the struct -- it prints nothing,
 * so the CLI and the TUI (before curses starts) word the same facts the
 * same way.
 */
#define _GNU_SOURCE
#include "tracer.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

static int alive(int64_t pid)
{
    return pid > 0 && pid <= 0x7fffffff && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

int tr_reader_still_recording(sqlite3 *db)
{
    sqlite3_stmt *st;
    int running = 0;
    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = '" TR_META_ENDED "'", -1, &st, NULL) != SQLITE_OK) return 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        running = v && tr_ending_from_name(v) == TR_ENDED_RUNNING;
    }
    sqlite3_finalize(st);
    int64_t recorder = tr_meta_int(db, TR_META_RECORDER_PID, 0);
    /* The program, or the recorder: between the trace's creation and the
     * fork, only the recorder (coscope run) has a pid to check; after the
     * program's end, the recorder is finishing the tables until `built`. */
    if (running) return alive(tr_meta_int(db, TR_META_PID, 0)) || alive(recorder);
    return !tr_meta_int(db, TR_META_BUILT, 0) && alive(recorder);
}

/* A file cut short (a copy that stopped, a full disk) loses its last pages,
 * and SQLite only notices when a query reaches them -- maybe never, if they
 * held free pages or an index nobody reads -- so the results would be
 * silently wrong.  The header says how many pages the database has; a file
 * shorter than that is truncated.  Only trusted when the header's size is
 * valid (its version-valid-for matches the change counter) and there is no
 * WAL content, which may legitimately hold the pages not yet written back. */
static int truncated(const char *path, const char *wal, char *why, size_t cap)
{
    struct stat st, ws;
    if (stat(path, &st) != 0 || (stat(wal, &ws) == 0 && ws.st_size > 0)) return 0;
    FILE *f = fopen(path, "rb");
    unsigned char h[100];
    size_t got = f ? fread(h, 1, sizeof h, f) : 0;
    if (f) fclose(f);
    if (got < sizeof h || memcmp(h, "SQLite format 3", 16) != 0) return 0; /* tr_db_open says what it is */
#define BE32(p) ((uint32_t)(p)[0] << 24 | (uint32_t)(p)[1] << 16 | (uint32_t)(p)[2] << 8 | (uint32_t)(p)[3])
    uint32_t page = (uint32_t)h[16] << 8 | h[17];
    if (page == 1) page = 65536;
    uint32_t change = BE32(h + 24), pages = BE32(h + 28), valid_for = BE32(h + 92);
#undef BE32
    if (page < 512 || (page & (page - 1)) || valid_for != change || pages == 0) return 0;
    uint64_t want = (uint64_t)pages * page;
    if ((uint64_t)st.st_size >= want) return 0;
    snprintf(why, cap, "%s: damaged or truncated database (the file has %lld bytes, its header says %llu)", path,
             (long long)st.st_size, (unsigned long long)want);
    return 1;
}

static int fail(tr_reader *r, int err, const char *why)
{
    snprintf(r->why, sizeof r->why, "%s", why);
    return err;
}

static int open_trace(tr_reader *r, const char *path, tr_progress_fn *progress, void *ctx)
{
    const char *why;
    memset(r, 0, sizeof *r);
    if (strlen(path) > sizeof r->side_wal - 8) return fail(r, -ENAMETOOLONG, "file name too long");
    snprintf(r->side_wal, sizeof r->side_wal, "%s-wal", path);
    snprintf(r->side_shm, sizeof r->side_shm, "%s-shm", path);
    r->side_ours = !exists(r->side_wal) && !exists(r->side_shm);
    if (truncated(path, r->side_wal, r->why, sizeof r->why)) return -EILSEQ;
    int e = tr_db_open(&r->db, path, 0, &why);
    if (e < 0) return fail(r, e, why);
    if (tr_meta_int(r->db, TR_META_BUILT, 0)) return 0;
    r->side_ours = 0; /* a trace not finished: its side files are the writer's business */
    if (tr_reader_still_recording(r->db)) {
        r->recording = r->followed = 1;
        snprintf(r->note, sizeof r->note, "%s is still being recorded; its tables may be partial", path);
        return 0;
    }
    /* The recorder stopped before finishing the tables (it was killed, or
     * the machine went down): build them from the saved chunks now, once,
     * then read as usual.  Readers get a read-only connection either way. */
    sqlite3_close(r->db);
    r->db = NULL;
    sqlite3 *w;
    e = tr_db_open(&w, path, 1, &why);
    if (e == 0) {
        e = tr_build_complete(w, progress, ctx);
        sqlite3_close(w);
        if (e < 0)
            snprintf(r->note, sizeof r->note, "cannot finish the tables of %s (%s); they may be partial", path,
                     strerror(-e));
        else
            r->finished_now = 1;
    } else {
        snprintf(r->note, sizeof r->note, "%s was not finished and cannot be written (%s); its tables may be partial",
                 path, why);
    }
    r->side_ours = !exists(r->side_wal) && !exists(r->side_shm);
    e = tr_db_open(&r->db, path, 0, &why);
    if (e < 0) return fail(r, e, why);
    if (!tr_meta_int(r->db, TR_META_BUILT, 0)) r->side_ours = 0;
    return 0;
}

/* What the file was when opened, for tr_reader_check. */
static void remember(tr_reader *r, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) return;
    r->size0 = (int64_t)st.st_size;
    r->dev0 = (uint64_t)st.st_dev;
    r->ino0 = (uint64_t)st.st_ino;
}

int tr_reader_open(tr_reader *r, const char *path, tr_progress_fn *progress, void *ctx)
{
    int e = open_trace(r, path, progress, ctx);
    if (e == 0) {
        remember(r, path);
        sqlite3_limit(r->db, SQLITE_LIMIT_LENGTH, TR_VALUE_MAX); /* no value over it is loaded (tracer.h) */
    }
    if (e < 0 || r->recording) return e;
    /* A recording that stopped short (a full disk, a killed recorder) is
     * missing events, whatever its tables say once built: every reader
     * says so, every time (meta.complete is 0; older traces have none). */
    if (tr_meta_int(r->db, TR_META_COMPLETE, 1) == 0) {
        sqlite3_stmt *st;
        char why[200] = "the recorder stopped before the end";
        if (sqlite3_prepare_v2(r->db, "SELECT value FROM meta WHERE key = '" TR_META_INCOMPLETE "'", -1, &st, NULL) == SQLITE_OK) {
            if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
                tr_sanitize(why, sizeof why, (const char *)sqlite3_column_text(st, 0));
            sqlite3_finalize(st);
        }
        size_t n = strlen(r->note);
        snprintf(r->note + n, sizeof r->note - n, "%s%s is incomplete: %s; events are missing", n ? "; " : "", path,
                 why);
        r->incomplete = 1;
    }
    return 0;
}

int tr_reader_check(tr_reader *r)
{
    if (r->damage[0]) return 1;
    if (!r->db || !r->ino0) return 0;
    char path[sizeof r->side_wal];
    snprintf(path, sizeof path, "%.*s", (int)(strlen(r->side_wal) - 4), r->side_wal);
    struct stat st;
    char why[640] = "";
    if (stat(path, &st) != 0)
        snprintf(why, sizeof why, "file removed");
    else if ((uint64_t)st.st_ino != r->ino0 || (uint64_t)st.st_dev != r->dev0)
        snprintf(why, sizeof why, "file replaced");
    else if (truncated(path, r->side_wal, why, sizeof why) || (!r->recording && (int64_t)st.st_size < r->size0))
        /* Fewer pages than the header says, or (a finished trace only ever
         * stays its size; a recording grows) fewer bytes than at the open. */
        snprintf(why, sizeof why, "file cut short (%lld of %lld bytes)", (long long)st.st_size,
                 (long long)r->size0);
    else
        return 0;
    snprintf(r->damage, sizeof r->damage, "%s", why);
    return 1;
}

/* A follower outlives the recorder it followed: the recorder checkpointed
 * the trace into the file (tr_recorder_finish) but could not remove the
 * WAL while we read, and a read-only connection cannot.  The last one out
 * of a finished trace does, with a connection of its own whose close
 * checkpoints and removes the -wal and -shm when nobody else has them
 * open (SQLite's own rule: it leaves them to anyone still reading).  No
 * row changes: the file only becomes whole. */
static void leave_one_file(const char *path)
{
    sqlite3 *w;
    if (sqlite3_open_v2(path, &w, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(w, 200);
        sqlite3_exec(w, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    }
    sqlite3_close(w);
}

void tr_reader_close(tr_reader *r)
{
    if (!r->db) return;
    /* Only a trace this reader watched being recorded, finished since. */
    int tidy = !r->side_ours && r->followed && exists(r->side_wal) && tr_meta_int(r->db, TR_META_BUILT, 0) &&
               !tr_reader_still_recording(r->db);
    sqlite3_close(r->db);
    r->db = NULL;
    if (tidy) {
        char path[sizeof r->side_wal];
        snprintf(path, sizeof path, "%.*s", (int)(strlen(r->side_wal) - 4), r->side_wal);
        leave_one_file(path);
    }
    /* A read-only connection cannot checkpoint, so SQLite leaves the WAL
     * files it created next to the trace.  A finished trace has nothing in
     * them: remove them when this reader made them and they are empty. */
    struct stat st;
    if (r->side_ours && stat(r->side_wal, &st) == 0 && st.st_size == 0) {
        unlink(r->side_wal);
        unlink(r->side_shm);
    }
    r->side_ours = 0;
}
