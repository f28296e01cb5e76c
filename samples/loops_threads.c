/* SPDX-License-Identifier: MIT */
/* loops_threads.c -- several loops on several threads, exchanging values
 * over channels.
 *
 * What it shows: a loop belongs to one thread, and its objects (locks,
 * queues, ...) must not be touched from another.  Channels (co_chan_t) are
 * the exception, made to cross threads, as in Go.  Three threads, each
 * running its own loop with co_run, form a pipeline:
 *
 *     thread "numbers": numbers_source sends 1..20 on `numbers`, then closes it
 *     thread "squares": squarer receives each n, sends n*n on `squares`,
 *                        closes `squares` once `numbers` is drained (-EPIPE)
 *     main thread:      summer adds up the squares until `squares` is drained
 *
 * The channels are unbuffered, so every value is handed from one thread's
 * task to the next thread's task directly.  Expected sum: 2870.
 *
 * Run it:
 *     build/coscope run -o t.db -- build/samples/loops_threads
 *     build/coscope report t.db
 *
 * What to look for:
 *   - report: three `main` tasks (one per loop, each on its own thread) and
 *     the three pipeline tasks, all done; no warnings.
 *   - tui: Tasks (1) shows tasks of three threads; Timeline (4) shows the
 *     channel_send / channel_recv waits alternating between the threads;
 *     Enter on squarer shows its recv and send lines.
 */
#include "coscope.h"
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#define COUNT 20

typedef struct stage {
    co_chan_t *in, *out; /* each stage holds its own references */
    long result;
} stage;

static int numbers_source(void *arg)
{
    stage *s = arg;
    int r = 0;
    for (intptr_t n = 1; n <= COUNT && r == 0; n++) r = co_chan_send(s->out, (void *)n); /* SEND_NUMBER */
    co_chan_close(s->out); /* tells the squarer no more numbers will come */
    return r;
}

static int squarer(void *arg)
{
    stage *s = arg;
    int r;
    for (;;) {
        void *v;
        r = co_chan_recv(s->in, &v); /* RECV_NUMBER */
        if (r < 0) break;
        intptr_t n = (intptr_t)v;
        r = co_chan_send(s->out, (void *)(n * n));
        if (r < 0) break;
        s->result++;
    }
    co_chan_close(s->out);
    return r == -EPIPE ? 0 : r; /* -EPIPE: input closed and drained, the normal end */
}

static int summer(void *arg)
{
    stage *s = arg;
    for (;;) {
        void *v;
        int r = co_chan_recv(s->in, &v); /* RECV_SQUARE */
        if (r == -EPIPE) return 0;
        if (r < 0) return r;
        s->result += (intptr_t)v;
    }
}

typedef struct thread_job {
    const char *name;
    co_fn fn;
    stage *stage;
    int result;
} thread_job;

/* Each thread's whole life: a loop of its own running one stage. */
static int stage_main(void *arg)
{
    thread_job *job = arg;
    return co_await(co_spawn_named(job->name, job->fn, job->stage));
}

static void *thread_body(void *arg)
{
    thread_job *job = arg;
    job->result = co_run(stage_main, job);
    return NULL;
}

int main(void)
{
    co_chan_t *numbers = co_chan_new(0), *squares = co_chan_new(0);
    if (!numbers || !squares) return 1;
    stage source = { NULL, co_chan_ref(numbers), 0 };
    stage square = { co_chan_ref(numbers), co_chan_ref(squares), 0 };
    stage sum = { co_chan_ref(squares), NULL, 0 };
    co_chan_unref(numbers); /* the stages hold the references now */
    co_chan_unref(squares);

    thread_job jobs[3] = { { "numbers_source", numbers_source, &source, 0 },
                           { "squarer", squarer, &square, 0 },
                           { "summer", summer, &sum, 0 } };
    pthread_t threads[2];
    for (int i = 0; i < 2; i++)
        if (pthread_create(&threads[i], NULL, thread_body, &jobs[i]) != 0) return 1;

    int r = co_run(stage_main, &jobs[2]); /* the main thread runs the last stage */
    for (int i = 0; i < 2; i++) pthread_join(threads[i], NULL);
    co_chan_unref(source.out);
    co_chan_unref(square.in);
    co_chan_unref(square.out);
    co_chan_unref(sum.in);
    if (r < 0 || jobs[0].result < 0 || jobs[1].result < 0) {
        fprintf(stderr, "loops_threads: %s\n", co_strerror(r < 0 ? r : jobs[0].result < 0 ? jobs[0].result : jobs[1].result));
        return 1;
    }
    printf("squarer squared %ld numbers on its own thread\n", square.result);
    printf("sum of squares 1..%d = %ld (expected 2870)\n", COUNT, sum.result);
    return sum.result == 2870 ? 0 : 1;
}
