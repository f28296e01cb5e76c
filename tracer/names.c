/* names.c -- the names a trace stores on disk for the numbers the ring
 * carries: event kinds, wait kinds, warning kinds, span kinds.
 *
 * They are part of the file format (docs/schema.md): readers match on the
 * text, so a name never changes once shipped, and each table is kept whole
 * by a _Static_assert on its length -- a kind added to an enum without its
 * name fails the build instead of writing "?" into every trace.  The wait
 * kinds' names are the runtime's own (runtime/wait_names.c, behind
 * co_wait_kind_name): the name a program prints is the one its trace holds,
 * and the runtime, which sits below the tracer, needs no tracer code for it.
 */
#include "tracer.h"
#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const EVENT_NAMES[] = {
    "none", "thread", "spawn", "start", "await", "resume", "end", "cancel", "detach", "resource",
    "lock_acquire", "lock_release", "sem_acquire", "sem_release", "queue_put", "queue_get",
    "event_set", "cond_notify", "future_set", "log", "mark", "region_begin", "region_end",
    "loop_idle", "loop_busy", "work_begin", "work_end", "slow_step", "stack", "warning", "stack_text",
    "slow_callback", "waits_for", "work_queued", "module",
};
_Static_assert(COUNT(EVENT_NAMES) == TR_KIND_COUNT, "a name per event kind");

static const char *const WARNING_NAMES[] = {
    "unknown", "deadlock", "all_asleep", "pending_at_exit", "never_awaited", "unretrieved_error",
    "slow_step", "lock_held_across_await", "crash", "thread_pool_starved", "cancel_ignored",
};
_Static_assert(COUNT(WARNING_NAMES) == TR_WARN_COUNT, "a name per warning kind");

static const char *const SPAN_NAMES[] = { "step", "hold", "region", "work", "idle" };
_Static_assert(COUNT(SPAN_NAMES) == TR_SPAN_KIND_COUNT, "a name per span kind");

const char *tr_event_name(unsigned kind)
{
    return kind < COUNT(EVENT_NAMES) ? EVENT_NAMES[kind] : "unknown";
}

const char *tr_wait_name(unsigned kind)
{
    return kind < CO_WAIT_KIND_COUNT ? co_wait_kind_name((int)kind) : "unknown";
}

const char *tr_warning_name(unsigned code)
{
    return code < COUNT(WARNING_NAMES) ? WARNING_NAMES[code] : "unknown";
}

const char *tr_span_name(unsigned kind)
{
    return kind < COUNT(SPAN_NAMES) ? SPAN_NAMES[kind] : "unknown";
}

static int lookup(const char *const *names, size_t n, const char *s)
{
    if (!s) return -1;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(names[i], s)) return (int)i;
    return -1;
}

int tr_wait_from_name(const char *s)
{
    for (int k = 0; s && k < CO_WAIT_KIND_COUNT; k++)
        if (!strcmp(co_wait_kind_name(k), s)) return k;
    return -1;
}
int tr_warning_from_name(const char *s) { return lookup(WARNING_NAMES, COUNT(WARNING_NAMES), s); }
int tr_span_from_name(const char *s) { return lookup(SPAN_NAMES, COUNT(SPAN_NAMES), s); }
int tr_event_from_name(const char *s) { return lookup(EVENT_NAMES, COUNT(EVENT_NAMES), s); }
