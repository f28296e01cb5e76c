/* SPDX-License-Identifier: MIT */
/* pedantic.c -- coscope.h in a user's program built the strictest usual way:
 * cc -std=c11 -Wall -Wextra -Wpedantic -Werror (tests/pkg/pkg.sh builds it
 * with gcc and clang and runs it).  Every macro that takes the call site
 * (CO_LOC) is used once, since that is where a GNU extension would show. */
#include "coscope.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static int child(void *arg) { return arg ? 1 : 2; }
static void *blocking(void *arg) { return arg; }
static int gen_body(co_gen_t *g, void *arg) { return co_gen_yield(g, arg); }

/* Every CO_LOC macro, never run: what matters is that it compiles. */
static int every_macro(void *arg)
{
    co_lock_t l;
    co_event_t e;
    co_sem_t s;
    co_cond_t c;
    co_queue_t q;
    co_future_t f;
    co_group_t g;
    co_task_t t[2];
    int results[2], status = 0;
    void *v = NULL;
    char buf[16];
    co_tcp_t *srv = NULL, *conn = NULL;
    co_file_t file;
    struct sockaddr_storage addr;
    const char *const argv[] = { "true", NULL };

    co_lock_init(&l);
    co_lock_init_named(&l, "l");
    co_event_init(&e);
    co_event_init_named(&e, "e");
    co_sem_init(&s, 1);
    co_sem_init_bounded(&s, 1);
    co_sem_init_named(&s, 1, "s");
    co_cond_init(&c, &l);
    co_cond_init_named(&c, &l, "c");
    co_queue_init(&q, 0);
    co_queue_init_named(&q, 4, "q");
    co_future_init(&f);
    co_future_init_named(&f, "f");
    t[0] = co_spawn(child, arg);
    t[1] = co_spawn_named("named", child, arg);
    (void)co_await(t[0]);
    (void)co_gather(t, 2, results, 0);
    (void)co_wait(t, 2, 0, -1);
    (void)co_wait_for(t[1], 10);
    (void)co_sleep(1);
    (void)co_yield();
    (void)co_group_spawn(&g, child, arg);
    (void)co_group_wait(&g);
    (void)co_future_await(&f, &v);
    (void)co_lock_acquire(&l);
    (void)co_event_wait(&e);
    (void)co_sem_acquire(&s);
    (void)co_cond_wait(&c);
    (void)co_queue_put(&q, v);
    (void)co_queue_get(&q, &v);
    (void)co_queue_join(&q);
    (void)co_to_thread(blocking, arg, &v);
    (void)co_chan_send((co_chan_t *)NULL, v);
    (void)co_chan_recv((co_chan_t *)NULL, &v);
    (void)co_exec(argv, &status);
    (void)co_exec_with(argv, NULL, &status);
    (void)co_resolve("localhost", 80, &addr);
    (void)co_tcp_listen(&srv, "127.0.0.1", 0, 8);
    (void)co_tcp_accept(srv, &conn);
    (void)co_tcp_connect(&conn, "127.0.0.1", 1);
    (void)co_tcp_read(conn, buf, sizeof buf);
    (void)co_tcp_read_exact(conn, buf, sizeof buf);
    (void)co_tcp_write(conn, buf, sizeof buf);
    (void)co_tcp_shutdown(conn);
    (void)co_file_open(&file, "/dev/null", 0, 0);
    (void)co_file_read(&file, buf, sizeof buf, 0);
    (void)co_file_write(&file, buf, sizeof buf, 0);
    (void)co_file_close(&file);
    (void)co_file_read_all("/dev/null", &v, &(size_t){ 0 });
    (void)co_file_write_all("/dev/null", buf, 0);
    co_gen_t *gen = co_gen_new(gen_body, arg);
    (void)co_gen_next(gen, &v);
    (void)co_gen_close(gen);
    co_log("%d", status);
    co_mark("m");
    co_region_t r = co_region_begin("r");
    co_region_end(r);
    (void)co_run(child, arg);
    (void)co_loop_run((co_loop_t *)NULL, child, arg);
    return 0;
}

/* What runs: a task that spawns, awaits and logs. */
static int main_task(void *arg)
{
    (void)arg;
    co_task_t t = co_spawn(child, NULL);
    int r = co_await(t);
    co_log("child returned %d", r);
    return r == 2 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--never")) return every_macro(argv);
    int r = co_run(main_task, NULL);
    printf("pedantic: %s\n", r == 0 ? "ok" : "FAIL");
    return r;
}
