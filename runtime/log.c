/* log.c -- where the runtime's own reports go: what asyncio reports on
 * stderr (tasks never awaited, errors never retrieved, all tasks asleep,
 * a task abandoned at shutdown), debug mode's lines, and the few problems
 * it meets outside any call that could return them (a trace region it
 * cannot map).  To the hook the program sets with co_set_log_hook, one
 * line at a time; without a hook, to stderr as "coscope: LINE", as asyncio
 * does through its logger.  A program that must never see the runtime
 * write to its stderr sets a hook (one that drops every line, if need be).
 */
#define _GNU_SOURCE
#include "internal.h"
#include <stdarg.h>
#include <stdio.h>

static co_log_fn *_Atomic g_fn;
static void *_Atomic g_ctx;

void co_set_log_hook(co_log_fn *fn, void *ctx)
{
    atomic_store(&g_ctx, ctx);
    atomic_store(&g_fn, fn);
}

void co__logf(const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    co_log_fn *fn = atomic_load(&g_fn);
    if (fn) fn(atomic_load(&g_ctx), buf);
    else fprintf(stderr, "coscope: %s\n", buf);
}

/* A report written by code that prints to a FILE (asleep.c, dump.c): to
 * stderr itself without a hook, else gathered and handed over by line. */
void co__log_report(void (*report)(co__loop *, FILE *), co__loop *l)
{
    co_log_fn *fn = atomic_load(&g_fn);
    if (!fn) {
        report(l, stderr);
        return;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return;
    report(l, f);
    fclose(f);
    void *ctx = atomic_load(&g_ctx);
    for (char *line = text, *nl; line && *line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        if (nl) *nl = 0;
        fn(ctx, line);
    }
    free(text);
}
