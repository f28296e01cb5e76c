/* SPDX-License-Identifier: MIT */
/* sem_leak.c -- FAILURE CASE: a semaphore permit never released.
 *
 * The bug: `db_pool` allows 2 connections at once.  run_query takes a
 * permit, runs the query, and gives the permit back -- except on the
 * timeout path, which returns early and leaks it.  Queries 2 and 3 time
 * out and leak both permits; query 4 then waits for a connection forever.
 * With nothing else left to run, the loop finds every task asleep and
 * co_run returns -EDEADLK, naming the semaphore and the last task that
 * took it.  Exits 1.
 *
 * Run it:
 *     build/coscope run -o t.db -- build/samples/sem_leak
 *     build/coscope report t.db
 *
 * What to look for:
 *   - report: one all_asleep warning: main gathering (QUERIES_GATHER)
 *     'query 4', which waits on semaphore `db_pool` at POOL_ACQUIRE, "last
 *     taken by 'query 3'", since ended.
 *   - tui: Resources (2) on db_pool: two acquisitions with no release
 *     (holds that never end); Warnings (3), Enter on query 4's row; Await
 *     tree (5) at the end: main -> query 4 -> semaphore db_pool.
 */
#include "coscope.h"
#include <stdio.h>

typedef struct query {
    co_sem_t *pool;
    int id;
    int slow; /* this one takes longer than its deadline */
} query;

static int run_query(void *arg)
{
    query *q = arg;
    int r = co_sem_acquire(q->pool); /* POOL_ACQUIRE */
    if (r < 0) return r;
    co_timeout_t deadline;
    co_timeout_begin(&deadline, 30);
    r = co_sleep(q->slow ? 100 : 10); /* QUERY_SLEEP: the query */
    co_timeout_end(&deadline);
    if (r == -ETIMEDOUT) {
        printf("query %d: timed out\n", q->id);
        return r; /* BUG: the permit is never given back */
    }
    co_sem_release(q->pool);
    printf("query %d: ok\n", q->id);
    return r;
}

static int amain(void *arg)
{
    static co_sem_t db_pool;
    co_sem_init(&db_pool, 2);
    static query queries[4] = { { &db_pool, 1, 0 }, { &db_pool, 2, 1 }, { &db_pool, 3, 1 }, { &db_pool, 4, 0 } };
    co_task_t tasks[4];
    for (int i = 0; i < 4; i++) {
        char name[32];
        snprintf(name, sizeof name, "query %d", queries[i].id);
        tasks[i] = co_spawn_named(name, run_query, &queries[i]);
        /* One after the other, so the order of taking permits is fixed. */
        int r = co_sleep(5);
        if (r < 0) return r;
    }
    int results[4];
    return co_gather(tasks, 4, results, CO_GATHER_COLLECT); /* QUERIES_GATHER */
}

int main(void)
{
    int r = co_run(amain, NULL);
    printf("co_run returned %s\n", co_strerror(r));
    return r < 0 ? 1 : 0;
}
