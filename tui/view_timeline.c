/* SPDX-License-Identifier: MIT */
/* view_timeline.c -- the Timeline (key 4): one row per task against time,
 * children under their parent (foldable), a time axis with units, the
 * cursor as a column.  A cell is what the task did over its slice of the
 * window, as the model sums it (tui_model_timeline): how busy it was, or
 * what it mostly waited on, locks held, and what happened in it (logs,
 * marks, regions, warnings).  Only the rows on screen are asked for, each
 * frame, so a redraw costs the same at any zoom and trace size.
 *
 * Layout: row 0 the axis labels, row 1 the rule (ticks, the cursor's
 * column marked), then the tasks, then the legend (one or two lines) and a
 * line for the selected task at the cursor and the window.  The names take
 * the left quarter (14..30 columns), a space, then one cell a column.
 */
#include "view.h"
#include "action.h"
#include "../runtime/coscope.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The window [from, from + span) in trace time.  `fit` keeps it on the
 * whole run (the default, and what live following wants); zooming or
 * panning leaves it where put. */
static int64_t from, span = 1;
static int fit = 1;
static int64_t seen_t = -1;      /* the cursor at the last frame: a cursor that moved brings the window along */

static unsigned char *folded;    /* per task index: its children hidden */
static size_t nfolded;
static int *rows, *depths;       /* the tree flattened, the folded parts left out */
static size_t nrows, rows_cap;
static tui_cell *cells;
static int cells_cap;
static int sel_idx = -1;         /* the selected task, by index: it stays selected as rows come and go */
static tui_list list;
static int body_h = 1, ncells_last = 1;

static int marking;              /* `v` pressed: a range runs from mark_t to the cursor (view_range.c shows it) */
static int64_t mark_t;

#define MIN_SPAN 1000            /* 1us over the whole width: below that cells would be under 10ns */

/* ---- what a cell looks like ---------------------------------------------- */

enum { K_SLEEP, K_LOCK, K_SEM, K_QUEUE, K_EVENT, K_TASK, K_IO, K_THREAD, K_OTHER, K_COUNT };

static int wait_class(int kind)
{
    switch (kind) {
    case CO_WAIT_SLEEP: return K_SLEEP;
    case CO_WAIT_LOCK: return K_LOCK;
    case CO_WAIT_SEM: return K_SEM;
    case CO_WAIT_QUEUE_GET: case CO_WAIT_QUEUE_PUT: case CO_WAIT_QUEUE_JOIN:
    case CO_WAIT_CHANNEL_SEND: case CO_WAIT_CHANNEL_RECV: return K_QUEUE;
    case CO_WAIT_EVENT: case CO_WAIT_COND: case CO_WAIT_FUTURE: return K_EVENT;
    case CO_WAIT_TASK: case CO_WAIT_TASKS: case CO_WAIT_GROUP: case CO_WAIT_GEN: return K_TASK;
    case CO_WAIT_TCP_CONNECT: case CO_WAIT_TCP_ACCEPT: case CO_WAIT_TCP_READ: case CO_WAIT_TCP_WRITE:
    case CO_WAIT_TCP_SHUTDOWN: case CO_WAIT_DNS: case CO_WAIT_FILE: return K_IO;
    case CO_WAIT_THREAD: case CO_WAIT_PROCESS: return K_THREAD;
    default: return K_OTHER;   /* yield: ready again at once */
    }
}

/* Glyphs by class, UTF-8 and ASCII: shapes differ as well as colours, so
 * the kinds read apart without colour (NO_COLOR, the C locale). */
static const char *const wait_utf8[K_COUNT] = { "░", "▓", "▒", "≡", "┄", "─", "═", "┈", "·" };
static const char *const wait_ascii[K_COUNT] = { "~", "L", "S", "Q", "E", "T", "I", "P", "," };
static const char *const wait_name[K_COUNT] = { "sleep", "lock", "sem", "queue", "event", "task", "I/O", "thread",
                                                "other" };
/* Running: how busy the cell was, in eighths. */
static const char *const run_utf8[9] = { " ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" };
static const char *const run_ascii[9] = { " ", ".", ".", "-", "-", "=", "=", "#", "#" };

static void cell_look(const tui_cell *c, const char **g, int *attr)
{
    *g = " ";
    *attr = A_NORMAL;
    if (c->runs) {
        *g = (tui_utf8 ? run_utf8 : run_ascii)[c->busy8 > 8 ? 8 : c->busy8];
        *attr = tui_attr(TUI_L_RUNNING);
    } else if (c->wait8) {
        int k = wait_class(c->wait);
        *g = (tui_utf8 ? wait_utf8 : wait_ascii)[k];
        *attr = tui_attr(TUI_L_W_SLEEP + k);
    }
    /* What happened in it: a warning or a mark always shows; logs and
     * regions only where nothing else is drawn (a chatty task's row would
     * otherwise be all ticks). */
    int blank = !c->busy8 && !c->wait8;
    if (c->ticks & TUI_TICK_WARN) {
        *g = "!";
        *attr = tui_attr(TUI_L_ERROR);
    } else if (c->ticks & TUI_TICK_MARK) {
        *g = tui_utf8 ? "◆" : "*";
        *attr = A_BOLD;
    } else if (blank && c->ticks & TUI_TICK_REGION) {
        *g = "[";
        *attr = A_BOLD;
    } else if (blank && c->ticks & TUI_TICK_LOG) {
        *g = "'";
        *attr = A_BOLD;
    }
    if (c->ticks & TUI_TICK_HOLD) *attr |= A_UNDERLINE;   /* a lock held: underlined, whatever it did */
}

/* ---- the window and the axis --------------------------------------------- */

static int64_t dur_of(tui_app *a) { return a->info->duration_ns > 0 ? a->info->duration_ns : 1; }

static void clamp_window(tui_app *a)
{
    int64_t d = dur_of(a);
    if (span < MIN_SPAN) span = MIN_SPAN;
    if (span > 4 * d + MIN_SPAN) span = 4 * d + MIN_SPAN;
    int64_t hi = d - span / 8;   /* a little of the run stays in sight */
    if (from > hi) from = hi;
    if (from < 0) from = 0;
}

/* The window for this frame: the whole run when fitting, else moved to
 * bring back a cursor that moved out of it (live following, g / G, ...). */
static void place_window(tui_app *a)
{
    if (fit) {
        from = 0;
        span = dur_of(a);
    } else if (a->t != seen_t && (a->t < from || a->t >= from + span)) {
        from = a->t >= from + span ? a->t - span * 7 / 8 : a->t - span / 8;
        clamp_window(a);
    }
    seen_t = a->t;
}

static int col_of(int64_t t, int ncells)
{
    double c = (double)(t - from) * ncells / (double)span;
    return c < 0 ? -1 : c >= ncells ? ncells : (int)c;
}

/* A label for an axis tick: one unit for the whole axis (the window end's),
 * as many decimals as the tick step needs. */
static void axis_label(char *b, size_t cap, int64_t t, int64_t step)
{
    int64_t end = from + span;
    double unit = end >= 1000000000 ? 1e9 : end >= 1000000 ? 1e6 : end >= 1000 ? 1e3 : 1;
    const char *name = unit == 1e9 ? "s" : unit == 1e6 ? "ms" : unit == 1e3 ? "us" : "ns";
    int dec = 0;
    for (double s = (double)step / unit; s < 0.999 && dec < 6; s *= 10) dec++;
    snprintf(b, cap, "%.*f%s", dec, (double)t / unit, name);
}

static void draw_axis(tui_app *a, WINDOW *w, int x0, int ncells)
{
    /* A tick about every 12 columns, at 1, 2 or 5 times a power of ten. */
    double raw = (double)span * 12 / ncells;
    int64_t step = 1;
    while ((double)step * 10 <= raw) step *= 10;
    if ((double)step * 5 <= raw) step *= 5;
    else if ((double)step * 2 <= raw) step *= 2;
    for (int c = 0; c < ncells; c++) tui_put(w, 1, x0 + c, 1, tui_attr(TUI_L_DIM), tui_g->hline);
    int free_x = x0;
    for (int64_t t = (from + step - 1) / step * step; t < from + span; t += step) {
        int c = col_of(t, ncells);
        if (c < 0 || c >= ncells) continue;
        tui_put(w, 1, x0 + c, 1, tui_attr(TUI_L_DIM), tui_utf8 ? "┬" : "+");
        char b[40];
        axis_label(b, sizeof b, t, step);
        int n = tui_width(b);
        if (x0 + c >= free_x && c + n <= ncells) {
            tui_put(w, 0, x0 + c, n, A_NORMAL, b);
            free_x = x0 + c + n + 1;
        }
    }
    int cc = col_of(a->t, ncells);
    if (cc >= ncells && a->t <= from + span) cc = ncells - 1;   /* the run's last instant, at the edge */
    if (marking) {
        /* The range being marked: the rule reversed from the mark to the cursor. */
        int m0 = col_of(mark_t < a->t ? mark_t : a->t, ncells), m1 = col_of(mark_t < a->t ? a->t : mark_t, ncells);
        for (int c = m0 < 0 ? 0 : m0; c <= m1 && c < ncells; c++)
            tui_put(w, 1, x0 + c, 1, tui_attr(TUI_L_CURSOR) | A_REVERSE, tui_utf8 ? "═" : "=");
    }
    if (cc >= 0 && cc < ncells) tui_put(w, 1, x0 + cc, 1, tui_attr(TUI_L_CURSOR) | A_REVERSE, tui_utf8 ? "▼" : "v");
}

/* ---- the rows ------------------------------------------------------------ */

/* The task tree in order, each child after its parent, the children of a
 * folded task left out.  O(tasks) a frame, no recursion (trees can be
 * deep). */
static int flatten(tui_app *a)
{
    const tui_task *tk;
    size_t n = tui_model_tasks(a->m, &tk);
    if (n > nfolded) {
        unsigned char *f = realloc(folded, n);
        if (!f) return -1;
        memset(f + nfolded, 0, n - nfolded);
        folded = f;
        nfolded = n;
    }
    if (n > rows_cap) {
        int *r = realloc(rows, n * sizeof *r), *d = r ? realloc(depths, n * sizeof *d) : NULL;
        if (r) rows = r;
        if (!d) return -1;
        depths = d;
        rows_cap = n;
    }
    /* The filter and H leave tasks out (shown.c): a task left out with all below it. */
    const unsigned char *keep = tui_tasks_kept(a, TUI_V_TIMELINE);
    nrows = 0;
    for (size_t root = 0; root < n; root++) {
        if (tk[root].parent_idx >= 0) continue;
        int i = (int)root, d = 0;
        for (;;) {
            if (nrows == rows_cap) return 0;
            if (!keep || keep[i]) {
                rows[nrows] = i;
                depths[nrows++] = d;
            }
            if (!folded[i] && tk[i].first_child >= 0 && (!keep || keep[i])) {
                i = tk[i].first_child;
                d++;
                continue;
            }
            while (i != (int)root && tk[i].next_sibling < 0) {
                i = tk[i].parent_idx;
                d--;
            }
            if (i == (int)root) break;
            i = tk[i].next_sibling;
        }
    }
    /* The selection stays on its task; a task folded away selects its parent. */
    list.n = (int)nrows;
    if (sel_idx < 0 && nrows) sel_idx = rows[0];
    for (;;) {
        for (size_t r = 0; r < nrows; r++)
            if (rows[r] == sel_idx) {
                list.sel = (int)r;
                return 0;
            }
        if (sel_idx < 0 || (size_t)sel_idx >= n || tk[sel_idx].parent_idx < 0) break;
        sel_idx = tk[sel_idx].parent_idx;
    }
    list.sel = 0;
    sel_idx = nrows ? rows[0] : -1;
    return 0;
}

static void draw_name(tui_app *a, WINDOW *w, int y, int r, int nw, int sel)
{
    const tui_task *tk;
    tui_model_tasks(a->m, &tk);
    int idx = rows[r];
    tui_at at;
    if (tui_model_task_at(a->m, idx, a->t, &at) < 0) at.state = TUI_READY;
    int base = sel ? A_REVERSE : 0;
    if (sel) mvwchgat(w, y, 0, nw, A_REVERSE, 0, NULL);
    int ind = depths[r] > 8 ? 8 : depths[r];
    int x = ind;
    if (tk[idx].first_child >= 0)
        x += tui_put(w, y, x, 2, base | A_BOLD, folded[idx] ? (tui_utf8 ? "▸ " : "+ ") : (tui_utf8 ? "▾ " : "- "));
    else x += 2;
    char b[300];
    snprintf(b, sizeof b, "#%lld %s", (long long)tk[idx].id, tk[idx].name);
    int look = at.state == TUI_UNBORN || at.state == TUI_DONE ? tui_attr(TUI_L_DIM) : tui_attr(tui_state_look(at.state));
    int warned = tui_model_task_warnings(a->m, idx) > 0;   /* a `!` at the end of the name column */
    tui_put(w, y, x, nw - x - 2 * warned, base | (sel ? 0 : look), b);
    if (warned) tui_put(w, y, nw - 1, 1, base | tui_attr(TUI_L_WARN) | A_BOLD, "!");
}

static void draw_legend(WINDOW *w, int y, int lines, int wd)
{
    char item[K_COUNT + 5][40];
    int looks[K_COUNT + 5], n = 0;
    snprintf(item[n], 40, "%s run", tui_utf8 ? "▂▅█" : ".=#");
    looks[n++] = tui_attr(TUI_L_RUNNING);
    for (int k = 0; k < K_OTHER; k++) {
        snprintf(item[n], 40, "%s %s", (tui_utf8 ? wait_utf8 : wait_ascii)[k], wait_name[k]);
        looks[n++] = tui_attr(TUI_L_W_SLEEP + k);
    }
    static const char *const ticks[] = { "_ lock held", "! warning", "* mark", "' log", "[ region" };
    for (int i = 0; i < 5; i++) {
        snprintf(item[n], 40, "%s", ticks[i]);
        if (i == 2 && tui_utf8) snprintf(item[n], 40, "◆ mark");
        looks[n++] = i == 0 ? (int)A_UNDERLINE : i == 1 ? tui_attr(TUI_L_ERROR) : (int)A_BOLD;
    }
    int x = 0, line = 0;
    for (int i = 0; i < n; i++) {
        int iw = tui_width(item[i]);
        if (x + iw > wd && x > 0) {
            if (++line >= lines) break;
            x = 0;
        }
        tui_put(w, y + line, x, iw, looks[i], item[i]);
        x += iw + 2;
    }
}

static int legend_lines(int wd) { return wd >= 104 ? 1 : 2; }

static void draw(tui_app *a, WINDOW *w)
{
    if (tui_range_active()) {
        tui_range_draw(a, w);
        return;
    }
    int h, wd;
    getmaxyx(w, h, wd);
    int nw = wd / 4;
    nw = nw < 14 ? 14 : nw > 30 ? 30 : nw;
    int x0 = nw + 1, ncells = wd - x0;
    int leg = legend_lines(wd);
    body_h = h - 3 - leg;
    if (ncells < 4 || body_h < 1) return;
    ncells_last = ncells;
    place_window(a);
    if (flatten(a) < 0) {
        tui_put(w, 2, 2, 0, tui_attr(TUI_L_ERROR), "out of memory");
        return;
    }
    tui_list_fit(&list, body_h);
    a->sel_task = sel_idx;
    tui_put(w, 0, 0, nw, tui_attr(TUI_L_HEADER), a->hide_done ? "TASK  ended hidden" : "TASK");
    draw_axis(a, w, x0, ncells);
    if (ncells > cells_cap) {
        tui_cell *c = realloc(cells, (size_t)ncells * sizeof *c);
        if (!c) return;
        cells = c;
        cells_cap = ncells;
    }
    if (!nrows)
        tui_put(w, 3, 2, 0, tui_attr(TUI_L_DIM), a->filter[TUI_V_TIMELINE][0] || a->hide_done
                                                      ? "no task matches the filter or is left by H"
                                                      : "the trace has no tasks (yet)");
    int cc = col_of(a->t, ncells);
    if (cc >= ncells && a->t <= from + span) cc = ncells - 1;
    for (int r = 0; r < body_h && list.top + r < (int)nrows; r++) {
        int y = 2 + r, ri = list.top + r;
        draw_name(a, w, y, ri, nw, ri == list.sel);
        int ok = tui_model_timeline(a->m, rows[ri], from, from + span, ncells, cells) == 0;
        for (int c = 0; c < ncells; c++) {
            const char *g = " ";
            int attr = A_NORMAL;
            if (ok) cell_look(&cells[c], &g, &attr);
            if (c == cc) {
                /* The cursor: a column of reverse video; a line where the cell is empty. */
                if (g[0] == ' ' && !g[1]) g = tui_g->vbar[0] == '|' ? "|" : "│";
                attr |= A_REVERSE;
            }
            tui_put(w, y, x0 + c, 1, attr, g);
        }
    }
    draw_legend(w, h - 1 - leg, leg, wd);

    /* The selected task at the cursor, and the window. */
    char win[96];
    /* The ends at full precision: at us zoom "300ms..300ms" said nothing. */
    snprintf(win, sizeof win, " %s..%s  %s/cell%s", tui_fmt_time(from), tui_fmt_time(from + span),
             tui_fmt_dur(span / ncells), fit ? "  fit" : "");
    int ww = tui_width(win);
    if (sel_idx >= 0) {
        const tui_task *tk;
        tui_model_tasks(a->m, &tk);
        tui_at at;
        if (tui_model_task_at(a->m, sel_idx, a->t, &at) < 0) at.state = TUI_READY;
        int x = tui_putf(w, h - 1, 0, wd - ww - 1, A_BOLD, "#%lld %s: ", (long long)tk[sel_idx].id, tk[sel_idx].name);
        tui_put(w, h - 1, x, wd - ww - 1 - x, tui_attr(tui_state_look(at.state)),
                tui_model_state_text(a->m, sel_idx, &at));
    }
    tui_put(w, h - 1, wd - ww, ww, tui_attr(TUI_L_DIM), win);
}

/* ---- keys ---------------------------------------------------------------- */

/* Zoom by f around the cursor (the window's middle if the cursor is out
 * of sight), keeping the cursor at the same column. */
static int zoom(tui_app *a, double f)
{
    int64_t t = a->t;
    if (t < from || t > from + span) t = from + span / 2;
    double frac = (double)(t - from) / (double)span;
    int64_t ns = (int64_t)((double)span * f);
    if (ns < MIN_SPAN) ns = MIN_SPAN;
    /* Zooming out stops at the whole run: past it the window showed time
     * after the end (225-825 ms of a 600 ms run). */
    if (ns >= dur_of(a)) {
        if (fit) return TUI_REDRAW_NONE;
        fit = 1;
        return TUI_REDRAW_VIEW;
    }
    if (ns == span) return TUI_REDRAW_NONE;
    from = t - (int64_t)(frac * (double)ns);
    span = ns;
    fit = 0;
    clamp_window(a);
    if (f > 1 && from + span > dur_of(a)) from = dur_of(a) - span > 0 ? dur_of(a) - span : 0;
    return TUI_REDRAW_VIEW;
}

static int pan(tui_app *a, int64_t by)
{
    int64_t was = from;
    fit = 0;
    from += by;
    clamp_window(a);
    return from != was ? TUI_REDRAW_VIEW : TUI_REDRAW_NONE;
}

static int fold(tui_app *a, int how)   /* -1 fold, 1 unfold, 0 toggle */
{
    const tui_task *tk;
    tui_model_tasks(a->m, &tk);
    if (sel_idx < 0 || (size_t)sel_idx >= nfolded) return TUI_REDRAW_NONE;
    if (tk[sel_idx].first_child < 0) {
        /* A leaf: Left goes to its parent, as in a file tree. */
        if (how < 0 && tk[sel_idx].parent_idx >= 0) {
            sel_idx = tk[sel_idx].parent_idx;
            return TUI_REDRAW_VIEW;
        }
        return TUI_REDRAW_NONE;
    }
    if (how < 0 && folded[sel_idx] && tk[sel_idx].parent_idx >= 0) {
        sel_idx = tk[sel_idx].parent_idx;
        return TUI_REDRAW_VIEW;
    }
    if (how > 0 && !folded[sel_idx]) {
        sel_idx = tk[sel_idx].first_child;
        return TUI_REDRAW_VIEW;
    }
    folded[sel_idx] = how == 0 ? !folded[sel_idx] : how < 0;
    return TUI_REDRAW_VIEW;
}

static int fold_all(tui_app *a)
{
    const tui_task *tk;
    size_t n = tui_model_tasks(a->m, &tk);
    int any = 0;
    for (size_t i = 0; i < n && i < nfolded; i++) any |= folded[i];
    /* Anything folded: unfold all; else fold every task with children. */
    for (size_t i = 0; i < n && i < nfolded; i++) folded[i] = !any && tk[i].first_child >= 0 && tk[i].parent_idx >= 0;
    if (!any)
        for (size_t i = 0; i < n && i < nfolded; i++)
            if (tk[i].parent_idx < 0) folded[i] = 0;   /* roots stay open: their children are the first level */
    return TUI_REDRAW_VIEW;
}

static int key(tui_app *a, int ch)
{
    if (tui_range_active()) return tui_range_key(a, ch);
    if (ch == 'v' || (marking && (ch == '\n' || ch == KEY_ENTER))) {
        if (!marking) {
            marking = 1;
            mark_t = a->t;
            tui_msg(a, 0, "range from %s: move the cursor, then v or Enter", tui_fmt_time(a->t));
            return TUI_REDRAW_VIEW | TUI_REDRAW_BARS;
        }
        marking = 0;
        return tui_range_show(a, mark_t, a->t);
    }
    if (marking && ch == 27) {
        marking = 0;
        return TUI_REDRAW_VIEW;
    }
    if (flatten(a) < 0) return TUI_NOT_MINE;
    int r = tui_list_key(&list, ch, body_h);
    if (!(r & TUI_NOT_MINE)) {
        if (list.sel >= 0 && (size_t)list.sel < nrows) a->sel_task = sel_idx = rows[list.sel];
        return r | TUI_REDRAW_BARS;
    }
    switch (ch) {
    case '\n': case KEY_ENTER: return sel_idx >= 0 ? tui_open_task(a, sel_idx) : TUI_REDRAW_NONE;
    case 'z': return zoom(a, 0.5);
    case 'Z': return zoom(a, 2);
    case 'f':
        fit = 1;
        return TUI_REDRAW_VIEW;
    case 'h': return pan(a, -span / 8);
    case 'l': return pan(a, span / 8);
    case KEY_SLEFT: return pan(a, -span * 3 / 4);   /* H hides the ended tasks (action.c) */
    case KEY_SRIGHT: return pan(a, span * 3 / 4);
    case KEY_LEFT: return fold(a, -1);
    case KEY_RIGHT: return fold(a, 1);
    case 'c': return fold(a, 0);
    case 'C': return fold_all(a);
    }
    return TUI_NOT_MINE;
}

/* Search (view.h): the next task row whose task matches. */
static int find(tui_app *a, const unsigned char *match, int dir)
{
    if (flatten(a) < 0 || !nrows) return 0;
    int from_row = list.sel;
    for (size_t k = 1; k <= nrows; k++) {
        int i = (int)(((long long)from_row + dir * (long long)k % (long long)nrows + (long long)nrows) % (long long)nrows);
        if (!match[rows[i]]) continue;
        list.sel = i;
        a->sel_task = sel_idx = rows[i];
        return (dir > 0 ? i <= from_row : i >= from_row) ? 2 : 1;
    }
    return 0;
}

/* The mouse: a click on a name selects its task; in the cells it also
 * puts the cursor at the cell's time; a drag across the cells zooms to
 * the range dragged and tells where time went in it (view_range.c, as
 * `v` .. `v` does; Esc: the Timeline, zoomed). */
static int mouse(tui_app *a, const tui_mouse *ev)
{
    static int down_x = -1;
    int x0 = COLS - ncells_last;
    if (ev->button != 0 || tui_range_active()) return TUI_REDRAW_NONE;
    if (ev->press) {
        down_x = ev->x;
        int r = list.top + ev->y - 2;
        if (ev->y >= 2 && ev->y - 2 < body_h && r >= 0 && (size_t)r < nrows) {
            list.sel = r;
            a->sel_task = sel_idx = rows[r];
        }
        return TUI_REDRAW_VIEW;
    }
    int from_x = down_x;
    down_x = -1;
    if (from_x < x0 || ev->x < x0) return TUI_REDRAW_NONE;
    int c1 = (from_x < ev->x ? from_x : ev->x) - x0, c2 = (from_x < ev->x ? ev->x : from_x) - x0;
    if (c2 - c1 < 2) return tui_jump(a, from + (int64_t)((double)span * (c1 + 0.5) / ncells_last));
    int64_t t1 = from + (int64_t)((double)span * c1 / ncells_last);
    int64_t t2 = from + (int64_t)((double)span * (c2 + 1) / ncells_last);
    from = t1;
    span = t2 - t1;
    fit = 0;
    clamp_window(a);
    return tui_range_show(a, t1, t2);
}

static const char *const help[] = {
    "j k", "select a task (PgUp PgDn)",
    "Enter", "its detail at the cursor",
    "z Z", "zoom in / out at the cursor",
    "h l", "pan 1/8 (S-arrows: 3/4)",
    "f", "fit the whole run",
    "v", "mark a range (v .. v): time spent",
    "<- ->", "fold / unfold (Left: parent)",
    "c C", "fold or unfold one / all",
    NULL,
};

const tui_view tui_view_timeline = {
    "Timeline", draw, key, help,
    "z Z zoom  h l pan  f fit  v range  <- -> fold  / find  \\ filter  H hide ended  Enter detail  ? keys",
    find, mouse, NULL,
};
