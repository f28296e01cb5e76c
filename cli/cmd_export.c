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
    int failed;             /* a read failed: message printed */
    const char *path;
    tr_at *q;               /* the reader's questions at t: a task's step */
} ex;

/* After a read: a reader's negative errno (tracer/reader.h) sets *failed
 * and, the first time, is said as one line with SQLite's message. */
static void fail_line(int *failed, const char *path, sqlite3 *db, int err)
{
    if (err >= 0 || *failed) return;
    *failed = 1;
    if (err == -ENOMEM) fprintf(stderr, "coscope export: %s: out of memory\n", path);
    else if (err == -E2BIG) fprintf(stderr, "coscope export: %s: %s\n", path, tr_db_errmsg(db));
    else if (err == -EPROTO)
        fprintf(stderr, "coscope export: %s: unexpected trace layout (%s); is it from another coscope version?\n", path,
                tr_db_errmsg(db));
    else fprintf(stderr, "coscope export: %s: damaged or truncated database (%s)\n", path, tr_db_errmsg(db));
}
#define check(x, err) fail_line(&(x)->failed, (x)->path, (x)->db, (err))

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

/* "file.c:12" args member, when the location is known. */
static void loc_arg(ex *x, const char *key, tr_src at)
{
    if (!at.file) return;
    char buf[4096];
    snprintf(buf, sizeof buf, "%s:%lld", at.file, (long long)at.line);
    fprintf(x->f, ",\"%s\":", key);
    cli_json_string(x->f, buf);
}

/* ---- sections ---------------------------------------------------------- */

static int meta_member(void *ctx, const char *key, const char *value)
{
    ex *x = ctx;
    fputc(',', x->f);
    cli_json_string(x->f, key);
    fputc(':', x->f);
    cli_json_string(x->f, value ? value : "");
    return 0;
}

static int thread_name(void *ctx, int64_t id, const char *label)
{
    ex *x = ctx;
    ev(x, "M", id, 0);
    fputs(",\"cat\":\"__metadata\",\"name\":\"thread_name\",\"args\":{\"name\":", x->f);
    cli_json_string(x->f, label);
    fputs("}}", x->f);
    ev(x, "M", id, 0);
    fprintf(x->f, ",\"cat\":\"__metadata\",\"name\":\"thread_sort_index\",\"args\":{\"sort_index\":%lld}}", (long long)id);
    return 0;
}

static void metadata(ex *x)
{
    tr_run run;
    tr_run_summary(x->db, 0, &run);
    char name[1024];
    snprintf(name, sizeof name, "%s (coscope)", *run.program ? run.program : "program");
    ev(x, "M", 0, 0);
    fputs(",\"cat\":\"__metadata\",\"name\":\"process_name\",\"args\":{\"name\":", x->f);
    cli_json_string(x->f, name);
    fputs("}}", x->f);
    check(x, tr_walk_tasks(x->db, thread_name, x));
}

/* Steps and awaits: X slices, one after the other on each task's track.
 * A step row holds both: the step, then the await that ended it. */
static int slice(void *ctx, const tr_walk_step *r)
{
    ex *x = ctx;
    ev(x, "X", r->task, r->start);
    fputs(",\"dur\":", x->f);
    jus(x->f, slice_dur(r->start, r->end));
    fputs(",\"cat\":\"" TR_NAME_STEP "\",\"name\":\"run\",\"args\":{", x->f);
    fprintf(x->f, "\"start_ns\":%lld,\"end_ns\":%lld", (long long)r->start, (long long)r->end);
    loc_arg(x, "from", r->from);
    loc_arg(x, "to", r->to);
    if (r->open && !r->awaited) fputs(",\"open\":true", x->f);
    fputs("}}", x->f);
    if (!r->awaited) return 0;
    ev(x, "X", r->task, r->end);
    fputs(",\"dur\":", x->f);
    jus(x->f, slice_dur(r->end, r->resumed));
    fputs(",\"cat\":\"" TR_NAME_AWAIT "\",\"name\":", x->f);
    cli_json_string(x->f, r->what);
    fprintf(x->f, ",\"args\":{\"start_ns\":%lld,\"end_ns\":%lld", (long long)r->end, (long long)r->resumed);
    loc_arg(x, "at", r->to);
    if (r->has_res) fprintf(x->f, ",\"resource\":%lld", (long long)r->res);
    if (r->has_result) fprintf(x->f, ",\"result\":%lld", (long long)r->result);
    if (r->open) fputs(",\"open\":true", x->f);
    fputs("}}", x->f);
    return 0;
}

/* Holds, regions, thread-pool work: async pairs (they straddle steps). */
static int async_span(void *ctx, const tr_walk_span *r)
{
    ex *x = ctx;
    for (int k = 0; k < 2; k++) {
        ev(x, k ? "e" : "b", r->task, k ? r->end : r->start);
        fprintf(x->f, ",\"cat\":\"%s\",\"id\":\"0x%llx\",\"name\":", tr_span_name((unsigned)r->kind),
                (unsigned long long)r->id);
        cli_json_string(x->f, r->name);
        if (!k) {
            fprintf(x->f, ",\"args\":{\"task\":%lld", (long long)r->task);
            if (r->has_res) fprintf(x->f, ",\"resource\":%lld", (long long)r->res);
            loc_arg(x, "at", r->at);
            if (r->open) fputs(",\"open\":true", x->f);
            fputc('}', x->f);
        }
        fputc('}', x->f);
    }
    return 0;
}

/* Logs and marks, named by their text (that is what shows on the track);
 * warnings, named by their kind. */
static int instant(void *ctx, const tr_walk_instant *r)
{
    ex *x = ctx;
    char name[300];
    const char *cat, *key, *msg;
    if (r->kind == TR_WARN) {
        snprintf(name, sizeof name, "warning: %s", r->warning);
        cat = "warning";
        key = "message";
        msg = r->text ? r->text : "";
    } else {
        cat = tr_event_name((unsigned)r->kind);
        key = r->kind == TR_LOG ? "line" : "mark";
        msg = r->text ? r->text : "?";
    }
    ev(x, "i", r->has_task ? r->task : 0, r->ts);
    fprintf(x->f, ",\"s\":\"%s\",\"cat\":\"%s\",\"name\":", r->has_task ? "t" : "g", cat);
    cli_json_string(x->f, r->kind == TR_WARN ? name : msg);
    fprintf(x->f, ",\"args\":{\"%s\":", key);
    cli_json_string(x->f, msg);
    loc_arg(x, "at", r->at);
    fputs("}}", x->f);
    return 0;
}

/* ---- flows ------------------------------------------------------------- */

/* The name of a wake-up's flow: what the waker did. */
static const char *wake_name(int kind)
{
    switch (kind) {
    case TR_END: return "task end";
    case TR_LOCK_REL: return "lock handoff";
    case TR_SEM_REL: return "semaphore handoff";
    case TR_EV_SET: return "event set";
    case TR_COND_NOTIFY: return "notify";
    case TR_FUT_SET: return "future set";
    case TR_Q_PUT: return "queue put";
    case TR_Q_GET: return "queue get";
    default: return tr_event_name((unsigned)kind);
    }
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
    const char *name = wake_name(w->kind);
    tr_step from, to;
    /* The waker's step running at ts; the woken one's beginning at resume. */
    if (tr_step_at(x->q, w->from, w->ts, &from) <= 0 || from.end < w->ts) return 0;
    if (w->resume == INT64_MIN || tr_step_after(x->q, w->to, w->resume - 1, &to) <= 0 || to.start != w->resume) return 0;
    int64_t id = ++x->flows;
    ev(x, "s", w->from, from.start);
    fprintf(x->f, ",\"cat\":\"" TR_NAME_STEP "\",\"id\":%lld,\"name\":", (long long)id);
    cli_json_string(x->f, name);
    fputc('}', x->f);
    ev(x, "f", w->to, to.start);
    fprintf(x->f, ",\"bp\":\"e\",\"cat\":\"" TR_NAME_STEP "\",\"id\":%lld,\"name\":", (long long)id);
    cli_json_string(x->f, name);
    fputc('}', x->f);
    return 0;
}

/* ---- command ----------------------------------------------------------- */

static int export_chrome(sqlite3 *db, FILE *f, const char *path)
{
    static const char *const keys[] = { TR_META_PROGRAM, TR_META_ARGV, TR_META_ENDED, TR_META_EXIT_CODE,
                                        TR_META_SIGNAL, TR_META_START_TIME, TR_META_PID, TR_META_EVENTS,
                                        TR_META_LOST, TR_META_DURATION_NS };
    ex x = { db, f, 1, 0, 0, path, NULL };
    if (tr_at_open(&x.q, db) < 0) {
        check(&x, -EPROTO);
        return 2;
    }
    fputs("{\"displayTimeUnit\":\"ns\",\"otherData\":{\"exporter\":\"coscope\"", f);
    check(&x, tr_walk_meta(db, keys, sizeof keys / sizeof *keys, meta_member, &x));
    fputs("},\"traceEvents\":[", f);
    if (!x.failed) metadata(&x);
    if (!x.failed) check(&x, tr_walk_steps(db, 1, slice, &x));
    if (!x.failed) check(&x, tr_walk_spans(db, 0, async_span, &x));
    if (!x.failed) check(&x, tr_walk_instants(db, instant, &x));
    /* Wake-ups: the reader's edges (tracer/reader_wake.c says which the
     * trace states soundly), each drawn between the two steps. */
    if (!x.failed) check(&x, tr_wakeups(db, flow, &x));
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
    int status = 0;
    if (perfetto) fail_line(&status, path, db, cli_export_perfetto(db, f));
    else status = export_chrome(db, f, path);
    if (status) status = 2;
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
