/* SPDX-License-Identifier: MIT */
/* cmd_export.c -- `coscope export --format chrome`: the trace as Chrome
 * Trace Event JSON (the JSON Object Format, {"traceEvents": [...]}), which
 * Perfetto UI, chrome://tracing and DevTools open.
 *
 * What goes where:
 *   - one track per task: pid 1, tid = task id, named "NAME #ID" (thread_name
 *     metadata) and sorted by id;
 *   - steps (a task running) and awaits (a task suspended, named by what it
 *     waits on: "lock db_lock", "task #7 child", "sleep") are complete 'X'
 *     slices on the task's track.  They follow each other and never nest;
 *   - lock/semaphore holds, annotated regions and thread-pool work can
 *     straddle steps, so they are async 'b'/'e' pairs (own rows per id);
 *   - logs, marks and warnings are instant 'i' events on the task's track
 *     (global when no task);
 *   - wake-ups are flow events from the step of the task that did the
 *     waking ('s') to the step the woken task resumed in ('f', binding to
 *     the enclosing slice; see flow() for where exactly they sit): the
 *     reader's edges (tracer/reader_wake.c), the ones the data states
 *     soundly:
 *       task end        -> the task awaiting it (wait kind task),
 *       lock release    -> the task it was handed to (event arg),
 *       semaphore release -> likewise,
 *       event set / future set -> every waiter open at that instant,
 *       condition notify -> the N longest waiters (N = woken, FIFO),
 *       queue put handed to a getter / get that let a putter in -> the
 *                          longest waiting getter / putter (FIFO).
 *     Gathers (wait kind tasks) carry no per-task edge in the data: no flow.
 *
 * Timestamps are microseconds printed from integer nanoseconds ("%lld.%03lld",
 * exact).  Consumers turn them back into nanoseconds with floating point,
 * which can land a nanosecond off; so that touching slices on one track can
 * never appear to overlap, each X slice is emitted 1 ns shorter than it was.
 */
#define _GNU_SOURCE
#include "cli.h"
#include "export_perfetto.h"
#include "../tracer/tracer.h"
#include "../tracer/reader.h"
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char USAGE[] =
    "usage: coscope export [--format chrome|perfetto] FILE [-o OUT]\n"
    "\n"
    "Write the trace FILE as Chrome Trace Event JSON, for Perfetto UI\n"
    "(ui.perfetto.dev), chrome://tracing or DevTools: one track per task with its\n"
    "steps and awaits as slices, lock holds and regions as async slices, logs and\n"
    "warnings as instants, and wake-ups (task end -> awaiter, lock release -> next\n"
    "holder, ...) as flow arrows.\n"
    "\n"
    "  -f, --format FMT  'chrome' (the default) or 'perfetto': Perfetto's own\n"
    "                    protobuf trace, the same picture for traces of any size\n"
    "                    (interned names, written as it goes; progress on a terminal)\n"
    "  -o, --output OUT  write to OUT (replaced atomically) instead of stdout\n"
    "  -h, --help        this text\n"
    "\n"
    "Exit status: 0, 1 (writing failed), 2 (bad usage or a file that is not a\n"
    "readable coscope trace).\n";

typedef struct ex {
    sqlite3 *db;
    FILE *f;
    int first;              /* no event written yet */
    int64_t flows;
    int failed;             /* a query failed: message printed */
    const char *path;
    tr_at *q;               /* the reader's questions at t: a task's step */
} ex;

/* ---- JSON helpers (strings: cli_json_string) -------------------------- */

/* Microseconds, exactly, from integer nanoseconds. */
static void jus(FILE *f, int64_t ns)
{
    /* Unsigned: -INT64_MIN does not exist (a damaged trace can hold it). */
    uint64_t u = (uint64_t)ns;
    if (ns < 0) { fputc('-', f); u = -u; }
    fprintf(f, "%llu.%03llu", (unsigned long long)(u / 1000), (unsigned long long)(u % 1000));
}

/* An X slice's duration: 1 ns short (see the top), 0 if end is not after
 * start; a span of a damaged trace can be wider than int64_t holds. */
static int64_t slice_dur(int64_t start, int64_t end)
{
    int64_t d;
    if (__builtin_sub_overflow(end, start, &d)) return end > start ? INT64_MAX : 0;
    return d > 0 ? d - 1 : 0;
}


/* Start an event object: separator, phase, pid/tid, ts. */
static void ev(ex *x, const char *ph, int64_t tid, int64_t ts)
{
    fputs(x->first ? "\n" : ",\n", x->f);
    x->first = 0;
    fprintf(x->f, "{\"ph\":\"%s\",\"pid\":1,\"tid\":%lld,\"ts\":", ph, (long long)tid);
    jus(x->f, ts);
}

static const char *text(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

static int is_null(sqlite3_stmt *st, int i) { return sqlite3_column_type(st, i) == SQLITE_NULL; }

static sqlite3_stmt *prep(ex *x, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (x->failed) return NULL;
    if (sqlite3_prepare_v2(x->db, sql, -1, &st, NULL) != SQLITE_OK) {
        int e = sqlite3_errcode(x->db);
        if (e == SQLITE_CORRUPT || e == SQLITE_NOTADB || e == SQLITE_IOERR)
            fprintf(stderr, "coscope export: %s: damaged or truncated database (%s)\n", x->path, tr_db_errmsg(x->db));
        else
            fprintf(stderr, "coscope export: %s: unexpected trace layout (%s); is it from another coscope version?\n",
                    x->path, tr_db_errmsg(x->db));
        x->failed = 1;
    }
    return st;
}

static int row(ex *x, sqlite3_stmt *st)
{
    if (!st || x->failed) return 0;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) return 1;
    if (rc != SQLITE_DONE) {
        fprintf(stderr, "coscope export: %s: damaged or truncated database (%s)\n", x->path, tr_db_errmsg(x->db));
        x->failed = 1;
    }
    return 0;
}

/* "file.c:12" args member, when the location is known. */
static void loc_arg(ex *x, const char *key, sqlite3_stmt *st, int file_col, int line_col)
{
    if (is_null(st, file_col)) return;
    char buf[4096];
    snprintf(buf, sizeof buf, "%s:%lld", text(st, file_col), (long long)sqlite3_column_int64(st, line_col));
    fprintf(x->f, ",\"%s\":", key);
    cli_json_string(x->f, buf);
}

/* ---- sections ---------------------------------------------------------- */

static void metadata(ex *x)
{
    sqlite3_stmt *st = prep(x, "SELECT (SELECT value FROM meta WHERE key = '" TR_META_PROGRAM "')");
    if (row(x, st)) {
        char name[1024];
        snprintf(name, sizeof name, "%s (coscope)", is_null(st, 0) ? "program" : text(st, 0));
        ev(x, "M", 0, 0);
        fputs(",\"cat\":\"__metadata\",\"name\":\"process_name\",\"args\":{\"name\":", x->f);
        cli_json_string(x->f, name);
        fputs("}}", x->f);
    }
    sqlite3_finalize(st);
    st = prep(x, "SELECT id, name FROM tasks ORDER BY id");
    while (row(x, st)) {
        int64_t id = sqlite3_column_int64(st, 0);
        char name[1024];
        snprintf(name, sizeof name, "%s #%lld", is_null(st, 1) ? "task" : text(st, 1), (long long)id);
        ev(x, "M", id, 0);
        fputs(",\"cat\":\"__metadata\",\"name\":\"thread_name\",\"args\":{\"name\":", x->f);
        cli_json_string(x->f, name);
        fputs("}}", x->f);
        ev(x, "M", id, 0);
        fprintf(x->f, ",\"cat\":\"__metadata\",\"name\":\"thread_sort_index\",\"args\":{\"sort_index\":%lld}}", (long long)id);
    }
    sqlite3_finalize(st);
}

/* Steps and awaits: X slices, one after the other on each task's track.
 * A step row holds both: the step, then the await that ended it. */
static void await_slice(ex *x, sqlite3_stmt *st, int64_t task, int64_t start, int64_t end, int open)
{
    const char *wait = text(st, 3);
    char name[600];
    if (!strcmp(wait, "task") && !is_null(st, 4))
        snprintf(name, sizeof name, "task #%lld %s", (long long)sqlite3_column_int64(st, 4),
                 is_null(st, 14) ? "" : text(st, 14));
    else if (!is_null(st, 13) && *text(st, 13))
        snprintf(name, sizeof name, "%s %s", wait, text(st, 13));
    else if (!is_null(st, 12))
        snprintf(name, sizeof name, "%s #%lld", wait, (long long)sqlite3_column_int64(st, 4));
    else snprintf(name, sizeof name, "%s", wait);
    ev(x, "X", task, start);
    fputs(",\"dur\":", x->f);
    jus(x->f, slice_dur(start, end));
    fputs(",\"cat\":\"await\",\"name\":", x->f);
    cli_json_string(x->f, name);
    fprintf(x->f, ",\"args\":{\"start_ns\":%lld,\"end_ns\":%lld", (long long)start, (long long)end);
    loc_arg(x, "at", st, 10, 11);
    if (!is_null(st, 4)) fprintf(x->f, ",\"resource\":%lld", (long long)sqlite3_column_int64(st, 4));
    if (!is_null(st, 5)) fprintf(x->f, ",\"result\":%lld", (long long)sqlite3_column_int64(st, 5));
    if (open) fputs(",\"open\":true", x->f);
    fputs("}}", x->f);
}

static void slices(ex *x)
{
    sqlite3_stmt *st = prep(x,
        "SELECT s.task, s.start, s.end, s.wait, s.resource, s.result, s.open, s.resumed,"
        "  l.file, l.line, l2.file, l2.line, r.kind, r.name, t.name"
        " FROM spans s LEFT JOIN locations l ON l.id = s.loc LEFT JOIN locations l2 ON l2.id = s.end_loc"
        " LEFT JOIN resources r ON r.id = s.resource AND s.wait <> '" CO_WAIT_NAME_TASK "'"
        " LEFT JOIN tasks t ON t.id = s.resource AND s.wait = '" CO_WAIT_NAME_TASK "'"
        " WHERE s.kind = '" TR_NAME_STEP "' AND s.task <> 0 ORDER BY s.task, s.start");
    while (row(x, st)) {
        int64_t task = sqlite3_column_int64(st, 0), start = sqlite3_column_int64(st, 1), end = sqlite3_column_int64(st, 2);
        int awaited = !is_null(st, 3), open = sqlite3_column_int(st, 6);
        ev(x, "X", task, start);
        fputs(",\"dur\":", x->f);
        jus(x->f, slice_dur(start, end));
        fputs(",\"cat\":\"step\",\"name\":\"run\",\"args\":{", x->f);
        fprintf(x->f, "\"start_ns\":%lld,\"end_ns\":%lld", (long long)start, (long long)end);
        loc_arg(x, "from", st, 8, 9);
        loc_arg(x, "to", st, 10, 11);
        if (open && !awaited) fputs(",\"open\":true", x->f);
        fputs("}}", x->f);
        if (awaited) await_slice(x, st, task, end, sqlite3_column_int64(st, 7), open);
    }
    sqlite3_finalize(st);
}

/* Holds, regions, thread-pool work: async pairs (they straddle steps). */
static void async_spans(ex *x)
{
    sqlite3_stmt *st = prep(x,
        "SELECT s.id, s.kind, s.task, s.resource, s.start, s.end, s.open, r.kind, r.name, str.text, l.file, l.line"
        " FROM spans s LEFT JOIN resources r ON r.id = s.resource AND s.kind = '" TR_NAME_HOLD "'"
        " LEFT JOIN strings str ON str.id = s.resource AND s.kind = '" TR_NAME_REGION "'"
        " LEFT JOIN locations l ON l.id = s.loc"
        " WHERE s.kind IN ('" TR_NAME_HOLD "', '" TR_NAME_REGION "', '" TR_NAME_WORK "') ORDER BY s.start");
    while (row(x, st)) {
        const char *kind = text(st, 1);
        int64_t id = sqlite3_column_int64(st, 0), task = is_null(st, 2) ? 0 : sqlite3_column_int64(st, 2);
        char name[600];
        int sk = tr_span_from_name(kind);
        if (sk == TR_SPAN_HOLD)
            snprintf(name, sizeof name, "hold %s", !is_null(st, 8) ? text(st, 8) : is_null(st, 7) ? "?" : text(st, 7));
        else if (sk == TR_SPAN_REGION) snprintf(name, sizeof name, "%s", is_null(st, 9) ? "region" : text(st, 9));
        else snprintf(name, sizeof name, "thread pool work");
        for (int k = 0; k < 2; k++) {
            ev(x, k ? "e" : "b", task, sqlite3_column_int64(st, k ? 5 : 4));
            fprintf(x->f, ",\"cat\":\"%s\",\"id\":\"0x%llx\",\"name\":", kind, (unsigned long long)id);
            cli_json_string(x->f, name);
            if (!k) {
                fprintf(x->f, ",\"args\":{\"task\":%lld", (long long)task);
                if (!is_null(st, 3)) fprintf(x->f, ",\"resource\":%lld", (long long)sqlite3_column_int64(st, 3));
                loc_arg(x, "at", st, 10, 11);
                if (sqlite3_column_int(st, 6)) fputs(",\"open\":true", x->f);
                fputc('}', x->f);
            }
            fputc('}', x->f);
        }
    }
    sqlite3_finalize(st);
}

static void instant(ex *x, sqlite3_stmt *st, int task_col, int ts_col, const char *cat, const char *name,
                    const char *msg_key, const char *msg, int file_col, int line_col)
{
    int has_task = !is_null(st, task_col);
    ev(x, "i", has_task ? sqlite3_column_int64(st, task_col) : 0, sqlite3_column_int64(st, ts_col));
    fprintf(x->f, ",\"s\":\"%s\",\"cat\":\"%s\",\"name\":", has_task ? "t" : "g", cat);
    cli_json_string(x->f, name);
    fputs(",\"args\":{", x->f);
    fprintf(x->f, "\"%s\":", msg_key);
    cli_json_string(x->f, msg);
    loc_arg(x, "at", st, file_col, line_col);
    fputs("}}", x->f);
}

static void instants(ex *x)
{
    sqlite3_stmt *st = prep(x,
        "SELECT e.ts, e.task, e.kind, s.text, l.file, l.line FROM events e"
        " LEFT JOIN strings s ON s.id = e.resource LEFT JOIN locations l ON l.id = e.loc"
        " WHERE e.kind IN ('log', 'mark') ORDER BY e.ts");
    while (row(x, st)) {
        const char *kind = text(st, 2), *msg = is_null(st, 3) ? "?" : text(st, 3);
        /* Named by their text: that is what shows on the track. */
        instant(x, st, 1, 0, kind, msg, kind[0] == 'l' ? "line" : "mark", msg, 4, 5);
    }
    sqlite3_finalize(st);
    st = prep(x,
        "SELECT w.ts, w.task, w.kind, w.message, l.file, l.line, w.dur FROM warnings w"
        " LEFT JOIN locations l ON l.id = w.loc ORDER BY w.ts");
    while (row(x, st)) {
        char name[300];
        snprintf(name, sizeof name, "warning: %s", text(st, 2));
        instant(x, st, 1, 0, "warning", name, "message", is_null(st, 3) ? "" : text(st, 3), 4, 5);
    }
    sqlite3_finalize(st);
}

/* ---- flows ------------------------------------------------------------- */

/* The step of `task` running at ts: [*s, *e].  0 if none. */
static int step_at(ex *x, int64_t task, int64_t ts, int64_t *s, int64_t *e)
{
    tr_step st;
    if (tr_step_at(x->q, task, ts, &st) <= 0) return 0;
    *s = st.start;
    *e = st.end;
    return *e >= ts;
}

/* The step of `task` that begins at ts (the resume after an await). */
static int step_from(ex *x, int64_t task, int64_t ts, int64_t *s, int64_t *e)
{
    tr_step st;
    if (ts == INT64_MIN || tr_step_after(x->q, task, ts - 1, &st) <= 0) return 0;
    *s = st.start;
    *e = st.end;
    return *s == ts;
}

/* One flow from the step of `from` running at ts to the step of `to` that
 * begins at resume.  Both ends sit exactly at their step's start, with the
 * step's category: DevTools binds a flow event to the slice with the same
 * ts, tid and cat; Perfetto and chrome://tracing bind to the enclosing
 * slice, which is that step too (slices are 1 ns short, so the slice before
 * it does not reach ts).  Arrows are drawn between slices, so where inside
 * the waker's step the wake-up happened is not lost: it is in the step. */
static int flow(void *ctx, const tr_wake *w)
{
    ex *x = ctx;
    const char *name;
    switch (w->kind) {
    case TR_END: name = "task end"; break;
    case TR_LOCK_REL: name = "lock handoff"; break;
    case TR_SEM_REL: name = "semaphore handoff"; break;
    case TR_EV_SET: name = "event set"; break;
    case TR_COND_NOTIFY: name = "notify"; break;
    case TR_FUT_SET: name = "future set"; break;
    case TR_Q_PUT: name = "queue put"; break;
    case TR_Q_GET: name = "queue get"; break;
    default: name = tr_event_name((unsigned)w->kind); break;
    }
    int64_t s1, e1, s2, e2;
    if (!step_at(x, w->from, w->ts, &s1, &e1) || !step_from(x, w->to, w->resume, &s2, &e2)) return 0;
    int64_t id = ++x->flows;
    ev(x, "s", w->from, s1);
    fprintf(x->f, ",\"cat\":\"step\",\"id\":%lld,\"name\":", (long long)id);
    cli_json_string(x->f, name);
    fputc('}', x->f);
    ev(x, "f", w->to, s2);
    fprintf(x->f, ",\"bp\":\"e\",\"cat\":\"step\",\"id\":%lld,\"name\":", (long long)id);
    cli_json_string(x->f, name);
    fputc('}', x->f);
    return 0;
}

/* Wake-ups as flows: the reader's edges (tracer/reader_wake.c says which
 * the trace states soundly), each drawn between the two steps. */
static void flows(ex *x)
{
    if (x->failed) return;
    int r = tr_wakeups(x->db, flow, x);
    if (r < 0) {
        fprintf(stderr, "coscope export: %s: %s (%s)\n", x->path,
                r == -ENOMEM ? "out of memory" : "damaged or truncated database", tr_db_errmsg(x->db));
        x->failed = 1;
    }
}

/* ---- command ----------------------------------------------------------- */

static int export_chrome(sqlite3 *db, FILE *f, const char *path)
{
    ex x = { db, f, 1, 0, 0, path, NULL };
    if (tr_at_open(&x.q, db) < 0) {
        fprintf(stderr, "coscope export: %s: unexpected trace layout (%s); is it from another coscope version?\n", path,
                tr_db_errmsg(db));
        return 2;
    }
    fputs("{\"displayTimeUnit\":\"ns\",\"otherData\":{\"exporter\":\"coscope\"", f);
    sqlite3_stmt *st = prep(&x, "SELECT key, value FROM meta WHERE key IN ('" TR_META_PROGRAM "', '" TR_META_ARGV "', '"
                                TR_META_ENDED "', '" TR_META_EXIT_CODE "', '" TR_META_SIGNAL "', '" TR_META_START_TIME
                                "', '" TR_META_PID "', '" TR_META_EVENTS "', '" TR_META_LOST "', '" TR_META_DURATION_NS
                                "') ORDER BY key");
    while (row(&x, st)) {
        fputc(',', f);
        cli_json_string(f, text(st, 0));
        fputc(':', f);
        cli_json_string(f, is_null(st, 1) ? "" : text(st, 1));
    }
    sqlite3_finalize(st);
    fputs("},\"traceEvents\":[", f);
    metadata(&x);
    slices(&x);
    async_spans(&x);
    instants(&x);
    flows(&x);
    fputs("\n]}\n", f);
    tr_at_close(x.q);
    return x.failed ? 2 : 0;
}

int cli_export(int argc, char **argv)
{
    static const struct option opts[] = {
        { "format", required_argument, NULL, 'f' },
        { "output", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { 0, 0, 0, 0 },
    };
    const char *format = "chrome", *out = NULL;
    int c;
    opterr = 0;
    optind = 0; /* 0, not 1: glibc then forgets a previous parse (found by tests/fuzz) */
    while ((c = getopt_long(argc, argv, "f:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f': format = optarg; break;
        case 'o': out = optarg; break;
        case 'h': fputs(USAGE, stdout); return 0;
        default:
            if (optopt == 'f' || optopt == 'o')
                fprintf(stderr, "coscope export: %s needs a value (see coscope export --help)\n", argv[optind - 1]);
            else
                fprintf(stderr, "coscope export: unknown option '%s' (see coscope export --help)\n", argv[optind - 1]);
            return 2;
        }
    }
    int perfetto = !strcmp(format, "perfetto");   /* export_perfetto.c */
    if (strcmp(format, "chrome") != 0 && !perfetto) {
        fprintf(stderr, "coscope export: unknown format '%s' (known: chrome, perfetto)\n", format);
        return 2;
    }
    if (argc - optind != 1) {
        fprintf(stderr, "coscope export: %s (usage: coscope export --format chrome|perfetto FILE [-o OUT])\n",
                argc - optind < 1 ? "no trace file given" : "one trace file at a time");
        return 2;
    }
    const char *path = argv[optind];
    tr_reader rd;
    sqlite3 *db = cli_open(&rd, "export", path) == 0 ? rd.db : NULL;
    if (!db) return 2;

    /* To a file: write a temporary beside it and rename, so OUT is either
     * the old file or a complete export, never half of one. */
    FILE *f = stdout;
    char tmp[4096], real[4096];
    if (out && strcmp(out, "-") != 0) {
        /* Only a regular file is ever replaced: renaming over a device, a
         * fifo or a directory's entry would destroy it (as root, /dev/full
         * became a file).  A symbolic link is followed: its target is
         * replaced, the link stays. */
        struct stat st;
        mode_t mode = 0666;
        int exists = stat(out, &st) == 0;
        if (exists && !S_ISREG(st.st_mode)) {
            fprintf(stderr, "coscope export: %s is not a regular file; not replacing it (write to stdout instead)\n", out);
            tr_reader_close(&rd);
            return 2;
        }
        if (exists) {
            mode = st.st_mode & 07777;
            if (realpath(out, real)) out = real;
        } else {
            mode_t um = umask(0);
            umask(um);
            mode &= ~um;
        }
        int fd = -1;
        if (strlen(out) + 11 > sizeof tmp) errno = ENAMETOOLONG;
        else {
            memcpy(tmp, out, strlen(out));
            memcpy(tmp + strlen(out), ".tmpXXXXXX", 11);
            fd = mkstemp(tmp);
        }
        if (fd < 0 || fchmod(fd, mode) != 0 || !(f = fdopen(fd, "w"))) {
            fprintf(stderr, "coscope export: cannot write %s: %s\n", out, strerror(errno));
            if (fd >= 0) { close(fd); unlink(tmp); }
            tr_reader_close(&rd);
            return 1;
        }
    }
    static char buf[1 << 16];
    setvbuf(f, buf, _IOFBF, sizeof buf);
    if (perfetto && f == stdout && isatty(1)) {
        fprintf(stderr, "coscope export: a Perfetto trace is binary; write it with -o FILE or redirect stdout\n");
        tr_reader_close(&rd);
        return 2;
    }
    int status = perfetto ? cli_export_perfetto(db, f, path) : export_chrome(db, f, path);
    tr_reader_close(&rd);
    /* errno right after the call that failed: later calls change it (a
     * full disk read "No such file or directory"). */
    int werr = fflush(f) != 0 ? errno : ferror(f) ? EIO : 0;
    if (f != stdout) {
        if (fclose(f) != 0 && !werr) werr = errno;
        if (status || werr) unlink(tmp);
        else if (rename(tmp, out) != 0) {
            fprintf(stderr, "coscope export: cannot write %s: %s\n", out, strerror(errno));
            unlink(tmp);
            return 1;
        }
    }
    if (werr && !status) {
        fprintf(stderr, "coscope export: writing %s failed: %s\n", out && strcmp(out, "-") ? out : "stdout",
                strerror(werr));
        return 1;
    }
    return status;
}
