/* SPDX-License-Identifier: MIT */
/* debug_offsets.h -- the layout table the runtime exports for readers
 * outside the process (`coscope ps PID`, `coscope tree PID`).
 *
 * A debugger that reads a running program's memory must know where each
 * field it wants lives, in the build of the runtime that program linked,
 * which need not be the build of coscope reading it.  So the runtime
 * describes itself: one constant table, `co_debug_offsets`, gives the
 * offset and size of every field a reader needs, and the address of the
 * registry of live loops from which every task can be found (CPython's
 * _Py_DebugOffsets is the model).  It is plain static data: nothing runs to
 * keep it current, so a program nobody looks at pays nothing.
 *
 * Finding it: the symbol `co_debug_offsets` (in .dynsym of libcoscope.so,
 * in .symtab of a program linked with libcoscope.a), or, in a stripped
 * program, the ELF section CO_DEBUG_SECTION that holds only the table.
 *
 * Compatibility.  The table's own layout is fixed for a version: fields
 * may be appended (size grows, version stays), anything else bumps
 * CO_DEBUG_VERSION and readers refuse versions they do not know.  Every
 * member is fixed-width and naturally aligned, so the layout is the same
 * for every compiler on a 64-bit target.
 *
 * This header is part of that contract, shared by the runtime (which fills
 * the table) and the tracer's reader (tracer/procread.c); programs do not
 * include it.
 */
#ifndef CO_DEBUG_OFFSETS_H
#define CO_DEBUG_OFFSETS_H

#include <stddef.h>
#include <stdint.h>

#define CO_DEBUG_MAGIC "coscope\x7f"   /* 8 bytes, no terminator in the table */
#define CO_DEBUG_VERSION 1
#define CO_DEBUG_SECTION ".co_debug_offsets"
#define CO_DEBUG_SYMBOL "co_debug_offsets"

/* Where a field is: byte offset in its struct, and its width (1, 2, 4 or
 * 8; a pointer is 8 on the targets this version supports). */
typedef struct co_debug_field {
    uint32_t off;
    uint32_t size;
} co_debug_field;

typedef struct co_debug_offsets_t {
    char magic[8];            /* CO_DEBUG_MAGIC */
    uint32_t version;         /* CO_DEBUG_VERSION */
    uint32_t size;            /* sizeof this table as built */
    uint32_t ptr_size;        /* sizeof(void *) */
    uint32_t task_states;     /* co_task_state values are < this */
    uint32_t wait_kinds;      /* CO_WAIT_KIND_COUNT */
    uint32_t reserved;

    /* The registry of live loops: `loops_max` slots of `loop_slot_size`
     * bytes at address `loops`; a slot whose loop pointer is not NULL is a
     * live loop, created by thread `tid`.  Written with atomics at
     * co_loop_new/co_loop_free only.  `loops_dropped` (an address) counts
     * loops that found the registry full and are invisible. */
    uint64_t loops;
    uint64_t loops_dropped;
    uint32_t loops_max;
    uint32_t loop_slot_size;
    co_debug_field loop_slot_loop, loop_slot_tid;

    /* co__loop.  Tasks live in `chunks` (an array of nchunks pointers, of
     * which the first ceil(nslots / chunk_tasks) are in use), each a block
     * of chunk_tasks task structs of task.size bytes.  A slot whose `gen`
     * is odd holds a live task. */
    uint32_t loop_size;
    uint32_t chunk_tasks;
    co_debug_field loop_current, loop_main, loop_chunks, loop_nchunks, loop_nslots, loop_live,
        loop_running;

    /* co__task.  state is co_task_state, wait_kind co_wait_kind (valid
     * while WAITING), wait_obj the object waited on (its struct depends on
     * wait_kind), await_t0 the CLOCK_MONOTONIC ns the current await began
     * (0 = not measured: only in debug mode or while a trace records),
     * timer_at the CLOCK_MONOTONIC ms the wait times out at (valid while
     * heap_idx != UINT32_MAX).  watchers: list of co_debug watch structs
     * (next, waiter) of tasks waiting for this one to end (co_gather,
     * co_wait); group: the co_group_t it belongs to. */
    uint32_t task_size;
    uint32_t reserved2;
    co_debug_field task_gen, task_id, task_name, task_state, task_started, task_cancel_pending,
        task_detached, task_wait_kind, task_wait_obj, task_wait_obj_id, task_wait_loc,
        task_spawn_loc, task_parent_id, task_await_t0, task_timer_at, task_heap_idx,
        task_watchers, task_group, task_slot, task_loop;
    co_debug_field watch_next, watch_waiter;
    co_debug_field group_magic, group_waiter, group_count;

    /* co_loc. */
    co_debug_field loc_file, loc_func, loc_line;

    /* Resources, each with the magic a live one carries. */
    uint32_t lock_magic_value, event_magic_value, sem_magic_value, queue_magic_value,
        future_magic_value, cond_magic_value, group_magic_value, reserved3;
    co_debug_field lock_magic, lock_id, lock_name, lock_owner, lock_owner_gen, lock_waiters;
    co_debug_field sem_magic, sem_id, sem_name, sem_value, sem_last_taker, sem_last_taker_gen,
        sem_last_taker_id;
    co_debug_field queue_magic, queue_id, queue_name, queue_len, queue_maxsize;
    co_debug_field event_magic, event_id, event_name, event_is_set;
    co_debug_field future_magic, future_id, future_state;
    co_debug_field cond_magic, cond_id, cond_name, cond_lock;

    /* Appended for `coscope attach` (a table without them is older: size
     * tells).  `attach` is the address of a co_debug_attach: the signal
     * that asks the program to attach (0: none armed yet, or disabled with
     * COSCOPE_ATTACH_SIGNAL=0), and the pid of the coscope attached now. */
    uint64_t attach;
    co_debug_field attach_signo, attach_peer;
} co_debug_offsets_t;

/* The runtime's attach state as readers see it (runtime/attach.c).  Written
 * with atomics by the runtime. */
typedef struct co_debug_attach {
    int32_t signo;   /* armed: a handler for it is installed; 0 = attach not possible */
    int32_t peer;    /* coscope attached now, 0 = none */
} co_debug_attach;

/* The conversation of `coscope attach` (cli/cmd_attach.c) with the
 * runtime (runtime/attach.c).  coscope listens on the abstract unix socket
 * CO_ATTACH_SOCKET (with the target's pid) and sends the target
 * co_debug_attach.signo.  A loop of the target, woken, connects, checks the
 * listener is its own user or root, and reads one co_attach_hello with the
 * trace region's memfd (SCM_RIGHTS).  It answers an int32: 0 (recording:
 * each loop writes its snapshot, then its events) or a negative errno
 * (-EBUSY: it records already).  Later, a byte 'd' from coscope detaches
 * (answered by an int32 0 once no more events are written), and the end of
 * the socket (coscope gone) detaches too. */
#define CO_ATTACH_SOCKET "coscope-attach-%d"
#define CO_ATTACH_MAGIC 0x54415443u /* "CTAT" */
typedef struct co_attach_hello {
    uint32_t magic;     /* CO_ATTACH_MAGIC */
    uint32_t version;   /* CO_DEBUG_VERSION */
    int32_t pid;        /* coscope's */
    uint32_t flags;     /* 0 */
} co_attach_hello;

/* The size of a version-1 table before the attach fields. */
#define CO_DEBUG_SIZE_V1_BASE offsetof(co_debug_offsets_t, attach)

#endif
