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

/* prompt.c: the bottom line's prompt.  tui_prompt_open starts editing
 * init for a prompt (enum tui_prompt); tui_prompt_key takes every key
 * while it is open (Enter acts, Esc closes).  The line editor: returns 1
 * if the key edited, 0 if it is not an editing key. */
int tui_prompt_open(tui_app *a, int kind, const char *init);
int tui_prompt_key(tui_app *a, int ch);
int tui_edit_key(tui_edit *e, int ch);
void tui_edit_set(tui_edit *e, const char *s);

/* search.c: select the next (dir 1) or previous (dir -1) row whose task
 * matches a->find, wrapping, in the view shown (tui_view.find); says on
 * the message line when nothing matches or the search wrapped. */
int tui_find_next(tui_app *a, int dir);

/* editor.c: `e` opens the selection's source line (tui_view.site) in
 * $VISUAL, $EDITOR or vi as `EDITOR +LINE FILE`, the screen given to it
 * until it exits; `y` copies "file:line" to the terminal's clipboard
 * (OSC 52).  The path comes from the trace: it is never given to a shell,
 * and one that starts with '-' or names no file is refused with a
 * message. */
int tui_edit_site(tui_app *a);
int tui_copy_site(tui_app *a);

/* mouse.c: the terminal's mouse reports (SGR, xterm's 1006 mode), unless
 * NO_MOUSE is set or off is nonzero.  tui_mouse_on turns them on (after
 * initscr, and again after the editor), tui_mouse_off turns them off
 * (before endwin; async-signal-safe, for the crash handler).
 * TUI_KEY_MOUSE is the key their start arrives as; tui_mouse_key reads the
 * rest and acts: a click on a tab shows its view, a button in the view
 * goes to the view (tui_view.mouse), the wheel moves the selection. */
#define TUI_KEY_MOUSE (KEY_MAX + 1)
void tui_mouse_init(tui_app *a, int off);
void tui_mouse_on(tui_app *a);
void tui_mouse_off(void);
int tui_mouse_key(tui_app *a, WINDOW *in);

/* view_range.c: where time went over [from, to) (either order; clamped to
 * the run): shown in the Timeline's place until Esc -- per loop busy and
 * idle, per task busy, idle and waiting by kind.  The Timeline's `v`
 * marks such a range with the cursor; a mouse drag may call it too.
 * Returns redraw flags (a message if the range is empty). */
int tui_range_show(tui_app *a, int64_t from, int64_t to);

#endif
