/* SPDX-License-Identifier: MIT */
/* tasks.c -- e2e subject for tests/tracer/e2e.sh: a known tree of tasks in
 * which each task blocks on one kind of object, so the trace can be checked
 * against what the program itself knows.
 *
 * It prints, one per line on stdout, "task NAME ID PARENT", "res KIND ID"
 * and finally "resumes N": the number of steps its tasks ran (a task's
 * first run, plus each return from a call that really suspended).  The
 * schedule is deterministic (FIFO ready queue, no timing), so every call
 * marked AWAIT_* below suspends; e2e.sh finds their lines with grep -n.
 * With an argument N it exits with status N after the run, to check that
 * `coscope run` passes the status through.
 */
#include "coscope.h"
#include <stdio.h>
#include <stdlib.h>

static int resumes;
static co_lock_t lk;
static co_sem_t sem;
static co_queue_t q;
static co_event_t go; /* set by `setter` once main is waiting on evwaiter */

static void show(const char *name, co_task_t t)
{
    printf("task %s %llu %llu\n", name, (unsigned long long)co_task_id(t),
           (unsigned long long)co_task_id(co_task_parent(t)));
}

/* Takes the lock first and keeps it across a yield so `locker` queues. */
static int holder(void *arg)
{
    resumes++;
    co_lock_acquire(&lk);          /* free: does not suspend */
    co_yield(); /* AWAIT_YIELD */
    resumes++;
    co_lock_release(&lk);
    return 0;
}

static int locker(void *arg)
{
    resumes++;
    co_lock_acquire(&lk); /* AWAIT_LOCK */
    resumes++;
    co_lock_release(&lk);
    return 0;
}

static int evwaiter(void *arg)
{
    resumes++;
    co_event_wait(&go); /* AWAIT_EVENT */
    resumes++;
    return 0;
}

static int semwaiter(void *arg)
{
    resumes++;
    co_sem_acquire(&sem); /* AWAIT_SEM */
    resumes++;
    return 0;
}

static int qgetter(void *arg)
{
    resumes++;
    void *item;
    co_queue_get(&q, &item); /* AWAIT_QUEUE */
    resumes++;
    return (int)(intptr_t)item;
}

static int grandchild(void *arg)
{
    resumes++;
    co_sleep(1); /* AWAIT_SLEEP */
    resumes++;
    return 0;
}

static int parent_task(void *arg)
{
    resumes++;
    co_task_t g = co_spawn(grandchild, NULL);
    show("grandchild", g);
    co_await(g); /* AWAIT_GRANDCHILD: g has not even started */
    resumes++;
    return 0;
}

/* Yields once so main is already suspended in co_await(evwaiter). */
static int setter(void *arg)
{
    resumes++;
    co_yield(); /* AWAIT_SETTER_YIELD */
    resumes++;
    co_event_set(&go);
    return 0;
}

static int main_task(void *arg)
{
    resumes++;
    show("main", co_current());
    co_lock_init(&lk);
    co_event_init(&go);
    co_sem_init(&sem, 0);
    co_queue_init(&q, 0);
    printf("res lock %llu\nres event %llu\nres semaphore %llu\nres queue %llu\n",
           (unsigned long long)lk.id, (unsigned long long)go.id, (unsigned long long)sem.id,
           (unsigned long long)q.id);

    co_task_t t[7];
    t[0] = co_spawn(holder, NULL);
    t[1] = co_spawn(locker, NULL);
    t[2] = co_spawn(evwaiter, NULL);
    t[3] = co_spawn(semwaiter, NULL);
    t[4] = co_spawn(qgetter, NULL);
    t[5] = co_spawn(parent_task, NULL);
    t[6] = co_spawn_named("setter-1", setter, NULL);
    const char *names[] = { "holder", "locker", "evwaiter", "semwaiter", "qgetter", "parent_task", "setter-1" };
    for (int i = 0; i < 7; i++) show(names[i], t[i]);

    co_yield(); /* AWAIT_MAIN_YIELD: every child runs up to its first suspension */
    resumes++;
    co_sem_release(&sem);
    co_queue_put(&q, (void *)(intptr_t)7); /* unbounded: never suspends */

    /* Suspends: evwaiter waits for `go`, which setter sets after main parks. */
    co_await(t[2]); /* AWAIT_TASK */
    resumes++;
    for (int i = 0; i < 7; i++) {
        if (i == 2) continue;
        if (!co_task_done(t[i])) resumes++; /* co_await suspends only then */
        co_await(t[i]); /* AWAIT_LOOP: only parent_task is still running */
    }
    co_log("all %d children done", 7);
    co_queue_destroy(&q); /* no leak reports under `make check` */
    return 0;
}

int main(int argc, char **argv)
{
    int r = co_run(main_task, NULL);
    printf("resumes %d\n", resumes);
    if (r != 0) return 100;
    return argc > 1 ? atoi(argv[1]) : 0;
}
