/* SPDX-License-Identifier: MIT */
/* view_sql.c -- the SQL view: the result of the `:` prompt as a table
 * (the query runs through the model, read-only, with :t bound to the
 * cursor and :task to the selected task), scrolled by rows (j/k, arrows,
 * PgUp/PgDn) and by columns (left/right); SQLite's message on an error.
 */
#include "view.h"
#include <stdio.h>
#include <string.h>

static tui_table result;
static int have;
static char query[TUI_EDIT_CAP];
static int64_t ran_t, ran_task;
static tui_list list;
static int first_col;

#define COL_MAX 48   /* a wide column is cut: the row count and the SQL shell show the rest */

void tui_sql_free(void)
{
    if (have) tui_table_free(&result);
    have = 0;
}

int tui_sql_run(tui_app *a, const char *sql)
{
    while (*sql == ' ') sql++;
    if (!*sql) return TUI_REDRAW_BARS;
    tui_sql_free();
    memset(&result, 0, sizeof result);
    const tui_task *tasks;
    size_t n = tui_model_tasks(a->m, &tasks);
    ran_task = a->sel_task >= 0 && (size_t)a->sel_task < n ? tasks[a->sel_task].id : 0;
    ran_t = a->t;
    snprintf(query, sizeof query, "%s", sql);
    tui_model_sql(a->m, sql, a->t, ran_task, &result);
    have = 1;
    list.sel = list.top = 0;
    first_col = 0;
    return tui_go_view(a, TUI_V_SQL);
}

static int colw(int c)
{
    int w = result.width ? result.width[c] : 8;
    int t = tui_width(result.cells[c]);
    if (w < t) w = t;
    if (w > COL_MAX) w = COL_MAX;
    if (w < 1) w = 1;
    return w;
}

static void draw(tui_app *a, WINDOW *w)
{
    (void)a;
    int h, wd;
    getmaxyx(w, h, wd);
    if (!have) {
        tui_put(w, 1, 2, 0, A_NORMAL, "Press : and type a query, e.g. SELECT * FROM task_summary ORDER BY busy_ns DESC");
        tui_put(w, 2, 2, 0, tui_attr(TUI_L_DIM), ":t is the cursor's time, :task the selected task's id (docs/schema.md)");
        return;
    }
    tui_putf(w, 0, 0, 0, A_BOLD, ":%s", query);
    if (result.error[0]) {
        tui_put(w, 2, 0, 0, tui_attr(TUI_L_ERROR), "error: ");
        tui_put(w, 2, 7, 0, tui_attr(TUI_L_ERROR), result.error);
        tui_put(w, 4, 0, 0, tui_attr(TUI_L_DIM), "the tables and views are in docs/schema.md; : edits a new query (Up: history)");
        return;
    }
    tui_putf(w, 1, 0, 0, tui_attr(TUI_L_DIM), "%zu row%s%s in %.3f ms  (t=%s, task=%lld)", result.nrows,
             result.nrows == 1 ? "" : "s", result.truncated ? " (more not read)" : "", result.elapsed_us / 1000.0,
             tui_fmt_time(ran_t), (long long)ran_task);
    if (result.ncols == 0) return;
    if (first_col >= result.ncols) first_col = result.ncols - 1;
    if (first_col < 0) first_col = 0;
    int y0 = 2;
    /* header */
    tui_fill(w, y0, 0, tui_attr(TUI_L_HEADER));
    int x = 0;
    if (first_col > 0) x += tui_put(w, y0, 0, 2, tui_attr(TUI_L_HEADER), "< ");
    for (int c = first_col; c < result.ncols && x < wd; c++) {
        tui_put(w, y0, x, colw(c), tui_attr(TUI_L_HEADER), result.cells[c]);
        x += colw(c) + 2;
    }
    int body = h - y0 - 1;
    list.n = (int)result.nrows;
    tui_list_fit(&list, body);
    for (int r = 0; r < body && list.top + r < (int)result.nrows; r++) {
        size_t row = (size_t)(list.top + r) + 1;
        int sel = list.top + r == list.sel;
        int y = y0 + 1 + r;
        if (sel) tui_fill(w, y, 0, A_REVERSE);
        x = first_col > 0 ? 2 : 0;
        for (int c = first_col; c < result.ncols && x < wd; c++) {
            const char *cell = result.cells[row * (size_t)result.ncols + (size_t)c];
            int look = (sel ? A_REVERSE : 0) | (!strcmp(cell, "NULL") ? tui_attr(TUI_L_DIM) : 0);
            tui_put(w, y, x, colw(c), look, cell);
            x += colw(c) + 2;
        }
    }
}

static int key(tui_app *a, int ch)
{
    if (!have) return TUI_NOT_MINE;
    int r = tui_list_key(&list, ch, LINES - 3 - 3);
    if (!(r & TUI_NOT_MINE)) return r;
    switch (ch) {
    case KEY_LEFT: case 'h':
        if (first_col > 0) first_col--;
        return TUI_REDRAW_VIEW;
    case KEY_RIGHT: case 'l':
        if (first_col < result.ncols - 1) first_col++;
        return TUI_REDRAW_VIEW;
    case 'R':   /* again, at the cursor as it is now */
        return tui_sql_run(a, query) | TUI_REDRAW_ALL;
    }
    return TUI_NOT_MINE;
}

static const char *const help[] = {
    "j k", "rows (PgUp PgDn Home End)",
    "h l", "columns (also left/right)",
    "R", "again at the cursor",
    ":", "new query (Up: history)",
    "Esc", "back",
    NULL,
};

const tui_view tui_view_sql = {
    "SQL", draw, key, help,
    ": new query (Up: history)  j k rows  left/right columns  R again at the cursor  Esc back",
    NULL, NULL, NULL,
};
