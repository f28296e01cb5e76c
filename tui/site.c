/* SPDX-License-Identifier: MIT */
/* site.c -- where a task is in the source, for `e` and `y` (see view.h):
 * the line it waits at (or resumed from) at the cursor, else the line that
 * spawned it.  Apart from editor.c, which opens it, because views ask it
 * too (a view's own tui_view.site falls back to it) and editor.c reaches
 * the views: a view calling back into editor.c would close a circle.
 */
#include "view.h"
#include <errno.h>
#include <stdio.h>

int tui_task_site(tui_app *a, int idx, char *buf, size_t cap)
{
    const tui_task *tk;
    size_t n = tui_model_tasks(a->m, &tk);
    if (idx < 0 || (size_t)idx >= n) return -ENOENT;
    tui_at at;
    const char *s = tui_model_task_at(a->m, idx, a->t, &at) == 0 && at.at && at.at[0] ? at.at : tk[idx].spawn_at;
    if (!s || !s[0]) return -ENOENT;
    snprintf(buf, cap, "%s", s);
    return 0;
}
