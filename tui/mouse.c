/* SPDX-License-Identifier: MIT */
/* mouse.c -- the mouse (see action.h): a click on a tab shows its view, a
 * click in a view goes to the view (select a row, sort by a column, drag
 * a range on the timeline), the wheel moves the selection as j and k do.
 *
 * The terminal is asked for press and release reports in SGR form
 * (modes 1000 and 1006: "ESC [ < b ; x ; y M", m on release), read here
 * rather than by curses' getmouse: curses picks the report format from
 * terminfo, and tmux's entry names the old X10 one, so reports tmux sends
 * in SGR would reach the views as keys.  Motion is not asked for: a drag
 * is its press and its release, and nothing floods the key queue.  Keys
 * are untouched: the only new sequence is ESC [ <, which no key sends.
 */
#include "action.h"
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char ON[] = "\033[?1000h\033[?1006h";
static const char OFF[] = "\033[?1006l\033[?1000l";
static volatile sig_atomic_t enabled;   /* the terminal was asked for reports (the crash handler reads it) */

void tui_mouse_init(tui_app *a, int off)
{
    const char *nm = getenv("NO_MOUSE");
    a->mouse = !off && !(nm && *nm);
    if (!a->mouse) return;
    define_key("\033[<", TUI_KEY_MOUSE);
    tui_mouse_on(a);
}

void tui_mouse_on(tui_app *a)
{
    if (!a->mouse) return;
    if (write(STDOUT_FILENO, ON, sizeof ON - 1) == (ssize_t)sizeof ON - 1) enabled = 1;
}

void tui_mouse_off(void)
{
    if (!enabled) return;
    enabled = 0;
    ssize_t r = write(STDOUT_FILENO, OFF, sizeof OFF - 1);
    (void)r;
}

/* The rest of a report after ESC [ <: "b;x;y" and M or m.  Returns 0, or
 * -1 if it is not one (the bytes read are dropped: they were no key). */
static int read_report(WINDOW *in, int *b, int *x, int *y, int *press)
{
    int v[3] = { 0, 0, 0 }, k = 0, digits = 0;
    wtimeout(in, 50);   /* the rest of the report is on its way */
    for (int i = 0; i < 32; i++) {
        int ch = wgetch(in);
        if (ch >= '0' && ch <= '9') {
            if (v[k] < 100000) v[k] = v[k] * 10 + (ch - '0');
            digits++;
        } else if (ch == ';' && k < 2 && digits) {
            k++;
            digits = 0;
        } else if ((ch == 'M' || ch == 'm') && k == 2 && digits) {
            *b = v[0];
            *x = v[1] - 1;
            *y = v[2] - 1;
            *press = ch == 'M';
            return 0;
        } else {
            return -1;
        }
    }
    return -1;
}

int tui_mouse_key(tui_app *a, WINDOW *in)
{
    int b, x, y, press;
    if (read_report(in, &b, &x, &y, &press) < 0) return TUI_REDRAW_NONE;
    if (a->asking || a->too_small || a->prompt != TUI_P_NONE || b & 32) return TUI_REDRAW_NONE; /* 32: motion */
    if (a->help) {
        if (!press) return TUI_REDRAW_NONE;
        a->help = 0;
        return TUI_REDRAW_ALL;
    }
    if (press && a->msg[0]) a->msg[0] = 0;   /* a message lasts one key, or one click */
    if (b & 64) {   /* the wheel: 64 up, 65 down; three rows a notch */
        if (!press) return TUI_REDRAW_NONE;
        /* As j and k in the view (straight to it: the key dispatch in
         * action.c reaches this file through the editor). */
        const tui_view *v = tui_view_get(a->view);
        int r = 0;
        for (int i = 0; i < 3 && v->key; i++) {
            int k = v->key(a, b & 1 ? KEY_DOWN : KEY_UP);
            if (!(k & TUI_NOT_MINE)) r |= k;
        }
        return r | TUI_REDRAW_BARS;
    }
    if (y == 0) {   /* the tabs */
        if (!press || (b & 3) != 0) return TUI_REDRAW_NONE;
        for (int i = 0; i < TUI_V_TOP; i++)
            if (x >= a->tab_x[i] && x < a->tab_x[i + 1]) return tui_go_view(a, i);
        return TUI_REDRAW_NONE;
    }
    if (y >= LINES - 2) return TUI_REDRAW_NONE;   /* the prompt and status lines */
    const tui_view *v = tui_view_get(a->view);
    if (!v->mouse) return TUI_REDRAW_NONE;
    tui_mouse ev = { y - 1, x, b & 3, press };
    int r = v->mouse(a, &ev);
    return r & TUI_NOT_MINE ? TUI_REDRAW_NONE : r | TUI_REDRAW_BARS;
}
