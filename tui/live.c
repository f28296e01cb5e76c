/* SPDX-License-Identifier: MIT */
/* live.c -- following a trace that is still being written: every ~100 ms
 * the program's state (coscope run --tui), what the recorder added (the
 * model's refresh), the events' rate, what the program printed; and the
 * progress line while a trace is finished before the screen is ours. */
#define _GNU_SOURCE
#include "view.h"
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int64_t tui_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Events over the last second, from samples taken every tick. */
#define RATE_SAMPLES 32
static struct { int64_t at, events; } samples[RATE_SAMPLES];
static int nsamples;

static void sample_rate(tui_app *a, int64_t now, int64_t events)
{
    if (nsamples == RATE_SAMPLES) {
        memmove(samples, samples + 1, sizeof samples[0] * (RATE_SAMPLES - 1));
        nsamples--;
    }
    samples[nsamples].at = now;
    samples[nsamples++].events = events;
    int i = 0;
    while (i < nsamples - 2 && now - samples[i + 1].at >= 1000000000) i++;   /* the newest at least 1 s old */
    int64_t dt = now - samples[i].at;
    a->rate = dt > 0 ? (double)(events - samples[i].events) * 1e9 / (double)dt : 0;
}

/* Every ~100 ms while live: the program's state, what the recorder added,
 * what it printed.  Returns redraw flags. */
int tui_live_tick(tui_app *a)
{
    int flags = TUI_REDRAW_NONE;
    int was_running = a->ls.running, was_finishing = a->ls.finishing;
    if (a->live) {
        a->live->status(a->live->ctx, &a->ls);
        flags |= TUI_REDRAW_BARS;   /* events, rate, lag move every tick */
        if (a->ls.running != was_running || a->ls.finishing != was_finishing) flags |= TUI_REDRAW_ALL;
    }
    int changed = 0;
    if (a->info->recording) {
        int r = tui_model_refresh(a->m);
        if (r > 0) changed = 1;
        flags |= TUI_REDRAW_BARS;
    }
    if (a->live && a->ls.finished && !a->final_done) {
        /* The recorder has built the whole trace: this refresh read it (the
         * model refreshes until the tables are built); nothing comes after. */
        a->final_done = 1;
        if (tui_model_refresh(a->m) > 0) changed = 1;
    }
    if (changed) {
        a->info = tui_model_info(a->m);
        if (a->follow) a->t = a->info->duration_ns;
        if (a->t > a->info->duration_ns) a->t = a->info->duration_ns;
        flags |= TUI_REDRAW_ALL;
    }
    int64_t now = tui_mono_ns();
    sample_rate(a, now, a->live ? (int64_t)a->ls.events : a->info->events);
    if (tui_output_poll(a) && a->view == TUI_V_OUTPUT) flags |= TUI_REDRAW_VIEW;
    return flags;
}

/* Finishing an interrupted trace before the screen is ours: one line on
 * stderr that rewrites itself, on a terminal only, at most ten times a
 * second. */
void tui_progress(void *ctx, int64_t done, int64_t total)
{
    (void)ctx;
    static int64_t last;
    int64_t now = tui_mono_ns();
    if (!isatty(2) || (now - last < 100000000 && done < total)) return;
    last = now;
    fprintf(stderr, "\rcoscope: finishing the trace: %lld of %lld events", (long long)done, (long long)total);
}
