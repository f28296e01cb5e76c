/* SPDX-License-Identifier: MIT */
/* live_record.c -- a recording in progress, as `coscope run` and `coscope
 * attach` both keep one: the meta that says what runs and since when, the
 * recorder's turns and its finish with what the live UI is shown
 * published as atomics (the recording side may be a thread of its own
 * while the UI reads them), and that UI's status.  What differs -- waiting
 * for a child, a socket to a program that runs on -- stays with each
 * command.
 */
#define _GNU_SOURCE
#include "cli.h"
#include "../tui/tui.h"
#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t cli_mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* s as a JSON string at out + *n, within cap (cut, never overrun). */
static void json_str(char *out, size_t cap, size_t *n, const char *s)
{
    if (*n + 2 < cap) out[(*n)++] = '"';
    for (; *s && *n + 8 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') { out[(*n)++] = '\\'; out[(*n)++] = (char)c; }
        else if (c < 0x20) *n += (size_t)snprintf(out + *n, cap - *n, "\\u%04x", c);
        else out[(*n)++] = (char)c;
    }
    if (*n + 2 < cap) out[(*n)++] = '"';
    out[*n] = 0;
}

void cli_rec_meta_start(sqlite3 *db, const char *program, char *const *args, int nargs)
{
    if (program) tr_meta_set(db, TR_META_PROGRAM, program);
    if (args) {
        char argvj[8192];
        size_t n = 0;
        argvj[n++] = '[';
        for (int i = 0; i < nargs; i++) {
            if (i && n + 2 < sizeof argvj) argvj[n++] = ',';
            json_str(argvj, sizeof argvj, &n, args[i]);
        }
        if (n + 2 < sizeof argvj) argvj[n++] = ']';
        argvj[n] = 0;
        tr_meta_set(db, TR_META_ARGV, argvj);
    }
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    char iso[64];
    struct tm tm;
    gmtime_r(&wall.tv_sec, &tm);
    strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%SZ", &tm);
    tr_meta_set(db, TR_META_START_TIME, iso);
    tr_meta_set_int(db, TR_META_START_UNIX_NS, (int64_t)wall.tv_sec * 1000000000 + wall.tv_nsec);
}

int cli_rec_turn(cli_rec *r)
{
    int64_t got = tr_recorder_turn(r->rec);
    atomic_store(&r->events, tr_recorder_events(r->rec));
    if (got >= 0) return 0;
    atomic_store(&r->record_err, (int)-got);
    /* The program's side then drops or stops rather than wait on us. */
    atomic_store(&r->shm->consumer_alive, 0);
    return -1;
}

static void finish_progress(void *ctx, int64_t done, int64_t total)
{
    cli_rec *r = ctx;
    atomic_store(&r->built, done);
    atomic_store(&r->total, total);
    if (atomic_load(&r->progress_tty))
        fprintf(stderr, "\rcoscope: finishing the trace: %lld of %lld events", (long long)done, (long long)total);
}

void cli_rec_finish(cli_rec *r)
{
    atomic_store(&r->finishing, 1);
    atomic_store(&r->running, 0);
    r->finish_err = tr_recorder_finish(r->rec, finish_progress, r);
    if (atomic_load(&r->progress_tty) && atomic_load(&r->built) > 0) fputs("\r\033[K", stderr);
    atomic_store(&r->events, tr_recorder_events(r->rec));
    atomic_store(&r->finishing, 0);
    atomic_store(&r->finished, 1);
}

void cli_rec_status(cli_rec *r, struct tui_live_status *s)
{
    memset(s, 0, sizeof *s);
    s->running = atomic_load(&r->running);
    s->finishing = atomic_load(&r->finishing);
    s->finished = atomic_load(&r->finished);
    s->built = atomic_load(&r->built);
    s->total = atomic_load(&r->total);
    s->events = atomic_load(&r->events);
    s->now_ns = cli_mono_now() - r->mono0;
    s->pid = r->pid;
}
