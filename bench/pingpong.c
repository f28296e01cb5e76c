/* SPDX-License-Identifier: MIT */
/* pingpong.c -- workload (b): ping-pong over two unbounded co_queue_t,
 * 1,000,000 messages = 500,000 round trips (one message = one put + one
 * get).  Mirrors bench/python/pingpong.py: the clock covers spawning the two
 * tasks, the exchange, and gathering them.  Best of --reps fresh loops.
 *
 * Usage: pingpong [--reps N] [--scale F] */
#include "bench.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MESSAGES 1000000

static co_queue_t q1, q2;
static long rounds;

static int producer(void *arg)
{
    (void)arg;
    for (long i = 0; i < rounds; i++) {
        int r = co_queue_put(&q1, (void *)(intptr_t)i);
        if (r < 0) return r;
        void *back;
        r = co_queue_get(&q2, &back);
        if (r < 0) return r;
        if ((intptr_t)back != i) return -EPROTO;
    }
    return 0;
}

static int consumer(void *arg)
{
    (void)arg;
    for (long i = 0; i < rounds; i++) {
        void *x;
        int r = co_queue_get(&q1, &x);
        if (r < 0) return r;
        r = co_queue_put(&q2, x);
        if (r < 0) return r;
    }
    return 0;
}

static int bench_main(void *arg)
{
    double *secs = arg;
    int r;
    if ((r = co_queue_init(&q1, 0)) < 0 || (r = co_queue_init(&q2, 0)) < 0) return r;
    double t0 = bench_now_s();
    co_task_t h[2] = { co_spawn(producer, NULL), co_spawn(consumer, NULL) };
    r = co_gather(h, 2, NULL, 0);
    *secs = bench_now_s() - t0;
    co_queue_destroy(&q1);
    co_queue_destroy(&q2);
    return r;
}

int main(int argc, char **argv)
{
    int reps = 5;
    double scale = 1.0;
    bench_args(argc, argv, &reps, &scale);
    rounds = (long)(MESSAGES * scale) / 2;
    if (rounds < 1) rounds = 1;
    double best = bench_best("pingpong", reps, bench_main);
    if (best < 0) return 1;
    printf("messages=%ld\nreps=%d\nseconds=%.6f\nns_per_message=%.2f\n", 2 * rounds, reps, best,
           best * 1e9 / (double)(2 * rounds));
    return 0;
}
