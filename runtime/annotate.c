/* SPDX-License-Identifier: MIT */
/* annotate.c -- user annotations: co_log lines attached to the current task,
 * co_mark instants and named regions.  Their texts are interned through a
 * per-thread cache (co__tr_intern_cached): a mark made a million times is
 * stored once, not until the arena is full.  They reach the tracer through the
 * same ring as awaits; in debug mode co_log also prints to stderr, so the
 * lines are not lost when no trace is being recorded. */
#include "internal.h"
#include <stdarg.h>

static uint64_t current_id(void)
{
    co__task *t = co__self();
    return t ? t->id : 0;
}

void co_log_at(co_loc *loc, const char *fmt, ...)
{
    co__loop *l = co__tl_loop;
    if (!co__tracing && !(l && l->debug)) return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n >= sizeof buf) n = sizeof buf - 1;
    if (co__tracing) co__tr_emit(TR_LOG, loc, current_id(), co__tr_intern_cached(buf, (size_t)n), 0);
    if (l && l->debug) {
        co__task *t = co__self();
        co__logf("[%s #%llu] %s (%s:%d)", t ? t->name : "loop",
                (unsigned long long)(t ? t->id : 0), buf, loc ? loc->file : "?", loc ? loc->line : 0);
    }
}

void co_mark_at(co_loc *loc, const char *name)
{
    if (!co__tracing || !name) return;
    co__tr_emit(TR_MARK, loc, current_id(), co__tr_intern_cached(name, strlen(name)), 0);
}

co_region_t co_region_begin_at(co_loc *loc, const char *name)
{
    co_region_t r = { 0, current_id() };
    if (!co__tracing || !name) return r;
    r.name_id = co__tr_intern_cached(name, strlen(name));
    co__tr_emit(TR_REGION_BEGIN, loc, r.task, r.name_id, 0);
    return r;
}

void co_region_end_at(co_loc *loc, co_region_t r)
{
    if (!co__tracing || !r.name_id) return;
    co__tr_emit(TR_REGION_END, loc, r.task, r.name_id, 0);
}
