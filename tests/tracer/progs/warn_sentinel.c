/* SPDX-License-Identifier: MIT */
/* warn_sentinel.c -- subject for tests/tracer/warnings.sh: a producer that
 * forgets the sentinels.  One story per stuck group (issue 13).
 *
 * usage: warn_sentinel all | some | two
 *
 *   all   `producer` puts 8 jobs on the queue `jobs` and ends without the
 *         NULL sentinel each of the 4 consumers ('consumer 1'..'consumer 4')
 *         needs to leave its loop; main gathers the consumers.  Every task
 *         is asleep: main, and the 4 consumers waiting for an item from
 *         `jobs` -- one group, one story;
 *   some  the same, but the producer puts one sentinel: 'consumer 1' ends,
 *         the other three wait;
 *   two   `all`, and besides a detached `listener` waits on the event
 *         `shutdown_ev` that nobody sets: two stuck groups, two stories.
 *
 * main first makes the lock `config_lock`, which it never uses, so that
 * resource ids take the values of task ids too (see warn_asleep.c).
 *
 * Prints "co_run returned N (text)" and exits 42 if N is -EDEADLK, 1
 * otherwise.  The lines warnings.sh checks carry SN_* markers.
 */
#include "coscope.h"
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define CONSUMERS 4
#define JOBS 8

static co_queue_t jobs;
static co_event_t shutdown_ev;
static co_lock_t config_lock; /* unused: another object, so resource ids overlap task ids */

static int producer(void *arg)
{
    int sentinels = (int)(intptr_t)arg;
    for (intptr_t i = 1; i <= JOBS; i++) {
        int r = co_queue_put(&jobs, (void *)i); /* SN_PUT */
        if (r < 0) return r;
    }
    /* BUG: one NULL per consumer was due here. */
    for (int i = 0; i < sentinels; i++) co_queue_put(&jobs, NULL);
    return 0;
}

static int consumer(void *arg)
{
    int done = 0;
    for (;;) {
        void *job;
        int r = co_queue_get(&jobs, &job); /* SN_GET */
        if (r < 0) return r;
        if (!job) return done;
        done++;
        co_queue_task_done(&jobs);
    }
}

static int listener(void *arg)
{
    return co_event_wait(&shutdown_ev); /* SN_LISTEN */
}

static int main_task(void *arg)
{
    const char *mode = arg;
    co_lock_init(&config_lock);
    co_queue_init(&jobs, 0);
    co_event_init(&shutdown_ev);
    if (strcmp(mode, "two") == 0) co_detach(co_spawn(listener, NULL)); /* SN_LISTENER */
    co_task_t cons[CONSUMERS];
    for (int i = 0; i < CONSUMERS; i++) {
        char name[32];
        snprintf(name, sizeof name, "consumer %d", i + 1);
        cons[i] = co_spawn_named(name, consumer, NULL);
    }
    int r = co_await(co_spawn(producer, (void *)(intptr_t)(strcmp(mode, "some") == 0))); /* SN_PRODUCER */
    if (r < 0) return r;
    int done[CONSUMERS];
    return co_gather(cons, CONSUMERS, done, 0); /* SN_GATHER */
}

int main(int argc, char **argv)
{
    const char *modes[] = { "all", "some", "two" };
    int ok = 0;
    for (int i = 0; argc > 1 && i < 3; i++) ok |= strcmp(argv[1], modes[i]) == 0;
    if (!ok) {
        fprintf(stderr, "usage: warn_sentinel all|some|two\n");
        return 2;
    }
    int r = co_run(main_task, argv[1]);
    printf("co_run returned %d (%s)\n", r, co_strerror(r));
    fflush(stdout);
    return r == -EDEADLK ? 42 : 1;
}
