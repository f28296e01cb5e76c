/* SPDX-License-Identifier: MIT */
/* record.c -- in-process recording: co_trace_start / co_trace_stop.
 *
 * The runtime does not record anything itself.  co_trace_start makes the
 * same shared region `coscope run` makes (a memfd), starts the `coscope`
 * binary as a helper process (`coscope record`, the recorder of the tracer
 * library) on it, and attaches this process to it as its producer.  Why a
 * helper process rather than a recorder thread linked into the program:
 *
 *   - a program that links libcoscope links the runtime only: no SQLite,
 *     no libdw, no tracer symbols, nothing that prints;
 *   - a crash of the program loses nothing it recorded (the helper reads
 *     the region after the program is gone), as under `coscope run`;
 *   - it is the shape `coscope attach` and the flight recorder need: a
 *     region in the program, a recorder outside it.
 *
 * helper.c starts it (found as $COSCOPE_BIN, the installed path, or on
 * $PATH, as the flight recorder's).  The two talk over a
 * socket pair: the helper answers 0 or a negative errno once the database
 * exists (so -EEXIST reaches the caller); a byte from the program, or the
 * socket's end (the program died), tells it to finish; it answers the
 * result of finishing and exits.
 */
#define _GNU_SOURCE
#include "internal.h"
#include "trace.h"
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static struct {
    pthread_mutex_t mu;
    int active;
    pid_t helper;
    int sock;          /* our end of the socket pair */
    tr_shm *shm;
} S = { .mu = PTHREAD_MUTEX_INITIALIZER, .sock = -1 };

/* Read the helper's 4-byte answer: its value, or -EPIPE if it went away. */
static int read_answer(int fd)
{
    int32_t v;
    size_t got = 0;
    while (got < sizeof v) {
        ssize_t n = read(fd, (char *)&v + got, sizeof v - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -EPIPE;
        got += (size_t)n;
    }
    return v <= 0 ? v : -EPROTO;
}

static void reap(pid_t pid)
{
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
}

/* After the helper is gone.  Not munmap: a thread that saw tracing on just
 * before the detach may still be writing its last event.  Anonymous zero
 * pages in place of the memfd's let the region's memory go, and leave such
 * a write harmless. */
static void drop_region(tr_shm *shm)
{
    size_t size = tr_shm_size();
    if (mmap(shm, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0) ==
        MAP_FAILED)
        madvise(shm, size, MADV_DONTNEED);
}

static int spawn_helper(const char *path, int shm_fd, int sock, pid_t *pid)
{
    char fdbuf[16], sockbuf[16], pidbuf[24];
    snprintf(fdbuf, sizeof fdbuf, "%d", shm_fd);
    snprintf(sockbuf, sizeof sockbuf, "%d", sock);
    snprintf(pidbuf, sizeof pidbuf, "%ld", (long)getpid());
    char *argv[] = { NULL, "record", "--fd", fdbuf, "--sock", sockbuf, "--pid", pidbuf, "--", (char *)path, NULL };
    int keep[] = { sock, shm_fd };
    return co__spawn_helper(argv, keep, 2, pid);
}

static void stop_at_exit(void) { co_trace_stop(); }

int co_trace_start(const char *path)
{
    if (!path || !*path) return -EINVAL;
    pthread_mutex_lock(&S.mu);
    int r, fd = -1, sv[2] = { -1, -1 };
    tr_shm *shm = NULL;
    if (S.active || co__tracing) {
        r = -EBUSY;
        goto out;
    }
    if (!(shm = co__tr_create_shm(&fd))) {
        r = errno ? -errno : -ENOMEM;
        goto out;
    }
    const char *slow = getenv("COSCOPE_SLOW_MS");
    if (slow) shm->slow_ms = atoi(slow);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        r = -errno;
        goto fail;
    }
    pid_t pid;
    if ((r = spawn_helper(path, fd, sv[1], &pid)) < 0) goto fail;
    close(sv[1]);
    sv[1] = -1;
    close(fd);
    fd = -1;
    /* The helper has created the database and taken the trace's time 0. */
    if ((r = read_answer(sv[0])) < 0) {
        reap(pid);
        goto fail;
    }
    co__tr_attach(shm);
    S.helper = pid;
    S.sock = sv[0];
    S.shm = shm;
    S.active = 1;
    static int registered;
    if (!registered) {
        registered = 1;
        atexit(stop_at_exit);
    }
    goto out;
fail:
    if (sv[0] >= 0) close(sv[0]);
    if (sv[1] >= 0) close(sv[1]);
    if (fd >= 0) close(fd);
    munmap(shm, tr_shm_size());
out:
    pthread_mutex_unlock(&S.mu);
    return r;
}

int co_trace_stop(void)
{
    pthread_mutex_lock(&S.mu);
    if (!S.active) {
        pthread_mutex_unlock(&S.mu);
        return -ENOENT;
    }
    co__tr_detach();
    char stop = 's';
    int r = send(S.sock, &stop, 1, MSG_NOSIGNAL) == 1 ? read_answer(S.sock) : -EPIPE;
    close(S.sock);
    reap(S.helper);
    drop_region(S.shm);
    S.active = 0;
    S.sock = -1;
    S.shm = NULL;
    pthread_mutex_unlock(&S.mu);
    return r;
}
