/* SPDX-License-Identifier: MIT */
/* showcase.c -- a small crawler service, for a tour of the TUI.
 *
 * What it is: a site of 72 pages served by an HTTP server this program
 * starts on 127.0.0.1 (any free port), and a crawler that walks it from
 * /page/0, following links:
 *
 *   frontier  (queue, unbounded)  URLs still to fetch; co_queue_join tells
 *                                 main when the crawl is complete
 *   crawler 1..6                  the worker pool: get a URL, fetch it,
 *                                 parse its links, record them in the cache
 *   rate_limit (semaphore, 3)     at most 3 requests to the site at a time
 *   cache_lock (lock)             guards `seen`, the set of known pages
 *   results   (queue, 8)          parsed pages, to the indexer
 *   indexer                       totals the pages, bytes and links
 *   http_server, serve_one        the site: 40-120 ms per page
 *
 * Two problems are planted, to have something to find:
 *   - SLOWNESS: page 13 is "huge"; its links are extracted by a blocking
 *     call (usleep 150 ms, standing for a synchronous HTML parser) inside
 *     the crawler task -- and under cache_lock.  Every task freezes for
 *     150 ms: a slow_step warning that ends at the await marked
 *     SHOWCASE_CACHE_PERSIST (and starts at SHOWCASE_CACHE_ACQUIRE, or at
 *     SHOWCASE_YIELD if the lock was free).
 *   - CONTENTION: after recording a page's links, the crawler "persists the
 *     cache" (a 20 ms await) while still holding cache_lock, so the
 *     crawlers queue up on it.  Each hold is short (below the 100 ms of a
 *     "lock held across await" warning), but they add up: cache_lock's
 *     waits show in the lock contention table.
 * Runs about 2-3 s and exits 0 once all 72 pages are indexed.
 *
 * Run it:
 *     build/coscope run -o t.db -- build/samples/showcase
 *     build/coscope report t.db
 *
 * What to look for:
 *   - report: one slow_step warning (a crawler, ~150 ms); lock contention:
 *     rate_limit with 3 crawlers always queued behind it, cache_lock with
 *     half of its 72 acquisitions contended and a 170 ms longest hold (the
 *     slow step), frontier and results with their waits; busiest tasks.
 *   - tui: Tasks (1): the six crawlers, 72 serve_one handlers, indexer;
 *     Warnings (3): the slow step, Enter opens the crawler that did it;
 *     Resources (2): cache_lock's waits and holds, rate_limit; Timeline (4):
 *     the 150 ms freeze across every task, and the crawlers' steady
 *     pattern of semaphore, tcp and lock waits; Await tree (5) mid-run:
 *     main -> frontier join, crawlers -> rate_limit / tcp_read /
 *     cache_lock, the indexer -> results.
 */
#include "coscope.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PAGES 72
#define CRAWLERS 6
#define MAX_REQUESTS 3
#define HUGE_PAGE 13
#define CACHE_PERSIST_MS 20

/* ---- the site ------------------------------------------------------------- */

/* Each page links to three others; following the links reaches every page. */
static void page_links(int page, int links[3])
{
    links[0] = (page + 1) % PAGES;
    links[1] = (page * 3 + 1) % PAGES;
    links[2] = (page * 7 + 2) % PAGES;
}

static int page_latency_ms(int page) { return 40 + (page * 37) % 80; }

/* Close right after the write: co_tcp_write returns once the kernel has
 * every byte, and the kernel sends them before the FIN.  So the handler has
 * ended by the time the client reads the end of the reply. */
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
    int page;
    char resp[1024], body[768];
    int found = sscanf(req, "GET /page/%d ", &page) == 1 && page >= 0 && page < PAGES;
    int blen;
    if (found) {
        int links[3];
        page_links(page, links);
        r = co_sleep(page_latency_ms(page)); /* render the page */
        if (r < 0) goto out;
        blen = snprintf(body, sizeof body,
                        "<html><title>Page %d</title><body><p>Text of page %d.</p>"
                        "<a href=\"/page/%d\">next</a> <a href=\"/page/%d\">see also</a> "
                        "<a href=\"/page/%d\">more</a></body></html>\n",
                        page, page, links[0], links[1], links[2]);
    } else {
        blen = snprintf(body, sizeof body, "not found\n");
    }
    int n = snprintf(resp, sizeof resp, "HTTP/1.0 %s\r\nContent-Length: %d\r\n\r\n%s",
                     found ? "200 OK" : "404 Not Found", blen, body);
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
        int r = co_tcp_accept(listener, &conn); /* main cancels us here */
        if (r < 0) return r;
        co_task_t handler = co_spawn(serve_one, conn);
        if (!handler.h) {
            co_tcp_close(conn);
            continue;
        }
        co_detach(handler);
    }
}

/* ---- the crawler ------------------------------------------------------------ */

typedef struct crawl {
    int port;
    co_queue_t frontier, results;
    co_sem_t rate_limit;
    co_lock_t cache_lock;
    unsigned char seen[PAGES]; /* under cache_lock */
    int cache_writes;
} crawl;

typedef struct page_result {
    int page;
    int bytes;
    int new_links;
} page_result;

/* GET path; the body (NUL-terminated) into body.  The HTTP status or a
 * negative errno. */
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
        r = co_tcp_read(conn, buf + len, sizeof buf - 1 - len);
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

/* Link extraction.  Plain string work, except for the huge page, where it
 * stands for a synchronous HTML parser that takes 150 ms: called from a
 * task, it blocks the loop (the fix would be co_to_thread, outside the
 * lock). */
static void parse_huge_page(int page)
{
    if (page == HUGE_PAGE) usleep(150 * 1000); /* SHOWCASE_BLOCKING */
}

/* Record the page's links in the cache; queue the new ones.  Returns how
 * many were new. */
static int record_links(crawl *c, int page, const char *body)
{
    int r = co_lock_acquire(&c->cache_lock); /* SHOWCASE_CACHE_ACQUIRE */
    if (r < 0) return r;
    parse_huge_page(page); /* SLOWNESS: blocks the loop, with the lock held */
    int fresh = 0;
    for (const char *p = body; (p = strstr(p, "href=\"/page/")); p++) {
        int link = atoi(p + strlen("href=\"/page/"));
        if (link < 0 || link >= PAGES || c->seen[link]) continue;
        c->seen[link] = 1;
        fresh++;
        /* Unbounded: never suspends, so the lock is not held across it. */
        co_queue_put_nowait(&c->frontier, (void *)(intptr_t)(link + 1));
    }
    /* CONTENTION: the snapshot is written with the lock still held. */
    r = co_sleep(CACHE_PERSIST_MS); /* SHOWCASE_CACHE_PERSIST */
    c->cache_writes++;
    co_lock_release(&c->cache_lock);
    return r < 0 ? r : fresh;
}

static int crawl_one(crawl *c, int page)
{
    char path[32], body[1024];
    snprintf(path, sizeof path, "/page/%d", page);
    int r = co_sem_acquire(&c->rate_limit); /* SHOWCASE_RATE_LIMIT */
    if (r < 0) return r;
    r = http_get(c->port, path, body, sizeof body);
    co_sem_release(&c->rate_limit);
    if (r < 0) return r;
    if (r != 200) return -EPROTO;

    /* Let the other crawlers run before the CPU work of parsing. */
    r = co_yield(); /* SHOWCASE_YIELD */
    if (r < 0) return r;
    int fresh = record_links(c, page, body);
    if (fresh < 0) return fresh;

    page_result *res = malloc(sizeof *res);
    if (!res) return -ENOMEM;
    *res = (page_result){ page, (int)strlen(body), fresh };
    r = co_queue_put(&c->results, res); /* waits while the indexer is behind */
    if (r < 0) free(res);
    return r;
}

static int crawler(void *arg)
{
    crawl *c = arg;
    int pages = 0;
    for (;;) {
        void *item;
        int r = co_queue_get(&c->frontier, &item);
        if (r < 0) return r;
        if (!item) { /* sentinel: the crawl is over */
            co_queue_task_done(&c->frontier);
            return pages;
        }
        r = crawl_one(c, (int)(intptr_t)item - 1);
        /* Done with this URL either way; its links are queued already, so
         * the frontier's join cannot end early. */
        co_queue_task_done(&c->frontier);
        if (r < 0) return r;
        pages++;
    }
}

typedef struct index_totals {
    int pages, bytes, links;
} index_totals;

static int indexer(void *arg)
{
    crawl *c = arg;
    static index_totals totals;
    for (;;) {
        void *item;
        int r = co_queue_get(&c->results, &item);
        if (r < 0) return r;
        if (!item) break;
        page_result *res = item;
        totals.pages++;
        totals.bytes += res->bytes;
        totals.links += res->new_links;
        if (totals.pages % 20 == 0) co_log("indexed %d pages", totals.pages);
        free(res);
    }
    printf("indexer: %d pages, %d bytes, %d links discovered\n", totals.pages, totals.bytes, totals.links);
    return totals.pages;
}

static int amain(void *arg)
{
    static crawl c;
    co_tcp_t *listener;
    int r = co_tcp_listen(&listener, "127.0.0.1", 0, 0);
    if (r < 0) return r;
    c.port = co_tcp_local_port(listener);
    co_task_t server = co_spawn(http_server, listener);

    if ((r = co_queue_init_named(&c.frontier, 0, "frontier")) < 0) return r;
    if ((r = co_queue_init_named(&c.results, 8, "results")) < 0) return r;
    co_sem_init_named(&c.rate_limit, MAX_REQUESTS, "rate_limit");
    co_lock_init_named(&c.cache_lock, "cache_lock");

    c.seen[0] = 1;
    co_queue_put_nowait(&c.frontier, (void *)(intptr_t)1); /* page 0, stored as page + 1: NULL is the sentinel */
    co_task_t index = co_spawn(indexer, &c);
    co_task_t crawlers[CRAWLERS];
    for (int i = 0; i < CRAWLERS; i++) {
        char name[32];
        snprintf(name, sizeof name, "crawler %d", i + 1);
        crawlers[i] = co_spawn_named(name, crawler, &c);
    }
    uint64_t start = co_now_ms();
    r = co_queue_join(&c.frontier); /* every URL fetched and parsed */
    for (int i = 0; i < CRAWLERS && r >= 0; i++) r = co_queue_put(&c.frontier, NULL);
    int pages[CRAWLERS];
    int g = co_gather(crawlers, CRAWLERS, pages, 0);
    if (r >= 0) r = g;
    if (r >= 0) r = co_queue_put(&c.results, NULL);
    int indexed = co_await(index);
    co_cancel(server);
    co_await(server);
    co_tcp_close(listener);
    if (r < 0) return r;
    if (indexed < 0) return indexed;

    printf("crawled %d pages in %.1f s with %d crawlers:", indexed, (co_now_ms() - start) / 1000.0, CRAWLERS);
    for (int i = 0; i < CRAWLERS; i++) printf(" %d", pages[i]);
    printf("\ncache written %d times\n", c.cache_writes);
    return indexed == PAGES ? 0 : -EIO;
}

int main(void)
{
    int r = co_run(amain, NULL);
    if (r < 0) {
        fprintf(stderr, "showcase: %s\n", co_strerror(r));
        return 1;
    }
    return 0;
}
