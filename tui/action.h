/* SPDX-License-Identifier: MIT */
/* action.h -- keys to actions (as htop's Action.c): each global key runs a
 * function on the shared state that returns redraw flags (view.h), and
 * the same table feeds the help overlay, so what `?` lists is what the
 * keys do.  The view shown gets each key first (tui_view.key); the prompt
 * line, when open, gets every key.
 */
#ifndef TUI_ACTION_H
#define TUI_ACTION_H

#include "view.h"

typedef int (*tui_action_fn)(tui_app *a);

typedef struct tui_action {
    int key;
    tui_action_fn fn;
    const char *keyname;    /* for help: "space", "<", "PgUp" ... NULL: not listed (an alias) */
    const char *what;
} tui_action;

/* The global actions, ended by a zero key. */
extern const tui_action tui_actions[];

/* Play speeds (x real time), from slowest. */
extern const double tui_speeds[];
extern const int tui_nspeeds;

/* One key: the prompt if open, else the help overlay, else the view, else
 * the global table.  Returns redraw flags. */
int tui_handle_key(tui_app *a, int ch);
/* A play tick: advance the cursor by the real time since the last tick
 * times the speed; stops at the end.  Returns redraw flags. */
int tui_play_tick(tui_app *a);
/* The state at start: the cursor at 0 (or the end, live), step and speed. */
void tui_app_init(tui_app *a, tui_model *m);

/* The line editor: returns 1 if the key edited, 0 if it is not an editing key. */
int tui_edit_key(tui_edit *e, int ch);
void tui_edit_set(tui_edit *e, const char *s);

#endif
