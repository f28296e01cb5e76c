/* SPDX-License-Identifier: MIT */
/* search.c -- `/` beside the filter (as htop has F3 beside F4): the
 * filter leaves out what does not match, a search keeps every row and
 * moves the selection to the next one that matches (n) or the previous
 * one (N), wrapping round.  What matches is what the Tasks filter keeps
 * (tui_tasks_matching); each view walks its own rows (tui_view.find).
 */
#include "action.h"

int tui_find_next(tui_app *a, int dir)
{
    const tui_view *v = tui_view_get(a->view);
    if (!v->find) {
        tui_msg(a, 1, "/ searches the Tasks, the Timeline and the Await tree");
        return TUI_REDRAW_BARS;
    }
    if (!a->find[0]) {
        tui_msg(a, 1, "nothing to find again: / searches");
        return TUI_REDRAW_BARS;
    }
    const unsigned char *match = tui_tasks_matching(a, a->find);
    int r = match ? v->find(a, match, dir) : 0;
    if (r == 0) tui_msg(a, 1, "no task matches '%s' here", a->find);
    else if (r == 2) tui_msg(a, 0, "'%s': search wrapped round to the %s", a->find, dir > 0 ? "top" : "bottom");
    else tui_msg(a, 0, "/%s  (n next, N previous)", a->find);
    return TUI_REDRAW_ALL;
}
