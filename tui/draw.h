/* SPDX-License-Identifier: MIT */
/* draw.h -- how the TUI puts things on the terminal: colours and attributes
 * (by task state; monochrome attributes when the terminal has no colours or
 * NO_COLOR is set), line drawing and glyphs (Unicode only in a UTF-8
 * locale, ASCII otherwise), text fitted to a width in display columns, a
 * scrollable list with its keys, table headers with the sort arrow,
 * sparklines and bars, and the durations and times people read.
 *
 * Every view includes this first: it brings in wide-character ncurses.
 */
#ifndef TUI_DRAW_H
#define TUI_DRAW_H

#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <curses.h>
#include <stddef.h>
#include <stdint.h>

#include "../tracer/fmt.h"

/* Looks, by role.  tui_attr() gives the attribute for one. */
enum tui_look {
    TUI_L_NORMAL,
    TUI_L_RUNNING, TUI_L_READY, TUI_L_WAITING, TUI_L_DONE, TUI_L_FAILED, TUI_L_CANCELLED, TUI_L_UNBORN,
    TUI_L_HEADER,      /* table headers */
    TUI_L_TITLE,       /* the top line */
    TUI_L_TAB,         /* the current view's tab */
    TUI_L_STATUS,      /* the status line */
    TUI_L_SELECTED,    /* the selected row */
    TUI_L_CURSOR,      /* the row / mark at the time cursor */
    TUI_L_DIM,         /* secondary text: locations, stacks */
    TUI_L_ERROR,
    TUI_L_WARN,        /* warnings, refused waits, cycles */
    TUI_L_SECTION,     /* section titles in the detail views */
    TUI_L_BAR,         /* histogram bars, sparklines */
    /* The timeline's waits, by what they wait on (running is TUI_L_RUNNING). */
    TUI_L_W_SLEEP, TUI_L_W_LOCK, TUI_L_W_SEM, TUI_L_W_QUEUE, TUI_L_W_EVENT, TUI_L_W_TASK, TUI_L_W_IO,
    TUI_L_W_THREAD, TUI_L_W_OTHER,
    TUI_L_COUNT
};

/* Glyphs: UTF-8 or ASCII, chosen once by tui_draw_init. */
typedef struct tui_glyphs {
    const char *tee, *corner, *vbar, *blank;   /* tree: "├─ " "└─ " "│  " "   " */
    const char *arrow;                         /* "→" / "->" */
    const char *cycle;                         /* "↺" / "<-" */
    const char *up, *down;                     /* sort direction */
    const char *play, *pause;
    const char *hline;                         /* "─" / "-" */
    const char *full;                          /* a full bar cell */
    const char *const *spark;                  /* 8 levels, low to high */
    const char *mark;                          /* the cursor's mark in a sparkline */
} tui_glyphs;

extern const tui_glyphs *tui_g;
extern int tui_utf8;      /* the locale's codeset is UTF-8 */
extern int tui_colour;    /* colours are in use */

/* After initscr: pick glyphs (by nl_langinfo(CODESET)) and colours. */
void tui_draw_init(void);
/* Only the UTF-8 test, before initscr. */
int tui_locale_utf8(void);

int tui_attr(int look);
/* The look of a task state (enum tui_state). */
int tui_state_look(int state);

/* Text s at (y, x), at most width display columns, cut with '~'; bytes a
 * terminal could act on never reach it (non-ASCII shown as '?' outside
 * UTF-8).  Returns the columns written.  width <= 0: up to the edge. */
int tui_put(WINDOW *w, int y, int x, int width, int attr, const char *s);
/* The same, right-aligned in width columns. */
int tui_put_right(WINDOW *w, int y, int x, int width, int attr, const char *s);
/* printf into a buffer, then tui_put. */
int tui_putf(WINDOW *w, int y, int x, int width, int attr, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* A whole row in attr (the selection bar), from x to the edge. */
void tui_fill(WINDOW *w, int y, int x, int attr);
/* Display columns of s. */
int tui_width(const char *s);
/* Wrapping at words: how many bytes of s make its first line of at most
 * width columns, ending before a space (a word longer than the line is
 * cut where it must); *next gets where the next line starts (spaces
 * skipped). */
size_t tui_wrap(const char *s, int width, const char **next);

/* A scrollable list: the selected row and the first row shown. */
typedef struct tui_list {
    int sel, top, n;
} tui_list;
/* Arrows, j/k, PgUp/PgDn, Home/End: redraw flags, TUI_NOT_MINE (view.h) if
 * ch is none of them.  height is the rows shown. */
int tui_list_key(tui_list *l, int ch, int height);
/* Clamp sel to [0, n) and scroll so it is shown in height rows. */
void tui_list_fit(tui_list *l, int height);

/* A table column: title, width (0: what is left), right-aligned. */
typedef struct tui_column {
    const char *title;
    int width;
    int right;
} tui_column;
/* Lay columns out in total columns (one space between); columns with width
 * 0 share what is left; a column that does not fit gets width 0.  Writes the
 * x of each into xs. */
void tui_columns_layout(tui_column *c, int n, int total, int *xs);
/* The header row, the sort column marked with its direction (sort < 0: none). */
void tui_columns_header(WINDOW *w, int y, const tui_column *c, int n, const int *xs, int sort, int desc);

/* Times.  tui_fmt_time: the cursor's time with microsecond precision
 * ("1.234567ms", "2.500000s").  tui_fmt_dur: tr_fmt_dur into a static
 * ring of buffers, for use in one printf. */
const char *tui_fmt_time(int64_t ns);
const char *tui_fmt_dur(int64_t ns);
/* A histogram bucket's label ("<1us", "2-4ms", ">=8s"). */
const char *tui_bucket_label(int i, char *buf, size_t cap);

/* A sparkline of vals (-1: unknown) over width cells from x; the cell
 * cursor_cell (-1: none) drawn in reverse. */
void tui_sparkline(WINDOW *w, int y, int x, const int64_t *vals, int n, int64_t max, int cursor_cell);
/* A horizontal bar of v/max over width cells. */
void tui_bar(WINDOW *w, int y, int x, int width, int64_t v, int64_t max);

/* A box with a title over part of the screen (the help overlay); the
 * caller draws into the returned window and deletes it. */
WINDOW *tui_popup(int h, int wd, const char *title);

#endif
