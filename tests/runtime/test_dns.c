/* SPDX-License-Identifier: MIT */
/* test_dns.c -- name resolution: localhost resolves to 127.0.0.1, numeric
 * hosts need no lookup (and no task), a bad name fails with a negative code
 * that co_strerror names, a cancelled lookup returns at once and frees its
 * result later, and the calls refuse to run outside a task.  Only names the
 * hosts file answers, so no test touches the network. */
#include "testutil.h"
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>


static int localhost_main(void *arg)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    EXPECT_INT(co_getaddrinfo("localhost", "80", &hints, &res), 0);
    EXPECT_TRUE(res != NULL);
    if (res) {
        EXPECT_INT(res->ai_family, AF_INET);
        struct sockaddr_in *sin = (struct sockaddr_in *)res->ai_addr;
        EXPECT_INT(ntohl(sin->sin_addr.s_addr), INADDR_LOOPBACK);
        EXPECT_INT(ntohs(sin->sin_port), 80);
    }
    co_freeaddrinfo(res);

    /* NULL hints: any family, stream sockets. */
    res = NULL;
    EXPECT_INT(co_getaddrinfo("localhost", NULL, NULL, &res), 0);
    EXPECT_TRUE(res != NULL && res->ai_socktype == SOCK_STREAM);
    co_freeaddrinfo(res);

    /* The first address: 127.0.0.1, or ::1 where the hosts file lists it
     * too (the resolver then sorts it first). */
    struct sockaddr_storage ss;
    EXPECT_INT(co_resolve("localhost", 8080, &ss), 0);
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        EXPECT_TRUE(IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr));
        EXPECT_INT(ntohs(s6->sin6_port), 8080);
    } else {
        EXPECT_INT(ss.ss_family, AF_INET);
        EXPECT_INT(ntohs(((struct sockaddr_in *)&ss)->sin_port), 8080);
        EXPECT_INT(ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr), INADDR_LOOPBACK);
    }
    return 0;
}

/* Resolving the name itself: only where the system resolves it (some
 * containers and CI machines have no "localhost" in their hosts file). */
static void test_localhost(void **state)
{
    struct addrinfo *r = NULL;
    if (getaddrinfo("localhost", NULL, NULL, &r) != 0) {
        fprintf(stderr, "test_localhost: skipped: this system does not resolve \"localhost\"\n");
        skip();
    }
    freeaddrinfo(r);
    run(localhost_main, NULL);
}

static int numeric_main(void *arg)
{
    struct sockaddr_storage ss;
    EXPECT_INT(co_resolve("127.0.0.1", 1, &ss), 0);
    EXPECT_INT(ss.ss_family, AF_INET);
    EXPECT_INT(co_resolve("::1", 65535, &ss), 0);
    EXPECT_INT(ss.ss_family, AF_INET6);
    EXPECT_INT(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), 65535);
    EXPECT_INT(co_resolve(NULL, 0, &ss), 0); /* wildcard */
    EXPECT_INT(ss.ss_family, AF_INET);
    EXPECT_INT(((struct sockaddr_in *)&ss)->sin_addr.s_addr, INADDR_ANY);
    EXPECT_INT(co_resolve("127.0.0.1", 70000, &ss), -EINVAL);
    EXPECT_INT(co_resolve("127.0.0.1", -1, &ss), -EINVAL);
    return 0;
}

static void test_numeric(void **state) { run(numeric_main, NULL); }

static int bad_name_main(void *arg)
{
    /* A numeric-only lookup of a name fails in the resolver itself, never on
     * the network: deterministic wherever the tests run. */
    struct addrinfo hints, *res = (struct addrinfo *)1;
    memset(&hints, 0, sizeof hints);
    hints.ai_flags = AI_NUMERICHOST;
    hints.ai_socktype = SOCK_STREAM;
    int r = co_getaddrinfo("no such host", "80", &hints, &res);
    EXPECT_INT(r, UV_EAI_NONAME);
    EXPECT_TRUE(r < 0);
    EXPECT_TRUE(res == NULL);
    const char *msg = co_strerror(r);
    EXPECT_TRUE(msg != NULL && strlen(msg) > 0 && strcmp(msg, "not an error code") != 0);
    /* An unknown service in the same way. */
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    r = co_getaddrinfo("127.0.0.1", "no-such-service-xyz", &hints, &res);
    EXPECT_TRUE(r < 0);
    /* Neither host nor service. */
    EXPECT_INT(co_getaddrinfo(NULL, NULL, NULL, &res) < 0, 1);
    return 0;
}

static void test_bad_name(void **state) { run(bad_name_main, NULL); }

typedef struct { struct addrinfo *res; int r; } lookup_ctx;

static int lookup(void *arg)
{
    lookup_ctx *x = arg;
    x->r = co_getaddrinfo("127.0.0.1", "80", NULL, &x->res); /* loopback: "localhost" does not resolve everywhere */
    return x->r;
}

static int cancel_main(void *arg)
{
    /* Cancelled while waiting (the lookup is on a pool thread, or queued). */
    lookup_ctx x = { (struct addrinfo *)1, 1 };
    co_task_t t = co_spawn(lookup, &x);
    co_yield(); /* t starts its lookup and waits; no poll happens meanwhile */
    EXPECT_INT(co_task_state_of(t), CO_TASK_WAITING);
    EXPECT_INT(co_cancel(t), 1);
    EXPECT_INT(co_await(t), -ECANCELED);
    EXPECT_TRUE(x.res == NULL);
    /* Cancelled before it started: never submitted past the await. */
    lookup_ctx y = { NULL, 1 };
    t = co_spawn(lookup, &y);
    co_cancel(t);
    EXPECT_INT(co_await(t), -ECANCELED);
    /* A timeout scope already expired: returns at once, lookup freed later. */
    co_timeout_t sc;
    co_timeout_begin(&sc, 0);
    struct addrinfo *res = NULL;
    EXPECT_INT(co_getaddrinfo("127.0.0.1", "80", NULL, &res), -ETIMEDOUT);
    co_timeout_end(&sc);
    /* The loop keeps working; let the orphaned lookups finish (ASan checks
     * that their results are freed). */
    EXPECT_INT(co_getaddrinfo("127.0.0.1", "80", NULL, &res), 0);
    co_freeaddrinfo(res);
    co_sleep(20);
    return 0;
}

static void test_cancel(void **state) { run(cancel_main, NULL); }

static void test_outside_task(void **state)
{
    struct addrinfo *res = NULL;
    assert_int_equal(co_getaddrinfo("localhost", "80", NULL, &res), -EPERM);
    struct sockaddr_storage ss;
    assert_int_equal(co_resolve("127.0.0.1", 80, &ss), 0); /* numeric: no task needed */
    assert_int_equal(co_resolve("localhost", 80, &ss), -EPERM);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_localhost),
        cmocka_unit_test(test_numeric),
        cmocka_unit_test(test_bad_name),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_outside_task),
    };
    return cmocka_run_group_tests_name("dns", tests, NULL, NULL);
}
