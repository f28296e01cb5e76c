/* SPDX-License-Identifier: MIT */
/* contention.c -- FAILURE CASE: heavy contention on one lock.
 *
 * The bug: 50 workers record their results through one `stats_lock`, and
 * each holds it across an await (a 4 ms "flush to disk") instead of
 * updating in memory under the lock and flushing outside it.  Every worker
 * is done with its own work at the same moment, then they queue: the last
 * one waits ~200 ms for a 4 ms job, and the whole program takes 50 x 4 ms.
 * No single hold is long (4 ms, far below the 100 ms that makes a "lock
 * held across await" warning); the damage is in the sum, which is what
 * the lock contention figures show.  Exits 0.
 *
 * Run it:
 *     build/coscope run -o t.db -- build/samples/contention
 *     build/coscope report t.db
 *
 * What to look for:
 *   - report: no warnings, but lock contention puts `stats_lock` on top:
 *     50 acquisitions, 49 contended, up to 49 waiters at once, a p99 wait
 *     near 200 ms; the longest waiter is the last worker.
 *   - tui: Resources (2) with stats_lock selected: the queue of 49 waiters
 *     and the holds passing one by one; Timeline (4) shows the staircase of
 *     waits; Enter on any worker shows its long lock wait at CONTENDED_ACQUIRE.
 */
#include "coscope.h"
#include <stdio.h>

#define WORKERS 50

typedef struct stats {
    co_lock_t stats_lock;
    long total;
    int reports;
} stats;

typedef struct worker_arg {
    stats *st;
    int id;
} worker_arg;

static int worker(void *arg)
{
    worker_arg *w = arg;
    int r = co_sleep(10); /* the worker's own job: all finish together */
    if (r < 0) return r;
    r = co_lock_acquire(&w->st->stats_lock); /* CONTENDED_ACQUIRE */
    if (r < 0) return r;
    w->st->total += w->id;
    w->st->reports++;
    r = co_sleep(4); /* BUG: the flush happens with the lock held */
    co_lock_release(&w->st->stats_lock);
    return r;
}

static int amain(void *arg)
{
    static stats st;
    co_lock_init_named(&st.stats_lock, "stats_lock");
    static worker_arg args[WORKERS];
    co_task_t tasks[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        args[i] = (worker_arg){ &st, i + 1 };
        tasks[i] = co_spawn(worker, &args[i]);
        if (!tasks[i].h) return -ENOMEM;
    }
    uint64_t start = co_now_ms();
    int r = co_gather(tasks, WORKERS, NULL, 0);
    if (r < 0) return r;
    uint64_t took = co_now_ms() - start;
    printf("%d reports, total %ld; took %s 150 ms for 10 ms of real work\n", st.reports, st.total,
           took > 150 ? "over" : "under");
    co_lock_destroy(&st.stats_lock);
    return 0;
}

int main(void)
{
    int r = co_run(amain, NULL);
    if (r < 0) {
        fprintf(stderr, "contention: %s\n", co_strerror(r));
        return 1;
    }
    return 0;
}
