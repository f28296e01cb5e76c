/* SPDX-License-Identifier: MIT */
/* view.h -- what every view of the TUI is, and the state they share.
 *
 * A view draws the model at the cursor into a WINDOW and handles the keys
 * that mean something in it (moving its selection, Enter, sorting).  Keys a
 * view does not take fall through to the global actions (action.c), so
 * `q`, `1`-`5`, the cursor keys and the prompts work the same everywhere.
 * Views only read the model (model.h) and the shared tui_app below; each
 * keeps its own scroll position and selection in statics of its file.
 */
#ifndef TUI_VIEW_H
#define TUI_VIEW_H

#include "draw.h"
#include "model.h"
#include "tui.h"
#include <stdint.h>

/* The views, in the order of the tabs; the first six have their number key. */
enum tui_view_id {
    TUI_V_TASKS,       /* 1 */
    TUI_V_RESOURCES,   /* 2 */
    TUI_V_WARNINGS,    /* 3 */
    TUI_V_TIMELINE,    /* 4 */
    TUI_V_TREE,        /* 5 */
    TUI_V_OUTPUT,      /* 6: the program's stdout and stderr (coscope run --tui) */
    TUI_V_DETAIL,      /* Enter on a task */
    TUI_V_RESDETAIL,   /* Enter on a resource */
    TUI_V_SQL,         /* the result of the `:` prompt */
    TUI_V_COUNT
};
#define TUI_V_TOP 6    /* views 0..5 are the numbered tabs */

/* What the bottom line is editing. */
enum tui_prompt { TUI_P_NONE, TUI_P_FILTER, TUI_P_TIME, TUI_P_SQL, TUI_P_FIND };

#define TUI_EDIT_CAP 512
/* A one-line editor (action.c). */
typedef struct tui_edit {
    char buf[TUI_EDIT_CAP];
    int len, pos;          /* bytes; pos is always on a character boundary */
} tui_edit;

/* Where Esc goes back to. */
typedef struct tui_place {
    int view, task, res;
} tui_place;

#define TUI_BACK_MAX 32
#define TUI_FILTER_CAP TUI_EDIT_CAP
#define TUI_JUMPS_MAX 16       /* the cursor history (`): the times before the last jumps */

/* The state the views, the actions and the main loop share. */
typedef struct tui_app {
    tui_model *m;
    const tui_info *info;     /* re-read after every tui_model_refresh */

    int64_t t;                /* the time cursor, in [0, info->duration_ns] */
    int64_t step;             /* what [ and ] move it by (a power of ten) */
    int follow;               /* live: the cursor stays at the end until moved */
    int playing;
    int speed;                /* index into tui_speeds */
    int64_t play_last_ns;     /* monotonic time of the last play tick */

    int view;                 /* enum tui_view_id */
    int last_top;             /* the last numbered view shown (Tab goes on from it) */
    tui_place back[TUI_BACK_MAX];
    int nback;

    int sel_task;             /* the selected task (index), -1: none: < > and :task use it */
    int detail_task;          /* the task the Detail view shows */
    int detail_res;           /* the resource the resource detail shows */

    int help;                 /* the help overlay is up */
    int prompt;               /* enum tui_prompt */
    tui_edit edit;
    char filter[TUI_V_COUNT][TUI_FILTER_CAP];   /* per view, "" for none */
    char find[TUI_FILTER_CAP];  /* the last search (`/`, n, N), "" none */
    int hide_done;            /* H: tasks ended at the cursor are left out of Tasks and the Timeline */
    int64_t jumps[TUI_JUMPS_MAX]; /* where the cursor was before each jump, the latest last */
    int njumps;
    int tab_x[TUI_V_TOP + 1]; /* row 0: tab i spans columns [tab_x[i], tab_x[i + 1]) (mouse clicks) */
    int mouse;                /* the terminal reports the mouse to us (off: NO_MOUSE, --no-mouse) */

    char msg[256];            /* one-shot message for the bottom line, "" none */
    int msg_err;
    int too_small;

    /* Live (tui.c): the program under `coscope run --tui`, NULL for a file. */
    const tui_live *live;
    tui_live_status ls;       /* its state at the last tick */
    int asking;               /* quitting while it runs: the stop / let run overlay is up */
    int quit_choice;          /* enum tui_quit, what the overlay chose */
    double rate;              /* events per second over the last second */
    char output_path[4200];   /* the program's captured output, "" if none */
    const char *path;         /* the trace file */
    int final_done;           /* live: the finished trace has been read whole */
} tui_app;

/* Redraw flags actions and views return (bits). */
enum {
    TUI_REDRAW_NONE = 0,
    TUI_REDRAW_VIEW = 1,      /* the view's window */
    TUI_REDRAW_BARS = 2,      /* title, bottom line, status line */
    TUI_REDRAW_ALL = 3,
    TUI_REDRAW_RESIZE = 4,    /* windows to be made again */
    TUI_QUIT = 8,
    TUI_NOT_MINE = 16         /* a view's key handler: not a key of this view */
};

/* A mouse button going down or up, in the view window's coordinates
 * (mouse.c reads it; the wheel never reaches a view: it moves the
 * selection as j/k do). */
typedef struct tui_mouse {
    int y, x;
    int button;               /* 0 left, 1 middle, 2 right */
    int press;                /* 1 down, 0 up (its button is the one last pressed) */
} tui_mouse;

typedef struct tui_view {
    const char *name;         /* for the tabs and the help overlay */
    /* Draw into w (its whole area, erased first by the caller). */
    void (*draw)(tui_app *a, WINDOW *w);
    /* A key while the view is shown: redraw flags, or TUI_NOT_MINE. */
    int (*key)(tui_app *a, int ch);
    /* Its own keys for the help overlay: pairs "key", "what", NULL-ended. */
    const char *const *help;
    /* One line of hints for the bottom line. */
    const char *hint;
    /* The rest may be NULL. */
    /* Search (`/`, n, N): select the first row after the selection (dir 1)
     * or before it (dir -1), wrapping, whose task is marked in match (a
     * byte per task index).  Returns 0 if none is, 1 if found, 2 if found
     * after wrapping round. */
    int (*find)(tui_app *a, const unsigned char *match, int dir);
    /* A button down or up in the view: redraw flags, or TUI_NOT_MINE. */
    int (*mouse)(tui_app *a, const tui_mouse *ev);
    /* The source line of the selection ("file:line": an await, spawn or
     * warning site) into buf for `e` and `y`: 0, or -ENOENT if it names
     * none.  NULL: the selected task's (tui_task_site). */
    int (*site)(tui_app *a, char *buf, size_t cap);
} tui_view;

extern const tui_view tui_view_tasks, tui_view_resources, tui_view_warnings, tui_view_timeline, tui_view_tree,
    tui_view_output, tui_view_detail, tui_view_resdetail, tui_view_sql;
/* By enum tui_view_id. */
const tui_view *tui_view_get(int id);

/* view_range.c (tui_range_show, action.h): the range report the Timeline
 * draws in its place while active, and its keys (Esc closes it). */
int tui_range_active(void);
void tui_range_draw(tui_app *a, WINDOW *w);
int tui_range_key(tui_app *a, int ch);

/* Navigation (nav.c): open a view, remembering where we were for Esc. */
int tui_open_task(tui_app *a, int task_idx);
int tui_open_resource(tui_app *a, int res_idx);
int tui_go_view(tui_app *a, int view);   /* a numbered view: forgets the way back */
int tui_back(tui_app *a);
/* Move the cursor (clamped to the trace); stops playing and following. */
int tui_set_cursor(tui_app *a, int64_t t);
/* The same as a jump (t, g, G, a warning's Enter, an event's): where the
 * cursor was is remembered for ` (tui_jump_back). */
int tui_jump(tui_app *a, int64_t t);
int tui_jump_back(tui_app *a);
/* Set the bottom line's message. */
void tui_msg(tui_app *a, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* shown.c: which tasks the lists show.  tui_task_hidden: H hides task
 * idx (it ended at the cursor).  tui_tasks_matching: a byte per task index,
 * 1 where the task matches pattern as the Tasks filter has it (its name,
 * its state at the cursor, its spawn site); valid until the next call.
 * tui_tasks_kept: for a tree of tasks (the Timeline), a byte per task
 * index: 1 shown (matches view's filter, not hidden), 2 shown only as the
 * ancestor of one; NULL when nothing is left out.  tui_tree_kept: the same
 * for the Await tree's rows into keep (n bytes): 0 if all are kept. */
int tui_task_hidden(tui_app *a, int idx);
const unsigned char *tui_tasks_matching(tui_app *a, const char *pattern);
const unsigned char *tui_tasks_kept(tui_app *a, int view);
int tui_tree_kept(tui_app *a, const tui_tree_row *rows, size_t n, unsigned char *keep);

/* site.c: the selected task's site (where it waits at the cursor, else
 * where it was spawned): 0, or -ENOENT. */
int tui_task_site(tui_app *a, int idx, char *buf, size_t cap);

/* view_sql.c: run a query and show it (the `:` prompt's Enter). */
int tui_sql_run(tui_app *a, const char *sql);
/* live.c: one tick of following a live trace (~100 ms): redraw flags. */
int tui_live_tick(tui_app *a);
/* live.c: CLOCK_MONOTONIC in ns. */
int64_t tui_mono_ns(void);
/* live.c: finishing a trace before the screen is ours: one rewriting
 * line on stderr (a terminal only, ten times a second at most). */
void tui_progress(void *ctx, int64_t done, int64_t total);

/* view_sql.c: free the result at exit. */
void tui_sql_free(void);

/* view_output.c: read what the program wrote since the last call (the
 * file is tailed, never read whole); 1 if there is more to show. */
int tui_output_poll(tui_app *a);
/* view_output.c: free the lines kept at exit. */
void tui_output_free(void);
/* Follow the end again (live): the cursor back to "now", the Output view to
 * its last line. */
int tui_follow(tui_app *a);

#endif
