/* SPDX-License-Identifier: MIT */
/* warn_deadlock.c -- subject for tests/tracer/warnings.sh: the two cycles
 * the runtime refuses with -EDEADLK and records as `deadlock` warnings.
 *
 * usage: warn_deadlock lock | await
 *
 *   lock   lock-order inversion: `transfer_ab` takes accounts_lock then wants
 *          audit_lock, `transfer_ba` takes audit_lock then wants
 *          accounts_lock.  The schedule is deterministic (FIFO ready queue):
 *          transfer_ab waits on audit_lock first, so transfer_ba's acquire is
 *          the one that would close the cycle and returns -EDEADLK; it
 *          backs off (releases audit_lock) and transfer_ab completes.
 *   await  await cycle: `ping` awaits `pong`, which awaits `ping`: pong's
 *          co_await returns -EDEADLK, pong returns, ping's await ends.
 *
 * Prints "NAME: acquire|await returned -N (text)" for the call that failed,
 * and exits 0 when exactly one call got -EDEADLK, 1 otherwise.  The lines
 * warnings.sh checks carry DL_* markers (found with grep -n).
 */
#include "coscope.h"
#include <stdio.h>
#include <string.h>

static co_lock_t accounts_lock, audit_lock;
static int deadlocks;
static co_task_t ping_t, pong_t;

static void saw(const char *who, const char *what, int r)
{
    printf("%s: %s returned %d (%s)\n", who, what, r, co_strerror(r));
    if (r == -EDEADLK) deadlocks++;
}

static int transfer_ab(void *arg)
{
    co_lock_acquire(&accounts_lock);
    co_yield(); /* transfer_ba takes audit_lock meanwhile */
    int r = co_lock_acquire(&audit_lock); /* DL_AB_WAIT */
    if (r < 0) {
        saw("transfer_ab", "acquire", r);
        co_lock_release(&accounts_lock);
        return r;
    }
    co_lock_release(&audit_lock);
    co_lock_release(&accounts_lock);
    return 0;
}

static int transfer_ba(void *arg)
{
    co_lock_acquire(&audit_lock);
    co_yield();
    int r = co_lock_acquire(&accounts_lock); /* DL_BA_WAIT */
    if (r < 0) {
        saw("transfer_ba", "acquire", r);
        co_lock_release(&audit_lock); /* back off: transfer_ab can go on */
        return 0;
    }
    co_lock_release(&accounts_lock);
    co_lock_release(&audit_lock);
    return 0;
}

static int ping(void *arg)
{
    int r = co_await(pong_t); /* DL_PING_AWAIT */
    if (r < 0) saw("ping", "await", r);
    return 0;
}

static int pong(void *arg)
{
    int r = co_await(ping_t); /* DL_PONG_AWAIT */
    if (r < 0) saw("pong", "await", r);
    return 0;
}

static int main_task(void *arg)
{
    const char *mode = arg;
    if (strcmp(mode, "lock") == 0) {
        co_lock_init(&accounts_lock);
        co_lock_init(&audit_lock);
        co_task_t a = co_spawn(transfer_ab, NULL);
        co_task_t b = co_spawn(transfer_ba, NULL);
        int ra = co_await(a);
        int rb = co_await(b);
        if (ra < 0 || rb < 0) return 1;
        co_lock_destroy(&accounts_lock);
        co_lock_destroy(&audit_lock);
        return 0;
    }
    ping_t = co_spawn(ping, NULL);
    pong_t = co_spawn(pong, NULL);
    /* Let the two meet before main awaits ping (a task awaited by main could
     * not be awaited by pong: -EINVAL).  pong is awaited and freed by ping. */
    co_sleep(10);
    return co_await(ping_t) < 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "lock") && strcmp(argv[1], "await"))) {
        fprintf(stderr, "usage: warn_deadlock lock|await\n");
        return 2;
    }
    int r = co_run(main_task, argv[1]);
    printf("co_run returned %d, deadlocks %d\n", r, deadlocks);
    return r == 0 && deadlocks == 1 ? 0 : 1;
}
