/* SPDX-License-Identifier: MIT */
/* editor.c -- from what the UI shows to the source (see action.h): `e`
 * opens the selection's line in the user's editor, as lazygit does, and
 * `y` copies "file:line" to the clipboard through the terminal (OSC 52,
 * which tmux takes with set-clipboard on).
 *
 * The location is the trace's text, and a trace may be hostile: the path
 * goes to the editor as one argv element through execvp, never through a
 * shell; a path starting with '-' (an option to the editor) or naming no
 * regular file is refused.  The editor variable is the user's own: split
 * at blanks ("code -w", "emacs -nw"), no shell either.
 */
#define _GNU_SOURCE
#include "action.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The selection's "file:line", or a message saying there is none. */
static int site(tui_app *a, char *buf, size_t cap)
{
    const tui_view *v = tui_view_get(a->view);
    int r = v->site ? v->site(a, buf, cap) : tui_task_site(a, a->sel_task, buf, cap);
    if (r < 0) tui_msg(a, 1, "no source line here: select a task, a warning or a line with one");
    return r;
}

/* "file:line" into its file and line (1 if none is given). */
static void split(const char *loc, char *file, size_t cap, long *line)
{
    snprintf(file, cap, "%s", loc);
    *line = 1;
    char *colon = strrchr(file, ':');
    if (!colon || !colon[1]) return;
    char *end;
    long l = strtol(colon + 1, &end, 10);
    if (*end || l <= 0) return;
    *colon = 0;
    *line = l;
}

#define MAX_ARGS 32

int tui_edit_site(tui_app *a)
{
    char loc[1024], file[1024];
    long line;
    if (site(a, loc, sizeof loc) < 0) return TUI_REDRAW_BARS;
    split(loc, file, sizeof file, &line);
    struct stat st;
    if (file[0] == '-') {
        tui_msg(a, 1, "not opened: the path '%s' starts with '-'", file);
        return TUI_REDRAW_BARS;
    }
    if (stat(file, &st) < 0 || !S_ISREG(st.st_mode)) {
        tui_msg(a, 1, "no file %s here (the trace names it as the program was built)", file);
        return TUI_REDRAW_BARS;
    }
    const char *ed = getenv("VISUAL");
    if (!ed || !*ed) ed = getenv("EDITOR");
    if (!ed || !*ed) ed = "vi";
    char edbuf[1024], plus[32];
    snprintf(edbuf, sizeof edbuf, "%s", ed);
    snprintf(plus, sizeof plus, "+%ld", line);
    char *argv[MAX_ARGS + 3];
    int argc = 0;
    for (char *save, *w = strtok_r(edbuf, " \t", &save); w && argc < MAX_ARGS; w = strtok_r(NULL, " \t", &save))
        argv[argc++] = w;
    if (!argc) argv[argc++] = "vi";
    argv[argc++] = plus;
    argv[argc++] = file;
    argv[argc] = NULL;

    /* The terminal is the editor's until it exits; Ctrl-C there is its
     * own, not a reason to quit the UI. */
    tui_mouse_off();
    def_prog_mode();
    endwin();
    struct sigaction ign = { .sa_handler = SIG_IGN }, old_int, old_quit;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGINT, &ign, &old_int);
    sigaction(SIGQUIT, &ign, &old_quit);
    int status = -1;
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGINT, SIG_DFL);
        signal(SIGQUIT, SIG_DFL);
        execvp(argv[0], argv);
        _exit(127);
    }
    if (pid > 0)
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGQUIT, &old_quit, NULL);
    reset_prog_mode();
    refresh();
    tui_mouse_on(a);
    if (pid < 0) tui_msg(a, 1, "could not start %s: %s", argv[0], strerror(errno));
    else if (WIFEXITED(status) && WEXITSTATUS(status) == 127) tui_msg(a, 1, "could not run %s ($VISUAL, $EDITOR)", argv[0]);
    else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) tui_msg(a, 0, "edited %s:%ld", file, line);
    else tui_msg(a, 1, "%s ended with status %d", argv[0], WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    /* The editor may have left the terminal another size. */
    return TUI_REDRAW_ALL | TUI_REDRAW_RESIZE;
}

static void base64(const unsigned char *in, size_t n, char *out)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
        out[o++] = b64[v >> 18 & 63];
        out[o++] = b64[v >> 12 & 63];
        out[o++] = i + 1 < n ? b64[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? b64[v & 63] : '=';
    }
    out[o] = 0;
}

int tui_copy_site(tui_app *a)
{
    char loc[1024], seq[1500];
    if (site(a, loc, sizeof loc) < 0) return TUI_REDRAW_BARS;
    /* Base64 carries any byte of the text; the terminal decodes it into
     * the clipboard, never acts on it. */
    char enc[((sizeof loc + 2) / 3) * 4 + 1];
    base64((const unsigned char *)loc, strlen(loc), enc);
    int n = snprintf(seq, sizeof seq, "\033]52;c;%s\a", enc);
    if (n > 0 && (size_t)n < sizeof seq) {
        fflush(stdout);
        if (write(STDOUT_FILENO, seq, (size_t)n) != n) {
            tui_msg(a, 1, "could not write to the terminal: %s", strerror(errno));
            return TUI_REDRAW_BARS;
        }
    }
    tui_msg(a, 0, "copied %s", loc);
    return TUI_REDRAW_BARS;
}
