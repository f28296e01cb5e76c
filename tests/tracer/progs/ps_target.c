/* SPDX-License-Identifier: MIT */
/* ps_target.c -- subject for tests/tracer/ps.sh: a program caught in a
 * state `coscope ps PID` and `coscope tree PID` must read from outside.
 * It prints "ready" once the state is set up, then stays in it until
 * killed.
 *
 * usage: ps_target hang | read | spin | many N
 *
 *   hang  tasks waiting forever on each other: `holder` holds the lock
 *         `db_lock` and waits on the event `never_set`; `blocked` waits on
 *         `db_lock`; `consumer` gets from the empty queue `jobs`; `taker`
 *         took the only unit of `slots` and sleeps for good, `sem_waiter`
 *         waits on `slots`; `main` gathers them.  A libuv signal handle
 *         keeps the loop alive (a service's listening socket would), so
 *         the runtime's own all-asleep check never fires.
 *   read  `reader` is in a blocking read() of a pipe nobody writes: the
 *         loop's thread is stuck in the system call; `sleeper` sleeps.
 *   spin  `spinner` is in a busy loop; `sleeper` sleeps.
 *   many  N tasks `waiter` waiting on the event `never_set` (a bench).
 * Lines ps.sh looks for carry PS_* markers.
 */
#include "coscope.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

static co_lock_t db_lock;
static co_event_t never_set;
static co_queue_t jobs;
static co_sem_t slots;
static const char *mode;
static long many_n;
static int pipefd[2];
static volatile unsigned long spins;

static void ready(void)
{
    printf("ready\n");
    fflush(stdout);
}

static int holder(void *arg)
{
    co_lock_acquire(&db_lock);
    return co_event_wait(&never_set); /* PS_HOLDER_WAIT */
}

static int blocked(void *arg)
{
    return co_lock_acquire(&db_lock); /* PS_BLOCKED_WAIT */
}

static int consumer(void *arg)
{
    void *item;
    return co_queue_get(&jobs, &item); /* PS_CONSUMER_WAIT */
}

static int taker(void *arg)
{
    co_sem_acquire(&slots);
    return co_sleep(CO_NO_TIMEOUT); /* PS_TAKER_WAIT: no timer, nothing to wake it */
}

static int sem_waiter(void *arg)
{
    return co_sem_acquire(&slots); /* PS_SEM_WAIT */
}

static int reader(void *arg)
{
    char c;
    co_yield(); /* PS_READER_YIELD */
    return (int)read(pipefd[0], &c, 1); /* blocks the loop's thread */
}

static int spinner(void *arg)
{
    co_yield(); /* PS_SPINNER_YIELD */
    for (;;) spins++;
    return 0;
}

static int sleeper(void *arg)
{
    return co_sleep(3600000); /* PS_SLEEPER_WAIT */
}

static int waiter(void *arg)
{
    return co_event_wait(&never_set);
}

static int main_task(void *arg)
{
    co_lock_init(&db_lock);
    co_event_init(&never_set);
    co_queue_init(&jobs, 0);
    co_sem_init(&slots, 1);
    if (!strcmp(mode, "hang")) {
        co_task_t t[5] = { co_spawn(holder, NULL), co_spawn(taker, NULL) };
        co_sleep(5); /* holder has the lock, taker the unit, before the others come */
        t[2] = co_spawn(blocked, NULL);
        t[3] = co_spawn(consumer, NULL);
        t[4] = co_spawn(sem_waiter, NULL);
        co_sleep(5);
        ready();
        return co_gather(t, 5, NULL, 0); /* PS_MAIN_GATHER */
    }
    if (!strcmp(mode, "many")) {
        co_task_t *t = malloc((size_t)many_n * sizeof *t);
        for (long i = 0; i < many_n; i++) t[i] = co_spawn(waiter, NULL);
        co_sleep(20);
        ready();
        return co_gather(t, (size_t)many_n, NULL, 0);
    }
    co_task_t s = co_spawn(sleeper, NULL);
    co_task_t b = !strcmp(mode, "read") ? co_spawn(reader, NULL) : co_spawn(spinner, NULL);
    /* Told before anything runs: once reader or spinner has yielded once it
     * keeps the loop's thread until killed, and no timer fires again. */
    ready();
    co_await(b); /* PS_MAIN_AWAIT */
    return co_await(s);
}

static void on_signal(uv_signal_t *h, int signum) { (void)h; (void)signum; }

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: ps_target hang|read|spin|many N\n");
        return 2;
    }
    mode = argv[1];
    many_n = argc > 2 ? atol(argv[2]) : 100000;
    if (pipe(pipefd) < 0) return 1;
    uv_loop_t uv;
    uv_loop_init(&uv);
    uv_signal_t sig;
    uv_signal_init(&uv, &sig);
    uv_signal_start(&sig, on_signal, SIGUSR2);
    co_loop_opts opts;
    memset(&opts, 0, sizeof opts);
    opts.uv_loop = &uv;
    opts.debug = -1;
    co_loop_t *loop;
    if (co_loop_new(&loop, &opts) < 0) return 1;
    int r = co_loop_run(loop, main_task, NULL);
    co_loop_free(loop);
    return r < 0 ? 1 : 0;
}
