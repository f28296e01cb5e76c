/* SPDX-License-Identifier: MIT */
/* attach_echo.c -- the subject of tests/tracer/attach.sh's attach/detach
 * loop: a busy TCP echo server on the main thread's loop, and CONNS clients
 * on a second thread with a loop of its own (so an attachment has two
 * loops to start and stop), each doing round trips of a numbered message
 * as fast as it can and checking every echo.  A lost or mangled request
 * stops that client with an error; a lost one would also hang it, which
 * the end catches: the clients run until the file STOPFILE appears, then
 * each finishes its round trip and closes.  Prints "port N" and "ready",
 * and at the end "rounds=R errors=E"; exits 0 only if E is 0 and every
 * client ended.
 *
 * Usage: attach_echo STOPFILE [CONNS]
 */
#include "coscope.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SIZE 64

static const char *stopfile;
static int conns = 8;
static int port;
static volatile int stop;                 /* client loop only */
static long rounds_done, errors, clients_ended;

static int conn(void *arg)
{
    co_tcp_t *c = arg;
    char buf[4096];
    int n;
    while ((n = co_tcp_read(c, buf, sizeof buf)) > 0)
        if (co_tcp_write(c, buf, (size_t)n) < 0) break;
    co_tcp_close(c);
    return 0;
}

static int server(void *arg)
{
    co_tcp_t *srv = arg;
    for (;;) {
        co_tcp_t *c;
        if (co_tcp_accept(srv, &c) < 0) return 0;
        co_detach(co_spawn(conn, c));
    }
}

static co_loop_t *server_loop;
static co_event_t clients_done;

static void on_clients_done(void *arg)
{
    (void)arg;
    co_event_set(&clients_done);
}

static void *clients_thread(void *arg);

static int server_main(void *arg)
{
    pthread_t *th = arg;
    co_tcp_t *srv;
    int r = co_tcp_listen(&srv, "127.0.0.1", 0, 128);
    if (r < 0) {
        fprintf(stderr, "listen: %s\n", co_strerror(r));
        return r;
    }
    port = co_tcp_local_port(srv);
    co_loop_ref(server_loop);
    pthread_create(th, NULL, clients_thread, NULL);
    printf("port %d\nready\n", port);
    fflush(stdout);
    co_task_t s = co_spawn(server, srv);
    co_event_wait(&clients_done);
    co_cancel(s);
    co_await(s);
    co_tcp_close(srv);
    return 0;
}

static int client(void *arg)
{
    long id = (long)(intptr_t)arg;
    co_tcp_t *c;
    int r = co_tcp_connect(&c, "127.0.0.1", port);
    if (r < 0) {
        errors++;
        return r;
    }
    char out[SIZE], in[SIZE];
    memset(out, 'a' + (int)(id % 26), sizeof out);
    for (long i = 0; !stop && r >= 0; i++) {
        snprintf(out, sizeof out, "%ld:%ld:", id, i);
        r = co_tcp_write(c, out, sizeof out);
        if (r == 0) r = co_tcp_read_exact(c, in, sizeof in);
        if (r >= 0 && memcmp(in, out, sizeof out) != 0) r = -EPROTO;
        if (r >= 0) rounds_done++;
    }
    if (r < 0) {
        errors++;
        fprintf(stderr, "client %ld: %s\n", id, co_strerror(r));
    }
    co_tcp_close(c);
    clients_ended++;
    return 0;
}

static int watcher(void *arg)
{
    (void)arg;
    while (access(stopfile, F_OK) != 0) co_sleep(50);
    stop = 1;
    return 0;
}

static int clients_main(void *arg)
{
    (void)arg;
    co_task_t *t = calloc((size_t)conns + 1, sizeof *t);
    for (int i = 0; i < conns; i++) t[i] = co_spawn(client, (void *)(intptr_t)i);
    t[conns] = co_spawn(watcher, NULL);
    co_gather(t, (size_t)conns + 1, NULL, CO_GATHER_COLLECT);
    free(t);
    return 0;
}

static void *clients_thread(void *arg)
{
    (void)arg;
    co_run(clients_main, NULL);
    co_call_threadsafe(server_loop, on_clients_done, NULL);
    co_loop_unref(server_loop);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: attach_echo STOPFILE [CONNS]\n");
        return 2;
    }
    stopfile = argv[1];
    if (argc > 2) conns = atoi(argv[2]);
    if (co_loop_new(&server_loop, NULL) < 0) return 1;
    co_event_init(&clients_done);
    pthread_t th;
    if (co_loop_run(server_loop, server_main, &th) < 0) return 1;
    pthread_join(th, NULL);
    co_loop_free(server_loop);
    printf("rounds=%ld errors=%ld ended=%ld\n", rounds_done, errors, clients_ended);
    return errors == 0 && clients_ended == conns ? 0 : 1;
}
