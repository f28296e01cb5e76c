/* SPDX-License-Identifier: MIT */
/* attach.c -- `coscope attach PID`: a running program starts recording when
 * asked, and stops when told or when coscope goes away, at no cost while
 * nobody asks.
 *
 * The trigger is a signal, because it reaches a program in any state: the
 * handler only sets a flag and wakes every loop (uv_async_send, which libuv
 * makes async-signal-safe) through the registry of live loops
 * (debug_offsets.c).  Everything else happens on a loop, between tasks: the
 * first loop to wake connects to coscope's abstract socket, receives the
 * trace region's memfd (SCM_RIGHTS), maps it and turns tracing on; every
 * loop then writes its snapshot (snapshot.c) before its first event
 * (co__tr_snap_gate), so each ring reads as if recorded from the start.
 * The socket stays open on that loop, watched by an unref'd uv_poll: a
 * byte 'd', or its end (coscope killed), detaches.  The protocol is in
 * debug_offsets.h.
 *
 * The signal: COSCOPE_ATTACH_SIGNAL=N (0 disables attaching), read when
 * the first loop is made, default SIGRTMIN+8.  Its handler is installed
 * then, never removed (a later signal with no loop left is harmless), and
 * not over a handler the program installed itself.  The number is
 * published in co_debug_attach for coscope to read: it sends nothing to a
 * program that has no handler (an unhandled real-time signal kills).
 *
 * Detach leaves the region's address mapped to anonymous zero pages rather
 * than unmapped: a thread that saw tracing on just before may still write
 * its last event there, harmlessly.  The next attach maps over the same
 * address, so repeated attaches take no more address space.
 */
#define _GNU_SOURCE
#include "internal.h"
#include "debug_offsets.h"
#include "trace.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

co_debug_attach co__attach_pub;

enum { ST_IDLE, ST_CONNECTING, ST_ATTACHED };

/* The attachment: changed on loop threads only (never in the handler),
 * under mu; the socket's poll handle belongs to loop ctl. */
static struct {
    pthread_mutex_t mu;
    int state;
    co__loop *ctl;
    int fd;
    uv_poll_t *poll;
    void *addr;        /* the region's address, kept for the next attach */
} A = { .mu = PTHREAD_MUTEX_INITIALIZER, .fd = -1 };

static _Atomic int pending;    /* the signal came: a loop should connect */
static _Atomic int in_wake;    /* wake_all calls reading the registry now */
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* Wake every loop that can be woken.  Async-signal-safe.  A loop being
 * freed leaves the registry first, then waits until no wake_all is
 * running (co__attach_loop_free), so l is never used after its free. */
static void wake_all(void)
{
    atomic_fetch_add(&in_wake, 1);
    size_t n = co__debug_loops_max();
    for (size_t i = 0; i < n; i++) {
        co__loop *l = co__debug_loop_at(i);
        if (l && __atomic_load_n(&l->attach_on, __ATOMIC_ACQUIRE)) uv_async_send(&l->attach_async);
    }
    atomic_fetch_sub(&in_wake, 1);
}

void co__attach_wake_loops(void) { wake_all(); }

static void on_signal(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)si, (void)uc;
    int saved = errno;
    atomic_store(&pending, 1);
    wake_all();
    errno = saved;
}

static int signal_from_env(void)
{
    int dflt = SIGRTMIN + 8;
    const char *v = getenv("COSCOPE_ATTACH_SIGNAL");
    if (!v || !*v) return dflt;
    char *end;
    long n = strtol(v, &end, 10);
    if (!*end && (n == 0 || n == SIGUSR1 || n == SIGUSR2 || (n >= SIGRTMIN && n <= SIGRTMAX))) return (int)n;
    co__logf("ignoring COSCOPE_ATTACH_SIGNAL=%s (0, SIGUSR1, SIGUSR2 or %d..%d); attach signal %d", v, SIGRTMIN,
             SIGRTMAX, dflt);
    return dflt;
}

static void arm(void)
{
    int sig = signal_from_env();
    if (sig == 0) return; /* disabled: coscope attach says so */
    struct sigaction old;
    if (sigaction(sig, NULL, &old) != 0) return;
    if ((old.sa_flags & SA_SIGINFO) || (old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN)) {
        co__logf("coscope attach disabled: signal %d has a handler of the program's "
                 "(choose another with COSCOPE_ATTACH_SIGNAL=N)", sig);
        return;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK; /* no EINTR for the program's own system calls */
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL) == 0) __atomic_store_n(&co__attach_pub.signo, sig, __ATOMIC_RELEASE);
}

/* ---- the control socket ---------------------------------------------------- */

static void answer(int fd, int32_t v) { (void)send(fd, &v, sizeof v, MSG_NOSIGNAL | MSG_DONTWAIT); }

static void free_handle(uv_handle_t *h) { free(h); }

/* Under mu: forget the socket. */
static void close_ctl(void)
{
    if (A.poll) {
        uv_poll_stop(A.poll);
        uv_close((uv_handle_t *)A.poll, free_handle);
        A.poll = NULL;
    }
    if (A.fd >= 0) close(A.fd);
    A.fd = -1;
    A.ctl = NULL;
    A.state = ST_IDLE;
    __atomic_store_n(&co__attach_pub.peer, 0, __ATOMIC_RELEASE);
}

/* Under mu: map the region from shmfd and record into it. */
static int start(int shmfd, const co_attach_hello *h)
{
    if (h->magic != CO_ATTACH_MAGIC || h->version != CO_DEBUG_VERSION) return -EPROTO;
    if (co__tracing) return -EBUSY; /* coscope run or co_trace_start records it already */
    size_t size = tr_shm_size();
    struct stat st;
    /* A shorter file would fault (SIGBUS) where the rings should be. */
    if (fstat(shmfd, &st) != 0 || (size_t)st.st_size < size) return -EPROTO;
    void *p = mmap(A.addr, size, PROT_READ | PROT_WRITE, MAP_SHARED | (A.addr ? MAP_FIXED : 0), shmfd, 0);
    if (p == MAP_FAILED) {
        if (A.addr) A.addr = NULL; /* a failed MAP_FIXED may have unmapped it */
        return -errno;
    }
    A.addr = p;
    tr_shm *shm = p;
    int32_t expect = 0;
    int r = 0;
    if (shm->magic != TR_MAGIC || shm->version != TR_VERSION) r = -EPROTO;
    else if (!atomic_compare_exchange_strong(&shm->producer_pid, &expect, (int32_t)getpid())) r = -EBUSY;
    if (r == 0) {
        co__tr_set_consumer_fd(A.fd);
        co__tr_snap_gate = 1;
        r = co__tr_attach(shm);
    }
    if (r < 0)
        mmap(A.addr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
    return r;
}

/* Under mu: stop recording, let the region go, tell coscope (ack) once no
 * more events come, close the socket. */
static void stop(int ack)
{
    co__tr_detach();
    co__tr_snap_gate = 0;
    co__tr_set_consumer_fd(-1);
    if (A.addr &&
        mmap(A.addr, tr_shm_size(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE,
             -1, 0) == MAP_FAILED)
        madvise(A.addr, tr_shm_size(), MADV_DONTNEED);
    if (ack) answer(A.fd, 0);
    close_ctl();
    wake_all(); /* each loop lets go of what the trace needed (on_async) */
}

/* Under mu, CONNECTING: coscope's hello with the region. */
static int on_hello(co__loop *l)
{
    co_attach_hello h;
    char cbuf[CMSG_SPACE(sizeof(int))];
    struct iovec iov = { &h, sizeof h };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
    ssize_t n = recvmsg(A.fd, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
    int shmfd = -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
            memcpy(&shmfd, CMSG_DATA(c), sizeof(int));
    if (n != (ssize_t)sizeof h || shmfd < 0) {
        if (shmfd >= 0) close(shmfd);
        if (n > 0) answer(A.fd, -EPROTO);
        close_ctl();
        return 0;
    }
    int r = start(shmfd, &h);
    close(shmfd);
    answer(A.fd, r);
    if (r < 0) {
        close_ctl();
        return 0;
    }
    A.state = ST_ATTACHED;
    __atomic_store_n(&co__attach_pub.peer, h.pid, __ATOMIC_RELEASE);
    (void)l;
    return 1;
}

static void on_ctl(uv_poll_t *p, int status, int events)
{
    (void)events;
    co__loop *l = p->data;
    int attached = 0;
    pthread_mutex_lock(&A.mu);
    if (A.poll != p) { /* closed meanwhile */
        pthread_mutex_unlock(&A.mu);
        return;
    }
    if (status < 0) {
        if (A.state == ST_ATTACHED) stop(0);
        else close_ctl();
    } else if (A.state == ST_CONNECTING) {
        attached = on_hello(l);
    } else if (A.state == ST_ATTACHED) {
        char c;
        ssize_t n = recv(A.fd, &c, 1, MSG_DONTWAIT);
        if (!(n < 0 && (errno == EAGAIN || errno == EINTR))) stop(n == 1 && c == 'd');
    }
    pthread_mutex_unlock(&A.mu);
    if (attached) {
        co__snapshot_write(l); /* this loop at once; the others when woken */
        wake_all();
    }
}

/* The signal came: connect to the coscope that sent it (the first loop to
 * get here does; a stray signal finds nobody listening and is ignored). */
static void connect_ctl(co__loop *l)
{
    pthread_mutex_lock(&A.mu);
    if (A.state != ST_IDLE || l->closing) goto out;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) goto out;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int len = snprintf(sa.sun_path + 1, sizeof sa.sun_path - 1, CO_ATTACH_SOCKET, (int)getpid());
    socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)len);
    struct ucred cred;
    socklen_t clen = sizeof cred;
    /* Only our own user or root may feed us a region (anyone may bind an
     * abstract name first). */
    if (connect(fd, (struct sockaddr *)&sa, alen) != 0 ||
        getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0 || (cred.uid != geteuid() && cred.uid != 0)) {
        close(fd);
        goto out;
    }
    uv_poll_t *p = malloc(sizeof *p);
    if (!p || uv_poll_init(l->uv, p, fd) != 0) {
        free(p);
        close(fd);
        goto out;
    }
    p->data = l;
    uv_poll_start(p, UV_READABLE | UV_DISCONNECT, on_ctl);
    uv_unref((uv_handle_t *)p); /* never what keeps the program's loop alive */
    A.state = ST_CONNECTING;
    A.ctl = l;
    A.fd = fd;
    A.poll = p;
out:
    pthread_mutex_unlock(&A.mu);
}

static void on_async(uv_async_t *h)
{
    co__loop *l = h->data;
    if (atomic_exchange(&pending, 0)) connect_ctl(l);
    co__flight_wake(l); /* a flight-recorder period: this loop's snapshot */
    if (co__tracing && co__tr_snap_gate && l->snap_epoch != co__tr_epoch && !l->closing) co__snapshot_write(l);
    if (!co__tracing && l->dbg) co__debug_trace_off(l); /* detached: the watchdog the trace started goes */
}

void co__attach_loop_init(co__loop *l)
{
    pthread_once(&once, arm);
    if (uv_async_init(l->uv, &l->attach_async, on_async) != 0) return;
    l->attach_async.data = l;
    uv_unref((uv_handle_t *)&l->attach_async);
    __atomic_store_n(&l->attach_on, 1, __ATOMIC_RELEASE);
    co__flight_loop_init(l);
}

void co__attach_loop_free(co__loop *l)
{
    if (!__atomic_load_n(&l->attach_on, __ATOMIC_ACQUIRE)) return;
    __atomic_store_n(&l->attach_on, 0, __ATOMIC_SEQ_CST);
    /* Out of the registry already: wait out a wake_all that read it before. */
    atomic_thread_fence(memory_order_seq_cst);
    while (atomic_load(&in_wake) > 0) sched_yield();
    pthread_mutex_lock(&A.mu);
    if (A.ctl == l) {
        if (A.state == ST_ATTACHED) stop(0); /* the socket's end tells coscope */
        else close_ctl();
    }
    pthread_mutex_unlock(&A.mu);
    uv_close((uv_handle_t *)&l->attach_async, NULL);
}
