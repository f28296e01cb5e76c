/* SPDX-License-Identifier: MIT */
/* draw.c -- the TUI's drawing primitives (see draw.h): looks by role,
 * glyphs by locale, text fitted in display columns, lists, table headers,
 * sparklines and bars, popups, and times for people.
 */
#define _GNU_SOURCE   /* wcwidth */
#include "draw.h"
#include "view.h"
#include <langinfo.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wchar.h>

int tui_utf8, tui_colour;

static const char *const spark_utf8[8] = { "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" };
static const char *const spark_ascii[8] = { " ", ".", ":", "-", "=", "+", "*", "#" };

static const tui_glyphs glyphs_utf8 = {
    "├─ ", "└─ ", "│  ", "   ", "→", "↺", "▲", "▼", "▶", "❚❚", "─", "█", spark_utf8, "┃",
};
static const tui_glyphs glyphs_ascii = {
    "|- ", "`- ", "|  ", "   ", "->", "<-", "^", "v", ">", "||", "-", "#", spark_ascii, "|",
};
const tui_glyphs *tui_g = &glyphs_ascii;

static int looks[TUI_L_COUNT];

int tui_locale_utf8(void)
{
    const char *cs = nl_langinfo(CODESET);
    return cs && (!strcasecmp(cs, "UTF-8") || !strcasecmp(cs, "utf8"));
}

void tui_draw_init(void)
{
    tui_utf8 = tui_locale_utf8();
    tui_g = tui_utf8 ? &glyphs_utf8 : &glyphs_ascii;
    const char *nc = getenv("NO_COLOR");
    tui_colour = has_colors() && !(nc && *nc);
    if (tui_colour) {
        start_color();
        use_default_colors();
        /* pair: fg, bg (-1: the terminal's default) */
        static const short pairs[][2] = {
            { 0, 0 },                        /* 0 unused */
            { COLOR_GREEN, -1 },             /* 1 running */
            { COLOR_CYAN, -1 },              /* 2 ready */
            { COLOR_YELLOW, -1 },            /* 3 waiting */
            { COLOR_RED, -1 },               /* 4 failed, errors */
            { COLOR_MAGENTA, -1 },           /* 5 cancelled */
            { COLOR_BLACK, COLOR_CYAN },     /* 6 title, status */
            { COLOR_BLACK, COLOR_GREEN },    /* 7 current tab */
            { COLOR_BLUE, -1 },              /* 8 sections */
        };
        for (short i = 1; i < (short)(sizeof pairs / sizeof pairs[0]); i++) init_pair(i, pairs[i][0], pairs[i][1]);
        looks[TUI_L_NORMAL] = A_NORMAL;
        looks[TUI_L_RUNNING] = COLOR_PAIR(1) | A_BOLD;
        looks[TUI_L_READY] = COLOR_PAIR(2);
        looks[TUI_L_WAITING] = COLOR_PAIR(3);
        looks[TUI_L_DONE] = A_DIM;
        looks[TUI_L_FAILED] = COLOR_PAIR(4) | A_BOLD;
        looks[TUI_L_CANCELLED] = COLOR_PAIR(5);
        looks[TUI_L_UNBORN] = A_DIM;
        looks[TUI_L_HEADER] = A_BOLD | A_UNDERLINE;
        looks[TUI_L_TITLE] = COLOR_PAIR(6);
        looks[TUI_L_TAB] = COLOR_PAIR(7) | A_BOLD;
        looks[TUI_L_STATUS] = COLOR_PAIR(6);
        looks[TUI_L_SELECTED] = A_REVERSE;
        looks[TUI_L_CURSOR] = A_BOLD;
        looks[TUI_L_DIM] = A_DIM;
        looks[TUI_L_ERROR] = COLOR_PAIR(4) | A_BOLD;
        looks[TUI_L_WARN] = COLOR_PAIR(4);
        looks[TUI_L_SECTION] = COLOR_PAIR(8) | A_BOLD;
        looks[TUI_L_BAR] = COLOR_PAIR(2);
        /* The timeline's waits: a colour each; with only eight, I/O and
         * threads share yellow and cyan with events and queues, told apart
         * by their glyphs (and bold). */
        int many = COLORS >= 256;
        static const short waits[][2] = {
            { COLOR_BLUE, COLOR_BLUE }, { COLOR_RED, COLOR_RED }, { COLOR_MAGENTA, COLOR_MAGENTA },
            { COLOR_CYAN, COLOR_CYAN }, { COLOR_YELLOW, COLOR_YELLOW }, { -1, -1 },
            { COLOR_YELLOW, 208 }, { COLOR_CYAN, 38 }, { COLOR_WHITE, 244 },
        };
        for (int k = 0; k < 9; k++) {
            init_pair((short)(9 + k), many ? waits[k][1] : waits[k][0], -1);
            looks[TUI_L_W_SLEEP + k] = COLOR_PAIR(9 + k);
        }
        if (!many) looks[TUI_L_W_IO] |= A_BOLD, looks[TUI_L_W_THREAD] |= A_BOLD, looks[TUI_L_W_OTHER] = A_DIM;
    } else {
        /* Monochrome: states told apart by weight and underline. */
        looks[TUI_L_NORMAL] = A_NORMAL;
        looks[TUI_L_RUNNING] = A_BOLD;
        looks[TUI_L_READY] = A_NORMAL;
        looks[TUI_L_WAITING] = A_UNDERLINE;
        looks[TUI_L_DONE] = A_DIM;
        looks[TUI_L_FAILED] = A_BOLD | A_UNDERLINE;
        looks[TUI_L_CANCELLED] = A_DIM | A_UNDERLINE;
        looks[TUI_L_UNBORN] = A_DIM;
        looks[TUI_L_HEADER] = A_BOLD | A_UNDERLINE;
        looks[TUI_L_TITLE] = A_REVERSE;
        looks[TUI_L_TAB] = A_BOLD;
        looks[TUI_L_STATUS] = A_REVERSE;
        looks[TUI_L_SELECTED] = A_REVERSE;
        looks[TUI_L_CURSOR] = A_BOLD;
        looks[TUI_L_DIM] = A_DIM;
        looks[TUI_L_ERROR] = A_BOLD;
        looks[TUI_L_WARN] = A_BOLD;
        looks[TUI_L_SECTION] = A_BOLD;
        looks[TUI_L_BAR] = A_NORMAL;
        /* The timeline's waits have glyphs of their own. */
        for (int k = TUI_L_W_SLEEP; k <= TUI_L_W_OTHER; k++) looks[k] = A_NORMAL;
        looks[TUI_L_W_OTHER] = A_DIM;
    }
}

int tui_attr(int look)
{
    return look >= 0 && look < TUI_L_COUNT ? looks[look] : (int)A_NORMAL;
}

int tui_state_look(int state)
{
    switch (state) {
    case TUI_RUNNING: return TUI_L_RUNNING;
    case TUI_READY: return TUI_L_READY;
    case TUI_WAITING: return TUI_L_WAITING;
    case TUI_DONE: return TUI_L_DONE;
    case TUI_FAILED: return TUI_L_FAILED;
    case TUI_CANCELLED: return TUI_L_CANCELLED;
    case TUI_UNBORN: return TUI_L_UNBORN;
    default: return TUI_L_NORMAL;
    }
}

/* ---- text --------------------------------------------------------------- */

/* The next character of s: its length in bytes and its display width.
 * Outside UTF-8 every non-ASCII byte is one '?'.  Invalid sequences (the
 * model sanitizes, so only from our own bugs) count as one '?'. */
static size_t next_char(const char *s, int *cols, int *bad)
{
    unsigned char c = (unsigned char)*s;
    *bad = 0;
    if (c < 0x80) {
        *cols = 1;
        if (c < 0x20 || c == 0x7f) *bad = 1;
        return 1;
    }
    if (!tui_utf8) {
        *cols = 1;
        *bad = 1;
        return 1;
    }
    mbstate_t st;
    memset(&st, 0, sizeof st);
    wchar_t wc;
    size_t n = mbrtowc(&wc, s, strlen(s), &st);
    if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
        *cols = 1;
        *bad = 1;
        return 1;
    }
    int wd = wcwidth(wc);
    if (wd < 0) {
        *cols = 1;
        *bad = 1;
        return n;
    }
    *cols = wd;
    return n;
}

size_t tui_wrap(const char *s, int width, const char **next)
{
    const char *p = s, *brk = NULL;
    int cols = 0;
    while (*p) {
        const char *q = p + 1;
        while (((unsigned char)*q & 0xc0) == 0x80) q++;
        char one[8];
        size_t n = (size_t)(q - p) < sizeof one ? (size_t)(q - p) : sizeof one - 1;
        memcpy(one, p, n);
        one[n] = 0;
        int cw = tui_width(one);
        if (cols + cw > width) break;
        if (*p == ' ') brk = p;
        cols += cw;
        p = q;
    }
    if (*p == ' ') brk = p;            /* the line ends right at a space */
    if (*p && brk && brk > s) p = brk; /* else all of it fits, or one word is longer than the line */
    size_t len = (size_t)(p - s);
    while (*p == ' ') p++;
    *next = p;
    return len;
}

int tui_width(const char *s)
{
    /* On a UTF-8 terminal, the columns the report and coscope sql count
     * (tr_width, tracer/fmt.c), so the three align alike. */
    if (tui_utf8) return tr_width(s);
    int total = 0, cols, bad;
    while (*s) {
        s += next_char(s, &cols, &bad);
        total += cols;
    }
    return total;
}

int tui_put(WINDOW *w, int y, int x, int width, int attr, const char *s)
{
    int maxy, maxx;
    getmaxyx(w, maxy, maxx);
    if (y < 0 || y >= maxy || x < 0 || x >= maxx || !s) return 0;
    if (width <= 0 || x + width > maxx) width = maxx - x;
    int full = tui_width(s) > width;   /* then the last column is the '~' */
    int room = full ? width - 1 : width;
    int used = 0, cols, bad;
    wattrset(w, attr);
    wmove(w, y, x);
    while (*s) {
        size_t n = next_char(s, &cols, &bad);
        if (used + cols > room) break;
        if (bad) waddch(w, '?');
        else waddnstr(w, s, (int)n);
        used += cols;
        s += n;
    }
    if (full && used < width) {
        waddch(w, '~');
        used++;
    }
    wattrset(w, A_NORMAL);
    return used;
}

int tui_put_right(WINDOW *w, int y, int x, int width, int attr, const char *s)
{
    int n = tui_width(s);
    if (n < width) x += width - n;
    return tui_put(w, y, x, n < width ? n : width, attr, s);
}

int tui_putf(WINDOW *w, int y, int x, int width, int attr, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return tui_put(w, y, x, width, attr, buf);
}

void tui_fill(WINDOW *w, int y, int x, int attr)
{
    int maxy, maxx;
    getmaxyx(w, maxy, maxx);
    if (y < 0 || y >= maxy) return;
    mvwchgat(w, y, x, maxx - x, (attr_t)attr & ~A_COLOR, (short)PAIR_NUMBER(attr), NULL);
}

/* ---- lists -------------------------------------------------------------- */

int tui_list_key(tui_list *l, int ch, int height)
{
    int page = height > 1 ? height - 1 : 1;
    int old = l->sel;
    switch (ch) {
    case KEY_UP: case 'k': l->sel--; break;
    case KEY_DOWN: case 'j': l->sel++; break;
    case KEY_PPAGE: l->sel -= page; break;
    case KEY_NPAGE: l->sel += page; break;
    case KEY_HOME: l->sel = 0; break;
    case KEY_END: l->sel = l->n - 1; break;
    default: return TUI_NOT_MINE;
    }
    tui_list_fit(l, height);
    return l->sel != old ? TUI_REDRAW_VIEW : TUI_REDRAW_NONE;
}

void tui_list_fit(tui_list *l, int height)
{
    if (height < 1) height = 1;
    if (l->sel >= l->n) l->sel = l->n - 1;
    if (l->sel < 0) l->sel = 0;
    if (l->top > l->sel) l->top = l->sel;
    if (l->sel >= l->top + height) l->top = l->sel - height + 1;
    if (l->top > l->n - height) l->top = l->n - height;
    if (l->top < 0) l->top = 0;
}

/* ---- tables ------------------------------------------------------------- */

void tui_columns_layout(tui_column *c, int n, int total, int *xs)
{
    int fixed = 0, flex = 0;
    for (int i = 0; i < n; i++) {
        if (c[i].width > 0) fixed += c[i].width + 1;
        else flex++;
    }
    int left = total - fixed;
    int share = flex ? (left - flex) / flex : 0;
    int x = 0;
    for (int i = 0; i < n; i++) {
        int wd = c[i].width > 0 ? c[i].width : share;
        if (x + wd > total) wd = total - x;
        if (wd < 0) wd = 0;
        c[i].width = wd;
        xs[i] = x;
        x += wd + 1;
    }
}

void tui_columns_header(WINDOW *w, int y, const tui_column *c, int n, const int *xs, int sort, int desc)
{
    int attr = tui_attr(TUI_L_HEADER);
    tui_fill(w, y, 0, attr);
    for (int i = 0; i < n; i++) {
        if (c[i].width <= 0) continue;
        char t[64];
        if (i == sort) snprintf(t, sizeof t, "%s%s", c[i].title, desc ? tui_g->down : tui_g->up);
        else snprintf(t, sizeof t, "%s", c[i].title);
        if (c[i].right) tui_put_right(w, y, xs[i], c[i].width, attr, t);
        else tui_put(w, y, xs[i], c[i].width, attr, t);
    }
}

/* ---- times -------------------------------------------------------------- */

const char *tui_fmt_time(int64_t ns)
{
    static char buf[4][32];
    static int k;
    char *b = buf[k++ & 3];
    if (ns < 0) ns = 0;
    if (ns < 1000) snprintf(b, 32, "%lldns", (long long)ns);
    else if (ns < 1000000) snprintf(b, 32, "%.3fus", ns / 1e3);
    else if (ns < 1000000000) snprintf(b, 32, "%.6fms", ns / 1e6);
    else snprintf(b, 32, "%.6fs", ns / 1e9);
    return b;
}

const char *tui_fmt_dur(int64_t ns)
{
    static char buf[8][TR_DUR_LEN];
    static int k;
    return tr_fmt_dur(buf[k++ & 7], ns);
}

/* 2^i microseconds, short: "512us", "1ms", "16s" (powers of two read
 * rounded down to the unit above, as people say "1ms" for 1024us). */
static void us_short(char *b, size_t cap, int64_t us)
{
    if (us < 1000) snprintf(b, cap, "%lldus", (long long)us);
    else if (us < 1000000) snprintf(b, cap, "%lldms", (long long)(us / 1000));
    else snprintf(b, cap, "%llds", (long long)(us / 1000000));
}

const char *tui_bucket_label(int i, char *buf, size_t cap)
{
    char lo[32], hi[32];
    if (i <= 0) {
        snprintf(buf, cap, "<1us");
        return buf;
    }
    us_short(lo, sizeof lo, (int64_t)1 << (i - 1));
    if (i >= TUI_HIST_BUCKETS - 1) {
        snprintf(buf, cap, ">=%s", lo);
        return buf;
    }
    us_short(hi, sizeof hi, (int64_t)1 << i);
    /* "2-4ms" when both read in the same unit, "512us-1ms" when not */
    size_t ll = strlen(lo), lh = strlen(hi);
    size_t ul = ll, uh = lh;
    while (ul > 0 && (lo[ul - 1] < '0' || lo[ul - 1] > '9')) ul--;
    while (uh > 0 && (hi[uh - 1] < '0' || hi[uh - 1] > '9')) uh--;
    if (!strcmp(lo + ul, hi + uh)) snprintf(buf, cap, "%.*s-%s", (int)ul, lo, hi);
    else snprintf(buf, cap, "%s-%s", lo, hi);
    return buf;
}

/* ---- sparklines, bars, popups ------------------------------------------- */

void tui_sparkline(WINDOW *w, int y, int x, const int64_t *vals, int n, int64_t max, int cursor_cell)
{
    for (int i = 0; i < n; i++) {
        const char *g;
        if (vals[i] < 0) g = " ";
        else if (max <= 0) g = tui_g->spark[0];
        else {
            int lv = (int)((vals[i] * 7 + max - 1) / max);   /* any item reads above the floor */
            if (lv > 7) lv = 7;
            g = tui_g->spark[lv];
        }
        int attr = tui_attr(TUI_L_BAR);
        if (i == cursor_cell) attr = A_REVERSE | A_BOLD;
        tui_put(w, y, x + i, 1, attr, g);
    }
}

void tui_bar(WINDOW *w, int y, int x, int width, int64_t v, int64_t max)
{
    if (width <= 0 || max <= 0) return;
    int n = (int)((double)v / (double)max * width + 0.5);
    if (v > 0 && n == 0) n = 1;
    if (n > width) n = width;
    for (int i = 0; i < n; i++) tui_put(w, y, x + i, 1, tui_attr(TUI_L_BAR), tui_g->full);
}

WINDOW *tui_popup(int h, int wd, const char *title)
{
    if (h > LINES - 2) h = LINES - 2;
    if (wd > COLS - 2) wd = COLS - 2;
    if (h < 3 || wd < 10) return NULL;
    WINDOW *p = newwin(h, wd, (LINES - h) / 2, (COLS - wd) / 2);
    if (!p) return NULL;
    werase(p);
    if (tui_utf8) box(p, 0, 0);
    else wborder(p, '|', '|', '-', '-', '+', '+', '+', '+');
    tui_putf(p, 0, 2, wd - 4, A_BOLD, " %s ", title);
    return p;
}
