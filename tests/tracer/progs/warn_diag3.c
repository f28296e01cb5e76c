/* SPDX-License-Identifier: MIT */
/* warn_diag3.c -- subject for tests/tracer/warnings.sh: issue 22's bugs,
 * each a small program of the kind real async services reported.
 *
 * usage: warn_diag3 MODE
 *
 *   queue     `producer` puts ~5 items a millisecond into the unbounded
 *             queue `jobs`; `consumer` takes one every 5 ms.  After 2 s
 *             main stops both: thousands of items wait (queue_growth).
 *   pool      four `reader`s open a FIFO nobody writes to yet: each holds a
 *             thread of libuv's pool (UV_THREADPOOL_SIZE=4) in open(2).
 *             `health` then looks up "localhost": the lookup waits behind
 *             them until main opens the FIFO's other end 300 ms later
 *             (thread_pool_starved, dns work waiting on file work).
 *   spin      `spinner` connects to a refused port in a loop, with no pause,
 *             for 4 s (failure_loop).
 *   selftalk  a keep-alive client and server in one process: `client`
 *             sends a request, reads the answer, then waits on an event
 *             nobody sets without closing its connection; `server` reads
 *             the next request forever.  Every task is asleep, yet the
 *             server's read keeps the loop alive: the runtime must see that
 *             the reader's peer is this process's own socket (all_asleep,
 *             co_run returns -EDEADLK).
 *   lockleak  `worker` takes `db_lock` and returns on an error path without
 *             releasing it; main then waits for it forever.
 *   semleak   `worker` takes the only unit of `slots` and ends without
 *             giving it back; main waits for a unit.
 *   condlost  `waiter 1` and `waiter 2` wait on `ready`; main notifies one
 *             and cancels the one it woke before it runs: waiter 1 leaves
 *             on its next await without taking the item or passing the
 *             wakeup on, and waiter 2 sleeps forever.
 *   waitfor   `worker` holds `cache_lock` across a long sleep; main's
 *             co_wait_for gives up after 100 ms and cancels it, and its
 *             error path returns without releasing; main then waits for
 *             the lock forever.
 *
 * Marker comments name the lines warnings.sh expects.
 */
#define _GNU_SOURCE
#include "coscope.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- queue ---------------------------------------------------------------- */

static co_queue_t jobs;

static int producer(void *arg)
{
    static int item;
    for (;;) {
        for (int i = 0; i < 5; i++) co_queue_put(&jobs, &item); /* QG_PUT */
        int r = co_sleep(1);
        if (r < 0) return r;
    }
}

static int consumer(void *arg)
{
    for (;;) {
        void *it;
        int r = co_queue_get(&jobs, &it);
        if (r == 0) r = co_sleep(5);
        if (r < 0) return r;
    }
}

static int run_queue(void)
{
    co_queue_init(&jobs, 0);
    co_task_t p = co_spawn(producer, NULL), c = co_spawn(consumer, NULL);
    co_sleep(2000);
    co_cancel(p);
    co_cancel(c);
    co_await(p);
    co_await(c);
    printf("left %zu\n", co_queue_size(&jobs));
    return 0;
}

/* ---- pool ----------------------------------------------------------------- */

static char fifo[64];

static int reader(void *arg)
{
    co_file_t f;
    int r = co_file_open(&f, fifo, O_RDONLY, 0); /* PS_FILE */
    if (r < 0) return r;
    return co_file_close(&f);
}

static int health(void *arg)
{
    struct addrinfo *ai = NULL;
    int r = co_getaddrinfo("localhost", "80", NULL, &ai); /* PS_DNS */
    co_freeaddrinfo(ai);
    return r;
}

static int run_pool(void)
{
    snprintf(fifo, sizeof fifo, "/tmp/coscope-fifo-%d", (int)getpid());
    unlink(fifo);
    if (mkfifo(fifo, 0600) < 0) return 1;
    co_task_t rd[4];
    for (int i = 0; i < 4; i++) rd[i] = co_spawn(reader, NULL);
    co_sleep(50);
    co_task_t h = co_spawn(health, NULL);
    co_sleep(300);
    int fd = open(fifo, O_WRONLY | O_NONBLOCK); /* the readers' opens return */
    int r = co_await(h);
    for (int i = 0; i < 4; i++) co_await(rd[i]);
    if (fd >= 0) close(fd);
    unlink(fifo);
    return r == 0 ? 0 : 1;
}

/* ---- spin ----------------------------------------------------------------- */

static int refused_port(void)
{
    co_tcp_t *srv;
    if (co_tcp_listen(&srv, "127.0.0.1", 0, 1) < 0) return -1;
    int port = co_tcp_local_port(srv);
    co_tcp_close(srv);
    co_sleep(10);
    return port;
}

static int spinner(void *arg)
{
    int port = *(int *)arg;
    uint64_t end = co_now_ms() + 4000; /* room for an unbroken second of it on a loaded machine */
    int n = 0;
    while (co_now_ms() < end) {
        co_tcp_t *c;
        int r = co_tcp_connect(&c, "127.0.0.1", port); /* FL_CONNECT */
        if (r == 0) co_tcp_close(c);
        n++;
    }
    return n;
}

static int run_spin(void)
{
    static int port;
    port = refused_port();
    if (port <= 0) return 1;
    int n = co_await(co_spawn(spinner, &port));
    printf("attempts %d\n", n);
    return 0;
}

/* ---- selftalk ------------------------------------------------------------- */

static co_tcp_t *listener;
static co_event_t never;

static int server(void *arg)
{
    co_tcp_t *conn;
    int r = co_tcp_accept(listener, &conn); /* ST_ACCEPT */
    if (r < 0) return r;
    co_tcp_close(listener);
    char buf[64];
    for (;;) { /* keep-alive: one answer per request, until the client closes */
        r = co_tcp_read(conn, buf, sizeof buf); /* ST_READ */
        if (r <= 0) break;
        co_tcp_write(conn, "pong", 4);
    }
    co_tcp_close(conn);
    return r;
}

static int client(void *arg)
{
    int port = *(int *)arg;
    co_tcp_t *conn;
    int r = co_tcp_connect(&conn, "127.0.0.1", port); /* ST_CONNECT */
    if (r < 0) return r;
    char buf[4];
    co_tcp_write(conn, "ping", 4);
    co_tcp_read_exact(conn, buf, 4);
    /* Keeps the connection for later, and waits for a shutdown signal that
     * never comes. */
    return co_event_wait(&never); /* ST_WAIT */
}

static int run_selftalk(void)
{
    static int port;
    co_event_init(&never);
    if (co_tcp_listen(&listener, "127.0.0.1", 0, 8) < 0) return 1;
    port = co_tcp_local_port(listener);
    co_task_t s = co_spawn(server, NULL);
    co_task_t c = co_spawn(client, &port);
    co_detach(c);
    return co_await(s); /* ST_MAIN */
}

/* ---- lockleak ------------------------------------------------------------- */

static co_lock_t db_lock;

static int leaky_worker(void *arg)
{
    co_lock_acquire(&db_lock); /* CL_ACQ */
    int r = co_sleep(5);
    if (r == 0) return -EIO; /* the error path forgets the release */
    co_lock_release(&db_lock);
    return 0;
}

static int run_lockleak(void)
{
    co_lock_init(&db_lock);
    co_task_t w = co_spawn_named("worker", leaky_worker, NULL);
    co_sleep(20);
    co_await(w);
    int r = co_lock_acquire(&db_lock); /* CL_WAIT */
    return r;
}

/* ---- semleak -------------------------------------------------------------- */

static co_sem_t slots;

static int sem_worker(void *arg)
{
    co_sem_acquire(&slots); /* CS_ACQ */
    co_sleep(5);
    return 0; /* never co_sem_release */
}

static int run_semleak(void)
{
    co_sem_init(&slots, 1);
    co_task_t w = co_spawn_named("worker", sem_worker, NULL);
    co_sleep(20);
    co_await(w);
    return co_sem_acquire(&slots); /* CS_WAIT */
}

/* ---- condlost ------------------------------------------------------------- */

static co_lock_t state_lock;
static co_cond_t ready;
static int items;

static int cond_waiter(void *arg)
{
    co_lock_acquire(&state_lock);
    while (items == 0) {
        int r = co_cond_wait(&ready); /* CD_WAIT */
        if (r < 0) {
            co_lock_release(&state_lock);
            return r;
        }
    }
    co_lock_release(&state_lock);
    int r = co_yield(); /* about to take it: a cancellation here leaves it, and tells no one */
    if (r < 0) return r;
    co_lock_acquire(&state_lock);
    items--;
    co_lock_release(&state_lock);
    return 0;
}

static int run_condlost(void)
{
    co_lock_init(&state_lock);
    co_cond_init(&ready, &state_lock);
    co_task_t w1 = co_spawn_named("waiter 1", cond_waiter, NULL);
    co_task_t w2 = co_spawn_named("waiter 2", cond_waiter, NULL);
    co_sleep(20);
    co_lock_acquire(&state_lock);
    items = 1;
    co_cond_notify(&ready, 1); /* wakes waiter 1 */
    co_lock_release(&state_lock);
    co_cancel(w1); /* CD_CANCEL: after the wakeup, before it runs */
    co_await(w1);
    co_lock_acquire(&state_lock);
    items++; /* a second item, no notify: waiter 2 still waits for the first's */
    co_lock_release(&state_lock);
    return co_await(w2);
}

/* ---- waitfor -------------------------------------------------------------- */

static co_lock_t cache_lock;

static int slow_fill(void *arg)
{
    co_lock_acquire(&cache_lock); /* WF_ACQ */
    int r = co_sleep(1000);
    if (r < 0) return r; /* cancelled: the release below is skipped */
    co_lock_release(&cache_lock);
    return 0;
}

static int run_waitfor(void)
{
    co_lock_init(&cache_lock);
    co_task_t w = co_spawn_named("worker", slow_fill, NULL);
    int r = co_wait_for(w, 100); /* WF_WAITFOR */
    printf("wait_for %d\n", r);
    return co_lock_acquire(&cache_lock); /* WF_LOCK */
}

static int main_task(void *arg)
{
    const char *mode = arg;
    if (!strcmp(mode, "queue")) return run_queue();
    if (!strcmp(mode, "pool")) return run_pool();
    if (!strcmp(mode, "spin")) return run_spin();
    if (!strcmp(mode, "selftalk")) return run_selftalk();
    if (!strcmp(mode, "lockleak")) return run_lockleak();
    if (!strcmp(mode, "semleak")) return run_semleak();
    if (!strcmp(mode, "condlost")) return run_condlost();
    if (!strcmp(mode, "waitfor")) return run_waitfor();
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: warn_diag3 queue|pool|spin|selftalk|lockleak|semleak|condlost|waitfor\n");
        return 2;
    }
    setenv("UV_THREADPOOL_SIZE", "4", 1);
    int r = co_run(main_task, argv[1]);
    printf("main returned %d\n", r);
    return 0;
}
