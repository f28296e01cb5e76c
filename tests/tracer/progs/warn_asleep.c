/* SPDX-License-Identifier: MIT */
/* warn_asleep.c -- subject for tests/tracer/warnings.sh: programs in which
 * every task ends up blocked with nothing left (no timer, no I/O, no thread
 * work) that could wake one: Go's "all goroutines are asleep".  co_run must
 * notice, return -EDEADLK and record an `all_asleep` warning per waiting
 * task, instead of hanging.
 *
 * usage: warn_asleep event | qget | qput | sem
 *
 *   event  `waiter` waits on the event `ready_ev` that nobody sets;
 *   qget   `consumer` gets from the empty queue `jobs`, no producer exists;
 *   qput   `producer` puts a second item into the full queue `jobs`
 *          (maxsize 1), nobody drains it;
 *   sem    `taker` takes the only unit of the semaphore `slots` and returns
 *          without releasing it; `waiter` then waits on `slots` forever.
 * In every mode main awaits the blocked task, so main is
 * asleep too.  main first makes the lock `config_lock`, which it never uses,
 * so that resource ids (numbered apart from task ids) take the values of the
 * task ids too: a warning on a task wait must not be read as one on the
 * resource with the same number.
 *
 * Prints "co_run returned N (text)" and exits 42 if N is -EDEADLK, 1
 * otherwise.  The lines warnings.sh checks carry AS_* markers.
 */
#include "coscope.h"
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static co_event_t ready_ev;
static co_queue_t jobs;
static co_sem_t slots;
static co_lock_t config_lock; /* unused: another object, so resource ids overlap task ids */

static int waiter(void *arg)
{
    if (arg) return co_sem_acquire(&slots); /* AS_SEM_WAIT */
    return co_event_wait(&ready_ev); /* AS_EVENT_WAIT */
}

static int consumer(void *arg)
{
    void *item;
    return co_queue_get(&jobs, &item); /* AS_QGET_WAIT */
}

static int producer(void *arg)
{
    co_queue_put(&jobs, (void *)1); /* room for one: does not wait */
    return co_queue_put(&jobs, (void *)2); /* AS_QPUT_WAIT */
}

static int taker(void *arg)
{
    return co_sem_acquire(&slots); /* AS_SEM_TAKE: never released */
}

static int main_task(void *arg)
{
    const char *mode = arg;
    co_task_t t;
    co_lock_init(&config_lock);
    if (strcmp(mode, "event") == 0) {
        co_event_init(&ready_ev);
        t = co_spawn(waiter, NULL);
    } else if (strcmp(mode, "qget") == 0) {
        co_queue_init(&jobs, 0);
        t = co_spawn(consumer, NULL);
    } else if (strcmp(mode, "qput") == 0) {
        co_queue_init(&jobs, 1);
        t = co_spawn(producer, NULL);
    } else {
        co_sem_init(&slots, 1);
        co_await(co_spawn(taker, NULL));
        t = co_spawn(waiter, (void *)1);
    }
    return co_await(t); /* AS_MAIN_AWAIT */
}

int main(int argc, char **argv)
{
    const char *modes[] = { "event", "qget", "qput", "sem" };
    int ok = 0;
    for (int i = 0; argc > 1 && i < 4; i++) ok |= strcmp(argv[1], modes[i]) == 0;
    if (!ok) {
        fprintf(stderr, "usage: warn_asleep event|qget|qput|sem\n");
        return 2;
    }
    int r = co_run(main_task, argv[1]);
    printf("co_run returned %d (%s)\n", r, co_strerror(r));
    fflush(stdout);
    return r == -EDEADLK ? 42 : 1;
}
