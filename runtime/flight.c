/* SPDX-License-Identifier: MIT */
/* flight.c -- the flight recorder, the program's side: always-on tracing
 * whose last window is kept in memory and written as a trace file when
 * something goes wrong (COSCOPE_FLIGHT=30s[,64MB], co_flight_start).
 *
 * The window is not kept in this process.  co_flight_start makes the trace
 * region `coscope run` makes, starts the `coscope` binary as a helper
 * (`coscope flight`, tracer/flight.c) that drains the rings into compact
 * chunks in its own memory, drops the oldest periods to stay within the
 * window and the byte budget, and writes a trace when asked.  The same
 * reasons as co_trace_start's helper (record.c), and two of its own:
 *
 *   - a crash needs nothing from the fatal-signal handler beyond what it
 *     writes already (crash.c): the window is outside the dying process,
 *     the helper sees the program go, drains what the handler wrote (the
 *     crash and its stack) and builds a complete trace at once;
 *   - a hung program (a loop stuck in a step, every task asleep) is dumped
 *     without its help: `coscope dump PID` talks to the helper.
 *
 * What stays here: a full ring drops events instead of blocking
 * (TR_FULL_DROP: a program is never slowed by its recorder, but for the
 * snapshots it asks for, co__tr_keep), the periods
 * (the helper asks for one, a thread here wakes every loop, each writes its
 * snapshot, co__snapshot_write, so whatever is dropped the window still
 * opens with every live task at its await), the dump signal (its handler
 * sends one byte to the helper: async-signal-safe), co_flight_dump and the
 * helper's figures (co_flight_stats).
 *
 * The helper and this process talk over a SOCK_SEQPACKET pair (one message
 * each): the helper answers 0 or a negative errno once it runs, then sends
 * 'P' (new period) and 'T' + co_flight_stats_t; this side sends 'S' (the
 * signal), 'A' + path (co_flight_dump) and 'X' (co_flight_stop).
 */
#define _GNU_SOURCE
#include "internal.h"
#include "trace.h"
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static struct {
    pthread_mutex_t mu;
    int active;
    pid_t helper;
    tr_shm *shm;
    pthread_t thread;      /* reads the helper's messages */
    co_flight_stats_t stats;
} F = { .mu = PTHREAD_MUTEX_INITIALIZER };

static _Atomic int g_sock = -1;       /* our end; the signal handler sends on it */
static _Atomic uint32_t g_period;     /* the period the loops should have written a snapshot for */
static pthread_mutex_t stats_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t env_once = PTHREAD_ONCE_INIT;
static int g_signo;                   /* the dump signal, 0 if none */

/* ---- the loops' side -------------------------------------------------------- */

void co__flight_wake(co__loop *l)
{
    uint32_t p = atomic_load_explicit(&g_period, memory_order_acquire);
    if (!p || !co__tracing || l->closing || l->flight_period == p) return;
    l->flight_period = p;
    co__snapshot_write(l); /* on the loop thread, between tasks */
}

/* ---- the dump signal ------------------------------------------------------------ */

static void on_signal(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)si, (void)uc;
    int saved = errno;
    int fd = atomic_load(&g_sock);
    if (fd >= 0) (void)send(fd, "S", 1, MSG_DONTWAIT | MSG_NOSIGNAL);
    errno = saved;
}

static void arm_signal(void)
{
    static int armed;
    if (armed) return;
    armed = 1;
    int sig = SIGRTMIN + 9;
    const char *v = getenv("COSCOPE_FLIGHT_SIGNAL");
    if (v && *v) {
        char *end;
        long n = strtol(v, &end, 10);
        if (!*end && (n == 0 || n == SIGUSR1 || n == SIGUSR2 || (n >= SIGRTMIN && n <= SIGRTMAX))) sig = (int)n;
        else co__logf("ignoring COSCOPE_FLIGHT_SIGNAL=%s (0, SIGUSR1, SIGUSR2 or %d..%d)", v, SIGRTMIN, SIGRTMAX);
    }
    if (sig == 0) return;
    struct sigaction old;
    if (sigaction(sig, NULL, &old) != 0) return;
    if ((old.sa_flags & SA_SIGINFO) || (old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN)) {
        co__logf("flight recorder: no dump signal, signal %d has a handler of the program's "
                 "(choose another with COSCOPE_FLIGHT_SIGNAL=N)", sig);
        return;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL) == 0) g_signo = sig;
}

/* ---- the helper ------------------------------------------------------------------ */

static int read_answer(int fd)
{
    int32_t v;
    ssize_t n;
    while ((n = recv(fd, &v, sizeof v, 0)) < 0 && errno == EINTR) {}
    if (n != (ssize_t)sizeof v) return -EPIPE;
    return v <= 0 ? v : -EPROTO;
}

static int spawn_helper(int shm_fd, int sock, uint64_t window_ms, uint64_t max_bytes, pid_t *pid)
{
    char fdbuf[16], sockbuf[16], pidbuf[24], winbuf[24], bytesbuf[24];
    snprintf(fdbuf, sizeof fdbuf, "%d", shm_fd);
    snprintf(sockbuf, sizeof sockbuf, "%d", sock);
    snprintf(pidbuf, sizeof pidbuf, "%ld", (long)getpid());
    snprintf(winbuf, sizeof winbuf, "%llu", (unsigned long long)window_ms);
    snprintf(bytesbuf, sizeof bytesbuf, "%llu", (unsigned long long)max_bytes);
    char *argv[] = { NULL, "flight", "--fd", fdbuf, "--sock", sockbuf, "--pid", pidbuf, "--window",
                     winbuf, "--bytes", bytesbuf, NULL };
    int keep[] = { sock, shm_fd };
    return co__spawn_helper(argv, keep, 2, pid);
}

/* Wake every loop: each writes the new period's snapshot (attach.c's
 * on_async calls co__flight_wake). */
static void new_period(void)
{
    uint32_t p = atomic_load(&g_period) + 1;
    if (p == 0) p = 1;
    atomic_store_explicit(&g_period, p, memory_order_release);
    co__attach_wake_loops();
}

/* The helper's messages, until it goes away or co_flight_stop. */
static void *reader(void *arg)
{
    int fd = (int)(intptr_t)arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL); /* the program's signals are for its own threads */
    for (;;) {
        char buf[1 + sizeof(co_flight_stats_t)];
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (buf[0] == 'P') new_period();
        else if (buf[0] == 'T' && (size_t)n == sizeof buf) {
            pthread_mutex_lock(&stats_mu);
            memcpy(&F.stats, buf + 1, sizeof F.stats);
            pthread_mutex_unlock(&stats_mu);
        } else if (buf[0] == 'Q') {
            break; /* co_flight_stop's answer */
        }
    }
    /* The helper is gone (killed, or told to stop): nothing is recorded
     * any more.  co_flight_stop (or a later start) tidies up. */
    co__tr_detach();
    co__tr_snap_gate = 0;
    return NULL;
}

static uint64_t parse_size(const char *s, char **end)
{
    double v = strtod(s, end);
    uint64_t mul = 1;
    if (**end == 'K' || **end == 'k') mul = 1024, (*end)++;
    else if (**end == 'M' || **end == 'm') mul = 1024 * 1024, (*end)++;
    else if (**end == 'G' || **end == 'g') mul = 1024ull * 1024 * 1024, (*end)++;
    if (mul > 1 && (**end == 'B' || **end == 'b')) (*end)++;
    else if (mul == 1 && (**end == 'B' || **end == 'b')) (*end)++;
    return v > 0 ? (uint64_t)(v * (double)mul) : 0;
}

static uint64_t parse_ms(const char *s, char **end)
{
    double v = strtod(s, end);
    double mul = 1000; /* seconds by default */
    if (!strncmp(*end, "ms", 2)) mul = 1, *end += 2;
    else if (**end == 's') mul = 1000, (*end)++;
    else if (**end == 'm') mul = 60000, (*end)++;
    else if (**end == 'h') mul = 3600000, (*end)++;
    return v > 0 ? (uint64_t)(v * mul) : 0;
}

int co__flight_parse(const char *v, uint64_t *window_ms, uint64_t *max_bytes)
{
    char *end;
    *window_ms = parse_ms(v, &end);
    *max_bytes = 0;
    if (*end == ',') *max_bytes = parse_size(end + 1, &end);
    return *window_ms && !*end && !(end[-1] == ',') ? 0 : -EINVAL;
}

static void start_from_env(void)
{
    const char *v = getenv("COSCOPE_FLIGHT");
    if (!v || !*v) return;
    uint64_t ms, bytes;
    if (co__flight_parse(v, &ms, &bytes) < 0) {
        co__logf("ignoring COSCOPE_FLIGHT=%s (a window and a budget: 30s, 500ms, 2m; 30s,64MB)", v);
        return;
    }
    int r = co_flight_start(ms, bytes);
    if (r < 0 && r != -EINVAL) co__logf("flight recorder not started: %s", co_strerror(r)); /* -EINVAL: said */
}

void co__flight_loop_init(co__loop *l)
{
    pthread_once(&env_once, start_from_env);
    /* A loop made while the recorder runs writes its (empty) snapshot now,
     * on its thread, before its first task: everything it does is then
     * recorded, the resources its tasks make first included. */
    uint32_t p = atomic_load(&g_period);
    if (p && co__tracing && !l->closing) {
        l->flight_period = p;
        co__snapshot_write(l);
    }
}

/* A forked child is not recorded (trace.c) and must not keep the helper's
 * socket open: the helper tells the parent's death by the socket's end. */
static void forked_child(void)
{
    int fd = atomic_exchange(&g_sock, -1);
    if (fd >= 0) close(fd);
    F.active = 0;
    atomic_store(&g_period, 0);
}

/* The budget, its fixed parts first.  The rings of the traced threads and
 * the interned texts are memory the helper cannot drop, so they are sized
 * from max_bytes before anything is recorded: a third of it for rings (at
 * least one, at most TR_NRINGS), an eighth for texts (64 KiB to
 * TR_ARENA_BYTES).  What remains, at least WINDOW_MIN, is the window's, and
 * the helper keeps the window within it (tracer/flightwin.c).  A thread
 * beyond the rings is not traced and a text beyond the arena is lost, both
 * counted.  Sets s's rings and arena (nothing has been written to them
 * yet).  Returns 0, or -EINVAL with one line said. */
#define WINDOW_MIN (1ull << 20)
static int fit_budget(tr_shm *s, uint64_t max_bytes)
{
    uint64_t ring = sizeof(tr_ring), text = (max_bytes / 8) & ~7ull;
    uint64_t nrings = max_bytes / 3 / ring;
    nrings = nrings < 1 ? 1 : nrings > TR_NRINGS ? TR_NRINGS : nrings;
    text = text < (64u << 10) ? (64u << 10) : text > TR_ARENA_BYTES ? TR_ARENA_BYTES : text;
    uint64_t fixed = nrings * ring + text;
    if (max_bytes < fixed + WINDOW_MIN) {
        co__logf("flight recorder: a budget of %.2f MiB is too small: its rings and texts take %.2f MiB and a "
                 "window needs %.2f MiB more (COSCOPE_FLIGHT=30s,%lluMB or more)",
                 (double)max_bytes / 1048576, (double)fixed / 1048576, (double)WINDOW_MIN / 1048576,
                 (unsigned long long)((fixed + WINDOW_MIN + 1048575) >> 20));
        return -EINVAL;
    }
    /* The rings move to the arena's new end: their old index fields go, so
     * none is left inside a moved ring's counters. */
    tr_ring *old = tr_rings(s);
    for (uint32_t i = 0; i < TR_NRINGS; i++) old[i].index = 0;
    s->nrings = (uint32_t)nrings;
    s->arena_size = text;
    tr_ring *rings = tr_rings(s);
    for (uint32_t i = 0; i < s->nrings; i++) rings[i].index = i;
    return 0;
}

int co_flight_start(uint64_t window_ms, uint64_t max_bytes)
{
    if (window_ms == 0) return -EINVAL;
    if (max_bytes == 0) max_bytes = 64ull << 20;
    pthread_mutex_lock(&F.mu);
    int r, fd = -1, sv[2] = { -1, -1 };
    tr_shm *shm = NULL;
    static int registered;
    if (!registered) {
        registered = 1;
        pthread_atfork(NULL, NULL, forked_child);
    }
    if (F.active || co__tracing) {
        r = -EBUSY;
        goto out;
    }
    if (!(shm = co__tr_create_shm(&fd))) {
        r = errno ? -errno : -ENOMEM;
        goto out;
    }
    if ((r = fit_budget(shm, max_bytes)) < 0) goto fail;
    shm->full_policy = TR_FULL_DROP; /* never block the program on its recorder (a snapshot waits: co__tr_keep) */
    const char *slow = getenv("COSCOPE_SLOW_MS");
    if (slow) shm->slow_ms = atoi(slow);
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
        r = -errno;
        goto fail;
    }
    pid_t pid;
    if ((r = spawn_helper(fd, sv[1], window_ms, max_bytes, &pid)) < 0) goto fail;
    close(sv[1]);
    sv[1] = -1;
    close(fd);
    fd = -1;
    if ((r = read_answer(sv[0])) < 0) {
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
        goto fail;
    }
    int32_t expect = 0;
    atomic_compare_exchange_strong(&shm->producer_pid, &expect, (int32_t)getpid());
    memset(&F.stats, 0, sizeof F.stats);
    F.helper = pid;
    F.shm = shm;
    F.active = 1;
    atomic_store(&g_sock, sv[0]);
    co__tr_snap_gate = 1; /* every loop's ring opens with its snapshot */
    co__tr_attach(shm);
    if (pthread_create(&F.thread, NULL, reader, (void *)(intptr_t)sv[0]) != 0) {
        co__tr_detach();
        co__tr_snap_gate = 0;
        atomic_store(&g_sock, -1);
        F.active = 0;
        close(sv[0]);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
        munmap(shm, tr_shm_size());
        r = -EAGAIN;
        goto out;
    }
    arm_signal();
    new_period();
    goto out;
fail:
    if (sv[0] >= 0) close(sv[0]);
    if (sv[1] >= 0) close(sv[1]);
    if (fd >= 0) close(fd);
    munmap(shm, tr_shm_size());
out:
    pthread_mutex_unlock(&F.mu);
    return r;
}

int co_flight_stop(void)
{
    pthread_mutex_lock(&F.mu);
    if (!F.active) {
        pthread_mutex_unlock(&F.mu);
        return -ENOENT;
    }
    co__tr_detach();
    co__tr_snap_gate = 0;
    atomic_store(&g_period, 0);
    int fd = atomic_exchange(&g_sock, -1);
    (void)send(fd, "X", 1, MSG_NOSIGNAL);
    pthread_join(F.thread, NULL); /* the helper answers 'Q' or goes away */
    close(fd);
    while (waitpid(F.helper, NULL, 0) < 0 && errno == EINTR) {}
    /* Not munmap: a thread that saw tracing on just before may still be
     * writing its last event (record.c's drop_region). */
    if (mmap(F.shm, tr_shm_size(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE,
             -1, 0) == MAP_FAILED)
        madvise(F.shm, tr_shm_size(), MADV_DONTNEED);
    F.active = 0;
    F.shm = NULL;
    pthread_mutex_unlock(&F.mu);
    co__attach_wake_loops(); /* each loop lets go of what the trace started (attach.c) */
    return 0;
}

int co_flight_dump(const char *path)
{
    char msg[4097];
    size_t len = path ? strlen(path) : 0;
    if (len >= sizeof msg - 1) return -ENAMETOOLONG;
    int fd = atomic_load(&g_sock);
    if (fd < 0 || !co__tracing) return -ENOENT;
    msg[0] = 'A';
    if (len) memcpy(msg + 1, path, len);
    if (send(fd, msg, 1 + len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) return errno == EAGAIN ? -EAGAIN : -errno;
    return 0;
}

int co_flight_stats(co_flight_stats_t *out)
{
    if (!out) return -EINVAL;
    pthread_mutex_lock(&stats_mu);
    *out = F.stats;
    pthread_mutex_unlock(&stats_mu);
    return atomic_load(&g_sock) >= 0 && co__tracing ? 0 : -ENOENT;
}

int co_flight_signal(void) { return g_signo; }
