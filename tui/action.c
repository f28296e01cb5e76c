/* SPDX-License-Identifier: MIT */
/* action.c -- what keys do (see action.h): the global actions (views,
 * the time cursor, play/pause, opening the prompts, search, hiding the
 * ended tasks) and the dispatch of a key.  What the prompt does is
 * prompt.c's; moving between views and the cursor history are nav.c's,
 * which the views call too; e and y are editor.c's.
 */
#include "action.h"
#include "../runtime/trace.h" /* TR_WARN_ALL_ASLEEP: a run that hung opens at the hang */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const double tui_speeds[] = { 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100 };
const int tui_nspeeds = (int)(sizeof tui_speeds / sizeof tui_speeds[0]);
#define SPEED_1X 3

#define STEP_MIN 1000LL                 /* 1us */
#define STEP_MAX 100000000000LL         /* 100s */

#define CTRL(c) ((c) & 0x1f)
#define KEY_ESC 27

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void tui_app_init(tui_app *a, tui_model *m)
{
    memset(a, 0, sizeof *a);
    a->m = m;
    a->info = tui_model_info(m);
    a->speed = SPEED_1X;
    /* A step of about a fiftieth of the trace, as a power of ten. */
    a->step = STEP_MIN;
    while (a->step * 10 <= a->info->duration_ns / 50 && a->step < STEP_MAX) a->step *= 10;
    a->sel_task = -1;
    a->detail_task = -1;
    a->detail_res = -1;
    a->view = TUI_V_TASKS;
    a->follow = a->info->recording;
    /* A finished trace opens at its end, as a live one follows it: how the
     * run ended (what each task was left doing, what hung) is the first
     * question; g, the timeline and play go back from there. */
    a->t = a->info->duration_ns;
    /* But a run that ended in a hang is best read at the hang: at the end
     * the loop's shutdown has cancelled everything and the Await tree is
     * empty.  The last all_asleep is when nothing could wake any task. */
    if (!a->info->recording) {
        const tui_warning *ws;
        size_t nw = tui_model_warnings(m, &ws);
        for (size_t i = nw; i-- > 0;)
            if (ws[i].kind == TR_WARN_ALL_ASLEEP) {
                a->t = ws[i].ts;
                tui_msg(a, 0, "the run hung at %s: the cursor is there (G: the end)", tui_fmt_time(ws[i].ts));
                break;
            }
    }
    if (a->info->note && a->info->note[0]) tui_msg(a, 0, "note: %s", a->info->note);
}

/* ---- the actions -------------------------------------------------------- */

/* Quitting while the program under `coscope run --tui` runs asks first:
 * stop it, or let it run on (still recorded) until it exits. */
static int act_quit(tui_app *a)
{
    if (a->live && a->ls.running && !a->ls.attached) { /* attached: q detaches, the program runs on */
        a->asking = 1;
        return TUI_REDRAW_ALL;
    }
    return TUI_QUIT;
}
static int act_help(tui_app *a) { a->help = !a->help; return TUI_REDRAW_ALL; }
static int act_v1(tui_app *a) { return tui_go_view(a, TUI_V_TASKS); }
static int act_v2(tui_app *a) { return tui_go_view(a, TUI_V_RESOURCES); }
static int act_v3(tui_app *a) { return tui_go_view(a, TUI_V_WARNINGS); }
static int act_v4(tui_app *a) { return tui_go_view(a, TUI_V_TIMELINE); }
static int act_v5(tui_app *a) { return tui_go_view(a, TUI_V_TREE); }
static int act_v6(tui_app *a) { return tui_go_view(a, TUI_V_OUTPUT); }

/* Tab and Shift-Tab go round the numbered views; Output only when there
 * is captured output to show. */
static int next_view(tui_app *a, int dir)
{
    int v = a->view < TUI_V_TOP ? a->view : a->last_top;
    do v = (v + dir + TUI_V_TOP) % TUI_V_TOP;
    while (v == TUI_V_OUTPUT && !a->output_path[0]);
    return tui_go_view(a, v);
}

static int act_tab(tui_app *a) { return next_view(a, 1); }
static int act_backtab(tui_app *a) { return next_view(a, -1); }

static int act_esc(tui_app *a)
{
    if (a->nback) return tui_back(a);
    if (a->filter[a->view][0]) {
        a->filter[a->view][0] = 0;
        return TUI_REDRAW_ALL;
    }
    if (a->msg[0]) {
        a->msg[0] = 0;
        return TUI_REDRAW_BARS;
    }
    return TUI_REDRAW_NONE;
}

static int act_start(tui_app *a) { return tui_jump(a, 0); }
static int act_end(tui_app *a)
{
    int r = tui_jump(a, a->info->duration_ns);
    /* Live, the end is where following is: G there follows, as F does. */
    if (a->info->recording || (a->live && !a->ls.finished)) {
        a->follow = 1;
        a->playing = 0;
    }
    return r;
}

static int step_event(tui_app *a, int dir, int task)
{
    int64_t ts;
    if (task == -2) {
        tui_msg(a, 1, "no task selected (select one in Tasks, or open its detail)");
        return TUI_REDRAW_BARS;
    }
    if (tui_model_step_event(a->m, a->t, dir, task, &ts) < 0) {
        tui_msg(a, 1, "no %s event %s the cursor", task >= 0 ? "task" : "", dir > 0 ? "after" : "before");
        return TUI_REDRAW_BARS;
    }
    a->msg[0] = 0;
    return tui_set_cursor(a, ts);
}

static int act_prev_event(tui_app *a) { return step_event(a, -1, -1); }
static int act_next_event(tui_app *a) { return step_event(a, 1, -1); }
static int sel_task(tui_app *a) { return a->sel_task >= 0 ? a->sel_task : -2; }
static int act_prev_task_event(tui_app *a) { return step_event(a, -1, sel_task(a)); }
static int act_next_task_event(tui_app *a) { return step_event(a, 1, sel_task(a)); }

static int act_step_back(tui_app *a) { return tui_set_cursor(a, a->t - a->step); }
static int act_step_fwd(tui_app *a) { return tui_set_cursor(a, a->t + a->step); }

static int act_step_smaller(tui_app *a)
{
    if (a->step > STEP_MIN) a->step /= 10;
    return TUI_REDRAW_BARS;
}

static int act_step_larger(tui_app *a)
{
    if (a->step < STEP_MAX) a->step *= 10;
    return TUI_REDRAW_BARS;
}

static int act_play(tui_app *a)
{
    if (a->playing) {
        a->playing = 0;
        return TUI_REDRAW_BARS;
    }
    if (a->t >= a->info->duration_ns) a->t = 0;   /* at the end: play again from the start */
    a->playing = 1;
    a->follow = 0;
    a->play_last_ns = now_ns();
    return TUI_REDRAW_ALL;
}

static int act_slower(tui_app *a)
{
    if (a->speed > 0) a->speed--;
    return TUI_REDRAW_BARS;
}

static int act_faster(tui_app *a)
{
    if (a->speed < tui_nspeeds - 1) a->speed++;
    return TUI_REDRAW_BARS;
}

static int act_filter(tui_app *a)
{
    if (a->view >= TUI_V_TOP || a->view == TUI_V_OUTPUT) {
        tui_msg(a, 1, "\\ filters the Tasks, Resources, Warnings, Timeline and Await tree");
        return TUI_REDRAW_BARS;
    }
    return tui_prompt_open(a, TUI_P_FILTER, a->filter[a->view]);
}
static int act_goto(tui_app *a) { return tui_prompt_open(a, TUI_P_TIME, ""); }
static int act_sql(tui_app *a) { return tui_prompt_open(a, TUI_P_SQL, ""); }

/* Search: `/` (F3) asks what, n and N find it again after and before the
 * selection. */
static int act_find(tui_app *a)
{
    if (!tui_view_get(a->view)->find) {
        tui_msg(a, 1, "/ searches the Tasks, the Timeline and the Await tree");
        return TUI_REDRAW_BARS;
    }
    return tui_prompt_open(a, TUI_P_FIND, "");
}
static int act_find_next(tui_app *a) { return tui_find_next(a, 1); }
static int act_find_prev(tui_app *a) { return tui_find_next(a, -1); }

/* H: a program that spawns forever stays readable with the ended tasks
 * out of the way. */
static int act_hide_done(tui_app *a)
{
    a->hide_done = !a->hide_done;
    tui_msg(a, 0, "%s", a->hide_done ? "tasks ended at the cursor are hidden (H shows them)" : "ended tasks shown");
    return TUI_REDRAW_ALL;
}

static int act_tree(tui_app *a) { return tui_go_view(a, TUI_V_TREE); }

static int act_redraw(tui_app *a) { (void)a; return TUI_REDRAW_ALL | TUI_REDRAW_RESIZE; }

const tui_action tui_actions[] = {
    { '?', act_help, "? F1", "this help" },
    { KEY_F(1), act_help, NULL, NULL },
    { 'q', act_quit, "q F10", "quit" },
    { KEY_F(10), act_quit, NULL, NULL },
    { KEY_ESC, act_esc, "Esc", "back, close, clear filter" },
    { '1', act_v1, "1", "Tasks" },
    { '2', act_v2, "2", "Resources" },
    { '3', act_v3, "3", "Warnings" },
    { '4', act_v4, "4", "Timeline" },
    { '5', act_v5, "5 F5", "Await tree" },
    { KEY_F(5), act_tree, NULL, NULL },
    { '6', act_v6, "6 o", "Output (the program's own)" },
    { 'o', act_v6, NULL, NULL },
    { 'F', tui_follow, "F", "live: follow the end" },
    { '\t', act_tab, "Tab", "next view (S-Tab: previous)" },
    { KEY_BTAB, act_backtab, NULL, NULL },
    { '/', act_find, "/ F3", "search (then n, N: next, previous)" },
    { KEY_F(3), act_find, NULL, NULL },
    { 'n', act_find_next, "n N", "next / previous match" },
    { 'N', act_find_prev, NULL, NULL },
    { '\\', act_filter, "\\ F4", "filter the list" },
    { KEY_F(4), act_filter, NULL, NULL },
    { 'H', act_hide_done, "H", "hide / show ended tasks" },
    { 'e', tui_edit_site, "e", "open the line in $EDITOR" },
    { 'y', tui_copy_site, "y", "copy file:line (OSC 52)" },
    { ':', act_sql, ":", "SQL (:t cursor, :task task)" },
    { 't', act_goto, "t", "go to a time (1.5s) or #event" },
    { 'g', act_start, "g", "cursor to the start" },
    { 'G', act_end, "G", "cursor to the end" },
    { '`', tui_jump_back, "`", "cursor back before the jump" },
    { ',', act_prev_event, ",", "previous event" },
    { '.', act_next_event, ".", "next event" },
    { '<', act_prev_task_event, "<", "selected task's prev. event" },
    { '>', act_next_task_event, ">", "selected task's next event" },
    { '[', act_step_back, "[", "back by the step" },
    { ']', act_step_fwd, "]", "forward by the step" },
    { '-', act_step_smaller, "-", "step /10" },
    { '+', act_step_larger, "+", "step x10" },
    { '=', act_step_larger, NULL, NULL },
    { ' ', act_play, "space", "play / pause" },
    { '{', act_slower, "{", "slower (0.1x .. 100x)" },
    { '}', act_faster, "}", "faster" },
    { CTRL('l'), act_redraw, "^L", "redraw" },
    { 0, NULL, NULL, NULL },
};

/* ---- dispatch ----------------------------------------------------------- */

/* The question when quitting a running program: s, l, or anything else to
 * stay. */
static int ask_key(tui_app *a, int ch)
{
    a->asking = 0;
    if (ch == 's' || ch == 'S') {
        a->quit_choice = TUI_QUIT_STOP;
        return TUI_QUIT;
    }
    if (ch == 'l' || ch == 'L') {
        a->quit_choice = TUI_QUIT_LET_RUN;
        return TUI_QUIT;
    }
    return TUI_REDRAW_ALL;
}

int tui_handle_key(tui_app *a, int ch)
{
    if (ch == KEY_RESIZE) return TUI_REDRAW_ALL | TUI_REDRAW_RESIZE;
    if (a->asking) return ask_key(a, ch);
    if (a->too_small) return ch == 'q' ? act_quit(a) : TUI_REDRAW_NONE;
    if (a->prompt != TUI_P_NONE) return tui_prompt_key(a, ch);
    if (a->help) {
        a->help = 0;
        return ch == 'q' || ch == KEY_F(10) ? act_quit(a) : TUI_REDRAW_ALL;
    }
    if (a->msg[0] && ch != KEY_ESC) a->msg[0] = 0;   /* a message lasts one key */
    int r = TUI_REDRAW_BARS;
    const tui_view *v = tui_view_get(a->view);
    if (v->key) {
        int vr = v->key(a, ch);
        if (!(vr & TUI_NOT_MINE)) return vr | r;
    }
    for (const tui_action *x = tui_actions; x->key; x++)
        if (x->key == ch) return x->fn(a) | r;
    return r;
}

int tui_play_tick(tui_app *a)
{
    if (!a->playing) return TUI_REDRAW_NONE;
    int64_t now = now_ns();
    double adv = (double)(now - a->play_last_ns) * tui_speeds[a->speed];
    a->play_last_ns = now;
    int64_t t = a->t + (int64_t)adv;
    if (t >= a->info->duration_ns) {
        t = a->info->duration_ns;
        a->playing = 0;
    }
    a->t = t;
    return TUI_REDRAW_ALL;
}
