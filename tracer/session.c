/* SPDX-License-Identifier: MIT */
/* session.c -- the recorder's side of in-process recording.  A program's
 * co_trace_start (runtime/record.c) starts `coscope record`, which calls
 * tr_session_record: the same recorder as `coscope run`, on the region the
 * program made, with a socket to the program instead of its exit status.
 * (Why a helper process and not a recorder thread in the program: see
 * runtime/record.c.)
 */
#include "tracer.h"
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void answer(int sock, int32_t v)
{
    send(sock, &v, sizeof v, MSG_NOSIGNAL);
}

/* Has the program said stop (a byte), or gone away (end of the socket)? */
static int told_to_stop(int sock, int *vanished)
{
    struct pollfd p = { .fd = sock, .events = POLLIN };
    if (poll(&p, 1, 0) <= 0) return 0;
    char c;
    ssize_t n = recv(sock, &c, 1, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
    *vanished = n <= 0;
    return 1;
}

int tr_session_record(int shm_fd, int sock, long pid, const char *path, const char **why)
{
    *why = "";
    sqlite3 *db = NULL;
    tr_recorder *rec = NULL;
    void *p = mmap(NULL, tr_shm_size(), PROT_READ | PROT_WRITE, MAP_SHARED, shm_fd, 0);
    close(shm_fd);
    if (p == MAP_FAILED) {
        int r = -errno;
        *why = "cannot map the program's trace region";
        answer(sock, r);
        return r;
    }
    tr_shm *shm = p;
    int r = shm->magic == TR_MAGIC && shm->version == TR_VERSION ? 0 : -EPROTO;
    if (r < 0) *why = "the program's trace region has another format version";
    if (r == 0) r = tr_db_create(&db, path, 0, why);
    if (r == 0 && (r = tr_recorder_new(&rec, db, shm)) < 0) *why = "cannot start the recorder";
    if (r < 0) {
        atomic_store(&shm->consumer_alive, 0);
        answer(sock, r);
        if (db) {
            sqlite3_close(db);
            unlink(path);
        }
        munmap(p, tr_shm_size());
        return r;
    }
    tr_meta_set(db, TR_META_PROGRAM, "(co_trace_start)");
    tr_meta_set(db, TR_META_ENDED, tr_ending_name(TR_ENDED_RUNNING));
    tr_meta_set_int(db, TR_META_PID, pid);
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    tr_meta_set_int(db, TR_META_START_UNIX_NS, (int64_t)wall.tv_sec * 1000000000 + wall.tv_nsec);
    tr_recorder_start_clock(rec); /* ts 0 = recording starts */
    answer(sock, 0);

    int vanished = 0, failed = 0;
    while (!told_to_stop(sock, &vanished)) {
        if (failed) {
            /* The program runs on untraced (consumer_alive is 0): wait for its word. */
            poll(&(struct pollfd){ .fd = sock, .events = POLLIN }, 1, -1);
            continue;
        }
        int64_t got = tr_recorder_turn(rec);
        if (got < 0) {
            atomic_store(&shm->consumer_alive, 0);
            r = (int)got;
            *why = "recording failed; the program runs on untraced";
            failed = 1;
        }
    }
    /* Ended without co_trace_stop: killed, _exit, or a crash (its warning
     * and stack are in the rings, read below). */
    tr_meta_set(db, TR_META_ENDED, tr_ending_name(vanished ? TR_ENDED_VANISHED : TR_ENDED_STOPPED));
    int f = tr_recorder_finish(rec, NULL, NULL);
    if (r == 0) r = f;
    if (f < 0 && !**why) *why = "cannot finish the trace";
    tr_recorder_free(rec);
    sqlite3_close(db);
    munmap(p, tr_shm_size());
    if (!vanished) answer(sock, r);
    return r;
}
