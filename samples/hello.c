/* SPDX-License-Identifier: MIT */
/* hello.c -- the smallest coscope program: asyncio's say_hello.
 *
 * What it shows: co_run() makes a loop, runs one task (named "main") to
 * completion and frees the loop.  The task prints, suspends for 100 ms in
 * co_sleep (the loop is free to run other tasks meanwhile; here there are
 * none), and prints again.
 *
 * Run it:
 *     build/coscope run -o t.db -- build/samples/hello
 *     build/coscope report t.db
 *
 * What to look for:
 *   - report: one task, main, done; busy a few microseconds, waiting ~100 ms;
 *     no warnings.
 *   - tui: Tasks (1) lists main alone; Timeline (4) shows one short step,
 *     a 100 ms sleep, one short step; Enter on main shows the sleep's line.
 */
#include "coscope.h"
#include <stdio.h>

static int say_hello(void *arg)
{
    const char *who = arg;
    printf("Hello, %s...\n", who);
    fflush(stdout); /* the two halves are 100 ms apart: show the first now */
    int r = co_sleep(100); /* HELLO_SLEEP */
    if (r < 0) return r;
    printf("...world!\n");
    return 0;
}

int main(void)
{
    int r = co_run(say_hello, "coscope");
    if (r < 0) {
        fprintf(stderr, "hello: %s\n", co_strerror(r));
        return 1;
    }
    return 0;
}
