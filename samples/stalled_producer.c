/* SPDX-License-Identifier: MIT */
/* stalled_producer.c -- FAILURE CASE: a producer stalled because its
 * consumer died.
 *
 * The bug: the producer fills `orders`, a queue bounded at 4, and the one
 * consumer ships them.  Order 3 is malformed: the consumer fails on it
 * with -EPROTO and returns -- nobody awaits it, so its error is not
 * noticed.  The producer goes on until the queue is full and then waits
 * for room that will never come; main waits for the producer.  Every task
 * is asleep: co_run returns -EDEADLK (asyncio would hang).  Exits 1.
 *
 * Run it:
 *     build/coscope run -o t.db -- build/samples/stalled_producer
 *     build/coscope report t.db
 *
 * What to look for:
 *   - report: one all_asleep warning: main awaiting the producer
 *     (PRODUCER_AWAIT), which waits for room in queue `orders` at
 *     STALLED_PUT "that nobody will make: its consumer 'consumer' (#2)
 *     ended"; unretrieved_error on consumer (failed with 'protocol error',
 *     at its spawn line CONSUMER_SPAWN): the cause.
 *   - tui: Warnings (3) shows cause and effect together; Resources (2) on
 *     `orders`: depth 4, the last get at order 3; Timeline (4) shows the
 *     consumer ending and the producer's put never returning.
 */
#include "coscope.h"
#include <stdint.h>
#include <stdio.h>

#define ORDERS 10
#define MALFORMED 3

static int producer(void *arg)
{
    co_queue_t *orders = arg;
    for (intptr_t id = 1; id <= ORDERS; id++) {
        int r = co_sleep(2); /* take the order */
        if (r == 0) r = co_queue_put(orders, (void *)id); /* STALLED_PUT */
        if (r < 0) return r;
        printf("producer: order %d queued\n", (int)id);
    }
    return 0;
}

static int consumer(void *arg)
{
    co_queue_t *orders = arg;
    for (;;) {
        void *item;
        int r = co_queue_get(orders, &item);
        if (r < 0) return r;
        int id = (int)(intptr_t)item;
        if (id == MALFORMED) return -EPROTO; /* dies; the producer is never told */
        r = co_sleep(5); /* ship it */
        co_queue_task_done(orders);
        if (r < 0) return r;
        printf("consumer: order %d shipped\n", id);
    }
}

static int amain(void *arg)
{
    static co_queue_t orders;
    int r = co_queue_init(&orders, 4);
    if (r < 0) return r;
    co_spawn(consumer, &orders); /* CONSUMER_SPAWN: BUG, never awaited */
    co_task_t prod = co_spawn(producer, &orders);
    return co_await(prod); /* PRODUCER_AWAIT */
}

int main(void)
{
    int r = co_run(amain, NULL);
    printf("co_run returned %s\n", co_strerror(r));
    return r < 0 ? 1 : 0;
}
