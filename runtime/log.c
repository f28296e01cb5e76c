/* SPDX-License-Identifier: MIT */
/* log.c -- where the runtime's own reports go: what asyncio logs (tasks
 * never awaited, errors never retrieved, all tasks asleep, a task abandoned
 * at shutdown, a refused wait cycle), debug mode's lines, and the few
 * problems it meets outside any call that could return them (a trace
 * region it cannot map).
 *
 * Like libuv, the runtime does not print on its own: a line goes to the
 * hook the program set with co_set_log_hook, one line at a time; without a
 * hook, to stderr as "coscope: LINE" only when the program asked for it --
 * debug mode (co_loop_opts.debug, CO_DEBUG=1) or CO_LOG=stderr (which
 * `coscope run` sets for the program it runs) -- and nowhere otherwise.
 * The one exception is a broken invariant or a stack overflow, written just
 * before the process dies (co__log_fatal), as an assert would.
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

int co__log_env_stderr(void)
{
    const char *e = getenv("CO_LOG");
    return e && strcmp(e, "stderr") == 0;
}

/* Without a hook: does a line of loop l (NULL: not known) go to stderr? */
static bool to_stderr(const co__loop *l)
{
    if (l) return l->debug || l->log_stderr;
    return co__debug_from_env() || co__log_env_stderr(); /* no loop on this thread: rare, read afresh */
}

static void emit(const co__loop *l, const char *line)
{
    co_log_fn *fn = atomic_load(&g_fn);
    if (fn) fn(atomic_load(&g_ctx), line);
    else if (to_stderr(l)) fprintf(stderr, "coscope: %s\n", line);
}

void co__logf(const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    emit(co__tl_loop, buf);
}

void co__log_fatal(const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    co_log_fn *fn = atomic_load(&g_fn);
    if (fn) fn(atomic_load(&g_ctx), buf);
    else fprintf(stderr, "coscope: %s\n", buf);
    fflush(stderr);
}

/* Text of several lines, each already prefixed the way stderr shows it
 * (reports indent their detail lines): to the hook line by line, as it
 * is without the "coscope: " that only stderr's first lines carry. */
void co__log_text(const co__loop *l, const char *text)
{
    co_log_fn *fn = atomic_load(&g_fn);
    if (!fn) {
        if (to_stderr(l)) {
            fputs(text, stderr);
            fflush(stderr);
        }
        return;
    }
    void *ctx = atomic_load(&g_ctx);
    char *copy = strdup(text);
    if (!copy) return;
    for (char *line = copy, *nl; line && *line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        if (nl) *nl = 0;
        if (strncmp(line, "coscope: ", 9) == 0) line += 9;
        fn(ctx, line);
    }
    free(copy);
}

/* A report written by code that prints to a FILE (asleep.c, dump.c). */
void co__log_report(void (*report)(co__loop *, FILE *), co__loop *l)
{
    co_log_fn *fn = atomic_load(&g_fn);
    if (!fn && !to_stderr(l)) return;
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
    co__log_text(l, text);
    free(text);
}
