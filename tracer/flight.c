/* SPDX-License-Identifier: MIT */
/* flight.c -- the flight recorder's helper (`coscope flight`): keeps the
 * most recent window of a program's events in memory (flightwin.c), within
 * a byte budget, and writes it as a trace (flightdump.c) when a trigger
 * fires.  The program's side and why the window lives here:
 * runtime/flight.c.
 *
 * Periods: every quarter of the window, or sooner when the budget rather
 * than the window decides what is kept, the helper asks the program for a
 * new one ('P'): every loop writes its snapshot, which opens the loop's
 * next period.
 *
 * Triggers: the runtime's detections are events in the rings (TR_WARN:
 * deadlock, all_asleep, cancel_ignored, crash); slow steps are timed here
 * from each ring's step boundaries, a step still running included.  A
 * detection dumps after SETTLE_NS, so the dump holds what the runtime
 * wrote after the warning (the all-asleep story, a crash's last records);
 * the program's end dumps at once.  Requests: the program's socket ('S'
 * the signal, 'A' co_flight_dump), and `coscope dump PID` through an
 * abstract socket of ours (TR_FLIGHT_SOCKET).
 */
#define _GNU_SOURCE
#include "flight.h"
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SEAL_NS      (100 * 1000000ll)  /* open chunks become pieces this often */
#define TRIM_NS      (20 * 1000000ll)   /* periods past the window are looked for this often */
#define SETTLE_NS    (250 * 1000000ll)  /* a detection's dump waits this long */

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- the helper's state ---------------------------------------------------------- */

typedef struct helper {
    tr_fwindow w;
    int sock, lsock;
    unsigned enabled;            /* triggers on: bit per TR_FT_* */
    int64_t rate_ns;             /* one dump per trigger kind per this */
    int64_t last_dump[TR_FT_COUNT];
    uint64_t slow_ticks;
    int pending;                 /* a detection waits: TR_FT_*, -1 none */
    int64_t pending_at;
    int crash_signal;
    const char *dir;
    pid_t child;                 /* writing a dump, 0 if none */
    int64_t last_period, last_seal, last_trim, period_ns;
    uint64_t added_at_period;
} helper;

static void send_stats(helper *h)
{
    tr_fwindow *w = &h->w;
    struct {
        char type;
        uint64_t v[10];
    } __attribute__((packed)) m = { 'T',
                                    { w->window_ms, w->max_bytes, w->bytes, w->bytes_peak, w->events,
                                      w->periods_dropped, atomic_load(&w->shm->dropped), w->dumps,
                                      w->dumps_failed, w->dumps_limited } };
    send(h->sock, &m, sizeof m, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* Ask every loop for a snapshot; other rings start a period now. */
static void request_period(helper *h)
{
    h->last_period = mono_ns();
    h->added_at_period = h->w.added;
    tr_fwindow_new_period(&h->w);
    send(h->sock, "P", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    send_stats(h);
}

static void fire(helper *h, unsigned trig)
{
    if (!(h->enabled >> trig & 1)) return;
    if (h->pending >= 0) return; /* one dump at a time: the first detection names it */
    int64_t now = mono_ns();
    if (h->rate_ns > 0 && h->last_dump[trig] && now - h->last_dump[trig] < h->rate_ns) {
        h->w.dumps_limited++;
        return;
    }
    h->pending = (int)trig;
    h->pending_at = now + SETTLE_NS;
}

static void on_event(void *ctx, tr_fring *fr, const tr_rec *e)
{
    helper *h = ctx;
    unsigned kind = e->kind_loc & 0xff;
    if (kind == TR_SWITCH) { /* an await and a resume (trace.h) */
        tr_rec await, resume;
        tr_switch_split(e, &await, &resume);
        on_event(ctx, fr, &await);
        on_event(ctx, fr, &resume);
        return;
    }
    switch (kind) {
    case TR_START:
    case TR_RESUME:
        fr->step_ts = e->ts;
        fr->step_told = 0;
        break;
    case TR_AWAIT:
    case TR_END:
        if (fr->step_ts && e->ts - fr->step_ts > h->slow_ticks && !fr->step_told) fire(h, TR_FT_SLOW_STEP);
        fr->step_ts = 0;
        break;
    case TR_WARN:
        switch ((unsigned)(e->arg & 0xff)) {
        case TR_WARN_DEADLOCK: fire(h, TR_FT_DEADLOCK); break;
        case TR_WARN_ALL_ASLEEP: fire(h, TR_FT_ALL_ASLEEP); break;
        case TR_WARN_CANCEL_IGNORED: fire(h, TR_FT_CANCEL_IGNORED); break;
        case TR_WARN_CRASH:
            h->crash_signal = (int)(e->arg >> 8 & 0xff);
            fire(h, TR_FT_CRASH);
            break;
        }
        break;
    }
}

static int64_t drain(helper *h) { return tr_fwindow_drain(&h->w, on_event, h); }

/* ---- dumps ---------------------------------------------------------------------- */


static void default_path(helper *h, char *out, size_t cap)
{
    char dir[PATH_MAX];
    if (h->dir && *h->dir) {
        snprintf(dir, sizeof dir, "%s", h->dir);
    } else {
        /* The program's working directory now; ours (its, when it started
         * us) once it is gone. */
        char link[64];
        snprintf(link, sizeof link, "/proc/%ld/cwd", h->w.pid);
        ssize_t n = readlink(link, dir, sizeof dir - 1);
        if (n > 0) dir[n] = 0;
        else if (!getcwd(dir, sizeof dir)) snprintf(dir, sizeof dir, ".");
    }
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    for (int i = 1; i < 1000; i++) {
        if (i == 1) snprintf(out, cap, "%s/coscope-flight-%ld-%s.db", dir, h->w.pid, stamp);
        else snprintf(out, cap, "%s/coscope-flight-%ld-%s-%d.db", dir, h->w.pid, stamp, i);
        if (access(out, F_OK) != 0) return;
    }
}

/* A dump written by a child of ours has ended: count it. */
static void reaped(helper *h, int status)
{
    h->child = 0;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) h->w.dumps++;
    else h->w.dumps_failed++;
    send_stats(h);
}

static void reap(helper *h, int block)
{
    int status;
    if (h->child > 0 && waitpid(h->child, &status, block ? 0 : WNOHANG) == h->child) reaped(h, status);
}

/* Write the window into path (NULL: the default name).  While the program
 * runs, a child of ours writes it from a copy-on-write image of the
 * window, so the rings are drained meanwhile (a 30 s window takes seconds
 * to build); reply (a `coscope dump` socket, or -1) hears the result from
 * whoever writes.  Once the program is gone, here.  Returns 0 or a negative
 * errno, or 1 if a child took it. */
static int dump(helper *h, unsigned trig, const char *path, int gone, int reply)
{
    char def[PATH_MAX + 64];
    if (!path || !*path) {
        default_path(h, def, sizeof def);
        path = def;
    }
    reap(h, 1); /* one dump at a time */
    drain(h);
    /* A loop whose kept events have no snapshot to open them (the budget
     * let its only period go): a new period, and a moment for it. */
    for (int64_t until = mono_ns() + 250000000; !gone && mono_ns() < until;) {
        int unopened = 0;
        for (uint32_t i = 0; i < TR_NRINGS; i++) {
            tr_fring *fr = &h->w.rings[i];
            if (fr->is_loop && (fr->torn || (fr->head && !fr->head->snap))) unopened = 1;
        }
        if (!unopened) break;
        if (mono_ns() - h->last_period > 50000000) request_period(h);
        tr_wait_for_events(h->w.shm, 2000000, TR_RING_RECS / 4);
        drain(h);
    }
    tr_fwindow_seal(&h->w);
    h->last_dump[trig] = mono_ns();
    tr_fdump d = { .trigger = trig, .gone = gone, .signal = gone ? h->crash_signal : 0,
                   .end_tick = gone ? 0 : co__tr_now() };
    pid_t c = gone ? -1 : fork();
    if (c > 0) {
        h->child = c;
        return 1;
    }
    if (c == 0) { /* the child: the program's socket and ours are the parent's */
        close(h->sock);
        if (h->lsock >= 0) close(h->lsock);
    }
    const char *why = "";
    int64_t t0 = mono_ns();
    int r = tr_flight_write(&h->w, &d, path, &why);
    if (r < 0) tr_logf("flight dump to %s failed: %s", path, why);
    else if (getenv("COSCOPE_FLIGHT_TIMES"))
        tr_logf("flight dump (%s): %s in %.3f s", tr_flight_trigger_name(trig), path, (mono_ns() - t0) / 1e9);
    if (reply >= 0) {
        char out[4 + PATH_MAX + 64];
        int32_t v = r;
        memcpy(out, &v, 4);
        snprintf(out + 4, sizeof out - 4, "%s", path);
        send(reply, out, 4 + strlen(out + 4), MSG_NOSIGNAL);
    }
    if (c == 0) _exit(r < 0 ? 1 : 0);
    reaped(h, r < 0 ? 1 << 8 : 0);
    return r;
}

/* A request from the program: 'S' (signal), 'A' [path] (co_flight_dump),
 * 'X' (stop).  Returns 1 to stop. */
static int on_program(helper *h, int *gone)
{
    char buf[4200];
    ssize_t n = recv(h->sock, buf, sizeof buf - 1, MSG_DONTWAIT);
    if (n < 0) return (errno == EAGAIN || errno == EINTR) ? 0 : (*gone = 1);
    if (n == 0) return *gone = 1;
    buf[n] = 0;
    if (buf[0] == 'X') {
        send(h->sock, "Q", 1, MSG_NOSIGNAL);
        return 1;
    }
    unsigned trig = buf[0] == 'S' ? TR_FT_SIGNAL : TR_FT_API;
    if (buf[0] != 'S' && buf[0] != 'A') return 0;
    int64_t now = mono_ns();
    if (h->rate_ns > 0 && h->last_dump[trig] && now - h->last_dump[trig] < h->rate_ns) {
        h->w.dumps_limited++;
        send_stats(h);
        return 0;
    }
    dump(h, trig, buf[0] == 'A' ? buf + 1 : NULL, 0, -1);
    return 0;
}

/* `coscope dump PID`: its path (absolute, or empty), our answer: int32 and
 * the path written. */
static void on_request(helper *h)
{
    int c = accept4(h->lsock, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) return;
    struct ucred cred;
    socklen_t clen = sizeof cred;
    char buf[PATH_MAX + 8];
    if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0 || (cred.uid != geteuid() && cred.uid != 0)) {
        close(c);
        return;
    }
    struct pollfd p = { .fd = c, .events = POLLIN };
    ssize_t n = poll(&p, 1, 2000) > 0 ? recv(c, buf, sizeof buf - 1, 0) : -1;
    if (n <= 0) {
        close(c);
        return;
    }
    buf[n] = 0;
    dump(h, TR_FT_DUMP, buf, 0, c);
    close(c);
}

static unsigned triggers_from_env(void)
{
    unsigned all = 1u << TR_FT_API | 1u << TR_FT_SIGNAL | 1u << TR_FT_DUMP;
    const char *v = getenv("COSCOPE_FLIGHT_TRIGGERS");
    if (!v) return all | 1u << TR_FT_DEADLOCK | 1u << TR_FT_ALL_ASLEEP | 1u << TR_FT_SLOW_STEP |
                  1u << TR_FT_CANCEL_IGNORED | 1u << TR_FT_CRASH;
    char *copy = strdup(v), *save = NULL;
    for (char *t = copy ? strtok_r(copy, ", ", &save) : NULL; t; t = strtok_r(NULL, ", ", &save))
        for (unsigned k = TR_FT_DEADLOCK; k < TR_FT_COUNT; k++)
            if (!strcmp(t, tr_flight_trigger_name(k))) all |= 1u << k;
    free(copy);
    return all;
}

static int64_t env_int(const char *name, int64_t dflt)
{
    const char *v = getenv(name);
    if (!v || !*v) return dflt;
    char *end;
    long long n = strtoll(v, &end, 10);
    return *end || n < 0 ? dflt : n;
}

/* The program's path and its argv as a JSON array (meta.program, argv),
 * read while it runs. */
static char *read_cmdline(long pid, char **program)
{
    char path[64], buf[4096], out[8192];
    snprintf(path, sizeof path, "/proc/%ld/exe", pid);
    ssize_t x = readlink(path, buf, sizeof buf - 1);
    buf[x > 0 ? x : 0] = 0;
    *program = strdup(x > 0 ? buf : "?");
    snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
    FILE *f = fopen(path, "re");
    size_t len = f ? fread(buf, 1, sizeof buf - 1, f) : 0, o = 0;
    if (f) fclose(f);
    buf[len] = 0;
    out[o++] = '[';
    for (size_t i = 0; i < len && o + 16 < sizeof out;) {
        if (o > 1) out[o++] = ',';
        out[o++] = '"';
        for (; i < len && buf[i] && o + 8 < sizeof out; i++) {
            unsigned char c = (unsigned char)buf[i];
            if (c == '"' || c == '\\') {
                out[o++] = '\\';
                out[o++] = (char)c;
            } else if (c < 0x20) {
                o += (size_t)snprintf(out + o, sizeof out - o, "\\u%04x", c);
            } else {
                out[o++] = (char)c;
            }
        }
        out[o++] = '"';
        i++;
    }
    out[o++] = ']';
    out[o] = 0;
    return strdup(out);
}

static int listen_socket(long pid)
{
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int len = snprintf(sa.sun_path + 1, sizeof sa.sun_path - 1, TR_FLIGHT_SOCKET, pid);
    socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)len);
    if (bind(fd, (struct sockaddr *)&sa, alen) != 0 || listen(fd, 4) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}


static void answer(int sock, int32_t v) { send(sock, &v, sizeof v, MSG_NOSIGNAL); }

int tr_flight_run(int shm_fd, int sock, long pid, uint64_t window_ms, uint64_t max_bytes, const char **why)
{
    *why = "";
    void *m = mmap(NULL, tr_shm_size(), PROT_READ | PROT_WRITE, MAP_SHARED, shm_fd, 0);
    close(shm_fd);
    if (m == MAP_FAILED) {
        int r = -errno;
        *why = "cannot map the program's trace region";
        answer(sock, r);
        return r;
    }
    helper *h = calloc(1, sizeof *h);
    if (!h) {
        answer(sock, -ENOMEM);
        return -ENOMEM;
    }
    tr_fwindow *w = &h->w;
    w->shm = m;
    if (w->shm->magic != TR_MAGIC || w->shm->version != TR_VERSION) {
        *why = "the program's trace region has another format version";
        answer(sock, -EPROTO);
        return -EPROTO;
    }
    int r = tr_fwindow_init(w, m, window_ms, max_bytes, why);
    if (r < 0) {
        answer(sock, r);
        return r;
    }
    w->pid = pid;
    char *program;
    w->argv = read_cmdline(pid, &program);
    w->program = program;
    w->ns_per_tick = tr_calibrate(w->shm);
    h->sock = sock;
    h->pending = -1;
    h->enabled = triggers_from_env();
    h->rate_ns = env_int("COSCOPE_FLIGHT_RATE", 60) * 1000000000ll;
    h->slow_ticks = (uint64_t)((double)env_int("COSCOPE_FLIGHT_SLOW_MS", 1000) * 1e6 / w->ns_per_tick);
    h->dir = getenv("COSCOPE_FLIGHT_DIR");
    h->period_ns = (int64_t)window_ms * 1000000 / 4;
    if (h->period_ns < 50000000) h->period_ns = 50000000;
    h->lsock = listen_socket(pid);
    h->last_period = h->last_seal = mono_ns();
    answer(sock, 0);

    int gone = 0, stop = 0;
    while (!stop) {
        int64_t got = drain(h);
        if (got < 0) tr_fwindow_drop_all(w); /* out of memory: the budget is more than the machine lets us have */
        int64_t now = mono_ns();
        if (now - h->last_seal >= SEAL_NS) {
            h->last_seal = now;
            tr_fwindow_seal(w);
        }
        reap(h, 0);
        /* The budget is kept as events come in (flightwin.c); the window's
         * time needs no finer look than this. */
        if (now - h->last_trim >= TRIM_NS) {
            h->last_trim = now;
            tr_fwindow_trim(w, co__tr_now());
        }
        int forced = w->forced;
        w->forced = 0;
        /* A period is a quarter of the window; sooner when the budget, not
         * the window, decides what is kept: a period takes at most an
         * eighth of the budget, so dropping the oldest frees room while
         * most of the window stays. */
        if (now - h->last_period >= h->period_ns ||
            ((forced || w->added - h->added_at_period > w->budget / 8) && now - h->last_period >= 2000000))
            request_period(h);
        /* A step still running past the threshold. */
        uint64_t tnow = co__tr_now();
        for (uint32_t i = 0; i < TR_NRINGS; i++) {
            tr_fring *fr = &w->rings[i];
            if (fr->step_ts && !fr->step_told && tnow > fr->step_ts && tnow - fr->step_ts > h->slow_ticks) {
                fr->step_told = 1;
                fire(h, TR_FT_SLOW_STEP);
            }
        }
        if (h->pending >= 0 && now >= h->pending_at) {
            unsigned t = (unsigned)h->pending;
            h->pending = -1;
            dump(h, t, NULL, 0, -1);
        }
        struct pollfd p[2] = { { .fd = sock, .events = POLLIN }, { .fd = h->lsock, .events = POLLIN } };
        if (poll(p, h->lsock >= 0 ? 2 : 1, 0) > 0) {
            if (p[0].revents) stop = on_program(h, &gone);
            if (!stop && h->lsock >= 0 && p[1].revents) on_request(h);
        }
        if (!stop && got < 4096) tr_wait_for_events(w->shm, 5000000, TR_RING_RECS / 4);
    }
    if (gone) {
        /* The program ended without co_flight_stop: exit, _exit, a kill or
         * a crash.  What it wrote last is in the rings: a crash's records
         * fire their trigger now. */
        drain(h);
        if (h->pending >= 0) dump(h, (unsigned)h->pending, NULL, 1, -1);
        reap(h, 1); /* a dump still being written finishes first */
    }
    if (h->lsock >= 0) close(h->lsock);
    munmap(m, tr_shm_size());
    return 0;
}

int tr_flight_request(long pid, const char *path, char *out, size_t outlen)
{
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int len = snprintf(sa.sun_path + 1, sizeof sa.sun_path - 1, TR_FLIGHT_SOCKET, pid);
    socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)len);
    if (connect(fd, (struct sockaddr *)&sa, alen) != 0) {
        close(fd);
        return -ECONNREFUSED; /* not -ENOENT: that is a dump into a missing directory */
    }
    const char *p = path ? path : "";
    if (send(fd, p, strlen(p) ? strlen(p) : 1, MSG_NOSIGNAL) < 0) { /* "" as one NUL byte */
        int e = -errno;
        close(fd);
        return e;
    }
    char buf[4 + PATH_MAX + 64];
    ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
    close(fd);
    if (n < 4) return -EPIPE;
    buf[n] = 0;
    int32_t r;
    memcpy(&r, buf, 4);
    snprintf(out, outlen, "%s", buf + 4);
    return r;
}
