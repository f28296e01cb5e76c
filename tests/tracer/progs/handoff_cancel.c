/* SPDX-License-Identifier: MIT */
/* handoff_cancel.c -- subject for tests/tracer/warnings.sh: cancellations
 * that land right after a hand-off (issue 18).  Each waiter is handed what
 * it waited for and cancelled before it runs; it returns what it got.  The
 * trace must show each `cancel` kept after the hand-off, each waiter ended
 * `done` with its result, and no warning at all: nothing is leaked, nobody
 * is stuck, nobody ignored a cancellation.
 *
 *   reader   co_queue_get on `jobs`; main puts 7 and cancels it     -> 7
 *   taker    co_sem_acquire on `slots`; main releases and cancels   -> 1
 *   locker   co_lock_acquire on `ledger`; main releases, cancels    -> 1
 *            (it releases the lock itself)
 *   slow     co_sem_acquire on `slots` under co_wait_for(5 ms); main's
 *            release and the expiry land in one loop turn             -> 1
 *
 * Prints "ok" and exits 0 when every outcome was as above.
 */
#include "coscope.h"
#include <stdio.h>
#include <stdint.h>
#include <unistd.h>

static co_queue_t jobs;
static co_sem_t slots;
static co_lock_t ledger;

static int reader(void *arg)
{
    void *v = NULL;
    int r = co_queue_get(&jobs, &v);
    return r < 0 ? r : (int)(intptr_t)v;
}

static int taker(void *arg)
{
    int r = co_sem_acquire(&slots);
    return r < 0 ? r : 1;
}

static int locker(void *arg)
{
    int r = co_lock_acquire(&ledger);
    if (r < 0) return r;
    co_lock_release(&ledger);
    return 1;
}

static int slow_parent(void *arg)
{
    co_task_t t = co_spawn_named("slow", taker, NULL);
    return co_wait_for(t, 5);
}

static int releaser(void *arg)
{
    co_sleep(5); /* due with slow_parent's expiry, woken first (lower id) */
    return co_sem_release(&slots);
}

static int main_task(void *arg)
{
    int bad = 0;
    co_queue_init(&jobs, 0);
    co_sem_init(&slots, 0);
    co_lock_init(&ledger);

    co_task_t t = co_spawn_named("reader", reader, NULL);
    co_yield();
    co_queue_put(&jobs, (void *)(intptr_t)7);
    co_cancel(t);
    bad |= co_await(t) != 7;

    t = co_spawn_named("taker", taker, NULL);
    co_yield();
    co_sem_release(&slots);
    co_cancel(t);
    bad |= co_await(t) != 1;
    bad |= co_sem_try(&slots) != -EAGAIN; /* the unit is the taker's */
    co_sem_release(&slots);               /* given back on its behalf */
    bad |= co_sem_acquire(&slots) != 0;   /* and there it is */

    co_lock_acquire(&ledger);
    t = co_spawn_named("locker", locker, NULL);
    co_yield();
    co_lock_release(&ledger);
    co_cancel(t);
    bad |= co_await(t) != 1;
    bad |= co_lock_locked(&ledger) != 0;

    co_task_t r = co_spawn_named("releaser", releaser, NULL);
    co_task_t p = co_spawn_named("slow_parent", slow_parent, NULL);
    bad |= co_await(p) != 1;
    bad |= co_await(r) != 0;
    printf(bad ? "FAILED\n" : "ok\n");
    return bad ? -EPROTO : 0;
}

int main(void) { return co_run(main_task, NULL) < 0; }
