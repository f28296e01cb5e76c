/* SPDX-License-Identifier: MIT */
/* blocked_forever.c -- FAILURE CASE: a task waits forever on an event.
 *
 * The bug: load_config sets `config_ready` when it has loaded the
 * configuration -- but on its error path (the file, /nonexistent/app.conf,
 * is missing: -ENOENT) it returns without setting it.  api_server waits for `config_ready` before serving.
 * main reads the loader's error, logs it and carries on, then awaits the
 * server: now every task is blocked and nothing (no timer, no I/O) can ever
 * wake one.  asyncio would hang here forever; coscope's loop sees that all
 * tasks are asleep (Go's "all goroutines are asleep - deadlock!"), prints
 * every waiter on stderr and co_run returns -EDEADLK.  Exits 1.
 *
 * Run it:
 *     build/coscope run -o t.db -- build/samples/blocked_forever
 *     build/coscope report t.db
 *
 * What to look for:
 *   - report: one all_asleep warning, the story of the stuck group: main
 *     awaiting api_server at SERVER_AWAIT, which waits for the event
 *     `config_ready` at EVENT_WAIT, and nothing left will set it.
 *   - tui: Warnings (3): Enter on api_server's row; Await tree (5) at the
 *     end shows main -> api_server -> event config_ready, with nobody who
 *     could set it; Resources (2) shows config_ready never set.
 */
#include "coscope.h"
#include <stdio.h>
#include <stdlib.h>

static co_event_t config_ready;

static int load_config(void *arg)
{
    void *text;
    size_t len;
    int r = co_file_read_all("/nonexistent/app.conf", &text, &len);
    if (r < 0) return r; /* BUG: returns without co_event_set(&config_ready) */
    printf("config: %zu bytes\n", len);
    free(text);
    return co_event_set(&config_ready);
}

static int api_server(void *arg)
{
    int r = co_event_wait(&config_ready); /* EVENT_WAIT */
    if (r < 0) return r;
    printf("serving\n");
    return 0;
}

static int amain(void *arg)
{
    co_event_init(&config_ready);
    co_task_t server = co_spawn(api_server, NULL);
    int r = co_await(co_spawn(load_config, NULL));
    if (r < 0) printf("config: %s (continuing with defaults)\n", co_strerror(r));
    return co_await(server); /* SERVER_AWAIT */
}

int main(void)
{
    int r = co_run(amain, NULL);
    printf("co_run returned %s\n", co_strerror(r));
    return r < 0 ? 1 : 0;
}
