/* SPDX-License-Identifier: MIT */
/* view_detail.c -- the Task detail view (Enter on a task): who the task is
 * (spawn site, parent, life, figures), what it is doing at the cursor and
 * the await chain behind that (task -> lock held by task 7 -> what 7 waits
 * on ..., cycles drawn as cycles), its children as a tree, histograms of
 * its step and wait durations, its events around the cursor with their
 * lines, its logs and marks, its recorded stack, and its latency (the
 * percentiles of its steps, its scheduled delay and its waits by kind).
 *
 * The view is a list of lines built from the model at each draw and
 * scrolled as a whole; lines that name a task, a resource or an event can
 * be selected and opened with Enter (a task or resource opens its detail,
 * an event moves the cursor to it).
 */
#include "view.h"
#include "../runtime/coscope.h"   /* co_wait_kind_name */
#include "../runtime/trace.h"     /* TR_NAME_*: the warning kinds a stack comes with */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum { GO_NONE, GO_TASK, GO_RES, GO_TIME };

#define NSEG 6
#define MAX_LINES 800

typedef struct seg {
    char s[240];
    int look;
    int path;             /* a "file:line": cut on the left when it does not fit */
} seg;

typedef struct line {
    seg seg[NSEG];
    int nseg;
    int indent;
    int go;               /* GO_*: what Enter does */
    int64_t arg;          /* task index, resource index or time */
    int here;             /* the event at the cursor */
} line;

static line lines[MAX_LINES];
static int nlines;
static tui_list list;
static int shown_task = -1;

static line *new_line(int indent)
{
    if (nlines == MAX_LINES) return NULL;
    line *l = &lines[nlines++];
    memset(l, 0, sizeof *l);
    l->indent = indent;
    return l;
}

static void add(line *l, int look, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add(line *l, int look, const char *fmt, ...)
{
    if (!l || l->nseg == NSEG) return;
    seg *s = &l->seg[l->nseg++];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->s, sizeof s->s, fmt, ap);
    va_end(ap);
    s->look = look;
}

/* " at file:line", cut on the left ("at ...progs/x.c:37") if need be. */
static void add_at(line *l, int look, const char *loc)
{
    if (!l || !loc || !loc[0]) return;
    add(l, look, "  at ");
    add(l, look, "%s", loc);
    if (l->nseg && !strcmp(l->seg[l->nseg - 1].s, loc)) l->seg[l->nseg - 1].path = 1;
}

static void section(const char *title)
{
    if (nlines) new_line(0);
    add(new_line(0), TUI_L_SECTION, "%s", title);
}

static const char *task_label(tui_app *a, int idx, char *buf, size_t cap)
{
    const tui_task *tasks;
    size_t n = tui_model_tasks(a->m, &tasks);
    if (idx < 0 || (size_t)idx >= n) snprintf(buf, cap, "?");
    else snprintf(buf, cap, "#%lld %s", (long long)tasks[idx].id, tasks[idx].name);
    return buf;
}

/* ---- the sections ------------------------------------------------------- */

static void about(tui_app *a, int idx, const tui_task *tk)
{
    char b[128];
    line *l = new_line(0);
    add(l, TUI_L_NORMAL, "Task #%lld ", (long long)tk->id);
    add(l, TUI_L_SECTION, "%s", tk->name);
    tui_at at;
    if (tui_model_task_at(a->m, idx, a->t, &at) == 0) {
        l = new_line(1);
        add(l, TUI_L_NORMAL, "at the cursor: ");
        add(l, tui_state_look(at.state), "%s", tui_model_state_text(a->m, idx, &at));
        if (at.state != TUI_UNBORN)
            add(l, TUI_L_DIM, "  since %s%s%s", tui_fmt_time(at.since), at.until >= 0 ? " until " : "",
                at.until >= 0 ? tui_fmt_time(at.until) : "");
        if (at.at && at.at[0]) add(new_line(2), TUI_L_DIM, "at %s", at.at);
    }
    l = new_line(1);
    add(l, TUI_L_NORMAL, "spawned at %s", tk->spawn_at[0] ? tk->spawn_at : "(unknown line)");
    if (tk->spawn_func[0]) add(l, TUI_L_DIM, " in %s()", tk->spawn_func);
    add(l, TUI_L_DIM, ", t=%s", tui_fmt_time(tk->spawn_ts));
    l = new_line(1);
    if (tk->parent_idx >= 0) {
        add(l, TUI_L_NORMAL, "parent: ");
        add(l, TUI_L_NORMAL, "%s", task_label(a, tk->parent_idx, b, sizeof b));
        l->go = GO_TASK;
        l->arg = tk->parent_idx;
    } else if (tk->parent) {
        add(l, TUI_L_NORMAL, "parent: #%lld (not in the trace)", (long long)tk->parent);
    } else {
        add(l, TUI_L_DIM, "parent: none (spawned outside any task)");
    }
    l = new_line(1);
    add(l, TUI_L_NORMAL, "life: ");
    if (tk->start_ts >= 0) add(l, TUI_L_NORMAL, "ran from %s", tui_fmt_time(tk->start_ts));
    else add(l, TUI_L_DIM, "never ran");
    if (tk->end_ts >= 0) {
        add(l, tui_state_look(tk->final_state), ", %s at %s", tui_state_name(tk->final_state),
            tui_fmt_time(tk->end_ts));
        if (tk->has_result) add(l, TUI_L_NORMAL, " (result %lld)", (long long)tk->result);
    } else {
        add(l, tui_state_look(tk->final_state), ", still %s at the end", tui_state_name(tk->final_state));
    }
    l = new_line(1);
    add(l, TUI_L_NORMAL, "busy %s  waiting %s  total %s  steps %lld  awaits %lld%s", tui_fmt_dur(tk->busy_ns),
        tui_fmt_dur(tk->wait_ns), tui_fmt_dur(tk->total_ns), (long long)tk->steps, (long long)tk->awaits,
        tk->detached ? "  detached" : "");
}

/* The lead of link i: how it follows the link before it on its branch. */
static const char *chain_lead(const tui_link *links, int i)
{
    const tui_link *k = &links[i];
    if (i == 0) return "";
    if (k->branch) return NULL; /* a gather's task: a branch of its own */
    int p = i - 1;
    while (p > 0 && links[p].depth > k->depth) p--;  /* the link before it on its branch */
    if (!k->is_task) return "waits on ";
    if (links[p].is_task) return "awaits ";
    static char word[32];
    snprintf(word, sizeof word, "%s ", tui_model_holder_word(links[p].wait));
    return word;
}

static void chain(tui_app *a, int idx)
{
    tui_link links[64];
    int n = tui_model_chain(a->m, idx, a->t, links, 64);
    section("Await chain at the cursor");
    if (n <= 1 && (n == 0 || links[0].state != TUI_WAITING)) {
        add(new_line(1), TUI_L_DIM, "(not waiting at the cursor)");
        return;
    }
    for (int i = 0; i < n; i++) {
        const tui_link *k = &links[i];
        line *l = new_line(1 + k->depth);
        const char *lead = chain_lead(links, i);
        /* A gather's branches hang from it with rails; a branch's later
         * links go under its first, the rail down to the next branch kept. */
        int later = 0;
        for (int j = i + 1; j < n && links[j].depth >= k->depth; j++)
            if (links[j].depth == k->depth && links[j].branch) later = 1;
        if (!lead) {
            add(l, TUI_L_DIM, "%s", later ? tui_g->tee : tui_g->corner);
        } else if (i > 0) {
            if (k->depth > 0) add(l, TUI_L_DIM, "%s", later ? tui_g->vbar : tui_g->blank);
            add(l, TUI_L_DIM, "%s %s", tui_g->arrow, lead);
        }
        if (k->cycle_to >= 0) {
            const tui_link *back = &links[k->cycle_to];
            if (back->is_task) add(l, TUI_L_WARN, "%s back to #%lld %s", tui_g->cycle, (long long)back->id, back->name);
            else add(l, TUI_L_WARN, "%s back to %s '%s'", tui_g->cycle, co_wait_kind_name(back->wait), back->name);
            add(l, TUI_L_WARN, "  (a cycle)");
        } else if (k->is_task) {
            add(l, tui_state_look(k->state), "#%lld %s", (long long)k->id, k->name);
            /* The line before the time: on a narrow screen the time is what gets cut. */
            add(l, TUI_L_DIM, "  %s", tui_state_name(k->state));
            if (k->shown_above) add(l, TUI_L_DIM, "  (followed above)");
            add_at(l, TUI_L_DIM, k->at);
            if (k->state == TUI_WAITING || k->state == TUI_RUNNING) add(l, TUI_L_DIM, "  since %s", tui_fmt_time(k->since));
        } else if (k->wait == CO_WAIT_TASKS || k->wait == CO_WAIT_GROUP) {
            /* What a gather waits for is drawn under it, each followed. */
            add(l, TUI_L_NORMAL, "%s of %d task%s", k->wait == CO_WAIT_GROUP ? "its task group" : "a gather/wait",
                k->ntasks, k->ntasks == 1 ? "" : "s");
            if (k->ntasks == 0) add(l, TUI_L_DIM, " (no child of it is alive at the cursor)");
            else if (k->more) add(l, TUI_L_DIM, " (%d not listed)", k->more);
        } else if (k->id == 0 && k->res_idx < 0) {
            add(l, TUI_L_NORMAL, "%s", co_wait_kind_name(k->wait));   /* a sleep, an I/O: its kind names it */
        } else {
            add(l, TUI_L_NORMAL, "%s '%s'", co_wait_kind_name(k->wait), k->name ? k->name : "");
            if (k->more) add(l, TUI_L_DIM, " (%d hold it)", k->ntasks);
        }
        if (k->refused) add(l, TUI_L_WARN, "  REFUSED: would close a cycle (deadlock)");
        if (k->cycle_to < 0) {
            if (k->is_task && k->task_idx >= 0 && k->task_idx != idx) l->go = GO_TASK, l->arg = k->task_idx;
            else if (!k->is_task && k->res_idx >= 0) l->go = GO_RES, l->arg = k->res_idx;
        } else if (links[k->cycle_to].is_task && links[k->cycle_to].task_idx >= 0 && links[k->cycle_to].task_idx != idx) {
            l->go = GO_TASK;
            l->arg = links[k->cycle_to].task_idx;
        }
    }
}

static void children(tui_app *a, int idx)
{
    const tui_task *tasks;
    tui_model_tasks(a->m, &tasks);
    if (tasks[idx].first_child < 0) return;
    section("Children");
    /* Depth first along first_child / next_sibling, with the tree's rails. */
    int stack[64], depth = 0, shown = 0;
    char rails[64][8];
    stack[0] = tasks[idx].first_child;
    while (depth >= 0 && shown < 300) {
        int c = stack[depth];
        if (c < 0) {
            depth--;
            if (depth >= 0) stack[depth] = tasks[stack[depth]].next_sibling;
            continue;
        }
        const tui_task *ch = &tasks[c];
        int last = ch->next_sibling < 0;
        line *l = new_line(1);
        char prefix[512] = "";
        for (int d = 0; d < depth; d++) strncat(prefix, rails[d], sizeof prefix - strlen(prefix) - 1);
        strncat(prefix, last ? tui_g->corner : tui_g->tee, sizeof prefix - strlen(prefix) - 1);
        add(l, TUI_L_DIM, "%s", prefix);
        tui_at at;
        if (tui_model_task_at(a->m, c, a->t, &at) < 0) at.state = TUI_READY;
        add(l, tui_state_look(at.state), "#%lld %s", (long long)ch->id, ch->name);
        add(l, TUI_L_DIM, "  %s", tui_model_state_text(a->m, c, &at));
        l->go = GO_TASK;
        l->arg = c;
        shown++;
        snprintf(rails[depth], sizeof rails[depth], "%s", last ? tui_g->blank : tui_g->vbar);
        if (ch->first_child >= 0 && depth + 1 < 64) stack[++depth] = ch->first_child;
        else stack[depth] = ch->next_sibling;
    }
    if (shown == 300) add(new_line(1), TUI_L_DIM, "... (more)");
}

static int width_now;

static void histogram(tui_app *a, int idx, int which)
{
    int64_t b[TUI_HIST_BUCKETS];
    int64_t n = tui_model_task_hist(a->m, idx, which, b);
    char title[96];
    snprintf(title, sizeof title, "%s durations (%lld)", which ? "Wait" : "Step", (long long)(n > 0 ? n : 0));
    section(title);
    if (n <= 0) {
        add(new_line(1), TUI_L_DIM, "(none)");
        return;
    }
    int lo = TUI_HIST_BUCKETS, hi = -1;
    int64_t max = 0;
    for (int i = 0; i < TUI_HIST_BUCKETS; i++)
        if (b[i] > 0) {
            if (i < lo) lo = i;
            hi = i;
            if (b[i] > max) max = b[i];
        }
    int barw = width_now - 2 - 12 - 10;
    if (barw > 60) barw = 60;
    if (barw < 4) barw = 4;
    for (int i = lo; i <= hi; i++) {
        char lab[32];
        tui_bucket_label(i, lab, sizeof lab);
        int cells = b[i] ? (int)((double)b[i] / (double)max * barw + 0.5) : 0;
        if (b[i] && !cells) cells = 1;
        char bar[61 * 4] = "";
        for (int k = 0; k < cells; k++) strcat(bar, tui_g->full);
        line *l = new_line(1);
        add(l, TUI_L_NORMAL, "%10s ", lab);
        add(l, TUI_L_BAR, "%s", bar);
        add(l, TUI_L_NORMAL, " %lld", (long long)b[i]);
    }
}

/* Percentiles of its busy steps and of its waits by kind: where a task's
 * time goes at the tail, which the means above hide. */
static void latency(tui_app *a, int idx)
{
    tui_latency l;
    if (tui_model_task_latency(a->m, idx, &l) < 0 || l.nbusy == 0) return;
    section(l.truncated ? "Latency (its first steps)           p50      p90      p99      max" :
                          "Latency                              p50      p90      p99      max");
    char p[TUI_PCT_COUNT][16];
    for (int i = 0; i < TUI_PCT_COUNT; i++) snprintf(p[i], sizeof p[i], "%s", tui_fmt_dur(l.busy[i]));
    add(new_line(1), TUI_L_NORMAL, "%-22s %8lld %8s %8s %8s %8s", "busy steps", (long long)l.nbusy, p[0], p[1], p[2], p[3]);
    if (l.nsched) {
        /* ready again (its wait over) to running: the loop's delay, not the task's */
        for (int i = 0; i < TUI_PCT_COUNT; i++) snprintf(p[i], sizeof p[i], "%s", tui_fmt_dur(l.sched[i]));
        add(new_line(1), TUI_L_NORMAL, "%-22s %8lld %8s %8s %8s %8s", "scheduled (ready->run)", (long long)l.nsched, p[0],
            p[1], p[2], p[3]);
    }
    for (int k = 0; k < l.nkinds; k++) {
        const tui_latency_kind *x = &l.kinds[k];
        for (int i = 0; i < TUI_PCT_COUNT; i++) snprintf(p[i], sizeof p[i], "%s", tui_fmt_dur(x->p[i]));
        char what[40];
        snprintf(what, sizeof what, "waits: %s", co_wait_kind_name(x->wait));
        add(new_line(1), TUI_L_NORMAL, "%-22s %8lld %8s %8s %8s %8s", what, (long long)x->n, p[0], p[1], p[2], p[3]);
    }
}

static void events(tui_app *a, int idx)
{
    const tui_event *ev;
    size_t at_cursor = 0;
    size_t n = tui_model_task_events(a->m, idx, a->t, 40, &ev, &at_cursor);
    section("Events around the cursor (Enter moves the cursor there)");
    if (n == 0) {
        add(new_line(1), TUI_L_DIM, "(none)");
        return;
    }
    int logs = 0;
    for (size_t i = 0; i < n; i++) {
        const tui_event *e = &ev[i];
        line *l = new_line(1);
        int here = i == at_cursor;
        add(l, here ? TUI_L_CURSOR : TUI_L_NORMAL, "%s %12s  ", here ? tui_g->play : " ", tui_fmt_time(e->ts));
        add(l, here ? TUI_L_CURSOR : TUI_L_NORMAL, "%-12s %s", e->kind_name, e->text);
        add_at(l, TUI_L_DIM, e->at);
        l->go = GO_TIME;
        l->arg = e->ts;
        l->here = here;
        if (!strcmp(e->kind_name, "log") || !strcmp(e->kind_name, "mark")) logs++;
    }
    if (at_cursor >= n) add(new_line(1), TUI_L_CURSOR, "%s (the cursor: no later event of this task nearby)", tui_g->play);
    if (!logs) return;
    section("Logs and marks (among these events)");
    for (size_t i = 0; i < n; i++) {
        const tui_event *e = &ev[i];
        if (strcmp(e->kind_name, "log") && strcmp(e->kind_name, "mark")) continue;
        line *l = new_line(1);
        add(l, TUI_L_NORMAL, "%12s  %s", tui_fmt_time(e->ts), e->text);
        if (e->at && e->at[0]) add(l, TUI_L_DIM, "  %s", e->at);
        l->go = GO_TIME;
        l->arg = e->ts;
    }
}

static void stack(tui_app *a, int idx)
{
    const tui_warning *w = tui_model_stack_warning(a->m, idx, a->t);
    if (!w || !w->stack[0]) return;
    const char *why = w->kind_name, *s = w->stack;
    /* A stack belongs to the moment it was taken: say which, and whether
     * the cursor is in it. */
    char title[160], when[48];
    snprintf(when, sizeof when, "%s", tui_fmt_time(w->ts));
    snprintf(title, sizeof title, "Recorded stack (%s), taken at %s%s",
             !strcmp(why, TR_NAME_CRASH) ? "at the crash"
             : !strcmp(why, TR_NAME_SLOW_STEP) ? "slow step, seen by the watchdog" : why,
             when, tui_model_stack_covers(w, a->t) ? "" : ": not the cursor's moment");
    section(title);
    while (*s) {
        const char *nl = strchr(s, '\n');
        int len = nl ? (int)(nl - s) : (int)strlen(s);
        add(new_line(1), TUI_L_DIM, "%.*s", len, s);
        s += len + (nl ? 1 : 0);
    }
}

static void build(tui_app *a, int width)
{
    nlines = 0;
    width_now = width;
    const tui_task *tasks;
    size_t n = tui_model_tasks(a->m, &tasks);
    int idx = a->detail_task;
    if (idx < 0 || (size_t)idx >= n) {
        add(new_line(0), TUI_L_DIM, "no task");
        return;
    }
    about(a, idx, &tasks[idx]);
    chain(a, idx);
    children(a, idx);
    histogram(a, idx, 0);
    histogram(a, idx, 1);
    events(a, idx);
    stack(a, idx);
    latency(a, idx);  /* last: a crash's stack stays on the first screen */
}

static void draw(tui_app *a, WINDOW *w)
{
    int h, wd;
    getmaxyx(w, h, wd);
    if (shown_task != a->detail_task) {
        shown_task = a->detail_task;
        list.sel = list.top = 0;
    }
    build(a, wd);
    list.n = nlines;
    tui_list_fit(&list, h);
    for (int r = 0; r < h && list.top + r < nlines; r++) {
        const line *l = &lines[list.top + r];
        int sel = list.top + r == list.sel;
        if (sel) tui_fill(w, r, 0, A_REVERSE);
        int x = l->indent * 2;
        for (int s = 0; s < l->nseg && x < wd; s++) {
            const char *t = l->seg[s].s;
            char fit[256];
            if (l->seg[s].path) t = tr_fit_left(fit, sizeof fit, t, (size_t)(wd - x));
            x += tui_put(w, r, x, wd - x, tui_attr(l->seg[s].look) | (sel ? A_REVERSE : 0), t);
        }
    }
    a->sel_task = a->detail_task;
}

static int key(tui_app *a, int ch)
{
    int h = LINES - 3;
    int r = tui_list_key(&list, ch, h);
    if (!(r & TUI_NOT_MINE)) return r;
    if (ch == '\n' || ch == KEY_ENTER) {
        if (list.sel < 0 || list.sel >= nlines) return TUI_REDRAW_NONE;
        const line *l = &lines[list.sel];
        switch (l->go) {
        case GO_TASK: return tui_open_task(a, (int)l->arg);
        case GO_RES: return tui_open_resource(a, (int)l->arg);
        case GO_TIME: return tui_jump(a, l->arg);
        }
        return TUI_REDRAW_NONE;
    }
    if (ch == 'c') {   /* to the event at the cursor (e is the editor's) */
        for (int i = 0; i < nlines; i++)
            if (lines[i].here) {
                list.sel = i;
                list.top = i - h / 2;
                tui_list_fit(&list, h);
                return TUI_REDRAW_VIEW;
            }
        return TUI_REDRAW_NONE;
    }
    return TUI_NOT_MINE;
}

/* `e` and `y`: the selected line's location, else the task's (editor.c). */
static int site(tui_app *a, char *buf, size_t cap)
{
    if (list.sel >= 0 && list.sel < nlines)
        for (int s = 0; s < lines[list.sel].nseg; s++)
            if (lines[list.sel].seg[s].path) {
                snprintf(buf, cap, "%s", lines[list.sel].seg[s].s);
                return 0;
            }
    return tui_task_site(a, a->detail_task, buf, cap);
}

static const char *const help[] = {
    "j k", "move (PgUp PgDn Home End)",
    "Enter", "open task/resource; to event",
    "c", "to the event at the cursor",
    "e y", "open / copy the line selected",
    "< >", "this task's previous / next event",
    "Esc", "back",
    NULL,
};

const tui_view tui_view_detail = {
    "Task", draw, key, help,
    "Enter open / go  c event at cursor  e edit  y copy  < > task's events  Esc back",
    NULL, NULL, site,
};
