/* session.c -- in-process recording: co_trace_start/co_trace_stop run the
 * same recorder as `coscope run`, on a thread of the traced program.  (A
 * crash of the program then loses what the recorder had not yet committed;
 * `coscope run` is the crash-proof way.) */
#include "tracer.h"
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

int co__tr_attach(tr_shm *shm);
void co__tr_detach(void);

static struct {
    pthread_mutex_t mu;
    int active;
    _Atomic int stop;
    pthread_t thread;
    sqlite3 *db;
    tr_shm *shm;
    tr_recorder *rec;
    int result;
} S = { .mu = PTHREAD_MUTEX_INITIALIZER };

static void *recorder_main(void *arg)
{
    (void)arg;
    while (!atomic_load(&S.stop)) {
        int64_t got = tr_recorder_turn(S.rec);
        if (got < 0) {
            atomic_store(&S.shm->consumer_alive, 0);
            S.result = (int)got;
            break;
        }
    }
    return NULL;
}

static void stop_at_exit(void) { co_trace_stop(); }

int co_trace_start(const char *path)
{
    extern int co__tracing;
    pthread_mutex_lock(&S.mu);
    int r = 0;
    const char *why = "";
    if (S.active || co__tracing) {
        r = -EBUSY;
        goto out;
    }
    r = tr_db_create(&S.db, path, 0, &why);
    if (r < 0) goto out;
    S.shm = co__tr_create_shm(NULL);
    if (!S.shm) {
        r = -ENOMEM;
        goto fail_db;
    }
    const char *slow = getenv("COSCOPE_SLOW_MS");
    if (slow) S.shm->slow_ms = atoi(slow);
    if ((r = tr_recorder_new(&S.rec, S.db, S.shm)) < 0) goto fail_shm;
    tr_meta_set(S.db, "program", "(co_trace_start)");
    tr_meta_set(S.db, "ended", "running");
    tr_meta_set_int(S.db, "pid", getpid());
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    tr_meta_set_int(S.db, "start_unix_ns", (int64_t)wall.tv_sec * 1000000000 + wall.tv_nsec);
    atomic_store(&S.stop, 0);
    S.result = 0;
    if (pthread_create(&S.thread, NULL, recorder_main, NULL) != 0) {
        r = -EAGAIN;
        tr_recorder_free(S.rec);
        goto fail_shm;
    }
    tr_recorder_start_clock(S.rec); /* ts 0 = recording starts */
    co__tr_attach(S.shm);
    static int registered;
    if (!registered) {
        registered = 1;
        atexit(stop_at_exit);
    }
    S.active = 1;
    goto out;
fail_shm:
    munmap(S.shm, tr_shm_size());
    S.shm = NULL;
fail_db:
    sqlite3_close(S.db);
    unlink(path);
    S.db = NULL;
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
    atomic_store(&S.stop, 1);
    pthread_join(S.thread, NULL);
    tr_meta_set(S.db, "ended", "stopped");
    int r = tr_recorder_finish(S.rec, NULL, NULL);
    if (S.result < 0 && r == 0) r = S.result;
    tr_recorder_free(S.rec);
    sqlite3_close(S.db);
    /* Not munmap: a thread that saw tracing on just before the detach may
     * still be writing its last event.  Dropping the pages frees the memory
     * and leaves such a write harmless. */
    madvise(S.shm, tr_shm_size(), MADV_DONTNEED);
    S.active = 0;
    S.db = NULL;
    S.shm = NULL;
    S.rec = NULL;
    pthread_mutex_unlock(&S.mu);
    return r;
}
