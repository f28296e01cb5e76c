/* SPDX-License-Identifier: MIT */
/* greet_gather.c -- two greetings running at the same time, with co_gather.
 *
 * What it shows: asyncio.gather(greet("Alice", 0.2), greet("Bob", 0.1)).
 * Both tasks are spawned before main suspends, so their sleeps overlap:
 * the whole program takes ~200 ms, not 300.  Bob, with the shorter delay,
 * greets first although he was spawned second.  co_gather consumes both
 * handles and collects their results (the length of each greeting).
 *
 * Run it:
 *     build/coscope run -o t.db -- build/samples/greet_gather
 *     build/coscope report t.db
 *
 * What to look for:
 *   - report: three tasks done (main and two greet tasks named after the
 *     person), main waiting ~200 ms in total; no warnings.
 *   - tui: Timeline (4) shows the two sleeps side by side, Bob's ending
 *     first; Await tree (5) (while you scrub inside the run) shows main
 *     waiting on both greet tasks at once.
 */
#include "coscope.h"
#include <stdio.h>
#include <string.h>

typedef struct greeting {
    const char *name;
    int delay_ms;
} greeting;

static int greet(void *arg)
{
    const greeting *g = arg;
    int r = co_sleep(g->delay_ms); /* GREET_SLEEP */
    if (r < 0) return r;
    printf("Hello, %s! (after %d ms)\n", g->name, g->delay_ms);
    return (int)strlen(g->name);
}

static int amain(void *arg)
{
    static const greeting alice = { "Alice", 200 }, bob = { "Bob", 100 };
    /* Named after the person: "greet" twice would not tell them apart. */
    co_task_t tasks[2] = { co_spawn_named("greet Alice", greet, (void *)&alice),
                           co_spawn_named("greet Bob", greet, (void *)&bob) };
    if (!tasks[0].h || !tasks[1].h) return -ENOMEM;
    int results[2];
    uint64_t start = co_now_ms();
    int r = co_gather(tasks, 2, results, 0); /* GREET_GATHER */
    if (r < 0) return r;
    printf("both greeted in ~%llu ms, results %d and %d\n",
           (unsigned long long)((co_now_ms() - start + 50) / 100 * 100), results[0], results[1]);
    return 0;
}

int main(void)
{
    int r = co_run(amain, NULL);
    if (r < 0) {
        fprintf(stderr, "greet_gather: %s\n", co_strerror(r));
        return 1;
    }
    return 0;
}
