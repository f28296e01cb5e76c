/* SPDX-License-Identifier: MIT */
/* view_tree.c -- the Await tree view (key 5): who awaits whom at the
 * cursor.  Roots are the tasks nobody alive awaits; under each task is
 * what it waits on (the task it awaits, the holder of the lock it wants,
 * the children a gather waits for), drawn with rails (├─ └─, ASCII |- `-
 * outside UTF-8).  A task that closes a cycle is marked and the branch
 * stops there; recorded stacks are shown under their task.  Enter opens
 * the selected task's detail.
 */
#include "view.h"
#include <stdio.h>
#include <string.h>

#define MAX_SHOWN 4000

typedef struct shown {
    int row;           /* index into the model's rows */
    int frame;         /* -1: the task's own line; -2: its stack's title (when it was taken); else a frame of its stack */
    const char *text;  /* the frame's text (not NUL-ended at the line's end) */
    int len;
} shown;

static shown lines[MAX_SHOWN];
static int nlines;
static tui_list list;
static int64_t sel_id = -1;

static const tui_tree_row *rows;
static size_t nrows;
static char last[MAX_SHOWN];   /* row i has no later sibling */
static unsigned char keep[MAX_SHOWN];   /* row i is shown (the filter: it matches, or one under it does) */

static void build(tui_app *a)
{
    nrows = tui_model_await_tree(a->m, a->t, &rows);
    if (nrows > MAX_SHOWN) nrows = MAX_SHOWN;
    if (!tui_tree_kept(a, rows, nrows, keep)) memset(keep, 1, nrows);
    for (size_t i = 0; i < nrows; i++) {
        last[i] = 1;
        for (size_t j = i + 1; j < nrows && rows[j].depth >= rows[i].depth; j++)
            if (rows[j].depth == rows[i].depth && keep[j]) {
                last[i] = 0;
                break;
            }
    }
    nlines = 0;
    for (size_t i = 0; i < nrows && nlines < MAX_SHOWN; i++) {
        if (!keep[i]) continue;
        lines[nlines++] = (shown){ (int)i, -1, NULL, 0 };
        const char *s = rows[i].stack;
        if (s && *s && nlines < MAX_SHOWN) lines[nlines++] = (shown){ (int)i, -2, NULL, 0 };
        for (int f = 0; s && *s && nlines < MAX_SHOWN; f++) {
            const char *nl = strchr(s, '\n');
            int len = nl ? (int)(nl - s) : (int)strlen(s);
            lines[nlines++] = (shown){ (int)i, f, s, len };
            s += len + (nl ? 1 : 0);
        }
    }
    list.n = nlines;
}

/* The rails in front of row i: for each ancestor level (roots have none),
 * a bar if a later sibling of that ancestor still comes, blank if not;
 * then the row's own branch, or for its stack lines the rail down to its
 * children. */
static void rails(size_t i, int own, char *buf, size_t cap)
{
    int d = rows[i].depth;
    buf[0] = 0;
    for (int k = 1; k <= d; k++) {
        size_t j = i;
        while (j > 0 && rows[j].depth != k) j--;   /* the ancestor at depth k (i itself at k == d) */
        if (k == d && own) break;
        strncat(buf, last[j] ? tui_g->blank : tui_g->vbar, cap - strlen(buf) - 1);
    }
    if (own) {
        if (d > 0) strncat(buf, last[i] ? tui_g->corner : tui_g->tee, cap - strlen(buf) - 1);
        return;
    }
    int kids = i + 1 < nrows && rows[i + 1].depth > d;
    strncat(buf, kids ? tui_g->vbar : tui_g->blank, cap - strlen(buf) - 1);
}

static void draw(tui_app *a, WINDOW *w)
{
    int h, wd;
    getmaxyx(w, h, wd);
    build(a);
    const tui_task *tasks;
    size_t ntasks = tui_model_tasks(a->m, &tasks);
    tui_putf(w, 0, 0, 0, tui_attr(TUI_L_HEADER), "Who awaits whom at t=%s", tui_fmt_time(a->t));
    tui_fill(w, 0, 0, tui_attr(TUI_L_HEADER));
    if (nlines == 0) {
        tui_put(w, 2, 2, 0, tui_attr(TUI_L_DIM),
                nrows ? "no task matches the filter (Esc clears it)" : "no task is alive at the cursor");
        return;
    }
    for (int i = 0; i < nlines; i++)
        if (lines[i].frame == -1 && rows[lines[i].row].task_idx >= 0 && (size_t)rows[lines[i].row].task_idx < ntasks &&
            tasks[rows[lines[i].row].task_idx].id == sel_id) {
            list.sel = i;
            break;
        }
    int body = h - 1;
    tui_list_fit(&list, body);
    for (int r = 0; r < body && list.top + r < nlines; r++) {
        const shown *s = &lines[list.top + r];
        const tui_tree_row *row = tui_model_tree_row(a->m, (size_t)s->row); /* its state, asked now */
        if (!row) continue;
        int sel = list.top + r == list.sel;
        int base = sel ? A_REVERSE : 0;
        int y = r + 1;
        if (sel) tui_fill(w, y, 0, A_REVERSE);
        char pre[1024];
        rails((size_t)s->row, s->frame == -1, pre, sizeof pre);
        /* Two columns first for the `!` of a task a warning names, as in Tasks. */
        int x = 2 + tui_put(w, y, 2, 0, base | tui_attr(TUI_L_DIM), pre);
        if (s->frame == -2) {
            /* The stack says when it was taken: a moment of the step the
             * cursor is in, not necessarily the cursor's. */
            tui_putf(w, y, x, wd - x, base | tui_attr(TUI_L_DIM), "stack at %s:", tui_fmt_time(rows[s->row].stack_ts));
            continue;
        }
        if (s->frame >= 0) {
            char f[512];
            snprintf(f, sizeof f, "  %.*s", s->len, s->text);
            tui_put(w, y, x, wd - x, base | tui_attr(TUI_L_DIM), f);
            continue;
        }
        if (row->task_idx < 0 || (size_t)row->task_idx >= ntasks) continue;
        const tui_task *tk = &tasks[row->task_idx];
        if (tui_model_task_warnings(a->m, row->task_idx) > 0) tui_put(w, y, 0, 1, base | tui_attr(TUI_L_WARN) | A_BOLD, "!");
        if (row->via_holder) x += tui_put(w, y, x, wd - x, base | tui_attr(TUI_L_DIM), "holder ");
        x += tui_putf(w, y, x, wd - x, base | tui_attr(tui_state_look(row->at.state)) | A_BOLD, "#%lld %s",
                      (long long)tk->id, tk->name);
        if (row->cycle) {
            tui_putf(w, y, x, wd - x, base | tui_attr(TUI_L_WARN) | A_BOLD, "  %s cycle: already above, stops here",
                     tui_g->cycle);
            continue;
        }
        x += tui_put(w, y, x, wd - x, base, "  ");
        x += tui_put(w, y, x, wd - x, base | tui_attr(tui_state_look(row->at.state)),
                     tui_model_state_text(a->m, row->task_idx, &row->at));
        /* A path is cut from the left, and only while its file name fits:
         * "at ...:217" said nothing. */
        const char *file = row->at.at ? strrchr(row->at.at, '/') : NULL;
        file = file ? file + 1 : row->at.at;
        if (row->at.at && row->at.at[0] && wd - x >= 5 + tui_width(file)) {
            x += tui_put(w, y, x, wd - x, base | tui_attr(TUI_L_DIM), "  at ");
            tui_put(w, y, x, wd - x, base | tui_attr(TUI_L_DIM), tui_width(row->at.at) <= wd - x ? row->at.at : file);
        }
    }
    const shown *s = &lines[list.sel];
    if (rows[s->row].task_idx >= 0 && (size_t)rows[s->row].task_idx < ntasks) {
        sel_id = tasks[rows[s->row].task_idx].id;
        a->sel_task = rows[s->row].task_idx;
    }
}

static int key(tui_app *a, int ch)
{
    int r = tui_list_key(&list, ch, LINES - 3 - 1);
    const tui_task *tasks;
    size_t ntasks = tui_model_tasks(a->m, &tasks);
    if (!(r & TUI_NOT_MINE)) {
        if (list.sel >= 0 && list.sel < nlines) {
            int ti = rows[lines[list.sel].row].task_idx;
            if (ti >= 0 && (size_t)ti < ntasks) sel_id = tasks[ti].id, a->sel_task = ti;
        }
        return r | TUI_REDRAW_BARS;
    }
    if ((ch == '\n' || ch == KEY_ENTER) && list.sel >= 0 && list.sel < nlines)
        return tui_open_task(a, rows[lines[list.sel].row].task_idx);
    return TUI_NOT_MINE;
}

static void select_line(tui_app *a, int i)
{
    const tui_task *tasks;
    size_t ntasks = tui_model_tasks(a->m, &tasks);
    list.sel = i;
    int ti = rows[lines[i].row].task_idx;
    if (ti >= 0 && (size_t)ti < ntasks) sel_id = tasks[ti].id, a->sel_task = ti;
}

/* Search (view.h): the task lines, not their stacks. */
static int find(tui_app *a, const unsigned char *match, int dir)
{
    build(a);
    const tui_task *tasks;
    size_t ntasks = tui_model_tasks(a->m, &tasks);
    int from = list.sel;
    for (int k = 1; k <= nlines; k++) {
        int i = ((from + dir * k) % nlines + nlines) % nlines;
        int ti = rows[lines[i].row].task_idx;
        if (lines[i].frame != -1 || ti < 0 || (size_t)ti >= ntasks || !match[ti]) continue;
        select_line(a, i);
        return (dir > 0 ? i <= from : i >= from) ? 2 : 1;
    }
    return 0;
}

/* A click selects a line; on the selected one it opens the task. */
static int mouse(tui_app *a, const tui_mouse *ev)
{
    int i = list.top + ev->y - 1;
    if (!ev->press || ev->button != 0 || ev->y < 1 || i < 0 || i >= nlines) return TUI_REDRAW_NONE;
    if (i == list.sel) return key(a, '\n');
    select_line(a, i);
    return TUI_REDRAW_VIEW;
}

static const char *const help[] = {
    "j k", "select (PgUp PgDn Home End)",
    "Enter", "the task's detail",
    NULL,
};

const tui_view tui_view_tree = {
    "Await tree", draw, key, help,
    "Enter task detail  / find  \\ filter  e edit  , . event  < > task's event  [ ] step",
    find, mouse, NULL,
};
