/* SPDX-License-Identifier: MIT */
/* warn_clean.c -- subject for tests/tracer/warnings.sh: correct programs
 * that must produce ZERO warnings (false-positive checks).
 *
 * usage: warn_clean locks | tcp | tcp_connect | queue | cond | semsignal | group
 *
 *   locks        200 tasks share three locks, always taken in the same order
 *                (ledger_lock, index_lock, log_lock), yielding while holding
 *                them: heavy contention, never a cycle.
 *   tcp          an idle server: `acceptor` waits in co_tcp_accept on a
 *                listener nobody connects to; main gives up after 200 ms
 *                with co_wait_for (which cancels it) and closes the listener.
 *   tcp_connect  the same idle accept, but main awaits `acceptor` with a
 *                plain co_await and no timer is pending anywhere: only the
 *                listening socket can wake the loop.  A plain thread (not
 *                the loop's) connects after 200 ms.  Not all_asleep: I/O can
 *                still wake it.
 *   queue        `producer` puts 50 items into the bounded queue `work_q`
 *                (maxsize 4), two `consumer`s take them and task_done each;
 *                main awaits the producer, joins the queue, then cancels and
 *                awaits the consumers (asyncio's worker pattern).
 *   cond         `waiter` waits on the condition `data_ready` (which releases
 *                `state_lock` while it waits) for 200 ms, longer than the
 *                slow-step threshold, until `notifier` notifies: not a lock
 *                held across an await.
 *   semsignal    the semaphore `done_sig` (value 0) used as a signal: main
 *                waits on it, `signaller` releases it; then main sleeps
 *                200 ms (longer than the threshold).  main does not hold
 *                done_sig across that sleep: taking a unit another task
 *                released is not holding a lock.
 *   group        a task group whose child `failer` fails with -EIO while
 *                its siblings sleep: the group cancels them and co_group_wait
 *                hands the error to main, which reads it.  The error was
 *                retrieved: no unretrieved_error (issue 22's false alarm).
 *
 * Prints "ok" and exits 0 when the program did what it should.
 */
#define _GNU_SOURCE
#include "coscope.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- locks ---------------------------------------------------------------- */

static co_lock_t ledger_lock, index_lock, log_lock;
static long counter;

static int clerk(void *arg)
{
    co_lock_t *order[3] = { &ledger_lock, &index_lock, &log_lock };
    for (int i = 0; i < 3; i++) {
        int r = co_lock_acquire(order[i]);
        if (r < 0) return r;
        co_yield();
    }
    counter++;
    for (int i = 2; i >= 0; i--) co_lock_release(order[i]);
    return 0;
}

static int run_locks(void)
{
    co_lock_init(&ledger_lock);
    co_lock_init(&index_lock);
    co_lock_init(&log_lock);
    co_task_t t[200];
    for (int i = 0; i < 200; i++) t[i] = co_spawn(clerk, NULL);
    int r = co_gather(t, 200, NULL, 0);
    if (r < 0 || counter != 200) return 1;
    co_lock_destroy(&ledger_lock);
    co_lock_destroy(&index_lock);
    co_lock_destroy(&log_lock);
    return 0;
}

/* ---- tcp ------------------------------------------------------------------ */

static co_tcp_t *srv;

static int acceptor(void *arg)
{
    co_tcp_t *conn;
    int r = co_tcp_accept(srv, &conn);
    if (r < 0) return r;
    co_tcp_close(conn);
    return 1;
}

static void *connect_later(void *arg)
{
    int port = (int)(intptr_t)arg;
    usleep(200 * 1000);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0) {
        connect(fd, (struct sockaddr *)&a, sizeof a); /* queued in the backlog: accept gets it */
        close(fd);
    }
    return NULL;
}

static int run_tcp(int connect)
{
    int r = co_tcp_listen(&srv, "127.0.0.1", 0, 0);
    if (r < 0) {
        printf("listen: %s\n", co_strerror(r));
        return 1;
    }
    co_task_t t = co_spawn(acceptor, NULL);
    if (!connect) {
        r = co_wait_for(t, 200);
        co_tcp_close(srv);
        return r == -ETIMEDOUT ? 0 : 1;
    }
    pthread_t th;
    if (pthread_create(&th, NULL, connect_later, (void *)(intptr_t)co_tcp_local_port(srv)) != 0) return 1;
    r = co_await(t);
    pthread_join(th, NULL);
    co_tcp_close(srv);
    return r == 1 ? 0 : 1;
}

/* ---- queue ---------------------------------------------------------------- */

static co_queue_t work_q;
static long consumed;

static int producer(void *arg)
{
    for (intptr_t i = 1; i <= 50; i++) {
        int r = co_queue_put(&work_q, (void *)i);
        if (r < 0) return r;
    }
    return 0;
}

static int consumer(void *arg)
{
    for (;;) {
        void *item;
        int r = co_queue_get(&work_q, &item);
        if (r < 0) return r; /* cancelled once the work is done */
        consumed += (intptr_t)item;
        co_yield();
        co_queue_task_done(&work_q);
    }
}

static int run_queue(void)
{
    co_queue_init(&work_q, 4);
    co_task_t c[2] = { co_spawn(consumer, NULL), co_spawn(consumer, NULL) };
    int r = co_await(co_spawn(producer, NULL));
    if (r == 0) r = co_queue_join(&work_q);
    for (int i = 0; i < 2; i++) co_cancel(c[i]);
    for (int i = 0; i < 2; i++) co_await(c[i]);
    co_queue_destroy(&work_q);
    return r == 0 && consumed == 50 * 51 / 2 ? 0 : 1;
}

/* ---- cond ----------------------------------------------------------------- */

static co_lock_t state_lock;
static co_cond_t data_ready;
static int have_data;

static int waiter(void *arg)
{
    co_lock_acquire(&state_lock);
    while (!have_data) co_cond_wait(&data_ready);
    co_lock_release(&state_lock);
    return 0;
}

static int notifier(void *arg)
{
    co_sleep(200);
    co_lock_acquire(&state_lock);
    have_data = 1;
    co_cond_notify_all(&data_ready);
    co_lock_release(&state_lock);
    return 0;
}

static int run_cond(void)
{
    co_lock_init(&state_lock);
    co_cond_init(&data_ready, &state_lock);
    co_task_t t[2] = { co_spawn(waiter, NULL), co_spawn(notifier, NULL) };
    int r = co_gather(t, 2, NULL, 0);
    co_cond_destroy(&data_ready);
    co_lock_destroy(&state_lock);
    return r == 0 ? 0 : 1;
}

/* ---- semsignal ------------------------------------------------------------- */

static co_sem_t done_sig;

static int signaller(void *arg)
{
    co_sleep(5);
    return co_sem_release(&done_sig);
}

static int run_semsignal(void)
{
    co_sem_init(&done_sig, 0);
    co_task_t t = co_spawn(signaller, NULL);
    int r = co_sem_acquire(&done_sig); /* wait for the signal */
    int r2 = co_await(t);
    int r3 = co_sleep(200); /* an unrelated await, long */
    co_sem_destroy(&done_sig);
    return r == 0 && r2 == 0 && r3 == 0 ? 0 : 1;
}

/* ---- group ----------------------------------------------------------------- */

static int failer(void *arg)
{
    co_sleep(5);
    return -EIO;
}

static int napper(void *arg) { return co_sleep(1000); }

static int run_group(void)
{
    co_group_t g;
    co_group_init(&g);
    co_group_spawn(&g, napper, NULL);
    co_group_spawn(&g, failer, NULL);
    co_group_spawn(&g, napper, NULL);
    return co_group_wait(&g) == -EIO ? 0 : 1; /* the error, read */
}

static int main_task(void *arg)
{
    const char *mode = arg;
    if (!strcmp(mode, "locks")) return run_locks();
    if (!strcmp(mode, "tcp")) return run_tcp(0);
    if (!strcmp(mode, "tcp_connect")) return run_tcp(1);
    if (!strcmp(mode, "queue")) return run_queue();
    if (!strcmp(mode, "cond")) return run_cond();
    if (!strcmp(mode, "group")) return run_group();
    return run_semsignal();
}

int main(int argc, char **argv)
{
    const char *modes[] = { "locks", "tcp", "tcp_connect", "queue", "cond", "semsignal", "group" };
    int ok = 0;
    for (int i = 0; argc > 1 && i < 7; i++) ok |= strcmp(argv[1], modes[i]) == 0;
    if (!ok) {
        fprintf(stderr, "usage: warn_clean locks|tcp|tcp_connect|queue|cond|semsignal|group\n");
        return 2;
    }
    int r = co_run(main_task, argv[1]);
    if (r == 0) printf("ok\n");
    else printf("co_run returned %d (%s)\n", r, co_strerror(r));
    return r == 0 ? 0 : 1;
}
