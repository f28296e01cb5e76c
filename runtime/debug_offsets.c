/* SPDX-License-Identifier: MIT */
/* debug_offsets.c -- the layout table and the registry of live loops that
 * `coscope ps PID` reads from outside the process (debug_offsets.h).
 *
 * Both cost nothing while nobody looks: the table is constant data, and
 * the registry is written only when a loop is created or freed.  The
 * registry is a fixed array of slots claimed with a compare-and-swap, not
 * a list under a mutex: a reader in another process takes no lock, and a
 * process paused at any instruction leaves it consistent slot by slot.
 */
#include "internal.h"
#include "debug_offsets.h"
#include <stdatomic.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LOOPS_MAX 1024

typedef struct loop_slot {
    co__loop *_Atomic loop;
    _Atomic int32_t tid;
    int32_t pad_;
} loop_slot;

static loop_slot loops[LOOPS_MAX];
extern co_debug_attach co__attach_pub; /* attach.c */
static _Atomic uint64_t loops_dropped;

#define F(type, member) { offsetof(type, member), sizeof(((type *)0)->member) }

/* `used` and the section keep it in a static link that never names it; it
 * sits in the same object as co__debug_loop_register, which co_loop_new
 * calls, so linking libcoscope.a always brings it. */
__attribute__((used, section(CO_DEBUG_SECTION)))
const co_debug_offsets_t co_debug_offsets = {
    .magic = CO_DEBUG_MAGIC,
    .version = CO_DEBUG_VERSION,
    .size = sizeof(co_debug_offsets_t),
    .ptr_size = sizeof(void *),
    .task_states = CO_TASK_CANCELLED + 1,
    .wait_kinds = CO_WAIT_KIND_COUNT,

    .loops = (uint64_t)(uintptr_t)loops,
    .loops_dropped = (uint64_t)(uintptr_t)&loops_dropped,
    .loops_max = LOOPS_MAX,
    .loop_slot_size = sizeof(loop_slot),
    .loop_slot_loop = F(loop_slot, loop),
    .loop_slot_tid = F(loop_slot, tid),

    .loop_size = sizeof(co__loop),
    .chunk_tasks = CO__CHUNK,
    .loop_current = F(co__loop, current),
    .loop_main = F(co__loop, main),
    .loop_chunks = F(co__loop, chunks),
    .loop_nchunks = F(co__loop, nchunks),
    .loop_nslots = F(co__loop, nslots),
    .loop_live = F(co__loop, live),
    .loop_running = F(co__loop, running),

    .task_size = sizeof(co__task),
    .task_gen = F(co__task, gen),
    .task_id = F(co__task, id),
    .task_name = F(co__task, name),
    .task_state = F(co__task, state),
    .task_started = F(co__task, started),
    .task_cancel_pending = F(co__task, cancel_pending),
    .task_detached = F(co__task, detached),
    .task_wait_kind = F(co__task, wait_kind),
    .task_wait_obj = F(co__task, wait_obj),
    .task_wait_obj_id = F(co__task, wait_obj_id),
    .task_wait_loc = F(co__task, wait_loc),
    .task_spawn_loc = F(co__task, spawn_loc),
    .task_parent_id = F(co__task, parent_id),
    .task_await_t0 = F(co__task, await_t0),
    .task_timer_at = F(co__task, timer_at),
    .task_heap_idx = F(co__task, heap_idx),
    .task_watchers = F(co__task, watchers),
    .task_group = F(co__task, group),
    .task_slot = F(co__task, slot),
    .task_loop = F(co__task, loop),
    .watch_next = F(co__watch, next),
    .watch_waiter = F(co__watch, waiter),
    .group_magic = F(co_group_t, magic),
    .group_waiter = F(co_group_t, waiter),
    .group_count = F(co_group_t, count),

    .loc_file = F(co_loc, file),
    .loc_func = F(co_loc, func),
    .loc_line = F(co_loc, line),

    .lock_magic_value = CO__MAGIC_LOCK,
    .event_magic_value = CO__MAGIC_EVENT,
    .sem_magic_value = CO__MAGIC_SEM,
    .queue_magic_value = CO__MAGIC_QUEUE,
    .future_magic_value = CO__MAGIC_FUTURE,
    .cond_magic_value = CO__MAGIC_COND,
    .group_magic_value = CO__MAGIC_GROUP,
    .lock_magic = F(co_lock_t, magic),
    .lock_id = F(co_lock_t, id),
    .lock_name = F(co_lock_t, name),
    .lock_owner = F(co_lock_t, owner),
    .lock_owner_gen = F(co_lock_t, owner_gen),
    .lock_waiters = F(co_lock_t, waiters),
    .sem_magic = F(co_sem_t, magic),
    .sem_id = F(co_sem_t, id),
    .sem_name = F(co_sem_t, name),
    .sem_value = F(co_sem_t, value),
    .sem_last_taker = F(co_sem_t, last_taker),
    .sem_last_taker_gen = F(co_sem_t, last_taker_gen),
    .sem_last_taker_id = F(co_sem_t, last_taker_id),
    .queue_magic = F(co_queue_t, magic),
    .queue_id = F(co_queue_t, id),
    .queue_name = F(co_queue_t, name),
    .queue_len = F(co_queue_t, len),
    .queue_maxsize = F(co_queue_t, maxsize),
    .event_magic = F(co_event_t, magic),
    .event_id = F(co_event_t, id),
    .event_name = F(co_event_t, name),
    .event_is_set = F(co_event_t, is_set),
    .future_magic = F(co_future_t, magic),
    .future_id = F(co_future_t, id),
    .future_state = F(co_future_t, state),
    .cond_magic = F(co_cond_t, magic),
    .cond_id = F(co_cond_t, id),
    .cond_name = F(co_cond_t, name),
    .cond_lock = F(co_cond_t, lock),

    .attach = (uint64_t)(uintptr_t)&co__attach_pub,
    .attach_signo = F(co_debug_attach, signo),
    .attach_peer = F(co_debug_attach, peer),
};

void co__debug_loop_register(co__loop *l)
{
    int32_t tid = (int32_t)syscall(SYS_gettid);
    for (size_t i = 0; i < LOOPS_MAX; i++) {
        co__loop *expect = NULL;
        if (atomic_load_explicit(&loops[i].loop, memory_order_relaxed) != NULL) continue;
        /* The tid follows the claim: a reader takes tid 0 as not yet
         * known, never as another loop's. */
        if (atomic_compare_exchange_strong_explicit(&loops[i].loop, &expect, l, memory_order_acq_rel,
                                                    memory_order_relaxed)) {
            atomic_store_explicit(&loops[i].tid, tid, memory_order_release);
            return;
        }
    }
    atomic_fetch_add_explicit(&loops_dropped, 1, memory_order_relaxed);
}

void co__debug_loop_unregister(co__loop *l)
{
    for (size_t i = 0; i < LOOPS_MAX; i++) {
        if (atomic_load_explicit(&loops[i].loop, memory_order_relaxed) == l) {
            atomic_store_explicit(&loops[i].tid, 0, memory_order_relaxed);
            atomic_store_explicit(&loops[i].loop, NULL, memory_order_release);
            return;
        }
    }
}

co__loop *co__debug_loop_at(size_t i)
{
    return i < LOOPS_MAX ? atomic_load_explicit(&loops[i].loop, memory_order_acquire) : NULL;
}

size_t co__debug_loops_max(void) { return LOOPS_MAX; }
