/* SPDX-License-Identifier: MIT */
/* echo.c -- TCP echo over loopback, coroutines against plain libuv.
 *
 * One server and CONNS client connections on 127.0.0.1; each client does
 * ROUNDS round trips of a SIZE-byte message (write it, read the echo back
 * in full).  The same workload is written twice and run in the same process:
 *   (a) coscope: one task per connection on each side, straight-line code
 *       (co_tcp_write + co_tcp_read_exact; the server co_tcp_read +
 *       co_tcp_write);
 *   (b) plain libuv callbacks, with the same I/O strategy coscope uses
 *       inside (uv_try_write first, uv_write of a copy for what the kernel
 *       did not take; one read buffer per connection), so the ratio measures
 *       what the coroutines cost, not a different use of the socket.
 * The clock starts once every client is connected and stops when the last
 * round trip is done.  Runs alternate (a)(b) --reps times (default 3); the
 * best of each is reported.  Target: coroutine/plain >= 0.90.
 *
 * echo_workload() is the whole of (a) as a task body, reusable as is under
 * co_run with a trace recording (--trace PATH does exactly that, once).
 *
 * Usage: echo [--quick] [--reps N] [--scale F] [--conns N] [--rounds N]
 *             [--size N] [--trace PATH [--aa]] [--only coscope|plain]
 * (--only runs one side once, untimed against the other: for perf/strace.)
 * Prints key=value lines: conns rounds size reps, coscope_rtps plain_rtps
 * ratio (wall clock: round trips per second), coscope_cpu_rtps
 * plain_cpu_rtps ratio_cpu (per second of process CPU time: the same on an
 * idle machine, and the fair figure when other processes share the CPUs),
 * the underlying *_seconds, and traced_rtps, trace_overhead with --trace. */
#include "coscope.h"
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

/* Wall clock and the process's CPU time.  Both sides are single-threaded
 * and, on loopback, the kernel's TCP work runs in the process too, so CPU
 * time is the cost of the workload even when other processes share the
 * CPUs (wall time then includes the time they took). */
typedef struct stamp { double wall, cpu; } stamp;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static stamp now(void) { return (stamp){ clock_s(CLOCK_MONOTONIC), clock_s(CLOCK_PROCESS_CPUTIME_ID) }; }
static stamp since(stamp t0)
{
    stamp t = now();
    return (stamp){ t.wall - t0.wall, t.cpu - t0.cpu };
}

typedef struct echo_cfg {
    int conns, rounds, size;
} echo_cfg;

/* ------------------------------------------------------------------------ */
/* (a) coscope                                                               */

/* Shared by the tasks of one run; loop thread only. */
typedef struct echo_run {
    echo_cfg cfg;
    int port;
    int connected;          /* clients connected so far */
    co_event_t all_connected, go;
    stamp took;             /* result: the timed part */
    int error;              /* first failure, 0 if none */
} echo_run;

static void fail(echo_run *e, int r)
{
    if (!e->error) e->error = r;
}

static int co_server_conn(void *arg)
{
    co_tcp_t *c = arg;
    char buf[16384];
    int n;
    while ((n = co_tcp_read(c, buf, sizeof buf)) > 0)
        if (co_tcp_write(c, buf, (size_t)n) < 0) break;
    co_tcp_close(c);
    return n < 0 ? n : 0;
}

typedef struct { echo_run *e; co_tcp_t *srv; co_group_t g; } co_server;

static int co_acceptor(void *arg)
{
    co_server *s = arg;
    for (int i = 0; i < s->e->cfg.conns; i++) {
        co_tcp_t *c;
        int r = co_tcp_accept(s->srv, &c);
        if (r < 0) {
            fail(s->e, r);
            break;
        }
        co_group_spawn(&s->g, co_server_conn, c);
    }
    return co_group_wait(&s->g);
}

static int co_client(void *arg)
{
    echo_run *e = arg;
    int size = e->cfg.size;
    co_tcp_t *c;
    int r = co_tcp_connect(&c, "127.0.0.1", e->port);
    if (r < 0) {
        fail(e, r);
        co_event_set(&e->all_connected); /* do not leave main waiting */
        return r;
    }
    if (++e->connected == e->cfg.conns) co_event_set(&e->all_connected);
    char *out = malloc((size_t)size), *in = malloc((size_t)size);
    memset(out, 'x', (size_t)size);
    co_event_wait(&e->go);
    for (int i = 0; i < e->cfg.rounds && r >= 0; i++) {
        out[0] = (char)i;
        r = co_tcp_write(c, out, (size_t)size);
        if (r == 0) r = co_tcp_read_exact(c, in, (size_t)size);
        if (r >= 0 && in[0] != (char)i) r = -EPROTO;
    }
    if (r < 0) fail(e, r);
    co_tcp_close(c);
    free(out);
    free(in);
    return r < 0 ? r : 0;
}

/* The whole of (a) as a task body: arg is an echo_run with cfg set; fills in
 * seconds and error.  Runs on whatever loop runs it (co_run). */
int echo_workload(void *arg);
int echo_workload(void *arg)
{
    echo_run *e = arg;
    e->error = 0;
    e->connected = 0;
    co_server s = { .e = e };
    int r = co_tcp_listen(&s.srv, "127.0.0.1", 0, e->cfg.conns + 64);
    if (r < 0) return e->error = r;
    e->port = co_tcp_local_port(s.srv);
    co_event_init(&e->all_connected);
    co_event_init(&e->go);
    co_group_init(&s.g);
    co_task_t acc = co_spawn(co_acceptor, &s);
    co_task_t *cl = malloc((size_t)e->cfg.conns * sizeof *cl);
    for (int i = 0; i < e->cfg.conns; i++) cl[i] = co_spawn(co_client, e);
    co_event_wait(&e->all_connected);
    stamp t0 = now();
    co_event_set(&e->go);
    co_gather(cl, (size_t)e->cfg.conns, NULL, CO_GATHER_COLLECT);
    e->took = since(t0);
    free(cl);
    co_await(acc); /* server tasks end at their clients' end of stream */
    co_tcp_close(s.srv);
    return e->error;
}

static stamp run_coscope(const echo_cfg *cfg)
{
    echo_run e = { .cfg = *cfg };
    int r = co_run(echo_workload, &e);
    if (r < 0 || e.error) {
        fprintf(stderr, "echo: coscope run failed: %s\n", co_strerror(e.error ? e.error : r));
        exit(1);
    }
    return e.took;
}

/* ------------------------------------------------------------------------ */
/* (b) plain libuv                                                           */

/* Everything below runs on the one thread of its uv loop. */
typedef struct plain_run {
    echo_cfg cfg;
    uv_loop_t loop;
    uv_tcp_t server;
    struct sockaddr_in addr;
    int connected, finished;
    stamp t0, took;
    struct plain_conn *clients;
    char *msg;              /* the message every client sends */
} plain_run;

typedef struct plain_conn {
    uv_tcp_t h;
    plain_run *run;
    int is_client;
    int rounds_left;
    int got;                /* client: bytes of the current echo received */
    uv_connect_t connect;
    char buf[16384];        /* read buffer */
} plain_conn;

/* A write that did not complete at once: owns a copy of the rest. */
typedef struct plain_write {
    uv_write_t req;
    char data[];
} plain_write;

static void on_plain_write(uv_write_t *w, int status)
{
    if (status < 0 && status != UV_ECANCELED) {
        fprintf(stderr, "echo: plain write: %s\n", uv_strerror(status));
        exit(1);
    }
    free(w);
}

/* Same strategy as co_tcp_write: try first, queue a copy of the rest. */
static void plain_send(plain_conn *c, const char *p, size_t len)
{
    uv_buf_t b = uv_buf_init((char *)p, (unsigned)len);
    int n = uv_try_write((uv_stream_t *)&c->h, &b, 1);
    if (n == (int)len) return;
    if (n < 0 && n != UV_EAGAIN) {
        fprintf(stderr, "echo: plain try_write: %s\n", uv_strerror(n));
        exit(1);
    }
    if (n < 0) n = 0;
    size_t rest = len - (size_t)n;
    plain_write *w = malloc(sizeof *w + rest);
    memcpy(w->data, p + n, rest);
    b = uv_buf_init(w->data, (unsigned)rest);
    uv_write(&w->req, (uv_stream_t *)&c->h, &b, 1, on_plain_write);
}

static void on_plain_close(uv_handle_t *h)
{
    plain_conn *c = h->data;
    if (!c->is_client) free(c);
}

static void plain_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    plain_conn *c = h->data;
    buf->base = c->buf;
    buf->len = sizeof c->buf;
}

static void plain_server_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    plain_conn *c = s->data;
    if (nread > 0) {
        plain_send(c, buf->base, (size_t)nread);
    } else if (nread < 0) {
        uv_close((uv_handle_t *)&c->h, on_plain_close);
    }
}

static void plain_client_send(plain_conn *c)
{
    char *msg = c->run->msg; /* shared: sent at once or copied by plain_send */
    msg[0] = (char)(c->run->cfg.rounds - c->rounds_left);
    plain_send(c, msg, (size_t)c->run->cfg.size);
}

static void plain_client_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    plain_conn *c = s->data;
    plain_run *r = c->run;
    if (nread <= 0) {
        if (nread < 0) {
            fprintf(stderr, "echo: plain client read: %s\n", uv_strerror((int)nread));
            exit(1);
        }
        return;
    }
    c->got += (int)nread;
    if (c->got < r->cfg.size) return;
    c->got = 0;
    if (--c->rounds_left > 0) {
        plain_client_send(c);
        return;
    }
    uv_close((uv_handle_t *)&c->h, on_plain_close);
    if (++r->finished == r->cfg.conns) {
        r->took = since(r->t0);
        uv_close((uv_handle_t *)&r->server, NULL);
    }
}

static void plain_on_connection(uv_stream_t *s, int status)
{
    plain_run *r = s->data;
    if (status < 0) {
        fprintf(stderr, "echo: plain accept: %s\n", uv_strerror(status));
        exit(1);
    }
    plain_conn *c = calloc(1, sizeof *c);
    c->run = r;
    uv_tcp_init(&r->loop, &c->h);
    c->h.data = c;
    uv_accept(s, (uv_stream_t *)&c->h);
    uv_tcp_nodelay(&c->h, 1);
    uv_read_start((uv_stream_t *)&c->h, plain_alloc, plain_server_read);
}

static void plain_on_connect(uv_connect_t *req, int status)
{
    plain_conn *c = req->data;
    plain_run *r = c->run;
    if (status < 0) {
        fprintf(stderr, "echo: plain connect: %s\n", uv_strerror(status));
        exit(1);
    }
    uv_tcp_nodelay(&c->h, 1);
    uv_read_start((uv_stream_t *)&c->h, plain_alloc, plain_client_read);
    if (++r->connected < r->cfg.conns) return;
    r->t0 = now();
    for (int i = 0; i < r->cfg.conns; i++) plain_client_send(&r->clients[i]);
}

static stamp run_plain(const echo_cfg *cfg)
{
    plain_run *r = calloc(1, sizeof *r);
    r->cfg = *cfg;
    uv_loop_init(&r->loop);
    uv_tcp_init(&r->loop, &r->server);
    r->server.data = r;
    uv_ip4_addr("127.0.0.1", 0, &r->addr);
    uv_tcp_bind(&r->server, (struct sockaddr *)&r->addr, 0);
    if (uv_listen((uv_stream_t *)&r->server, cfg->conns + 64, plain_on_connection) < 0) {
        fprintf(stderr, "echo: plain listen failed\n");
        exit(1);
    }
    struct sockaddr_in bound;
    int len = sizeof bound;
    uv_tcp_getsockname(&r->server, (struct sockaddr *)&bound, &len);
    r->clients = calloc((size_t)cfg->conns, sizeof *r->clients);
    r->msg = malloc((size_t)cfg->size);
    memset(r->msg, 'x', (size_t)cfg->size);
    for (int i = 0; i < cfg->conns; i++) {
        plain_conn *c = &r->clients[i];
        c->run = r;
        c->is_client = 1;
        c->rounds_left = cfg->rounds;
        uv_tcp_init(&r->loop, &c->h);
        c->h.data = c;
        c->connect.data = c;
        uv_tcp_connect(&c->connect, &c->h, (struct sockaddr *)&bound, plain_on_connect);
    }
    uv_run(&r->loop, UV_RUN_DEFAULT);
    if (r->finished != cfg->conns) {
        fprintf(stderr, "echo: plain run ended early (%d of %d)\n", r->finished, cfg->conns);
        exit(1);
    }
    uv_loop_close(&r->loop);
    stamp s = r->took;
    free(r->clients);
    free(r->msg);
    free(r);
    return s;
}

/* co_trace_start/co_flight_start failed.  Its -ENOENT is also what a
 * missing coscope binary (the helper that records) gives: say which. */
static void say_trace_failed(const char *what, const char *path, int r)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    if (r == -ENOENT && access(slash ? (*dir ? dir : "/") : ".", W_OK) == 0)
        fprintf(stderr, "echo: %s(%s): the coscope binary that records it was not found"
                        " (set COSCOPE_BIN=/path/to/coscope, or make install)\n", what, path);
    else
        fprintf(stderr, "echo: %s(%s): %s\n", what, path, co_strerror(r));
}

/* ------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    echo_cfg cfg = { .conns = 100, .rounds = 2000, .size = 64 };
    int reps = 3;
    double scale = 1.0;
    const char *trace = NULL, *only = NULL;
    int aa = 0; /* with --trace: the control, traced slots record nothing */
    int flight = 0; /* with --trace: co_flight_start instead of co_trace_start */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--quick")) { cfg.rounds = 200; reps = 3; }
        else if (!strcmp(a, "--reps") && v) { reps = atoi(v); i++; }
        else if (!strcmp(a, "--scale") && v) { scale = atof(v); i++; }
        else if (!strcmp(a, "--conns") && v) { cfg.conns = atoi(v); i++; }
        else if (!strcmp(a, "--rounds") && v) { cfg.rounds = atoi(v); i++; }
        else if (!strcmp(a, "--size") && v) { cfg.size = atoi(v); i++; }
        else if (!strcmp(a, "--trace") && v) { trace = v; i++; }
        else if (!strcmp(a, "--flight")) flight = 1; /* the traced slot runs the flight recorder (30 s, 64 MB) */
        else if (!strcmp(a, "--aa")) aa = 1;
        else if (!strcmp(a, "--only") && v) { only = v; i++; }
        else {
            fprintf(stderr, "usage: echo [--quick] [--reps N] [--scale F] [--conns N] [--rounds N] "
                            "[--size N] [--trace PATH [--aa] [--flight]] [--only coscope|plain]\n");
            return 2;
        }
    }
    cfg.rounds = (int)(cfg.rounds * scale);
    if (cfg.rounds < 1) cfg.rounds = 1;
    if (reps < 1) reps = 1;
    if (cfg.conns < 1 || cfg.size < 1 || cfg.size > 65536) {
        fprintf(stderr, "echo: need conns >= 1 and 1 <= size <= 65536\n");
        return 2;
    }

    if (only) { /* one side alone, for perf/strace; --trace records it */
        int r = trace ? co_trace_start(trace) : 0;
        if (r < 0) {
            say_trace_failed("co_trace_start", trace, r);
            return 1;
        }
        stamp t = !strcmp(only, "plain") ? run_plain(&cfg) : run_coscope(&cfg);
        if (trace) co_trace_stop();
        printf("%s_rtps=%.0f\n%s_cpu_rtps=%.0f\n", only, (double)cfg.conns * cfg.rounds / t.wall,
               only, (double)cfg.conns * cfg.rounds / t.cpu);
        return 0;
    }

    /* Warm up both (page faults, stack pool, socket buffers), untimed. */
    echo_cfg warm = cfg;
    warm.rounds = cfg.rounds / 10 > 0 ? cfg.rounds / 10 : 1;
    run_coscope(&warm);
    run_plain(&warm);

    /* Best of reps, separately for wall and CPU time. */
    stamp best_co = { 1e30, 1e30 }, best_plain = { 1e30, 1e30 };
    for (int i = 0; i < reps; i++) {
        stamp a = run_coscope(&cfg), b = run_plain(&cfg);
        if (a.wall < best_co.wall) best_co.wall = a.wall;
        if (a.cpu < best_co.cpu) best_co.cpu = a.cpu;
        if (b.wall < best_plain.wall) best_plain.wall = b.wall;
        if (b.cpu < best_plain.cpu) best_plain.cpu = b.cpu;
    }
    double trips = (double)cfg.conns * cfg.rounds;
    double co_rtps = trips / best_co.wall, plain_rtps = trips / best_plain.wall;
    double co_cpu_rtps = trips / best_co.cpu, plain_cpu_rtps = trips / best_plain.cpu;
    printf("conns=%d\nrounds=%d\nsize=%d\nreps=%d\n", cfg.conns, cfg.rounds, cfg.size, reps);
    printf("coscope_seconds=%.6f\nplain_seconds=%.6f\n", best_co.wall, best_plain.wall);
    printf("coscope_rtps=%.0f\nplain_rtps=%.0f\nratio=%.3f\n", co_rtps, plain_rtps, co_rtps / plain_rtps);
    printf("coscope_cpu_seconds=%.6f\nplain_cpu_seconds=%.6f\n", best_co.cpu, best_plain.cpu);
    printf("coscope_cpu_rtps=%.0f\nplain_cpu_rtps=%.0f\nratio_cpu=%.3f\n", co_cpu_rtps, plain_cpu_rtps,
           co_cpu_rtps / plain_cpu_rtps);

    if (trace) {
        /* Traced and untraced runs alternate, best of reps each, so a noisy
         * moment does not land on one side only.  The clock stops before
         * co_trace_stop, which finishes the tables after the workload.
         * Seven alternations of half-length runs: with three, the spread
         * between two identical untraced runs was as large as the effect.
         * The order flips every pair (ABBA...): with the traced run always
         * first, the harness alone (the traced slot run untraced) read
         * 1.01-1.02, a bias of the slot, not of the tracer; in this order
         * the A/A control (--aa: the "traced" slot records nothing) reads
         * 0.99-1.00. */
        echo_cfg half = cfg;
        half.rounds = cfg.rounds / 2 > 0 ? cfg.rounds / 2 : 1;
        int treps = reps < 7 ? 7 : reps;
        stamp best_tr = { 1e30, 1e30 }, best_un = { 1e30, 1e30 };
        /* Each pair (T U or U T, side by side in time) gives a ratio; their
         * median holds where a best-of does not, on a host whose load
         * comes and goes between the two sides' best runs. */
        double ratio[64], ratio_cpu[64], pair_tr = 0, pair_un = 0, pair_tr_cpu = 0, pair_un_cpu = 0;
        int npairs = 0;
        if (treps > 64) treps = 64;
        for (int i = 0; i < 2 * treps; i++) {
            int traced = (i & 1) == ((i >> 1) & 1); /* T U U T T U U T ... */
            stamp t;
            if (traced) {
                char path[4096];
                snprintf(path, sizeof path, "%s.%d", trace, i / 2);
                unlink(path);
                int r = aa ? 0 : flight ? co_flight_start(30000, 64u << 20) : co_trace_start(path);
                if (r < 0) {
                    say_trace_failed(flight ? "co_flight_start" : "co_trace_start", path, r);
                    return 1;
                }
                t = run_coscope(&half);
                if (!aa) flight ? co_flight_stop() : co_trace_stop();
                if (t.wall < best_tr.wall) best_tr.wall = t.wall;
                if (t.cpu < best_tr.cpu) best_tr.cpu = t.cpu;
                pair_tr = t.wall, pair_tr_cpu = t.cpu;
            } else {
                t = run_coscope(&half);
                if (t.wall < best_un.wall) best_un.wall = t.wall;
                if (t.cpu < best_un.cpu) best_un.cpu = t.cpu;
                pair_un = t.wall, pair_un_cpu = t.cpu;
            }
            if (i & 1) {
                ratio[npairs] = pair_tr / pair_un;
                ratio_cpu[npairs++] = pair_tr_cpu / pair_un_cpu;
            }
        }
        const char *what = flight ? "flight" : "trace";
        printf("%sd_rtps=%.0f\n%s_overhead=%.3f\n", what, trips / 2 / best_tr.wall, what, best_tr.wall / best_un.wall);
        printf("%s_overhead_cpu=%.3f\n", what, best_tr.cpu / best_un.cpu);
        qsort(ratio, (size_t)npairs, sizeof *ratio, cmp_double);
        qsort(ratio_cpu, (size_t)npairs, sizeof *ratio_cpu, cmp_double);
        printf("%s_overhead_median=%.3f\n%s_overhead_q1=%.3f\n%s_overhead_q3=%.3f\n%s_overhead_min=%.3f\n"
               "%s_overhead_max=%.3f\n%s_overhead_pairs=%d\n%s_overhead_cpu_median=%.3f\n",
               what, ratio[npairs / 2], what, ratio[npairs / 4], what, ratio[npairs * 3 / 4], what, ratio[0], what,
               ratio[npairs - 1], what, npairs, what, ratio_cpu[npairs / 2]);
    }
    fprintf(stderr, "echo: %d conns x %d round trips of %d bytes, best of %d: coscope %.0f rt/s, plain libuv "
                    "%.0f rt/s, coroutine/plain %.2f (by CPU time %.2f; target >= 0.90)\n",
            cfg.conns, cfg.rounds, cfg.size, reps, co_rtps, plain_rtps, co_rtps / plain_rtps,
            co_cpu_rtps / plain_cpu_rtps);
    return 0;
}
