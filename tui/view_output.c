/* SPDX-License-Identifier: MIT */
/* view_output.c -- the Output view (key 6 or o): the program's stdout and
 * stderr, which `coscope run --tui` captures into FILE.out so they never
 * smear the screen.  The file is tailed: read from where the last poll
 * stopped (at most a megabyte a poll, so a program that floods its output
 * cannot stall the UI), from its last megabyte on first sight, and only the
 * last MAX_LINES lines are kept.  Every byte drawn went through
 * tr_sanitize: a program's output is as untrusted as its trace, and an
 * escape sequence in it must not reach the terminal.  A carriage return
 * starts the line again, as a terminal would show a progress line.
 */
#define _GNU_SOURCE
#include "view.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_LINES 20000
#define LINE_CAP 1024            /* longer lines are cut into pieces of this many bytes */
#define READ_MAX (1 << 20)
#define TAIL_START (1 << 20)

static char *lines[MAX_LINES];   /* a ring: the oldest at first */
static int nlines, first;
static long long dropped;        /* lines that fell off the ring's start */
static char part[LINE_CAP + 1];  /* the line being read (no newline yet) */
static int npart, cr;
static int fd = -1;
static off_t at;                 /* the file's offset read up to */
static int top, following = 1;   /* the first line shown; following: the last lines */
static int body_h = 1;

static void push_line(const char *raw, int n)
{
    char in[LINE_CAP + 1], out[LINE_CAP * 2 + 1];
    memcpy(in, raw, (size_t)n);
    in[n] = 0;
    tr_sanitize(out, sizeof out, in);
    char *s = strdup(out);
    if (!s) return;
    if (nlines == MAX_LINES) {
        free(lines[first]);
        lines[first] = s;
        first = (first + 1) % MAX_LINES;
        dropped++;
        if (!following && top > 0) top--;   /* the shown lines keep their place */
    } else {
        lines[(first + nlines++) % MAX_LINES] = s;
    }
}

static void take(const char *buf, ssize_t n)
{
    for (ssize_t i = 0; i < n; i++) {
        char c = buf[i];
        if (cr && c != '\n') npart = 0;   /* "\r" alone: the line starts again */
        cr = 0;
        if (c == '\r') {
            cr = 1;
            continue;
        }
        if (c == '\n') {
            push_line(part, npart);
            npart = 0;
            continue;
        }
        if (npart == LINE_CAP) {
            push_line(part, npart);
            npart = 0;
        }
        part[npart++] = c;
    }
}

int tui_output_poll(tui_app *a)
{
    if (!a->output_path[0]) return 0;
    if (fd < 0) {
        /* Non-blocking: a FIFO put there would block open() until a
         * writer came, and the keys with it.  Only a regular file is read
         * (a FIFO, a device or a directory is not output): never asked
         * again. */
        fd = open(a->output_path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0) return 0;
        struct stat st;
        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            close(fd);
            fd = -1;
            a->output_path[0] = 0;
            return 0;
        }
        if (st.st_size > TAIL_START) {
            /* A long output: its end, from the first whole line. */
            at = st.st_size - TAIL_START;
            char c;
            while (pread(fd, &c, 1, at) == 1 && c != '\n') at++;
            at++;
        }
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && st.st_size < at) {
        /* Truncated (the file was written again): start over. */
        at = 0;
        npart = 0;
        take("\n", 1);
    }
    static char buf[65536];
    int got = 0;
    for (off_t total = 0; total < READ_MAX;) {
        ssize_t n = pread(fd, buf, sizeof buf, at);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        take(buf, n);
        at += n;
        total += n;
        got = 1;
    }
    return got;
}

void tui_output_free(void)
{
    for (int i = 0; i < nlines; i++) free(lines[(first + i) % MAX_LINES]);
    nlines = first = 0;
    if (fd >= 0) close(fd);
    fd = -1;
}

/* The lines shown: the ring, then the line still being written. */
static int total_lines(void) { return nlines + (npart > 0); }

static const char *line_at(int i, char *tmp, size_t cap)
{
    if (i < nlines) return lines[(first + i) % MAX_LINES];
    char in[LINE_CAP + 1];
    memcpy(in, part, (size_t)npart);
    in[npart] = 0;
    tr_sanitize(tmp, cap, in);
    return tmp;
}

static void draw(tui_app *a, WINDOW *w)
{
    int h, wd;
    getmaxyx(w, h, wd);
    tui_output_poll(a);
    body_h = h - 1;
    if (!a->output_path[0]) {
        tui_put(w, 1, 2, 0, A_BOLD, "No captured output.");
        tui_put(w, 3, 2, 0, tui_attr(TUI_L_DIM), "`coscope run --tui -o FILE -- PROGRAM` captures the program's stdout and");
        tui_put(w, 4, 2, 0, tui_attr(TUI_L_DIM), "stderr into FILE.out and shows them here; `coscope tui FILE` shows FILE.out");
        tui_put(w, 5, 2, 0, tui_attr(TUI_L_DIM), "when it is there.");
        return;
    }
    int n = total_lines();
    if (following || top > n - body_h) top = n - body_h;
    if (top < 0) top = 0;
    char tmp[LINE_CAP * 2 + 1];
    for (int y = 0; y < body_h && top + y < n; y++) tui_put(w, y, 0, wd, A_NORMAL, line_at(top + y, tmp, sizeof tmp));
    if (n == 0) tui_put(w, 0, 0, 0, tui_attr(TUI_L_DIM), "(nothing yet)");
    char st[160];
    snprintf(st, sizeof st, "%d line%s%s  %s", n, n == 1 ? "" : "s",
             dropped ? " (the first ones dropped)" : "",
             following ? "following the end" : "scrolled (End or F follows)");
    int sw = tui_width(st);
    tui_put(w, h - 1, 0, wd - sw - 2, tui_attr(TUI_L_SECTION), a->output_path);
    tui_put(w, h - 1, wd - sw, sw, tui_attr(TUI_L_DIM), st);
}

static int key(tui_app *a, int ch)
{
    (void)a;
    int n = total_lines(), page = body_h > 1 ? body_h - 1 : 1, was = top, wasf = following;
    switch (ch) {
    case KEY_UP: case 'k': top--; following = 0; break;
    case KEY_DOWN: case 'j': top++; break;
    case KEY_PPAGE: top -= page; following = 0; break;
    case KEY_NPAGE: top += page; break;
    case KEY_HOME: case 'g': top = 0; following = 0; break;
    case KEY_END: case 'G': following = 1; break;
    default: return TUI_NOT_MINE;
    }
    if (top < 0) top = 0;
    if (top >= n - body_h) following = 1;   /* scrolled back down to the end: follow again */
    return top != was || following != wasf ? TUI_REDRAW_ALL : TUI_REDRAW_NONE;
}

/* F: follow the end, everywhere (the cursor at "now" while live). */
int tui_follow(tui_app *a)
{
    following = 1;
    if (a->info->recording || (a->live && !a->ls.finished)) {
        a->follow = 1;
        a->playing = 0;
        a->t = a->info->duration_ns;
        tui_msg(a, 0, "following the end");
    } else {
        tui_msg(a, 0, "the run has ended: nothing to follow (G: cursor to the end)");
    }
    return TUI_REDRAW_ALL;
}

static const char *const help[] = {
    "j k", "scroll (PgUp PgDn)",
    "g Home", "the first line",
    "G End F", "the last lines, following",
    NULL,
};

const tui_view tui_view_output = {
    "Output", draw, key, help,
    "j k PgUp PgDn scroll  g first  G End F follow the end  ? keys",
    NULL, NULL, NULL,
};
