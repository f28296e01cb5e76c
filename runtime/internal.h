/* internal.h -- the runtime's private structures, shared by its files only.
 *
 * Threading: a co__loop and everything reachable from it (tasks, stacks,
 * timers, objects) belong to the one thread that created the loop.  Nothing
 * here is locked; the loop pointer is a thread-local (co__tl_loop).
 */
#ifndef CO_INTERNAL_H
#define CO_INTERNAL_H

#include "coscope.h"
#include <uv.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define CO_LIKELY(x)   __builtin_expect(!!(x), 1)
#define CO_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Always-on assertion for scheduler and stack invariants: a broken invariant
 * here means memory is about to be corrupted, so stop with a location. */
#define CO_ASSERT(cond) \
    (CO_LIKELY(cond) ? (void)0 : co__assert_fail(#cond, __FILE__, __LINE__, __func__))
_Noreturn void co__assert_fail(const char *expr, const char *file, int line, const char *func);

/* Magic values: live objects carry CO__MAGIC_*, destroyed ones CO__MAGIC_DEAD. */
#define CO__MAGIC_LOCK   0x4c4f434bu
#define CO__MAGIC_EVENT  0x45564e54u
#define CO__MAGIC_SEM    0x53454d41u
#define CO__MAGIC_COND   0x434f4e44u
#define CO__MAGIC_QUEUE  0x51554555u
#define CO__MAGIC_FUTURE 0x46555452u
#define CO__MAGIC_GROUP  0x47525550u
#define CO__MAGIC_DEAD   0xdeadbeefu

typedef struct co__task co__task;
typedef struct co__watch co__watch;

/* ------------------------------------------------------------------------ */
/* Context switch (switch_<arch>.S or switch_ucontext.c)                     */

/* Save callee-saved state on the current stack, store the stack pointer in
 * *save_sp, load load_sp and resume what was saved there. */
void co__switch(void **save_sp, void *load_sp);
/* Resume load_sp without saving anything: the caller (an ended task) is gone. */
_Noreturn void co__switch_final(void *load_sp);
/* Prepare a fresh stack [lo, hi) so that the first co__switch to the returned
 * sp calls co__task_main(arg). */
void *co__ctx_init(void *lo, void *hi, void *arg);
_Noreturn void co__task_main(void *arg);

/* ------------------------------------------------------------------------ */
/* Stacks (stack.c)                                                          */

typedef struct co__stack {
    char *lo;          /* lowest usable byte (above the guard) */
    char *hi;          /* one past the highest byte; the stack grows down from here */
    uint64_t *canary;  /* non-NULL only if this stack has no guard page */
    unsigned vg_id;    /* Valgrind stack id, 0 if none */
    struct co__stack *next_free; /* valid only while in the pool's free list */
} co__stack;

typedef struct co__stackpool {
    size_t usable;          /* usable bytes per stack, page multiple */
    size_t guard;           /* guard bytes below each stack */
    co__stack *free;        /* LIFO of reusable stacks */
    size_t nfree;
    size_t nhot;            /* free stacks whose pages are still resident */
    size_t guarded_budget;  /* mprotect guards we may still create */
    int guard_mode;         /* CO__GUARD_MADVISE, _MPROTECT or _CANARY */
    struct co__slab *slabs;
} co__stackpool;

enum { CO__GUARD_MADVISE, CO__GUARD_MPROTECT, CO__GUARD_CANARY };
#define CO__CANARY 0xc05c09ec0ffee5a1ull

int co__stackpool_init(co__stackpool *p, size_t stack_size);
void co__stackpool_destroy(co__stackpool *p);
co__stack *co__stack_get(co__stackpool *p);
void co__stack_put(co__stackpool *p, co__stack *s);
/* Give back the pages of free stacks beyond a small hot set. */
void co__stackpool_trim(co__stackpool *p);
/* Install the SIGSEGV handler that reports stack overflows (once per process)
 * and an alternate signal stack for the calling thread. */
void co__overflow_handler_install(void);

/* ------------------------------------------------------------------------ */
/* Tasks                                                                     */

/* A completion watcher: fn runs (on the loop, never suspending) when the
 * watched task ends.  Watchers live in the watching task's stack frame. */
struct co__watch {
    co__watch *next, *prev;
    void (*fn)(co__watch *w, co__task *ended);
    co__task *waiter;
    size_t index;       /* for the combinators: which handle this watches */
    void *data;
};

struct co__task {
    /* Scheduler fields. */
    void *sp;                 /* valid only while not RUNNING */
    co__task *next_ready;     /* valid only while READY (in loop->ready) or on the slot free list */
    struct co__loop *loop;
    uint8_t state;            /* co_task_state */
    uint8_t started;          /* has run at least once */
    uint8_t cancel_pending;   /* cancel requested, not yet delivered */
    uint8_t detached;
    uint8_t awaited;          /* some task is in co_await on it (owner consumes it) */
    uint8_t freed_stack;
    uint8_t wait_kind;        /* co_wait_kind; valid only while WAITING */
    uint8_t name_owned;
    uint8_t closing_cancelled; /* cancelled by co_loop_free: already reported as pending */
    uint32_t slot;            /* index in the loop's slot table */
    uint32_t gen;             /* handle generation; bumped when freed */
    uint32_t cancel_count;    /* cancellations requested so far */
    uint64_t id;

    /* Await state, valid only while WAITING. */
    void *wait_obj;
    uint64_t wait_obj_id;
    co_loc *wait_loc;
    co_waitq *wq;             /* the wait queue we are linked in, or NULL */
    co__task *wq_next, *wq_prev;
    void (*wait_cancel)(co__task *t); /* detach from what we wait on; NULL = unlink wq only */
    int wake_result;          /* what co__suspend returns */
    void *wake_value;         /* hand-off payload (queue get) */

    /* Time. */
    uint64_t deadline;        /* effective timeout-scope deadline, UINT64_MAX = none */
    co_timeout_t *scope;      /* innermost timeout scope */
    uint64_t timer_at;        /* valid only while heap_idx != CO__NOHEAP */
    uint32_t heap_idx;
    int timer_result;         /* what a timer expiry wakes us with: 0 or -ETIMEDOUT */

    /* Life. */
    co_fn fn;
    void *arg;
    int result;               /* valid only once ended */
    const char *name;
    co_loc *spawn_loc;
    uint64_t parent_id;
    co_task_t parent;
    co__watch *watchers;      /* notified when we end */
    co__stack *stack;         /* NULL once ended (returned to the pool) */
    co_group_t *group;        /* owning group, if any */
    co__task *group_next, *group_prev;
    void *asan_fake;          /* ASan fake stack of this fiber */
};

#define CO__NOHEAP UINT32_MAX
#define CO__NODEADLINE UINT64_MAX

static inline bool co__task_ended(const co__task *t) { return t->state >= CO_TASK_DONE; }

/* ------------------------------------------------------------------------ */
/* Loop                                                                      */

typedef struct co__loop {
    uv_loop_t *uv;
    uv_loop_t uv_own;         /* valid only if owns_uv */
    int owns_uv;
    void *sched_sp;           /* the loop thread's own stack while a task runs */
    co__task *current;        /* running task, NULL on the scheduler stack */
    co__task *ready_head, *ready_tail;
    int budget;               /* switches left before returning to libuv */
    uv_idle_t idle;           /* active while ready tasks exist */
    int idle_on;              /* idle is started (cheaper than asking libuv) */
    uv_timer_t timer;         /* armed for heap[0] */
    uv_prepare_t prepare;     /* trims the stack pool before blocking; traces idle */
    uv_check_t check;         /* traces the end of an idle period */
    int idle_traced;          /* a TR_LOOP_IDLE was emitted and not yet closed */
    co__task **heap;          /* timer min-heap on (timer_at, id) */
    uint32_t heap_len, heap_cap;
    uint64_t timer_armed;     /* deadline uv timer is set for, 0 = unarmed */
    co__task **chunks;        /* slot table: chunks of CO__CHUNK tasks */
    uint32_t nchunks;
    co__task *free_tasks;     /* free slots, linked through next_ready */
    uint32_t nslots;          /* slots ever made */
    size_t live;              /* tasks not yet freed */
    co__task *dead;           /* ended task whose stack must be released after the switch */
    co__stackpool pool;
    co__task *main;
    int debug;
    int slow_ms;              /* slow-step threshold (debug.c), 0 = off; set by co_loop_new */
    struct co__dbg *dbg;      /* debug.c: step timing, watchdog, SIGQUIT; NULL until debug
                               * mode or a recording trace needs it, and after co_loop_free */
    int running;              /* inside co_loop_run */
    int closing;              /* inside co_loop_free */
    /* ASan: the loop thread's own stack, learnt at the first switch. */
    const void *sched_stack_bottom;
    size_t sched_stack_size;
    void *sched_fake;
    int sched_learn;          /* the next switch-in learns the loop stack's bounds */
    struct co__xthread *xthread; /* cross-thread calls (thread.c), made lazily; NULL if unused */
} co__loop;
void co__xthread_free(co__loop *l); /* thread.c: co_loop_free's teardown of l->xthread */

#define CO__CHUNK 1024u

extern __thread co__loop *co__tl_loop __attribute__((visibility("hidden"), tls_model("initial-exec")));

/* Slot table. */
co__task *co__task_lookup(co__loop *l, co_task_t h);
static inline co_task_t co__handle(const co__task *t)
{
    co_task_t h = { ((uint64_t)t->gen << 32) | (uint64_t)(t->slot + 1) };
    return h;
}
void co__task_free(co__loop *l, co__task *t);
void co__task_end(co__loop *l, co__task *t, int result);
void co__watch_add(co__task *t, co__watch *w);
void co__watch_remove(co__task *t, co__watch *w);
void co__main_ended(co__loop *l);
void co__group_child_ended(co__task *t);

/* Scheduler (loop.c). */
void co__idle_start(co__loop *l);
/* t: WAITING/new -> READY, at the tail of the ready FIFO. */
static inline void co__ready(co__loop *l, co__task *t)
{
    t->state = CO_TASK_READY;
    t->next_ready = NULL;
    if (l->ready_tail)
        l->ready_tail->next_ready = t;
    else
        l->ready_head = t;
    l->ready_tail = t;
    if (CO_UNLIKELY(!l->idle_on)) co__idle_start(l);
}
void co__switch_away(co__loop *l, co__task *self); /* self suspended or dead: run the next */

/* The one await path (await.c).  The caller has already linked t into what
 * it waits on (wq may be NULL); co__suspend records kind/obj/loc, arms the
 * deadline, switches away and returns the wake result.  If a cancellation is
 * pending or the deadline has passed, it detaches t and returns at once. */
int co__suspend(co__task *t, co_wait_kind kind, void *obj, uint64_t obj_id, co_loc *loc, co_waitq *wq);
/* Wake a WAITING task with a result: unlink it from its wait queue and timer
 * and make it READY.  Safe to call from any code on the loop's thread. */
void co__wake(co__task *t, int result);
/* Deliver cancellation/timeout to a WAITING task. */
void co__interrupt(co__task *t, int result);

/* Wait queues. */
void co__waitq_push(co_waitq *q, co__task *t);
void co__waitq_remove(co_waitq *q, co__task *t);
static inline co__task *co__waitq_first(const co_waitq *q) { return (co__task *)q->head; }
static inline bool co__waitq_empty(const co_waitq *q) { return q->head == NULL; }

/* Entry checks shared by every suspending API: returns the running task or
 * NULL (then *err is set to -EPERM). */
static inline co__task *co__self(void)
{
    co__loop *l = co__tl_loop;
    return l ? l->current : NULL;
}

/* Timers (timer.c). */
void co__heap_insert(co__loop *l, co__task *t, uint64_t at, int result);
void co__heap_remove(co__loop *l, co__task *t);
void co__timers_init(co__loop *l);

/* Resource ids, unique per process (shared with the tracer). */
uint64_t co__next_resource_id(void);
/* A new lock/event/... : take an id and tell the tracer its kind and name. */
uint64_t co__resource_new(co_loc *loc, co_wait_kind kind, const char *name);
/* The lock's owner, or NULL if free or if the owner task has been freed
 * (a lock abandoned by an ended task stays held: owner != NULL). */
static inline co__task *co__lock_owner(const co_lock_t *l)
{
    co__task *o = (co__task *)l->owner;
    return o && o->gen == l->owner_gen ? o : NULL;
}

/* Tracing: CO_TRACE(kind, loc, task, res, arg) costs one predictable
 * branch while no session records (trace.h). */
#include "trace.h"

/* Debug mode (debug.c, watchdog.c).  The step hooks run where a task is
 * switched in and where it suspends or ends, only while debug mode is on or
 * a trace records: otherwise they cost one predictable branch. */
#define CO__STEP_HOOKS(l) CO_UNLIKELY((l)->debug | co__tracing)
void co__step_begin(co__loop *l, co__task *t, co_loc *from); /* from: await resumed from, NULL = start */
void co__step_end(co__loop *l, co__task *t, co_loc *at);     /* at: await suspended at, NULL = end */
void co__debug_loop_init(co__loop *l, const co_loop_opts *opts); /* co_loop_new, on the loop thread */
void co__debug_loop_free(co__loop *l); /* co_loop_free, before its last uv_run (closes handles) */
void co__debug_quiet(co__loop *l, int on); /* bracket a dump: its time is neither stall nor slow step */

/* A loop's debug state.  The step fields are written on the loop thread and
 * read by the watchdog thread as a seqlock: seq is odd while a task runs a
 * step; task/from/t0 are written before seq turns odd (release) and hold
 * while it stays odd. */
typedef struct co__dbg {
    co__loop *loop;
    uint64_t slow_ns;            /* 0: no slow-step reports, no watchdog */
    _Atomic uint64_t seq;
    _Atomic uint64_t t0;         /* CLOCK_MONOTONIC ns at switch-in */
    co__task *_Atomic task;      /* the task running the step */
    co_loc *_Atomic from;        /* the await it resumed from, NULL = its start */
    _Atomic int quiet;           /* > 0 while co_dump runs: not a stall */
    int sigquit_on;
    uv_signal_t sigquit;         /* debug mode: SIGQUIT dumps the loop; unref'd */
    struct co__watchdog *wd;     /* watchdog.c; NULL if not started */
} co__dbg;
struct co__watchdog *co__watchdog_start(co__dbg *d);
void co__watchdog_stop(struct co__watchdog *w); /* joins the thread, frees w */
uint64_t co__mono_ns(void);

/* Stack walks and symbolization (stackwalk.c).  Frame flags: EXACT, an
 * interrupted pc (not a return address); GUESS, found by scanning a stack,
 * not by the frame chain; ENTRY, a function start known from a call. */
enum { CO__FR_EXACT = 1, CO__FR_GUESS = 2, CO__FR_ENTRY = 4 };
size_t co__walk_fp(uintptr_t fp, uintptr_t lo, uintptr_t hi, uintptr_t *pcs, size_t max); /* signal-safe */
size_t co__walk_task(const co__task *t, uintptr_t *pcs, size_t max); /* a task not running */
size_t co__copy_stack(uintptr_t *dst, uintptr_t from, uintptr_t to); /* signal-safe */
typedef struct co__syms co__syms;
co__syms *co__syms_new(void);                            /* snapshot of the loaded objects */
void co__syms_free(co__syms *s);
void co__syms_add(co__syms *s, uintptr_t pc, int flags); /* collect every pc, then resolve once */
void co__syms_resolve(co__syms *s);
const char *co__syms_func(const co__syms *s, uintptr_t pc, int flags);
void co__syms_print(const co__syms *s, FILE *out, uintptr_t pc, int flags);
int co__syms_is_ret(const co__syms *s, uintptr_t w);
uintptr_t co__syms_call_target(const co__syms *s, uintptr_t ret);
uintptr_t co__syms_func_start(co__syms *s, uintptr_t addr);
int co__syms_pushes_fp(co__syms *s, uintptr_t fn); /* 1, 0, -1 = cannot tell */

/* Reports (dump.c). */
/* co_dump of l: self_fp is the frame of co_dump's caller when a task calls
 * it (its stack is walked from there), 0 from plain code. */
void co__dump(co__loop *l, FILE *out, uintptr_t self_fp);
void co__report_pending(co__loop *l, FILE *out);   /* unended tasks, before the loop cancels them */
void co__report_leftovers(co__loop *l, FILE *out); /* ended, never awaited / error unread */
void co__report_asleep(co__loop *l, FILE *out);
int co__debug_from_env(void);

/* The last task that took s, if still alive (see co_sem_t.last_taker_gen). */
static inline co__task *co__sem_last_taker(const co_sem_t *s)
{
    co__task *o = (co__task *)s->last_taker;
    return o && o->gen == s->last_taker_gen ? o : NULL;
}
static inline void co__sem_taken(co_sem_t *s, co__task *t)
{
    s->last_taker = t;
    s->last_taker_gen = t ? t->gen : 0;
    s->last_taker_id = t ? t->id : 0;
}

/* Detections as trace events (warn.c). */
void co__warn_cycle(co__task *self, uint64_t want_id, co__task *target, co_loc *loc);
void co__warn_loop(co__loop *l, int code);

/* Deadlock detection (await.c): would `self` waiting for a task `target`
 * (or the holder of a lock) close a cycle? */
bool co__would_deadlock(co__task *self, co__task *target);

#endif /* CO_INTERNAL_H */
