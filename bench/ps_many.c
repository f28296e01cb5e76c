/* SPDX-License-Identifier: MIT */
/* ps_many.c -- the subject for `coscope ps PID` at scale (issue 20: ps
 * within 1 s and the process paused at most 100 ms on 100k tasks).
 * 100,000 tasks under distinct names wait on 100 events, 100 locks held
 * by 100 of them, a queue and timers, then the program prints "ready"
 * and its pid and waits until killed.  Measure with
 *
 *   build/bench/ps_many & sleep 2; time build/coscope ps --timing $! > /dev/null
 *
 * Usage: ps_many [N] */
#include "coscope.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define GROUPS 100

static co_event_t ev[GROUPS];
static co_lock_t locks[GROUPS];
static co_queue_t q;
static long ntasks = 100000;

static int worker(void *arg)
{
    intptr_t i = (intptr_t)arg;
    switch (i % 4) {
    case 0: return co_event_wait(&ev[i % GROUPS]);
    case 1: {
        int r = co_lock_acquire(&locks[i % GROUPS]); /* the first of each holds it */
        if (r < 0) return r;
        return co_event_wait(&ev[i % GROUPS]);
    }
    case 2: { void *x; return co_queue_get(&q, &x); }
    default: return co_sleep(3600000);
    }
}

static int main_task(void *arg)
{
    for (int i = 0; i < GROUPS; i++) {
        co_event_init(&ev[i]);
        co_lock_init(&locks[i]);
    }
    co_queue_init(&q, 0);
    co_task_t *t = malloc((size_t)ntasks * sizeof *t);
    if (!t) return -ENOMEM;
    char name[32];
    for (long i = 0; i < ntasks; i++) {
        snprintf(name, sizeof name, "worker-%ld", i);
        t[i] = co_spawn_named(name, worker, (void *)(intptr_t)i);
    }
    co_sleep(50);
    printf("ready %d tasks=%ld\n", (int)getpid(), ntasks);
    fflush(stdout);
    return co_gather(t, (size_t)ntasks, NULL, 0);
}

int main(int argc, char **argv)
{
    if (argc > 1) ntasks = atol(argv[1]);
    return co_run(main_task, NULL) < 0;
}
