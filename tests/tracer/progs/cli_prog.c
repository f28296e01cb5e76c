/* SPDX-License-Identifier: MIT */
/* cli_prog.c -- subject for tests/tracer/cli.sh: a small program whose trace
 * has a bit of everything the report, sql and export commands show, with
 * known names so the test can look for them.
 *
 *   - four `worker` tasks contend `db_lock`, each holding it across a sleep,
 *     so the lock has contended acquisitions and several waiters at once;
 *   - three `pooler` tasks share the semaphore `pool` (value 2);
 *   - `producer` puts 8 items into the bounded queue `jobs` (maxsize 2) that
 *     `consumer` takes slowly, so the queue depth moves and the producer waits;
 *   - `parent` spawns two `child` tasks and awaits each (CO_WAIT_TASK), the
 *     children log lines;
 *   - everything is gathered by main.
 *
 * usage: cli_prog [slow] [crash]
 *   slow   one task (`spinner`) runs 40 ms without awaiting: with
 *          `coscope run --slow-ms 20` that is a slow_step warning;
 *   crash  abort() while tasks are still waiting, so the trace has tasks
 *          that never finished.
 */
#include "coscope.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static co_lock_t db_lock;
static co_sem_t pool;
static co_queue_t jobs;
static int slow, crash;

static int worker(void *arg)
{
    int r = co_lock_acquire(&db_lock);
    if (r < 0) return r;
    co_sleep(2); /* held across the sleep: the others queue up */
    co_lock_release(&db_lock);
    return 0;
}

static int pooler(void *arg)
{
    int r = co_sem_acquire(&pool);
    if (r < 0) return r;
    co_sleep(1);
    co_sem_release(&pool);
    return 0;
}

static int producer(void *arg)
{
    for (intptr_t i = 1; i <= 8; i++) {
        int r = co_queue_put(&jobs, (void *)i);
        if (r < 0) return r;
    }
    return 0;
}

static int consumer(void *arg)
{
    intptr_t sum = 0;
    for (int i = 0; i < 8; i++) {
        void *item;
        int r = co_queue_get(&jobs, &item);
        if (r < 0) return r;
        sum += (intptr_t)item;
        co_sleep(1);
    }
    return (int)sum;
}

static int child(void *arg)
{
    co_log("child %d starting", (int)(intptr_t)arg);
    co_sleep(1 + (int)(intptr_t)arg);
    co_log("child %d done", (int)(intptr_t)arg);
    return (int)(intptr_t)arg;
}

static int parent(void *arg)
{
    co_task_t a = co_spawn(child, (void *)1);
    co_task_t b = co_spawn(child, (void *)2);
    int ra = co_await(a);
    int rb = co_await(b);
    return ra + rb;
}

static int spinner(void *arg)
{
    co_yield();
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do clock_gettime(CLOCK_MONOTONIC, &t);
    while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < 40000000L);
    co_yield();
    return 0;
}

static int main_task(void *arg)
{
    co_task_t t[16];
    size_t n = 0;
    for (int i = 0; i < 4; i++) t[n++] = co_spawn(worker, NULL);
    for (int i = 0; i < 3; i++) t[n++] = co_spawn(pooler, NULL);
    t[n++] = co_spawn(producer, NULL);
    t[n++] = co_spawn(consumer, NULL);
    t[n++] = co_spawn(parent, NULL);
    if (slow) t[n++] = co_spawn(spinner, NULL);
    if (crash) {
        co_sleep(1); /* everyone is now waiting on something */
        abort();
    }
    int results[16];
    return co_gather(t, n, results, 0);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "slow")) slow = 1;
        else if (!strcmp(argv[i], "crash")) crash = 1;
    }
    co_lock_init(&db_lock);
    co_sem_init(&pool, 2);
    co_queue_init(&jobs, 2);
    int r = co_run(main_task, NULL);
    return r < 0 ? 1 : 0;
}
