/* SPDX-License-Identifier: MIT */
/* nav.c -- moving between views with a way back for Esc, the time cursor,
 * and the message line: what both the global actions (action.c) and the
 * views' own keys call.  Apart from action.c so that a view (the SQL view
 * runs the prompt's query, action.c calls it) never calls back into the
 * file that calls it.
 */
#include "view.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void tui_msg(tui_app *a, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->msg, sizeof a->msg, fmt, ap);
    va_end(ap);
    a->msg_err = err;
}

static void push_back(tui_app *a)
{
    if (a->nback == TUI_BACK_MAX) {
        memmove(a->back, a->back + 1, sizeof a->back[0] * (TUI_BACK_MAX - 1));
        a->nback--;
    }
    a->back[a->nback++] = (tui_place){ a->view, a->detail_task, a->detail_res };
}

int tui_open_task(tui_app *a, int task_idx)
{
    if (task_idx < 0) return TUI_REDRAW_NONE;
    if (a->view == TUI_V_DETAIL && a->detail_task == task_idx) return TUI_REDRAW_NONE;
    push_back(a);
    a->view = TUI_V_DETAIL;
    a->detail_task = task_idx;
    a->sel_task = task_idx;
    return TUI_REDRAW_ALL;
}

int tui_open_resource(tui_app *a, int res_idx)
{
    if (res_idx < 0) return TUI_REDRAW_NONE;
    if (a->view == TUI_V_RESDETAIL && a->detail_res == res_idx) return TUI_REDRAW_NONE;
    push_back(a);
    a->view = TUI_V_RESDETAIL;
    a->detail_res = res_idx;
    return TUI_REDRAW_ALL;
}

int tui_go_view(tui_app *a, int view)
{
    if (view == TUI_V_SQL) {
        if (a->view != TUI_V_SQL) push_back(a);
        a->view = view;
        return TUI_REDRAW_ALL;
    }
    a->nback = 0;
    a->view = view;
    if (view < TUI_V_TOP) a->last_top = view;
    return TUI_REDRAW_ALL;
}

int tui_back(tui_app *a)
{
    if (a->nback == 0) return TUI_REDRAW_NONE;
    tui_place p = a->back[--a->nback];
    a->view = p.view;
    a->detail_task = p.task;
    a->detail_res = p.res;
    if (p.view == TUI_V_DETAIL) a->sel_task = p.task;
    return TUI_REDRAW_ALL;
}

int tui_set_cursor(tui_app *a, int64_t t)
{
    if (t < 0) t = 0;
    if (t > a->info->duration_ns) t = a->info->duration_ns;
    a->follow = 0;
    a->t = t;
    return TUI_REDRAW_ALL;
}

/* The cursor history: the times before the last jumps, a small stack
 * (the oldest dropped), so ` undoes t, g, G or a warning's Enter. */
int tui_jump(tui_app *a, int64_t t)
{
    if (!a->njumps || a->jumps[a->njumps - 1] != a->t) {
        if (a->njumps == TUI_JUMPS_MAX) {
            memmove(a->jumps, a->jumps + 1, sizeof a->jumps[0] * (TUI_JUMPS_MAX - 1));
            a->njumps--;
        }
        a->jumps[a->njumps++] = a->t;
    }
    return tui_set_cursor(a, t);
}

int tui_jump_back(tui_app *a)
{
    if (!a->njumps) {
        tui_msg(a, 1, "` goes back after a jump (t, g, G, Enter on a warning): there was none");
        return TUI_REDRAW_BARS;
    }
    int64_t t = a->jumps[--a->njumps];
    tui_msg(a, 0, "back to %s (%d more)", tui_fmt_time(t), a->njumps);
    return tui_set_cursor(a, t);
}
