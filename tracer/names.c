/* SPDX-License-Identifier: MIT */
/* names.c -- the names a trace stores on disk for the numbers the ring
 * carries (event, wait, warning and span kinds) and for what only the
 * database holds (task states, how a run ended, meta keys).
 *
 * They are part of the file format (docs/schema.md): readers match on the
 * text, so a name never changes once shipped.  Each table is expanded from
 * the same X(ID, "name") list as its enum (runtime/trace.h), so a kind and
 * its name cannot be separated by a reordering.  The wait
 * kinds' names are the runtime's own (runtime/wait_names.c, behind
 * co_wait_kind_name): the name a program prints is the one its trace holds,
 * and the runtime, which sits below the tracer, needs no tracer code for it.
 */
#include "tracer.h"
#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Each table is expanded from its kind list in runtime/trace.h: the entry
 * for a kind is its name, whatever the order. */
#define NAME_OF(id, name) name,
#define META_NAME_OF(id) TR_META_##id,
static const char *const EVENT_NAMES[] = { TR_EVENT_KINDS(NAME_OF) };
static const char *const WARNING_NAMES[] = { TR_WARN_KINDS(NAME_OF) };
static const char *const SPAN_NAMES[] = { TR_SPAN_KINDS(NAME_OF) };
static const char *const STATE_NAMES[] = { TR_TASK_STATES(NAME_OF) };
static const char *const ENDING_NAMES[] = { TR_ENDINGS(NAME_OF) };
static const char *const META_NAMES[] = { TR_META_KEYS(META_NAME_OF) };
#undef NAME_OF
#undef META_NAME_OF
_Static_assert(COUNT(EVENT_NAMES) == TR_KIND_COUNT, "a name per event kind");
_Static_assert(COUNT(WARNING_NAMES) == TR_WARN_COUNT, "a name per warning kind");
_Static_assert(COUNT(SPAN_NAMES) == TR_SPAN_KIND_COUNT, "a name per span kind");
_Static_assert(COUNT(STATE_NAMES) == TR_TASK_STATE_COUNT, "a name per task state");
_Static_assert(COUNT(ENDING_NAMES) == TR_ENDING_COUNT, "a name per ending");
_Static_assert(COUNT(META_NAMES) == TR_META_KEY_COUNT, "a name per meta key");

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

const char *tr_resource_kind_name(unsigned kind)
{
    return kind == CO_WAIT_QUEUE_GET ? TR_RES_KIND_QUEUE : tr_wait_name(kind);
}

int tr_wait_from_name(const char *s)
{
    /* resources.kind's name for a queue (tr_resource_kind_name) reads back
     * as its wait kind; traces before 0.1.0 say "queue_get" there. */
    if (s && !strcmp(s, TR_RES_KIND_QUEUE)) return CO_WAIT_QUEUE_GET;
    for (int k = 0; s && k < CO_WAIT_KIND_COUNT; k++)
        if (!strcmp(co_wait_kind_name(k), s)) return k;
    return -1;
}
int tr_warning_from_name(const char *s) { return lookup(WARNING_NAMES, COUNT(WARNING_NAMES), s); }
int tr_span_from_name(const char *s) { return lookup(SPAN_NAMES, COUNT(SPAN_NAMES), s); }
int tr_event_from_name(const char *s) { return lookup(EVENT_NAMES, COUNT(EVENT_NAMES), s); }

const char *tr_task_state_name(unsigned state) { return state < COUNT(STATE_NAMES) ? STATE_NAMES[state] : "unknown"; }
const char *tr_ending_name(unsigned ending) { return ending < COUNT(ENDING_NAMES) ? ENDING_NAMES[ending] : "unknown"; }
const char *tr_meta_key_name(unsigned key) { return key < COUNT(META_NAMES) ? META_NAMES[key] : "unknown"; }
int tr_task_state_from_name(const char *s) { return lookup(STATE_NAMES, COUNT(STATE_NAMES), s); }
int tr_ending_from_name(const char *s) { return lookup(ENDING_NAMES, COUNT(ENDING_NAMES), s); }
int tr_meta_key_from_name(const char *s) { return lookup(META_NAMES, COUNT(META_NAMES), s); }
