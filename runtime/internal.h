/* SPDX-License-Identifier: MIT */
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
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define CO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CO_ASAN 1
#endif
#endif
#ifdef CO_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

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
 * sp calls co__task_main(arg): co__ctx_init in context.h. */
#include "context.h"
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
    size_t ncold;           /* free stacks at the far end of the LIFO whose pages were
                             * given back (trim); the nfree - ncold before them are resident */
    size_t guarded_budget;  /* mprotect guards we may still create */
    int guard_mode;         /* CO__GUARD_MADVISE, _MPROTECT or _CANARY */
    struct co__slab *slabs;
} co__stackpool;

enum { CO__GUARD_MADVISE, CO__GUARD_MPROTECT, CO__GUARD_CANARY };
#define CO__CANARY 0xc05c09ec0ffee5a1ull

int co__stackpool_init(co__stackpool *p, size_t stack_size);
void co__stackpool_destroy(co__stackpool *p);
co__stack *co__stack_get_slow(co__stackpool *p); /* the pool is empty: carve a new slab */
/* Take a stack (most recently returned first: its pages are resident). */
static inline co__stack *co__stack_get(co__stackpool *p)
{
    co__stack *s = p->free;
    if (CO_UNLIKELY(s == NULL)) return co__stack_get_slow(p);
    p->free = s->next_free;
    size_t n = --p->nfree;
    if (CO_UNLIKELY(p->ncold > n)) p->ncold = n; /* that one was cold */
    if (CO_UNLIKELY(s->canary != NULL)) *s->canary = CO__CANARY;
    return s;
}
static inline void co__stack_put(co__stackpool *p, co__stack *s)
{
    s->next_free = p->free;
    p->free = s;
    p->nfree++;
}
/* Give back the pages of free stacks beyond a small hot set. */
void co__stackpool_trim(co__stackpool *p);
/* Install the SIGSEGV handler that reports stack overflows (once per process)
 * and an alternate signal stack for the calling thread. */
void co__overflow_handler_install(void);
/* crash.c: a fatal signal in the trace, from the handler (async-signal-safe) */
void co__crash_record(int sig, siginfo_t *si, void *uctx, co__task *t, int overflow);

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

/* Layout: 256 bytes in four cache lines (task chunks are 64-byte aligned),
 * by temperature.  Line 0 is all that suspending and resuming touch; line 1
 * what waking and spawning add; lines 2-3 the rest of a task's life. */
struct co__task {
    /* Line 0: scheduler and await state. */
    void *sp;                 /* valid only while not RUNNING */
    co__task *next_ready;     /* valid only while on the slot free list */
    struct co__loop *loop;
    uint8_t state;            /* co_task_state */
    uint8_t started;          /* has run at least once */
    uint8_t cancel_pending;   /* CO__CANCEL_*: a cancellation requested, not yet delivered */
    uint8_t detached;
    uint8_t awaited;          /* some task is in co_await on it (owner consumes it) */
    uint8_t wait_kind;        /* co_wait_kind; valid only while WAITING */
    uint8_t name_owned;
    uint8_t closing_cancelled; /* cancelled by co_loop_free: already reported as pending */
    int wake_result;          /* what co__suspend returns; 0 except from a wake to the resume */
    uint32_t heap_idx;
    void *wait_obj;           /* valid only while WAITING */
    co_loc *wait_loc;         /* where it last suspended; valid once it has */
    co_waitq *wq;             /* the wait queue we are linked in, or NULL */

    /* Line 1: more of the await state; identity. */
    uint64_t deadline;        /* effective timeout-scope deadline, UINT64_MAX = none */
    uint64_t wait_obj_id;     /* valid only while WAITING */
    uint64_t id;
    uint32_t slot;            /* index in the loop's slot table */
    uint32_t gen;             /* handle generation; bumped when freed */
    void (*wait_cancel)(co__task *t); /* detach from what we wait on; NULL = unlink wq only */
    void *wake_value;         /* hand-off payload (queue get) */
    co__task *wq_next, *wq_prev; /* valid only while wq != NULL */

    /* Line 2: life and time. */
    co_fn fn;
    void *arg;
    co__stack *stack;         /* NULL once ended (returned to the pool) */
    co__watch *watchers;      /* notified when we end */
    co_timeout_t *scope;      /* innermost timeout scope */
    uint64_t timer_at;        /* valid only while heap_idx != CO__NOHEAP */
    int timer_result;         /* what a timer expiry wakes us with: 0 or -ETIMEDOUT */
    int result;               /* valid only once ended */
    uint32_t cancel_count;    /* cancellations requested so far */
    uint32_t locks_held;      /* co_locks this task owns now */
    co_lock_t *last_lock;     /* the last it took; valid only while locks_held > 0 and
                               * co__lock_owner(last_lock) == this task */
    uint64_t await_t0;        /* debug mode: when the current await began */

    /* Line 3: introspection and groups. */
    const char *name;
    co_loc *spawn_loc;
    uint64_t parent_id;
    co_task_t parent;
    co_group_t *group;        /* owning group, if any */
    co__task *group_next, *group_prev; /* valid only while group != NULL */
    void *asan_fake;          /* ASan fake stack of this fiber */
    uint8_t asleep_told;      /* its wait was told by the all-asleep report: the close does not repeat it;
                               * cleared when the loop runs again (co_loop_run) */
} __attribute__((aligned(64)));

/* cancel_pending.  A cancellation is delivered by the task's next await (or
 * its start).  ASKED: if the task returns first, it ends CANCELLED (asyncio's
 * test_cancel_at_end).  AFTER_HANDOFF: it arrived after a wake that handed the
 * task something (an item, a unit, a lock, a value, a task's result) and
 * before the task ran; the hand-off stands, and a return before the next
 * await ends the task with its own result, the cancellation undelivered. */
enum { CO__CANCEL_NONE = 0, CO__CANCEL_ASKED = 1, CO__CANCEL_AFTER_HANDOFF = 2 };

/* The waits whose wake hands the task nothing (a yield, a sleep's end, an
 * event, a queue's join): a cancellation that arrives before the task runs
 * stays ASKED.  Every other wait's wake with a result >= 0 is a hand-off. */
#define CO__WAITS_HANDING_NOTHING \
    (1u << CO_WAIT_NONE | 1u << CO_WAIT_YIELD | 1u << CO_WAIT_SLEEP | 1u << CO_WAIT_EVENT | 1u << CO_WAIT_QUEUE_JOIN)
_Static_assert(CO_WAIT_KIND_COUNT <= 32, "wait kinds fit a 32-bit mask");
static inline bool co__wait_hands_off(unsigned kind) { return !(CO__WAITS_HANDING_NOTHING >> kind & 1u); }

/* A call whose outcome is settled (the transfer won a race with an
 * interruption) meets a cancellation: keep it for the next await, as a
 * hand-off if the outcome is a success. */
static inline void co__cancel_keep(co__task *t, int outcome)
{
    t->cancel_pending = outcome >= 0 ? CO__CANCEL_AFTER_HANDOFF : CO__CANCEL_ASKED;
}

#define CO__NOHEAP UINT32_MAX
#define CO__NODEADLINE UINT64_MAX

static inline bool co__task_ended(const co__task *t) { return t->state >= CO_TASK_DONE; }

/* ------------------------------------------------------------------------ */
/* Loop                                                                      */

typedef struct co__loop {
    /* The scheduler's hot fields first, together. */
    co__task *current;        /* running task, NULL on the scheduler stack */
    /* The ready FIFO: a ring of task pointers, not a list through the tasks,
     * so that the scheduler can see several tasks ahead without touching
     * them (co__prefetch_ready).  Indices run free; the ring holds
     * ready_mask + 1 >= every slot ever made (co__ready_reserve, at each new
     * chunk), and a task is in it at most once, so an append never overflows. */
    co__task **ready;
    uint32_t ready_head, ready_tail, ready_mask;
    int budget;               /* switches left before returning to libuv */
    int idle_on;              /* idle is started (cheaper than asking libuv) */
    co__task *dead;           /* ended task whose stack must be released after the switch */
    co__task *resume_told;    /* await.c: its TR_RESUME went into the suspending task's TR_SWITCH
                               * (session resume_told_epoch), which also opened its step; it
                               * emits none and opens no step as it resumes */
    uint32_t resume_told_epoch;
    void *sched_sp;           /* the loop thread's own stack while a task runs */
    int debug;
    int log_stderr;           /* CO_LOG=stderr when the loop was made: reports go to stderr (log.c) */
    int slow_ms;              /* slow-step threshold (debug.c), 0 = off; set by co_loop_new */
    co__task *free_tasks;     /* free slots, linked through next_ready */
    co__task **chunks;        /* slot table: chunks of CO__CHUNK tasks */
    uint32_t nchunks;
    uint32_t nslots;          /* slots ever made */
    size_t live;              /* tasks not yet freed */
    co__stackpool pool;
    uv_loop_t *uv;
    int owns_uv;
    uv_idle_t idle;           /* active while ready tasks exist */
    uv_timer_t timer;         /* armed for heap[0] */
    uv_prepare_t prepare;     /* trims the stack pool before blocking; traces idle */
    uv_check_t check;         /* traces the end of an idle period */
    int idle_traced;          /* a TR_LOOP_IDLE was emitted and not yet closed */
    co__task **heap;          /* timer min-heap on (timer_at, id) */
    uint32_t heap_len, heap_cap;
    uint64_t timer_armed;     /* deadline uv timer is set for, 0 = unarmed */
    co__task *main;
    uv_signal_t *quit;        /* debug.c: SIGQUIT dump outside debug mode, NULL if not ours */
    struct co__dbg *dbg;      /* debug.c: step timing, watchdog, SIGQUIT; NULL until debug
                               * mode or a recording trace needs it, and after co_loop_free */
    int running;              /* inside co_loop_run */
    int closing;              /* inside co_loop_free */
    int shutdown_grace_ms;    /* co_loop_free: how long cancelled tasks get to end (loop.c) */
    int grace_expired;        /* co_loop_free: that time is up */
    uv_timer_t grace;         /* co_loop_free: ends the grace period */
    /* ASan: the loop thread's own stack, learnt at the first switch. */
    const void *sched_stack_bottom;
    size_t sched_stack_size;
    void *sched_fake;
    int sched_learn;          /* the next switch-in learns the loop stack's bounds */
    struct co__xthread *xthread; /* cross-thread calls (thread.c), made lazily; NULL if unused */
    /* attach.c: woken by the attach signal (from any thread, through the
     * loop registry); attach_on (atomic) while the handle may be sent to.
     * snap_epoch: the trace session this loop's snapshot was written for
     * (co__tr_snap_gate). */
    uv_async_t attach_async;
    int attach_on;
    uint32_t snap_epoch;
    uint32_t flight_period;   /* flight.c: the period this loop's last snapshot was for */
    uv_loop_t uv_own;         /* valid only if owns_uv */
} co__loop;
void co__xthread_free(co__loop *l); /* thread.c: co_loop_free's teardown of l->xthread */
/* debug_offsets.c: the registry of live loops that `coscope ps PID` reads. */
void co__debug_loop_register(co__loop *l);
void co__debug_loop_unregister(co__loop *l);
/* The registry's slot i (< co__debug_loops_max), NULL if free; safe in a
 * signal handler.  What it returns may be freed at any time after: see
 * attach.c for how the attach signal uses it. */
co__loop *co__debug_loop_at(size_t i);
size_t co__debug_loops_max(void);
/* attach.c: `coscope attach PID`.  init in co_loop_new on the loop's thread
 * (arms the attach signal once per process); free in co_loop_free after the
 * loop left the registry (a detach if this loop holds the attachment). */
void co__attach_loop_init(co__loop *l);
void co__attach_loop_free(co__loop *l);
/* Wake every loop (its attach_async): attach.c's signal handler, and the
 * flight recorder's periods.  Async-signal-safe. */
void co__attach_wake_loops(void);
/* flight.c: on a loop's wake-up, write the snapshot of a new flight period;
 * at a loop's creation, start COSCOPE_FLIGHT once per process. */
void co__flight_wake(co__loop *l);
void co__flight_loop_init(co__loop *l);
/* snapshot.c: write loop l's state into this thread's ring (l must be this
 * thread's loop, and a session recording): every live task with its
 * parent, spawn site, name, state and await, the resources their waits
 * and holds reach, lock holders, semaphore values, queue depths
 * (TR_SNAP_* in trace.h).  Opens co__tr_snap_gate for this loop.  Returns
 * the number of tasks written.  Never suspends; call it on the loop's
 * scheduler stack or from a task (which is then written as running). */
size_t co__snapshot_write(co__loop *l);

#define CO__CHUNK 1024u

/* Thread-locals on hot paths: initial-exec, one %fs-relative load (local-exec
 * once linked into a program), in libcoscope.so too.  An initial-exec library
 * is loadable by dlopen only while its whole TLS block fits in the surplus
 * glibc keeps in the static TLS area (a few hundred bytes to spare), so the
 * runtime's thread-locals stay small: the hot ones are a few words, and a
 * big per-thread table is a pointer to memory made at its first use
 * (co__thread_table).  tests/link/link.sh dlopens the library. */
#define CO__TLS_MODEL __attribute__((tls_model("initial-exec")))
extern __thread co__loop *co__tl_loop __attribute__((visibility("hidden"))) CO__TLS_MODEL;
/* A zeroed per-thread table of `bytes`, kept in the thread-local *slot: made
 * at the first call on a thread and freed as the thread exits (*slot is then
 * NULL again).  Returns *slot, or NULL if out of memory (callers work
 * without their cache then).  trace.c. */
void *co__thread_table(void **slot, size_t bytes);

/* Slot table. */
static inline co__task *co__task_lookup(co__loop *l, co_task_t h)
{
    uint32_t slot = (uint32_t)h.h - 1;
    if (CO_UNLIKELY(!l || slot >= l->nslots)) return NULL;
    co__task *t = &l->chunks[slot / CO__CHUNK][slot % CO__CHUNK];
    return t->gen == (uint32_t)(h.h >> 32) ? t : NULL;
}
static inline co_task_t co__handle(const co__task *t)
{
    co_task_t h = { ((uint64_t)t->gen << 32) | (uint64_t)(t->slot + 1) };
    return h;
}
void co__task_free(co__loop *l, co__task *t);
void co__chunk_free(co__task *chunk); /* a chunk of the slot table (co_loop_free) */
void co__watch_add(co__task *t, co__watch *w);
void co__watch_remove(co__task *t, co__watch *w);
void co__main_ended(co__loop *l);
void co__group_child_ended(co__task *t);

/* Scheduler (loop.c). */
void co__idle_start(co__loop *l);
/* Make the ready ring hold n tasks (a new chunk of slots); -ENOMEM. */
int co__ready_reserve(co__loop *l, uint32_t n);
static inline bool co__ready_empty(const co__loop *l) { return l->ready_head == l->ready_tail; }
/* Append t to the ready FIFO (no call: fast paths stay leaf functions). */
static inline void co__ready_append(co__loop *l, co__task *t)
{
    l->ready[l->ready_tail++ & l->ready_mask] = t;
}
/* t: WAITING/new -> READY, at the tail of the ready FIFO. */
static inline void co__ready_link(co__loop *l, co__task *t)
{
    co__ready_append(l, t);
    if (CO_UNLIKELY(!l->idle_on)) co__idle_start(l);
}
static inline void co__ready(co__loop *l, co__task *t)
{
    t->state = CO_TASK_READY;
    co__ready_link(l, t);
}
static inline co__task *co__pop_ready(co__loop *l)
{
    if (co__ready_empty(l)) return NULL;
    return l->ready[l->ready_head++ & l->ready_mask];
}
/* The task co__switch_away is about to run (NULL: the scheduler). */
static inline co__task *co__next_to_run(const co__loop *l)
{
    return l->budget > 0 && !co__ready_empty(l) ? l->ready[l->ready_head & l->ready_mask] : NULL;
}

/* ------------------------------------------------------------------------ */
/* Switching (loop.c, await.c).
 *
 * co__switch is called from exactly one place for every task that suspends:
 * co__transfer inlined into co__switch_away, inlined into co__suspend
 * (await.c).  Every suspended task therefore resumes at the same return
 * address, which is what makes co__switch's `ret` predictable (see
 * switch_x86_64.S).  Do not call co__switch_away from anywhere else; the
 * scheduler's own stack (on_idle) and an ended task (co__task_main) have
 * their own sites. */

/* Release what the previous task left behind.  Runs right after every
 * switch, on the stack we switched to. */
static inline void co__post_switch(co__loop *l, void *my_fake)
{
#ifdef CO_ASAN
    const void *old_bottom;
    size_t old_size;
    __sanitizer_finish_switch_fiber(my_fake, &old_bottom, &old_size);
    if (l->sched_stack_size == 0 && l->sched_learn) {
        l->sched_stack_bottom = old_bottom;
        l->sched_stack_size = old_size;
        l->sched_learn = 0;
    }
#else
    (void)my_fake;
#endif
    co__task *d = l->dead;
    if (CO_UNLIKELY(d != NULL)) {
        l->dead = NULL;
        co__stack_put(&l->pool, d->stack);
        d->stack = NULL;
        if (d->detached) co__task_free(l, d);
    }
}

/* Switch from the running side (`self`, or the scheduler if NULL) to `to`
 * (or the scheduler if NULL). */
static inline void co__transfer(co__loop *l, co__task *self, co__task *to)
{
    void **save = self ? &self->sp : &l->sched_sp;
    void *load = to ? to->sp : l->sched_sp;
#ifdef CO_ASAN
    void **fake_save = self ? (co__task_ended(self) ? NULL : &self->asan_fake) : &l->sched_fake;
    if (to)
        __sanitizer_start_switch_fiber(fake_save, to->stack->lo, (size_t)(to->stack->hi - to->stack->lo));
    else
        __sanitizer_start_switch_fiber(fake_save, l->sched_stack_bottom, l->sched_stack_size);
    if (!self && l->sched_stack_size == 0) l->sched_learn = 1;
#endif
    l->current = to;
    co__switch(save, load);
#ifdef CO_ASAN
    co__post_switch(l, self ? self->asan_fake : l->sched_fake);
#else
    co__post_switch(l, NULL);
#endif
}

/* Canary-mode stacks (no guard page) are checked each time their task
 * switches out; guarded ones fault by themselves. */
_Noreturn void co__canary_smashed(co__task *t);
static inline void co__stack_check(co__loop *l, co__task *self)
{
    if (CO_LIKELY(l->pool.guard_mode != CO__GUARD_CANARY)) return;
    if (CO_UNLIKELY(self->stack && self->stack->canary && *self->stack->canary != CO__CANARY))
        co__canary_smashed(self);
}

/* Called as the task just popped is about to run: warm the caches for the
 * ready tasks after it.  With many tasks (100k yielding round-robin) each
 * switch would otherwise wait on a cache miss for the next task's struct,
 * then on another (and a TLB miss) for the stack its sp points to.  A miss
 * outlasts several switches, so one switch ahead is not enough: the struct
 * (its first two lines: the await state and the deadline a yield checks) of
 * the task CO__PF_TASK places ahead, and the stack top of the one
 * CO__PF_STACK ahead, whose struct an earlier switch brought in.  Behind
 * fewer ready tasks the nearest is taken: all of them are in cache anyway.
 * Prefetches never fault, even if a fresh task's frame is near the top of
 * its stack. */
#define CO__PF_TASK 12
#define CO__PF_STACK 6
/* always_inline: a function holding only prefetches looks pure to GCC's IPA
 * passes, which then delete the call (and the prefetches with it). */
static inline __attribute__((always_inline)) void co__prefetch_ready(co__loop *l)
{
    uint32_t h = l->ready_head, n = l->ready_tail - h;
    if (n < 4) return; /* a yield between a few tasks: all in cache */
    co__task *far = l->ready[(h + (n > CO__PF_TASK ? CO__PF_TASK : n - 1)) & l->ready_mask];
    __builtin_prefetch(far, 1);
    __builtin_prefetch((char *)far + 64, 1);
    co__task *near = l->ready[(h + (n > CO__PF_STACK ? CO__PF_STACK : n - 1)) & l->ready_mask];
    const char *sp = near->sp;
    __builtin_prefetch(sp, 1);
    __builtin_prefetch(sp + 64, 1);
    __builtin_prefetch(sp + 128, 1);
    __builtin_prefetch(sp + 192, 1);
}

/* self (RUNNING) has suspended: it is WAITING, or READY at the tail of the
 * ready FIFO after a yield.  Run the next ready task, or go back to the
 * scheduler when none is ready or the budget is spent; return once self
 * runs again.  Only co__suspend calls this (see above). */
static inline void co__switch_away(co__loop *l, co__task *self)
{
    co__stack_check(l, self);
    co__task *next = NULL;
    if (CO_LIKELY(l->budget > 0)) {
        next = co__pop_ready(l);
        l->budget--;
    }
    if (next == self) { /* a yield with nobody else ready */
        self->state = CO_TASK_RUNNING;
        return;
    }
    if (next) {
        next->state = CO_TASK_RUNNING;
        co__prefetch_ready(l);
    }
    co__transfer(l, self, next);
    CO_ASSERT(l->current == self && !co__task_ended(self));
}

/* The one await path (await.c).  The caller has already linked t into what
 * it waits on (wq may be NULL); co__suspend records kind/obj/loc, arms the
 * deadline, switches away and returns the wake result.  If a cancellation is
 * pending or the deadline has passed, it detaches t and returns at once. */
int co__suspend(co__task *t, co_wait_kind kind, void *obj, uint64_t obj_id, co_loc *loc, co_waitq *wq);
/* Wait queues. */
static inline void co__waitq_push(co_waitq *q, co__task *t)
{
    t->wq_next = NULL;
    t->wq_prev = q->tail;
    if (q->tail)
        ((co__task *)q->tail)->wq_next = t;
    else
        q->head = t;
    q->tail = t;
    t->wq = q;
}
static inline void co__waitq_remove(co_waitq *q, co__task *t)
{
    if (t->wq_prev)
        t->wq_prev->wq_next = t->wq_next;
    else
        q->head = t->wq_next;
    if (t->wq_next)
        t->wq_next->wq_prev = t->wq_prev;
    else
        q->tail = t->wq_prev;
    t->wq = NULL;
}
static inline co__task *co__waitq_first(const co_waitq *q) { return (co__task *)q->head; }
static inline bool co__waitq_empty(const co_waitq *q) { return q->head == NULL; }

void co__heap_remove(co__loop *l, co__task *t);
/* Wake a WAITING task with a result: unlink it from its wait queue and timer
 * and make it READY.  Safe to call from any code on the loop's thread. */
static inline void co__wake(co__task *t, int result)
{
    CO_ASSERT(t->state == CO_TASK_WAITING);
    co__loop *l = t->loop;
    if (t->wq) co__waitq_remove(t->wq, t);
    if (CO_UNLIKELY(t->heap_idx != CO__NOHEAP)) co__heap_remove(l, t);
    t->wake_result = result;
    co__ready(l, t);
}
/* co__wake's common case, with no call in it (so a fast path using it can
 * stay a leaf function): no timer armed for t, and the loop's idle handle
 * on.  Check with co__wake_is_quick first. */
static inline bool co__wake_is_quick(const co__task *t)
{
    return t->heap_idx == CO__NOHEAP && t->loop->idle_on;
}
static inline void co__wake_quick(co__task *t, int result)
{
    CO_ASSERT(t->state == CO_TASK_WAITING);
    if (t->wq) co__waitq_remove(t->wq, t);
    t->wake_result = result;
    t->state = CO_TASK_READY;
    co__ready_append(t->loop, t);
}
/* Deliver cancellation/timeout to a WAITING task. */
void co__interrupt(co__task *t, int result);

/* Entry checks shared by every suspending API: returns the running task or
 * NULL (then *err is set to -EPERM). */
static inline co__task *co__self(void)
{
    co__loop *l = co__tl_loop;
    return l ? l->current : NULL;
}

/* Timers (timer.c). */
void co__heap_insert(co__loop *l, co__task *t, uint64_t at, int result);
void co__timers_init(co__loop *l);

/* Look up host:port for a TCP stream (dns.c): the hints co_resolve and
 * co_tcp_connect share.  Free *res with uv_freeaddrinfo.  May suspend. */
struct addrinfo;
int co__resolve_tcp(co_loc *loc, const char *host, int port, struct addrinfo **res);

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

/* Debug mode and the step hooks: the watchdog's seqlock (debug.h). */
#include "debug.h"
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
/* asleep.c: what the waiting task x waits on, in the story's words (story.h). */
void co__wait_what(co__task *x, char *out, size_t cap);
/* helper.c: start the coscope binary (argv[0] is filled in) with the fds
 * keep[0..nkeep) open in it; 0 or a negative errno. */
int co__spawn_helper(char *argv[], const int *keep, size_t nkeep, pid_t *pid);
/* log.c: the runtime's reports, to the program's hook, or to stderr when
 * the program asked (debug mode, CO_LOG=stderr); co__log_fatal always, just
 * before the process dies; co__log_text for text of several lines. */
void co__logf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void co__log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void co__log_text(const co__loop *l, const char *text);
int co__log_env_stderr(void); /* CO_LOG=stderr: read by co_loop_new */
void co__log_report(void (*report)(co__loop *, FILE *), co__loop *l);
/* asleep.c: tell each group of waiting tasks stuck together (one line), then
 * call each(out, t, arg) on its tasks; returns the number of groups (0:
 * out of memory, nothing told). */
size_t co__asleep_groups(co__loop *l, FILE *out, void (*each)(FILE *out, co__task *t, void *arg), void *arg);
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

/* The task whose progress x's wait depends on, for the waits that can form
 * a cycle: the awaited task, or the owner of the lock.  NULL otherwise, and
 * when x is not waiting.  The deadlock check, its report and the trace's
 * detections all follow this one edge. */
static inline co__task *co__waits_for(const co__task *x)
{
    if (x->state != CO_TASK_WAITING) return NULL;
    if (x->wait_kind == CO_WAIT_TASK) return (co__task *)x->wait_obj;
    if (x->wait_kind == CO_WAIT_LOCK) return co__lock_owner((co_lock_t *)x->wait_obj);
    return NULL;
}

/* Detections as trace events (warn.c). */
void co__warn_cycle(co__task *self, uint64_t want_id, int want_kind, co__task *target, co_loc *loc);
void co__warn_loop(co__loop *l, int code);
void co__warn_detached_failed(co__task *t);
void co__warn_abandoned(co__task *t);       /* ignored its cancellation past the shutdown grace period */ /* a detached task failed: nobody will read its error */

/* Deadlock detection (await.c): would `self` waiting for a task `target`
 * (or the holder of a lock) close a cycle? */
bool co__would_deadlock(co__task *self, co__task *target);

#endif /* CO_INTERNAL_H */
