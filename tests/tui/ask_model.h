/* SPDX-License-Identifier: MIT */
/* ask_model.h -- every question a view asks the TUI's model, at times
 * before, across and after the run, each text it hands back passed to a
 * checker.  Shared by the hostile-trace test (tests/tui/test_hostile.c:
 * damaged traces, each must neither crash nor hand a view a control
 * character) and the model's fuzzer (tests/fuzz/fuzz_model.c), so a new
 * model question is asked by both once it is added here.
 *
 * most: how many tasks and resources to ask about (0: all; the fuzzer
 * takes a few, its speed being in inputs, not rows).  sql: a statement for
 * the SQL prompt's path; every cell of its result is checked. */
#ifndef COSCOPE_TESTS_ASK_MODEL_H
#define COSCOPE_TESTS_ASK_MODEL_H

#include <stdint.h>
#include <stdlib.h>
#include "../../tui/model.h"

typedef void ask_text_fn(const char *text);

static void ask_model(tui_model *m, size_t most, const char *sql, ask_text_fn *text)
{
    const tui_info *info = tui_model_info(m);
    text(info->program);
    text(info->argv);
    text(info->ended);
    int64_t d = info->duration_ns;
    int64_t d1 = d < INT64_MAX ? d + 1 : d; /* a hostile duration is INT64_MAX */
    int64_t times[] = { INT64_MIN, -1, 0, d / 7, d / 3, d / 2, d, d1, INT64_MAX };
    const tui_task *tasks;
    size_t nt = tui_model_tasks(m, &tasks);
    const tui_resource *res;
    size_t nr = tui_model_resources(m, &res);
    const tui_warning *warn;
    size_t nw = tui_model_warnings(m, &warn);
    if (most && nt > most) nt = most;
    if (most && nr > most) nr = most;
    for (size_t i = 0; i < nt; i++) {
        text(tasks[i].name);
        text(tasks[i].spawn_at);
    }
    for (size_t i = 0; i < nr; i++) text(res[i].name);
    for (size_t i = 0; i < nw; i++) text(warn[i].message);
    for (size_t k = 0; k < sizeof times / sizeof times[0]; k++) {
        int64_t t = times[k], ts;
        const int *rows;
        size_t nrows = 0;
        for (int col = 0; col < TUI_COL_COUNT; col++)
            nrows = tui_model_task_rows(m, t, col, col & 1, col == 2 ? "wait" : NULL, &rows);
        /* Grouped by spawn site: every member a task. */
        const tui_group *grp;
        const int *members;
        size_t ng = tui_model_groups(m, t, rows, nrows, &grp, &members);
        for (size_t g = 0; g < ng; g++) {
            text(grp[g].spawn_at);
            text(grp[g].name);
            for (int j = 0; j < grp[g].ntasks; j++)
                if (members[grp[g].first + j] < 0) abort();
        }
        /* Where time went, from here to the end and over the whole run. */
        const tui_range *rg;
        if (tui_model_range(m, t, d1, &rg) == 0 && rg->ntasks > 0 && !rg->tasks) abort();
        tui_model_range(m, 0, d1, &rg);
        for (size_t i = 0; i < nt; i++) {
            tui_at a;
            if (tui_model_task_at(m, (int)i, t, &a) == 0) text(tui_model_state_text(m, (int)i, &a));
            tui_latency lat;
            tui_model_task_latency(m, (int)i, &lat);
            tui_model_task_warnings(m, (int)i);
            tui_link l[16];
            int n = tui_model_chain(m, (int)i, t, l, 16);
            for (int j = 0; j < n; j++) text(l[j].name);
            const tui_event *ev;
            size_t cur, ne = tui_model_task_events(m, (int)i, t, 30, &ev, &cur);
            for (size_t j = 0; j < ne; j++) text(ev[j].text);
            int64_t hist[TUI_HIST_BUCKETS];
            tui_model_task_hist(m, (int)i, (int)(k & 1), hist);
            tui_model_step_event(m, t, 1, (int)i, &ts);
            tui_model_step_event(m, t, -1, (int)i, &ts);
            tui_cell cells[40];
            tui_model_timeline(m, (int)i, t, t < INT64_MAX - 1000000 ? t + 1000000 : INT64_MAX, 40, cells);
            tui_model_timeline(m, (int)i, 0, d1, 40, cells);
            const char *why = NULL;
            text(tui_model_task_stack(m, (int)i, t, &why));
            text(why);
        }
        for (size_t i = 0; i < nr; i++) {
            tui_res_at ra;
            tui_model_resource_at(m, (int)i, t, &ra);
            const tui_use *u;
            tui_model_resource_uses(m, (int)i, t, 20, &u);
            const tui_site *sites;
            size_t ns = tui_model_resource_sites(m, (int)i, 8, &sites);
            for (size_t j = 0; j < ns; j++) text(sites[j].at);
            int64_t depth[16];
            tui_model_queue_depth(m, (int)i, 0, d, depth, 16);
        }
        const tui_tree_row *tree;
        tui_model_await_tree(m, t, &tree);
        tui_model_step_event(m, t, 1, -1, &ts);
        tui_model_step_event(m, t, -1, -1, &ts);
    }
    tui_table tb;
    tui_model_sql(m, sql, d / 2, 1, &tb);
    for (size_t i = 0; tb.cells && i < (tb.nrows + 1) * (size_t)tb.ncols; i++) text(tb.cells[i]);
    tui_table_free(&tb);
    tui_model_refresh(m);
}

#endif
