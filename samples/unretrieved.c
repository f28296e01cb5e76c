/* SPDX-License-Identifier: MIT */
/* unretrieved.c -- FAILURE CASE: a task fails and nobody reads the error.
 *
 * The bug: main fires off send_receipt, which connects to the mail relay
 * on 127.0.0.1 -- a port where nothing listens (the program takes a port
 * and closes it again, so the refusal is real) -- and fails with
 * -ECONNREFUSED.  main never awaits it, so the failure is silent: the
 * customer gets no receipt and main exits 0.  (asyncio: "Task exception
 * was never retrieved".)
 *
 * Run it:
 *     build/coscope run -o t.db -- build/samples/unretrieved
 *     build/coscope report t.db
 *
 * What to look for:
 *   - report: one unretrieved_error warning: send_receipt failed with
 *     'connection refused', at its spawn line (UNRETRIEVED_SPAWN).
 *   - tui: Tasks (1) shows send_receipt failed with -ECONNREFUSED;
 *     Warnings (3), Enter on the row: the task's tcp_connect await and its
 *     result.
 */
#include "coscope.h"
#include <stdio.h>

static int send_receipt(void *arg)
{
    int port = *(int *)arg;
    co_tcp_t *conn;
    int r = co_tcp_connect(&conn, "127.0.0.1", port); /* UNRETRIEVED_CONNECT */
    if (r < 0) return r; /* nobody will ever read this */
    co_tcp_close(conn);
    return 0;
}

/* A loopback port nobody listens on: bind one, note it, close it. */
static int dead_port(void)
{
    co_tcp_t *l;
    int r = co_tcp_listen(&l, "127.0.0.1", 0, 0);
    if (r < 0) return r;
    int port = co_tcp_local_port(l);
    co_tcp_close(l);
    return port;
}

static int amain(void *arg)
{
    static int relay_port;
    relay_port = dead_port();
    if (relay_port < 0) return relay_port;
    printf("order 1042 paid\n");
    co_spawn(send_receipt, &relay_port); /* UNRETRIEVED_SPAWN: fire and forget -- BUG */
    int r = co_sleep(50); /* go on with other work; send_receipt fails meanwhile */
    if (r < 0) return r;
    printf("order 1042 shipped (the receipt silently failed)\n");
    return 0;
}

int main(void)
{
    int r = co_run(amain, NULL);
    if (r < 0) {
        fprintf(stderr, "unretrieved: %s\n", co_strerror(r));
        return 1;
    }
    return 0;
}
