/* SPDX-License-Identifier: MIT */
/* warn_slow.c -- subject for tests/tracer/warnings.sh: code that holds up
 * the loop or other tasks.  Run under `coscope run --slow-ms 50`.
 *
 * usage: warn_slow step | held
 *
 *   step   `slowpoke` calls the blocking usleep(200 ms) between two awaits:
 *          a `slow_step` warning whose loc and loc2 are the two awaits that
 *          bracket the blocking call.
 *   held   `hoarder` holds the lock `db_lock` while it awaits an unrelated
 *          co_sleep(200): a `lock_held_across_await` warning on db_lock at
 *          the sleep's line.  `patient` queues for db_lock
 *          meanwhile (a long wait on the lock itself, not a warning).
 *
 * Exits 0.  The lines warnings.sh checks carry SL_* markers.
 */
#include "coscope.h"
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static co_lock_t db_lock;

static int slowpoke(void *arg)
{
    co_sleep(1); /* SL_BEFORE */
    usleep(200 * 1000); /* blocks the whole loop */
    co_sleep(1); /* SL_AFTER */
    return 0;
}

static int hoarder(void *arg)
{
    co_lock_acquire(&db_lock);
    co_sleep(200); /* SL_HELD: awaits with db_lock held */
    co_lock_release(&db_lock);
    return 0;
}

static int patient(void *arg)
{
    int r = co_lock_acquire(&db_lock);
    if (r == 0) co_lock_release(&db_lock);
    return r;
}

static int main_task(void *arg)
{
    if (strcmp(arg, "step") == 0) return co_await(co_spawn(slowpoke, NULL));
    co_lock_init(&db_lock);
    co_task_t t[2] = { co_spawn(hoarder, NULL), co_spawn(patient, NULL) };
    int r = co_gather(t, 2, NULL, 0);
    co_lock_destroy(&db_lock);
    return r;
}

int main(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "step") && strcmp(argv[1], "held"))) {
        fprintf(stderr, "usage: warn_slow step|held\n");
        return 2;
    }
    int r = co_run(main_task, argv[1]);
    printf("co_run returned %d\n", r);
    return r == 0 ? 0 : 1;
}
