/* error.c -- co_strerror: names for the negative errno values every co_
 * function returns.  libuv's errors are negative errno on Unix, so its
 * static, thread-safe table covers both. */
#include "internal.h"

const char *co_strerror(int err)
{
    switch (err) {
    case 0: return "success";
    case -ECANCELED: return "task cancelled";
    case -ETIMEDOUT: return "timed out";
    case -EDEADLK: return "deadlock: the wait would never end";
    case -ESRCH: return "no such task (handle is stale: the task was already awaited or freed)";
    case -EPERM: return "not permitted (outside a task, or not the owner)";
    default: break;
    }
    if (err < 0) return uv_strerror(err);
    return "not an error code";
}
