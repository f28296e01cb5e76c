/* SPDX-License-Identifier: MIT */
/* procread_int.h -- what the files of the outside reader share (procread.c
 * walks loops and tasks, procres.c reads resources and ties tasks
 * together, procmem.c copies the target's memory and checks its layout
 * table, procpause.c stops and resumes it): the state of one read.  Not
 * for callers: they see procread.h. */
#ifndef TR_PROCREAD_INT_H
#define TR_PROCREAD_INT_H

#include "procread.h"
#include "map.h"
#include "../runtime/coscope.h"
#include "../runtime/debug_offsets.h"
#include <string.h>

#define STR_MAX      256          /* longest string read from the target */
#define SLOTS_MAX    (1u << 26)   /* tasks per loop we are ready to read */
#define WATCHERS_MAX 64           /* watchers walked per task */
#define STRUCT_MAX   65536        /* a loop or task struct larger than this is not believed */
#define THREADS_MAX  65536

typedef struct tr_ps_mem {
    char **owned;
    size_t n, cap;
    size_t *by_id; /* task indices by id, for tr_ps_find */
} tr_ps_mem;

typedef struct tr__ps_reader {
    int pid, flags;
    co_debug_offsets_t T;
    tr_ps_snap *s;
    tr_map strs;   /* addr -> char * */
    tr_map locs;   /* addr -> tr_ps_loc */
    tr_map resix;  /* addr -> size_t index + 1 */
    tr_map taskix; /* addr -> size_t index + 1 */
    size_t cap_tasks, cap_res;
    /* By task index, what is resolved after the read. */
    uint64_t *watch_waiters; /* waiter addrs, WATCHERS_MAX per task that has any, 0-ended */
    size_t nwatch, cap_watch;
    size_t *watch_of;        /* task index -> first in watch_waiters + 1, 0 = none */
    uint64_t *group_waiter;  /* task index -> its group's waiter addr */
    size_t *res_of;          /* task index -> res index + 1 */
    uint64_t *res_owner;     /* res index -> lock owner / sem last taker addr */
    uint32_t *res_owner_gen;
    uint64_t *name_at;       /* task index -> its name's address, read in a batch */
    uint64_t *watch_at;      /* task index -> its first watcher's address, read in a batch */
    int gone;                /* a read found the process gone */
} reader;

/* A field of a struct copied into buf (its bounds were checked against the
 * struct's size when the table was validated). */
static inline uint64_t tr__ps_getu(const unsigned char *buf, co_debug_field f)
{
    switch (f.size) {
    case 1: return buf[f.off];
    case 2: { uint16_t v; memcpy(&v, buf + f.off, 2); return v; }
    case 4: { uint32_t v; memcpy(&v, buf + f.off, 4); return v; }
    default: { uint64_t v; memcpy(&v, buf + f.off, 8); return v; }
    }
}
static inline int64_t tr__ps_gets(const unsigned char *buf, co_debug_field f)
{
    switch (f.size) {
    case 1: return (int8_t)buf[f.off];
    case 2: { int16_t v; memcpy(&v, buf + f.off, 2); return v; }
    case 4: { int32_t v; memcpy(&v, buf + f.off, 4); return v; }
    default: { int64_t v; memcpy(&v, buf + f.off, 8); return v; }
    }
}


static inline int tr__ps_is_res_kind(int k)
{
    return k == CO_WAIT_LOCK || k == CO_WAIT_SEM || k == CO_WAIT_QUEUE_GET || k == CO_WAIT_QUEUE_PUT ||
           k == CO_WAIT_QUEUE_JOIN || k == CO_WAIT_EVENT || k == CO_WAIT_FUTURE || k == CO_WAIT_COND;
}


/* ---- procmem.c: the target's memory ----------------------------------------- */

/* 0, or -EFAULT (not mapped), -ESRCH (gone: r->gone set), -EPERM. */
int tr__ps_rd(reader *r, uint64_t addr, void *buf, size_t len);
/* n reads of len bytes at addr[k] into buf + k * len, ok[k] 1 if read k
 * succeeded: batched (rd_many), or neighbours read as one span (rd_near). */
void tr__ps_rd_many(reader *r, size_t n, const uint64_t *addr, size_t len, unsigned char *buf, unsigned char *ok);
void tr__ps_rd_near(reader *r, size_t n, const uint64_t *addr, size_t len, unsigned char *buf, unsigned char *ok);
/* p (malloc'd) owned by the snapshot from now on: 0 or -ENOMEM. */
int tr__ps_own(tr_ps_mem *m, char *p);
/* A string of the target, read once, owned by the snapshot; NULL if none. */
const char *tr__ps_str(reader *r, uint64_t addr);
/* A co_loc of the target, read once; zeroed if none. */
tr_ps_loc tr__ps_loc(reader *r, uint64_t addr);
/* The layout table at addr into r->T, checked: 0 or a TR_PS_E* error. */
int tr__ps_read_table(reader *r, uint64_t addr, tr_ps_info *info);

/* ---- procpause.c: stopping the target --------------------------------------- */

typedef struct stopped {
    int *tids;
    size_t n, cap;
} stopped;
int tr__ps_pause_all(int pid, stopped *st);
void tr__ps_resume(stopped *st);
/* Who ptraces pid (/proc/PID/status TracerPid), 0 if none. */
int tr__ps_tracer_of(int pid);

/* ---- procres.c: resources, and the ties between tasks ----------------------- */

/* The resource at addr (of wait kind kind), read once: its index + 1 in
 * r->s->res, or 0 (out of memory). */
size_t tr__ps_resource(reader *r, uint64_t addr, int kind);
/* After the walk: holders, awaiters and what each waiting task waits for,
 * from the addresses read.  0 or -ENOMEM. */
int tr__ps_resolve(reader *r);

#endif
