/* SPDX-License-Identifier: MIT */
/* error.c -- co_strerror: names for the negative errno values every co_
 * function returns.  libuv's errors are negative errno on Unix, so its
 * static, thread-safe table covers most; it lacks some errnos a program's
 * own task may return (-EBADMSG, -EPROTO, ...), for which it answers
 * "Unknown system error N" in memory it leaks: those get glibc's
 * description (static, thread-safe strings, unlike strerror's). */
#define _GNU_SOURCE
#include "internal.h"
#include <string.h>

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
    if (err < 0) {
        /* Asked into a buffer first: for a code it has no name for,
         * uv_strerror returns a string it mallocs and never frees. */
        char probe[64];
        uv_strerror_r(err, probe, sizeof probe);
        if (strncmp(probe, "Unknown system error", 20) != 0) return uv_strerror(err);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 32)
        const char *d = strerrordesc_np(-err);
        if (d) return d;
#endif
        return "unknown error";
    }
    return "not an error code";
}
