/* SPDX-License-Identifier: MIT */
/* tui.c -- `coscope tui FILE`: opens the trace (before the terminal is
 * taken, so a bad file is one line on stderr), sets up curses and the
 * signal handlers that give the terminal back, and runs the main loop:
 * read a key (or a play / live tick), let the action say what changed,
 * redraw only that with wnoutrefresh + doupdate.  Also draws the bars
 * around the views -- the tabs on top, the prompt / message line and the
 * status line at the bottom -- and the help overlay.
 *
 * Screen layout: row 0 tabs; rows 1..H-3 the view; row H-2 the prompt,
 * a message or the view's hints; row H-1 the status line.
 */
#define _GNU_SOURCE
#include "action.h"   /* and through view.h, tui.h: tui_cmd */
#include <errno.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MIN_COLS 60
#define MIN_LINES 15

static const char USAGE[] =
    "usage: coscope tui [--no-mouse] FILE\n"
    "\n"
    "Browse the trace FILE in the terminal: tasks, resources, warnings and the\n"
    "await tree at a time cursor you move by event, by step or by playing the\n"
    "run back; Enter opens a task or a resource; `:` runs SQL on the trace.\n"
    "Press ? in the UI for every key.  A trace still being recorded is followed\n"
    "live.  Colours unless NO_COLOR is set; line drawing in UTF-8 locales.\n"
    "The mouse clicks tabs and rows and drags a range on the timeline, unless\n"
    "--no-mouse is given or NO_MOUSE is set.\n"
    "\n"
    "Exit status: 0, or 2 for bad usage or a file that is not a readable trace.\n";

/* The screen's windows: the title bar, the view, the message line, the
 * status line; w_small alone when the terminal is too small. */
static WINDOW *w_title, *w_view, *w_line, *w_status, *w_small;

/* ---- the terminal back, whatever happens -------------------------------- */

static volatile sig_atomic_t g_stop;
static int g_curses;
static int g_no_mouse;   /* --no-mouse */

static void on_stop(int sig) { g_stop = sig; }

/* q was typed while a statement ran: every statement stops until the main
 * loop has read it, so the frame it is in ends at once. */
static int g_cut;

/* The SQL prompt's query past QUERY_SHOWN_NS says so on the message line,
 * with its time so far, until it ends (the main loop's next frame draws
 * over it).  Drawn from here, not the main loop, since the main loop is
 * inside the query; a quick query never shows it, so nothing flickers. */
#define QUERY_SHOWN_NS 200000000
static int64_t g_query_since;   /* when the running SQL query was first asked about; 0 none */
static int g_query_shown_s = -1;   /* the seconds last shown; -1 not shown */

static void query_running(void)
{
    int64_t now = tui_mono_ns();
    if (!g_query_since) g_query_since = now;
    if (now - g_query_since < QUERY_SHOWN_NS) return;
    int s = (int)((now - g_query_since) / 1000000000);
    if (s == g_query_shown_s) return;
    g_query_shown_s = s;
    werase(w_line);
    char text[96];
    snprintf(text, sizeof text, "running the query (%d s) ... Esc or Ctrl-C cancels", s);
    tui_put(w_line, 0, 0, COLS - 1, tui_attr(TUI_L_TITLE), text);
    wnoutrefresh(w_line);
    doupdate();
}

/* Asked by the guard while a model statement runs (tracer/guard.c): a
 * hostile trace can make any of them long, and the keys that end things
 * must not wait for it.  A signal stops it (the main loop then ends the
 * UI), except Ctrl-C during the SQL prompt's own query, which cancels just
 * that query, as Esc does.  q stops it and is handed back to curses, so
 * the main loop quits as ever; other keys are handed back untouched. */
static int query_cancel(void *ctx, int sql)
{
    (void)ctx;
    if (sql && w_line) query_running();
    if (g_stop) {
        if (sql && g_stop == SIGINT) g_stop = 0;
        return 1;
    }
    if (g_cut) return 1;
    struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
    if (poll(&p, 1, 0) != 1 || !(p.revents & POLLIN)) return 0;
    unsigned char buf[64];
    ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    if (n <= 0) return 0;
    int stop = 0;
    if (sql && n == 1 && buf[0] == 27) return 1; /* Esc alone (not a key's sequence): cancel, consumed */
    for (ssize_t i = 0; i < n; i++) stop |= buf[i] == 'q';
    for (ssize_t i = n; i-- > 0;) ungetch(buf[i]);
    if (stop) g_cut = 1;
    return stop;
}

/* A crash of the UI itself: give the terminal back, then die of the same
 * signal (as htop's CRT.c does; endwin is not async-signal-safe, but the
 * process is going down either way and a raw terminal is worse). */
static void on_crash(int sig)
{
    tui_mouse_off();
    if (g_curses) endwin();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void handle_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_stop;   /* no SA_RESTART: the key wait ends at once */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = on_crash;
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGABRT, &sa, NULL);
    sigaction(SIGFPE, &sa, NULL);
    sigaction(SIGILL, &sa, NULL);
}

/* ---- windows and bars --------------------------------------------------- */

static void drop_windows(void)
{
    WINDOW **all[] = { &w_title, &w_view, &w_line, &w_status, &w_small };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (*all[i]) {
            delwin(*all[i]);
            *all[i] = NULL;
        }
}

static void make_windows(tui_app *a)
{
    drop_windows();
    a->too_small = COLS < MIN_COLS || LINES < MIN_LINES;
    if (a->too_small) {
        w_small = newwin(LINES > 0 ? LINES : 1, COLS > 0 ? COLS : 1, 0, 0);
        keypad(w_small, TRUE);
        return;
    }
    w_title = newwin(1, COLS, 0, 0);
    w_view = newwin(LINES - 3, COLS, 1, 0);
    w_line = newwin(1, COLS, LINES - 2, 0);
    w_status = newwin(1, COLS, LINES - 1, 0);
    keypad(w_status, TRUE);
    keypad(w_line, TRUE);
}

static void draw_title(tui_app *a)
{
    WINDOW *w = w_title;
    werase(w);
    tui_fill(w, 0, 0, tui_attr(TUI_L_TITLE));
    /* The Warnings tab says how many there are: seen from any view. */
    char tab[TUI_V_TOP][48];
    int tabs_w = 0;
    for (int i = 0; i < TUI_V_TOP; i++) {
        const char *name = i == TUI_V_TREE && COLS >= 84 ? "Await tree" : i == TUI_V_TREE ? "Tree" : tui_view_get(i)->name;
        if (i == TUI_V_WARNINGS && a->info->nwarnings)
            snprintf(tab[i], sizeof tab[i], " %d %s (%zu) ", i + 1, name, a->info->nwarnings);
        else snprintf(tab[i], sizeof tab[i], " %d %s ", i + 1, name);
        tabs_w += tui_width(tab[i]);
    }
    int x = 0;
    if (tabs_w + 9 <= COLS) x = tui_put(w, 0, 0, 0, tui_attr(TUI_L_TITLE) | A_BOLD, " coscope ");
    for (int i = 0; i < TUI_V_TOP; i++) {
        int cur = a->view == i;
        a->tab_x[i] = x;
        x += tui_put(w, 0, x, 0, tui_attr(cur ? TUI_L_TAB : TUI_L_TITLE) | (i == TUI_V_WARNINGS && a->info->nwarnings ? A_BOLD : 0), tab[i]);
    }
    a->tab_x[TUI_V_TOP] = x;
    if (a->view >= TUI_V_TOP) {
        char extra[128];
        const tui_task *tasks;
        const tui_resource *res;
        size_t nt = tui_model_tasks(a->m, &tasks), nr = tui_model_resources(a->m, &res);
        if (a->view == TUI_V_DETAIL && a->detail_task >= 0 && (size_t)a->detail_task < nt)
            snprintf(extra, sizeof extra, " Task #%lld ", (long long)tasks[a->detail_task].id);
        else if (a->view == TUI_V_RESDETAIL && a->detail_res >= 0 && (size_t)a->detail_res < nr)
            snprintf(extra, sizeof extra, " %s %s ", res[a->detail_res].kind_name, res[a->detail_res].name);
        else snprintf(extra, sizeof extra, " %s ", tui_view_get(a->view)->name);
        x += tui_put(w, 0, x + 1, 30, tui_attr(TUI_L_TAB), extra) + 1;
    }
    int room = COLS - x - 2;
    if (room > 8) tui_put_right(w, 0, x + 1, room, tui_attr(TUI_L_TITLE), a->info->program);
}

/* The prompt, a message or the hints; returns the cursor column when editing, -1 else. */
static int draw_line(tui_app *a)
{
    WINDOW *w = w_line;
    werase(w);
    if (a->prompt != TUI_P_NONE) {
        static const char *const what[] = { "", "filter: ", "go to (1.5s, 230ms, #event): ", ":", "find: " };
        const char *p = what[a->prompt];
        int x = tui_put(w, 0, 0, 0, A_BOLD, p);
        /* Scroll the text so the cursor stays in sight. */
        int room = COLS - x - 1;
        char before[TUI_EDIT_CAP];
        memcpy(before, a->edit.buf, (size_t)a->edit.pos);
        before[a->edit.pos] = 0;
        const char *s = a->edit.buf;
        int skip = tui_width(before) - room + 1;
        while (skip > 0 && *s) {
            s++;
            while (((unsigned char)*s & 0xc0) == 0x80) s++;
            skip--;
        }
        tui_put(w, 0, x, room, A_NORMAL, s);
        char upto[TUI_EDIT_CAP];
        size_t n = (size_t)(a->edit.buf + a->edit.pos - s);
        memcpy(upto, s, n);
        upto[n] = 0;
        return x + tui_width(upto);
    }
    if (a->msg[0]) {
        tui_put(w, 0, 1, 0, tui_attr(a->msg_err ? TUI_L_ERROR : TUI_L_NORMAL), a->msg);
        return -1;
    }
    const char *f = a->filter[a->view];
    int x = 1;
    if (f[0]) x += tui_putf(w, 0, x, 0, A_BOLD, "filter: %s (Esc clears)  ", f);
    tui_put(w, 0, x, 0, tui_attr(TUI_L_DIM), tui_view_get(a->view)->hint);
    return -1;
}

/* How the run ended, in words, with what a crash means for the trace. */
static const char *ended_text(tui_app *a, char *b, size_t cap, int brief)
{
    const tui_info *in = a->info;
    int sig = 0;
    if (a->live && !a->ls.running) {
        if (a->ls.attached) {
            snprintf(b, cap, "detached from pid %lld", (long long)a->ls.pid);
            return b;
        }
        if (a->ls.exited) {
            snprintf(b, cap, "exit %d", a->ls.exit_code);
            return b;
        }
        sig = a->ls.signal;
    } else if (in->end_kind == TUI_END_SIGNAL) {
        sig = in->signal;
    } else {
        return in->ended;
    }
    const char *name = sig > 0 ? sigabbrev_np(sig) : NULL;
    int crash = sig == SIGSEGV || sig == SIGBUS || sig == SIGABRT || sig == SIGFPE || sig == SIGILL || sig == SIGTRAP;
    if (brief) snprintf(b, cap, "killed by SIG%s", name ? name : "?");
    else
        snprintf(b, cap, "killed by SIG%s %s everything before the %s is recorded", name ? name : "?",
                 tui_utf8 ? "—" : "-", crash ? "crash" : "signal");
    return b;
}

/* The status line's left part; brief 1: without the step, 2: nor what a
 * crash means for the trace -- when the whole does not fit: the warning
 * count comes after them and must not be cut. */
static void status_text(tui_app *a, char *left, size_t cap, int brief)
{
    const tui_info *in = a->info;
    char end[160];
    size_t n = (size_t)snprintf(left, cap, " t=%s / %s ", tui_fmt_time(a->t), tui_fmt_time(in->duration_ns));
#define ADD(...) \
    do { \
        if (n < cap) n += (size_t)snprintf(left + n, cap - n, __VA_ARGS__); \
    } while (0)
    /* First: every answer on the screen may be wrong from then on. */
    if (in->damaged && in->damaged[0]) ADD("DAMAGED: %s  ", in->damaged);
    int live_now = (a->live && a->ls.running) || (!a->live && in->recording);
    if (live_now) {
        /* LIVE, what was recorded, how fast, how far behind the program. */
        if (a->live && a->ls.attached) ADD("ATTACHED to %lld ", (long long)a->ls.pid);
        ADD("%s %zu tasks %lld %s %.0f/s", a->follow ? "LIVE" : "LIVE (paused: F follows)", in->ntasks,
            (long long)(a->live ? (int64_t)a->ls.events : in->events), COLS >= 100 ? "events" : "ev", a->rate);
        if (a->live) {
            int64_t lag = a->ls.now_ns - in->duration_ns;
            ADD(" lag %lldms", (long long)(lag > 0 ? lag / 1000000 : 0));
        }
    } else if (a->live && a->ls.finishing) {
        ADD("%s, finishing: %lld of %lld events", ended_text(a, end, sizeof end, brief >= 2), (long long)a->ls.built,
            (long long)a->ls.total);
    } else {
        ADD("%s %s", a->live ? "ENDED" : "REPLAY", ended_text(a, end, sizeof end, brief >= 2));
    }
    if (a->info->incomplete) ADD(" INCOMPLETE: events missing");
    if (a->live && a->ls.failure) ADD(" (%s)", a->ls.failure);
    ADD(" %zu warning%s", in->nwarnings, in->nwarnings == 1 ? "" : "s");
    if (!live_now && !brief) ADD(" step %s", tui_fmt_dur(a->step));
    if (a->playing) ADD(" %s %gx", tui_g->play, tui_speeds[a->speed]);
    else if (a->speed != 3) ADD(" speed %gx", tui_speeds[a->speed]);
#undef ADD
}

static void draw_status(tui_app *a)
{
    WINDOW *w = w_status;
    int look = tui_attr(TUI_L_STATUS);
    werase(w);
    tui_fill(w, 0, 0, look);
    char left[512], right[64];
    snprintf(right, sizeof right, "%s", COLS >= 100 ? "? help  : sql  q quit " : "? help q quit ");
    int rw = tui_width(right);
    /* Nothing cut: first the key hints shrink, then the step goes, then the
     * crash's gloss, then the hints. */
    status_text(a, left, sizeof left, 0);
    if (tui_width(left) > COLS - rw - 1) {
        snprintf(right, sizeof right, "? help ");
        rw = tui_width(right);
    }
    if (tui_width(left) > COLS - rw - 1) status_text(a, left, sizeof left, 1);
    if (tui_width(left) > COLS - rw - 1) status_text(a, left, sizeof left, 2);
    if (tui_width(left) > COLS - rw - 1) {
        right[0] = 0;   /* ? still opens the help */
        rw = 0;
    }
    tui_put(w, 0, 0, COLS - rw - 1, look | A_BOLD, left);
    tui_put(w, 0, COLS - rw, rw, look, right);
}

/* Keys that came while the last one was handled (a held key, a paste)
 * are handled before one redraw, not a redraw each; the same key again,
 * once they have taken 100 ms, is dropped: on a 200k-task trace 2,000
 * queued keys took 6.6 s to replay, the screen behind all along. */
static int queued_keys(tui_app *a, WINDOW *in, int ch)
{
    int flags = 0;
    int64_t t0 = tui_mono_ns();
    wtimeout(in, 0);
    /* A quarter second at most between two frames, whatever keeps coming. */
    for (int k = 0; k < 100000 && !(flags & TUI_QUIT) && tui_mono_ns() - t0 < 250000000; k++) {
        int next = wgetch(in);
        if (next == ERR) break;
        if (next == '\r') next = '\n';
        if (next == ch && next != TUI_KEY_MOUSE && !a->prompt && tui_mono_ns() - t0 > 100000000) continue;
        if (next == TUI_KEY_MOUSE) {
            flags |= tui_mouse_key(a, in);
            wtimeout(in, 0);
        } else {
            flags |= tui_handle_key(a, next);
        }
        ch = next;
    }
    return flags;
}

/* Quitting while the program runs: stop it, or let it run on. */
static void draw_ask(tui_app *a)
{
    WINDOW *p = tui_popup(8, 64, "the program is still running");
    if (!p) return;
    tui_putf(p, 2, 2, 60, A_NORMAL, "%s (pid %lld) has not ended.", a->info->program, (long long)a->ls.pid);
    tui_put(p, 4, 2, 60, A_BOLD, "s");
    tui_put(p, 4, 5, 57, A_NORMAL, "stop it (SIGTERM, then SIGKILL) and quit");
    tui_put(p, 5, 2, 60, A_BOLD, "l");
    tui_put(p, 5, 5, 57, A_NORMAL, "quit, let it run on, recorded until it exits");
    tui_put(p, 6, 2, 60, A_BOLD, "Esc");
    tui_put(p, 6, 6, 56, A_NORMAL, "stay");
    wnoutrefresh(p);
    delwin(p);
}

static void draw_help(tui_app *a)
{
    const tui_view *v = tui_view_get(a->view);
    int nglob = 0, nview = 0;
    for (const tui_action *x = tui_actions; x->key; x++)
        if (x->keyname) nglob++;
    if (v->help)
        for (const char *const *h = v->help; h[0]; h += 2) nview++;
    /* Two columns, three when they would not fit the height (80x24); +1 for
     * the view's heading. */
    int n = nglob + nview + 1, ncols = 2;
    int rows = (n + 1) / 2;
    if (rows > LINES - 4) {
        ncols = 3;
        rows = (n + 2) / 3;
    }
    int wd = COLS - 4 < 110 ? COLS - 4 : 110;
    WINDOW *p = tui_popup(rows + 2, wd, "keys (any key closes)");
    if (!p) return;
    int colw = (wd - 4) / ncols, kw = 7;
    int i = 0;
    for (const tui_action *x = tui_actions; x->key; x++) {
        if (!x->keyname) continue;
        int col = i / rows, y = 1 + i % rows;
        tui_put(p, y, 2 + col * colw, kw, A_BOLD, x->keyname);
        tui_put(p, y, 2 + col * colw + kw, colw - kw - 1, A_NORMAL, x->what);
        i++;
    }
    {
        int col = i / rows, y = 1 + i % rows;
        tui_putf(p, y, 2 + col * colw, colw - 1, tui_attr(TUI_L_SECTION), "in %s:", v->name);
        i++;
    }
    if (v->help)
        for (const char *const *h = v->help; h[0]; h += 2) {
            int col = i / rows, y = 1 + i % rows;
            tui_put(p, y, 2 + col * colw, kw, A_BOLD, h[0]);
            tui_put(p, y, 2 + col * colw + kw, colw - kw - 1, A_NORMAL, h[1]);
            i++;
        }
    wnoutrefresh(p);
    delwin(p);
}

static WINDOW *draw_all(tui_app *a, int flags)
{
    if (a->too_small) {
        werase(w_small);
        tui_putf(w_small, 0, 0, 0, A_BOLD, "coscope tui: the terminal is %dx%d;", COLS, LINES);
        tui_putf(w_small, 1, 0, 0, A_BOLD, "it needs at least %dx%d.", MIN_COLS, MIN_LINES);
        tui_put(w_small, 2, 0, 0, A_NORMAL, "Make it larger, or press q to quit.");
        if (a->asking) tui_put(w_small, 4, 0, 0, A_BOLD, "The program runs: s stop it, l let it run, Esc stay.");
        wnoutrefresh(w_small);
        doupdate();
        return w_small;
    }
    if (flags & TUI_REDRAW_VIEW || a->help || a->asking) {
        werase(w_view);
        tui_view_get(a->view)->draw(a, w_view);
        wnoutrefresh(w_view);
    }
    if (flags & TUI_REDRAW_BARS || a->help || a->asking) {
        draw_title(a);
        wnoutrefresh(w_title);
        draw_status(a);
        wnoutrefresh(w_status);
    }
    int cx = draw_line(a);
    int popup = a->help || a->asking;
    if (cx >= 0 && !popup) {
        curs_set(1);
        wmove(w_line, 0, cx);
        leaveok(w_line, FALSE);
    } else {
        curs_set(0);
    }
    wnoutrefresh(w_line);   /* after the others: the terminal's cursor ends where this window's is */
    /* A popup goes over everything, the bars included: at 80x24 the help
     * is as tall as the screen allows and reaches the message line. */
    if (a->help) draw_help(a);
    if (a->asking) draw_ask(a);
    doupdate();
    return w_line;
}

/* ---- the command -------------------------------------------------------- */

int tui_cmd(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs(USAGE, stdout);
        return 0;
    }
    int i = 1;
    if (argc == 3 && !strcmp(argv[1], "--no-mouse")) {
        g_no_mouse = 1;
        i = 2;
    }
    if (argc != i + 1 || argv[i][0] == '-') {
        fputs(USAGE, stderr);
        return 2;
    }
    return tui_main(argv[i], NULL, NULL);
}

int tui_main(const char *path, const tui_live *live, int *quit)
{
    if (quit) *quit = TUI_QUIT_DONE;
    setlocale(LC_ALL, "");
    if (live) {
        /* The program may already have ended: its recorder is finishing
         * the tables; wait for that rather than finish them twice. */
        tui_live_status ls;
        for (;;) {
            live->status(live->ctx, &ls);
            if (ls.running || ls.finished) break;
            if (ls.finishing) tui_progress(NULL, ls.built, ls.total);
            usleep(50000);
        }
    }
    tui_model *m;
    char why[640];
    int e = tui_model_open(&m, path, tui_progress, NULL, why, sizeof why);
    if (isatty(2)) fputs("\r\033[K", stderr);
    if (e < 0) {
        fprintf(stderr, "coscope tui: %s\n", why[0] ? why : strerror(-e));
        return 2;
    }
    if (!isatty(0) || !isatty(1)) {
        fprintf(stderr, "coscope tui: needs a terminal (stdin and stdout)\n");
        tui_model_close(m);
        return 2;
    }
    static tui_app app;
    tui_app *a = &app;
    tui_app_init(a, m);
    a->path = path;
    a->live = live;
    if (live) {
        live->status(live->ctx, &a->ls);
        snprintf(a->output_path, sizeof a->output_path, "%s", live->output_path ? live->output_path : "");
        /* Follow the program from the first frame, unless it is over already. */
        a->follow = !a->ls.finished;
        a->final_done = a->ls.finished;   /* opened on the finished trace */
        a->t = a->info->duration_ns;
        a->msg[0] = 0;   /* the reader's "still being recorded" note: LIVE says it */
    } else {
        /* The output `coscope run --tui` captured beside the trace, if any. */
        char out[sizeof a->output_path];
        snprintf(out, sizeof out, "%s.out", path);
        if (access(out, R_OK) == 0) snprintf(a->output_path, sizeof a->output_path, "%s", out);
    }

    handle_signals();   /* before initscr: ncurses then leaves SIGINT/SIGTERM to us */
    if (!getenv("ESCDELAY")) set_escdelay(25);
    initscr();
    g_curses = 1;
    cbreak();
    noecho();
    nonl();
    curs_set(0);
    tui_draw_init();
    tui_mouse_init(a, g_no_mouse);
    tui_model_set_cancel(m, query_cancel, NULL);

    int flags = TUI_REDRAW_ALL | TUI_REDRAW_RESIZE;
    int64_t last_tick = 0, last_check = 0;
    int told_first = 0;
    for (;;) {
        if (g_stop) {
            /* Ctrl-C while the program runs asks as q does (a second one
             * stops it); SIGTERM and SIGHUP mean the user is gone: stop it. */
            int sig = g_stop;
            g_stop = 0;
            if (a->live && a->ls.running && !a->ls.attached) {
                if (sig == SIGINT && !a->asking) {
                    a->asking = 1;
                    flags |= TUI_REDRAW_ALL;
                } else {
                    a->quit_choice = TUI_QUIT_STOP;
                    break;
                }
            } else {
                break;
            }
        }
        if (flags & TUI_REDRAW_RESIZE) {
            make_windows(a);
            flags |= TUI_REDRAW_ALL;
        }
        WINDOW *in = w_line;
        if (flags & (TUI_REDRAW_ALL | TUI_REDRAW_RESIZE) || a->too_small) in = draw_all(a, flags);
        else in = draw_all(a, flags & TUI_REDRAW_BARS ? TUI_REDRAW_BARS : 0);
        if (a->live && a->live->first_frame && !told_first) { /* on the screen now (doupdate) */
            told_first = 1;
            a->live->first_frame(a->live->ctx);
        }
        flags = TUI_REDRAW_NONE;
        /* Live: a tick every 100 ms, so new events show within 250 ms. */
        int live_now = a->info->recording || (a->live && !a->final_done);
        wtimeout(in, a->playing ? 40 : live_now ? 100 : 1000);
        int ch = wgetch(in);
        g_query_since = 0;   /* any query ran inside the last action; its indicator is drawn over */
        g_query_shown_s = -1;
        if (ch == '\r') ch = '\n';
        if (ch != ERR) {
            g_cut = 0;
            flags = ch == TUI_KEY_MOUSE ? tui_mouse_key(a, in) : tui_handle_key(a, ch);
            if (flags & TUI_QUIT) break;
            flags |= queued_keys(a, in, ch);
            if (flags & TUI_QUIT) break;
        }
        flags |= tui_play_tick(a);
        int64_t now = tui_mono_ns();
        if (live_now && now - last_tick >= 90000000) {
            last_tick = now;
            flags |= tui_live_tick(a);
        } else if (!live_now && now - last_tick >= 1000000000) {
            last_tick = now;   /* a file still written by someone else: its new lines, once a second */
            if (a->output_path[0] && tui_output_poll(a) && a->view == TUI_V_OUTPUT) flags |= TUI_REDRAW_VIEW;
        }
        /* A trace cut short or damaged under us answers wrongly: say so. */
        if (now - last_check >= 1000000000) {
            last_check = now;
            if (tui_model_check(a->m)) flags |= TUI_REDRAW_ALL;
        }
    }
    tui_model_set_cancel(m, NULL, NULL);
    tui_mouse_off();
    drop_windows();
    endwin();
    g_curses = 0;
    tui_sql_free();
    tui_output_free();
    tui_model_close(a->m);
    if (quit) *quit = a->quit_choice;
    return 0;
}
