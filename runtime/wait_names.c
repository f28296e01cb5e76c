/* wait_names.c -- the name of each co_wait_kind, as co_wait_kind_name()
 * gives it to programs and as traces store it on disk (docs/schema.md; the
 * tracer's tr_wait_name reads this table through co_wait_kind_name).  Part
 * of the file format: a name never changes once shipped, and the table is
 * kept whole by a _Static_assert -- a kind added without its name fails the
 * build instead of writing "?" into every trace.
 */
#include "internal.h"

static const char *const WAIT_NAMES[] = {
    "none", "yield", "sleep", "task", "tasks", "group", "future", "lock", "event", "semaphore",
    "condition", "queue_get", "queue_put", "queue_join", "thread", "process", "channel_send",
    "channel_recv", "tcp_connect", "tcp_accept", "tcp_read", "tcp_write", "tcp_shutdown", "dns",
    "file", "generator",
};
_Static_assert(sizeof(WAIT_NAMES) / sizeof(WAIT_NAMES[0]) == CO_WAIT_KIND_COUNT, "a name per wait kind");

const char *co__wait_name(unsigned kind)
{
    return kind < CO_WAIT_KIND_COUNT ? WAIT_NAMES[kind] : "?";
}
