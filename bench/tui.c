/* SPDX-License-Identifier: MIT */
/* tui.c -- what the terminal UI costs on a big trace, measured through its
 * model (tui/model.h: everything a frame asks), with the targets of issues
 * 11 and 19 beside each figure.
 *
 * Usage: tui [--table] TRACE   the static figures (key=value lines; with
 *                              --table, the per-view frames as a table
 *                              with their target after them)
 *        tui --live TRACE S    poll a trace being recorded for S seconds:
 *                              how far behind the program the model is
 *
 * Every view's frame is what its draw function (tui/view_*.c) asks of the
 * model for a 120x40 terminal: the Tasks view its 40 rows and their
 * states, Resources 35 rows at the cursor and the selected queue's depth
 * line, Warnings its list, the Timeline 40 rows of 120 cells, the await
 * tree and its first 40 rows in words, a task's detail (state, chain,
 * children, histograms, events, stack) and a resource's (state, depth,
 * sites, holds and waits).  "After a seek" is the frame at a new random
 * time (a fixed seed: the same times on every run); "after a key" is the
 * next frame at the same time with the selection moved one row (j).
 * Each is the worst of SEEKS of them. */
#define _GNU_SOURCE
#include "../tui/model.h"
#include "coscope.h" /* CO_WAIT_QUEUE_GET: a queue has a depth line */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static long peak_rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6)) kb = atol(line + 6);
    if (f) fclose(f);
    return kb;
}

static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* One frame of the Tasks view at t, sorted by col, and the detail of its first row. */
static void tasks_frame(tui_model *m, int64_t t, int col)
{
    const int *rows;
    size_t n = tui_model_task_rows(m, t, col, 0, NULL, &rows);
    for (size_t i = 0; i < n && i < 40; i++) {
        tui_at a;
        tui_model_task_at(m, rows[i], t, &a);
        tui_model_state_text(m, rows[i], &a);
    }
    if (n) {
        tui_link l[32];
        tui_model_chain(m, rows[0], t, l, 32);
        const tui_event *ev;
        size_t cur;
        tui_model_task_events(m, rows[0], t, 40, &ev, &cur);
    }
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The 40 tasks with the most steps: the rows a timeline would show. */
static int busiest[40], nbusiest;
static void pick_rows(tui_model *m)
{
    const tui_task *t;
    size_t n = tui_model_tasks(m, &t);
    for (size_t i = 0; i < n; i++) {
        int k = nbusiest < 40 ? nbusiest++ : 39;
        if (k == 39 && nbusiest == 40 && t[busiest[39]].steps >= t[i].steps) continue;
        busiest[k] = (int)i;
        while (k > 0 && t[busiest[k - 1]].steps < t[busiest[k]].steps) {
            int x = busiest[k];
            busiest[k] = busiest[k - 1];
            busiest[k - 1] = x;
            k--;
        }
    }
}

/* ---- every view's frame ------------------------------------------------- */

enum { V_TASKS, V_RESOURCES, V_WARNINGS, V_TIMELINE, V_TREE, V_TASK, V_RESOURCE, V_COUNT };
static const char *const view_key[V_COUNT] = { "tasks", "resources", "warnings", "timeline", "tree", "task", "resource" };
static const char *const view_title[V_COUNT] = { "Tasks", "Resources", "Warnings", "Timeline", "Await tree",
                                                 "a task's detail", "a resource's detail" };
#define SEEKS 20
#define TARGET_MS 20.0

/* The task and resource the detail views show: the busiest of each. */
static int detail_task, detail_res;

static void pick_details(tui_model *m)
{
    const tui_resource *r;
    size_t n = tui_model_resources(m, &r);
    detail_res = -1;
    for (size_t i = 0; i < n; i++)
        if (detail_res < 0 || r[i].acquisitions > r[detail_res].acquisitions) detail_res = (int)i;
    detail_task = nbusiest ? busiest[0] : -1;
}

/* What view v's draw asks of the model at t with row sel selected. */
static void view_frame(tui_model *m, int v, int64_t t, int sel)
{
    const tui_info *info = tui_model_info(m);
    int64_t end = info->duration_ns > 0 ? info->duration_ns : 1;
    int64_t depth[100];
    tui_at a;
    switch (v) {
    case V_TASKS: {
        const int *rows;
        size_t n = tui_model_task_rows(m, t, TUI_COL_ID, 0, NULL, &rows);
        for (size_t i = 0; i < n && i < 40; i++) {
            tui_model_task_at(m, rows[i], t, &a);
            tui_model_state_text(m, rows[i], &a);
        }
        if ((size_t)sel < n) {
            tui_model_task_at(m, rows[sel], t, &a);
            tui_model_state_text(m, rows[sel], &a);
        }
        break;
    }
    case V_RESOURCES: {
        const tui_resource *r;
        size_t n = tui_model_resources(m, &r);
        tui_res_at ra;
        for (size_t i = 0; i < n && i < 35; i++) tui_model_resource_at(m, (int)i, t, &ra);
        if ((size_t)sel < n && r[sel].kind == CO_WAIT_QUEUE_GET) tui_model_queue_depth(m, sel, 0, end, depth, 100);
        break;
    }
    case V_WARNINGS: {
        const tui_warning *w;
        size_t n = tui_model_warnings(m, &w);
        volatile size_t seen = 0;
        for (size_t i = 0; i < n; i++) seen += w[i].message[0] != 0;
        break;
    }
    case V_TIMELINE: {
        tui_cell cells[120];
        int64_t from = t > end / 20 ? t - end / 20 : 0;
        for (int r = 0; r < nbusiest; r++) tui_model_timeline(m, busiest[r], from, from + end / 10 + 1, 120, cells);
        if (nbusiest) {
            int s = busiest[sel % nbusiest];
            tui_model_task_at(m, s, t, &a);
            tui_model_state_text(m, s, &a);
        }
        break;
    }
    case V_TREE: {
        const tui_tree_row *rows;
        size_t n = tui_model_await_tree(m, t, &rows);
        for (size_t i = (size_t)sel; i < n && i < (size_t)sel + 40; i++) {
            const tui_tree_row *r = tui_model_tree_row(m, i);
            if (r) tui_model_state_text(m, r->task_idx, &r->at);
        }
        break;
    }
    case V_TASK: {
        int k = detail_task;
        if (k < 0) break;
        const tui_task *tk;
        tui_model_tasks(m, &tk);
        tui_model_task_at(m, k, t, &a);
        tui_model_state_text(m, k, &a);
        tui_link l[32];
        tui_model_chain(m, k, t, l, 32);
        int shown = 0; /* view_detail.c's children: depth first, at most 300 */
        for (int c = tk[k].first_child; c >= 0 && shown < 300; c = tk[c].next_sibling, shown++) {
            tui_model_task_at(m, c, t, &a);
            tui_model_state_text(m, c, &a);
        }
        int64_t b[TUI_HIST_BUCKETS];
        tui_model_task_hist(m, k, 0, b);
        tui_model_task_hist(m, k, 1, b);
        const tui_event *ev;
        size_t cur;
        tui_model_task_events(m, k, t, 40, &ev, &cur);
        tui_model_task_stack(m, k, t, NULL);
        break;
    }
    case V_RESOURCE: {
        int k = detail_res;
        if (k < 0) break;
        const tui_resource *r;
        tui_model_resources(m, &r);
        tui_res_at ra;
        tui_model_resource_at(m, k, t, &ra);
        if (r[k].kind == CO_WAIT_QUEUE_GET) tui_model_queue_depth(m, k, 0, end, depth, 100);
        const tui_site *sites;
        tui_model_resource_sites(m, k, 4, &sites);
        const tui_use *u;
        tui_model_resource_uses(m, k, t, 200, &u);
        break;
    }
    }
}

/* Every view after SEEKS seeks and as many keys: the worst of each. */
static double views(tui_model *m, int64_t dur, int table)
{
    double worst = 0;
    if (table) printf("%-22s %11s %14s %14s %8s\n", "view", "first", "after a seek", "after a key", "target");
    for (int v = 0; v < V_COUNT; v++) {
        double seek = 0, key = 0;
        /* The view's first frame, apart: what it computes once for the
         * whole run (a histogram, a queue's depth line) is paid there. */
        double s0 = now_ms();
        view_frame(m, v, dur / 2, 0);
        double first = now_ms() - s0;
        for (int i = 0; i < SEEKS; i++) {
            int64_t t = (int64_t)(next_rand() % (uint64_t)dur);
            double s = now_ms();
            view_frame(m, v, t, 0);
            double e = now_ms() - s;
            if (e > seek) seek = e;
            s = now_ms();
            view_frame(m, v, t, 1);
            e = now_ms() - s;
            if (e > key) key = e;
        }
        if (table)
            printf("%-22s %8.2f ms %11.2f ms %11.2f ms %5.0f ms  %s\n", view_title[v], first, seek, key, TARGET_MS,
                   seek <= TARGET_MS && key <= TARGET_MS ? "PASS" : "MISS");
        else
            printf("view_%s_first_ms=%.2f\nview_%s_seek_ms=%.2f\nview_%s_key_ms=%.2f\n", view_key[v], first,
                   view_key[v], seek, view_key[v], key);
        if (seek > worst) worst = seek;
        if (key > worst) worst = key;
    }
    return worst;
}

static int live(const char *path, double seconds)
{
    tui_model *m = NULL;
    char why[600];
    double t0 = now_ms();
    while (!m && now_ms() - t0 < 5000) {
        if (tui_model_open(&m, path, NULL, NULL, why, sizeof why) < 0) usleep(20000);
    }
    if (!m) {
        fprintf(stderr, "tui --live: %s\n", why);
        return 1;
    }
    /* The program's clock: ts 0 is meta.start_unix_ns; the model's newest
     * visible event is info.duration_ns.  Lag = the difference, sampled
     * every 50 ms while the program runs. */
    tui_table tb;
    int64_t start_unix = 0;
    double lags[4096];
    int n = 0;
    int64_t first_events = -1, last_events = 0;
    double first_ms = 0, last_ms = 0;
    while (now_ms() - t0 < seconds * 1000 && n < 4096) {
        usleep(50000);
        if (tui_model_refresh(m) < 0) break;
        if (!start_unix) { /* written by coscope run just after the trace's creation */
            if (tui_model_sql(m, "SELECT value FROM meta WHERE key = 'start_unix_ns'", 0, 0, &tb) == 0 && tb.nrows)
                start_unix = atoll(tb.cells[1]);
            tui_table_free(&tb);
            if (!start_unix) continue;
        }
        const tui_info *i = tui_model_info(m);
        struct timespec wall;
        clock_gettime(CLOCK_REALTIME, &wall);
        int64_t elapsed = (int64_t)wall.tv_sec * 1000000000 + wall.tv_nsec - start_unix;
        if (!i->recording) break;
        if (i->duration_ns > 0) lags[n++] = (double)(elapsed - i->duration_ns) / 1e6;
        /* The model can lag the wall clock, never lead it by more than the
         * two clocks' disagreement: a lead is a wrong time base (an origin
         * read before the recording set it), not a fast UI. */
        if (n && lags[n - 1] < -1000) {
            fprintf(stderr, "tui --live: the model's newest time is %.0f ms ahead of the wall clock: its clock is wrong\n",
                    -lags[n - 1]);
            tui_model_close(m);
            return 1;
        }
        if (first_events < 0) {
            first_events = i->events;
            first_ms = now_ms();
        }
        last_events = i->events;
        last_ms = now_ms();
    }
    if (n == 0) {
        fprintf(stderr, "tui --live: no sample while the program ran\n");
        tui_model_close(m);
        return 1;
    }
    qsort(lags, (size_t)n, sizeof *lags, cmp_dbl);
    printf("live_samples=%d\n", n);
    printf("live_rate_evps=%.0f\n", last_ms > first_ms ? (double)(last_events - first_events) / ((last_ms - first_ms) / 1e3) : 0);
    printf("live_lag_p50_ms=%.1f\n", lags[n / 2]);
    printf("live_lag_p99_ms=%.1f\n", lags[(n * 99) / 100]);
    printf("live_lag_max_ms=%.1f\n", lags[n - 1]);
    tui_model_close(m);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "--live")) return live(argv[2], atof(argv[3]));
    int table = argc == 3 && !strcmp(argv[1], "--table");
    if (argc != 2 && !table) {
        fprintf(stderr, "usage: tui [--table] TRACE | tui --live TRACE SECONDS\n");
        return 2;
    }
    const char *path = argv[argc - 1];
    char why[600];
    tui_model *m;
    double t0 = now_ms();
    if (tui_model_open(&m, path, NULL, NULL, why, sizeof why) < 0) {
        fprintf(stderr, "tui: %s\n", why);
        return 1;
    }
    const tui_info *info = tui_model_info(m);
    tasks_frame(m, 0, TUI_COL_ID);
    double open_ms = now_ms() - t0;
    int64_t dur = info->duration_ns > 0 ? info->duration_ns : 1;
    if (table) {
        printf("%s: %lld events, %zu tasks, %zu resources; opened in %.0f ms\n", path, (long long)info->events,
               info->ntasks, info->nresources, open_ms);
        pick_rows(m);
        pick_details(m);
        double worst = views(m, dur, 1);
        printf("worst frame %.2f ms (target %.0f ms)\n", worst, TARGET_MS);
        tui_model_close(m);
        return 0;
    }
    printf("events=%lld\ntasks=%zu\n", (long long)info->events, info->ntasks);
    printf("open_ms=%.1f\n", open_ms);

    double seek[50];
    for (int i = 0; i < 50; i++) {
        int64_t t = (int64_t)(next_rand() % (uint64_t)dur);
        double s = now_ms();
        tasks_frame(m, t, TUI_COL_ID);
        seek[i] = now_ms() - s;
    }
    qsort(seek, 50, sizeof *seek, cmp_dbl);
    printf("seek_p50_ms=%.2f\nseek_max_ms=%.2f\n", seek[25], seek[49]);

    double step_max = 0;
    for (int i = 0; i < 50; i++) {
        int64_t t = (int64_t)(next_rand() % (uint64_t)dur), ts;
        double s = now_ms();
        tui_model_step_event(m, t, i & 1 ? 1 : -1, -1, &ts);
        double e = now_ms() - s;
        if (e > step_max) step_max = e;
    }
    printf("step_event_max_ms=%.2f\n", step_max);

    double tree_max = 0;
    for (int i = 0; i < 5; i++) {
        int64_t t = (int64_t)(next_rand() % (uint64_t)dur);
        const tui_tree_row *rows;
        double s = now_ms();
        tui_model_await_tree(m, t, &rows);
        double e = now_ms() - s;
        if (e > tree_max) tree_max = e;
    }
    printf("await_tree_max_ms=%.1f\n", tree_max);

    double sort_max = 0;
    for (int col = 0; col < TUI_COL_COUNT; col++) {
        int64_t t = (int64_t)(next_rand() % (uint64_t)dur);
        double s = now_ms();
        tasks_frame(m, t, col);
        double e = now_ms() - s;
        if (e > sort_max) sort_max = e;
    }
    printf("sort_max_ms=%.1f\n", sort_max);

    pick_rows(m);
    tui_cell cells[120];
    double tl_max = 0;
    int64_t spans[] = { dur + 1, dur / 10, dur / 100, dur / 10000, dur / 1000000, 2000 };
    for (size_t z = 0; z < sizeof spans / sizeof spans[0]; z++) {
        int64_t w = spans[z] > 120 ? spans[z] : 120;
        for (int rep = 0; rep < 3; rep++) {
            int64_t from = w >= dur ? 0 : (int64_t)(next_rand() % (uint64_t)(dur - w));
            double s = now_ms();
            for (int r = 0; r < nbusiest; r++) tui_model_timeline(m, busiest[r], from, from + w, 120, cells);
            double e = now_ms() - s;
            if (e > tl_max) tl_max = e;
        }
    }
    printf("timeline_max_ms=%.1f\n", tl_max);
    pick_details(m);
    printf("frame_max_ms=%.2f\n", views(m, dur, 0));
    printf("rss_mb=%.1f\n", (double)peak_rss_kb() / 1024);
    tui_model_close(m);
    return 0;
}
