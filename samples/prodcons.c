/* SPDX-License-Identifier: MIT */
/* prodcons.c -- producer/consumer over a bounded queue, with a sentinel and
 * co_queue_join.
 *
 * What it shows: one producer makes 12 jobs quickly (5 ms each) and puts
 * them on `jobs`, a queue bounded at 3: when the consumers fall behind, the
 * producer's co_queue_put suspends until there is room (back-pressure).
 * Two consumers take jobs, work 20 ms on each and call co_queue_task_done.
 * main waits for the producer, then co_queue_join waits until every job is
 * task_done, then puts one NULL sentinel per consumer so each one leaves
 * its loop and returns how many jobs it did.
 *
 * Run it:
 *     build/coscope run -o t.db -- build/samples/prodcons
 *     build/coscope report t.db
 *
 * What to look for:
 *   - report: producer and two consumers done (the consumers' results sum
 *     to 12); lock contention lists the queue `jobs` with its max depth 3;
 *     no warnings.
 *   - tui: Resources (2) shows `jobs` with the producer's put waits (queue
 *     full) and the consumers' get waits; Timeline (4) shows the producer
 *     blocked on put while the consumers work; Enter on main shows the join.
 */
#include "coscope.h"
#include <stdint.h>
#include <stdio.h>

#define JOBS 12
#define CONSUMERS 2

static int producer(void *arg)
{
    co_queue_t *jobs = arg;
    for (intptr_t i = 1; i <= JOBS; i++) {
        int r = co_sleep(5); /* make the job */
        if (r == 0) r = co_queue_put(jobs, (void *)i); /* PRODUCER_PUT: waits while the queue is full */
        if (r < 0) return r;
    }
    printf("producer: %d jobs queued\n", JOBS);
    return JOBS;
}

static int consumer(void *arg)
{
    co_queue_t *jobs = arg;
    int done = 0;
    for (;;) {
        void *job;
        int r = co_queue_get(jobs, &job); /* CONSUMER_GET */
        if (r < 0) return r;
        if (!job) { /* the sentinel: no more work */
            co_queue_task_done(jobs);
            return done;
        }
        r = co_sleep(20); /* work on it */
        co_queue_task_done(jobs);
        if (r < 0) return r;
        done++;
    }
}

static int amain(void *arg)
{
    co_queue_t jobs;
    int r = co_queue_init(&jobs, 3);
    if (r < 0) return r;
    co_task_t prod = co_spawn(producer, &jobs);
    co_task_t cons[CONSUMERS];
    for (int i = 0; i < CONSUMERS; i++) {
        char name[32];
        snprintf(name, sizeof name, "consumer %d", i + 1);
        cons[i] = co_spawn_named(name, consumer, &jobs);
    }
    r = co_await(prod);
    if (r >= 0) r = co_queue_join(&jobs); /* JOIN: every job task_done */
    if (r >= 0) printf("all jobs processed\n");
    for (int i = 0; i < CONSUMERS && r >= 0; i++) r = co_queue_put(&jobs, NULL);
    int done[CONSUMERS];
    int g = co_gather(cons, CONSUMERS, done, 0);
    if (r < 0) return r;
    if (g < 0) return g;
    for (int i = 0; i < CONSUMERS; i++) printf("consumer %d did %d jobs\n", i + 1, done[i]);
    co_queue_destroy(&jobs);
    return 0;
}

int main(void)
{
    int r = co_run(amain, NULL);
    if (r < 0) {
        fprintf(stderr, "prodcons: %s\n", co_strerror(r));
        return 1;
    }
    return 0;
}
