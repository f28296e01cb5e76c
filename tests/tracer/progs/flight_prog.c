/* SPDX-License-Identifier: MIT */
/* flight_prog.c -- subject for tests/tracer/flight.sh: a small service
 * under the flight recorder.
 *
 * usage: flight_prog MODE MS [PATH]
 *
 * Every mode first spawns the long-lived tasks a window must open with
 * (spawned long before it): `holder` holds the lock `db_lock` and waits on
 * the event `never_set` (FL_HOLDER_WAIT), `blocked` waits on `db_lock`
 * (FL_BLOCKED_WAIT), `consumer` gets from the empty queue `jobs`
 * (FL_CONSUMER_WAIT); then `ticker` spawns a short `job` every 2 ms (takes
 * the lock `work`, marks "job", yields) for MS milliseconds, and:
 *
 *   deadlock  `alpha` takes `lock_a` then wants `lock_b`, `beta` takes
 *             `lock_b` then wants `lock_a`: the second is refused
 *             (-EDEADLK, the deadlock warning) and its task then waits on
 *             `never_set` for good (FL_BETA_HANG), `alpha` waits on
 *             `lock_b` (FL_ALPHA_WAIT): the service hangs.  Prints "hung".
 *   slow      `hog` blocks the loop for 300 ms in one step (FL_HOG).
 *   stuck     `stuck` blocks the loop for good (FL_STUCK); prints "stuck".
 *   asleep    `keeper` cancelled, main gets from `jobs` too: every task is
 *             asleep, and the runtime says so and ends the run.
 *   crash     marks "before fault", then `faulty` writes to address 16.
 *   abort     the same, but `aborter` calls abort() (FL_ABORT): a failed
 *             assert.
 *   flood     no ticker: `flooder` marks and yields as fast as it can for
 *             MS ms, then co_flight_dump(PATH); prints the stats.
 *   api       after MS ms of ticks: co_flight_dump(PATH), then two
 *             co_flight_dump(NULL) (the second rate-limited); prints the
 *             stats once the first dumps are written, and ends.
 *   serve     ticks for good (signal and `coscope dump` tests).
 *   crowd     first spawns FL_CROWD (default 12000) `sleeper` tasks, each
 *             asleep for good (FL_SLEEPER_WAIT): a snapshot of more
 *             records than one chunk holds; then as api, one dump only.
 *
 * COSCOPE_FLIGHT in the environment starts the recorder (deadlock,
 * crash); otherwise co_flight_start(FL_WINDOW_MS or 1000, FL_BYTES or
 * 64 MiB).  A sleeping task keeps the loop alive, so the runtime's
 * all-asleep check stays out of it. */
#include "coscope.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static co_lock_t db_lock, work, lock_a, lock_b;
static co_event_t never_set;
static co_queue_t jobs;
static const char *mode, *path;
static long ms;

static void say(const char *s)
{
    printf("%s\n", s);
    fflush(stdout);
}

static void stats(void)
{
    co_flight_stats_t s;
    co_flight_stats(&s);
    printf("bytes=%llu\nbytes_peak=%llu\nmax_bytes=%llu\nevents=%llu\nperiods_dropped=%llu\nlost=%llu\n"
           "dumps=%llu\ndumps_failed=%llu\ndumps_limited=%llu\n",
           (unsigned long long)s.bytes, (unsigned long long)s.bytes_peak, (unsigned long long)s.max_bytes,
           (unsigned long long)s.events, (unsigned long long)s.periods_dropped, (unsigned long long)s.lost,
           (unsigned long long)s.dumps, (unsigned long long)s.dumps_failed, (unsigned long long)s.dumps_limited);
    fflush(stdout);
}

static int holder(void *arg)
{
    co_lock_acquire(&db_lock);
    return co_event_wait(&never_set); /* FL_HOLDER_WAIT */
}

static int blocked(void *arg)
{
    return co_lock_acquire(&db_lock); /* FL_BLOCKED_WAIT */
}

static int consumer(void *arg)
{
    void *item;
    return co_queue_get(&jobs, &item); /* FL_CONSUMER_WAIT */
}

static int keeper(void *arg)
{
    return co_sleep(3600000); /* FL_KEEPER_WAIT */
}

static int sleeper(void *arg)
{
    return co_sleep(3600000); /* FL_SLEEPER_WAIT */
}

static int job(void *arg)
{
    if (co_lock_acquire(&work) < 0) return -1;
    co_mark("job");
    co_yield();
    co_lock_release(&work);
    return 0;
}

static void tick_for(long n_ms)
{
    uint64_t end = co_now_ms() + (uint64_t)n_ms;
    while (n_ms < 0 || co_now_ms() < end) {
        co_detach(co_spawn(job, NULL));
        co_sleep(2);
    }
}

static int alpha(void *arg)
{
    co_lock_acquire(&lock_a);
    co_sleep(20);
    return co_lock_acquire(&lock_b); /* FL_ALPHA_WAIT */
}

static int beta(void *arg)
{
    co_lock_acquire(&lock_b);
    co_sleep(40);
    if (co_lock_acquire(&lock_a) == -EDEADLK) /* FL_BETA_REFUSED */
        return co_event_wait(&never_set);  /* FL_BETA_HANG: the bug: it waits for good, holding lock_b */
    return 0;
}

/* Below mmap_min_addr, so never mapped; not NULL, which UBSan (make
 * check) would catch first; volatile, so the compiler cannot see the store
 * is bad (as progs/crash.c). */
static int *volatile nowhere = (int *)16;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int hog(void *arg)
{
    double end = now_s() + 0.3; /* not co_now_ms: the loop's clock stands still while it is blocked */
    while (now_s() < end) {} /* FL_HOG: blocks the loop for 300 ms */
    return 0;
}

static volatile unsigned long spins;

static int stuck(void *arg)
{
    say("stuck");
    for (;;) spins++; /* FL_STUCK: the loop never gets back */
    return 0;
}

static int aborter(void *arg)
{
    co_mark("before fault");
    co_yield();
    abort(); /* FL_ABORT */
}

static int faulty(void *arg)
{
    co_mark("before fault");
    co_yield();
    *nowhere = 1; /* FL_FAULT */
    return 0;
}

static int flooder(void *arg)
{
    uint64_t end = co_now_ms() + (uint64_t)ms;
    while (co_now_ms() < end)
        for (int i = 0; i < 1000; i++) {
            co_mark("flood");
            co_yield();
        }
    return 0;
}

/* Up to 30 s: a dump under make check's sanitizers on a loaded host took
 * more than 4. */
static void wait_file(const char *p)
{
    for (int i = 0; i < 3000 && access(p, F_OK) != 0; i++) co_sleep(10);
}

static int main_task(void *arg)
{
    co_lock_init(&db_lock);
    co_lock_init(&work);
    co_lock_init(&lock_a);
    co_lock_init(&lock_b);
    co_event_init(&never_set);
    co_queue_init(&jobs, 0);
    co_task_t k = co_spawn(keeper, NULL);
    co_spawn(holder, NULL);
    co_sleep(5);
    co_spawn(blocked, NULL);
    co_spawn(consumer, NULL);
    co_sleep(5);
    if (!strcmp(mode, "crowd")) {
        const char *n = getenv("FL_CROWD");
        for (long i = n ? atol(n) : 12000; i > 0; i--) co_detach(co_spawn(sleeper, NULL));
        co_sleep(5);
    }
    say("ready");
    if (!strcmp(mode, "flood")) {
        co_await(co_spawn(flooder, NULL));
        co_flight_dump(path);
        wait_file(path);
        co_sleep(100); /* the helper's figures after the dump */
        stats();
        return 0;
    }
    if (!strcmp(mode, "serve")) {
        tick_for(-1);
        return 0;
    }
    tick_for(ms);
    if (!strcmp(mode, "deadlock")) {
        co_task_t a = co_spawn(alpha, NULL), b = co_spawn(beta, NULL);
        co_sleep(100);
        say("hung");
        co_await(a);
        co_await(b);
    } else if (!strcmp(mode, "slow")) {
        co_await(co_spawn(hog, NULL));
        co_sleep(300);
        say("slowed");
        return 0;
    } else if (!strcmp(mode, "stuck")) {
        co_await(co_spawn(stuck, NULL));
    } else if (!strcmp(mode, "asleep")) {
        co_cancel(k); /* nothing left that can wake anyone */
        co_await(k);
        void *item;
        return co_queue_get(&jobs, &item); /* FL_MAIN_ASLEEP */
    } else if (!strcmp(mode, "crash")) {
        co_mark("before fault");
        co_await(co_spawn(faulty, NULL));
    } else if (!strcmp(mode, "abort")) {
        co_mark("before fault");
        co_await(co_spawn(aborter, NULL));
    } else if (!strcmp(mode, "crowd")) {
        int r = co_flight_dump(path);
        printf("crowd=%d\n", r);
        wait_file(path);
        co_sleep(300);
        stats();
        say("dumped");
        return 0;
    } else if (!strcmp(mode, "api")) {
        int r1 = co_flight_dump(path);
        int r2 = co_flight_dump(NULL);
        int r3 = co_flight_dump(NULL);
        printf("api=%d %d %d\n", r1, r2, r3);
        wait_file(path);
        co_sleep(300);
        stats();
        say("dumped");
        return 0;
    }
    return co_await(k);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: flight_prog deadlock|slow|stuck|asleep|crash|abort|flood|api|serve|crowd MS [PATH]\n");
        return 2;
    }
    mode = argv[1];
    ms = atol(argv[2]);
    path = argc > 3 ? argv[3] : NULL;
    if (!getenv("COSCOPE_FLIGHT")) {
        const char *w = getenv("FL_WINDOW_MS"), *b = getenv("FL_BYTES");
        int r = co_flight_start(w ? strtoull(w, NULL, 10) : 1000, b ? strtoull(b, NULL, 10) : 0);
        if (r < 0) {
            fprintf(stderr, "flight_prog: co_flight_start: %s\n", co_strerror(r));
            return 1;
        }
    }
    return co_run(main_task, NULL) < 0;
}
