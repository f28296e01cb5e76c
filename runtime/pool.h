/* SPDX-License-Identifier: MIT */
/* pool.h -- one recorded path onto libuv's thread pool (thread.c).
 *
 * libuv runs getaddrinfo, file operations and uv_queue_work on one small
 * pool (UV_THREADPOOL_SIZE threads, 4 by default).  A request libuv queues
 * by itself (uv_getaddrinfo, uv_fs_read with a callback) is invisible: the
 * trace cannot tell that a lookup waited 1.5 s behind slow file reads.  So
 * the runtime puts all of its pool work through co__pool_submit: the
 * synchronous call runs inside a uv_queue_work whose pool-thread side is
 * recorded (TR_WORK_QUEUED on the loop thread with the call site, then
 * TR_WORK_BEGIN/TR_WORK_END on the pool thread, each with the work's kind,
 * enum tr_work_kind in trace.h).  Private to thread.c, dns.c and file.c.
 */
#ifndef CO_POOL_H
#define CO_POOL_H

#include "internal.h"

typedef struct co__pool_req co__pool_req;
struct co__pool_req {
    uv_work_t req;
    void (*run)(co__pool_req *p);              /* on a pool thread */
    void (*done)(co__pool_req *p, int status); /* on the loop thread: 0, or UV_ECANCELED if it never ran */
    uint64_t id;                               /* resource id of the request (the work span's) */
    uint64_t task_id;                          /* the submitting task, for the trace */
    co_loc *loc;                               /* the call site */
    unsigned kind;                             /* enum tr_work_kind */
};

/* Queue p (run and done set) on uv's pool; records TR_WORK_QUEUED.  Sets
 * p->id.  After a 0 return, done runs exactly once. */
int co__pool_submit(uv_loop_t *uv, co__pool_req *p, co_loc *loc, unsigned kind, uint64_t task_id);
/* Drop p if no pool thread took it yet (done then gets UV_ECANCELED). */
static inline void co__pool_cancel(co__pool_req *p) { uv_cancel((uv_req_t *)&p->req); }

#endif /* CO_POOL_H */
