/* SPDX-License-Identifier: MIT */
/* view_tasks.c -- the Tasks view (key 1, the first screen): one row per
 * task with its state at the cursor, its figures over the whole run and
 * its spawn site; sorted by any column, filtered by text, coloured by
 * state.  The last line spells out the selected task's state in full,
 * since the column has to cut it at 80 columns.  `a` groups the rows by
 * spawn site (one row per site: how many, their states, the median of
 * their figures; the spread under the list), Enter unfolds a group.
 */
#include "view.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static tui_list list;
static int64_t sel_id = -1;        /* the selection follows the task through sorts and filters */
static int sort_col = TUI_COL_ID, sort_desc;
static tui_column shown_c[TUI_COL_COUNT];   /* the header as last drawn: a click on a title sorts by it */
static int shown_xs[TUI_COL_COUNT];

static const char *const col_title[TUI_COL_COUNT] = {
    [TUI_COL_ID] = "ID", [TUI_COL_NAME] = "NAME", [TUI_COL_STATE] = "STATE AT CURSOR",
    [TUI_COL_BUSY] = "BUSY", [TUI_COL_WAIT] = "WAITING", [TUI_COL_TOTAL] = "TOTAL", [TUI_COL_STEPS] = "STEPS",
    [TUI_COL_AWAITS] = "AWAITS", [TUI_COL_SPAWNED_AT] = "SPAWNED AT",
};

/* The rows at the cursor: the model's, sorted and filtered, less the ended
 * ones while H hides them (*nhidden gets how many, may be NULL). */
static size_t rows_now(tui_app *a, const int **rows, size_t *nhidden)
{
    static int *kept;
    static size_t cap;
    size_t n = tui_model_task_rows(a->m, a->t, sort_col, sort_desc, a->filter[TUI_V_TASKS], rows);
    if (nhidden) *nhidden = 0;
    if (!a->hide_done) return n;
    if (n > cap) {
        int *k = realloc(kept, n * sizeof *k);
        if (!k) return n;
        kept = k;
        cap = n;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!tui_task_hidden(a, (*rows)[i])) kept[k++] = (*rows)[i];
    if (nhidden) *nhidden = n - k;
    *rows = kept;
    return k;
}

/* Put the selection back on sel_id, if it is still listed. */
static void find_sel(const int *rows, size_t n, const tui_task *tasks)
{
    list.n = (int)n;
    for (size_t i = 0; i < n; i++)
        if (tasks[rows[i]].id == sel_id) {
            list.sel = (int)i;
            return;
        }
}

static int digits(int64_t v)
{
    int d = 1;
    while (v >= 10 || v <= -10) v /= 10, d++;
    return d + (v < 0);
}

/* Columns by content and priority: a figure column is as wide as its
 * title with room for the sort arrow (WAITING and AWAITS lost it) and as
 * its widest number (never cut); NAME as wide as the longest name shown
 * (at most 24), so STATE AT CURSOR, which says the most, gets the rest
 * before SPAWNED AT (a path, cut from the left) takes up to 32. */
static void layout(tui_column *c, int *xs, int total, int namew, int64_t maxid, int64_t maxsteps, int64_t maxawaits)
{
    int fixed[TUI_COL_COUNT] = { 5, 0, 0, 7, 7, 7, 6, 6, 0 };
    int64_t most[TUI_COL_COUNT] = { [TUI_COL_ID] = maxid, [TUI_COL_STEPS] = maxsteps, [TUI_COL_AWAITS] = maxawaits };
    int used = 0;
    for (int i = 0; i < TUI_COL_COUNT; i++) {
        if (fixed[i] > 0) {
            int tw = tui_width(col_title[i]) + 1;
            if (fixed[i] < tw) fixed[i] = tw;
            if (most[i] && fixed[i] < digits(most[i])) fixed[i] = digits(most[i]);
        }
        c[i] = (tui_column){ col_title[i], fixed[i], fixed[i] > 0 && i != TUI_COL_NAME };
        used += fixed[i] + 1;
    }
    int rest = total - used;
    int name = namew, spawn = rest * 30 / 100;
    if (name < 8) name = 8;
    if (name > 24) name = 24;
    if (name > rest / 2 && rest / 2 >= 8) name = rest / 2;
    if (spawn > 32) spawn = 32;
    if (spawn < 10) spawn = 0;
    int state = rest - name - spawn;
    c[TUI_COL_NAME].width = name;
    c[TUI_COL_SPAWNED_AT].width = spawn;
    c[TUI_COL_STATE].width = state;
    int x = 0;
    for (int i = 0; i < TUI_COL_COUNT; i++) {
        xs[i] = x;
        x += c[i].width + 1;
    }
}

/* ---- grouped by spawn site (`a`) ---------------------------------------- */

static int grouped;
#define MAX_OPEN 64
static const char *open_site[MAX_OPEN];   /* unfolded groups, by site (the model's interned text) */
static int nopen;
typedef struct grow { int group, task; } grow;   /* a shown row: a group (task -1), or a task of an unfolded group */
static grow *gshown;
static size_t gshown_cap, gn;
static const tui_group *groups;
static const int *members;

static int is_open(const char *site)
{
    for (int i = 0; i < nopen; i++)
        if (!strcmp(open_site[i], site)) return i;
    return -1;
}

static void group_rows(tui_app *a)
{
    const int *rows;
    size_t n = rows_now(a, &rows, NULL);
    size_t ng = tui_model_groups(a->m, a->t, rows, n, &groups, &members);
    gn = 0;
    if (gshown_cap < ng + n) {
        grow *g = realloc(gshown, (ng + n) * sizeof *g);
        if (!g) return;
        gshown = g;
        gshown_cap = ng + n;
    }
    for (size_t g = 0; g < ng; g++) {
        gshown[gn++] = (grow){ (int)g, -1 };
        if (is_open(groups[g].spawn_at) >= 0)
            for (int k = 0; k < groups[g].ntasks; k++) gshown[gn++] = (grow){ (int)g, members[groups[g].first + k] };
    }
    list.n = (int)gn;
}

/* "60 waiting, 12 done": its states at the cursor, most first. */
static void states_text(const tui_group *g, char *b, size_t cap)
{
    int used[TUI_STATE_COUNT] = { 0 };
    size_t o = 0;
    b[0] = 0;
    for (int pass = 0; pass < TUI_STATE_COUNT; pass++) {
        int best = -1;
        for (int s = 0; s < TUI_STATE_COUNT; s++)
            if (!used[s] && g->nstate[s] && (best < 0 || g->nstate[s] > g->nstate[best])) best = s;
        if (best < 0) break;
        used[best] = 1;
        int r = snprintf(b + o, cap - o, "%s%d %s", o ? ", " : "", g->nstate[best], tui_state_name(best));
        if (r < 0 || (size_t)r >= cap - o) break;
        o += (size_t)r;
    }
}

static void draw_grouped(tui_app *a, WINDOW *w, int h, int wd)
{
    const tui_task *tasks;
    tui_model_tasks(a->m, &tasks);
    group_rows(a);
    int body = h - 3;
    tui_list_fit(&list, body);
    tui_column c[TUI_COL_COUNT];
    int xs[TUI_COL_COUNT];
    layout(c, xs, wd, 16, 99999, 0, 0);
    c[TUI_COL_ID].title = "TASKS";
    c[TUI_COL_NAME].title = "SPAWNED AS";
    c[TUI_COL_STATE].title = "STATES AT CURSOR";
    /* The figures' median and 99th percentile over the group (max under the list). */
    c[TUI_COL_BUSY].title = "BUSY50";
    c[TUI_COL_WAIT].title = "BUSY99";
    c[TUI_COL_TOTAL].title = "WAIT50";
    c[TUI_COL_STEPS].title = "WAIT99";
    c[TUI_COL_AWAITS].title = "";
    tui_columns_header(w, 0, c, TUI_COL_COUNT, xs, -1, 0);
    if (gn == 0) {
        tui_put(w, 2, 2, 0, tui_attr(TUI_L_DIM), "no task matches the filter (Esc clears it)");
        a->sel_task = -1;
        return;
    }
    char b[160];
    for (int r = 0; r < body && list.top + r < (int)gn; r++) {
        const grow *s = &gshown[list.top + r];
        const tui_group *g = &groups[s->group];
        int sel = list.top + r == list.sel, base = sel ? A_REVERSE : 0, y = r + 1;
        if (sel) tui_fill(w, y, 0, A_REVERSE);
        if (s->task < 0) {
            snprintf(b, sizeof b, "%s%d", is_open(g->spawn_at) >= 0 ? (tui_utf8 ? "▾ " : "- ") : (tui_utf8 ? "▸ " : "+ "),
                     g->ntasks);
            tui_put_right(w, y, xs[0], c[0].width, base | A_BOLD, b);
            snprintf(b, sizeof b, "%s%s", g->name, g->names_differ ? ", ..." : "");
            tui_put(w, y, xs[1], c[1].width, base | A_BOLD, b);
            states_text(g, b, sizeof b);
            tui_put(w, y, xs[2], c[2].width, base, b);
            tui_put_right(w, y, xs[3], c[3].width, base, tui_fmt_dur(g->busy[TUI_P50]));
            tui_put_right(w, y, xs[4], c[4].width, base, tui_fmt_dur(g->busy[TUI_P99]));
            tui_put_right(w, y, xs[5], c[5].width, base, tui_fmt_dur(g->waiting[TUI_P50]));
            tui_put_right(w, y, xs[6], c[6].width, base, tui_fmt_dur(g->waiting[TUI_P99]));
            if (c[8].width > 0) {
                char fit[256];
                tui_put(w, y, xs[8], c[8].width, base | tui_attr(TUI_L_DIM),
                        tr_fit_left(fit, sizeof fit, g->spawn_at[0] ? g->spawn_at : "(unknown)", (size_t)c[8].width));
            }
            continue;
        }
        const tui_task *tk = &tasks[s->task];
        tui_at at;
        if (tui_model_task_at(a->m, s->task, a->t, &at) < 0) at.state = TUI_READY;
        snprintf(b, sizeof b, "#%lld", (long long)tk->id);
        tui_put_right(w, y, xs[0], c[0].width, base, b);
        snprintf(b, sizeof b, "  %s", tk->name);
        tui_put(w, y, xs[1], c[1].width, base, b);
        tui_put(w, y, xs[2], c[2].width, base | tui_attr(tui_state_look(at.state)), tui_model_state_text(a->m, s->task, &at));
        tui_put_right(w, y, xs[3], c[3].width, base, tui_fmt_dur(tk->busy_ns));
        tui_put_right(w, y, xs[5], c[5].width, base, tui_fmt_dur(tk->wait_ns));
    }
    const grow *s = &gshown[list.sel];
    const tui_group *g = &groups[s->group];
    a->sel_task = s->task >= 0 ? s->task : members[g->first];
    /* The selected group's spread: the median alone hides the slow few. */
    int y = h - 2, x = 0;
    char p[4][16];
    for (int i = 0; i < 4; i++) snprintf(p[i], sizeof p[i], "%s", tui_fmt_dur(g->busy[i]));
    x = tui_putf(w, y, 0, 0, A_BOLD, "%d task%s: ", g->ntasks, g->ntasks == 1 ? "" : "s");
    tui_putf(w, y, x, 0, A_NORMAL, "busy p50 %s p90 %s p99 %s max %s", p[0], p[1], p[2], p[3]);
    for (int i = 0; i < 4; i++) snprintf(p[i], sizeof p[i], "%s", tui_fmt_dur(g->waiting[i]));
    x = tui_putf(w, y + 1, 0, 0, A_NORMAL, "  waiting p50 %s p90 %s p99 %s max %s", p[0], p[1], p[2], p[3]);
    snprintf(b, sizeof b, "  grouped by spawn site (a)  %d/%zu", list.sel + 1, gn);
    if (x + tui_width(b) <= wd) tui_put_right(w, y + 1, wd - tui_width(b), tui_width(b), tui_attr(TUI_L_DIM), b);
}

static int key_grouped(tui_app *a, int ch)
{
    group_rows(a);
    int r = tui_list_key(&list, ch, LINES - 3 - 3);
    if (!(r & TUI_NOT_MINE)) return r | TUI_REDRAW_BARS;
    if ((ch == '\n' || ch == KEY_ENTER) && list.sel >= 0 && (size_t)list.sel < gn) {
        const grow *s = &gshown[list.sel];
        if (s->task >= 0) return tui_open_task(a, s->task);
        const char *site = groups[s->group].spawn_at;
        int i = is_open(site);
        if (i >= 0) open_site[i] = open_site[--nopen];
        else if (nopen < MAX_OPEN) open_site[nopen++] = site;
        return TUI_REDRAW_VIEW;
    }
    return TUI_NOT_MINE;
}

static void draw(tui_app *a, WINDOW *w)
{
    int h, wd;
    getmaxyx(w, h, wd);
    if (grouped) {
        draw_grouped(a, w, h, wd);
        return;
    }
    const tui_task *tasks;
    size_t ntasks = tui_model_tasks(a->m, &tasks);
    const int *rows;
    size_t nhidden;
    size_t n = rows_now(a, &rows, &nhidden);
    find_sel(rows, n, tasks);
    int body = h - 3;   /* header, and two lines for the selected task */
    tui_list_fit(&list, body);

    tui_column c[TUI_COL_COUNT];
    int xs[TUI_COL_COUNT];
    int namew = 4;
    int64_t maxid = 0, maxsteps = 0, maxawaits = 0;
    for (int r = 0; r < body && list.top + r < (int)n; r++) {
        const tui_task *tk = &tasks[rows[list.top + r]];
        int nw = tui_width(tk->name);
        if (nw > namew) namew = nw;
        if (tk->id > maxid) maxid = tk->id;
        if (tk->steps > maxsteps) maxsteps = tk->steps;
        if (tk->awaits > maxawaits) maxawaits = tk->awaits;
    }
    /* Two columns first for the `!` of a task a warning names. */
    layout(c, xs, wd - 2, namew, maxid, maxsteps, maxawaits);
    for (int i = 0; i < TUI_COL_COUNT; i++) xs[i] += 2;
    memcpy(shown_c, c, sizeof c);
    memcpy(shown_xs, xs, sizeof xs);
    tui_columns_header(w, 0, c, TUI_COL_COUNT, xs, sort_col, sort_desc);

    if (n == 0) {
        tui_put(w, 2, 2, 0, tui_attr(TUI_L_DIM),
                !ntasks ? "the trace has no tasks" : nhidden ? "every task listed has ended (H shows them)"
                                                   : "no task matches the filter (Esc clears it)");
        a->sel_task = -1;
        return;
    }
    for (int r = 0; r < body && list.top + r < (int)n; r++) {
        int idx = rows[list.top + r];
        const tui_task *tk = &tasks[idx];
        tui_at at;
        if (tui_model_task_at(a->m, idx, a->t, &at) < 0) at.state = TUI_READY;
        int sel = list.top + r == list.sel;
        int look = tui_attr(tui_state_look(at.state));
        int base = sel ? A_REVERSE : 0;
        int y = r + 1;
        if (sel) tui_fill(w, y, 0, A_REVERSE);
        char b[32];
        if (tui_model_task_warnings(a->m, idx) > 0) tui_put(w, y, 0, 1, base | tui_attr(TUI_L_WARN) | A_BOLD, "!");
        snprintf(b, sizeof b, "%lld", (long long)tk->id);
        tui_put_right(w, y, xs[0], c[0].width, base, b);
        tui_put(w, y, xs[1], c[1].width, base | (at.state == TUI_UNBORN ? tui_attr(TUI_L_DIM) : 0), tk->name);
        tui_put(w, y, xs[2], c[2].width, base | look, tui_model_state_text(a->m, idx, &at));
        int fig = base | (at.state == TUI_UNBORN ? tui_attr(TUI_L_DIM) : 0);
        tui_put_right(w, y, xs[3], c[3].width, fig, tui_fmt_dur(tk->busy_ns));
        tui_put_right(w, y, xs[4], c[4].width, fig, tui_fmt_dur(tk->wait_ns));
        tui_put_right(w, y, xs[5], c[5].width, fig, tui_fmt_dur(tk->total_ns));
        snprintf(b, sizeof b, "%lld", (long long)tk->steps);
        tui_put_right(w, y, xs[6], c[6].width, fig, b);
        snprintf(b, sizeof b, "%lld", (long long)tk->awaits);
        tui_put_right(w, y, xs[7], c[7].width, fig, b);
        if (c[8].width > 0) {
            char fit[256];
            tui_put(w, y, xs[8], c[8].width, base | tui_attr(TUI_L_DIM),
                    tr_fit_left(fit, sizeof fit, tk->spawn_at, (size_t)c[8].width));
        }
    }
    int idx = rows[list.sel];
    sel_id = tasks[idx].id;
    a->sel_task = idx;

    /* The selected task in full. */
    const tui_task *tk = &tasks[idx];
    tui_at at;
    if (tui_model_task_at(a->m, idx, a->t, &at) < 0) at.state = TUI_READY;
    int y = h - 2;
    int x = tui_putf(w, y, 0, 0, A_BOLD, "#%lld %s: ", (long long)tk->id, tk->name);
    x += tui_put(w, y, x, 0, tui_attr(tui_state_look(at.state)), tui_model_state_text(a->m, idx, &at));
    if (at.state != TUI_UNBORN) tui_putf(w, y, x, 0, A_NORMAL, " since %s", tui_fmt_time(at.since));
    if (at.at && at.at[0]) tui_putf(w, y + 1, 0, 0, tui_attr(TUI_L_DIM), "  at %s", at.at);
    else if (tk->spawn_at[0])
        tui_putf(w, y + 1, 0, 0, tui_attr(TUI_L_DIM), "  spawned at %s%s%s", tk->spawn_at,
                 tk->spawn_func[0] ? " in " : "", tk->spawn_func);
    /* BUSY, WAITING and TOTAL are the task's whole life, not the state at
     * the cursor the column beside them shows: said under them. */
    char cnt[120], hid[48] = "";
    if (a->hide_done) snprintf(hid, sizeof hid, ", %zu ended hidden", nhidden);
    snprintf(cnt, sizeof cnt, "BUSY WAITING TOTAL: whole run  %d/%zu tasks%s", list.sel + 1, n, hid);
    int cw = tui_width(cnt);
    if (cw > wd / 2) {
        snprintf(cnt, sizeof cnt, "figures: whole run  %d/%zu%s", list.sel + 1, n, hid);
        cw = tui_width(cnt);
    }
    if (cw > wd / 2 && hid[0]) {   /* what is hidden matters more than what the figures are */
        snprintf(cnt, sizeof cnt, "%d/%zu%s", list.sel + 1, n, hid);
        cw = tui_width(cnt);
    }
    tui_put_right(w, y + 1, wd - cw, cw, tui_attr(TUI_L_DIM), cnt);
}

static int key(tui_app *a, int ch)
{
    int h = LINES - 3 - 3;   /* the view's window less header and footer */
    if (ch == 'a') {
        grouped = !grouped;
        list.sel = list.top = 0;
        return TUI_REDRAW_VIEW | TUI_REDRAW_BARS;
    }
    if (grouped) return key_grouped(a, ch);
    const tui_task *tasks;
    tui_model_tasks(a->m, &tasks);
    const int *rows;
    size_t n = rows_now(a, &rows, NULL);
    find_sel(rows, n, tasks);
    int r = tui_list_key(&list, ch, h);
    if (!(r & TUI_NOT_MINE)) {
        if (list.sel >= 0 && (size_t)list.sel < n) {
            sel_id = tasks[rows[list.sel]].id;
            a->sel_task = rows[list.sel];
        }
        return r | TUI_REDRAW_BARS;
    }
    switch (ch) {
    case '\n': case KEY_ENTER:
        if (n == 0) return TUI_REDRAW_NONE;
        return tui_open_task(a, rows[list.sel]);
    case 's':
        sort_col = (sort_col + 1) % TUI_COL_COUNT;
        return TUI_REDRAW_VIEW;
    case 'S': case 'r':
        sort_desc = !sort_desc;
        return TUI_REDRAW_VIEW;
    }
    return TUI_NOT_MINE;
}

static int find(tui_app *a, const unsigned char *match, int dir)
{
    if (grouped) return 0;   /* groups are not tasks: `a` again, then search */
    const tui_task *tasks;
    tui_model_tasks(a->m, &tasks);
    const int *rows;
    size_t n = rows_now(a, &rows, NULL);
    find_sel(rows, n, tasks);
    for (size_t k = 1; k <= n; k++) {
        size_t i = (size_t)(((long long)list.sel + dir * (long long)k % (long long)n + (long long)n) % (long long)n);
        if (!match[rows[i]]) continue;
        int wrapped = dir > 0 ? (int)i <= list.sel : (int)i >= list.sel;
        list.sel = (int)i;
        sel_id = tasks[rows[i]].id;
        a->sel_task = rows[i];
        return wrapped ? 2 : 1;
    }
    return 0;
}

/* A click on a column's title sorts by it (again: reverses); on a row
 * selects it, on the selected row opens it. */
static int mouse(tui_app *a, const tui_mouse *ev)
{
    if (!ev->press || ev->button != 0 || grouped) return TUI_REDRAW_NONE;
    if (ev->y == 0) {
        for (int i = 0; i < TUI_COL_COUNT; i++)
            if (shown_c[i].width > 0 && ev->x >= shown_xs[i] && ev->x < shown_xs[i] + shown_c[i].width + 1) {
                if (sort_col == i) sort_desc = !sort_desc;
                else sort_col = i;
                return TUI_REDRAW_VIEW;
            }
        return TUI_REDRAW_NONE;
    }
    const tui_task *tasks;
    tui_model_tasks(a->m, &tasks);
    const int *rows;
    size_t n = rows_now(a, &rows, NULL);
    find_sel(rows, n, tasks);
    int i = list.top + ev->y - 1;
    if (i < 0 || (size_t)i >= n || ev->y - 1 >= LINES - 3 - 3) return TUI_REDRAW_NONE;
    if (i == list.sel) return tui_open_task(a, rows[i]);
    list.sel = i;
    sel_id = tasks[rows[i]].id;
    a->sel_task = rows[i];
    return TUI_REDRAW_ALL;
}

static const char *const help[] = {
    "j k", "select (PgUp PgDn Home End)",
    "Enter", "the task's detail",
    "s", "sort by the next column",
    "S r", "reverse the sort",
    "a", "group by spawn site (Enter unfolds)",
    NULL,
};

const tui_view tui_view_tasks = {
    "Tasks", draw, key, help,
    "Enter detail  s sort  / find  \\ filter  H hide ended  e edit  , . event  t time  ? keys",
    find, mouse, NULL,
};
