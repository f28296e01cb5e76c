/* SPDX-License-Identifier: MIT */
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
 * `id` and `epoch` belong to the tracer. */
typedef struct co_loc {
    const char *file;
    const char *func;
    int line;
    uint32_t id;    /* written by the tracer: location id, valid only if epoch matches */
    uint32_t epoch; /* the trace session id was interned for; 0 = never */
} co_loc;

/* The current call site as a `co_loc *`: a static per call site, so the
 * tracer interns it once (id, epoch) and a task can keep the pointer.  ISO C
 * has no expression that defines a static (a compound literal in a function
 * is automatic; C23's `(static T){...}` is not C11), so this is a GNU
 * statement expression, marked __extension__: a program built with
 * -std=c11 -Wpedantic -Werror compiles clean with gcc and clang
 * (tests/pkg/pedantic.c). */
#if defined(__GNUC__) || defined(__clang__)
#define CO_LOC (__extension__({ static co_loc co__here = { __FILE__, __func__, __LINE__, 0, 0 }; &co__here; }))
#else
#error "coscope.h needs GNU C statement expressions (gcc, clang, or a compiler that has them)"
#endif

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
    /* Debug mode: warnings on stderr.  -1 = from $CO_DEBUG, 0 = off, 1 = on.
     * It reports task steps slower than slow_ms ("slow step", naming the two
     * awaits around the blocking code), runs a watchdog that prints the loop
     * thread's stack while a step overruns it, and dumps every task on
     * SIGQUIT (co_dump; the process goes on).  Outside debug mode SIGQUIT
     * dumps and then quits, as Go does, if the program left SIGQUIT at its
     * default. */
    int debug;
    /* Slow-step threshold in ms.  0 = $CO_SLOW_MS, else $COSCOPE_SLOW_MS, else
     * 100 (asyncio's slow_callback_duration); < 0 (or 0 in those variables)
     * = no slow-step reports and no watchdog. */
    int slow_ms;
    /* co_loop_free (and co_run's end) cancels the tasks still alive and
     * lets them clean up for at most this many ms; a task that ignores
     * its cancellation (catches -ECANCELED and awaits again) is then
     * reported on stderr (and in the trace, `cancel_ignored`) and
     * abandoned: its stack is freed without it running again, so the
     * program never hangs in its own shutdown.  0 = $CO_SHUTDOWN_GRACE_MS,
     * else 2000 ms; negative (or 0 in the environment) = 1 ms, cleanup
     * that does not wait. */
    int shutdown_grace_ms;
} co_loop_opts;

/* Create a loop for the calling thread.  One loop per thread: a second
 * co_loop_new() on the same thread returns -EBUSY.  `opts` may be NULL.
 * On success *out owns the loop until co_loop_free().
 * The first loop of a process arms `coscope attach PID`: a handler for the
 * signal $COSCOPE_ATTACH_SIGNAL (SIGUSR1, SIGUSR2 or a real-time signal;
 * default SIGRTMIN+8; 0 = never attachable), installed with SA_RESTART and
 * never over a handler the program installed first (then attaching is off,
 * said once through the log hook).  Nothing else runs until coscope asks:
 * the handler wakes the loops, which answer between tasks (runtime/attach.c). */
int co_loop_new(co_loop_t **out, const co_loop_opts *opts);

/* Run `main(arg)` as the loop's main task, driving the loop until that task
 * ends.  Returns main's result.  Must be called on the loop's thread and not
 * from inside a task.  Returns -EDEADLK, after printing every waiting task on
 * stderr, if every task is blocked and nothing (timer, I/O, thread work)
 * could ever wake one: Go's "all goroutines are asleep".  The main task is
 * named "main" and its spawn site is the call of co_loop_run. */
#define co_loop_run(loop, main, arg) co_loop_run_at(CO_LOC, (loop), (main), (arg))
int co_loop_run_at(co_loc *loc, co_loop_t *loop, int (*main)(void *), void *arg);

/* Cancel every task still alive, let them run their cleanup (for at most
 * co_loop_opts.shutdown_grace_ms: see there), report on stderr the tasks
 * that were pending, never awaited, or ignored their cancellation, and
 * free the loop.
 * Returns 0, or -EBUSY if called from inside one of the loop's tasks. */
int co_loop_free(co_loop_t *loop);

/* The calling thread's loop, or NULL. */
co_loop_t *co_loop_current(void);

/* The libuv loop under `loop` (a uv_loop_t *), for I/O written directly
 * against libuv. */
void *co_loop_uv(co_loop_t *loop);

/* asyncio.run: new loop, run main to completion, free the loop (cancelling
 * and reporting leftovers).  Returns main's result or a loop error.  The
 * main task's spawn site is the call of co_run. */
#define co_run(main, arg) co_run_at(CO_LOC, (main), (arg))
int co_run_at(co_loc *loc, int (*main)(void *), void *arg);

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

/* What a waiting task waits on: CO_WAIT_<ID> from the list below, which
 * also gives the name co_wait_kind_name() returns and traces store (one
 * list, so a kind and its name cannot drift apart).  Stable numbers and
 * names: the tracer stores them; append only. */
#define CO_WAIT_NAME_TASK "task"   /* a name SQL uses: written once, here */
#define CO_WAIT_KINDS(X)                                                          \
    X(NONE, "none")                                                               \
    X(YIELD, "yield")                /* co_yield: ready again at once */          \
    X(SLEEP, "sleep")                /* co_sleep */                               \
    X(TASK, CO_WAIT_NAME_TASK)       /* co_await / co_wait_for on one task */     \
    X(TASKS, "tasks")                /* co_gather / co_wait on several */         \
    X(GROUP, "group")                /* co_group_wait */                          \
    X(FUTURE, "future")                                                           \
    X(LOCK, "lock")                                                               \
    X(EVENT, "event")                                                             \
    X(SEM, "semaphore")                                                           \
    X(COND, "condition")                                                          \
    X(QUEUE_GET, "queue_get")                                                     \
    X(QUEUE_PUT, "queue_put")                                                     \
    X(QUEUE_JOIN, "queue_join")                                                   \
    X(THREAD, "thread")              /* co_to_thread: libuv's thread pool */      \
    X(PROCESS, "process")            /* co_exec */                                \
    X(CHANNEL_SEND, "channel_send")                                               \
    X(CHANNEL_RECV, "channel_recv")                                               \
    X(TCP_CONNECT, "tcp_connect")                                                 \
    X(TCP_ACCEPT, "tcp_accept")                                                   \
    X(TCP_READ, "tcp_read")                                                       \
    X(TCP_WRITE, "tcp_write")                                                     \
    X(TCP_SHUTDOWN, "tcp_shutdown")                                               \
    X(DNS, "dns")                                                                 \
    X(FILE, "file")                  /* file read/write/open/close */             \
    X(GEN, "generator")              /* a generator's consumer or body */

typedef enum co_wait_kind {
#define CO__WAIT_ENUM(id, name) CO_WAIT_##id,
    CO_WAIT_KINDS(CO__WAIT_ENUM)
#undef CO__WAIT_ENUM
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
 * If t ended before the cancelled caller ran again, t's result is returned
 * (t is consumed) and the cancellation is kept, as after a hand-off
 * (co_cancel).
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
 * await again in its cleanup.
 *
 * The one rule around a wake: nothing handed over is lost or duplicated.  A
 * task that was woken but has not run yet keeps what woke it: its call
 * returns that result, and the cancellation is delivered at its next await
 * (a co_yield returns it itself).  If the wake handed it something -- a
 * queue item (co_queue_get), room and its item taken (co_queue_put), a
 * semaphore unit, a lock (co_lock_acquire, co_cond_wait), a future's value,
 * a channel message, an awaited task's result (co_await, co_gather,
 * co_wait_for, co_group_wait), bytes read, a process's status, pool work's
 * result -- and the task returns before awaiting again, it ends with its
 * own result: the operation happened, so the task does not read as
 * cancelled, and the trace records the request as kept after a hand-off.
 * A task that cancels itself, or that is cancelled while nothing was handed
 * to it (before it started, after a sleep or an event), and returns a
 * result (>= 0) without awaiting again ends CANCELLED with -ECANCELED, its
 * result dropped, as asyncio does (test_cancel_at_end); an error it returns
 * stays its error.  So a CANCELLED task did not complete the operation it
 * was cancelled in, and a task that completed it ends with its result.
 * Returns 1 if the request was made, 0 if the task had already ended,
 * -ESRCH if stale.  Does not suspend. */
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

/* "No deadline": the one timeout value that means "wait as long as it
 * takes", for every function that takes a timeout (co_wait, co_wait_for,
 * co_timeout_begin) and for co_sleep (sleep until cancelled, with no timer
 * that would keep the loop awake).  Every other negative timeout has
 * already expired, as in asyncio (timeout <= 0): a remaining time computed
 * as `deadline - now` goes negative exactly when it is late, and must not
 * silently turn the timeout off.  (Before this constant, any negative value
 * meant "forever"; pass CO_NO_TIMEOUT where -1 was meant that way.) */
#define CO_NO_TIMEOUT INT64_MAX

/* Suspend for ms milliseconds (ms <= 0: co_yield; CO_NO_TIMEOUT: until
 * cancelled).  Returns 0, -ECANCELED, or -ETIMEDOUT if an enclosing timeout
 * scope expires first (co_sleep(0) too, as co_yield).  May suspend. */
#define co_sleep(ms) co_sleep_at(CO_LOC, (ms))
int co_sleep_at(co_loc *loc, int64_t ms);

/* Let every other ready task run once, then continue (asyncio.sleep(0)).
 * Returns 0, -ECANCELED if the task is cancelled before or while it waits
 * for its turn, or -ETIMEDOUT if an enclosing timeout scope's deadline has
 * passed before or while it waits (the clock is read afresh, so a CPU-bound
 * loop that yields now and then does time out).  May suspend. */
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
 * cancelled and awaited and -ECANCELED is returned; results[] still says how
 * each ended (one that finished what it was handed has its result there, see
 * co_cancel).  Consumes every handle
 * (stale ones give -ESRCH in results[]).  May suspend. */
#define co_gather(tasks, n, results, flags) co_gather_at(CO_LOC, (tasks), (n), (results), (flags))
int co_gather_at(co_loc *loc, co_task_t *tasks, size_t n, int *results, int flags);

enum { CO_WAIT_ALL = 0, CO_WAIT_FIRST_COMPLETED = 1, CO_WAIT_FIRST_ERROR = 2 };

/* asyncio.wait: suspend until `mode` is satisfied or timeout_ms passes
 * (CO_NO_TIMEOUT: no timeout; <= 0: already expired, so it only counts what
 * has ended).  Returns the number of ended tasks (0 on a timeout with none
 * ended), or -ECANCELED, or -ETIMEDOUT from an enclosing scope.  Once
 * FIRST_COMPLETED or FIRST_ERROR is satisfied it yields once more before
 * counting, so tasks that end in the same loop turn are counted too: asyncio
 * wakes its waiter through two callbacks, and test_wait_really_done expects
 * both tasks of that turn in `done`.  Does not consume handles: check
 * co_task_done() and co_await() each ended task to collect it.  May suspend. */
#define co_wait(tasks, n, mode, timeout_ms) co_wait_at(CO_LOC, (tasks), (n), (mode), (timeout_ms))
int co_wait_at(co_loc *loc, co_task_t *tasks, size_t n, int mode, int64_t timeout_ms);

/* Await t for at most ms milliseconds (CO_NO_TIMEOUT: no limit; <= 0:
 * already expired, so a t that has not ended is cancelled at once).  On
 * expiry cancel t and wait for it to finish its cleanup; return -ETIMEDOUT
 * if t ended cancelled, else what t returned: a t that swallows its
 * cancellation and returns a result (or fails) gives that result (or
 * error), as asyncio.wait_for does.  If the caller is cancelled, t is
 * cancelled too and, once t has ended, -ECANCELED is returned if t ended
 * cancelled; if it did not (it finished what it was handed, co_cancel), its
 * result or error is returned and the caller's cancellation is kept for its
 * next await, as after any hand-off.  Consumes t.  May suspend. */
#define co_wait_for(t, ms) co_wait_for_at(CO_LOC, (t), (ms))
int co_wait_for_at(co_loc *loc, co_task_t t, int64_t ms);

/* Timeout scope (asyncio.timeout): every await between begin and end returns
 * -ETIMEDOUT once the deadline has passed, co_yield and co_sleep(0)
 * included; end() returns -ETIMEDOUT if an await in it was cut short by its
 * deadline, else 0.  ms: CO_NO_TIMEOUT for none (asyncio.timeout(None)),
 * <= 0 already expired (the first await fails).  Scopes nest; the earliest
 * deadline applies.  The struct lives on the caller's stack; begin/end must pair in
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
 * waited before it goes out of scope.
 *
 * The task that calls co_group_init is the group's owner: the body of
 * asyncio's `async with TaskGroup()`.  When a child fails while the owner has
 * not yet reached co_group_wait, the owner is cancelled too (its current or
 * next await returns -ECANCELED), as asyncio cancels the body, so that it
 * stops what it is doing and goes to co_group_wait.  co_group_wait, called by
 * the owner, takes that one cancellation back: it returns the child's error,
 * and co_cancelling() drops by one (a cancellation from elsewhere stays).
 * co_group_init outside a task gives a group without an owner. */
typedef struct co_group {
    uint32_t magic;
    uint32_t count;        /* children not yet ended */
    int first_error;       /* 0 until a child fails */
    void *children;        /* internal list head */
    void *children_tail;
    void *waiter;          /* internal: task in co_group_wait, or NULL */
    co_task_t owner;       /* the task that called co_group_init, or {0} */
    int owner_cancelled;   /* internal: the group cancelled its owner */
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
/* Initialise.  The macro names the object after its expression (`&db_lock`
 * shows as "db_lock" in traces); _named gives a name (not copied). */
#define co_future_init(f) co_future_init_at(CO_LOC, (f), #f)
#define co_future_init_named(f, name) co_future_init_at(CO_LOC, (f), (name))
void co_future_init_at(co_loc *loc, co_future_t *f, const char *name);
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
    uint32_t owner_gen; /* generation of owner's slot: a freed owner never matches */
    uint64_t id;      /* resource id, unique per process */
    void *owner;      /* internal task pointer, NULL if free */
    co_waitq waiters;
    const char *name; /* optional, not copied */
} co_lock_t;
/* Initialise.  The macro names the object after its expression (`&db_lock`
 * shows as "db_lock" in traces); _named gives a name (not copied). */
#define co_lock_init(l) co_lock_init_at(CO_LOC, (l), #l)
#define co_lock_init_named(l, name) co_lock_init_at(CO_LOC, (l), (name))
void co_lock_init_at(co_loc *loc, co_lock_t *l, const char *name);
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
/* Initialise.  The macro names the object after its expression (`&db_lock`
 * shows as "db_lock" in traces); _named gives a name (not copied). */
#define co_event_init(e) co_event_init_at(CO_LOC, (e), #e)
#define co_event_init_named(e, name) co_event_init_at(CO_LOC, (e), (name))
void co_event_init_at(co_loc *loc, co_event_t *e, const char *name);
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
    void *last_taker;        /* internal: last task that acquired, for reports; */
    uint32_t last_taker_gen; /* ... valid only while its slot generation matches */
    uint64_t last_taker_id;  /* its task id, kept after it is freed */
} co_sem_t;
/* 0, or -EINVAL if value < 0.  Named after the expression, as co_lock_init. */
#define co_sem_init(s, value) co_sem_init_at(CO_LOC, (s), (value), 0, #s)
#define co_sem_init_bounded(s, value) co_sem_init_at(CO_LOC, (s), (value), 1, #s)
#define co_sem_init_named(s, value, name) co_sem_init_at(CO_LOC, (s), (value), 0, (name))
int co_sem_init_at(co_loc *loc, co_sem_t *s, int64_t value, int bounded, const char *name);
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
/* Initialise.  The macro names the object after its expression (`&db_lock`
 * shows as "db_lock" in traces); _named gives a name (not copied). */
#define co_cond_init(c, lock) co_cond_init_at(CO_LOC, (c), (lock), #c)
#define co_cond_init_named(c, lock, name) co_cond_init_at(CO_LOC, (c), (lock), (name))
void co_cond_init_at(co_loc *loc, co_cond_t *c, co_lock_t *lock, const char *name);
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
/* 0 or -ENOMEM.  Named after the expression, as co_lock_init. */
#define co_queue_init(q, maxsize) co_queue_init_at(CO_LOC, (q), (maxsize), #q)
#define co_queue_init_named(q, maxsize, name) co_queue_init_at(CO_LOC, (q), (maxsize), (name))
int co_queue_init_at(co_loc *loc, co_queue_t *q, size_t maxsize, const char *name);
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

/* Calls from other threads.  A loop and its objects belong to one thread;
 * these are the ways in from elsewhere. */

/* Run fn(arg) on `loop`'s thread soon.  Callable from ANY thread (from the
 * loop's own thread too: the call is queued, never run inline).  Calls run
 * in the order they were accepted; fn runs as plain code on the loop's thread
 * (not in a task: it must not suspend, but may co_spawn, set futures, ...).
 * Returns 0, -ENOMEM, or -EINVAL if the loop is freed or being freed (found
 * out without touching the loop's memory; a new loop that happens to get the
 * same address would receive the call).  Calls accepted before co_loop_free
 * runs are still run (by co_loop_free at the latest).
 * A loop does not stay alive waiting for calls that might come: a task
 * awaiting something only a co_call_threadsafe will provide is "asleep"
 * (co_loop_run gives -EDEADLK) unless the loop is held with co_loop_ref. */
int co_call_threadsafe(co_loop_t *loop, void (*fn)(void *), void *arg);

/* Hold `loop` alive for calls from other threads: while a reference is held,
 * co_loop_run never decides that its tasks are all asleep (it keeps waiting).
 * co_loop_ref must be called on the loop's thread (-EINVAL otherwise;
 * -ENOMEM) and also prepares the loop for co_call_threadsafe.  co_loop_unref
 * may be called from any thread; from the loop's thread it returns -EINVAL if
 * no reference is held, from others the drop takes effect on the loop's
 * thread soon (extra drops are ignored).  Counted: n refs need n unrefs.
 * Typical use: ref, hand the loop to a thread, and have that thread's last
 * co_call_threadsafe(...) be followed by co_loop_unref(loop). */
int co_loop_ref(co_loop_t *loop);
int co_loop_unref(co_loop_t *loop);

/* Blocking work on libuv's thread pool (asyncio.to_thread). */
typedef void *(*co_thread_fn)(void *arg);

/* Run fn(arg) on a thread of libuv's pool (UV_THREADPOOL_SIZE threads, 4 by
 * default) and wait for it; the loop keeps running other tasks meanwhile.
 * On success returns 0 and stores fn's result in *out (if out != NULL).
 * fn runs on another thread: it must not touch the loop or its objects
 * (use co_call_threadsafe or a channel to talk back).
 * Cancellation (and timeout scopes): if fn has not started, it never will
 * and co_to_thread returns -ECANCELED (-ETIMEDOUT).  If it has started, it
 * CANNOT be interrupted: co_to_thread still returns -ECANCELED at once, fn
 * runs to completion in the background and its result is dropped (*out is
 * not written; if the result owns memory, fn must not rely on the caller to
 * free it).  co_loop_free waits for such background work before freeing the
 * loop, since its completion is reported through the loop.
 * Errors: -EPERM outside a task, -EINVAL if fn is NULL, -ENOMEM.
 * May suspend. */
#define co_to_thread(fn, arg, out) co_to_thread_at(CO_LOC, (fn), (arg), (out))
int co_to_thread_at(co_loc *loc, co_thread_fn fn, void *arg, void **out);

/* Channels: FIFO queues of void * values that any number of tasks on any
 * number of loops/threads can send to and receive from concurrently (Go's
 * channels).  Unlike the other objects, a channel is a heap object shared
 * between threads, protected by its own mutex.
 *
 * Lifetime: reference counted.  co_chan_new returns one reference; give
 * each thread (or owner) its own with co_chan_ref and drop it with
 * co_chan_unref; the last drop frees the channel.  A task blocked in
 * co_chan_send/recv holds a reference of its own while it waits, so dropping
 * references never frees a channel under a waiter.  Closing (co_chan_close)
 * is separate from freeing: it tells receivers no more values will come. */
typedef struct co_chan co_chan_t;

/* A channel buffering up to `capacity` values; 0 makes it unbuffered (a send
 * waits for a receiver to take the value, as in Go).  NULL if out of memory. */
co_chan_t *co_chan_new(size_t capacity);
co_chan_t *co_chan_ref(co_chan_t *ch); /* returns ch */
void co_chan_unref(co_chan_t *ch);     /* NULL is ignored */

/* Send v: hand it to a waiting receiver, or buffer it, or wait (in FIFO
 * order with other senders) until there is room.  Returns 0 once the value
 * is in the channel, -EPIPE if the channel is or gets closed before that (v
 * was not sent), -ECANCELED / -ETIMEDOUT (v was not sent), -EPERM outside a
 * task, -EINVAL, -ENOMEM.  A cancellation that races with the value being
 * taken loses: the call returns 0 and the cancellation is delivered at the
 * task's next await, so a value is never both sent and reported unsent
 * (co_cancel: the rule around a wake).
 * While a task waits here its loop stays alive (another thread may wake it);
 * if nothing ever does, it waits forever rather than reporting -EDEADLK.
 * May suspend. */
#define co_chan_send(ch, v) co_chan_send_at(CO_LOC, (ch), (v))
int co_chan_send_at(co_loc *loc, co_chan_t *ch, void *v);

/* Receive the oldest value into *v (v may be NULL), waiting if there is none.
 * Returns 0, -EPIPE once the channel is closed and drained, -ECANCELED /
 * -ETIMEDOUT (nothing was taken), -EPERM, -EINVAL, -ENOMEM.  As with send, a
 * value taken in a race with a cancellation is returned (0) and the
 * cancellation is delivered at the next await: values are never lost.
 * May suspend. */
#define co_chan_recv(ch, v) co_chan_recv_at(CO_LOC, (ch), (v))
int co_chan_recv_at(co_loc *loc, co_chan_t *ch, void **v);

/* Non-blocking forms: -EAGAIN instead of waiting.  Callable from any thread,
 * with or without a loop. */
int co_chan_try_send(co_chan_t *ch, void *v);
int co_chan_try_recv(co_chan_t *ch, void **v);

/* Close: later sends get -EPIPE, waiting senders get -EPIPE (their values are
 * dropped), receivers get the buffered values and then -EPIPE.  Returns 0,
 * or -EPIPE if already closed.  Any thread. */
int co_chan_close(co_chan_t *ch);
/* Values buffered now (a snapshot).  Any thread. */
size_t co_chan_len(co_chan_t *ch);

/* Child processes. */

enum { CO_EXEC_STDOUT = 1, CO_EXEC_STDERR = 2 };

typedef struct co_exec_opts {
    /* Inputs. */
    const char *cwd;          /* NULL: the parent's */
    const char *const *env;   /* NULL-terminated "NAME=value" list; NULL: the
                                 parent's environment.  PATH lookup of argv[0]
                                 uses this environment's PATH. */
    int capture;              /* CO_EXEC_STDOUT | CO_EXEC_STDERR: collect that
                                 output; what is not captured is inherited */
    int kill_grace_ms;        /* on cancellation: SIGTERM, then SIGKILL after
                                 this long; <= 0 means 2000 */
    /* Outputs, set by co_exec_with on success (NULL/0 otherwise): the
     * captured bytes, NUL-terminated, malloc'd; the caller frees them. */
    char *out;
    size_t out_len;
    char *err;
    size_t err_len;
} co_exec_opts;

/* Run argv[0] (searched in PATH if it has no '/') with arguments argv (NULL-
 * terminated) and wait for it to exit.  stdin is /dev/null.  Returns 0 once
 * the child has exited, with *status (if status != NULL) set to its exit code
 * (0-255), or 128 + the signal number if a signal killed it (the shell's
 * convention: SIGKILL gives 137).  Errors: -ENOENT (program not found),
 * -EACCES and other spawn errors, -EINVAL (empty argv), -ENOMEM (capture
 * buffer; the child is still reaped), -EPERM outside a task.
 * Cancellation or a timeout scope sends the child SIGTERM (SIGKILL after the
 * grace period), waits until it is reaped, then returns -ECANCELED /
 * -ETIMEDOUT; the child never outlives the call.  Captured output is read
 * until the child's pipes close, so a background grandchild holding them open
 * delays the return.  May suspend. */
#define co_exec(argv, status) co_exec_at(CO_LOC, (argv), NULL, (status))
#define co_exec_with(argv, opts, status) co_exec_at(CO_LOC, (argv), (opts), (status))
int co_exec_at(co_loc *loc, const char *const argv[], co_exec_opts *opts, int *status);

/* ------------------------------------------------------------------------ */
/* Network and file I/O (tcp.c, dns.c, file.c)                               */
/* @@section-io@@ */

/* Every I/O wait below goes through the one await path: co_dump and the
 * tracer show the task as waiting on tcp_read/tcp_write/.../dns/file, on the
 * object's resource id.  Each may be cut short by co_cancel (-ECANCELED) or
 * by a timeout scope (-ETIMEDOUT); what then happens to the operation is
 * documented per function.  Errors are negative errno (libuv's UV_E* codes
 * are the same numbers on Unix), except name lookups, which can also return
 * libuv's UV_EAI_* codes (negative, distinct from errno); co_strerror names
 * them all. */

struct addrinfo;
struct sockaddr_storage;

/* --- Name resolution (dns.c) --------------------------------------------- */

/* getaddrinfo(3) on libuv's thread pool.  host or service may be NULL (not
 * both); hints may be NULL (= any family, SOCK_STREAM).  On success returns
 * 0 and *res is a list the caller frees with co_freeaddrinfo().  Errors:
 * UV_EAI_NONAME (no such host, or a non-numeric host with AI_NUMERICHOST),
 * UV_EAI_AGAIN, UV_EAI_SERVICE, ... as negative UV_EAI_* codes; -ENOMEM;
 * -ECANCELED / -ETIMEDOUT.  A cancelled lookup already running on a pool
 * thread cannot be stopped: the call returns at once and the result is freed
 * when the lookup ends.  May suspend. */
#define co_getaddrinfo(host, service, hints, res) co_getaddrinfo_at(CO_LOC, (host), (service), (hints), (res))
int co_getaddrinfo_at(co_loc *loc, const char *host, const char *service,
                      const struct addrinfo *hints, struct addrinfo **res);
/* Free a list from co_getaddrinfo (NULL is fine).  Does not suspend. */
void co_freeaddrinfo(struct addrinfo *ai);

/* The first TCP address of host:port into *out (a struct sockaddr_storage
 * holding a sockaddr_in or sockaddr_in6).  A numeric host ("127.0.0.1",
 * "::1") is parsed without suspending; a name is looked up as by
 * co_getaddrinfo.  host NULL or "" means the IPv4 wildcard 0.0.0.0.
 * Errors as co_getaddrinfo, -EINVAL for a port outside 0..65535.  May
 * suspend. */
#define co_resolve(host, port, out) co_resolve_at(CO_LOC, (host), (port), (out))
int co_resolve_at(co_loc *loc, const char *host, int port, struct sockaddr_storage *out);

/* --- TCP (tcp.c) ----------------------------------------------------------- */

/* A TCP listener or connection.  Opaque and heap-allocated by listen,
 * accept and connect; it belongs to the loop of the thread that made it and
 * stays valid until co_tcp_close().  Connections have TCP_NODELAY set.
 *
 * Reading: once a task has read, the connection keeps reading into an
 * internal buffer, so bytes that arrive while no task is in a read are kept
 * for the next one (never lost).  Reading pauses while 64 KiB are buffered
 * unread, so a peer that outpaces the reader is held back by TCP flow
 * control.  One task may read a connection at a time (-EBUSY otherwise);
 * any number may write, and their writes go out whole, in call order.
 *
 * SIGPIPE: the first socket coscope makes sets SIGPIPE to SIG_IGN if it is
 * still at its default (as Python and Node do), so writing to a connection
 * the peer reset returns -EPIPE instead of killing the process.  A handler
 * the program installed is left alone. */
typedef struct co_tcp co_tcp_t;

/* Listen on host:port (port 0: the system picks one, see co_tcp_local_port).
 * backlog <= 0 means SOMAXCONN.  *srv gets the listener.  Errors:
 * -EADDRINUSE, -EACCES, resolver errors (a host name is resolved first),
 * -ENOMEM.  May suspend (only to resolve a host name). */
#define co_tcp_listen(srv, host, port, backlog) co_tcp_listen_at(CO_LOC, (srv), (host), (port), (backlog))
int co_tcp_listen_at(co_loc *loc, co_tcp_t **srv, const char *host, int port, int backlog);

/* Wait for the next incoming connection; *conn gets it.  Several tasks may
 * wait on one listener: connections go to them in FIFO order.  A cancelled
 * accept takes no connection (it stays queued for the next accept).
 * Errors: -ECANCELED, -ETIMEDOUT, -EBADF (listener closed meanwhile),
 * -EINVAL (not a listener), -EMFILE and other accept(2) errors, -ENOMEM.
 * May suspend. */
#define co_tcp_accept(srv, conn) co_tcp_accept_at(CO_LOC, (srv), (conn))
int co_tcp_accept_at(co_loc *loc, co_tcp_t *srv, co_tcp_t **conn);

/* Connect to host:port.  A name is resolved first and each of its addresses
 * is tried in turn until one connects; the last error is returned if none
 * does (-ECONNREFUSED, -ENETUNREACH, -ETIMEDOUT from the kernel, resolver
 * errors).  On cancellation (or a timeout scope) the half-made socket is
 * closed and nothing is returned.  May suspend. */
#define co_tcp_connect(conn, host, port) co_tcp_connect_at(CO_LOC, (conn), (host), (port))
int co_tcp_connect_at(co_loc *loc, co_tcp_t **conn, const char *host, int port);

/* Read up to len bytes (at most INT_MAX).  Returns the number read (> 0) as
 * soon as any bytes are available, 0 at end of stream (and at every later
 * read), or an error: -ECONNRESET, -ETIMEDOUT, ... (sticky: later reads
 * return it again once buffered bytes are drained), -EBUSY (another task is
 * reading), -EBADF (closed).  Cancelled (-ECANCELED / -ETIMEDOUT from a
 * scope): no bytes were taken; whatever arrives stays buffered for the next
 * read.  len 0 returns 0 at once.  May suspend. */
#define co_tcp_read(conn, buf, len) co_tcp_read_at(CO_LOC, (conn), (buf), (len))
int co_tcp_read_at(co_loc *loc, co_tcp_t *conn, void *buf, size_t len);

/* Read exactly len bytes (at most INT_MAX).  Returns len; 0 if the stream
 * ended before the first byte (a clean end between messages); -EPIPE if it
 * ended part-way (the partial bytes are in buf, the stream is at its end);
 * or a read error.  All or nothing under cancellation: a cancelled (or
 * timed out) read_exact puts the bytes it had taken back in front of the
 * stream, so the next read sees them again.  May suspend. */
#define co_tcp_read_exact(conn, buf, len) co_tcp_read_exact_at(CO_LOC, (conn), (buf), (len))
int co_tcp_read_exact_at(co_loc *loc, co_tcp_t *conn, void *buf, size_t len);

/* Write all len bytes.  Returns 0 once the kernel has taken all of them (it
 * returns without suspending when the socket has room), or an error:
 * -EPIPE, -ECONNRESET, -EBADF (closed), -ENOMEM.  The caller's buffer is
 * free to reuse as soon as this returns, whatever it returns: what the
 * kernel did not take at once is copied.  Cancelled (-ECANCELED /
 * -ETIMEDOUT): the connection stays usable and the rest of the data is
 * still sent, in the background and in order before any later write; a
 * failure of that background send is returned by the next write.  May
 * suspend. */
#define co_tcp_write(conn, buf, len) co_tcp_write_at(CO_LOC, (conn), (buf), (len))
int co_tcp_write_at(co_loc *loc, co_tcp_t *conn, const void *buf, size_t len);

/* Half-close: wait until every queued write is sent, then send FIN (the
 * peer reads end of stream; this side can still read).  Cancelled: the
 * shutdown still happens in the background.  May suspend. */
#define co_tcp_shutdown(conn) co_tcp_shutdown_at(CO_LOC, (conn))
int co_tcp_shutdown_at(co_loc *loc, co_tcp_t *conn);

/* Close a listener or connection and free it; the pointer is invalid
 * afterwards.  Does not suspend: the socket is closed at once and the memory
 * freed once libuv and every task inside a call on it are done with it.
 * Tasks waiting on it return -EBADF (reads, accepts, writes and shutdowns
 * in progress); writes not yet sent are dropped (co_tcp_shutdown first for
 * a graceful end).  Returns 0, -EBADF if already closing. */
int co_tcp_close(co_tcp_t *conn);
/* Same, but abort the connection with an RST (SO_LINGER 0): the peer's
 * reads and writes fail with -ECONNRESET.  -EINVAL on a listener. */
int co_tcp_close_reset(co_tcp_t *conn);

/* Local port of a listener or connection (the one the system picked for
 * port 0), or a negative errno.  Does not suspend. */
int co_tcp_local_port(co_tcp_t *conn);
/* The peer's numeric address (into host, cap bytes, "127.0.0.1" or "::1";
 * may be NULL) and port (may be NULL).  0, -ENOTCONN, -ENOSPC (cap too
 * small).  Does not suspend. */
int co_tcp_peer(co_tcp_t *conn, char *host, size_t cap, int *port);
/* TCP_NODELAY on (1, the default) or off (0).  Does not suspend. */
int co_tcp_nodelay(co_tcp_t *conn, int on);
/* The uv_tcp_t underneath (as void *), for options coscope does not wrap.
 * Do not read, write or close through it. */
void *co_tcp_uv(co_tcp_t *conn);
/* The resource id tracer events and co_dump show for waits on conn. */
uint64_t co_tcp_id(co_tcp_t *conn);

/* --- Files (file.c) --------------------------------------------------------- */

/* An open file: caller-allocated, set up by co_file_open, dead after
 * co_file_close (any later use is -EINVAL).  Operations run on libuv's
 * thread pool.  A file operation cannot be interrupted once a pool thread
 * runs it: a cancelled (or timed out) call returns -ECANCELED (-ETIMEDOUT)
 * at once, the operation finishes in the background, and its memory is
 * freed when it does; coscope copies data through its own buffers so the
 * caller's buffer is never touched after the call returns. */
typedef struct co_file {
    uint32_t magic;
    int fd;          /* the descriptor, -1 when not open */
    uint64_t id;     /* resource id shown by co_dump and the tracer */
} co_file_t;

/* Open path with open(2) flags (O_RDONLY, O_WRONLY|O_CREAT|O_TRUNC, ...) and
 * mode (for O_CREAT).  0 or -ENOENT, -EACCES, ...  If cancelled after the
 * open started, a descriptor it produces is closed in the background.  May
 * suspend. */
#define co_file_open(f, path, flags, mode) co_file_open_at(CO_LOC, (f), (path), (flags), (mode))
int co_file_open_at(co_loc *loc, co_file_t *f, const char *path, int flags, int mode);

/* Read up to len bytes at offset (offset < 0: at the file position, which
 * advances).  Returns the count (at most 1 MiB per call; fewer than asked is
 * not an error), 0 at end of file, or an error.  May suspend. */
#define co_file_read(f, buf, len, offset) co_file_read_at(CO_LOC, (f), (buf), (len), (offset))
int co_file_read_at(co_loc *loc, co_file_t *f, void *buf, size_t len, int64_t offset);

/* Write all len bytes at offset (offset < 0: at the file position).
 * Returns 0 once all are written, or an error (-ENOSPC, ...).  A cancelled
 * write may have written a prefix of the data; the chunk in progress
 * finishes in the background.  May suspend. */
#define co_file_write(f, buf, len, offset) co_file_write_at(CO_LOC, (f), (buf), (len), (offset))
int co_file_write_at(co_loc *loc, co_file_t *f, const void *buf, size_t len, int64_t offset);

/* Close.  f is dead afterwards whatever this returns; a cancelled close
 * still closes the descriptor in the background.  May suspend. */
#define co_file_close(f) co_file_close_at(CO_LOC, (f))
int co_file_close_at(co_loc *loc, co_file_t *f);

/* Whole-file helpers.  read_all: *data gets a malloc'd copy of the file
 * (plus a NUL byte not counted in *len, so text can be used as a string);
 * the caller frees it; nothing is returned on error.  write_all: create or
 * truncate path (mode 0666 minus umask) and write data.  Both close the file
 * on every path.  May suspend. */
#define co_file_read_all(path, data, len) co_file_read_all_at(CO_LOC, (path), (data), (len))
int co_file_read_all_at(co_loc *loc, const char *path, void **data, size_t *len);
#define co_file_write_all(path, data, len) co_file_write_all_at(CO_LOC, (path), (data), (len))
int co_file_write_all_at(co_loc *loc, const char *path, const void *data, size_t len);

/* ------------------------------------------------------------------------ */
/* Generators (gen.c)                                                        */
/* @@section-gen@@ */

/* Generators: Python's async generators and `async for`.  The body,
 * `int fn(co_gen_t *g, void *arg)`, runs as its own task (named after fn,
 * spawned at the co_gen_new call site) and may await anything between
 * co_gen_yield calls.  It is lazy: it first runs when a consumer asks for a
 * value, and after each yield it stays suspended until the next request.
 * A body returns 0 when done or a negative error, as a task does.
 *
 *     static int numbers(co_gen_t *g, void *arg)
 *     {
 *         int r = 0;
 *         for (intptr_t i = 1; i <= 3 && r == 0; i++) {
 *             r = co_sleep(10);             // any await between yields
 *             if (r == 0) r = co_gen_yield(g, (void *)i);
 *         }
 *         // cleanup runs here on every exit; r is -ECANCELED if closed early
 *         return r;
 *     }
 *
 *     co_gen_t *g = co_gen_new(numbers, NULL);
 *     int rc;
 *     CO_GEN_FOR(g, v, rc) printf("%d\n", (int)(intptr_t)v);
 *     int err = co_gen_close(g);        // always: it frees the generator
 *
 * A yielded pointer may point into the body's own frame: the body stays
 * suspended in co_gen_yield until the consumer's next co_gen_next.
 *
 * One task at a time consumes a generator; it belongs to its loop's thread.
 * A generator never closed is reported when its loop closes, under its body
 * task's name and spawn site, like a task never awaited (and leaks). */
typedef struct co_gen co_gen_t;
typedef int (*co_gen_fn)(co_gen_t *g, void *arg);

/* Create a generator running fn(g, arg).  Does not suspend and may be called
 * from plain code on the loop's thread.  Returns NULL if there is no loop on
 * this thread, fn is NULL, or memory ran out. */
#define co_gen_new(fn, arg) co_gen_new_at(CO_LOC, #fn, (fn), (arg))
/* `name` must outlive the generator (co_gen_new passes a string literal). */
co_gen_t *co_gen_new_at(co_loc *loc, const char *name, co_gen_fn fn, void *arg);

/* Inside the body: hand `value` to the consumer and suspend until the next
 * co_gen_next.  Returns 0 to go on, or -ECANCELED when the generator is being
 * closed (or the body task was cancelled): clean up and return, yielding no
 * more (the cleanup may await).  -ETIMEDOUT if a timeout scope of the body
 * expires while it waits.
 * -EPERM if the caller is not g's body, -EINVAL if g is not a generator.
 * May suspend. */
#define co_gen_yield(g, value) co_gen_yield_at(CO_LOC, (g), (value))
int co_gen_yield_at(co_loc *loc, co_gen_t *g, void *value);

/* Consumer: ask for the next value and wait for it.  Returns 1 with *value
 * set (value may be NULL), 0 once the body has returned successfully
 * (StopAsyncIteration), or the body's error if it failed; both repeat on
 * later calls.  If the caller is cancelled (-ECANCELED) or its timeout scope
 * expires (-ETIMEDOUT) while waiting, the body goes on producing that value
 * and the next call returns it: like co_await, waiting shields the body
 * (co_gen_close stops it).  Errors: -EBUSY if another task is waiting in
 * co_gen_next on g, -EDEADLK from g's own body, -EINVAL if g is not a
 * generator or is being closed, -EPERM outside a task.  May suspend. */
#define co_gen_next(g, value) co_gen_next_at(CO_LOC, (g), (value))
int co_gen_next_at(co_loc *loc, co_gen_t *g, void **value);

/* Stop the generator if it is still running, wait for its body to end, and
 * free it: afterwards g is gone (as after free()), so every generator must be
 * closed exactly once, finished or not.  A body parked in co_gen_yield sees
 * it return -ECANCELED; a body awaiting anything else is cancelled (that
 * await returns -ECANCELED).  Returns 0 if the body succeeded or was stopped
 * by this close, else the body's error.  Close always waits for the body's
 * cleanup, ignoring timeout scopes, since the body still uses g until it
 * returns; if the caller is cancelled meanwhile the body is cancelled too,
 * and close returns -ECANCELED once it is over (g is freed all the same).
 * Errors, g left as it was: -EBUSY if a task is waiting in co_gen_next on g,
 * -EDEADLK from g's own body, -EINVAL if g is not a generator or is already
 * being closed, -EPERM outside a task.  May suspend. */
#define co_gen_close(g) co_gen_close_at(CO_LOC, (g))
int co_gen_close_at(co_loc *loc, co_gen_t *g);

/* `async for`: run the statement after it once per value, with `void *v`
 * declared in the loop.  rc (an int lvalue) is left at 0 when the generator
 * finished, at a negative error when next failed (the body's error, or
 * -ECANCELED if the consumer was cancelled), or at 1 after a `break`.  The
 * generator stays open: close it after the loop. */
#define CO_GEN_FOR(g, v, rc) for (void *v; ((rc) = co_gen_next((g), &v)) > 0;)

/* ------------------------------------------------------------------------ */
/* Annotations and tracing (annotate.c, tracer/session.c)                   */

/* Attach a formatted line to the current task (printf-style).  Recorded in
 * the trace; also printed on stderr in debug mode.  Does not suspend. */
#define co_log(...) co_log_at(CO_LOC, __VA_ARGS__)
void co_log_at(co_loc *loc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An instant with a name, e.g. co_mark("cache miss").  Does not suspend. */
#define co_mark(name) co_mark_at(CO_LOC, (name))
void co_mark_at(co_loc *loc, const char *name);
/* A named region of the current task (Go's trace regions): begin returns a
 * token that end takes.  Regions show as spans in the trace and the TUI. */
typedef struct co_region { uint64_t name_id, task; } co_region_t;
#define co_region_begin(name) co_region_begin_at(CO_LOC, (name))
co_region_t co_region_begin_at(co_loc *loc, const char *name);
#define co_region_end(r) co_region_end_at(CO_LOC, (r))
void co_region_end_at(co_loc *loc, co_region_t r);

/* Record this process into the trace database `path` (created 0600; an
 * existing file is refused with -EEXIST).  The recorder is not linked into
 * the program: it is the `coscope` binary, started as a helper process
 * (`coscope record`, found as $COSCOPE_BIN, else the installed
 * $(PREFIX)/bin/coscope, else on $PATH) that reads this process's trace
 * rings from shared memory, as `coscope run` does -- so a program links no
 * SQLite, and a crash loses nothing recorded (the trace then says
 * `vanished`).  -ENOENT if the binary is not found.  Under `coscope run` a
 * trace is already recording: -EBUSY.  Returns 0 or a negative errno. */
int co_trace_start(const char *path);
/* Stop recording, finish the tables and close the database.  Blocks until
 * the tables are complete.  Returns 0, or -ENOENT if not recording. */
int co_trace_stop(void);

/* The flight recorder: always-on tracing that keeps the most recent window
 * of events in memory, at most max_bytes of it, and writes it as an
 * ordinary trace file when something goes wrong -- Go's FlightRecorder and
 * Java's JFR for coscope programs.  Without recompiling:
 * COSCOPE_FLIGHT=30s[,64MB] (also 500ms, 2m; KB, MB, GB) starts it when the
 * first loop is made.
 *
 * co_flight_start keeps the last window_ms of events within max_bytes (0
 * for 64 MiB), which the rings of the traced threads, the interned texts
 * and the kept events share: a third of it goes to rings (512 KiB each, at
 * least one; a thread beyond them is not traced), an eighth to texts (at
 * least 64 KiB), and what remains, at least 1 MiB, to the window.  The
 * window is held by a helper process, the `coscope` binary (`coscope
 * flight`, found as co_trace_start finds it), so the program links no
 * SQLite, a crash loses nothing, and a hung program can be dumped from
 * outside.  The recording
 * is cut into periods (a quarter of the window, or sooner under a flood),
 * each opening with a snapshot of every loop (live tasks with parents,
 * spawn sites, states and awaits; lock holders; semaphore values; queue
 * depths), and the oldest periods are dropped whole: a window always opens
 * with every live task at its await.  A full ring drops events (counted)
 * rather than slowing the program.
 *
 * A dump is a complete trace, coscope-flight-PID-TIME.db (mode 0600) in
 * $COSCOPE_FLIGHT_DIR, else the program's working directory; meta
 * flight_trigger names what asked for it.  Triggers: co_flight_dump; the
 * dump signal (COSCOPE_FLIGHT_SIGNAL, default SIGRTMIN+9, 0 for none; not
 * over a handler of the program's); `coscope dump PID [-o FILE]`; a crash
 * (the window up to the fault, with its stack); and the runtime's
 * detections: deadlock, all_asleep, slow_step (a step longer than
 * $COSCOPE_FLIGHT_SLOW_MS, default 1000, finished or still running),
 * cancel_ignored (at shutdown).  $COSCOPE_FLIGHT_TRIGGERS lists those
 * switched on (default "deadlock,all_asleep,slow_step,cancel_ignored,crash",
 * "none" for none).  At most one dump per trigger kind per
 * $COSCOPE_FLIGHT_RATE seconds (default 60, 0 for no limit); `coscope dump`
 * is never limited.  A dump that fails (a full disk) is counted, and the
 * program never hears of it otherwise.
 *
 * Returns 0, -EBUSY if a trace or the flight recorder records already
 * (coscope run, co_trace_start, coscope attach), -EINVAL for a zero window
 * or a budget too small for that (also said in one line to the log),
 * -ENOENT if the coscope binary is not found.
 * Does not suspend (it waits for the helper to start, about 20 ms). */
int co_flight_start(uint64_t window_ms, uint64_t max_bytes);
/* Stop the flight recorder and let its memory go (nothing is written).
 * Returns 0, or -ENOENT if it was not running.  Does not suspend. */
int co_flight_stop(void);
/* Ask for the window to be written now, into path (NULL or "": the default
 * name above).  Returns once the request is handed to the recorder: the
 * file appears complete (written aside, then renamed) a moment later;
 * rate-limited as the other triggers (trigger "api").  Returns 0, -ENOENT
 * if the recorder is not running, -EAGAIN if requests are coming faster
 * than it writes.  Async-signal-safe (it only sends the request); does
 * not suspend. */
int co_flight_dump(const char *path);
/* The recorder's figures, as of its last report (every period and after
 * each dump). */
typedef struct co_flight_stats {
    uint64_t window_ms, max_bytes; /* as started */
    uint64_t bytes;                /* held now: kept events, texts, rings */
    uint64_t bytes_peak;           /* the most ever held (<= max_bytes) */
    uint64_t events;               /* events in the window now */
    uint64_t periods_dropped;      /* periods dropped as they left the window or the budget */
    uint64_t lost;                 /* events dropped by a full ring */
    uint64_t dumps, dumps_failed, dumps_limited; /* written; failed (counted, never raised); rate-limited */
} co_flight_stats_t;
/* Fills *out; returns 0, or -ENOENT if the recorder is not running (*out
 * then holds its last figures). */
int co_flight_stats(co_flight_stats_t *out);
/* The dump signal's number, 0 if none is installed. */
int co_flight_signal(void);

/* ------------------------------------------------------------------------ */
/* Debugging                                                                 */

/* Where the runtime's own reports go (what asyncio logs: tasks never
 * awaited, errors never retrieved, all tasks asleep, a task abandoned at
 * shutdown, a refused wait cycle; debug mode's lines): fn(ctx, line) for
 * each line, without the newline, from whichever thread reports.  Like
 * libuv, the runtime does not print by itself: with fn NULL (the default)
 * the lines go to stderr, as "coscope: LINE", only in debug mode
 * (co_loop_opts.debug, CO_DEBUG=1) or with CO_LOG=stderr in the
 * environment when the loop is made (`coscope run` sets it), and nowhere
 * otherwise.  Exceptions: a broken internal invariant or a stack overflow
 * is written just before the process aborts, and co_dump / the SIGQUIT
 * dump write where they are asked.  Does not suspend; fn must not either. */
typedef void co_log_fn(void *ctx, const char *line);
void co_set_log_hook(co_log_fn *fn, void *ctx);

/* Print every task of the current loop: id, name, state, what it waits on
 * (and who holds it, for a lock), spawn and await sites, and its call stack
 * (from frame pointers; function+offset and file:line with elfutils' libdw,
 * loaded with dlopen when it is installed, else function+offset from the ELF
 * symbol tables; $CO_LIBDW=0 skips libdw).  The calling task's stack starts
 * at its call to co_dump.  Call on the loop's thread, from a task or from
 * plain code; it reads debug information, so it takes milliseconds.
 * SIGQUIT prints the same dump on stderr: in debug mode the process goes
 * on; otherwise it then quits as SIGQUIT's default action does (as in Go),
 * unless the program installed a SIGQUIT handler of its own. */
void co_dump(FILE *out);

#ifdef __cplusplus
}
#endif
#endif /* COSCOPE_H */
