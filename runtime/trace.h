/* SPDX-License-Identifier: MIT */
/* trace.h -- the tracing hot path and the shared-memory format it writes.
 *
 * This is the contract between a traced program (producer, runtime/trace.c)
 * and the recorder (consumer, tracer/recorder.c), which may be another
 * process (`coscope run`) reading the same memory.  Everything a crashed
 * program recorded is in this memory, so the recorder loses nothing.
 *
 * Layout of the shared region (all offsets from its start):
 *   tr_shm header | string arena (arena_size bytes) | rings[nrings]
 * Each ring is single-producer (one thread of the program) and
 * single-consumer (the recorder): the producer writes a record in place at
 * head, then publishes it with a release store of head+1; the consumer reads
 * up to head (acquire) and frees slots with a release store of tail.
 *
 * Strings (locations, task names, log lines) are interned once into the
 * arena; their id is their offset.  A string entry is written completely
 * before its `ready` word is set (release), and before any event refers to
 * it, so the recorder can persist the arena up to the first entry not ready.
 */
#ifndef CO_TRACE_H
#define CO_TRACE_H

#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#include "coscope.h"

#define TR_MAGIC       0x3152545343534f43ull /* "COSCSTR1" */
#define TR_VERSION     2
#define TR_NRINGS      64
/* Records per ring (512 KiB), a power of two.  Small on purpose: the
 * producer writes each slot once a lap, and a lap of 8 MiB (the first
 * size) left every slot out of cache by the time it came round: a traced
 * echo server ran 3.3-5.5% slower than untraced with 2^18 records (with or
 * without the prefetch in co__tr_emit), 1.3-1.5% with 2^12, 2.8% with
 * 2^14 and 1.0% with 2^14 and the prefetch (bench/echo --trace).  The
 * price: a ping-pong's sustained recording, 20-22M events/s with 2^18,
 * reads 19-61M with 2^14 (bimodal on the VM measured, most runs 19-25M).
 * Bursts are absorbed by waking the recorder at half full (co__tr_room)
 * rather than by a deep ring. */
#define TR_RING_RECS   (1u << 14)
#define TR_ARENA_BYTES (32u << 20)

/* One event: 32 bytes, built in place in the ring. */
typedef struct tr_rec {
    uint64_t ts;        /* raw clock: TSC ticks, or CLOCK_MONOTONIC ns (see tr_shm.clock) */
    uint32_t kind_loc;  /* low 8 bits: tr_kind; high 24: location id (arena offset / 8), 0 = none */
    uint32_t task;      /* task id (0 = no task: plain code on the loop, or a pool thread) */
    uint64_t res;       /* what the event is about: resource id, other task id, string id */
    uint64_t arg;       /* kind-specific: result, depth, wait kind, ... */
} tr_rec;

/* The kinds below come each from one list, X(ID, "name"): the enum and the
 * table of names the trace database stores (tracer/names.c, docs/schema.md)
 * are both expanded from it, so a kind cannot get another kind's name.
 * Numbers and names are part of the file format: chunks on disk store the
 * numbers, readers match the names; append only.  A name that SQL text
 * uses is a macro of its own (TR_NAME_*), written once, used by the list
 * and by the SQL. */
#define TR_NAME_AWAIT "await"
#define TR_NAME_RESUME "resume"

/* Event kinds. */
#define TR_EVENT_KINDS(X)                                                                            \
    X(NONE, "none")                                                                                  \
    X(THREAD, "thread")            /* a thread's first event: task = OS tid, res = ring index */    \
    X(SPAWN, "spawn")              /* task = new task, res = parent task, arg = name string id */   \
    X(START, "start")              /* task runs for the first time (a step begins) */               \
    X(AWAIT, TR_NAME_AWAIT)        /* step ends, await begins: res = awaited object id,             \
                                      arg = wait kind | extra << 8 */                               \
    X(RESUME, TR_NAME_RESUME)      /* await ends, step begins: arg = result (int64) */              \
    X(END, "end")                  /* task ended: arg = result (int64); the last step ends */       \
    X(CANCEL, "cancel")            /* task = requester (0 outside tasks), res = target task,        \
                                      arg = TR_CANCEL_* | wait kind << 8 */                         \
    X(DETACH, "detach")            /* res = detached task */                                        \
    X(RES_NEW, "resource")         /* res = resource id, arg = wait kind | name id << 8 */          \
    X(LOCK_ACQ, "lock_acquire")    /* immediate acquisition (no wait): res = lock */                \
    X(LOCK_REL, "lock_release")    /* res = lock, arg = task it is handed to (0 = none) */          \
    X(SEM_ACQ, "sem_acquire")      /* immediate: res = sem, arg = value after */                    \
    X(SEM_REL, "sem_release")      /* res = sem, arg = task handed to, or 0 */                      \
    X(Q_PUT, "queue_put")          /* res = queue, arg = depth after */                             \
    X(Q_GET, "queue_get")          /* res = queue, arg = depth after */                             \
    X(EV_SET, "event_set")         /* res = event, arg = waiters woken */                           \
    X(COND_NOTIFY, "cond_notify")  /* res = cond, arg = waiters woken */                            \
    X(FUT_SET, "future_set")       /* res = future, arg = error (0 if set) */                       \
    X(LOG, "log")                  /* res = string id (the formatted line) */                       \
    X(MARK, "mark")                /* res = string id */                                            \
    X(REGION_BEGIN, "region_begin") /* res = string id */                                           \
    X(REGION_END, "region_end")    /* res = string id */                                            \
    X(LOOP_IDLE, "loop_idle")      /* the loop is about to block in poll */                         \
    X(LOOP_BUSY, "loop_busy")      /* the loop woke up */                                           \
    X(WORK_BEGIN, "work_begin")    /* thread-pool work starts: res = request id, task = submitter */\
    X(WORK_END, "work_end")                                                                          \
    X(SLOW_STEP, "slow_step")      /* debug: the step that just ended took arg ns */                \
    X(STACK, "stack")              /* a frame of a captured stack: res = pc, arg = depth | count << 16 */ \
    X(WARN, "warning")             /* a detection: task, res = resource, arg = tr_warn code |       \
                                      other task << 8, loc = where (the wait, or the spawn site) */ \
    X(STACK_TEXT, "stack_text")    /* the watchdog's symbolized stack of a blocked step: res = string id */ \
    X(SLOW_CB, "slow_callback")    /* libuv callbacks outside tasks ran arg ns in one iteration */  \
    X(WAITS_FOR, "waits_for")      /* res = a task the next TR_WARN of the same task waits for      \
                                      (gather, wait, group): one event each, just before it */      \
    X(WORK_QUEUED, "work_queued")  /* thread-pool work submitted: res = request id (as WORK_BEGIN), \
                                      task = submitter, loc = the co_to_thread call */              \
    X(MODULE, "module")            /* an object mapped in the program: res = string id of its path, \
                                      arg = its load bias; before a crash's frames */                 \
    /* A snapshot (snapshot.c): the state of one loop when recording begins    \
     * mid-run (coscope attach, a flight-recorder period), on that loop's      \
     * ring, before any of its other events of the session. */                \
    X(SNAP_BEGIN, "snapshot_begin") /* res = live tasks of the loop, arg = the loop thread's OS tid */ \
    X(SNAP_TASK, "snapshot_task")  /* a live task: res = parent task, arg = name string id |         \
                                      co_task_state << 32 | TR_SNAP_F_* << 40; loc = spawn site */   \
    X(SNAP_AWAIT, "snapshot_await") /* its await (waiting), or the one it last woke from (ready):    \
                                      res = awaited object id, arg = wait kind; loc = the await */  \
    X(SNAP_RES, "snapshot_resource") /* a resource made before: res = id, arg = wait kind |           \
                                      name string id << 8 (as TR_RES_NEW) */                         \
    X(SNAP_HOLD, "snapshot_hold")  /* task holds lock res (arg = wait kind of res) */                \
    X(SNAP_VALUE, "snapshot_value") /* res = resource, arg = its wait kind << 56 | value (56 bits):  \
                                      semaphore value, queue depth, event set (0/1); task = a       \
                                      semaphore's last taker */                                      \
    X(SNAP_END, "snapshot_end")    /* res = tasks written, arg = resources written */               \
    X(ENDPOINT, "endpoint")        /* a connected socket's addresses: res = its resource id, arg =  \
                                      local address string id | peer address string id << 32;      \
                                      task = the task that connected or accepted it, loc = there */ \
    X(SWITCH, "switch")            /* ring only: an AWAIT and the RESUME of the task switched to,   \
                                      in one record (co__tr_emit_switch); chunks hold the two */

/* TR_SNAP_TASK's flags (arg bits 40-47). */
enum { TR_SNAP_F_STARTED = 1, TR_SNAP_F_DETACHED = 2, TR_SNAP_F_CANCEL_PENDING = 4 };
#define TR_SNAP_VALUE_MASK ((1ull << 56) - 1) /* TR_SNAP_VALUE's value bits */

typedef enum tr_kind {
#define TR__KIND_ENUM(id, name) TR_##id,
    TR_EVENT_KINDS(TR__KIND_ENUM)
#undef TR__KIND_ENUM
    TR_KIND_COUNT
} tr_kind;

/* TR_WARN codes: what the runtime detected itself, and what the builder
 * derives (slow steps, locks held across awaits, pool starvation, ignored
 * cancellations: never in a ring).  0 is no code.  The crash is written by
 * the signal handler into the ring of the faulting thread: task = the
 * running task (0: none), res = the faulting address, arg = code | signal
 * << 8, loc = the task's last await; its stack is the TR_STACK records just
 * before it on that ring (after TR_MODULEs). */
#define TR_NAME_SLOW_STEP "slow_step"
#define TR_NAME_CRASH "crash"
#define TR_WARN_KINDS(X)                                                                             \
    X(NONE, "unknown")                                                                               \
    X(DEADLOCK, "deadlock")                  /* a wait that would close a cycle: each task in it */  \
    X(ALL_ASLEEP, "all_asleep")              /* nothing can wake any task: each stuck group */       \
    X(PENDING_AT_EXIT, "pending_at_exit")    /* still waiting when the loop closed */                \
    X(NEVER_AWAITED, "never_awaited")        /* ended, neither awaited nor detached */               \
    X(UNRETRIEVED, "unretrieved_error")      /* failed, error never read: res = the error */         \
    X(SLOW_STEP, TR_NAME_SLOW_STEP)          /* a step longer than slow_ms (or a slow callback) */   \
    X(LOCK_HELD, "lock_held_across_await")   /* a lock held across an await longer than slow_ms */   \
    X(CRASH, TR_NAME_CRASH)                  /* a fatal signal (above) */                            \
    X(POOL_STARVED, "thread_pool_starved")   /* pool work waited longer than slow_ms to start */     \
    X(CANCEL_IGNORED, "cancel_ignored")      /* a cancelled task went on awaiting > slow_ms */      \
    X(QUEUE_GROWTH, "queue_growth")          /* a queue's depth grew for sustain_ms and stayed up */ \
    X(FAIL_LOOP, "failure_loop")             /* awaits at one line failed fast, fail_rate a second, \
                                                for sustain_ms */

enum tr_warn {
#define TR__WARN_ENUM(id, name) TR_WARN_##id,
    TR_WARN_KINDS(TR__WARN_ENUM)
#undef TR__WARN_ENUM
    TR_WARN_COUNT
};

/* TR_CANCEL's arg, low 8 bits: how the request met its target (the rule in
 * await.c).  AFTER_HANDOFF carries the wait kind that handed it something
 * in bits 8-15. */
enum tr_cancel_how {
    TR_CANCEL_PENDING = 0,   /* not started, running, or woken with nothing: next await, start, or return */
    TR_CANCEL_INTERRUPTS,    /* it was waiting: that await returns -ECANCELED now */
    TR_CANCEL_AFTER_HANDOFF, /* woken with something in hand: kept; delivered at its next await, if any */
};

/* What thread-pool work is: TR_WORK_QUEUED's and TR_WORK_BEGIN's arg.
 * Every request the runtime puts on libuv's pool goes through one
 * recorded path (thread.c: co__pool_submit), so starvation can be told
 * by kind: a lookup queued behind file reads. */
enum tr_work_kind {
    TR_WORK_THREAD = 0, /* co_to_thread */
    TR_WORK_DNS = 1,    /* co_getaddrinfo, co_resolve, co_tcp_connect's lookup */
    TR_WORK_FILE = 2,   /* co_file_* */
};

/* Span kinds: the `kind` of a row of `spans`. */
#define TR_NAME_STEP "step"
#define TR_NAME_HOLD "hold"
#define TR_NAME_REGION "region"
#define TR_NAME_WORK "work"
#define TR_SPAN_KINDS(X)                                                                             \
    X(STEP, TR_NAME_STEP)      /* a task's step and the await that ended it */                       \
    X(HOLD, TR_NAME_HOLD)      /* a lock or semaphore unit held */                                   \
    X(REGION, TR_NAME_REGION)  /* a named region (co_region_begin/end) */                            \
    X(WORK, TR_NAME_WORK)      /* thread-pool work running */                                        \
    X(IDLE, "idle")            /* the loop blocked in poll */

enum tr_span_kind {
#define TR__SPAN_ENUM(id, name) TR_SPAN_##id,
    TR_SPAN_KINDS(TR__SPAN_ENUM)
#undef TR__SPAN_ENUM
    TR_SPAN_KIND_COUNT
};

/* The name of a co_wait_kind as traces store it (wait_names.c); "?" out
 * of range.  The tracer's tr_*_name functions (tracer/names.c) name the
 * rest of the numbers above. */
const char *co__wait_name(unsigned kind);

/* A string in the arena: header then bytes, 8-byte aligned. */
typedef struct tr_str {
    _Atomic uint32_t ready; /* 0 while being written, then TR_STR_* */
    uint32_t len;           /* bytes of text, without the NUL */
    uint32_t line;          /* locations only */
    uint32_t func_off;      /* locations only: offset of the function name in text */
    char text[];            /* NUL-terminated; a location is "file\0func\0" */
} tr_str;
enum { TR_STR_PLAIN = 1, TR_STR_LOC = 2 };

typedef struct tr_ring {
    _Atomic uint64_t head;      /* written by the producer only */
    char pad0[56];
    _Atomic uint64_t tail;      /* written by the consumer only */
    char pad1[56];
    _Atomic uint32_t owner;     /* OS tid of the producer, 0 while free */
    uint32_t index;
    uint64_t head_local;        /* producer's private copy of head */
    uint64_t tail_cached;       /* producer's last look at tail */
    char pad2[40];
    tr_rec recs[TR_RING_RECS];
} tr_ring;

enum { TR_CLOCK_MONO = 0, TR_CLOCK_TSC = 1 };
enum { TR_FULL_BLOCK = 0, TR_FULL_DROP = 1 };

typedef struct tr_shm {
    uint64_t magic;
    uint32_t version;
    uint32_t nrings;
    uint32_t ring_recs;
    uint32_t clock;                 /* TR_CLOCK_* */
    uint32_t clock_invariant;       /* the counter's rate is architecturally constant */
    uint64_t arena_size;
    _Atomic uint64_t arena_top;     /* next free arena byte (offset from arena start) */
    _Atomic uint64_t dropped;       /* events lost in drop mode */
    _Atomic uint32_t rings_used;
    uint32_t full_policy;           /* TR_FULL_* */
    int32_t slow_ms;                /* slow-step threshold for the program */
    _Atomic int32_t consumer_alive; /* 0 once the recorder is gone: producers stop blocking */
    uint64_t tsc0, mono0;           /* a (tsc, ns) pair taken together at creation */
    /* The recorder sleeps on consumer_wake (a futex word, shared between
     * processes) with consumer_sleeping set; a producer whose ring is half
     * full clears the flag and wakes it.  A wake-up lost to the race
     * between the two costs at most the recorder's sleep (a few ms). */
    _Atomic uint32_t consumer_wake;
    _Atomic uint32_t consumer_sleeping;
    /* And the other way: producers with a full ring sleep on room_wake,
     * counted in room_waiters; the recorder wakes them as it frees slots
     * (tr_recorder_poll).  Sleeping, a waiting producer leaves its CPU to
     * the program's other threads and to the recorder, and wakes when
     * there is room rather than on a timer.  (Throughput is the same as
     * with the yield-then-nanosleep loop it replaced: a 10M-event
     * ping-pong under coscope run took 0.40-0.61 s with either, six
     * alternating runs each.) */
    _Atomic uint32_t room_wake;
    _Atomic uint32_t room_waiters;
    /* One traced process per region (the first to attach): two would mix
     * task ids and texts in one trace.  Another process of the same run
     * is refused, counted here and told on stderr. */
    _Atomic int32_t producer_pid;
    _Atomic uint32_t refused_procs;
    /* Events recorded whose text (log line, mark, name) did not fit in
     * the arena: they are in the trace, without it.  `dropped` counts
     * events only, so meta.lost never exceeds what was emitted. */
    _Atomic uint64_t text_lost;
    char pad[32];
} tr_shm;

static inline size_t tr_shm_size(void)
{
    return sizeof(tr_shm) + TR_ARENA_BYTES + (size_t)TR_NRINGS * sizeof(tr_ring);
}
static inline char *tr_arena(tr_shm *s) { return (char *)(s + 1); }
static inline tr_ring *tr_rings(tr_shm *s) { return (tr_ring *)(tr_arena(s) + s->arena_size); }

/* ------------------------------------------------------------------------ */
/* Producer hot path                                                         */

/* Hidden: inside libcoscope.so these are reached PC-relative, not via the GOT. */
#define CO__HIDDEN __attribute__((visibility("hidden")))
extern CO__HIDDEN int co__tracing;                  /* nonzero while a session records */
extern CO__HIDDEN uint32_t co__tr_epoch;            /* session number, never 0; ids are per session */
/* Inside the runtime, its thread-locals' model (CO__TLS_MODEL, internal.h:
 * initial-exec, a load off %fs instead of a call the compiler must save
 * registers around); elsewhere the default. */
#ifdef CO__TLS_MODEL
#define CO__TR_TLS CO__TLS_MODEL
#else
#define CO__TR_TLS
#endif
extern CO__HIDDEN __thread tr_ring *co__tr_ring CO__TR_TLS;    /* this thread's ring, NULL until the first event */
extern CO__HIDDEN __thread uint32_t co__tr_ring_epoch CO__TR_TLS; /* session co__tr_ring belongs to */

/* Timestamps.  Reading the clock is most of an event's cost (rdtsc takes
 * several times as long as the rest of the record: bench/tracer's clock_ns
 * and hot_ns), so one reading serves a task's step: the events whose time
 * bounds a duration (an await, an end, a lock or semaphore taken or given
 * back, a region, pool work, idle, every event outside a task's step) read
 * the clock; a step's own point events (CO__TR_STEP_KINDS: a spawn, a queue
 * put or get, an event set, ...) and the resume or start that follows a
 * task-to-task switch take the last stamp of their thread plus about a
 * nanosecond (CO__TR_NS_TICKS: distinct once the builder rounds to ns).
 * Each thread's stamps strictly increase, so they order its events exactly;
 * a point event is early by at most the time its step had run (docs/schema.md,
 * "Timestamps"), and a step begun by a switch begins at the await that
 * switched to it (the switch itself, a few ns, counts as the new step).
 * co__tr_step: the last stamp may be shared, i.e. a task's step runs on this
 * thread; the scheduler clears it as control comes back to it (loop.c). */
extern CO__HIDDEN __thread uint64_t co__tr_last CO__TR_TLS; /* this thread's last stamp */
extern CO__HIDDEN __thread int co__tr_step CO__TR_TLS;
/* Set while this thread writes a snapshot: its records wait for room even
 * when a full ring drops (the flight recorder), for a snapshot with a
 * record missing would open its period with a task or a wait missing.
 * The loop is paused for the snapshot anyway. */
extern CO__HIDDEN __thread int co__tr_keep CO__TR_TLS;
#if defined(__x86_64__)
#define CO__TR_NS_TICKS 4 /* TSC ticks: at least 1 ns up to 4 GHz */
#else
#define CO__TR_NS_TICKS 1 /* cntvct (<= 1 GHz) or ns */
#endif
#define CO__TR_STEP_KINDS                                                                          \
    (1ull << TR_SPAWN | 1ull << TR_START | 1ull << TR_RESUME | 1ull << TR_Q_PUT | 1ull << TR_Q_GET | \
     1ull << TR_EV_SET | 1ull << TR_COND_NOTIFY | 1ull << TR_RES_NEW | 1ull << TR_DETACH)
/* Step boundaries: a task's step runs from these on (its end, or an await,
 * leaves the stamp for a switch to the next task). */
#define CO__TR_STEP_SETS (1ull << TR_START | 1ull << TR_RESUME | 1ull << TR_AWAIT | 1ull << TR_END | 1ull << TR_SWITCH)

tr_ring *co__tr_claim(void);                /* slow path: take a ring for this thread */
int co__tr_room(tr_ring *r);                 /* slow path: ring half full; 0 if the event is dropped (never while co__tr_keep) */
uint32_t co__tr_intern_loc(co_loc *loc);     /* slow path: first event at a call site */
uint64_t co__tr_intern(const char *s, size_t len);
/* The same, reusing this thread's last entry with the same text: marks,
 * regions and repeated log lines are stored once, not at every call. */
uint64_t co__tr_intern_cached(const char *s, size_t len);

static inline uint64_t co__tr_now(void)
{
#if defined(__x86_64__)
    return __builtin_ia32_rdtsc();
#elif defined(__aarch64__)
    uint64_t v;
    __asm__ volatile("mrs %0, cntvct_el0" : "=r"(v));
    return v;
#else
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
#endif
}

static inline uint32_t co__tr_loc(co_loc *loc)
{
    if (!loc) return 0;
    if (__builtin_expect(loc->epoch == co__tr_epoch, 1)) return loc->id;
    return co__tr_intern_loc(loc);
}

/* How far ahead of head co__tr_put asks for a record's line (records). */
#define CO__TR_AHEAD 32
/* Write the record at h of r and publish it (no calls: see co__tr_emit). */
static inline __attribute__((always_inline)) void co__tr_put(tr_ring *r, uint64_t h, unsigned kind, uint32_t loc_id,
                                                             uint64_t task, uint64_t res, uint64_t arg)
{
    tr_rec *e = &r->recs[h & (TR_RING_RECS - 1)];
    /* A line of the ring was last read by the recorder, a lap ago, on
     * another core: writing it takes it back, a cross-core transfer that
     * a store would wait for.  So ask for it CO__TR_AHEAD records (1 KiB)
     * early, for writing: prefetchw fetches it exclusive, where a read
     * prefetch would fetch it shared and the store would still wait for
     * the recorder's copy to be invalidated.  (A line ahead was too close
     * for a producer that switches every few ns: traced ping-pong ran at
     * about half its speed.)  Older CPUs run prefetchw as a no-op.  The
     * address is not wrapped (one instruction, not five): near the end of
     * a lap it names what follows the ring, which a prefetch may, since it
     * never faults, and which costs the first lines of the next lap a
     * late fetch, once a lap. */
    const tr_rec *ahead = e + CO__TR_AHEAD;
#if defined(__x86_64__)
    __asm__ volatile("prefetchw %0" : : "m"(*ahead));
#else
    __builtin_prefetch(ahead, 1, 3);
#endif
    uint64_t ts = co__tr_last + CO__TR_NS_TICKS;
    if (!(kind < 64 && (CO__TR_STEP_KINDS >> kind & 1) && co__tr_step)) {
        uint64_t now = co__tr_now();
        if (__builtin_expect(now > ts, 1)) ts = now; /* else: a coarse clock; order wins */
    }
    co__tr_last = ts;
    if (kind < 64 && (CO__TR_STEP_SETS >> kind & 1)) co__tr_step = 1;
    e->ts = ts;
    e->kind_loc = kind | (loc_id << 8);
    e->task = (uint32_t)task;
    e->res = res;
    e->arg = arg;
    r->head_local = h + 1;
    atomic_store_explicit(&r->head, h + 1, memory_order_release);
}

/* The same with whatever the hot path leaves out: taking a ring for the
 * thread, waiting for room, interning a new location (trace.c). */
void co__tr_emit_slow(unsigned kind, co_loc *loc, uint64_t task, uint64_t res, uint64_t arg);

/* Record one event.  Call only under `if (CO_UNLIKELY(co__tracing))`.  The
 * common case calls nothing, so it needs no registers saved nor arguments
 * spilled around calls; anything else goes to co__tr_emit_slow.  Inlined
 * even into cold code (the await path's trace hooks are cold functions):
 * an out-of-line copy costs a call and a frame per event. */
static inline __attribute__((always_inline)) void co__tr_emit(unsigned kind, co_loc *loc, uint64_t task, uint64_t res, uint64_t arg)
{
    tr_ring *r = co__tr_ring;
    uint32_t epoch = co__tr_epoch;
    if (__builtin_expect(r == NULL || co__tr_ring_epoch != epoch || (loc && loc->epoch != epoch), 0)) {
        co__tr_emit_slow(kind, loc, task, res, arg);
        return;
    }
    uint64_t h = r->head_local;
    if (__builtin_expect(h - r->tail_cached >= TR_RING_RECS / 2, 0)) {
        co__tr_emit_slow(kind, loc, task, res, arg);
        return;
    }
    co__tr_put(r, h, kind, loc ? loc->id : 0, task, res, arg);
}

/* A task-to-task switch as one record: t's TR_AWAIT (res = obj_id, arg =
 * wait kind) and the TR_RESUME of task `to` with `result`, stamped as that
 * resume would be (the await's stamp plus CO__TR_NS_TICKS).  TR_SWITCH:
 * res = obj_id | to << 32, arg = wait kind | (uint32_t)result << 32.  The
 * consumer writes the two events into its chunks (tr_chunk_add).  Only for
 * an obj_id below 2^32; the caller then skips to's TR_RESUME. */
static inline __attribute__((always_inline)) void co__tr_emit_switch(co_loc *loc, uint64_t task, uint64_t obj_id,
                                                                     unsigned wait_kind, uint64_t to, int result)
{
    co__tr_emit(TR_SWITCH, loc, task, obj_id | (uint64_t)(uint32_t)to << 32,
                wait_kind | (uint64_t)(uint32_t)result << 32);
    co__tr_last += CO__TR_NS_TICKS;
}
/* The events a ring record stands for: a TR_SWITCH two, any other one. */
static inline unsigned tr_rec_events(const tr_rec *e) { return 1u + ((e->kind_loc & 0xff) == TR_SWITCH); }
static inline void tr_switch_split(const tr_rec *e, tr_rec *await, tr_rec *resume)
{
    *await = (tr_rec){ e->ts, TR_AWAIT | (e->kind_loc & ~0xffu), e->task, e->res & 0xffffffffu, e->arg & 0xffffffffu };
    *resume = (tr_rec){ e->ts + CO__TR_NS_TICKS, TR_RESUME, (uint32_t)(e->res >> 32), 0,
                        (uint64_t)(int64_t)(int32_t)(e->arg >> 32) };
}

#define CO_TRACE(kind, loc, task, res, arg) \
    do { if (__builtin_expect(co__tracing, 0)) co__tr_emit((kind), (loc), (task), (res), (arg)); } while (0)

/* Session control (trace.c). */
int co__tr_attach(tr_shm *shm);             /* start producing into shm */
void co__tr_detach(void);
/* Recording that begins mid-run (coscope attach): while set, a loop
 * thread's events are not recorded until its loop has written its
 * snapshot for this session (co__snapshot_write), so its ring starts with
 * the state and every later event applies to it.  Set before co__tr_attach. */
extern CO__HIDDEN int co__tr_snap_gate;
/* The recorder's end of a control socket, or -1: a producer waiting for
 * room gives up (drops, counted) once that socket has hung up, so a killed
 * `coscope attach` never leaves the program blocked on a full ring. */
void co__tr_set_consumer_fd(int fd);
tr_shm *co__tr_create_shm(int *fd_out);     /* a fresh region (memfd), initialised */
void co__tr_modules(void);                  /* crash.c: TR_MODULE for the program and each library */

#endif /* CO_TRACE_H */
