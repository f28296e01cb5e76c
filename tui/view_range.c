/* SPDX-License-Identifier: MIT */
/* view_range.c -- where time went over a range of the run: the Timeline's
 * marked range (`v` ... `v`), or any caller's (a mouse drag:
 * tui_range_show), drawn in the Timeline's place until Esc.  Per loop its
 * busy and idle time; per task alive in the range, busiest first, its
 * running, its idle (ready, not run) and its waiting, each kind's share
 * spelled out.  The sums are the model's (tui_model_range).
 */
#include "view.h"
#include "action.h"
#include "../runtime/coscope.h"   /* co_wait_kind_name */
#include <stdio.h>
#include <string.h>

static int active;
static int64_t rfrom, rto;
static tui_list list;

int tui_range_show(tui_app *a, int64_t from, int64_t to)
{
    if (to < from) {
        int64_t x = from;
        from = to;
        to = x;
    }
    if (from < 0) from = 0;
    if (to > a->info->duration_ns) to = a->info->duration_ns;
    if (to <= from) {
        tui_msg(a, 1, "an empty range: move the cursor away from the mark first");
        return TUI_REDRAW_BARS;
    }
    rfrom = from;
    rto = to;
    active = 1;
    list.sel = list.top = 0;
    if (a->view != TUI_V_TIMELINE) tui_go_view(a, TUI_V_TIMELINE);
    return TUI_REDRAW_ALL;
}

int tui_range_active(void) { return active; }

/* "lock 50ms, sleep 20ms": the waits by kind, longest first. */
static void kinds_text(const tui_range_task *x, char *b, size_t cap)
{
    unsigned char used[TUI_WAIT_KINDS] = { 0 };
    size_t o = 0;
    b[0] = 0;
    for (;;) {
        int best = -1;
        for (int k = 0; k < CO_WAIT_KIND_COUNT; k++)
            if (!used[k] && x->by_kind[k] > 0 && (best < 0 || x->by_kind[k] > x->by_kind[best])) best = k;
        if (best < 0) break;
        used[best] = 1;
        int r = snprintf(b + o, cap - o, "%s%s %s", o ? ", " : "", co_wait_kind_name(best), tui_fmt_dur(x->by_kind[best]));
        if (r < 0 || (size_t)r >= cap - o) break;
        o += (size_t)r;
    }
}

static int pct(int64_t part, int64_t whole) { return whole > 0 ? (int)(100.0 * (double)part / (double)whole + 0.5) : 0; }

void tui_range_draw(tui_app *a, WINDOW *w)
{
    int h, wd;
    getmaxyx(w, h, wd);
    const tui_range *g;
    char t0[32], t1[32];
    snprintf(t0, sizeof t0, "%s", tui_fmt_time(rfrom));
    snprintf(t1, sizeof t1, "%s", tui_fmt_time(rto));
    int x = tui_putf(w, 0, 0, 0, tui_attr(TUI_L_HEADER), "Where time went: %s..%s (%s)", t0, t1, tui_fmt_dur(rto - rfrom));
    tui_fill(w, 0, x, tui_attr(TUI_L_HEADER));
    if (tui_model_range(a->m, rfrom, rto, &g) < 0) {
        tui_put(w, 2, 2, 0, tui_attr(TUI_L_ERROR), "could not read the range");
        return;
    }
    const tui_task *tasks;
    tui_model_tasks(a->m, &tasks);
    int y = 1;
    tui_put(w, y++, 0, 0, tui_attr(TUI_L_SECTION), "LOOP           BUSY       IDLE");
    for (int i = 0; i < g->nloops && y < h - 4; i++) {
        const tui_range_loop *l = &g->loops[i];
        char busy[16];
        snprintf(busy, sizeof busy, "%s", tui_fmt_dur(l->busy));
        tui_putf(w, y++, 0, 0, A_NORMAL, "thread %-4u %7s %3d%% %7s %3d%%", l->ring, busy, pct(l->busy, rto - rfrom),
                 tui_fmt_dur(l->idle), pct(l->idle, rto - rfrom));
    }
    y++;
    int nw = wd >= 100 ? 24 : 14;
    tui_putf(w, y++, 0, 0, tui_attr(TUI_L_SECTION), "%-*s %7s %7s %7s  WAITING BY KIND", nw, "TASK", "BUSY", "IDLE",
             "WAITING");
    int body = h - y - 1;
    list.n = (int)g->ntasks;
    tui_list_fit(&list, body);
    for (int r = 0; r < body && list.top + r < (int)g->ntasks; r++, y++) {
        const tui_range_task *k = &g->tasks[list.top + r];
        int sel = list.top + r == list.sel, base = sel ? A_REVERSE : 0;
        if (sel) tui_fill(w, y, 0, A_REVERSE);
        char name[96], b[3][16], kinds[512];
        snprintf(name, sizeof name, "#%lld %s", (long long)tasks[k->idx].id, tasks[k->idx].name);
        snprintf(b[0], sizeof b[0], "%s", tui_fmt_dur(k->busy));
        snprintf(b[1], sizeof b[1], "%s", tui_fmt_dur(k->idle));
        snprintf(b[2], sizeof b[2], "%s", tui_fmt_dur(k->wait));
        kinds_text(k, kinds, sizeof kinds);
        int xx = tui_put(w, y, 0, nw, base, name);
        tui_putf(w, y, nw + 1 > xx ? nw + 1 : xx, 0, base, "%7s %7s %7s  %s", b[0], b[1], b[2], kinds);
    }
    if (g->ntasks) a->sel_task = g->tasks[list.sel].idx;
    tui_putf(w, h - 1, 0, 0, tui_attr(TUI_L_DIM), "%zu task%s alive in it%s  Enter: a task's detail  Esc: the Timeline",
             g->ntasks, g->ntasks == 1 ? "" : "s", g->truncated ? " (cut short: a huge range)" : "");
}

int tui_range_key(tui_app *a, int ch)
{
    int r = tui_list_key(&list, ch, LINES - 3 - 6);
    if (!(r & TUI_NOT_MINE)) return r | TUI_REDRAW_BARS;
    if (ch == 27 || ch == 'v' || ch == 'q') {
        if (ch == 'q') return TUI_NOT_MINE;
        active = 0;
        return TUI_REDRAW_VIEW | TUI_REDRAW_BARS;
    }
    if (ch == '\n' || ch == KEY_ENTER) {
        const tui_range *g;
        if (tui_model_range(a->m, rfrom, rto, &g) < 0 || !g->ntasks) return TUI_REDRAW_NONE;
        return tui_open_task(a, g->tasks[list.sel].idx);
    }
    return TUI_NOT_MINE;
}
