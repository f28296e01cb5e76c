/* SPDX-License-Identifier: MIT */
/* warn_clean2.c -- subject for tests/tracer/warnings.sh: healthy programs
 * of the kinds issue 22's detections look at, which must raise NO warning
 * at all (false-alarm checks).
 *
 * usage: warn_clean2 MODE
 *
 *   backpressure  a fast producer puts 1500 items into the bounded queue
 *                 `work_q` (maxsize 8) for a consumer that takes one a
 *                 millisecond: the queue is full for 1.5 s, the producer
 *                 waits (back-pressure), and it all drains.
 *   sempool       40 `fetch` tasks share a semaphore of 3 (a connection
 *                 pool), each holding a unit for 30 ms.
 *   backoff       retries against a refused port with exponential backoff
 *                 (1, 2, 4, ... ms) for 10 attempts, then gives up.
 *   burst         a producer puts 300 items every 50 ms for 1.2 s into an
 *                 unbounded queue; four consumers drain it, slower at first:
 *                 the queue fills, then drains to empty.
 *   pool          10 lookups of "localhost" and 40 small file writes and
 *                 reads, all at once, on libuv's pool.
 *   keepalive     a client and a server in one process over one keep-alive
 *                 connection: 100 request/answer rounds, with a 600 ms pause
 *                 (the server waiting to read meanwhile), then the client
 *                 closes and the server sees the end and closes.
 *   condcancel    three waiters on a condition; main cancels one while it
 *                 waits, then notifies the others with an item each.
 *   timeoutclean  `worker` holds `cache_lock` across a sleep; main's
 *                 co_wait_for cancels it after 100 ms, and its cleanup
 *                 releases the lock; main then takes it.
 *   threads       8 CPU jobs of ~10 ms each moved to threads with
 *                 co_to_thread (at most one round of waiting for a thread).
 *   group         a task group of 10 children that finish.
 *
 * Prints "ok" and exits 0 when the program did what it should.
 */
#define _GNU_SOURCE
#include "coscope.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int check(int cond) { return cond ? 0 : 1; }

/* ---- backpressure --------------------------------------------------------- */

static co_queue_t work_q;
static int stop_item;

static int bp_producer(void *arg)
{
    static int item;
    for (int i = 0; i < 1500; i++) co_queue_put(&work_q, &item);
    return co_queue_put(&work_q, &stop_item);
}

static int bp_consumer(void *arg)
{
    int n = 0;
    for (;;) {
        void *it;
        if (co_queue_get(&work_q, &it) < 0 || it == &stop_item) return n;
        n++;
        co_sleep(1);
    }
}

static int run_backpressure(void)
{
    co_queue_init(&work_q, 8);
    co_task_t p = co_spawn(bp_producer, NULL), c = co_spawn(bp_consumer, NULL);
    co_await(p);
    return check(co_await(c) == 1500);
}

/* ---- sempool -------------------------------------------------------------- */

static co_sem_t conns;

static int fetch(void *arg)
{
    int r = co_sem_acquire(&conns);
    if (r < 0) return r;
    co_sleep(30);
    co_sem_release(&conns);
    return 0;
}

static int run_sempool(void)
{
    co_sem_init(&conns, 3);
    co_task_t t[40];
    for (int i = 0; i < 40; i++) t[i] = co_spawn(fetch, NULL);
    int bad = 0;
    for (int i = 0; i < 40; i++) bad |= co_await(t[i]) != 0;
    return bad;
}

/* ---- backoff -------------------------------------------------------------- */

static int run_backoff(void)
{
    co_tcp_t *srv;
    if (co_tcp_listen(&srv, "127.0.0.1", 0, 1) < 0) return 1;
    int port = co_tcp_local_port(srv);
    co_tcp_close(srv);
    co_sleep(10);
    int delay = 1, r = -1;
    for (int attempt = 0; attempt < 10; attempt++) {
        co_tcp_t *c;
        r = co_tcp_connect(&c, "127.0.0.1", port);
        if (r == 0) {
            co_tcp_close(c);
            break;
        }
        co_sleep(delay);
        delay *= 2;
    }
    return check(r == -ECONNREFUSED);
}

/* ---- burst ---------------------------------------------------------------- */

static co_queue_t burst_q;

static int burst_producer(void *arg)
{
    static int item;
    for (int round = 0; round < 24; round++) {
        for (int i = 0; i < 300; i++) co_queue_put(&burst_q, &item);
        co_sleep(50);
    }
    for (int i = 0; i < 4; i++) co_queue_put(&burst_q, &stop_item);
    return 0;
}

static int burst_consumer(void *arg)
{
    for (int n = 0;; n++) {
        void *it;
        if (co_queue_get(&burst_q, &it) < 0 || it == &stop_item) return 0;
        co_sleep(1); /* slower than the producer while it bursts: the queue fills */
    }
}

static int run_burst(void)
{
    co_queue_init(&burst_q, 0);
    co_task_t p = co_spawn(burst_producer, NULL), c[4];
    for (int i = 0; i < 4; i++) c[i] = co_spawn(burst_consumer, NULL);
    co_await(p);
    for (int i = 0; i < 4; i++) co_await(c[i]);
    return check(co_queue_size(&burst_q) == 0);
}

/* ---- pool ----------------------------------------------------------------- */

static int lookup(void *arg)
{
    struct addrinfo *ai = NULL;
    int r = co_getaddrinfo("localhost", "80", NULL, &ai);
    co_freeaddrinfo(ai);
    return r;
}

static int file_rw(void *arg)
{
    char path[64], buf[64];
    snprintf(path, sizeof path, "/tmp/coscope-clean2-%d-%d", (int)getpid(), *(int *)arg);
    int r = co_file_write_all(path, "hello", 5);
    void *data = NULL;
    size_t len = 0;
    if (r == 0) r = co_file_read_all(path, &data, &len);
    snprintf(buf, sizeof buf, "%.*s", (int)len, data ? (char *)data : "");
    free(data);
    unlink(path);
    return r == 0 && !strcmp(buf, "hello") ? 0 : -EIO;
}

static int run_pool(void)
{
    static int ids[40];
    co_task_t t[50];
    for (int i = 0; i < 10; i++) t[i] = co_spawn(lookup, NULL);
    for (int i = 0; i < 40; i++) {
        ids[i] = i;
        t[10 + i] = co_spawn(file_rw, &ids[i]);
    }
    int bad = 0;
    for (int i = 0; i < 50; i++) bad |= co_await(t[i]) != 0;
    return bad;
}

/* ---- keepalive ------------------------------------------------------------ */

static co_tcp_t *listener;

static int ka_server(void *arg)
{
    co_tcp_t *conn;
    int r = co_tcp_accept(listener, &conn);
    if (r < 0) return r;
    co_tcp_close(listener);
    char buf[64];
    int n = 0;
    while ((r = co_tcp_read(conn, buf, sizeof buf)) > 0) {
        co_tcp_write(conn, "pong", 4);
        n++;
    }
    co_tcp_close(conn);
    return r == 0 ? n : r;
}

static int ka_client(void *arg)
{
    int port = *(int *)arg;
    co_tcp_t *conn;
    int r = co_tcp_connect(&conn, "127.0.0.1", port);
    if (r < 0) return r;
    char buf[4];
    for (int i = 0; i < 100 && r >= 0; i++) {
        if (i == 50) co_sleep(600); /* idle on a kept-alive connection */
        r = co_tcp_write(conn, "ping", 4);
        if (r == 0) r = co_tcp_read_exact(conn, buf, 4);
    }
    co_tcp_close(conn);
    return r < 0 ? r : 0;
}

static int run_keepalive(void)
{
    static int port;
    if (co_tcp_listen(&listener, "127.0.0.1", 0, 8) < 0) return 1;
    port = co_tcp_local_port(listener);
    co_task_t s = co_spawn(ka_server, NULL), c = co_spawn(ka_client, &port);
    int rc = co_await(c);
    int rs = co_await(s);
    return check(rc == 0 && rs == 100);
}

/* ---- condcancel ----------------------------------------------------------- */

static co_lock_t state_lock;
static co_cond_t ready;
static int items;

static int waiter(void *arg)
{
    co_lock_acquire(&state_lock);
    while (items == 0) {
        int r = co_cond_wait(&ready);
        if (r < 0) {
            co_lock_release(&state_lock);
            return r;
        }
    }
    items--;
    co_lock_release(&state_lock);
    return 0;
}

static int run_condcancel(void)
{
    co_lock_init(&state_lock);
    co_cond_init(&ready, &state_lock);
    co_task_t w[3];
    for (int i = 0; i < 3; i++) w[i] = co_spawn(waiter, NULL);
    co_sleep(20);
    co_cancel(w[0]); /* while it waits: it leaves, holding no wakeup */
    int r0 = co_await(w[0]);
    co_lock_acquire(&state_lock);
    items = 2;
    co_cond_notify_all(&ready);
    co_lock_release(&state_lock);
    int r1 = co_await(w[1]), r2 = co_await(w[2]);
    return check(r0 == -ECANCELED && r1 == 0 && r2 == 0);
}

/* ---- timeoutclean --------------------------------------------------------- */

static co_lock_t cache_lock;

static int slow_fill(void *arg)
{
    co_lock_acquire(&cache_lock);
    int r = co_sleep(1000);
    co_lock_release(&cache_lock); /* on every path */
    return r;
}

static int run_timeoutclean(void)
{
    co_lock_init(&cache_lock);
    co_task_t w = co_spawn(slow_fill, NULL);
    int r = co_wait_for(w, 50);
    int a = co_lock_acquire(&cache_lock);
    if (a == 0) co_lock_release(&cache_lock);
    return check(r == -ETIMEDOUT && a == 0);
}

/* ---- threads -------------------------------------------------------------- */

static void *crunch(void *arg)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    volatile unsigned long x = 0;
    do {
        for (int i = 0; i < 10000; i++) x += (unsigned long)i * i;
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while ((t.tv_sec - t0.tv_sec) * 1000000000l + (t.tv_nsec - t0.tv_nsec) < 10000000l);
    return (void *)x;
}

static int cpu_job(void *arg)
{
    void *out;
    return co_to_thread(crunch, NULL, &out);
}

static int run_threads(void)
{
    co_task_t t[8];
    for (int i = 0; i < 8; i++) t[i] = co_spawn(cpu_job, NULL);
    int bad = 0;
    for (int i = 0; i < 8; i++) bad |= co_await(t[i]) != 0;
    return bad;
}

/* ---- group ---------------------------------------------------------------- */

static int child(void *arg) { return co_sleep(10); }

static int run_group(void)
{
    co_group_t g;
    co_group_init(&g);
    for (int i = 0; i < 10; i++) co_group_spawn(&g, child, NULL);
    return check(co_group_wait(&g) == 0);
}

static int main_task(void *arg)
{
    const char *mode = arg;
    if (!strcmp(mode, "backpressure")) return run_backpressure();
    if (!strcmp(mode, "sempool")) return run_sempool();
    if (!strcmp(mode, "backoff")) return run_backoff();
    if (!strcmp(mode, "burst")) return run_burst();
    if (!strcmp(mode, "pool")) return run_pool();
    if (!strcmp(mode, "keepalive")) return run_keepalive();
    if (!strcmp(mode, "condcancel")) return run_condcancel();
    if (!strcmp(mode, "timeoutclean")) return run_timeoutclean();
    if (!strcmp(mode, "threads")) return run_threads();
    if (!strcmp(mode, "group")) return run_group();
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: warn_clean2 backpressure|sempool|backoff|burst|pool|keepalive|condcancel|"
                        "timeoutclean|threads|group\n");
        return 2;
    }
    int r = co_run(main_task, argv[1]);
    if (r != 0) {
        printf("failed: %d\n", r);
        return 1;
    }
    printf("ok\n");
    return 0;
}
