/* SPDX-License-Identifier: MIT */
/* cpu_bound.c -- CPU-bound work in a subprocess and in the thread pool.
 *
 * What it shows: counting the primes below 3,000,000 takes a few hundred
 * milliseconds of pure CPU.  Done inside a task it would hold the loop the
 * whole time (a slow step).  Here it runs twice, at the same time, off the
 * loop:
 *   - in a subprocess (asyncio's run_in_executor with a process pool, or
 *     create_subprocess_exec): this same program re-executed with
 *     `--child N`, its stdout captured by co_exec_with;
 *   - on libuv's thread pool with co_to_thread.
 * Meanwhile a heartbeat task ticks every 10 ms, showing the loop stays
 * free.  Both counts must agree (216816).
 *
 * Run it:
 *     build/coscope run -o t.db -- build/samples/cpu_bound
 *     build/coscope report t.db
 *
 * What to look for:
 *   - report: no warnings (no slow step: the loop never computed);
 *     in_process and in_thread done; heartbeat with dozens of awaits.
 *   - tui: Timeline (4) shows in_process waiting on `process` and in_thread
 *     on `thread` for the same stretch, the heartbeat ticking under both;
 *     Enter on in_process shows the co_exec line.
 */
#include "coscope.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIMIT 3000000

static long count_primes(long below)
{
    long count = 0;
    for (long n = 2; n < below; n++) {
        int prime = 1;
        for (long d = 2; d * d <= n; d++)
            if (n % d == 0) {
                prime = 0;
                break;
            }
        count += prime;
    }
    return count;
}

/* co_to_thread body: runs on a pool thread, touches nothing of the loop. */
static void *count_in_thread(void *arg)
{
    return (void *)(intptr_t)count_primes((long)(intptr_t)arg);
}

static int in_thread(void *arg)
{
    void *count;
    int r = co_to_thread(count_in_thread, (void *)(intptr_t)LIMIT, &count); /* TO_THREAD */
    if (r < 0) return r;
    printf("thread pool: %ld primes below %d\n", (long)(intptr_t)count, LIMIT);
    return (int)(intptr_t)count;
}

static int in_process(void *arg)
{
    char limit[32];
    snprintf(limit, sizeof limit, "%d", LIMIT);
    /* /proc/self/exe: this very binary, wherever it was started from. */
    const char *argv[] = { "/proc/self/exe", "--child", limit, NULL };
    co_exec_opts opts = { .capture = CO_EXEC_STDOUT };
    int status;
    int r = co_exec_with(argv, &opts, &status); /* EXEC */
    if (r < 0) return r;
    long count = status == 0 ? strtol(opts.out, NULL, 10) : -1;
    free(opts.out);
    if (count < 0) return -EIO;
    printf("subprocess:  %ld primes below %d\n", count, LIMIT);
    return (int)count;
}

static int heartbeat(void *arg)
{
    int *beats = arg;
    while (co_sleep(10) == 0) (*beats)++;
    return 0;
}

static int amain(void *arg)
{
    int beats = 0;
    co_task_t beat = co_spawn(heartbeat, &beats);
    co_task_t work[2] = { co_spawn(in_process, NULL), co_spawn(in_thread, NULL) };
    int counts[2];
    int r = co_gather(work, 2, counts, 0);
    co_cancel(beat);
    co_await(beat);
    if (r < 0) return r;
    printf("counts %s; the loop stayed free (%s heartbeats)\n", counts[0] == counts[1] ? "agree" : "DIFFER",
           beats > 5 ? "many" : "few");
    return counts[0] == counts[1] ? 0 : -EIO;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--child")) {
        /* The subprocess: no loop, just the computation. */
        printf("%ld\n", count_primes(strtol(argv[2], NULL, 10)));
        return 0;
    }
    int r = co_run(amain, NULL);
    if (r < 0) {
        fprintf(stderr, "cpu_bound: %s\n", co_strerror(r));
        return 1;
    }
    return 0;
}
