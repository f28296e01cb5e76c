/* SPDX-License-Identifier: MIT */
/* cmd_run.c -- `coscope run`: run a program under the tracer.
 *
 * The parent creates the shared trace region and the database, forks the
 * program with the region's fd in $COSCOPE_TRACE_FD, and is the recorder
 * until the program ends: since the events live in memory the parent maps,
 * a program that crashes loses nothing it recorded.  The program's stdio is
 * left alone, SIGINT/SIGTERM are forwarded, its exit status passed through.
 *
 * With --tui the UI takes the terminal: the program's stdout and stderr go
 * to a file beside the trace (the UI's Output view shows it), the recorder
 * runs on a thread of its own and builds the tables as it goes (the UI
 * reads them through its own connection), and the UI stays open on the
 * finished trace when the program ends -- or crashes.
 */
#define _GNU_SOURCE
#include "cli.h"
#include "../tracer/tracer.h"
#include "../tui/tui.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char USAGE[] =
    "usage: coscope run [-o FILE] [--force] [--slow-ms N] [--sustain-ms N] [--fail-rate N] [--queue-min N]\n"
    "                   [--drop] [--tui] -- PROGRAM [ARGS...]\n"
    "\n"
    "Run PROGRAM (linked with libcoscope) and record what its tasks do into a\n"
    "SQLite trace.  PROGRAM's stdin/stdout/stderr are its own; its exit status is\n"
    "passed through (128+N if killed by signal N); if the recording lost events\n"
    "(a full disk) and PROGRAM exited 0, the status is 1.\n"
    "\n"
    "  -o, --output FILE  trace file (default: coscope-PROGRAM-DATE-PID.db); refused if\n"
    "                     it exists\n"
    "  -f, --force        overwrite FILE if it exists\n"
    "      --slow-ms N    slow-step threshold in milliseconds (default 100)\n"
    "      --sustain-ms N how long a queue must keep growing, or awaits at one line keep\n"
    "                     failing fast, to be warned of (default 1000; $COSCOPE_SUSTAIN_MS)\n"
    "      --fail-rate N  failures a second that make a failure loop (default 100;\n"
    "                     $COSCOPE_FAIL_RATE)\n"
    "      --queue-min N  items a growing queue must hold at the end (default 256;\n"
    "                     $COSCOPE_QUEUE_MIN)\n"
    "      --drop         when a ring is full, drop events (counted in meta 'lost')\n"
    "                     instead of making the program wait for the recorder\n"
    "      --tui          follow the program live in the terminal UI (its stdout and\n"
    "                     stderr go to FILE.out, mode 0600, replaced with the trace,\n"
    "                     shown in the UI's Output view)\n"
    "  -h, --help         this text\n";

static volatile sig_atomic_t child_pid;

/* A Ctrl-C in the terminal reaches the program directly (same process
 * group): forward only signals sent to coscope itself (kill, timeout). */
static void forward(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    if (child_pid > 0 && (si->si_code == SI_USER || si->si_code == SI_QUEUE) && si->si_pid != child_pid)
        kill((pid_t)child_pid, sig);
}

/* Whether execvp would find PROGRAM: a regular executable file.  (A
 * directory passes access(X_OK), and would fail only in the child, after
 * the trace file exists.) */
static int executable(const char *file)
{
    struct stat st;
    return stat(file, &st) == 0 && S_ISREG(st.st_mode) && access(file, X_OK) == 0;
}

static int findable(const char *prog)
{
    if (strchr(prog, '/')) return executable(prog);
    const char *path = getenv("PATH");
    if (!path) path = "/usr/bin:/bin";
    char buf[4096];
    while (*path) {
        const char *colon = strchr(path, ':');
        size_t n = colon ? (size_t)(colon - path) : strlen(path);
        snprintf(buf, sizeof buf, "%.*s/%s", (int)n, n ? path : ".", prog);
        if (executable(buf)) return 1;
        path += n + (colon != NULL);
    }
    return 0;
}

/* A run in progress: the recording (live_record.c) and the child. */
typedef struct run {
    cli_rec live;
    pid_t pid;
    int status;                  /* waitpid's, valid once live.running is 0 */
} run;

/* Record until the program ends, then finish the trace. */
static void record(run *r)
{
    for (;;) {
        pid_t w = waitpid(r->pid, &r->status, WNOHANG);
        if (w == r->pid) break;
        if (cli_rec_turn(&r->live) < 0) {
            waitpid(r->pid, &r->status, 0);
            break;
        }
    }
    child_pid = 0;
    sqlite3 *db = r->live.db;
    if (WIFEXITED(r->status)) {
        tr_meta_set_int(db, TR_META_EXIT_CODE, WEXITSTATUS(r->status));
        tr_meta_set(db, TR_META_ENDED, tr_ending_name(TR_ENDED_EXIT));
    } else {
        int sig = WTERMSIG(r->status);
        tr_meta_set_int(db, TR_META_SIGNAL, sig);
        tr_meta_set(db, TR_META_SIGNAL_NAME, sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
        tr_meta_set(db, TR_META_ENDED, tr_ending_name(TR_ENDED_SIGNAL));
    }
    cli_rec_finish(&r->live);
}

static void *record_thread(void *arg)
{
    record(arg);
    return NULL;
}

/* ---- the UI's view of the run (--tui) ------------------------------------ */

static void live_status(void *ctx, tui_live_status *s)
{
    run *r = ctx;
    cli_rec_status(&r->live, s);
    if (!s->running) { /* status is written before running is cleared */
        s->exited = WIFEXITED(r->status);
        s->exit_code = s->exited ? WEXITSTATUS(r->status) : 0;
        s->signal = s->exited ? 0 : WTERMSIG(r->status);
    }
    if (atomic_load(&r->live.record_err)) s->failure = "recording failed; the program runs on untraced";
}

static void *kill_later(void *arg)
{
    run *r = arg;
    for (int i = 0; i < 20 && atomic_load(&r->live.running); i++) usleep(100000);
    if (atomic_load(&r->live.running)) kill(r->pid, SIGKILL);
    return NULL;
}

static void live_stop(void *ctx)
{
    run *r = ctx;
    if (!atomic_load(&r->live.running)) return;
    kill(r->pid, SIGTERM);
    /* A program that ignores SIGTERM gets SIGKILL two seconds later, from
     * a thread of its own so the UI never waits. */
    pthread_t t;
    if (pthread_create(&t, NULL, kill_later, r) == 0) pthread_detach(t);
    else kill(r->pid, SIGKILL);
}

int cli_run(int argc, char **argv)
{
    static const struct option opts[] = {
        { "output", required_argument, NULL, 'o' },
        { "force", no_argument, NULL, 'f' },
        { "slow-ms", required_argument, NULL, 's' },
        { "sustain-ms", required_argument, NULL, 'S' },
        { "fail-rate", required_argument, NULL, 'R' },
        { "queue-min", required_argument, NULL, 'Q' },
        { "drop", no_argument, NULL, 'd' },
        { "tui", no_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' },
        { 0, 0, 0, 0 },
    };
    const char *out = NULL;
    int force = 0, drop = 0, tui = 0;
    long slow_ms = 100;
    /* Issue 22's thresholds: the option, else the environment, else the default. */
    struct { const char *opt, *env, *key; long v, max; } lim[] = {
        { "--sustain-ms", "COSCOPE_SUSTAIN_MS", TR_META_SUSTAIN_MS, 1000, 3600000 },
        { "--fail-rate", "COSCOPE_FAIL_RATE", TR_META_FAIL_RATE, 100, 100000000 },
        { "--queue-min", "COSCOPE_QUEUE_MIN", TR_META_QUEUE_MIN, 256, 1000000000 },
    };
    for (size_t i = 0; i < sizeof lim / sizeof lim[0]; i++) {
        const char *v = getenv(lim[i].env);
        char *end;
        long n = v && *v ? strtol(v, &end, 10) : -1;
        if (v && *v && !*end && n >= 0 && n <= lim[i].max) lim[i].v = n;
    }
    int c;
    opterr = 0;
    optind = 0; /* 0, not 1: glibc then forgets a previous parse (found by tests/fuzz) */
    while ((c = getopt_long(argc, argv, "+o:fh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'f': force = 1; break;
        case 'd': drop = 1; break;
        case 't': tui = 1; break;
        case 's': {
            char *end;
            slow_ms = strtol(optarg, &end, 10);
            if (!*optarg || *end || slow_ms < 0 || slow_ms > 3600000) {
                fprintf(stderr, "coscope run: --slow-ms wants milliseconds, got '%s'\n", optarg);
                return 2;
            }
            break;
        }
        case 'S':
        case 'R':
        case 'Q': {
            int i = c == 'S' ? 0 : c == 'R' ? 1 : 2;
            char *end;
            long n = strtol(optarg, &end, 10);
            if (!*optarg || *end || n < 0 || n > lim[i].max) {
                fprintf(stderr, "coscope run: %s wants a number from 0 to %ld, got '%s'\n", lim[i].opt, lim[i].max, optarg);
                return 2;
            }
            lim[i].v = n;
            break;
        }
        case 'h': fputs(USAGE, stdout); return 0;
        default:
            if (optopt == 'o' || optopt == 's' || optopt == 'S' || optopt == 'R' || optopt == 'Q') /* known, but its value is missing */
                fprintf(stderr, "coscope run: %s needs a value (see coscope run --help)\n", argv[optind - 1]);
            else
                fprintf(stderr, "coscope run: unknown option '%s' (see coscope run --help)\n", argv[optind - 1]);
            return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "coscope run: no program given (usage: coscope run [-o FILE] -- PROGRAM [ARGS...])\n");
        return 2;
    }
    if (tui && !(isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))) {
        fprintf(stderr, "coscope run: --tui needs a terminal (stdin and stdout); without one, record and use `coscope report`\n");
        return 2;
    }
    char **prog = argv + optind;
    if (!findable(prog[0])) {
        fprintf(stderr, "coscope run: %s: program not found or not executable\n", prog[0]);
        return 127;
    }
    char defname[512];
    if (!out) {
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        const char *base = strrchr(prog[0], '/') ? strrchr(prog[0], '/') + 1 : prog[0];
        char date[32];
        strftime(date, sizeof date, "%Y%m%d-%H%M%S", &tm);
        snprintf(defname, sizeof defname, "coscope-%s-%s-%d.db", base, date, (int)getpid());
        out = defname;
    }
    sqlite3 *db;
    const char *why = NULL;
    int r = tr_db_create(&db, out, force, &why);
    if (r < 0) {
        /* Refused before anything else is touched: FILE.out, if any, is
         * the earlier run's output and stays. */
        fprintf(stderr, "coscope run: cannot create %s: %s\n", out, why);
        return 2;
    }
    /* Under the UI, the program's output goes to a file beside the trace,
     * made only once the trace is ours.  A new file of our own under a
     * temporary name, then renamed over FILE.out: whatever was at FILE.out
     * (the output of the trace just replaced, a symlink to someone's file,
     * a FIFO) is replaced, never followed, truncated or opened. */
    char outpath[4200] = "";
    int outfd = -1;
    if (tui) {
        char tmp[sizeof outpath + 16];
        snprintf(outpath, sizeof outpath, "%s.out", out);
        snprintf(tmp, sizeof tmp, "%s.XXXXXX", outpath);
        outfd = mkostemp(tmp, O_CLOEXEC); /* O_EXCL, mode 0600 */
        if (outfd < 0 || rename(tmp, outpath) < 0) {
            fprintf(stderr, "coscope run: cannot create %s for the program's output: %s\n", outpath, strerror(errno));
            if (outfd >= 0) { close(outfd); unlink(tmp); }
            sqlite3_close(db);
            unlink(out);
            return 2;
        }
    }
    int fd;
    tr_shm *shm = co__tr_create_shm(&fd);
    if (!shm) {
        fprintf(stderr, "coscope run: cannot create the shared trace region: %s\n", strerror(errno));
        sqlite3_close(db);
        unlink(out);
        return 2;
    }
    shm->slow_ms = (int32_t)slow_ms;
    shm->full_policy = drop ? TR_FULL_DROP : TR_FULL_BLOCK;
    tr_recorder *rec;
    r = tr_recorder_new(&rec, db, shm);
    if (r < 0) {
        fprintf(stderr, "coscope run: cannot start the recorder: %s\n", strerror(-r));
        /* Leave no empty trace behind: it would block the next run without --force. */
        sqlite3_close(db);
        unlink(out);
        return 2;
    }
    /* Watched live: tables follow the recording within a tenth of a second. */
    if (tui) tr_recorder_set_live(rec, 50 * 1000000ll);
    /* meta: what ran, when. */
    int nargs = 0;
    while (prog[nargs]) nargs++;
    cli_rec_meta_start(db, prog[0], prog, nargs);
    for (size_t i = 0; i < sizeof lim / sizeof lim[0]; i++) tr_meta_set_int(db, lim[i].key, lim[i].v);

    char fdbuf[16], slowbuf[16];
    snprintf(fdbuf, sizeof fdbuf, "%d", fd);
    snprintf(slowbuf, sizeof slowbuf, "%ld", slow_ms);
    pid_t parent = getpid();
    tr_recorder_start_clock(rec); /* ts 0 = the program's start, not coscope's */
    static run R;
    R = (run){ .live = { .db = db, .shm = shm, .rec = rec, .mono0 = cli_mono_now() } };
    atomic_store(&R.live.progress_tty, !tui && isatty(STDERR_FILENO));
    atomic_store(&R.live.running, 1);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "coscope run: fork: %s\n", strerror(errno));
        tr_recorder_free(rec);
        sqlite3_close(db);
        unlink(out);
        return 2;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the recorder */
        if (getppid() != parent) _exit(127);
        if (outfd >= 0) {
            /* The terminal is the UI's: output to the file, no input. */
            int null = open("/dev/null", O_RDONLY);
            if (null >= 0) dup2(null, STDIN_FILENO);
            dup2(outfd, STDOUT_FILENO);
            dup2(outfd, STDERR_FILENO);
            setsid(); /* the UI's Ctrl-C and terminal signals are not the program's */
        }
        setenv("COSCOPE_TRACE_FD", fdbuf, 1);
        setenv("COSCOPE_SLOW_MS", slowbuf, 1);
        /* The runtime prints nothing unless asked; under coscope its
         * reports (all asleep, never awaited, ...) are wanted beside the
         * trace, as the program's own stderr.  The user's CO_LOG wins. */
        setenv("CO_LOG", "stderr", 0);
        execvp(prog[0], prog);
        fprintf(stderr, "coscope run: %s: %s\n", prog[0], strerror(errno));
        _exit(127);
    }
    close(fd);
    if (outfd >= 0) close(outfd);
    child_pid = pid;
    R.pid = pid;
    R.live.pid = pid;
    tr_meta_set_int(db, TR_META_PID, pid);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = forward;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    if (!tui) {
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
        sigaction(SIGQUIT, &sa, NULL);
        record(&R);
    } else {
        pthread_t recorder;
        if ((r = pthread_create(&recorder, NULL, record_thread, &R)) != 0) {
            fprintf(stderr, "coscope run: cannot start the recording thread: %s\n", strerror(r));
            kill(pid, SIGKILL);
            record(&R);
        } else {
            /* The UI opens its own connection: the first commit (meta, the
             * first chunks) must be on disk; the recorder commits every
             * 100 ms. */
            usleep(150000);
            tui_live live = { .output_path = outpath, .ctx = &R, .status = live_status, .stop = live_stop };
            int quit = TUI_QUIT_DONE;
            int ui = tui_main(out, &live, &quit);
            if (quit == TUI_QUIT_STOP) live_stop(&R);
            if (ui != 0 && atomic_load(&R.live.running)) live_stop(&R); /* no UI: no point running on unseen */
            if (quit == TUI_QUIT_STOP && atomic_load(&R.live.running))
                fprintf(stderr, "coscope: stopping %s (pid %d)\n", prog[0], (int)pid);
            else if (atomic_load(&R.live.running))
                fprintf(stderr, "coscope: %s (pid %d) runs on, recorded into %s, its output into %s; waiting for it to end\n",
                        prog[0], (int)pid, out, outpath);
            atomic_store(&R.live.progress_tty, isatty(STDERR_FILENO));
            pthread_join(recorder, NULL);
            fprintf(stderr, "coscope: the program's output is in %s\n", outpath);
        }
    }
    int status = R.status;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    int record_err = atomic_load(&R.live.record_err);
    if (record_err)
        fprintf(stderr, "coscope run: recording failed (%s); the program kept running untraced\n", strerror(record_err));
    uint64_t events = tr_recorder_events(rec);
    tr_recorder_free(rec);
    int64_t tasks = 0;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM tasks", -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) tasks = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    /* A recording that stopped short says so here too (meta.complete). */
    int complete = tr_meta_int(db, TR_META_COMPLETE, 1) != 0 && !record_err;
    sqlite3_close(db);
    if (R.live.finish_err < 0) {
        fprintf(stderr, "coscope run: finishing the trace failed: %s (the raw events are kept in %s; "
                        "the next `coscope` command on it retries)\n", strerror(-R.live.finish_err), out);
    }
    fprintf(stderr, "coscope: trace in %s%s: %llu events, %lld tasks; program %s %d\n", out,
            complete ? "" : " (INCOMPLETE: events are missing)", (unsigned long long)events, (long long)tasks,
            WIFEXITED(status) ? "exited with" : "killed by signal",
            WIFEXITED(status) ? code : code - 128);
    if (events == 0)
        fprintf(stderr, "coscope: nothing was recorded: is %s linked with libcoscope (and does it run a loop)?\n",
                prog[0]);
    /* A program that did well under a recording that lost events is not
     * a success to a script: the trace it counts on is short. */
    if ((!complete || record_err) && code == 0) {
        fprintf(stderr, "coscope run: exit status 1: the recording lost events (the program exited 0)\n");
        return 1;
    }
    return code;
}
