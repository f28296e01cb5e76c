/* SPDX-License-Identifier: MIT */
/* sem_fetch.c -- a fetcher limited to 3 requests at a time by a
 * semaphore, against a small HTTP server the program starts itself.
 *
 * What it shows: the server (http_server, one task accepting on
 * 127.0.0.1 with a port the system picks, one detached handler task per
 * connection) answers GET /item/N after 40 ms of "work".  main spawns 10
 * fetch tasks at once; each takes the semaphore `slots` (3 permits) before
 * connecting and gives it back after reading the reply, so at most 3
 * requests are in flight: the other fetches wait on the semaphore.  The
 * program counts the peak itself and prints it.  When all are fetched main
 * cancels the server, whose accept returns -ECANCELED.
 *
 * Run it:
 *     build/coscope run -o t.db -- build/samples/sem_fetch
 *     build/coscope report t.db
 *
 * What to look for:
 *   - report: 10 fetch tasks ("fetch item N") done, 10 serve_one handlers done, http_server
 *     cancelled (on purpose); lock contention shows `slots` with 10
 *     acquisitions, 7 of them contended, up to 7 waiters; no warnings.
 *   - tui: Resources (2) on `slots` shows the waits; Timeline (4) shows the
 *     fetches going through in waves of three; Await tree (5) mid-run shows
 *     three fetches waiting on tcp_read and the rest on the semaphore.
 */
#include "coscope.h"
#include <stdio.h>
#include <string.h>

#define FETCHES 10
#define MAX_IN_FLIGHT 3
#define SERVER_WORK_MS 40

/* ---- the server ---------------------------------------------------------- */

/* One connection: read the request head, "work", answer, close.  Close
 * right after the write (no co_tcp_shutdown) is fine: co_tcp_write returns
 * once the kernel has every byte, and the kernel sends them before the FIN.
 * It also means the handler has ended by the time the client sees the end
 * of the reply. */
static int serve_one(void *arg)
{
    co_tcp_t *conn = arg;
    char req[1024];
    size_t len = 0;
    int r = 0;
    req[0] = '\0';
    while (!strstr(req, "\r\n\r\n")) {
        if (len == sizeof req - 1) {
            r = -EMSGSIZE;
            goto out;
        }
        r = co_tcp_read(conn, req + len, sizeof req - 1 - len);
        if (r <= 0) goto out;
        len += (size_t)r;
        req[len] = '\0';
    }
    int item;
    char body[128], resp[256];
    int status = sscanf(req, "GET /item/%d ", &item) == 1 ? 200 : 404;
    r = co_sleep(SERVER_WORK_MS); /* SERVER_WORK */
    if (r < 0) goto out;
    int blen = status == 200 ? snprintf(body, sizeof body, "item %d: %d widgets\n", item, item * 7)
                             : snprintf(body, sizeof body, "not found\n");
    int n = snprintf(resp, sizeof resp, "HTTP/1.0 %d %s\r\nContent-Length: %d\r\n\r\n%s", status,
                     status == 200 ? "OK" : "Not Found", blen, body);
    r = co_tcp_write(conn, resp, (size_t)n);
out:
    co_tcp_close(conn);
    return r < 0 ? r : 0;
}

static int http_server(void *arg)
{
    co_tcp_t *listener = arg;
    for (;;) {
        co_tcp_t *conn;
        int r = co_tcp_accept(listener, &conn); /* ACCEPT: main cancels us here */
        if (r < 0) return r;
        co_task_t handler = co_spawn(serve_one, conn);
        if (!handler.h) {
            co_tcp_close(conn);
            continue;
        }
        co_detach(handler); /* nobody needs its result */
    }
}

/* ---- the client ---------------------------------------------------------- */

/* GET path from 127.0.0.1:port; the reply's body into body.  Returns the
 * HTTP status or a negative errno. */
static int http_get(int port, const char *path, char *body, size_t cap)
{
    co_tcp_t *conn;
    int r = co_tcp_connect(&conn, "127.0.0.1", port);
    if (r < 0) return r;
    char buf[2048];
    int n = snprintf(buf, sizeof buf, "GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n", path);
    r = co_tcp_write(conn, buf, (size_t)n);
    size_t len = 0;
    while (r >= 0) { /* HTTP/1.0: the reply ends with the connection */
        if (len == sizeof buf - 1) {
            r = -EMSGSIZE;
            break;
        }
        r = co_tcp_read(conn, buf + len, sizeof buf - 1 - len); /* CLIENT_READ */
        if (r == 0) break;
        if (r > 0) len += (size_t)r;
    }
    co_tcp_close(conn);
    if (r < 0) return r;
    buf[len] = '\0';
    int status;
    const char *start = strstr(buf, "\r\n\r\n");
    if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1 || !start) return -EPROTO;
    snprintf(body, cap, "%s", start + 4);
    return status;
}

typedef struct fetcher {
    co_sem_t slots;
    int port;
    int in_flight, peak;
} fetcher;

typedef struct fetch_arg {
    fetcher *f;
    int item;
} fetch_arg;

static int fetch(void *arg)
{
    fetch_arg *a = arg;
    fetcher *f = a->f;
    int r = co_sem_acquire(&f->slots); /* FETCH_ACQUIRE: wait for one of the 3 slots */
    if (r < 0) return r;
    if (++f->in_flight > f->peak) f->peak = f->in_flight;
    char path[32], body[128];
    snprintf(path, sizeof path, "/item/%d", a->item);
    r = http_get(f->port, path, body, sizeof body);
    f->in_flight--;
    co_sem_release(&f->slots);
    if (r < 0) return r;
    printf("GET %-8s -> %d %s", path, r, body);
    return r == 200 ? 0 : -EPROTO;
}

static int amain(void *arg)
{
    fetcher f = { .port = 0 };
    co_tcp_t *listener;
    int r = co_tcp_listen(&listener, "127.0.0.1", 0, 0);
    if (r < 0) return r;
    f.port = co_tcp_local_port(listener);
    co_task_t server = co_spawn(http_server, listener);
    co_sem_init_named(&f.slots, MAX_IN_FLIGHT, "slots");

    fetch_arg args[FETCHES];
    co_task_t tasks[FETCHES];
    for (int i = 0; i < FETCHES; i++) {
        args[i] = (fetch_arg){ &f, i + 1 };
        char name[24];
        snprintf(name, sizeof name, "fetch item %d", i + 1);
        tasks[i] = co_spawn_named(name, fetch, &args[i]);
    }
    int results[FETCHES];
    r = co_gather(tasks, FETCHES, results, CO_GATHER_COLLECT);
    int failed = 0;
    for (int i = 0; i < FETCHES; i++) failed += results[i] < 0;

    co_cancel(server); /* its accept returns -ECANCELED */
    co_await(server);
    co_tcp_close(listener);
    co_sem_destroy(&f.slots);
    if (r < 0) return r;
    printf("%d fetched, %d failed, at most %d in flight\n", FETCHES - failed, failed, f.peak);
    return failed ? -EIO : 0;
}

int main(void)
{
    int r = co_run(amain, NULL);
    if (r < 0) {
        fprintf(stderr, "sem_fetch: %s\n", co_strerror(r));
        return 1;
    }
    return 0;
}
