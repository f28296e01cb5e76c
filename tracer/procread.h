/* SPDX-License-Identifier: MIT */
/* procread.h -- a snapshot of a running coscope program, read from outside
 * (`coscope ps PID`, `coscope tree PID`).
 *
 * Nothing runs inside the target: the reader finds the runtime's layout
 * table (runtime/debug_offsets.h) through /proc/PID/maps and the ELF
 * symbols of the mapped files, and copies memory with process_vm_readv.
 * So it works on a loop blocked in a system call, spinning, or deadlocked.
 *
 * Everything read from the target is untrusted: the table is checked
 * (magic, version, sizes, every field inside its struct), string reads
 * are bounded, list walks are bounded, and a task that does not look like
 * one is marked torn rather than followed.
 *
 * By default the target is stopped for the read with PTRACE_SEIZE +
 * PTRACE_INTERRUPT on every thread and detached at the end; if the reader
 * dies in between, the kernel detaches and the target runs on.
 */
#ifndef TR_PROCREAD_H
#define TR_PROCREAD_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

/* Flags of tr_ps_snapshot. */
enum {
    TR_PS_NO_PAUSE = 1, /* read while it runs; rows that changed under the read are marked torn */
};

/* Errors of tr_ps_snapshot, beyond -ENOMEM: */
#define TR_PS_ENOPROC   (-ESRCH)           /* no such process */
#define TR_PS_EPERM     (-EPERM)           /* may not read or ptrace it (info.tracer_pid: someone else does) */
#define TR_PS_ENOTCO    (-ENOENT)          /* no coscope layout table in any mapped object */
#define TR_PS_EVERSION  (-EPROTONOSUPPORT) /* a table of a version this reader does not know */
#define TR_PS_EBADTABLE (-EBADMSG)         /* a table that fails its own checks */
#define TR_PS_EEXITED   (-ECHILD)          /* it exited during the read */
#define TR_PS_ENOATTACH (-ENOTSUP)         /* attach: its runtime predates `coscope attach` */

/* A source location, strings owned by the snapshot (NULL: unknown). */
typedef struct tr_ps_loc {
    const char *file, *func;
    int line;
} tr_ps_loc;

/* What a task waits on, when that is a lock, semaphore, queue, event,
 * future or condition. */
typedef struct tr_ps_res {
    uint64_t addr;
    int kind;              /* co_wait_kind of the first wait seen on it */
    int valid;             /* its magic matched: the fields below were read */
    uint64_t id;
    const char *name;      /* NULL if none */
    uint64_t holder_id;    /* lock: owner; semaphore: last taker; 0 = none */
    int holder_ended;      /* the holder's slot was freed: it ended holding it */
    int64_t value;         /* sem value, queue length, event is_set, future state */
    int64_t maxsize;       /* queue */
    uint64_t lock_addr;    /* condition: its lock */
} tr_ps_res;

typedef struct tr_ps_task {
    uint64_t addr;
    uint32_t loop;         /* index in tr_ps_snap.loops */
    uint32_t gen;
    uint64_t id, parent_id;
    const char *name;
    int state;             /* co_task_state */
    int started, cancel_pending, detached;
    int wait_kind;         /* co_wait_kind, valid while state == CO_TASK_WAITING */
    uint64_t wait_obj, wait_obj_id;
    tr_ps_loc wait_loc, spawn_loc;
    uint64_t await_t0_ns;  /* CLOCK_MONOTONIC ns the await began, 0 = not known */
    int64_t timer_at_ms;   /* CLOCK_MONOTONIC ms its wait times out, -1 = none */
    tr_ps_res *res;        /* the resource it waits on, or NULL */
    uint64_t waits_for_id; /* the task its wait depends on (awaited task, lock holder), 0 = none */
    uint64_t awaiter_id;   /* the task waiting for this one to end (await, gather, group), 0 = none */
    int torn;              /* read while it changed, or did not validate */
} tr_ps_task;

typedef struct tr_ps_loop {
    uint64_t addr;
    int tid;               /* thread that created it, 0 = unknown */
    uint64_t current_id;   /* the task on the CPU, 0 = on the scheduler (libuv) */
    uint64_t main_id;
    uint32_t nslots;
    uint64_t live;
    int running;
    size_t ntasks;         /* live tasks read */
} tr_ps_loop;

typedef struct tr_ps_snap {
    int pid;
    uint32_t version;
    char object[512];      /* the mapped file the table was found in */
    tr_ps_loop *loops;
    size_t nloops;
    tr_ps_task *tasks;     /* by loop, then id */
    size_t ntasks;
    tr_ps_res *res;        /* an array of nres; tasks point into it */
    size_t nres;
    uint64_t loops_dropped; /* loops the registry had no room for */
    uint64_t now_ns;       /* CLOCK_MONOTONIC at the read */
    int paused;
    size_t ntorn;
    double pause_ms;       /* how long the target was stopped (0 with TR_PS_NO_PAUSE) */
    double read_ms;        /* the whole read, table lookup included */
    struct tr_ps_mem *mem; /* owned strings */
} tr_ps_snap;

/* What a failure knew: the version of a refused table, who traces the
 * target already.  Filled as far as the read got. */
typedef struct tr_ps_info {
    uint32_t version;
    int tracer_pid;
    char object[512];
} tr_ps_info;

/* Read process pid.  Returns 0 with *out set (free with tr_ps_free), or a
 * negative error above (info, if not NULL, says more). */
int tr_ps_snapshot(int pid, int flags, tr_ps_snap **out, tr_ps_info *info);
void tr_ps_free(tr_ps_snap *s);

/* The task with this id in s, or NULL. */
const tr_ps_task *tr_ps_find(const tr_ps_snap *s, uint64_t id);

/* Find the layout table's address in process pid (procelf.c): the symbol
 * CO_DEBUG_SYMBOL, else the section CO_DEBUG_SECTION, of each mapped ELF
 * file, the executable first.  0 and *addr, or TR_PS_ENOTCO, TR_PS_EPERM,
 * TR_PS_ENOPROC.  object gets the file's path. */
int tr_ps_find_table(int pid, uint64_t *addr, char *object, size_t objsize);

/* For `coscope attach` (procattach.c): the signal process pid's runtime
 * armed for attaching (0: none: disabled, no loop made yet, or the program
 * handles that signal itself) and the pid of the coscope attached now (0:
 * none).  Read without pausing.  0, or an error above (TR_PS_ENOATTACH: a
 * runtime older than attach). */
int tr_ps_attach_state(int pid, int *signo, int *peer, tr_ps_info *info);

#endif
