/* SPDX-License-Identifier: MIT */
/* tui.h -- the terminal UI as the command line starts it: on a trace file
 * (`coscope tui FILE`), or on a program being recorded (`coscope run --tui`),
 * in which case the command that runs the program tells the UI how the
 * program is doing through tui_live. */
#ifndef TUI_TUI_H
#define TUI_TUI_H

#include <stdint.h>

/* How the program under `coscope run --tui` is doing.  Filled by the
 * command's recording side; read by the UI about ten times a second. */
typedef struct tui_live_status {
    int running;              /* the program has not ended yet */
    int finishing;            /* it ended and the tables are being finished */
    int finished;             /* the trace is complete */
    int64_t built, total;     /* finishing: events built of total */
    int exited, exit_code;    /* valid only if !running: it exited with exit_code ... */
    int signal;               /* ... or was killed by this signal (exited == 0) */
    uint64_t events;          /* events recorded so far */
    int64_t now_ns;           /* the trace's clock now: how far the recording has got */
    int64_t pid;
    const char *failure;      /* NULL, or why recording stopped */
    int attached;             /* coscope attach: running means attached; q and Ctrl-C detach, never stop it */
} tui_live_status;

/* The recording side of `coscope run --tui`.  The callbacks are called on
 * the UI's thread and must not block. */
typedef struct tui_live {
    const char *output_path;  /* the program's stdout and stderr, captured there: the Output view */
    void *ctx;
    void (*status)(void *ctx, tui_live_status *out);
    void (*stop)(void *ctx);  /* stop the program: SIGTERM, then SIGKILL if it lingers */
    void (*first_frame)(void *ctx); /* may be NULL: told once, when the first frame is on the screen */
} tui_live;

/* What the user chose when quitting a live session. */
enum tui_quit { TUI_QUIT_DONE, TUI_QUIT_STOP, TUI_QUIT_LET_RUN };

/* Open the trace at path and run the UI until the user quits.  live is
 * NULL for a trace file (replay; live if the trace is still being recorded
 * by someone else).  Problems opening the trace are printed as one line on
 * stderr before the screen is touched.  Returns the process exit status (0,
 * or 2 for a trace that cannot be opened); *quit (may be NULL) gets what the
 * user chose for a program still running. */
int tui_main(const char *path, const tui_live *live, int *quit);

/* `coscope tui ARGS`: argv starts at "tui"; returns the exit status. */
int tui_cmd(int argc, char **argv);

#endif
