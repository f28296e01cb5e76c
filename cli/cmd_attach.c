/* SPDX-License-Identifier: MIT */
/* cmd_attach.c -- `coscope attach PID`: record a running coscope program
 * without restarting it, from a snapshot of its state on.
 *
 * coscope makes the trace region (a memfd, as `coscope run` does) and the
 * database, listens on the abstract socket named after PID, and sends PID
 * the signal its runtime armed (read from its layout table, so nothing is
 * sent to a program that would die of it).  A loop of the program connects,
 * takes the region (SCM_RIGHTS), and every loop writes its snapshot, then
 * its events; coscope is the recorder meanwhile.  Detaching (Ctrl-C, the
 * end of --for, q in the TUI) sends 'd' and waits for the program's word
 * that it stopped writing, so the trace holds everything up to then; if
 * coscope dies instead, the program sees the socket end and stops by
 * itself.  The protocol: runtime/debug_offsets.h; the program's side:
 * runtime/attach.c.
 *
 * Holding the socket's name for the whole attachment is what refuses a
 * second coscope (it cannot bind it); the program refuses too if it
 * records already (coscope run, co_trace_start).
 */
#define _GNU_SOURCE
#include "cli.h"
#include "ps.h"
#include "../runtime/debug_offsets.h"
#include "../tracer/tracer.h"
#include "../tui/tui.h"
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static const char USAGE[] =
    "usage: coscope attach PID [-o FILE] [--force] [--for DURATION] [--tui] [--signal N] [--timing]\n"
    "\n"
    "Record running coscope program PID without restarting it: the trace opens\n"
    "with a snapshot of every live task (parent, spawn site, state, await), lock\n"
    "holders and waiters, semaphore values and queue depths, then records until\n"
    "Ctrl-C, the end of --for, or q in the TUI; the program runs on, untraced.\n"
    "\n"
    "  -o, --output FILE   trace file (default: coscope-attach-PID-DATE.db)\n"
    "  -f, --force         overwrite FILE if it exists\n"
    "      --for DURATION  detach after DURATION (500ms, 10s, 2m; a number is seconds)\n"
    "      --tui           follow it live in the terminal UI\n"
    "      --signal N      send signal N instead of the one the program armed\n"
    "                      (COSCOPE_ATTACH_SIGNAL in its environment)\n"
    "      --timing        print how long attaching took on stderr\n"
    "  -h, --help          this text\n";

#define ANSWER_MS 2000 /* how long a loop of the program has to answer */

static volatile sig_atomic_t g_stop;
static void on_stop(int sig) { g_stop = sig; }

/* "500ms", "10s", "2m", "1h", or seconds; -1 if not a duration. */
static int64_t parse_duration(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || v < 0) return -1;
    double mul = 1e9;
    if (!strcmp(end, "ms")) mul = 1e6;
    else if (!strcmp(end, "s") || !*end) mul = 1e9;
    else if (!strcmp(end, "m")) mul = 60e9;
    else if (!strcmp(end, "h")) mul = 3600e9;
    else return -1;
    return (int64_t)(v * mul);
}

/* An attachment in progress: the recording (live_record.c) and the
 * socket to the program. */
typedef struct att {
    cli_rec live;
    int pid;
    int sock;                     /* to the program */
    int64_t until;                /* mono ns to detach at, 0 = none */
    int64_t t_signal, t_answer, t_snapshot, t_frame;
    _Atomic int want_detach;
    int vanished;                 /* the program's end of the socket went away unasked */
    int acked;                    /* it said it stopped writing */
    int gone;                     /* vanished, and the process ended */
} att;

/* Is pid running?  A zombie is not: it ended, and its parent has not
 * reaped it yet (a shell or a supervisor may take its time). */
static int pid_alive(int pid)
{
    if (kill(pid, 0) != 0 && errno != EPERM) return 0;
    char buf[512];
    if (cli_proc_read(pid, "stat", buf, sizeof buf) < 0) return 1;
    const char *p = strrchr(buf, ')'); /* the name in parentheses may hold anything */
    return !(p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'));
}

/* The program hung up unasked: did it end, or only its loop?  An ending
 * process closes its files before it turns zombie: a moment to tell. */
static int pid_ended(int pid)
{
    for (int i = 0; i < 40; i++) {
        if (!pid_alive(pid)) return 1;
        usleep(5000);
    }
    return 0;
}

/* Wait for the program's int32 answer, recording meanwhile if rec (its
 * events may fill a ring while it answers).  0 and *v, or -ETIMEDOUT, -EPIPE. */
static int read_answer(int sock, tr_recorder *rec, int timeout_ms, int32_t *v)
{
    int64_t end = cli_mono_now() + (int64_t)timeout_ms * 1000000;
    size_t got = 0;
    while (got < sizeof *v) {
        int64_t left = (end - cli_mono_now()) / 1000000;
        if (left <= 0) return -ETIMEDOUT;
        struct pollfd p = { .fd = sock, .events = POLLIN };
        int n = poll(&p, 1, rec ? 5 : (int)left);
        if (n < 0 && errno != EINTR) return -errno;
        if (n > 0) {
            ssize_t k = recv(sock, (char *)v + got, sizeof *v - got, MSG_DONTWAIT);
            if (k == 0) return -EPIPE;
            if (k < 0 && errno != EAGAIN && errno != EINTR) return -EPIPE;
            if (k > 0) got += (size_t)k;
        }
        if (rec) tr_recorder_poll(rec);
    }
    return 0;
}

/* Record until told to detach, the deadline, or the program's end of the
 * socket; then detach and finish the trace. */
static void record(att *a)
{
    for (;;) {
        if (g_stop) atomic_store(&a->want_detach, 1);
        if (a->until && cli_mono_now() >= a->until) atomic_store(&a->want_detach, 1);
        if (atomic_load(&a->want_detach)) break;
        int failed = cli_rec_turn(&a->live) < 0;
        if (!a->t_snapshot && atomic_load(&a->live.events) > 0) a->t_snapshot = cli_mono_now();
        if (failed) break;
        struct pollfd p = { .fd = a->sock, .events = POLLIN | POLLRDHUP };
        if (poll(&p, 1, 0) > 0) { /* the program let go: its controlling loop closed, or it exited */
            a->vanished = 1;
            break;
        }
    }
    if (!a->vanished) {
        char d = 'd';
        int32_t v;
        if (send(a->sock, &d, 1, MSG_NOSIGNAL) == 1 && read_answer(a->sock, a->live.rec, ANSWER_MS, &v) == 0) a->acked = 1;
        else a->vanished = 1;
    }
    a->gone = a->vanished && pid_ended(a->pid);
    tr_meta_set(a->live.db, TR_META_ENDED, tr_ending_name(a->gone ? TR_ENDED_VANISHED : TR_ENDED_DETACHED));
    cli_rec_finish(&a->live);
}

static void *record_thread(void *arg)
{
    record(arg);
    return NULL;
}

static void live_status(void *ctx, tui_live_status *s)
{
    att *a = ctx;
    cli_rec_status(&a->live, s);
    s->attached = 1;
    s->exited = 1;
    if (atomic_load(&a->live.record_err)) s->failure = "recording failed; detached";
}

static void live_stop(void *ctx) { atomic_store(&((att *)ctx)->want_detach, 1); }
static void live_first_frame(void *ctx)
{
    att *a = ctx;
    if (!a->t_frame) a->t_frame = cli_mono_now();
}

/* Program name and arguments from /proc, for meta. */
static void meta_program(sqlite3 *db, int pid)
{
    char path[64], exe[4096];
    snprintf(path, sizeof path, "/proc/%d/exe", pid);
    ssize_t n = readlink(path, exe, sizeof exe - 1);
    if (n > 0) exe[n] = 0;
    char buf[4096], *args[512];
    int nargs = 0;
    ssize_t len = cli_proc_read(pid, "cmdline", buf, sizeof buf);
    int have_args = len >= 0;
    for (ssize_t i = 0; i < len && nargs < (int)(sizeof args / sizeof *args); i += (ssize_t)strlen(buf + i) + 1)
        args[nargs++] = buf + i;
    cli_rec_meta_start(db, n > 0 ? exe : NULL, have_args ? args : NULL, nargs);
}

/* Listen on the program's attach socket; -EADDRINUSE if another coscope does. */
static int listen_for(int pid)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int len = snprintf(sa.sun_path + 1, sizeof sa.sun_path - 1, CO_ATTACH_SOCKET, pid);
    socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)len);
    if (bind(fd, (struct sockaddr *)&sa, alen) != 0 || listen(fd, 4) != 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    return fd;
}

/* The program's connection (checked to come from pid), or -ETIMEDOUT. */
static int accept_from(int lfd, int pid, int timeout_ms)
{
    int64_t end = cli_mono_now() + (int64_t)timeout_ms * 1000000;
    for (;;) {
        int64_t left = (end - cli_mono_now()) / 1000000;
        if (left <= 0 || g_stop) return -ETIMEDOUT;
        struct pollfd p = { .fd = lfd, .events = POLLIN };
        if (poll(&p, 1, (int)(left < 50 ? left : 50)) <= 0) continue;
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) continue;
        struct ucred c;
        socklen_t cl = sizeof c;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c, &cl) == 0 && c.pid == pid) return fd;
        close(fd); /* someone else */
    }
}

static int send_region(int sock, int shmfd)
{
    co_attach_hello h = { .magic = CO_ATTACH_MAGIC, .version = CO_DEBUG_VERSION, .pid = (int32_t)getpid() };
    char cbuf[CMSG_SPACE(sizeof(int))];
    memset(cbuf, 0, sizeof cbuf);
    struct iovec iov = { &h, sizeof h };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &shmfd, sizeof(int));
    return sendmsg(sock, &m, MSG_NOSIGNAL) == (ssize_t)sizeof h ? 0 : -errno;
}

int cli_attach(int argc, char **argv)
{
    static const struct option opts[] = {
        { "output", required_argument, NULL, 'o' }, { "force", no_argument, NULL, 'f' },
        { "for", required_argument, NULL, 'F' },    { "tui", no_argument, NULL, 't' },
        { "signal", required_argument, NULL, 'S' }, { "timing", no_argument, NULL, 'T' },
        { "help", no_argument, NULL, 'h' },         { 0, 0, 0, 0 },
    };
    const char *out = NULL;
    int force = 0, tui = 0, timing = 0, sig_opt = 0;
    int64_t dur = 0;
    int c;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, "o:fh", opts, NULL)) != -1) { /* PID anywhere */
        switch (c) {
        case 'o': out = optarg; break;
        case 'f': force = 1; break;
        case 't': tui = 1; break;
        case 'T': timing = 1; break;
        case 'F':
            if ((dur = parse_duration(optarg)) <= 0) {
                fprintf(stderr, "coscope attach: --for wants a duration (500ms, 10s, 2m), got '%s'\n", optarg);
                return 2;
            }
            break;
        case 'S': {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (!*optarg || *end || n <= 0 || n > SIGRTMAX) {
                fprintf(stderr, "coscope attach: --signal wants a signal number, got '%s'\n", optarg);
                return 2;
            }
            sig_opt = (int)n;
            break;
        }
        case 'h': fputs(USAGE, stdout); return 0;
        default:
            fprintf(stderr, "coscope attach: %s '%s' (see coscope attach --help)\n",
                    optopt == 'o' ? "missing value for" : "unknown option", argv[optind - 1]);
            return 2;
        }
    }
    char *end = NULL;
    long lpid = optind == argc - 1 ? strtol(argv[optind], &end, 10) : 0;
    if (optind != argc - 1 || !end || *end || lpid <= 0 || lpid > 0x3fffffff) {
        fprintf(stderr, "coscope attach: one PID wanted (usage: coscope attach PID [-o FILE] [--for DURATION] [--tui])\n");
        return 2;
    }
    int pid = (int)lpid;
    if (tui && !(isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))) {
        fprintf(stderr, "coscope attach: --tui needs a terminal (stdin and stdout)\n");
        return 2;
    }
    int64_t t0 = cli_mono_now();
    /* Can it be attached, and is it already? */
    int signo, peer;
    tr_ps_info info;
    int r = tr_ps_attach_state(pid, &signo, &peer, &info);
    if (r < 0) {
        cli_ps_refuse("attach", pid, r, &info);
        return 1;
    }
    if (peer) {
        fprintf(stderr, "coscope attach: process %d is already attached by coscope (pid %d): one at a time\n", pid, peer);
        return 1;
    }
    if (sig_opt) signo = sig_opt;
    if (!signo) {
        fprintf(stderr, "coscope attach: process %d has no attach signal armed: it runs no loop yet, was started "
                        "with COSCOPE_ATTACH_SIGNAL=0, or handles that signal itself\n", pid);
        return 1;
    }
    int lfd = listen_for(pid);
    if (lfd < 0) {
        if (lfd == -EADDRINUSE)
            fprintf(stderr, "coscope attach: process %d is already being attached by another coscope: one at a time\n", pid);
        else
            fprintf(stderr, "coscope attach: cannot listen for process %d: %s\n", pid, strerror(-lfd));
        return 1;
    }
    char defname[256];
    if (!out) {
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        char date[32];
        strftime(date, sizeof date, "%Y%m%d-%H%M%S", &tm);
        snprintf(defname, sizeof defname, "coscope-attach-%d-%s.db", pid, date);
        out = defname;
    }
    sqlite3 *db;
    const char *why = NULL;
    if ((r = tr_db_create(&db, out, force, &why)) < 0) {
        fprintf(stderr, "coscope attach: cannot create %s: %s\n", out, why);
        close(lfd);
        return 2;
    }
    int shmfd;
    tr_shm *shm = co__tr_create_shm(&shmfd);
    tr_recorder *rec = NULL;
    if (!shm || (r = tr_recorder_new(&rec, db, shm)) < 0) {
        fprintf(stderr, "coscope attach: cannot start the recorder: %s\n", strerror(shm ? -r : errno));
        sqlite3_close(db);
        unlink(out);
        close(lfd);
        return 2;
    }
    if (tui) tr_recorder_set_live(rec, 50 * 1000000ll);
    meta_program(db, pid);
    tr_meta_set_int(db, TR_META_PID, pid);
    tr_meta_set(db, TR_META_ENDED, tr_ending_name(TR_ENDED_RUNNING));

    static att A;
    A = (att){ .live = { .db = db, .shm = shm, .rec = rec, .pid = pid }, .pid = pid, .sock = -1 };
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);

    tr_recorder_start_clock(rec); /* ts 0 = the attach */
    A.live.mono0 = cli_mono_now();
    A.t_signal = A.live.mono0;
    const char *fail = NULL;
    char failbuf[256];
    if (kill(pid, signo) != 0) {
        cli_ps_refuse("attach", pid, errno == ESRCH ? TR_PS_ENOPROC : errno == EPERM ? TR_PS_EPERM : -errno, &info);
        fail = "";
    }
    if (!fail && (A.sock = accept_from(lfd, pid, ANSWER_MS)) < 0) {
        snprintf(failbuf, sizeof failbuf,
                 pid_alive(pid) ? "process %d did not answer within %d ms: its loops are busy or blocked "
                                  "(coscope ps %d shows where)"
                                : "process %d exited before it answered (%d ms, ps %d)",
                 pid, ANSWER_MS, pid);
        fail = failbuf;
    }
    int32_t ans = 0;
    if (!fail && (send_region(A.sock, shmfd) < 0 || read_answer(A.sock, NULL, ANSWER_MS, &ans) < 0)) {
        snprintf(failbuf, sizeof failbuf, "process %d went away while attaching", pid);
        fail = failbuf;
    }
    close(shmfd);
    if (!fail && ans < 0) {
        if (ans == -EBUSY)
            snprintf(failbuf, sizeof failbuf, "process %d records already (coscope run, co_trace_start or another attach)", pid);
        else
            snprintf(failbuf, sizeof failbuf, "process %d refused: %s", pid, strerror(-ans));
        fail = failbuf;
    }
    if (fail) {
        if (*fail) fprintf(stderr, "coscope attach: %s\n", fail);
        if (A.sock >= 0) close(A.sock);
        close(lfd);
        tr_recorder_free(rec);
        sqlite3_close(db);
        unlink(out);
        return 1;
    }
    A.t_answer = cli_mono_now();
    if (dur) A.until = A.t_answer + dur;
    atomic_store(&A.live.running, 1);
    if (!tui) {
        if (isatty(STDERR_FILENO))
            fprintf(stderr, "coscope: attached to %d, recording into %s; Ctrl-C detaches\n", pid, out);
        record(&A);
    } else {
        pthread_t th;
        if ((r = pthread_create(&th, NULL, record_thread, &A)) != 0) {
            record(&A);
        } else {
            /* The UI reads the tables through its own connection: wait for
             * the snapshot to be recorded and its first slice built. */
            while (!A.t_snapshot && cli_mono_now() - A.t_answer < 500000000) usleep(5000);
            usleep(120000);
            tui_live live = { .ctx = &A, .status = live_status, .stop = live_stop, .first_frame = live_first_frame };
            int quit;
            tui_main(out, &live, &quit);
            atomic_store(&A.want_detach, 1);
            pthread_join(th, NULL);
        }
    }
    close(A.sock);
    close(lfd);
    uint64_t events = tr_recorder_events(rec);
    tr_recorder_free(rec);
    int64_t tasks = 0, snap = 0;
    sqlite3_stmt *st;
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT COUNT(*), (SELECT COUNT(*) FROM events WHERE kind = '%s') FROM tasks",
             tr_event_name(TR_SNAP_TASK));
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) {
            tasks = sqlite3_column_int64(st, 0);
            snap = sqlite3_column_int64(st, 1);
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    int record_err = atomic_load(&A.live.record_err);
    if (A.live.finish_err < 0)
        fprintf(stderr, "coscope attach: finishing the trace failed: %s (the next coscope command on it retries)\n",
                strerror(-A.live.finish_err));
    if (record_err) fprintf(stderr, "coscope attach: recording failed: %s\n", strerror(record_err));
    if (timing) {
        fprintf(stderr, "coscope attach: timing: table read %.1f ms, signal to answer %.1f ms, to the snapshot recorded %.1f ms",
                (A.t_signal - t0) / 1e6, (A.t_answer - A.t_signal) / 1e6,
                A.t_snapshot ? (A.t_snapshot - A.t_signal) / 1e6 : -1.0);
        if (A.t_frame) fprintf(stderr, ", to the first live frame %.1f ms (from the command's start %.1f ms)",
                               (A.t_frame - A.t_signal) / 1e6, (A.t_frame - t0) / 1e6);
        fputc('\n', stderr);
    }
    fprintf(stderr, "coscope: trace in %s: %llu events, %lld tasks (%lld in the snapshot); %s\n", out,
            (unsigned long long)events, (long long)tasks, (long long)snap,
            A.gone                        ? "the program ended while attached"
            : A.acked                     ? "detached, the program runs on"
                                          : "the program let go (its loop closed)");
    return record_err || A.live.finish_err < 0 ? 1 : 0;
}
