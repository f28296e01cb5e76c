/* SPDX-License-Identifier: MIT */
/* test_tcp.c -- TCP over loopback: echo with 200 concurrent connections,
 * refused and reset connections, end of stream, read_exact, cancellation of
 * reads (no byte lost), of read_exact (rolled back), of writes (finished in
 * the background), of accepts, close under a waiting reader, backpressure on
 * a large transfer, writes to a reset peer (no SIGPIPE death), names, peer
 * addresses and misuse.  Loopback only; every
 * wait is bounded so a regression fails instead of hanging (alarm). */
#include "testutil.h"
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>


/* A listener on 127.0.0.1 with a system-picked port. */
static co_tcp_t *listen_lo(int *port)
{
    co_tcp_t *srv = NULL;
    EXPECT_INT(co_tcp_listen(&srv, "127.0.0.1", 0, 512), 0);
    *port = srv ? co_tcp_local_port(srv) : -1;
    EXPECT_TRUE(*port > 0);
    return srv;
}

/* A connected pair over loopback: *a is the client end, *b the server's. */
static void make_pair(co_tcp_t **a, co_tcp_t **b)
{
    int port;
    co_tcp_t *srv = listen_lo(&port);
    EXPECT_INT(co_tcp_connect(a, "127.0.0.1", port), 0);
    EXPECT_INT(co_tcp_accept(srv, b), 0);
    co_tcp_close(srv);
}

/* Yield until t is waiting (suspended in an await), at most ~1 s. */
static void until_waiting(co_task_t t)
{
    for (int i = 0; i < 1000 && co_task_state_of(t) != CO_TASK_WAITING; i++) {
        co_yield();
        if (co_task_state_of(t) != CO_TASK_WAITING) co_sleep(1);
    }
    EXPECT_INT(co_task_state_of(t), CO_TASK_WAITING);
}

static unsigned char pattern(size_t i) { return (unsigned char)((i * 7 + i / 251) % 253); }

/* ------------------------------------------------------------------------ */
/* Echo, 200 concurrent connections                                          */

#define NCONN 200
#define ROUNDS 5

static int echo_handler(void *arg)
{
    co_tcp_t *c = arg;
    char buf[4096];
    int n;
    while ((n = co_tcp_read(c, buf, sizeof buf)) > 0) {
        int r = co_tcp_write(c, buf, (size_t)n);
        if (r < 0) break;
    }
    EXPECT_INT(n, 0); /* the client closes cleanly */
    co_tcp_close(c);
    return 0;
}

typedef struct { co_tcp_t *srv; co_group_t g; } echo_server;

static int acceptor(void *arg)
{
    echo_server *s = arg;
    for (int i = 0; i < NCONN; i++) {
        co_tcp_t *c;
        int r = co_tcp_accept(s->srv, &c);
        EXPECT_INT(r, 0);
        if (r < 0) return r;
        co_group_spawn(&s->g, echo_handler, c);
    }
    return co_group_wait(&s->g);
}

static int echo_client(void *arg)
{
    int port = I(arg);
    co_tcp_t *c;
    int r = co_tcp_connect(&c, "127.0.0.1", port);
    EXPECT_INT(r, 0);
    if (r < 0) return r;
    char out[300], in[300];
    for (int k = 0; k < ROUNDS; k++) {
        size_t len = 1 + (size_t)((port + k * 37) % (int)sizeof out);
        for (size_t i = 0; i < len; i++) out[i] = (char)(i + k);
        EXPECT_INT(co_tcp_write(c, out, len), 0);
        EXPECT_INT(co_tcp_read_exact(c, in, len), (int)len);
        EXPECT_INT(memcmp(in, out, len), 0);
    }
    EXPECT_INT(co_tcp_close(c), 0);
    return 0;
}

static int echo_main(void *arg)
{
    echo_server s;
    int port;
    s.srv = listen_lo(&port);
    co_group_init(&s.g);
    co_task_t acc = co_spawn(acceptor, &s);
    co_task_t cl[NCONN];
    for (int i = 0; i < NCONN; i++) cl[i] = co_spawn(echo_client, P(port));
    int res[NCONN];
    EXPECT_INT(co_gather(cl, NCONN, res, CO_GATHER_COLLECT), 0);
    for (int i = 0; i < NCONN; i++) EXPECT_INT(res[i], 0);
    EXPECT_INT(co_await(acc), 0);
    co_tcp_close(s.srv);
    return 0;
}

static void test_echo_many(void **state) { run(echo_main, NULL); }

/* ------------------------------------------------------------------------ */
/* Errors: refused, reset, end of stream, closed under a reader              */

static int refused_main(void *arg)
{
    int port;
    co_tcp_t *srv = listen_lo(&port);
    co_tcp_close(srv); /* nobody listens there now */
    co_yield();
    co_tcp_t *c = (co_tcp_t *)1;
    EXPECT_INT(co_tcp_connect(&c, "127.0.0.1", port), -ECONNREFUSED);
    EXPECT_TRUE(c == NULL);
    return 0;
}

static void test_refused(void **state) { run(refused_main, NULL); }

static int reset_main(void *arg)
{
    co_tcp_t *a, *b;
    make_pair(&a, &b);
    EXPECT_INT(co_tcp_close_reset(b), 0);
    char buf[16];
    EXPECT_INT(co_tcp_read(a, buf, sizeof buf), -ECONNRESET);
    EXPECT_INT(co_tcp_read(a, buf, sizeof buf), -ECONNRESET); /* sticky */
    int w = co_tcp_write(a, "x", 1);
    EXPECT_TRUE(w == -EPIPE || w == -ECONNRESET);
    co_tcp_close(a);
    return 0;
}

static void test_reset(void **state) { run(reset_main, NULL); }

/* Writes to a reset connection, without a read to notice the reset first:
 * the second one is where write(2) raises SIGPIPE, which must not kill us. */
static int reset_write_main(void *arg)
{
    co_tcp_t *a, *b;
    make_pair(&a, &b);
    EXPECT_INT(co_tcp_close_reset(b), 0);
    co_sleep(20); /* the RST arrives */
    int w1 = co_tcp_write(a, "x", 1), w2 = co_tcp_write(a, "y", 1);
    EXPECT_TRUE(w1 == -ECONNRESET || w1 == -EPIPE);
    EXPECT_INT(w2, -EPIPE);
    co_tcp_close(a);
    return 0;
}

static void test_reset_write(void **state) { run(reset_write_main, NULL); }

static int eof_main(void *arg)
{
    co_tcp_t *a, *b;
    make_pair(&a, &b);
    EXPECT_INT(co_tcp_write(b, "bye", 3), 0);
    EXPECT_INT(co_tcp_shutdown(b), 0);
    char buf[16];
    EXPECT_INT(co_tcp_read(a, buf, sizeof buf), 3);
    EXPECT_INT(memcmp(buf, "bye", 3), 0);
    EXPECT_INT(co_tcp_read(a, buf, sizeof buf), 0);
    EXPECT_INT(co_tcp_read(a, buf, sizeof buf), 0); /* and stays there */
    /* Half-close: the other direction still works. */
    EXPECT_INT(co_tcp_write(a, "ok", 2), 0);
    EXPECT_INT(co_tcp_read_exact(b, buf, 2), 2);
    co_tcp_close(a);
    EXPECT_INT(co_tcp_read(b, buf, sizeof buf), 0);
    co_tcp_close(b);
    return 0;
}

static void test_eof(void **state) { run(eof_main, NULL); }

typedef struct { co_tcp_t *c; char buf[64]; size_t len; int r; } rd_ctx;

static int reader(void *arg)
{
    rd_ctx *x = arg;
    x->r = co_tcp_read(x->c, x->buf, x->len ? x->len : sizeof x->buf);
    return x->r < 0 ? x->r : 0;
}

static int exact_reader(void *arg)
{
    rd_ctx *x = arg;
    x->r = co_tcp_read_exact(x->c, x->buf, x->len);
    return x->r < 0 ? x->r : 0;
}

static int close_under_reader_main(void *arg)
{
    co_tcp_t *a, *b;
    make_pair(&a, &b);
    rd_ctx x = { .c = a };
    co_task_t t = co_spawn(reader, &x);
    until_waiting(t);
    EXPECT_INT(co_tcp_close(a), 0);
    EXPECT_INT(co_tcp_close(a) < 0, 1); /* only once (memory not freed yet: a task holds it) */
    EXPECT_INT(co_await(t), -EBADF);
    co_tcp_close(b);
    return 0;
}

static void test_close_under_reader(void **state) { run(close_under_reader_main, NULL); }

/* ------------------------------------------------------------------------ */
/* Reading: buffering, cancellation, read_exact                              */

/* Bytes that arrive while nobody reads are kept, in order. */
static int buffered_main(void *arg)
{
    co_tcp_t *a, *b;
    make_pair(&a, &b);
    char buf[64];
    /* Start reading (so the stream buffers from now on), then go away. */
    rd_ctx x = { .c = a };
    co_task_t t = co_spawn(reader, &x);
    until_waiting(t);
    co_cancel(t);
    EXPECT_INT(co_await(t), -ECANCELED);
    EXPECT_INT(co_tcp_write(b, "one,", 4), 0);
    co_sleep(5);
    EXPECT_INT(co_tcp_write(b, "two,", 4), 0);
    co_sleep(5);
    EXPECT_INT(co_tcp_write(b, "three", 5), 0);
    co_sleep(20);
    EXPECT_INT(co_tcp_read_exact(a, buf, 13), 13);
    EXPECT_INT(memcmp(buf, "one,two,three", 13), 0);
    co_tcp_close(a);
    co_tcp_close(b);
    return 0;
}

static void test_buffered(void **state) { run(buffered_main, NULL); }

static int cancel_read_main(void *arg)
{
    co_tcp_t *a, *b;
    make_pair(&a, &b);
    rd_ctx x = { .c = a };
    co_task_t t = co_spawn(reader, &x);
    until_waiting(t);
    EXPECT_INT(co_cancel(t), 1);
    EXPECT_INT(co_await(t), -ECANCELED);
    EXPECT_INT(x.r, -ECANCELED);
    /* The data sent after the cancellation reaches the next read. */
    EXPECT_INT(co_tcp_write(b, "data", 4), 0);
    char buf[16];
    EXPECT_INT(co_tcp_read(a, buf, sizeof buf), 4);
    EXPECT_INT(memcmp(buf, "data", 4), 0);

    /* Same with a timeout scope, in the middle of a stream. */
    co_timeout_t sc;
    co_timeout_begin(&sc, 10);
    EXPECT_INT(co_tcp_read(a, buf, sizeof buf), -ETIMEDOUT);
    EXPECT_INT(co_timeout_end(&sc), -ETIMEDOUT);
    EXPECT_INT(co_tcp_write(b, "more", 4), 0);
    EXPECT_INT(co_tcp_read_exact(a, buf, 4), 4);
    EXPECT_INT(memcmp(buf, "more", 4), 0);

    /* A scope already expired: the read returns before waiting, and leaves
     * no reader behind. */
    co_timeout_begin(&sc, 0);
    EXPECT_INT(co_tcp_read(a, buf, sizeof buf), -ETIMEDOUT);
    co_timeout_end(&sc);
    EXPECT_INT(co_tcp_write(b, "late", 4), 0);
    EXPECT_INT(co_tcp_read_exact(a, buf, 4), 4);
    EXPECT_INT(memcmp(buf, "late", 4), 0);

    /* A read woken with data keeps it even if cancelled before it runs.  To
     * get there deterministically main waits on a second connection (d->e)
     * that becomes readable just before `a` does, in the same poll: epoll
     * reports ready sockets in order, so main is made ready first and runs
     * while the reader is READY with its bytes. */
    co_tcp_t *d, *e;
    make_pair(&d, &e);
    EXPECT_INT(co_tcp_write(d, "1", 1), 0);
    EXPECT_INT(co_tcp_read_exact(e, buf, 1), 1); /* e is now reading (registered) */
    x.r = 0;
    t = co_spawn(reader, &x);
    until_waiting(t);
    EXPECT_INT(co_tcp_write(d, "2", 1), 0);
    EXPECT_INT(co_tcp_write(b, "kept", 4), 0);
    EXPECT_INT(co_tcp_read(e, buf, 1), 1);
    EXPECT_INT(co_task_state_of(t), CO_TASK_READY);
    EXPECT_INT(co_cancel(t), 1); /* too late to take the data back */
    /* The read keeps its bytes; the task returns without another await, so
     * it ends with its result: the bytes were handed over (issue 18). */
    EXPECT_INT(co_await(t), 0);
    EXPECT_INT(x.r, 4);
    EXPECT_INT(memcmp(x.buf, "kept", 4), 0);
    co_tcp_close(d);
    co_tcp_close(e);
    co_tcp_close(a);
    co_tcp_close(b);
    return 0;
}

static void test_cancel_read(void **state) { run(cancel_read_main, NULL); }

static int busy_main(void *arg)
{
    co_tcp_t *a, *b;
    make_pair(&a, &b);
    rd_ctx x = { .c = a };
    co_task_t t = co_spawn(reader, &x);
    until_waiting(t);
    char buf[4];
    EXPECT_INT(co_tcp_read(a, buf, sizeof buf), -EBUSY); /* one reader at a time */
    EXPECT_INT(co_tcp_write(b, "z", 1), 0);
    EXPECT_INT(co_await(t), 0);
    EXPECT_INT(x.r, 1);
    EXPECT_INT(co_tcp_read(a, buf, 0), 0);
    co_tcp_close(a);
    co_tcp_close(b);
    return 0;
}

static void test_one_reader(void **state) { run(busy_main, NULL); }

static int exact_main(void *arg)
{
    co_tcp_t *a, *b;
    make_pair(&a, &b);
    char buf[32];
    /* Pieces with gaps: read_exact waits for all. */
    rd_ctx x = { .c = a, .len = 11 };
    co_task_t t = co_spawn(exact_reader, &x);
    EXPECT_INT(co_tcp_write(b, "hel", 3), 0);
    co_sleep(5);
    EXPECT_INT(co_tcp_write(b, "lo w", 4), 0);
    co_sleep(5);
    EXPECT_INT(co_tcp_write(b, "orld!!", 6), 0); /* 2 bytes more than asked */
    EXPECT_INT(co_await(t), 0);
    EXPECT_INT(x.r, 11);
    EXPECT_INT(memcmp(x.buf, "hello world", 11), 0);
    EXPECT_INT(co_tcp_read_exact(a, buf, 2), 2);
    EXPECT_INT(memcmp(buf, "!!", 2), 0);

    /* Cancelled half-way: rolled back, the next read_exact gets it all. */
    x = (rd_ctx){ .c = a, .len = 8 };
    t = co_spawn(exact_reader, &x);
    EXPECT_INT(co_tcp_write(b, "ABCD", 4), 0);
    co_sleep(10); /* the reader takes ABCD and waits for 4 more */
    until_waiting(t);
    co_cancel(t);
    EXPECT_INT(co_await(t), -ECANCELED);
    EXPECT_INT(co_tcp_write(b, "EFGH", 4), 0);
    EXPECT_INT(co_tcp_read_exact(a, buf, 8), 8);
    EXPECT_INT(memcmp(buf, "ABCDEFGH", 8), 0);

    /* End of stream: between messages 0, inside one -EPIPE. */
    EXPECT_INT(co_tcp_write(b, "xyz", 3), 0);
    EXPECT_INT(co_tcp_shutdown(b), 0);
    EXPECT_INT(co_tcp_read_exact(a, buf, 3), 3);
    EXPECT_INT(co_tcp_read_exact(a, buf, 3), 0);
    co_tcp_close(a);
    co_tcp_close(b);

    make_pair(&a, &b);
    EXPECT_INT(co_tcp_write(b, "12", 2), 0);
    co_tcp_close(b);
    EXPECT_INT(co_tcp_read_exact(a, buf, 5), -EPIPE);
    EXPECT_INT(memcmp(buf, "12", 2), 0);
    co_tcp_close(a);
    return 0;
}

static void test_read_exact(void **state) { run(exact_main, NULL); }

/* ------------------------------------------------------------------------ */
/* Writing: backpressure, large transfers, cancellation                      */

#define BIG (8u << 20)

typedef struct { co_tcp_t *c; size_t len; int r; } wr_ctx;

static int big_writer(void *arg)
{
    wr_ctx *w = arg;
    unsigned char *data = malloc(w->len);
    for (size_t i = 0; i < w->len; i++) data[i] = pattern(i);
    w->r = co_tcp_write(w->c, data, w->len);
    memset(data, 0xee, w->len); /* the caller's buffer is free once write returns */
    free(data);
    return w->r;
}

/* Read n bytes and check them against pattern(), starting at index `from`. */
static size_t read_and_check(co_tcp_t *c, size_t n, size_t from)
{
    static unsigned char buf[100000];
    size_t got = 0;
    while (got < n) {
        size_t want = n - got < sizeof buf ? n - got : sizeof buf;
        int r = co_tcp_read(c, buf, want);
        if (r <= 0) {
            EXPECT_INT(r, 1);
            break;
        }
        for (int i = 0; i < r; i++)
            if (buf[i] != pattern(from + got + (size_t)i)) {
                EXPECT_INT(buf[i], pattern(from + got + (size_t)i));
                return got;
            }
        got += (size_t)r;
    }
    return got;
}

static int backpressure_main(void *arg)
{
    co_tcp_t *a, *b;
    make_pair(&a, &b);
    /* Reading starts, then the reader dawdles: the stream must stop reading
     * at its buffer limit and the writer must wait, not the memory grow. */
    rd_ctx x = { .c = a, .len = 1 };
    co_task_t rt = co_spawn(reader, &x);
    wr_ctx w = { .c = b, .len = BIG };
    co_task_t wt = co_spawn(big_writer, &w);
    EXPECT_INT(co_await(rt), 0);
    EXPECT_INT(x.r, 1);
    EXPECT_INT(x.buf[0], (char)pattern(0));
    co_sleep(30);
    EXPECT_INT(co_task_state_of(wt), CO_TASK_WAITING);
    EXPECT_INT(read_and_check(a, BIG - 1, 1), BIG - 1);
    EXPECT_INT(co_await(wt), 0);
    co_tcp_close(a);
    co_tcp_close(b);
    return 0;
}

static void test_backpressure(void **state) { run(backpressure_main, NULL); }

/* Read everything up to the end of stream, checking the pattern. */
static int drain_all(void *arg)
{
    co_tcp_t *c = arg;
    size_t n = read_and_check(c, 4 * BIG + 5, 0);
    EXPECT_INT(n, 4 * BIG + 5);
    char ch;
    EXPECT_INT(co_tcp_read(c, &ch, 1), 0);
    return 0;
}

static int cancel_write_main(void *arg)
{
    co_tcp_t *a, *b;
    make_pair(&a, &b);
    /* Nobody reads a yet: the write fills both kernel buffers and waits. */
    wr_ctx w = { .c = b, .len = 4 * BIG };
    co_task_t wt = co_spawn(big_writer, &w);
    until_waiting(wt);
    co_cancel(wt);
    EXPECT_INT(co_await(wt), -ECANCELED); /* its buffer is freed and scribbled on now */
    /* The rest still goes out, in order, before the next write. */
    co_task_t rt = co_spawn(drain_all, a);
    unsigned char tail[5];
    for (size_t i = 0; i < 5; i++) tail[i] = pattern(4 * BIG + i);
    EXPECT_INT(co_tcp_write(b, tail, 5), 0);
    EXPECT_INT(co_tcp_shutdown(b), 0);
    EXPECT_INT(co_await(rt), 0);
    co_tcp_close(a);
    co_tcp_close(b);
    return 0;
}

static void test_cancel_write(void **state) { run(cancel_write_main, NULL); }

/* ------------------------------------------------------------------------ */
/* Accept, names, addresses, misuse                                          */

typedef struct { co_tcp_t *srv; co_tcp_t *got; int r; } acc_ctx;

static int accept_one(void *arg)
{
    acc_ctx *x = arg;
    x->r = co_tcp_accept(x->srv, &x->got);
    return x->r;
}

static int accept_main(void *arg)
{
    int port;
    co_tcp_t *srv = listen_lo(&port);
    /* A cancelled accept takes nothing. */
    acc_ctx x1 = { .srv = srv };
    co_task_t t1 = co_spawn(accept_one, &x1);
    until_waiting(t1);
    co_cancel(t1);
    EXPECT_INT(co_await(t1), -ECANCELED);
    EXPECT_TRUE(x1.got == NULL);
    /* Two waiting acceptors are served in order. */
    acc_ctx x2 = { .srv = srv }, x3 = { .srv = srv };
    co_task_t t2 = co_spawn(accept_one, &x2);
    co_task_t t3 = co_spawn(accept_one, &x3);
    until_waiting(t3);
    co_tcp_t *c1, *c2;
    /* Through the resolver, with a loopback address: "localhost" does not
     * resolve everywhere. */
    EXPECT_INT(co_tcp_connect(&c1, "127.0.0.1", port), 0);
    EXPECT_INT(co_await(t2), 0);
    EXPECT_INT(co_tcp_connect(&c2, "127.0.0.1", port), 0);
    EXPECT_INT(co_await(t3), 0);
    /* Peer of the accepted end is the client's local port. */
    char host[64];
    int pport = 0;
    EXPECT_INT(co_tcp_peer(x2.got, host, sizeof host, &pport), 0);
    EXPECT_INT(strcmp(host, "127.0.0.1"), 0);
    EXPECT_INT(pport, co_tcp_local_port(c1));
    EXPECT_INT(co_tcp_peer(c1, NULL, 0, &pport), 0);
    EXPECT_INT(pport, port);
    EXPECT_TRUE(co_tcp_id(c1) != 0 && co_tcp_id(c1) != co_tcp_id(c2));
    EXPECT_TRUE(co_tcp_uv(c1) != NULL);
    EXPECT_INT(co_tcp_nodelay(c1, 0), 0);
    /* Misuse. */
    char buf[4];
    EXPECT_INT(co_tcp_read(srv, buf, 4), -EINVAL);
    co_tcp_t *none;
    EXPECT_INT(co_tcp_accept(c1, &none), -EINVAL);
    EXPECT_INT(co_tcp_close_reset(srv), -EINVAL);
    /* A second listener on the same port. */
    co_tcp_t *dup = NULL;
    EXPECT_INT(co_tcp_listen(&dup, "127.0.0.1", port, 0), -EADDRINUSE);
    /* A waiting acceptor sees the listener close. */
    acc_ctx x4 = { .srv = srv };
    co_task_t t4 = co_spawn(accept_one, &x4);
    until_waiting(t4);
    co_tcp_close(srv);
    EXPECT_INT(co_await(t4), -EBADF);
    co_tcp_close(x2.got);
    co_tcp_close(x3.got);
    co_tcp_close(c1);
    co_tcp_close(c2);
    return 0;
}

static void test_accept(void **state) { run(accept_main, NULL); }

static void test_outside_task(void **state)
{
    co_loop_t *loop;
    assert_int_equal(co_loop_new(&loop, NULL), 0);
    co_tcp_t *c = NULL;
    assert_int_equal(co_tcp_connect(&c, "127.0.0.1", 9), -EPERM);
    assert_int_equal(co_tcp_listen(&c, "127.0.0.1", 0, 0), -EPERM);
    assert_int_equal(co_loop_free(loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_echo_many),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_reset_write),
        cmocka_unit_test(test_eof),
        cmocka_unit_test(test_close_under_reader),
        cmocka_unit_test(test_buffered),
        cmocka_unit_test(test_cancel_read),
        cmocka_unit_test(test_one_reader),
        cmocka_unit_test(test_read_exact),
        cmocka_unit_test(test_backpressure),
        cmocka_unit_test(test_cancel_write),
        cmocka_unit_test(test_accept),
        cmocka_unit_test(test_outside_task),
    };
    return cmocka_run_group_tests_name("tcp", tests, NULL, NULL);
}
