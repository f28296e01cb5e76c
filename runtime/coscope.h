/* coscope.h -- the one public header of libcoscope.
 *
 * libcoscope is a coroutine runtime for C on top of libuv with the model that
 * Python's asyncio made familiar: a loop per thread, stackful tasks, futures,
 * gather/wait, timeouts, cooperative cancellation, locks, events, semaphores,
 * conditions and queues.  Every point where a task can suspend goes through one
 * internal await path that records what the task waits on and where, so the
 * tracer and the debugging tools can say why a program is stuck.
 *
 * Conventions (libuv's):
 *  - every public name starts with co_ (co__ is internal, never call it);
 *  - a function that can fail returns int: >= 0 on success, a negative errno
 *    (-ECANCELED, -ETIMEDOUT, -ENOMEM, -EDEADLK, ...) on failure; co_strerror()
 *    names it;
 *  - task bodies are `int fn(void *arg)`: a negative return is the task's error
 *    (what raising is in Python), -ECANCELED marks it cancelled;
 *  - "May suspend" marks functions that can switch away from the calling task.
 *    They must be called from inside a task; outside one they return -EPERM.
 *    Functions not so marked never suspend and may be called from plain code
 *    running on the loop's thread (libuv callbacks included).
 *  - Objects (locks, events, ...) are structs the caller allocates anywhere
 *    (stack, heap, static) and initialises with co_X_init(); they belong to the
 *    loop of the thread that uses them and must not be touched from other
 *    threads.  co_X_destroy() marks them dead: any later use returns -EINVAL
 *    instead of corrupting memory (while the memory itself is still readable).
 *  - Functions that take a source location are macros around a co_X_at()
 *    function.  The macro passes a static per-call-site co_loc, so recording
 *    where a task waits never allocates.
 */
#ifndef COSCOPE_H
#define COSCOPE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <errno.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Source locations                                                          */

/* A call site.  One static instance per call site (see CO_LOC); never freed.
 * `id` is 0 until the tracer interns the location, then a stable id. */
typedef struct co_loc {
    const char *file;
    const char *func;
    int line;
    uint32_t id; /* written once by the tracer; 0 = not interned yet */
} co_loc;

/* The current call site as a `co_loc *` (GNU statement expression). */
#define CO_LOC ({ static co_loc co__here = { __FILE__, __func__, __LINE__, 0 }; &co__here; })

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */

/* Name of a negative errno returned by any co_ function (or by libuv).  The
 * string is static; never free it. */
const char *co_strerror(int err);

/* ------------------------------------------------------------------------ */
/* Loops                                                                     */

typedef struct co_loop co_loop_t;

typedef struct co_loop_opts {
    /* Stack size of every task of this loop, in bytes, rounded up to pages.
     * 0 = the default (64 KiB, or $CO_STACK_SIZE).  Only touched pages cost
     * memory. */
    size_t stack_size;
    /* Wrap this libuv loop instead of creating one (a libuv program adopting
     * coscope).  The caller keeps ownership; co_loop_free() does not close it. */
    void *uv_loop; /* uv_loop_t *, kept as void * so this header needs no uv.h */
    /* Debug mode: warnings on stderr.  -1 = from $CO_DEBUG, 0 = off, 1 = on. */
    int debug;
} co_loop_opts;

/* Create a loop for the calling thread.  One loop per thread: a second
 * co_loop_new() on the same thread returns -EBUSY.  `opts` may be NULL.
 * On success *out owns the loop until co_loop_free(). */
int co_loop_new(co_loop_t **out, const co_loop_opts *opts);

/* Run `main(arg)` as the loop's main task, driving the loop until that task
 * ends.  Returns main's result.  Must be called on the loop's thread and not
 * from inside a task.  Returns -EDEADLK, after printing every waiting task on
 * stderr, if every task is blocked and nothing (timer, I/O, thread work)
 * could ever wake one: Go's "all goroutines are asleep". */
int co_loop_run(co_loop_t *loop, int (*main)(void *), void *arg);

/* Cancel every task still alive, let them run their cleanup, report on
 * stderr the tasks that were pending or never awaited, and free the loop.
 * Returns 0, or -EBUSY if called from inside one of the loop's tasks. */
int co_loop_free(co_loop_t *loop);

/* The calling thread's loop, or NULL. */
co_loop_t *co_loop_current(void);

/* The libuv loop under `loop` (a uv_loop_t *), for I/O written directly
 * against libuv. */
void *co_loop_uv(co_loop_t *loop);

/* asyncio.run: new loop, run main to completion, free the loop (cancelling
 * and reporting leftovers).  Returns main's result or a loop error. */
int co_run(int (*main)(void *), void *arg);

/* ------------------------------------------------------------------------ */
/* Tasks                                                                     */

/* A task handle: a generation-checked reference, safe to copy.  Using a
 * handle after the task was freed (awaited, or detached and finished) gives
 * -ESRCH instead of touching freed memory.  {0} is never a valid task. */
typedef struct co_task { uint64_t h; } co_task_t;

typedef enum co_task_state {
    CO_TASK_READY,     /* spawned or woken, waiting for its turn */
    CO_TASK_RUNNING,   /* the task on the CPU */
    CO_TASK_WAITING,   /* suspended in an await (see co_wait_kind) */
    CO_TASK_DONE,      /* returned >= 0 */
    CO_TASK_FAILED,    /* returned < 0 other than -ECANCELED */
    CO_TASK_CANCELLED  /* returned -ECANCELED, or cancelled before it ran */
} co_task_state;

/* What a waiting task waits on.  Stable numbers: the tracer stores them. */
typedef enum co_wait_kind {
    CO_WAIT_NONE = 0,
    CO_WAIT_YIELD,      /* co_yield: ready again at once */
    CO_WAIT_SLEEP,      /* co_sleep */
    CO_WAIT_TASK,       /* co_await / co_wait_for on one task */
    CO_WAIT_TASKS,      /* co_gather / co_wait on several */
    CO_WAIT_GROUP,      /* co_group_wait */
    CO_WAIT_FUTURE,
    CO_WAIT_LOCK,
    CO_WAIT_EVENT,
    CO_WAIT_SEM,
    CO_WAIT_COND,
    CO_WAIT_QUEUE_GET,
    CO_WAIT_QUEUE_PUT,
    CO_WAIT_QUEUE_JOIN,
    CO_WAIT_THREAD,     /* co_to_thread: work on libuv's thread pool */
    CO_WAIT_PROCESS,    /* co_exec */
    CO_WAIT_CHANNEL_SEND,
    CO_WAIT_CHANNEL_RECV,
    CO_WAIT_TCP_CONNECT,
    CO_WAIT_TCP_ACCEPT,
    CO_WAIT_TCP_READ,
    CO_WAIT_TCP_WRITE,
    CO_WAIT_TCP_SHUTDOWN,
    CO_WAIT_DNS,
    CO_WAIT_FILE,       /* file read/write/open/close */
    CO_WAIT_GEN,        /* generator: consumer waits for next value, or generator for next request */
    CO_WAIT_KIND_COUNT
} co_wait_kind;

typedef int (*co_fn)(void *arg);

/* Spawn a task running fn(arg) on the calling thread's loop.  It is READY at
 * once and first runs when the caller next suspends (asyncio.create_task).
 * The name is the function's name; the call site is recorded.  Returns the
 * handle, or {0} if there is no loop on this thread or memory ran out.
 * Ownership: the caller must co_await (or gather) it, or co_detach it, like
 * pthread join/detach; a task that is neither is reported as never awaited.
 * Does not suspend.  May be called from plain code on the loop's thread. */
#define co_spawn(fn, arg) co_spawn_at(CO_LOC, #fn, (fn), (arg))
/* Same with an explicit name, copied (the caller may reuse its buffer). */
#define co_spawn_named(name, fn, arg) co_spawn_named_at(CO_LOC, (name), (fn), (arg))
/* `name` must outlive the task (co_spawn passes a string literal). */
co_task_t co_spawn_at(co_loc *loc, const char *name, co_fn fn, void *arg);
co_task_t co_spawn_named_at(co_loc *loc, const char *name, co_fn fn, void *arg);

/* Wait for `t` to end and return its result (>= 0), its error, or
 * -ECANCELED if it was cancelled.  Consumes the handle: afterwards it is
 * stale.  If the *caller* is cancelled while waiting, returns -ECANCELED and
 * `t` keeps running, still owned by the caller: awaiting a task shields it,
 * unlike asyncio (cancel it yourself with co_cancel, or use co_wait_for).
 * Errors: -EPERM outside a task, -EDEADLK if t is the caller or the await
 * would close a cycle of tasks awaiting each other, -EINVAL if t is detached
 * or already being awaited, -ESRCH if t is stale.  May suspend. */
#define co_await(t) co_await_at(CO_LOC, (t))
int co_await_at(co_loc *loc, co_task_t t);

/* Give up ownership: the task is freed when it ends, its result discarded.
 * An error it ends with is reported in debug mode.  Returns 0, -ESRCH if
 * stale, -EINVAL if already detached or being awaited. */
int co_detach(co_task_t t);

/* Request cancellation.  The task's current await (or its next one, or its
 * start if it has not run yet) returns -ECANCELED; the task runs its cleanup
 * and usually returns -ECANCELED.  Cancellation is delivered once: a task may
 * await again in its cleanup.  Returns 1 if the request was made, 0 if the
 * task had already ended, -ESRCH if stale.  Does not suspend. */
int co_cancel(co_task_t t);

/* The calling task, or {0} outside a task. */
co_task_t co_current(void);

/* Nonzero if a cancellation was requested for the calling task. */
int co_cancelling(void);

/* Fill out[0..cap) with every live task of the current loop (ended tasks not
 * yet awaited included).  Returns the number of live tasks (may exceed cap). */
size_t co_all_tasks(co_task_t *out, size_t cap);

/* Introspection.  Stale handles give NULL / {0} / -ESRCH. */
const char *co_task_name(co_task_t t);    /* owned by the task; valid while t is */
uint64_t co_task_id(co_task_t t);         /* unique per process; 0 if stale */
co_task_t co_task_parent(co_task_t t);    /* {0} if none or freed */
int co_task_state_of(co_task_t t);        /* a co_task_state or -ESRCH */
int co_task_done(co_task_t t);            /* 1 ended, 0 not, -ESRCH stale */
const co_loc *co_task_spawn_loc(co_task_t t);
const char *co_task_state_name(int state);
const char *co_wait_kind_name(int kind);

/* ------------------------------------------------------------------------ */
/* Time                                                                      */

/* Suspend for ms milliseconds (0 = co_yield).  Returns 0, -ECANCELED, or
 * -ETIMEDOUT if an enclosing timeout scope expires first.  May suspend. */
#define co_sleep(ms) co_sleep_at(CO_LOC, (ms))
int co_sleep_at(co_loc *loc, int64_t ms);

/* Let every other ready task run once, then continue.  Returns 0 or
 * -ECANCELED.  May suspend. */
#define co_yield() co_yield_at(CO_LOC)
int co_yield_at(co_loc *loc);

/* Milliseconds on the loop's clock (libuv's uv_now). */
uint64_t co_now_ms(void);

/* ------------------------------------------------------------------------ */
/* Combinators                                                               */

enum { CO_GATHER_COLLECT = 1 }; /* return_exceptions=True */

/* Wait for all n tasks; results[i] (if results != NULL) receives task i's
 * result or error.  Without CO_GATHER_COLLECT, the first failure cancels the
 * others, waits for them, and is returned.  With it, returns 0 once all are
 * done, errors only in results[].  If the caller is cancelled, the tasks are
 * cancelled and awaited and -ECANCELED is returned.  Consumes every handle
 * (stale ones give -ESRCH in results[]).  May suspend. */
#define co_gather(tasks, n, results, flags) co_gather_at(CO_LOC, (tasks), (n), (results), (flags))
int co_gather_at(co_loc *loc, co_task_t *tasks, size_t n, int *results, int flags);

enum { CO_WAIT_ALL = 0, CO_WAIT_FIRST_COMPLETED = 1, CO_WAIT_FIRST_ERROR = 2 };

/* asyncio.wait: suspend until `mode` is satisfied or timeout_ms passes
 * (timeout_ms < 0: no timeout).  Returns the number of ended tasks (0 on a
 * timeout with none ended), or -ECANCELED.  Does not consume handles: check
 * co_task_done() and co_await() each ended task to collect it.  May suspend. */
#define co_wait(tasks, n, mode, timeout_ms) co_wait_at(CO_LOC, (tasks), (n), (mode), (timeout_ms))
int co_wait_at(co_loc *loc, co_task_t *tasks, size_t n, int mode, int64_t timeout_ms);

/* Await t for at most ms milliseconds.  On expiry cancel t, wait for it to
 * finish its cleanup and return -ETIMEDOUT.  Consumes t.  May suspend. */
#define co_wait_for(t, ms) co_wait_for_at(CO_LOC, (t), (ms))
int co_wait_for_at(co_loc *loc, co_task_t t, int64_t ms);

/* Timeout scope (asyncio.timeout): every await between begin and end returns
 * -ETIMEDOUT once the deadline has passed; end() returns -ETIMEDOUT if an
 * await in it was cut short by its deadline, else 0.  Scopes nest; the
 * earliest deadline applies.  The struct lives on the caller's stack; begin/end must pair in
 * the same task.  Neither suspends. */
typedef struct co_timeout {
    uint64_t deadline;           /* loop ms */
    uint64_t saved_deadline;     /* enclosing effective deadline, restored at end */
    int expired;
    struct co_timeout *outer;
} co_timeout_t;
int co_timeout_begin(co_timeout_t *scope, int64_t ms);
int co_timeout_end(co_timeout_t *scope);

/* Task group (asyncio.TaskGroup, trio nursery).  Tasks spawned in the group
 * are owned by it.  co_group_wait() waits for all; when one fails, the others
 * are cancelled and the first error is returned.  If the waiting task is
 * cancelled, all children are cancelled and awaited.  The group must be
 * waited before it goes out of scope. */
typedef struct co_group {
    uint32_t magic;
    uint32_t count;        /* children not yet ended */
    int first_error;       /* 0 until a child fails */
    void *children;        /* internal list head */
    void *children_tail;
    void *waiter;          /* internal: task in co_group_wait, or NULL */
} co_group_t;
void co_group_init(co_group_t *g);
#define co_group_spawn(g, fn, arg) co_group_spawn_at(CO_LOC, (g), #fn, (fn), (arg))
int co_group_spawn_at(co_loc *loc, co_group_t *g, const char *name, co_fn fn, void *arg);
#define co_group_wait(g) co_group_wait_at(CO_LOC, (g))
int co_group_wait_at(co_loc *loc, co_group_t *g);

/* ------------------------------------------------------------------------ */
/* Wait queues (internal layout, public only so objects can be embedded)    */

typedef struct co_waitq { void *head, *tail; } co_waitq;

/* ------------------------------------------------------------------------ */
/* Futures                                                                   */

/* A one-shot result that plain code (a libuv callback, say) sets and tasks
 * await.  Set/fail never suspend and may be called from any code on the
 * loop's thread; from other threads use co_call_threadsafe (issue 3). */
typedef struct co_future {
    uint32_t magic;
    int state;       /* 0 pending, 1 set, 2 failed */
    int error;       /* valid only if state == 2 */
    void *value;     /* valid only if state == 1 */
    uint64_t id;
    co_waitq waiters;
} co_future_t;
void co_future_init(co_future_t *f);
/* Returns 0, or -EINVAL if already resolved or destroyed. */
int co_future_set(co_future_t *f, void *value);
int co_future_fail(co_future_t *f, int err /* negative */);
int co_future_done(const co_future_t *f);
/* Wait until resolved; *value (may be NULL) gets the value.  Returns 0, the
 * failure error, or -ECANCELED.  May suspend. */
#define co_future_await(f, value) co_future_await_at(CO_LOC, (f), (value))
int co_future_await_at(co_loc *loc, co_future_t *f, void **value);
/* Returns -EBUSY if tasks still wait on it. */
int co_future_destroy(co_future_t *f);

/* ------------------------------------------------------------------------ */
/* Lock                                                                      */

/* FIFO-fair mutex owned by a task: release hands it to the longest waiter.
 * An acquire that would close a cycle in the wait-for graph (A waits for a
 * lock held by B, which waits for one held by A) returns -EDEADLK at once. */
typedef struct co_lock {
    uint32_t magic;
    uint32_t pad_;
    uint64_t id;      /* resource id, unique per process */
    void *owner;      /* internal task pointer, NULL if free */
    co_waitq waiters;
    const char *name; /* optional, not copied */
} co_lock_t;
void co_lock_init(co_lock_t *l);
/* Returns 0 (held), -ECANCELED, -ETIMEDOUT (timeout scope), -EDEADLK,
 * -EINVAL (destroyed), -EPERM (outside a task).  Acquiring a lock the task
 * already holds is -EDEADLK.  May suspend. */
#define co_lock_acquire(l) co_lock_acquire_at(CO_LOC, (l))
int co_lock_acquire_at(co_loc *loc, co_lock_t *l);
/* 0 if taken, -EBUSY if held.  Does not suspend. */
int co_lock_try(co_lock_t *l);
/* -EPERM if the calling task does not hold it.  Does not suspend. */
int co_lock_release(co_lock_t *l);
int co_lock_locked(const co_lock_t *l);
/* -EBUSY if held or waited on. */
int co_lock_destroy(co_lock_t *l);

/* ------------------------------------------------------------------------ */
/* Event                                                                     */

typedef struct co_event {
    uint32_t magic;
    int is_set;
    uint64_t id;
    co_waitq waiters;
    const char *name;
} co_event_t;
void co_event_init(co_event_t *e);
/* Wake every waiter; later waits return at once until co_event_clear. */
int co_event_set(co_event_t *e);
int co_event_clear(co_event_t *e);
int co_event_is_set(const co_event_t *e);
/* Returns 0 once set, -ECANCELED, -ETIMEDOUT.  May suspend. */
#define co_event_wait(e) co_event_wait_at(CO_LOC, (e))
int co_event_wait_at(co_loc *loc, co_event_t *e);
int co_event_destroy(co_event_t *e);

/* ------------------------------------------------------------------------ */
/* Semaphore                                                                 */

/* FIFO-fair counting semaphore.  The bounded variant refuses a release that
 * would raise the value above its initial value (-EOVERFLOW), which catches
 * double releases (asyncio.BoundedSemaphore). */
typedef struct co_sem {
    uint32_t magic;
    int bounded;
    int64_t value;
    int64_t limit;    /* valid only if bounded */
    uint64_t id;
    co_waitq waiters;
    const char *name;
    void *last_taker; /* internal: last task that acquired, for reports */
} co_sem_t;
int co_sem_init(co_sem_t *s, int64_t value);          /* -EINVAL if value < 0 */
int co_sem_init_bounded(co_sem_t *s, int64_t value);
#define co_sem_acquire(s) co_sem_acquire_at(CO_LOC, (s))
int co_sem_acquire_at(co_loc *loc, co_sem_t *s);      /* may suspend */
int co_sem_try(co_sem_t *s);                          /* 0 or -EAGAIN */
int co_sem_release(co_sem_t *s);                      /* 0 or -EOVERFLOW */
int64_t co_sem_value(const co_sem_t *s);
int co_sem_destroy(co_sem_t *s);

/* ------------------------------------------------------------------------ */
/* Condition                                                                 */

typedef struct co_cond {
    uint32_t magic;
    uint32_t pad_;
    uint64_t id;
    co_lock_t *lock;  /* the lock it is used with, set at init */
    co_waitq waiters;
    const char *name;
} co_cond_t;
void co_cond_init(co_cond_t *c, co_lock_t *lock);
/* Release the lock, wait for a notify, re-acquire the lock, return 0.  The
 * lock is held again on every return, -ECANCELED and -ETIMEDOUT included
 * (as in asyncio).  -EPERM if the caller does not hold the lock.  May
 * suspend. */
#define co_cond_wait(c) co_cond_wait_at(CO_LOC, (c))
int co_cond_wait_at(co_loc *loc, co_cond_t *c);
/* Wake up to n waiters (n <= 0: all).  -EPERM if the caller (a task) does
 * not hold the lock.  Returns the number woken. */
int co_cond_notify(co_cond_t *c, int n);
int co_cond_notify_all(co_cond_t *c);
int co_cond_destroy(co_cond_t *c);

/* ------------------------------------------------------------------------ */
/* Queue                                                                     */

/* FIFO queue of void * items, bounded (maxsize > 0) or not (0), with
 * asyncio.Queue's task_done/join accounting. */
typedef struct co_queue {
    uint32_t magic;
    uint32_t pad_;
    uint64_t id;
    size_t maxsize;       /* 0 = unbounded */
    void **buf;           /* ring buffer of cap slots */
    size_t cap, head, len;
    size_t unfinished;    /* items put and not yet task_done */
    co_waitq getters, putters, joiners;
    const char *name;
} co_queue_t;
int co_queue_init(co_queue_t *q, size_t maxsize);     /* 0 or -ENOMEM */
/* Wait for room, then append.  0, -ECANCELED, -ETIMEDOUT.  May suspend. */
#define co_queue_put(q, item) co_queue_put_at(CO_LOC, (q), (item))
int co_queue_put_at(co_loc *loc, co_queue_t *q, void *item);
/* Wait for an item.  0, -ECANCELED, -ETIMEDOUT.  May suspend. */
#define co_queue_get(q, item) co_queue_get_at(CO_LOC, (q), (item))
int co_queue_get_at(co_loc *loc, co_queue_t *q, void **item);
int co_queue_put_nowait(co_queue_t *q, void *item);   /* 0 or -EAGAIN (full) */
int co_queue_get_nowait(co_queue_t *q, void **item);  /* 0 or -EAGAIN (empty) */
/* One item fully processed.  -EINVAL if called more often than put. */
int co_queue_task_done(co_queue_t *q);
/* Wait until every item put has been task_done.  May suspend. */
#define co_queue_join(q) co_queue_join_at(CO_LOC, (q))
int co_queue_join_at(co_loc *loc, co_queue_t *q);
size_t co_queue_size(const co_queue_t *q);
/* Frees the buffer; -EBUSY if tasks wait on it. */
int co_queue_destroy(co_queue_t *q);

/* ------------------------------------------------------------------------ */
/* Threads and processes (thread.c, channel.c, exec.c)                       */
/* @@section-threads@@ */

/* ------------------------------------------------------------------------ */
/* Network and file I/O (tcp.c, dns.c, file.c)                               */
/* @@section-io@@ */

/* ------------------------------------------------------------------------ */
/* Generators (gen.c)                                                        */
/* @@section-gen@@ */

/* ------------------------------------------------------------------------ */
/* Debugging                                                                 */

/* Print every task of the current loop: id, name, state, what it waits on
 * (and who holds it, for a lock), spawn and await sites. */
void co_dump(FILE *out);

#ifdef __cplusplus
}
#endif
#endif /* COSCOPE_H */
