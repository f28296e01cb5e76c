/* SPDX-License-Identifier: MIT */
/* fuzz_model.c -- libFuzzer over the TUI's model (issue 24): the bytes are
 * a trace file (seeds: the samples' traces, and copies with escapes and
 * bidi controls in every text), opened by tui_model_open and asked every
 * question a view asks, at times before, across and after the run.  A
 * crash, a sanitizer report (clang's UBSan catches what gcc's misses:
 * pointer arithmetic on NULL), a hang (-timeout) or a text with a control
 * character in it is a finding. */
#include "fuzz.h"
#include "../../tui/model.h"

static void clean_text(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++)
        if (*p < 0x20 || *p == 0x7f) abort(); /* the model hands views sanitized text only */
}

static void ask_all(tui_model *m)
{
    const tui_info *info = tui_model_info(m);
    clean_text(info->program);
    clean_text(info->argv);
    clean_text(info->ended);
    int64_t d = info->duration_ns;
    int64_t d1 = d < INT64_MAX ? d + 1 : d;
    int64_t times[] = { INT64_MIN, -1, 0, d / 7, d / 3, d / 2, d, d1, INT64_MAX };
    const tui_task *tasks;
    size_t nt = tui_model_tasks(m, &tasks);
    const tui_resource *res;
    size_t nr = tui_model_resources(m, &res);
    const tui_warning *warn;
    size_t nw = tui_model_warnings(m, &warn);
    /* A few of each: the fuzzer's speed is in inputs, not in rows. */
    if (nt > 8) nt = 8;
    if (nr > 8) nr = 8;
    for (size_t i = 0; i < nt; i++) clean_text(tasks[i].name);
    for (size_t i = 0; i < nr; i++) clean_text(res[i].name);
    for (size_t i = 0; i < nw; i++) clean_text(warn[i].message);
    for (size_t k = 0; k < sizeof times / sizeof times[0]; k++) {
        int64_t t = times[k], ts;
        const int *rows;
        size_t nrows = 0;
        for (int col = 0; col < TUI_COL_COUNT; col++)
            nrows = tui_model_task_rows(m, t, col, col & 1, col == 2 ? "w" : NULL, &rows);
        /* Grouped by spawn site: every member a task, once. */
        const tui_group *grp;
        const int *members;
        size_t ng = tui_model_groups(m, t, rows, nrows, &grp, &members);
        for (size_t g = 0; g < ng; g++) {
            clean_text(grp[g].spawn_at);
            clean_text(grp[g].name);
            for (int j = 0; j < grp[g].ntasks; j++)
                if (members[grp[g].first + j] < 0) abort();
        }
        /* Where time went, from here to the end and over the whole run. */
        const tui_range *rg;
        if (tui_model_range(m, t, d1, &rg) == 0 && rg->ntasks > 0 && !rg->tasks) abort();
        tui_model_range(m, 0, d1, &rg);
        for (size_t i = 0; i < nt; i++) {
            tui_at a;
            if (tui_model_task_at(m, (int)i, t, &a) == 0) clean_text(tui_model_state_text(m, (int)i, &a));
            tui_latency lat;
            tui_model_task_latency(m, (int)i, &lat);
            tui_model_task_warnings(m, (int)i);
            tui_link l[16];
            int n = tui_model_chain(m, (int)i, t, l, 16);
            for (int j = 0; j < n; j++) clean_text(l[j].name);
            const tui_event *ev;
            size_t cur, ne = tui_model_task_events(m, (int)i, t, 30, &ev, &cur);
            for (size_t j = 0; j < ne; j++) clean_text(ev[j].text);
            int64_t hist[TUI_HIST_BUCKETS];
            tui_model_task_hist(m, (int)i, (int)(k & 1), hist);
            tui_model_step_event(m, t, 1, (int)i, &ts);
            tui_model_step_event(m, t, -1, (int)i, &ts);
            tui_cell cells[40];
            tui_model_timeline(m, (int)i, t, t < INT64_MAX - 1000000 ? t + 1000000 : INT64_MAX, 40, cells);
            tui_model_timeline(m, (int)i, 0, d1, 40, cells);
            const char *why;
            clean_text(tui_model_task_stack(m, (int)i, t, &why));
        }
        for (size_t i = 0; i < nr; i++) {
            tui_res_at ra;
            tui_model_resource_at(m, (int)i, t, &ra);
            const tui_use *u;
            tui_model_resource_uses(m, (int)i, t, 20, &u);
            const tui_site *sites;
            size_t ns = tui_model_resource_sites(m, (int)i, 8, &sites);
            for (size_t j = 0; j < ns; j++) clean_text(sites[j].at);
            int64_t depth[16];
            tui_model_queue_depth(m, (int)i, 0, d, depth, 16);
        }
        const tui_tree_row *tree;
        tui_model_await_tree(m, t, &tree);
        tui_model_step_event(m, t, 1, -1, &ts);
        tui_model_step_event(m, t, -1, -1, &ts);
    }
    tui_table tb;
    tui_model_sql(m, "SELECT * FROM tasks LIMIT 20; SELECT name FROM resources LIMIT 20", d / 2, 1, &tb);
    for (size_t i = 0; tb.cells && i < (tb.nrows + 1) * (size_t)tb.ncols; i++) clean_text(tb.cells[i]);
    tui_table_free(&tb);
    tui_model_refresh(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_setup();
    fuzz_write("m.db", data, size);
    tui_model *m;
    char why[600];
    if (tui_model_open(&m, "m.db", NULL, NULL, why, sizeof why) < 0) {
        clean_text(why);
        return 0;
    }
    ask_all(m);
    tui_model_close(m);
    return 0;
}
