/* cmd_run.c -- `coscope run`: run a program under the tracer.
 *
 * The parent creates the shared trace region and the database, forks the
 * program with the region's fd in $COSCOPE_TRACE_FD, and is the recorder
 * until the program ends: since the events live in memory the parent maps,
 * a program that crashes loses nothing it recorded.  The program's stdio is
 * left alone, SIGINT/SIGTERM are forwarded, its exit status passed through.
 */
#define _GNU_SOURCE
#include "cli.h"
#include "../tracer.h"
#include <errno.h>
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
    "usage: coscope run [-o FILE] [--force] [--slow-ms N] [--drop] -- PROGRAM [ARGS...]\n"
    "\n"
    "Run PROGRAM (linked with libcoscope) and record what its tasks do into a\n"
    "SQLite trace.  PROGRAM's stdin/stdout/stderr are its own; its exit status is\n"
    "passed through (128+N if killed by signal N).\n"
    "\n"
    "  -o, --output FILE  trace file (default: coscope-PROGRAM-DATE-PID.db); refused if\n"
    "                     it exists\n"
    "  -f, --force        overwrite FILE if it exists\n"
    "      --slow-ms N    slow-step threshold in milliseconds (default 100)\n"
    "      --drop         when a ring is full, drop events (counted in meta 'lost')\n"
    "                     instead of making the program wait for the recorder\n"
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

static void json_str(char *out, size_t cap, size_t *n, const char *s)
{
    if (*n + 2 < cap) out[(*n)++] = '"';
    for (; *s && *n + 8 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') { out[(*n)++] = '\\'; out[(*n)++] = (char)c; }
        else if (c < 0x20) *n += (size_t)snprintf(out + *n, cap - *n, "\\u%04x", c);
        else out[(*n)++] = (char)c;
    }
    if (*n + 2 < cap) out[(*n)++] = '"';
    out[*n] = 0;
}

int cli_run(int argc, char **argv)
{
    static const struct option opts[] = {
        { "output", required_argument, NULL, 'o' },
        { "force", no_argument, NULL, 'f' },
        { "slow-ms", required_argument, NULL, 's' },
        { "drop", no_argument, NULL, 'd' },
        { "help", no_argument, NULL, 'h' },
        { 0, 0, 0, 0 },
    };
    const char *out = NULL;
    int force = 0, drop = 0;
    long slow_ms = 100;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+o:fh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'f': force = 1; break;
        case 'd': drop = 1; break;
        case 's': {
            char *end;
            slow_ms = strtol(optarg, &end, 10);
            if (*end || slow_ms < 0 || slow_ms > 3600000) {
                fprintf(stderr, "coscope run: --slow-ms wants milliseconds, got '%s'\n", optarg);
                return 2;
            }
            break;
        }
        case 'h': fputs(USAGE, stdout); return 0;
        default:
            fprintf(stderr, "coscope run: unknown option '%s' (see coscope run --help)\n", argv[optind - 1]);
            return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "coscope run: no program given (usage: coscope run [-o FILE] -- PROGRAM [ARGS...])\n");
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
        fprintf(stderr, "coscope run: cannot create %s: %s\n", out, why);
        return 2;
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
    /* meta: what ran, when. */
    char argvj[8192];
    size_t n = 0;
    argvj[n++] = '[';
    for (char **a = prog; *a; a++) {
        if (a != prog && n + 2 < sizeof argvj) argvj[n++] = ',';
        json_str(argvj, sizeof argvj, &n, *a);
    }
    if (n + 2 < sizeof argvj) argvj[n++] = ']';
    argvj[n] = 0;
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    char iso[64];
    struct tm tm;
    gmtime_r(&wall.tv_sec, &tm);
    strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%SZ", &tm);
    tr_meta_set(db, "program", prog[0]);
    tr_meta_set(db, "argv", argvj);
    tr_meta_set(db, "start_time", iso);
    tr_meta_set_int(db, "start_unix_ns", (int64_t)wall.tv_sec * 1000000000 + wall.tv_nsec);
    tr_meta_set(db, "ended", "running");

    char fdbuf[16], slowbuf[16];
    snprintf(fdbuf, sizeof fdbuf, "%d", fd);
    snprintf(slowbuf, sizeof slowbuf, "%ld", slow_ms);
    pid_t parent = getpid();
    tr_recorder_start_clock(rec); /* ts 0 = the program's start, not coscope's */
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
        setenv("COSCOPE_TRACE_FD", fdbuf, 1);
        setenv("COSCOPE_SLOW_MS", slowbuf, 1);
        execvp(prog[0], prog);
        fprintf(stderr, "coscope run: %s: %s\n", prog[0], strerror(errno));
        _exit(127);
    }
    close(fd);
    child_pid = pid;
    tr_meta_set_int(db, "pid", pid);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = forward;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGQUIT, &sa, NULL);

    int status = 0;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) break;
        int64_t got = tr_recorder_turn(rec);
        if (got < 0) {
            fprintf(stderr, "coscope run: recording failed (%s); the program keeps running untraced\n", strerror((int)-got));
            atomic_store(&shm->consumer_alive, 0);
            waitpid(pid, &status, 0);
            break;
        }
    }
    child_pid = 0;
    int code;
    char ended[64];
    if (WIFEXITED(status)) {
        code = WEXITSTATUS(status);
        snprintf(ended, sizeof ended, "exit");
        tr_meta_set_int(db, "exit_code", code);
    } else {
        int sig = WTERMSIG(status);
        code = 128 + sig;
        snprintf(ended, sizeof ended, "signal");
        tr_meta_set_int(db, "signal", sig);
        tr_meta_set(db, "signal_name", sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
    }
    tr_meta_set(db, "ended", ended);
    r = tr_recorder_finish(rec);
    uint64_t events = tr_recorder_events(rec);
    tr_recorder_free(rec);
    int64_t tasks = 0;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM tasks", -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) tasks = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    if (r < 0) {
        fprintf(stderr, "coscope run: finishing the trace failed: %s (the raw events are kept in %s; "
                        "the next `coscope` command on it retries)\n", strerror(-r), out);
    }
    fprintf(stderr, "coscope: trace in %s: %llu events, %lld tasks; program %s %d\n", out,
            (unsigned long long)events, (long long)tasks,
            WIFEXITED(status) ? "exited with" : "killed by signal",
            WIFEXITED(status) ? code : code - 128);
    if (events == 0)
        fprintf(stderr, "coscope: nothing was recorded: is %s linked with libcoscope (and does it run a loop)?\n",
                prog[0]);
    return code;
}

/* Trace text for a terminal: a trace is input (tr_sanitize). */
static const char *sanitized(const unsigned char *s)
{
    static char buf[2][4096];
    static int which;
    which ^= 1;
    tr_sanitize(buf[which], sizeof buf[which], (const char *)s);
    return buf[which];
}

int cli_info(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs("usage: coscope info FILE\n\nHow the run ended and what the trace holds.\n",
              argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    tr_reader rd;
    if (cli_open(&rd, "info", argv[1]) < 0) return 2;
    sqlite3 *db = rd.db;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT key, value FROM meta ORDER BY key", -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW)
            printf("%-16s %s\n", sanitized(sqlite3_column_text(st, 0)), sanitized(sqlite3_column_text(st, 1)));
        sqlite3_finalize(st);
    }
    tr_reader_close(&rd);
    return 0;
}
