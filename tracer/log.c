/* SPDX-License-Identifier: MIT */
/* log.c -- where the tracer library's diagnostics go.  The library never
 * writes to stdout or stderr itself (it runs inside whatever links it: the
 * coscope binary, a test, a tool); failures return a negative errno, and
 * the detail that goes with them (SQLite's message, a damaged chunk
 * skipped) goes to the hook the front end sets -- the CLI prints it as
 * "coscope: ..." on stderr.  No hook: dropped.  As libuv never prints. */
#include "tracer.h"
#include <stdarg.h>
#include <stdio.h>

static tr_log_fn *g_fn;
static void *g_ctx;

void tr_log_set(tr_log_fn *fn, void *ctx)
{
    g_fn = fn;
    g_ctx = ctx;
}

void tr_logf(const char *fmt, ...)
{
    tr_log_fn *fn = g_fn;
    if (!fn) return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fn(g_ctx, buf);
}
