/* SPDX-License-Identifier: MIT */
/* test_handoff_random.c -- conservation under cancellation, with seeded
 * random schedules: producers, consumers and cancellers on a queue, a
 * channel, a semaphore, a lock and a future, collected by co_await,
 * co_wait_for, co_gather and task groups, cancelled at random points.
 *
 * After each run:
 *   - every item put (by a task that says so, or by main) is got exactly
 *     once or still there, and no item is got that was not put;
 *   - the semaphore is back at its initial value once the units that tasks
 *     say they took are released;
 *   - the lock is free, and as many tasks say they held it as did;
 *   - as many tasks say they received the future's value as did.
 * "Says" is the outcome the task's owner sees: co_await's or co_wait_for's
 * result, gather's results[]; a group child's end is seen by nobody, so its
 * own return value stands for it.
 *
 * The schedules use no clock (co_wait_for with 0 or no limit, yields, no
 * sleeps), so a seed replays exactly: HANDOFF_SEED=n runs one seed,
 * HANDOFF_RUNS=n sets how many.
 */
#include "testutil.h"
#include <stdlib.h>

#define MAXITEMS 2048
#define MAXLIVE 256
#define STEPS 160
_Static_assert(STEPS < MAXLIVE, "main never owns more than MAXLIVE tasks");

enum kind { K_PUT, K_GET, K_SEND, K_RECV, K_SEM, K_LOCK, K_FUT, NKINDS };
enum mode { M_AWAIT, M_WAIT_FOR, M_GATHER, M_GROUP, NMODES };

typedef struct world {
    uint64_t rng;
    co_queue_t q;
    co_chan_t *ch;
    co_sem_t sem;
    int sem_initial;
    co_lock_t lock;
    co_future_t fut;
    int fut_set;
    int next_item;
    /* per item: what bodies did, what owners were told, what main did */
    unsigned char put_body[MAXITEMS], put_told[MAXITEMS], put_main[MAXITEMS];
    unsigned char got_body[MAXITEMS], got_told[MAXITEMS], got_main[MAXITEMS], left[MAXITEMS];
    int sem_body, sem_told, lock_body, lock_told, fut_body, fut_told;
    int lock_inside; /* tasks inside the lock now: at most one */
    co_task_t awaitable[MAXLIVE]; /* main owns these (workers and wrappers) */
    int awaitable_kind[MAXLIVE];  /* worker kind, or -1 for a wrapper */
    int awaitable_item[MAXLIVE];
    int nawaitable;
} world;

/* One task's job: a kind, an item for puts and sends, how it is told. */
typedef struct job {
    world *w;
    int kind, item, mode;
} job;

static uint64_t rnd(world *w)
{
    w->rng ^= w->rng << 13;
    w->rng ^= w->rng >> 7;
    w->rng ^= w->rng << 17;
    return w->rng;
}
static int pick(world *w, int n) { return (int)(rnd(w) % (uint64_t)n); }

/* Yields after the operation: cancellation points that must not change
 * what the task reports (the operation already happened). */
static void wander(world *w)
{
    for (int n = pick(w, 3); n > 0; n--) co_yield();
}

static int new_item(world *w) { return w->next_item < MAXITEMS - 1 ? ++w->next_item : 0; }

/* What an owner was told: the task's outcome >= 0 means it completed. */
static void told(world *w, int kind, int item, int r)
{
    if (r < 0) return;
    switch (kind) {
    case K_PUT: case K_SEND: w->put_told[item]++; break;
    case K_GET: case K_RECV: if (r > 0 && r < MAXITEMS) w->got_told[r]++; break;
    case K_SEM: w->sem_told++; EXPECT_INT(co_sem_release(&w->sem), 0); break;
    case K_LOCK: w->lock_told++; break;
    case K_FUT: w->fut_told++; break;
    }
}

static int worker(void *arg)
{
    job *j = arg;
    world *w = j->w;
    void *v = NULL;
    int r = 0;
    switch (j->kind) {
    case K_PUT:
        if ((r = co_queue_put(&w->q, P(j->item))) == 0) { w->put_body[j->item]++; r = j->item; }
        break;
    case K_SEND:
        if ((r = co_chan_send(w->ch, P(j->item))) == 0) { w->put_body[j->item]++; r = j->item; }
        break;
    case K_GET:
        if ((r = co_queue_get(&w->q, &v)) == 0) { w->got_body[I(v)]++; r = I(v); }
        break;
    case K_RECV:
        if ((r = co_chan_recv(w->ch, &v)) == 0) { w->got_body[I(v)]++; r = I(v); }
        break;
    case K_SEM:
        if ((r = co_sem_acquire(&w->sem)) == 0) { w->sem_body++; r = 1; }
        break;
    case K_LOCK:
        if ((r = co_lock_acquire(&w->lock)) == 0) {
            EXPECT_INT(++w->lock_inside, 1);
            w->lock_body++;
            wander(w); /* held across cancellation points */
            w->lock_inside--;
            EXPECT_INT(co_lock_release(&w->lock), 0);
            r = 1;
        }
        break;
    case K_FUT:
        if ((r = co_future_await(&w->fut, &v)) == 0) { w->fut_body++; r = 1; }
        break;
    }
    if (r >= 0) wander(w);
    /* A group child's end is seen by nobody: its own return stands for it. */
    if (j->mode == M_GROUP) told(w, j->kind, j->item, r);
    return r;
}

static job *job_new(world *w, int mode)
{
    job *j = malloc(sizeof *j);
    j->w = w;
    j->mode = mode;
    j->kind = pick(w, NKINDS);
    j->item = j->kind == K_PUT || j->kind == K_SEND ? new_item(w) : 0;
    if ((j->kind == K_PUT || j->kind == K_SEND) && j->item == 0) j->kind = K_GET;
    return j;
}

/* Wrappers: own their workers and tell what they saw. */
static int via_wait_for(void *arg)
{
    job *j = arg;
    world *w = j->w;
    co_task_t t = co_spawn(worker, j);
    int r = co_wait_for(t, pick(w, 2) ? 0 : CO_NO_TIMEOUT);
    told(w, j->kind, j->item, r);
    return 0;
}

static int via_gather(void *arg)
{
    world *w = arg;
    job *jobs[4];
    co_task_t t[4];
    int res[4], n = 1 + pick(w, 4);
    for (int i = 0; i < n; i++) {
        jobs[i] = job_new(w, M_GATHER);
        t[i] = co_spawn(worker, jobs[i]);
    }
    co_gather(t, (size_t)n, res, pick(w, 2) ? CO_GATHER_COLLECT : 0);
    for (int i = 0; i < n; i++) {
        told(w, jobs[i]->kind, jobs[i]->item, res[i]); /* results[] is each task's outcome, whatever gather returns */
        free(jobs[i]);
    }
    return 0;
}

static int fails_soon(void *arg)
{
    world *w = arg;
    wander(w);
    return -EIO;
}

static int via_group(void *arg)
{
    world *w = arg;
    job *jobs[4];
    int n = 1 + pick(w, 4);
    co_group_t g;
    co_group_init(&g);
    for (int i = 0; i < n; i++) {
        jobs[i] = job_new(w, M_GROUP);
        EXPECT_INT(co_group_spawn(&g, worker, jobs[i]), 0);
    }
    if (pick(w, 2)) EXPECT_INT(co_group_spawn(&g, fails_soon, w), 0);
    co_group_wait(&g);
    for (int i = 0; i < n; i++) free(jobs[i]);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Main: spawn, yield, cancel, collect, and act on the objects directly      */

static void own(world *w, co_task_t t, int kind, int item)
{
    w->awaitable[w->nawaitable] = t;
    w->awaitable_kind[w->nawaitable] = kind;
    w->awaitable_item[w->nawaitable] = item;
    w->nawaitable++;
}

static void collect(world *w, int i)
{
    int r = co_await(w->awaitable[i]);
    if (w->awaitable_kind[i] >= 0) told(w, w->awaitable_kind[i], w->awaitable_item[i], r);
    else EXPECT_TRUE(r == 0 || r == -ECANCELED); /* a wrapper: cancelled before it started, or not */
    w->nawaitable--;
    w->awaitable[i] = w->awaitable[w->nawaitable];
    w->awaitable_kind[i] = w->awaitable_kind[w->nawaitable];
    w->awaitable_item[i] = w->awaitable_item[w->nawaitable];
}

static job *main_jobs[MAXLIVE * STEPS / 4];
static int nmain_jobs;

static void step(world *w)
{
    int a = pick(w, 100);
    if (a < 30) { /* a new task, told one of four ways */
        int mode = pick(w, NMODES);
        if (mode == M_AWAIT) {
            job *j = job_new(w, M_AWAIT);
            main_jobs[nmain_jobs++] = j;
            own(w, co_spawn(worker, j), j->kind, j->item);
        } else if (mode == M_WAIT_FOR) {
            job *j = job_new(w, M_WAIT_FOR);
            main_jobs[nmain_jobs++] = j; /* freed by main: a wrapper cancelled before it starts never sees it */
            own(w, co_spawn(via_wait_for, j), -1, 0);
        } else {
            own(w, co_spawn(mode == M_GATHER ? via_gather : via_group, w), -1, 0);
        }
    } else if (a < 55) {
        co_yield();
    } else if (a < 70) { /* cancel one */
        if (w->nawaitable) co_cancel(w->awaitable[pick(w, w->nawaitable)]);
    } else if (a < 80) { /* collect one that has ended (one still blocked could wait for good) */
        if (w->nawaitable) {
            int i = pick(w, w->nawaitable);
            if (co_task_done(w->awaitable[i]) == 1) collect(w, i);
        }
    } else if (a < 85) {
        int i = new_item(w);
        if (i && co_queue_put_nowait(&w->q, P(i)) == 0) w->put_main[i]++;
    } else if (a < 90) {
        void *v;
        if (co_queue_get_nowait(&w->q, &v) == 0) w->got_main[I(v)]++;
    } else if (a < 93) {
        int i = new_item(w);
        if (i && co_chan_try_send(w->ch, P(i)) == 0) w->put_main[i]++;
    } else if (a < 96) {
        void *v;
        if (co_chan_try_recv(w->ch, &v) == 0) w->got_main[I(v)]++;
    } else if (!w->fut_set) {
        EXPECT_INT(co_future_set(&w->fut, P(1)), 0);
        w->fut_set = 1;
    }
}

static int run_world(void *arg)
{
    world *w = arg;
    EXPECT_INT(co_queue_init(&w->q, (size_t)pick(w, 3)), 0); /* 0: unbounded */
    w->ch = co_chan_new((size_t)pick(w, 2));
    w->sem_initial = 1 + pick(w, 2);
    EXPECT_INT(co_sem_init(&w->sem, w->sem_initial), 0);
    co_lock_init(&w->lock);
    co_future_init(&w->fut);
    nmain_jobs = 0;
    for (int s = 0; s < STEPS; s++) step(w);
    /* Wind down: everything still running is cancelled and collected. */
    if (!w->fut_set) EXPECT_INT(co_future_set(&w->fut, P(1)), 0);
    while (w->nawaitable) {
        for (int i = 0; i < w->nawaitable; i++) co_cancel(w->awaitable[i]);
        collect(w, w->nawaitable - 1);
    }
    void *v;
    while (co_queue_get_nowait(&w->q, &v) == 0) w->left[I(v)]++;
    while (co_chan_try_recv(w->ch, &v) == 0) w->left[I(v)]++;
    for (int i = 0; i < nmain_jobs; i++) free(main_jobs[i]);

    /* The invariants. */
    for (int i = 1; i <= w->next_item; i++) {
        int put = w->put_told[i] + w->put_main[i], got = w->got_told[i] + w->got_main[i] + w->left[i];
        if (put != got || put > 1 || w->put_told[i] != w->put_body[i] || w->got_told[i] != w->got_body[i]) {
            if (!failed[0])
                snprintf(failed, sizeof failed, "item %d: put %d (told %d, body %d, main %d), got %d (told %d, body %d, "
                         "main %d, left %d)", i, put, w->put_told[i], w->put_body[i], w->put_main[i], got,
                         w->got_told[i], w->got_body[i], w->got_main[i], w->left[i]);
        }
    }
    EXPECT_INT(w->sem_told, w->sem_body);
    EXPECT_INT(co_sem_value(&w->sem), w->sem_initial);
    EXPECT_INT(w->lock_told, w->lock_body);
    EXPECT_INT(co_lock_locked(&w->lock), 0);
    EXPECT_INT(w->fut_told, w->fut_body);
    EXPECT_INT(co_queue_destroy(&w->q), 0);
    EXPECT_INT(co_sem_destroy(&w->sem), 0);
    EXPECT_INT(co_lock_destroy(&w->lock), 0);
    EXPECT_INT(co_future_destroy(&w->fut), 0);
    co_chan_unref(w->ch);
    return 0;
}

static void test_random_schedules(void **state)
{
    (void)state;
    const char *one = getenv("HANDOFF_SEED"), *runs_env = getenv("HANDOFF_RUNS");
    uint64_t first = one ? strtoull(one, NULL, 10) : 1;
    uint64_t runs = one ? 1 : runs_env ? strtoull(runs_env, NULL, 10) : 2000;
    int bad = 0;
    static world w;
    for (uint64_t seed = first; seed < first + runs; seed++) {
        memset(&w, 0, sizeof w);
        w.rng = seed * 0x9e3779b97f4a7c15ull | 1;
        failed[0] = 0;
        alarm(10);
        int r = run_main(run_world, &w);
        alarm(0);
        if (failed[0] || r != 0) {
            print_message("seed %llu: %s\n  replay: HANDOFF_SEED=%llu build/tests/runtime/test_handoff_random\n",
                          (unsigned long long)seed, failed[0] ? failed : "main failed",
                          (unsigned long long)seed);
            if (++bad == 10) break;
        }
    }
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_schedules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
