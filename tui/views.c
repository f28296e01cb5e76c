/* SPDX-License-Identifier: MIT */
/* views.c -- the registry of views: which tui_view draws each TUI_V_* id.
 * Apart from tui.c (which drives the main loop and calls the actions) so
 * that action.c, which switches views, does not call back into the file
 * that calls it. */
#include "view.h"

const tui_view *tui_view_get(int id)
{
    static const tui_view *const all[TUI_V_COUNT] = {
        [TUI_V_TASKS] = &tui_view_tasks,         [TUI_V_RESOURCES] = &tui_view_resources,
        [TUI_V_WARNINGS] = &tui_view_warnings,   [TUI_V_TIMELINE] = &tui_view_timeline,
        [TUI_V_TREE] = &tui_view_tree,           [TUI_V_OUTPUT] = &tui_view_output,
        [TUI_V_DETAIL] = &tui_view_detail,       [TUI_V_RESDETAIL] = &tui_view_resdetail,
        [TUI_V_SQL] = &tui_view_sql,
    };
    return id >= 0 && id < TUI_V_COUNT ? all[id] : &tui_view_tasks;
}
