/* SPDX-License-Identifier: MIT */
/* cmd_report.c -- `coscope report`: a text summary of a trace for people and
 * CI: how the run ended, the warnings (grouped by kind, with source lines),
 * the tasks that were busiest and that waited most, and the lock contention
 * table.  Everything comes from the documented tables and views (meta,
 * warnings, task_summary, lock_contention), so what the report says can be
 * checked, or taken further, with `coscope sql`; the run, the tasks and
 * the contention tables are read through the one reader (tracer/reader.h:
 * reader_run.c, reader_tables.c), as the TUI reads them.
 *
 * Also home of cli_open(), the open-for-reading every command shares.
 */
#define _GNU_SOURCE
#include "cli.h"
#include "../tracer/tracer.h"
#include "../tracer/reader.h"
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char USAGE[] =
    "usage: coscope report FILE [--fail-on-warnings] [--top N]\n"
    "\n"
    "Summarise the trace FILE: program and how the run ended, duration, events\n"
    "recorded and lost, warnings grouped by kind with their source lines, the\n"
    "tasks busiest and waiting longest (view task_summary) and the contention\n"
    "of every lock, semaphore and queue (view lock_contention).\n"
    "\n"
    "  --fail-on-warnings  exit with status 1 if the trace has any warning (for CI)\n"
    "  --top N             rows per table and warnings shown per kind (default 10)\n"
    "  -h, --help          this text\n"
    "\n"
    "Exit status: 0, 1 (warnings with --fail-on-warnings), 2 (bad usage or a file\n"
    "that is not a readable coscope trace).  Colour only when stdout is a terminal\n"
    "(and NO_COLOR is unset).\n";

/* ---- opening (shared by every command that reads a trace) ------------- */

/* On a terminal, a long build rewrites one line with how far it got. */
static void progress_line(void *ctx, int64_t done, int64_t total)
{
    fprintf(stderr, "\rcoscope %s: finishing the trace: %lld of %lld events", (const char *)ctx, (long long)done,
            (long long)total);
}

int cli_open(tr_reader *r, const char *cmd, const char *path)
{
    int tty = isatty(2);
    int e = tr_reader_open(r, path, tty ? progress_line : NULL, (void *)cmd);
    if (tty && r->finished_now) fputs("\r\033[K", stderr);
    if (e < 0) {
        fprintf(stderr, "coscope %s: %s\n", cmd, r->why);
        return e;
    }
    if (r->note[0]) fprintf(stderr, "coscope %s: note: %s\n", cmd, r->note);
    return 0;
}

/* ---- output helpers ---------------------------------------------------- */

#define WIDTH 100

static int colour;
static const char *C_BOLD = "\033[1m", *C_DIM = "\033[2m", *C_RED = "\033[31m", *C_YEL = "\033[33m",
                  *C_GRN = "\033[32m", *C_OFF = "\033[0m";
#define C(x) (colour ? (x) : "")

/* A reader's query failed after the file opened fine: the file is damaged
 * further in (tr_db_open only probes the first pages), or it is from a
 * coscope whose tables differ.  Either way, one line (check) and exit
 * status 2. */
static const char *g_path;
static int g_failed;

/* Trace text made safe for the terminal (tr_sanitize): names, messages,
 * paths and meta values come from the traced program, or from whoever
 * made the file.  Values stay valid until 16 more have been made; none is
 * longer than MAX_TEXT (a megabyte-long value is cut: no line of the
 * report shows more). */
#define MAX_TEXT 4096
static const char *safe(const char *s)
{
    static char ring[16][MAX_TEXT];
    static unsigned next_slot;
    char *buf = ring[next_slot++ % 16];
    tr_sanitize(buf, MAX_TEXT, s);
    return buf;
}

/* Print text wrapped at WIDTH with every line indented by ind spaces. */
static void wrapped(const char *text, int ind)
{
    const char *p = text;
    int avail = WIDTH - ind;
    while (*p) {
        int n = (int)strlen(p);
        int take = n;
        if (n > avail) {
            take = avail;
            while (take > avail / 2 && p[take] != ' ') take--;
            if (p[take] != ' ') take = avail;
        }
        printf("%*s%.*s\n", ind, "", take, p);
        p += take;
        while (*p == ' ') p++;
    }
}

/* "file:line (func)" in at most w bytes (w < WIDTH): the path gives way
 * first.  out has room for 2 * WIDTH. */
static void where(char *out, const char *loc, const char *func, size_t w)
{
    char fb[40], lb[WIDTH];
    const char *f = tr_fit(fb, sizeof fb, func && *func ? func : "?", 24);
    size_t room = w > strlen(f) + 3 ? w - strlen(f) - 3 : 4;
    snprintf(out, 2 * WIDTH, "%s (%s)", tr_fit_left(lb, sizeof lb, loc, room), f);
}

static void heading(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("\n%s", C(C_BOLD));
    vprintf(fmt, ap);
    printf("%s\n", C(C_OFF));
    va_end(ap);
}

/* ---- sections ---------------------------------------------------------- */

/* The run as the reader sums it up (tr_run_summary, tr_tasks_by_state:
 * what the TUI's header shows too); this prints it, its texts sanitized. */
static void run_section(sqlite3 *db, const char *path)
{
    char b1[16];
    tr_run run;
    tr_run_summary(db, 1, &run);
    const char *program = run.argv[0] ? run.argv : run.program[0] ? run.program : "?";
    printf("%scoscope report%s %s\n\n", C(C_BOLD), C(C_OFF), safe(path));
    char pb[WIDTH];
    printf("  program   %s\n", tr_fit(pb, sizeof pb, safe(program), WIDTH - 12));
    char sb[40], eb[WIDTH], gb[24];
    const char *start = run.start_time[0] ? tr_fit(sb, sizeof sb, safe(run.start_time), 32) : NULL;
    if (start || run.pid) {
        printf("  started   %s", start ? start : "");
        if (run.pid) printf("%spid %lld", start ? "  " : "", (long long)run.pid);
        printf("\n");
    }
    printf("  ended     ");
    int how = run.ending;
    if (!run.has_ended) printf("unknown (no '" TR_META_ENDED "' in meta)\n");
    else if (how == TR_ENDED_EXIT)
        printf("%sexited with status %lld%s\n", C(run.exit_code ? C_YEL : C_GRN), (long long)run.exit_code, C(C_OFF));
    else if (how == TR_ENDED_SIGNAL)
        printf("%skilled by signal %lld (SIG%s)%s\n", C(C_RED), (long long)run.signal,
               run.signal_name[0] ? tr_fit(gb, sizeof gb, safe(run.signal_name), 16) : "?", C(C_OFF));
    else if (how == TR_ENDED_STOPPED) printf("tracing stopped by co_trace_stop()\n");
    else if (how == TR_ENDED_DUMPED) printf("a flight recorder's window, written while the program ran on\n");
    else if (how == TR_ENDED_RUNNING)
        printf("%sstill running, or the recorder stopped before the end%s\n", C(C_YEL), C(C_OFF));
    else printf("%s\n", tr_fit(eb, sizeof eb, safe(run.ended), WIDTH - 12));
    if (run.flight_trigger[0]) printf("  flight    the last window, dumped by %s\n", safe(run.flight_trigger));
    printf("  duration  %s\n", tr_fmt_dur(b1, run.duration_ns));
    printf("  events    %lld recorded, %s%lld lost%s\n", (long long)run.events, C(run.lost ? C_RED : ""),
           (long long)run.lost, C(run.lost ? C_OFF : ""));
    if (run.lost_text > 0)
        printf("  %stexts     %lld events without their text (the string store was full)%s\n", C(C_YEL),
               (long long)run.lost_text, C(C_OFF));
    if (run.untraced > 0)
        printf("  %suntraced  %lld more process%s of this run (one traced process per run)%s\n", C(C_YEL),
               (long long)run.untraced, run.untraced > 1 ? "es" : "", C(C_OFF));
    /* A recording that stopped short (meta.complete 0): whatever the
     * figures above say, events are missing. */
    if (!run.complete && how != TR_ENDED_RUNNING) {
        char wb[WIDTH];
        printf("  %sINCOMPLETE%s %s; events are missing\n", C(C_RED), C(C_OFF),
               tr_fit(wb, sizeof wb, run.incomplete_why[0] ? safe(run.incomplete_why) : "the recorder stopped before the end",
                      WIDTH - 40));
    }

    /* Tasks by state, in the order a reader cares about: how they ended,
     * then where the others were. */
    static const int order[] = { TR_TASK_DONE, TR_TASK_FAILED, TR_TASK_CANCELLED, TR_TASK_PENDING, TR_TASK_READY,
                                 TR_TASK_WAITING };
    _Static_assert(sizeof order / sizeof order[0] == TR_TASK_STATE_COUNT, "every task state has its place");
    int64_t by[TR_TASK_STATE_COUNT], other = 0, total = 0;
    char line[512];
    size_t n = 0;
    line[0] = 0;
    if (tr_tasks_by_state(db, by, &other) < 0) g_failed = 1;
    for (int i = 0; i <= TR_TASK_STATE_COUNT; i++) {
        int64_t c = i < TR_TASK_STATE_COUNT ? by[order[i]] : other;
        if (c == 0) continue;
        total += c;
        n += (size_t)snprintf(line + n, sizeof line - n, "%s%lld %s", n ? ", " : "", (long long)c,
                              i < TR_TASK_STATE_COUNT ? tr_task_state_name((unsigned)order[i]) : "other");
        if (n >= sizeof line) n = sizeof line - 1;
    }
    printf("  tasks     %lld%s%s%s\n", (long long)total, n ? " (" : "", line, n ? ")" : "");
}

/* A reader's failure (tracer/reader.h) as the same one line as query()'s. */
static void check(sqlite3 *db, int err)
{
    if (err >= 0 || g_failed) return;
    if (err == -E2BIG) fprintf(stderr, "coscope report: %s: %s\n", g_path, tr_db_errmsg(db));
    else if (err == -EPROTO)
        fprintf(stderr, "coscope report: %s: unexpected trace layout (%s); is it from another coscope version?\n",
                g_path, tr_db_errmsg(db));
    else fprintf(stderr, "coscope report: %s: damaged or truncated database (%s)\n", g_path, tr_db_errmsg(db));
    g_failed = 1;
}

/* where() of a place the reader gives (its file known); out has room for
 * 2 * WIDTH. */
static void where_src(char *out, tr_src at, const char *func, size_t w)
{
    char fl[MAX_TEXT + 24];
    snprintf(fl, sizeof fl, "%s:%lld", safe(at.file), (long long)at.line);
    where(out, fl, safe(func), w);
}

typedef struct warn_kind {
    char name[64];
    int64_t count;
} warn_kind;

typedef struct warn_kinds {
    warn_kind k[64];
    int n;
    int64_t total;
} warn_kinds;

static int add_kind(void *ctx, const char *kind, int64_t count)
{
    warn_kinds *ks = ctx;
    ks->total += count;
    if (ks->n < (int)(sizeof ks->k / sizeof ks->k[0])) {
        snprintf(ks->k[ks->n].name, sizeof ks->k[ks->n].name, "%s", kind);
        ks->k[ks->n++].count = count;
    }
    return 0;
}

static int print_warning(void *ctx, const tr_warning_row *w)
{
    (void)ctx;
    char b1[16], b2[16], nb[64];
    char head[WIDTH + 64];
    size_t n = 0;
    if (w->has_task)
        n += (size_t)snprintf(head + n, sizeof head - n, "task #%lld %s", (long long)w->task,
                              tr_fit(nb, sizeof nb, safe(w->task_name), 32));
    else
        n += (size_t)snprintf(head + n, sizeof head - n, "(no task)");
    n += (size_t)snprintf(head + n, sizeof head - n, "  at %s", tr_fmt_dur(b1, w->ts));
    if (w->dur > 0) snprintf(head + n, sizeof head - n, "  for %s", tr_fmt_dur(b2, w->dur));
    printf("    %s\n", head);
    wrapped(safe(w->message), 6);
    /* Source lines: where it happened, and for slow steps where the step
     * ended -- the two bracket the code that did not await. */
    if (w->at.file) {
        char a[2 * WIDTH], b[2 * WIDTH], line[5 * WIDTH];
        where_src(a, w->at, w->at_func, WIDTH - 12);
        if (w->at2.file && w->kind == TR_WARN_ALL_ASLEEP) {
            /* A stuck group: where its root waits, and where the chain ends. */
            where_src(b, w->at2, w->at2_func, WIDTH - 12);
            printf("      %sat %s\n      chain ends at %s%s\n", C(C_DIM), a, b, C(C_OFF));
        } else if (w->at2.file) {
            where_src(b, w->at2, w->at2_func, WIDTH - 12);
            snprintf(line, sizeof line, "%s -> %s", a, b);
            if (strlen(line) <= WIDTH - 6) printf("      %s%s%s\n", C(C_DIM), line, C(C_OFF));
            else printf("      %sfrom %s\n      to   %s%s\n", C(C_DIM), a, b, C(C_OFF));
        } else if (!w->cause.file) {
            printf("      %sat %s%s\n", C(C_DIM), a, C(C_OFF));
        } else { /* with the line that caused it, below */
            printf("      %swaiting at %s%s\n", C(C_DIM), a, C(C_OFF));
        }
    }
    /* The line that caused it, beside where it waits. */
    if (w->cause.file) {
        char c[2 * WIDTH];
        where_src(c, w->cause, w->cause_func, WIDTH - 20);
        printf("      %scaused at  %s%s\n", C(C_DIM), c, C(C_OFF));
    }
    /* Slow steps: where the watchdog caught the loop thread; a crash: the
     * stack at the fault. */
    if (w->stack[0]) {
        printf("      %s%s:%s\n", C(C_DIM), w->kind != TR_WARN_CRASH ? "the loop thread was in" : "the stack at the fault",
               C(C_OFF));
        /* Line by line, each made safe (sanitizing the whole would join
         * the lines). */
        for (const char *p = w->stack; p && *p;) {
            const char *nl = strchr(p, '\n');
            size_t len = nl ? (size_t)(nl - p) : strlen(p);
            char raw[WIDTH], fb[WIDTH];
            snprintf(raw, sizeof raw, "%.*s", (int)(len < sizeof raw ? len : sizeof raw - 1), p);
            printf("        %s\n", tr_fit(fb, sizeof fb, safe(raw), WIDTH - 8));
            p = nl ? nl + 1 : NULL;
        }
    }
    return 0;
}

static int64_t warnings_section(sqlite3 *db, int top)
{
    warn_kinds ks = { .n = 0 };
    check(db, tr_warning_kinds(db, add_kind, &ks));
    if (ks.total == 0) {
        heading("warnings: none");
        return 0;
    }
    heading("warnings: %lld", (long long)ks.total);
    for (int i = 0; i < ks.n && !g_failed; i++) {
        const char *kind = ks.k[i].name;
        printf("\n  %s%s%s (%lld)\n", C(C_YEL), safe(kind), C(C_OFF), (long long)ks.k[i].count);
        check(db, tr_warnings(db, kind, 0, TR_WARNINGS_LONGEST, top, print_warning, NULL));
        if (ks.k[i].count > top)
            printf("    ... and %lld more (coscope sql FILE \"SELECT * FROM warnings WHERE kind = '%s'\")\n",
                   (long long)(ks.k[i].count - top), safe(kind));
    }
    return ks.total;
}

typedef struct table {
    const char *title;
    int shown;
} table;

static int task_row(void *ctx, const tr_task_sum *t)
{
    table *tb = ctx;
    if (!tb->shown++) {
        heading("%s", tb->title);
        printf("  %s%6s %-20s %-9s %8s %8s %8s %6s %6s  %s%s\n", C(C_DIM), "task", "name", "state", "busy", "waiting",
               "total", "steps", "awaits", "spawned at", C(C_OFF));
    }
    char nb[128], b1[16], b2[16], b3[16], lb[64];
    const char *state = safe(t->state_name);
    const char *sc = t->state == TR_TASK_FAILED ? C_RED : t->state == TR_TASK_DONE ? "" : C_YEL;
    /* The file's base name is enough to find it and keeps the row narrow. */
    const char *at = safe(t->spawned_at);
    const char *slash = strrchr(at, '/');
    /* Names pad to display columns (tr_pad): %-20s counts bytes. */
    printf("  %6lld %s %s%-9s%s %8s %8s %8s %6lld %6lld  %s\n", (long long)t->id, tr_pad(nb, sizeof nb, safe(t->name), 20),
           C(sc), state, C(sc[0] ? C_OFF : ""), tr_fmt_dur(b1, t->busy_ns), tr_fmt_dur(b2, t->wait_ns),
           tr_fmt_dur(b3, t->total_ns), (long long)t->steps, (long long)t->awaits,
           tr_fit_left(lb, sizeof lb, slash ? slash + 1 : at, 18));
    return 0;
}

static void tasks_table(sqlite3 *db, const char *title, int rank, int top)
{
    table tb = { title, 0 };
    if (g_failed) return;
    check(db, tr_top_tasks(db, rank, top, task_row, &tb));
    if (!tb.shown && !g_failed) heading("%s: none", title);
}

/* Under each contended resource, the acquire sites where most of its
 * waiting happened (contention_sites; traces made before it had none). */
typedef struct sites {
    int64_t cur;
    int n, shown;
} sites;

static int site_row(void *ctx, const tr_site *s)
{
    sites *ss = ctx;
    if (!ss->shown++) heading("where the waiting happens (worst acquire sites of each contended resource)");
    if (s->res != ss->cur) {
        printf("  %s\n", safe(s->name));
        ss->cur = s->res;
        ss->n = 0;
    }
    if (ss->n++ >= 3) return 0;
    char b[3][16], w[2 * WIDTH], wp[4 * WIDTH];
    where(w, safe(s->loc), safe(s->func), 38);
    /* A queue's items taken are counted per queue, not per site (a get
     * that finds an item records no line): "-", not a false 0. */
    char acq[24] = "    -";
    if (!s->queue) snprintf(acq, sizeof acq, "%5lld", (long long)s->acquisitions);
    printf("    %s %s acq %5lld contd wait %6s p99 %6s max %6s\n", tr_pad(wp, sizeof wp, w, 38), acq,
           (long long)s->contended, tr_fmt_dur(b[0], s->wait_total_ns), tr_fmt_dur(b[1], s->wait_p99_ns),
           tr_fmt_dur(b[2], s->wait_max_ns));
    return 0;
}

static int contention_row(void *ctx, const tr_contention *c)
{
    int *shown = ctx;
    if (!(*shown)++) {
        heading("lock contention");
        printf("  %s%-14s %-5s %6s %6s %7s %7s %7s %7s %7s %4s %8s %8s%s\n", C(C_DIM), "resource", "kind", "acq",
               "contd", "wait", "p50", "p99", "max", "holdmax", "wtrs", "waiter", "holder", C(C_OFF));
    }
    char nb[128], kb[16], b[5][16], wb[16], hb[16];
    int queue = c->kind == CO_WAIT_QUEUE_GET || c->kind == CO_WAIT_QUEUE_PUT || c->kind == CO_WAIT_QUEUE_JOIN;
    const char *k = c->kind == CO_WAIT_SEM ? "sem" : queue ? TR_RES_KIND_QUEUE : safe(c->kind_name);
    char name[40];
    if (*c->name) snprintf(name, sizeof name, "%s", safe(c->name));
    else snprintf(name, sizeof name, "#%lld", (long long)c->res);
    /* Longest waiter/holder as task ids: the tasks tables above name them. */
    if (c->has_waiter) snprintf(wb, sizeof wb, "#%lld", (long long)c->longest_waiter);
    else snprintf(wb, sizeof wb, "-");
    if (c->has_holder) snprintf(hb, sizeof hb, "#%lld", (long long)c->longest_holder);
    else snprintf(hb, sizeof hb, "-");
    int contended = c->contended > 0;
    printf("  %s %-5s %6lld %s%6lld%s %7s %7s %7s %7s %7s %4lld %8s %8s\n", tr_pad(nb, sizeof nb, name, 14),
           tr_fit(kb, sizeof kb, k, 5), (long long)c->acquisitions, C(contended ? C_YEL : ""), (long long)c->contended,
           C(contended ? C_OFF : ""), tr_fmt_dur(b[0], c->wait_total_ns), tr_fmt_dur(b[1], c->wait_p50_ns),
           tr_fmt_dur(b[2], c->wait_p99_ns), tr_fmt_dur(b[3], c->wait_max_ns),
           queue ? "-" : tr_fmt_dur(b[4], c->hold_max_ns), (long long)c->max_waiters, wb, hb);
    return 0;
}

static void contention_section(sqlite3 *db, int top)
{
    int shown = 0;
    if (g_failed) return;
    check(db, tr_top_contention(db, top, contention_row, &shown));
    if (g_failed) return;
    if (!shown) {
        heading("lock contention: no locks, semaphores or queues");
        return;
    }
    printf("  %sacq: acquisitions (queue: items taken); contd: waits that suspended; wait/p50/p99/max:\n"
           "  total and distribution of those waits; holdmax: longest hold; wtrs: most waiters at once;\n"
           "  waiter/holder: task with the longest wait / hold.%s\n", C(C_DIM), C(C_OFF));
    sites ss = { 0, 0, 0 };
    check(db, tr_contention_sites(db, top, site_row, &ss));
}

int cli_report(int argc, char **argv)
{
    static const struct option opts[] = {
        { "fail-on-warnings", no_argument, NULL, 'w' },
        { "top", required_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' },
        { 0, 0, 0, 0 },
    };
    int fail_on_warnings = 0;
    long top = 10;
    int c;
    opterr = 0;
    optind = 0; /* 0, not 1: glibc then forgets a previous parse (found by tests/fuzz) */
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'w': fail_on_warnings = 1; break;
        case 't': {
            char *end;
            top = strtol(optarg, &end, 10);
            if (!*optarg || *end || top < 1 || top > 100000) {
                fprintf(stderr, "coscope report: --top wants a number from 1 to 100000, got '%s'\n", optarg);
                return 2;
            }
            break;
        }
        case 'h': fputs(USAGE, stdout); return 0;
        default:
            if (optopt == 't')
                fprintf(stderr, "coscope report: --top needs a number (see coscope report --help)\n");
            else
                fprintf(stderr, "coscope report: unknown option '%s' (see coscope report --help)\n", argv[optind - 1]);
            return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "coscope report: no trace file given (usage: coscope report FILE [--fail-on-warnings] [--top N])\n");
        return 2;
    }
    if (argc - optind > 1) {
        fprintf(stderr, "coscope report: one trace file at a time (got '%s' and '%s')\n", argv[optind], argv[optind + 1]);
        return 2;
    }
    const char *path = argv[optind];
    tr_reader rd;
    sqlite3 *db = cli_open(&rd, "report", path) == 0 ? rd.db : NULL;
    if (!db) return 2;
    const char *nc = getenv("NO_COLOR");
    colour = isatty(STDOUT_FILENO) && !(nc && *nc);
    g_path = path;
    g_failed = 0;

    run_section(db, path);
    int64_t warnings = warnings_section(db, (int)top);
    tasks_table(db, "busiest tasks (time running)", TR_RANK_BUSY, (int)top);
    tasks_table(db, "tasks waiting longest", TR_RANK_WAIT, (int)top);
    contention_section(db, (int)top);
    tr_reader_close(&rd);
    /* A report nobody got is a failure (a full disk, a closed pipe's
     * EPIPE): one line, status 1. */
    int werr = fflush(stdout) != 0 ? errno : ferror(stdout) ? EIO : 0;
    if (werr) {
        fprintf(stderr, "coscope report: writing the report failed: %s\n", strerror(werr));
        return 1;
    }
    if (g_failed) return 2;
    return fail_on_warnings && warnings > 0 ? 1 : 0;
}
