/* SPDX-License-Identifier: MIT */
/* waiters.c -- not a figure of its own: the program whose trace bench/tui
 * reads for the views that list resources.  100,000 tasks wait on 40
 * events, which main sets one by one, 1 ms apart: at most cursor times
 * tens of thousands of tasks wait on each resource shown, which is what
 * makes a Resources frame or an await tree cost what the trace holds if
 * the model scans per row.  A lock and a queue are used meanwhile so
 * the resource details have holds and a depth to show.
 *
 * Usage: waiters [--scale F]    prints tasks=N */
#include "bench.h"
#include <stdint.h>

#define TASKS 100000
#define EVENTS 40

static co_event_t ev[EVENTS];
static co_lock_t lock;
static co_queue_t q;
static size_t ntasks = TASKS;

static int waiter(void *arg)
{
    intptr_t i = (intptr_t)arg;
    int r = co_event_wait(&ev[i % EVENTS]);
    if (r < 0) return r;
    if (i % 1000 == 0) {
        if ((r = co_lock_acquire(&lock)) < 0) return r;
        co_yield();
        co_lock_release(&lock);
        co_queue_put_nowait(&q, (void *)arg);
    }
    return 0;
}

static int drainer(void *arg)
{
    (void)arg;
    for (size_t k = 0; k < (ntasks + 999) / 1000; k++) {
        void *x;
        int r = co_queue_get(&q, &x);
        if (r < 0) return r;
        co_sleep(0);
    }
    return 0;
}

static int bench_main(void *arg)
{
    (void)arg;
    co_lock_init(&lock);
    int r = co_queue_init(&q, 0);
    if (r < 0) return r;
    for (int e = 0; e < EVENTS; e++) co_event_init(&ev[e]);
    co_task_t *h = malloc((ntasks + 1) * sizeof *h);
    if (!h) return -ENOMEM;
    h[ntasks] = co_spawn(drainer, NULL);
    for (size_t i = 0; i < ntasks; i++) h[i] = co_spawn(waiter, (void *)(intptr_t)i);
    co_sleep(5);
    for (int e = 0; e < EVENTS; e++) {
        co_event_set(&ev[e]);
        co_sleep(1);
    }
    r = co_gather(h, ntasks + 1, NULL, 0);
    free(h);
    return r;
}

int main(int argc, char **argv)
{
    double scale = 1.0;
    bench_args(argc, argv, NULL, &scale);
    ntasks = (size_t)(TASKS * scale);
    if (ntasks < 1) ntasks = 1;
    int r = co_run(bench_main, NULL);
    if (r < 0) {
        fprintf(stderr, "waiters: %s\n", co_strerror(r));
        return 1;
    }
    printf("tasks=%zu\n", ntasks);
    return 0;
}
