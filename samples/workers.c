/* SPDX-License-Identifier: MIT */
/* workers.c -- two workers with different paces, gathered.
 *
 * What it shows: worker A does 3 jobs of 60 ms, worker B 4 jobs of 25 ms.
 * They interleave on one thread: each co_sleep hands the loop to the
 * other.  main gathers both and gets the number of jobs each did.
 *
 * Run it:
 *     build/coscope run -o t.db -- build/samples/workers
 *     build/coscope report t.db
 *
 * What to look for:
 *   - report: worker A and worker B done, A with 3 awaits, B with 4; B ends
 *     first (~100 ms), A at ~180 ms; no warnings.
 *   - tui: Timeline (4) shows A's three long sleeps against B's four short
 *     ones; Tasks (1) sorted by total time puts A above B; Enter on a worker
 *     lists each of its sleeps with the line of the co_sleep.
 */
#include "coscope.h"
#include <stdio.h>

typedef struct worker_spec {
    const char *name;
    int jobs;
    int job_ms;
} worker_spec;

static int worker(void *arg)
{
    const worker_spec *w = arg;
    for (int i = 1; i <= w->jobs; i++) {
        int r = co_sleep(w->job_ms); /* WORKER_SLEEP: the job's I/O */
        if (r < 0) return r;
        printf("%s: job %d/%d done\n", w->name, i, w->jobs);
    }
    return w->jobs;
}

static int amain(void *arg)
{
    static const worker_spec a = { "worker A", 3, 60 }, b = { "worker B", 4, 25 };
    co_task_t tasks[2] = { co_spawn_named(a.name, worker, (void *)&a), co_spawn_named(b.name, worker, (void *)&b) };
    if (!tasks[0].h || !tasks[1].h) return -ENOMEM;
    int jobs[2];
    int r = co_gather(tasks, 2, jobs, 0);
    if (r < 0) return r;
    printf("gathered: A did %d jobs, B did %d jobs\n", jobs[0], jobs[1]);
    return 0;
}

int main(void)
{
    int r = co_run(amain, NULL);
    if (r < 0) {
        fprintf(stderr, "workers: %s\n", co_strerror(r));
        return 1;
    }
    return 0;
}
