/* SPDX-License-Identifier: MIT */
/* prompt.c -- the bottom line when it edits (see action.h): the one-line
 * editor, and what Enter does with each prompt -- filter the list (as one
 * types), go to a time or an event, run SQL (with an in-memory history),
 * search (`/`).  Apart from action.c, whose keys open it.
 */
#include "action.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CTRL(c) ((c) & 0x1f)
#define KEY_ESC 27

int tui_prompt_open(tui_app *a, int kind, const char *init)
{
    a->prompt = kind;
    tui_edit_set(&a->edit, init);
    a->msg[0] = 0;
    return TUI_REDRAW_BARS;
}

void tui_edit_set(tui_edit *e, const char *s)
{
    snprintf(e->buf, sizeof e->buf, "%s", s ? s : "");
    e->len = e->pos = (int)strlen(e->buf);
}

static int is_cont(char c) { return ((unsigned char)c & 0xc0) == 0x80; }

int tui_edit_key(tui_edit *e, int ch)
{
    switch (ch) {
    case KEY_LEFT:
        while (e->pos > 0 && is_cont(e->buf[--e->pos])) {}
        return 1;
    case KEY_RIGHT:
        if (e->pos < e->len) e->pos++;
        while (e->pos < e->len && is_cont(e->buf[e->pos])) e->pos++;
        return 1;
    case CTRL('a'): case KEY_HOME: e->pos = 0; return 1;
    case CTRL('e'): case KEY_END: e->pos = e->len; return 1;
    case CTRL('u'):
        memmove(e->buf, e->buf + e->pos, (size_t)(e->len - e->pos + 1));
        e->len -= e->pos;
        e->pos = 0;
        return 1;
    case CTRL('k'): e->len = e->pos; e->buf[e->len] = 0; return 1;
    case KEY_BACKSPACE: case 127: case CTRL('h'): {
        if (e->pos == 0) return 1;
        int from = e->pos;
        while (e->pos > 0 && is_cont(e->buf[--e->pos])) {}
        memmove(e->buf + e->pos, e->buf + from, (size_t)(e->len - from + 1));
        e->len -= from - e->pos;
        return 1;
    }
    case KEY_DC: {
        if (e->pos >= e->len) return 1;
        int to = e->pos + 1;
        while (to < e->len && is_cont(e->buf[to])) to++;
        memmove(e->buf + e->pos, e->buf + to, (size_t)(e->len - to + 1));
        e->len -= to - e->pos;
        return 1;
    }
    }
    /* Printable bytes, UTF-8 sequences arriving byte by byte included. */
    if (ch >= 0x20 && ch <= 0xff && ch != 0x7f) {
        if (e->len + 1 >= TUI_EDIT_CAP) return 1;
        memmove(e->buf + e->pos + 1, e->buf + e->pos, (size_t)(e->len - e->pos + 1));
        e->buf[e->pos++] = (char)ch;
        e->len++;
        return 1;
    }
    return 0;
}

/* SQL history, in memory for the session. */
#define HIST_MAX 64
static char *hist[HIST_MAX];
static int nhist, hist_at;

static void hist_add(const char *s)
{
    if (!*s || (nhist && !strcmp(hist[nhist - 1], s))) return;
    if (nhist == HIST_MAX) {
        free(hist[0]);
        memmove(hist, hist + 1, sizeof hist[0] * (HIST_MAX - 1));
        nhist--;
    }
    hist[nhist] = strdup(s);
    if (hist[nhist]) nhist++;
}

static int go_time(tui_app *a, const char *s)
{
    while (*s == ' ') s++;
    int64_t ts;
    if (*s == '#') {
        char *end;
        long long id = strtoll(s + 1, &end, 10);
        if (end == s + 1 || *end) {
            tui_msg(a, 1, "not an event id: %s", s);
            return TUI_REDRAW_BARS;
        }
        if (tui_model_event_time(a->m, id, &ts) < 0) {
            tui_msg(a, 1, "no event #%lld", id);
            return TUI_REDRAW_BARS;
        }
        tui_msg(a, 0, "event #%lld", id);
        return tui_jump(a, ts);
    }
    if (!*s) return TUI_REDRAW_BARS;
    if (tr_parse_time(s, &ts) < 0) {
        tui_msg(a, 1, "not a time: '%s' (try 1.5s, 230ms, 40us or #ID)", s);
        return TUI_REDRAW_BARS;
    }
    if (ts > a->info->duration_ns) tui_msg(a, 0, "the trace ends at %s", tui_fmt_time(a->info->duration_ns));
    return tui_jump(a, ts);
}

int tui_prompt_key(tui_app *a, int ch)
{
    int kind = a->prompt;
    if (ch == KEY_ESC) {
        a->prompt = TUI_P_NONE;
        if (kind == TUI_P_FILTER) a->filter[a->view][0] = 0;   /* Esc clears the filter */
        return TUI_REDRAW_ALL;
    }
    if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
        a->prompt = TUI_P_NONE;
        if (kind == TUI_P_FILTER) {
            snprintf(a->filter[a->view], TUI_FILTER_CAP, "%s", a->edit.buf);
            return TUI_REDRAW_ALL;
        }
        if (kind == TUI_P_TIME) return go_time(a, a->edit.buf) | TUI_REDRAW_BARS;
        if (kind == TUI_P_FIND) {
            if (a->edit.buf[0]) snprintf(a->find, sizeof a->find, "%s", a->edit.buf);
            return tui_find_next(a, 1);
        }
        hist_add(a->edit.buf);
        hist_at = nhist;
        return tui_sql_run(a, a->edit.buf) | TUI_REDRAW_ALL;
    }
    if (kind == TUI_P_SQL && (ch == KEY_UP || ch == KEY_DOWN)) {
        if (ch == KEY_UP && hist_at > 0) hist_at--;
        else if (ch == KEY_DOWN && hist_at < nhist) hist_at++;
        tui_edit_set(&a->edit, hist_at < nhist ? hist[hist_at] : "");
        return TUI_REDRAW_BARS;
    }
    if (!tui_edit_key(&a->edit, ch)) return TUI_REDRAW_NONE;
    if (kind == TUI_P_FILTER) {
        /* The list narrows as one types. */
        snprintf(a->filter[a->view], TUI_FILTER_CAP, "%s", a->edit.buf);
        return TUI_REDRAW_ALL;
    }
    return TUI_REDRAW_BARS;
}
