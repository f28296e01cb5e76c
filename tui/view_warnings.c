/* SPDX-License-Identifier: MIT */
/* view_warnings.c -- the Warnings view (key 3): every detection of the
 * run in time order (deadlocks, slow steps, locks held across awaits, all
 * asleep, pending at exit ...), with the selected one told in full below:
 * its message, its lines and its stack.  Enter jumps to the moment and the
 * task: the cursor moves to the warning's time and the task's detail opens.
 */
#define _GNU_SOURCE   /* strcasestr */
#include "view.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static tui_list list;
static int64_t sel_id = -1;

static int matches(tui_app *a, const tui_warning *x)
{
    const char *f = a->filter[TUI_V_WARNINGS];
    return !f[0] || strcasestr(x->kind_name, f) || strcasestr(x->message, f) || strcasestr(x->at, f) ||
           strcasestr(x->at2, f);
}

static int rows_of(tui_app *a, int **rows)
{
    static int *buf;
    static size_t cap;
    const tui_warning *ws;
    size_t n = tui_model_warnings(a->m, &ws);
    if (n > cap) {
        int *nb = realloc(buf, n * sizeof *nb);
        if (!nb) n = cap;
        else buf = nb, cap = n;
    }
    int k = 0;
    for (size_t i = 0; i < n; i++)
        if (matches(a, &ws[i])) buf[k++] = (int)i;
    list.n = k;
    for (int i = 0; i < k; i++)
        if (ws[buf[i]].id == sel_id) list.sel = i;
    *rows = buf;
    return k;
}

#define FOOT 6

static void draw(tui_app *a, WINDOW *w)
{
    int h, wd;
    getmaxyx(w, h, wd);
    const tui_warning *ws;
    size_t total = tui_model_warnings(a->m, &ws);
    int *rows;
    int n = rows_of(a, &rows);
    int body = h - 1 - FOOT;
    tui_list_fit(&list, body);
    tui_column c[] = { { "KIND", 22, 0 }, { "TIME", 12, 1 }, { "TASK", 6, 1 }, { "MESSAGE", 0, 0 } };
    int xs[4];
    tui_columns_layout(c, 4, wd, xs);
    tui_columns_header(w, 0, c, 4, xs, -1, 0);
    if (n == 0) {
        tui_put(w, 2, 2, 0, total ? tui_attr(TUI_L_DIM) : tui_attr(TUI_L_RUNNING),
                total ? "no warning matches the filter (Esc clears it)" : "no warnings: nothing was detected in this run");
        return;
    }
    for (int r = 0; r < body && list.top + r < n; r++) {
        const tui_warning *x = &ws[rows[list.top + r]];
        int sel = list.top + r == list.sel;
        int base = sel ? A_REVERSE : 0;
        int past = x->ts <= a->t;   /* what already happened at the cursor reads bold */
        if (sel) tui_fill(w, r + 1, 0, A_REVERSE);
        tui_put(w, r + 1, xs[0], c[0].width, base | tui_attr(TUI_L_WARN), x->kind_name);
        tui_put_right(w, r + 1, xs[1], c[1].width, base | (past ? A_BOLD : 0), tui_fmt_time(x->ts));
        char b[32];
        if (x->task) snprintf(b, sizeof b, "#%lld", (long long)x->task);
        else snprintf(b, sizeof b, "-");
        tui_put_right(w, r + 1, xs[2], c[2].width, base, b);
        tui_put(w, r + 1, xs[3], c[3].width, base, x->message);
    }
    const tui_warning *x = &ws[rows[list.sel]];
    sel_id = x->id;
    int y = h - FOOT;
    for (int i = 0; i < wd; i++) tui_put(w, y, i, 1, tui_attr(TUI_L_DIM), tui_g->hline);
    y++;
    tui_putf(w, y++, 0, 0, tui_attr(TUI_L_WARN) | A_BOLD, "%s at %s%s%s", x->kind_name, tui_fmt_time(x->ts),
             x->dur > 0 ? " for " : "", x->dur > 0 ? tui_fmt_dur(x->dur) : "");
    /* The message may be long: two lines of it, wrapped at words. */
    int mw = wd - 2;
    const char *rest;
    size_t first = tui_wrap(x->message, mw, &rest);
    tui_putf(w, y++, 2, mw, A_NORMAL, "%.*s", (int)first, x->message);
    if (*rest) tui_put(w, y, 2, mw, A_NORMAL, rest);
    y++;
    if (x->cause[0]) /* the line that caused it, beside where it waits */
        tui_putf(w, y, 2, 0, tui_attr(TUI_L_DIM), "waiting at %s%s%s  caused at %s", x->at[0] ? x->at : "?",
                 x->at2[0] ? "  and " : "", x->at2, x->cause);
    else if (x->at[0] || x->at2[0])
        tui_putf(w, y, 2, 0, tui_attr(TUI_L_DIM), "at %s%s%s", x->at[0] ? x->at : "?", x->at2[0] ? "  and " : "",
                 x->at2);
    y++;
    if (x->stack[0]) {
        char first[256];
        const char *nl = strchr(x->stack, '\n');
        snprintf(first, sizeof first, "%.*s", nl ? (int)(nl - x->stack) : (int)strlen(x->stack), x->stack);
        /* A frame a line, the last one ended too: more only if text follows.
         * Without a task there is no detail to send the reader to. */
        int more = nl && nl[1];
        tui_putf(w, y, 2, 0, tui_attr(TUI_L_DIM), "stack: %s%s", first,
                 !more ? "" : x->task ? " ... (the task's detail has all)" : " ... (coscope report has all)");
    }
}

static int key(tui_app *a, int ch)
{
    const tui_warning *ws;
    tui_model_warnings(a->m, &ws);
    int *rows;
    int n = rows_of(a, &rows);
    int r = tui_list_key(&list, ch, LINES - 3 - 1 - FOOT);
    if (!(r & TUI_NOT_MINE)) {
        if (list.sel >= 0 && list.sel < n) sel_id = ws[rows[list.sel]].id;
        return r;
    }
    if ((ch == '\n' || ch == KEY_ENTER) && n > 0) {
        const tui_warning *x = &ws[rows[list.sel]];
        tui_jump(a, x->ts);
        int ti = x->task ? tui_model_task_index(a->m, x->task) : -1;
        if (ti >= 0) return tui_open_task(a, ti) | TUI_REDRAW_ALL;
        int ri = x->resource ? tui_model_resource_index(a->m, x->resource) : -1;
        if (ri >= 0) return tui_open_resource(a, ri) | TUI_REDRAW_ALL;
        return TUI_REDRAW_ALL;
    }
    return TUI_NOT_MINE;
}

/* `e` and `y`: where the selected warning happened (or its other line, or
 * the line that caused it). */
static int site(tui_app *a, char *buf, size_t cap)
{
    const tui_warning *ws;
    tui_model_warnings(a->m, &ws);
    int *rows;
    int n = rows_of(a, &rows);
    if (list.sel < 0 || list.sel >= n) return -ENOENT;
    const tui_warning *x = &ws[rows[list.sel]];
    const char *s = x->at[0] ? x->at : x->at2[0] ? x->at2 : x->cause;
    if (!s[0]) return -ENOENT;
    snprintf(buf, cap, "%s", s);
    return 0;
}

static int mouse(tui_app *a, const tui_mouse *ev)
{
    if (!ev->press || ev->button != 0 || ev->y < 1 || ev->y > LINES - 3 - 1 - FOOT) return TUI_REDRAW_NONE;
    const tui_warning *ws;
    tui_model_warnings(a->m, &ws);
    int *rows;
    int n = rows_of(a, &rows);
    int i = list.top + ev->y - 1;
    if (i < 0 || i >= n) return TUI_REDRAW_NONE;
    if (i == list.sel) return key(a, '\n');
    list.sel = i;
    sel_id = ws[rows[i]].id;
    return TUI_REDRAW_VIEW;
}

static const char *const help[] = {
    "j k", "select (PgUp PgDn Home End)",
    "Enter", "go to its time and task",
    "e y", "open / copy its line",
    NULL,
};

const tui_view tui_view_warnings = {
    "Warnings", draw, key, help,
    "Enter go to the moment and the task  e edit  y copy  \\ filter  , . event  t time",
    NULL, mouse, site,
};
