/* SPDX-License-Identifier: MIT */
/* view_resources.c -- the Resources view (key 2) and a resource's detail
 * (Enter on one).  The list: locks, semaphores, queues, events ... with
 * who holds and who waits at the cursor and the contention figures of the
 * whole run; the selected one's summary below, with a queue's depth over
 * the run as a sparkline, the cursor's cell marked.  The detail: the
 * same, then its holds and waits around the cursor -- who waited on whom
 * -- each opening its task on Enter.
 */
#define _GNU_SOURCE   /* strcasestr */
#include "view.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static tui_list list;
static int64_t sel_id = -1;

/* ---- shared ------------------------------------------------------------- */

static const char *ids(const int64_t *v, int n, int total, char *buf, size_t cap)
{
    size_t o = 0;
    buf[0] = 0;
    for (int i = 0; i < n && o + 24 < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%s#%lld", i ? "," : "", (long long)v[i]);
    if (total > n && o + 24 < cap) snprintf(buf + o, cap - o, " +%d", total - n);
    if (!n && !total) snprintf(buf, cap, "-");
    return buf;
}

static int is_queue(const tui_resource *r) { return !strcmp(r->kind_name, TUI_KIND_QUEUE); }

/* The depth of a queue over the whole run in width cells, the cursor marked. */
static void depth_line(tui_app *a, WINDOW *w, int y, int x, int width, int idx)
{
    int64_t vals[512];
    if (width > 512) width = 512;
    if (width < 4) return;
    int64_t end = a->info->duration_ns > 0 ? a->info->duration_ns : 1;
    if (tui_model_queue_depth(a->m, idx, 0, end, vals, width) < 0) {
        tui_put(w, y, x, width, tui_attr(TUI_L_DIM), "(depth unknown)");
        return;
    }
    int64_t max = 0;
    for (int i = 0; i < width; i++)
        if (vals[i] > max) max = vals[i];
    int cell = (int)((double)a->t / (double)end * (width - 1) + 0.5);
    tui_sparkline(w, y, x, vals, width, max, cell);
}

static int matches(tui_app *a, const tui_resource *r)
{
    const char *f = a->filter[TUI_V_RESOURCES];
    return !f[0] || strcasestr(r->name, f) || strcasestr(r->kind_name, f) || strcasestr(r->created_at, f);
}

/* ---- the list ----------------------------------------------------------- */

enum { C_KIND, C_NAME, C_HOLD, C_WAIT, C_ACQ, C_CONT, C_P50, C_P99, C_MAX, C_HOLDMAX, C_CREATED, C_N };

/* Sorting (s, S, as in Tasks): by a column, -1 the trace's order (by id). */
#define WIDE 110   /* columns from which the list has all its columns */
static int sort_col = -1, sort_desc;
static const tui_resource *sort_res;
static tui_app *sort_app;

/* Holders and waiters are the cursor's (the model keeps them per t). */
static int64_t at_count(int idx, int waiters)
{
    tui_res_at at;
    if (tui_model_resource_at(sort_app->m, idx, sort_app->t, &at) < 0) return -1;
    return waiters ? at.nwaiters_total : at.depth >= 0 ? at.depth : at.nholders_total;
}

static int64_t figure(const tui_resource *x, int col)
{
    if (!x->has_stats) return -1;   /* no figures: below every figure */
    switch (col) {
    case C_ACQ: return x->acquisitions;
    case C_CONT: return x->contended;
    case C_P50: return x->wait_p50_ns;
    case C_P99: return x->wait_p99_ns;
    case C_MAX: return x->wait_max_ns;
    case C_HOLDMAX: return x->hold_max_ns;
    }
    return 0;
}

static int by_col(const void *pa, const void *pb)
{
    int ia = *(const int *)pa, ib = *(const int *)pb;
    const tui_resource *x = &sort_res[ia], *y = &sort_res[ib];
    int c = 0;
    switch (sort_col) {
    case C_KIND: c = strcmp(x->kind_name, y->kind_name); break;
    case C_NAME: c = strcmp(x->name, y->name); break;
    case C_CREATED: c = strcmp(x->created_at, y->created_at); break;
    case C_HOLD: case C_WAIT: {
        int64_t u = at_count(ia, sort_col == C_WAIT), v = at_count(ib, sort_col == C_WAIT);
        c = (u > v) - (u < v);
        break;
    }
    default: {
        int64_t u = figure(x, sort_col), v = figure(y, sort_col);
        c = (u > v) - (u < v);
    }
    }
    if (sort_desc) c = -c;
    return c ? c : (x->id > y->id) - (x->id < y->id);
}

/* The columns shown at this width (narrow terminals drop P50, HOLD MAX
 * and CREATED AT): s goes round those. */
static int shown_col(int col, int wide) { return wide || (col != C_P50 && col != C_HOLDMAX && col != C_CREATED); }

static int rows_of(tui_app *a, int *rows, int cap)
{
    const tui_resource *res;
    size_t n = tui_model_resources(a->m, &res);
    int k = 0;
    for (size_t i = 0; i < n && k < cap; i++)
        if (matches(a, &res[i])) rows[k++] = (int)i;
    if (sort_col >= 0) {
        sort_res = res;
        sort_app = a;
        qsort(rows, (size_t)k, sizeof rows[0], by_col);
    }
    list.n = k;
    for (int i = 0; i < k; i++)
        if (res[rows[i]].id == sel_id) list.sel = i;
    return k;
}

static void draw(tui_app *a, WINDOW *w)
{
    int h, wd;
    getmaxyx(w, h, wd);
    const tui_resource *res;
    size_t total = tui_model_resources(a->m, &res);
    static int rows[65536];
    int n = rows_of(a, rows, 65536);
    int body = h - 5;
    tui_list_fit(&list, body);

    int wide = wd >= WIDE;
    tui_column c[C_N] = {
        { "KIND", 9, 0 }, { "NAME", 0, 0 }, { "HOLDER", 11, 0 }, { "WAITERS", 12, 0 }, { "ACQ", 6, 1 },
        { "CONT", 5, 1 }, { "P50", wide ? 7 : -1, 1 }, { "P99", 7, 1 }, { "MAX", 7, 1 },
        { "HOLD MAX", wide ? 8 : -1, 1 }, { "CREATED AT", wide ? 24 : -1, 0 },
    };
    /* Counts are never cut ("4999~" for 499,999): as wide as the largest. */
    for (size_t i = 0; i < total; i++) {
        if (!res[i].has_stats) continue;
        char b[32];
        int dw = snprintf(b, sizeof b, "%lld", (long long)res[i].acquisitions);
        if (dw > c[C_ACQ].width) c[C_ACQ].width = dw;
        dw = snprintf(b, sizeof b, "%lld", (long long)res[i].contended);
        if (dw > c[C_CONT].width) c[C_CONT].width = dw;
    }
    /* Narrow terminals drop P50, HOLD MAX and CREATED AT (the summary below has them). */
    tui_column lay[C_N];
    int sort_at = -1;
    int map[C_N], nl = 0, xs[C_N];
    for (int i = 0; i < C_N; i++)
        if (c[i].width >= 0) {
            if (i == sort_col) sort_at = nl;
            map[nl] = i;
            lay[nl++] = c[i];
        }
    tui_columns_layout(lay, nl, wd, xs);
    tui_columns_header(w, 0, lay, nl, xs, sort_at, sort_desc);
    if (n == 0) {
        tui_put(w, 2, 2, 0, tui_attr(TUI_L_DIM), total ? "no resource matches the filter (Esc clears it)"
                                                        : "the trace has no locks, semaphores, queues or events");
        return;
    }
    for (int r = 0; r < body && list.top + r < n; r++) {
        int idx = rows[list.top + r];
        const tui_resource *x = &res[idx];
        tui_res_at at;
        int have = tui_model_resource_at(a->m, idx, a->t, &at) == 0;
        int sel = list.top + r == list.sel;
        int base = sel ? A_REVERSE : 0;
        int unborn = x->create_ts > a->t;
        if (sel) tui_fill(w, r + 1, 0, A_REVERSE);
        for (int k = 0; k < nl; k++) {
            char b[160];
            int look = base | (unborn ? tui_attr(TUI_L_DIM) : 0);
            b[0] = 0;
            switch (map[k]) {
            case C_KIND: snprintf(b, sizeof b, "%s", x->kind_name); break;
            case C_NAME: snprintf(b, sizeof b, "%s", x->name); break;
            case C_HOLD:
                if (!have) break;
                if (at.depth >= 0) snprintf(b, sizeof b, "depth %lld", (long long)at.depth);
                else ids(at.holders, at.nholders, at.nholders_total, b, sizeof b);
                if (at.nholders_total) look |= tui_attr(TUI_L_RUNNING);
                break;
            case C_WAIT:
                if (!have) break;
                ids(at.waiters, at.nwaiters, at.nwaiters_total, b, sizeof b);
                if (at.nwaiters_total) look |= tui_attr(TUI_L_WAITING);
                break;
            case C_ACQ: if (x->has_stats) snprintf(b, sizeof b, "%lld", (long long)x->acquisitions); break;
            case C_CONT: if (x->has_stats) snprintf(b, sizeof b, "%lld", (long long)x->contended); break;
            case C_P50: if (x->has_stats) snprintf(b, sizeof b, "%s", tui_fmt_dur(x->wait_p50_ns)); break;
            case C_P99: if (x->has_stats) snprintf(b, sizeof b, "%s", tui_fmt_dur(x->wait_p99_ns)); break;
            case C_MAX: if (x->has_stats) snprintf(b, sizeof b, "%s", tui_fmt_dur(x->wait_max_ns)); break;
            case C_HOLDMAX: if (x->has_stats) snprintf(b, sizeof b, "%s", tui_fmt_dur(x->hold_max_ns)); break;
            case C_CREATED: {
                char fit[128];
                snprintf(b, sizeof b, "%s", tr_fit_left(fit, sizeof fit, x->created_at, (size_t)lay[k].width));
                look |= tui_attr(TUI_L_DIM);
                break;
            }
            }
            if (!b[0] && map[k] >= C_ACQ && map[k] != C_CREATED) snprintf(b, sizeof b, "-");
            if (lay[k].right) tui_put_right(w, r + 1, xs[k], lay[k].width, look, b);
            else tui_put(w, r + 1, xs[k], lay[k].width, look, b);
        }
    }
    /* The selected one in full. */
    int idx = rows[list.sel];
    const tui_resource *x = &res[idx];
    sel_id = x->id;
    int y = h - 4;
    tui_putf(w, y, 0, 0, A_BOLD, "%s '%s'", x->kind_name, x->name);
    tui_putf(w, y + 1, 2, 0, tui_attr(TUI_L_DIM), "created at %s, t=%s", x->created_at[0] ? x->created_at : "?",
             tui_fmt_time(x->create_ts));
    if (x->has_stats)
        tui_putf(w, y + 2, 2, 0, A_NORMAL,
                 "waits p50 %s p99 %s max %s total %s  holds max %s total %s  max waiters %lld", tui_fmt_dur(x->wait_p50_ns),
                 tui_fmt_dur(x->wait_p99_ns), tui_fmt_dur(x->wait_max_ns), tui_fmt_dur(x->wait_total_ns),
                 tui_fmt_dur(x->hold_max_ns), tui_fmt_dur(x->hold_total_ns), (long long)x->max_waiters);
    if (is_queue(x)) {
        int lx = tui_putf(w, y + 3, 2, 0, A_NORMAL, "depth (max %lld) ", (long long)x->max_depth) + 2;
        depth_line(a, w, y + 3, lx, wd - lx - 1, idx);
    }
}

static int key_rows[65536];

static int key(tui_app *a, int ch)
{
    int *rows = key_rows;
    const tui_resource *res;
    tui_model_resources(a->m, &res);
    int n = rows_of(a, rows, 65536);
    int r = tui_list_key(&list, ch, LINES - 3 - 5);
    if (!(r & TUI_NOT_MINE)) {
        if (list.sel >= 0 && list.sel < n) sel_id = res[rows[list.sel]].id;
        return r;
    }
    if (ch == 's') {   /* the next column shown, then the trace's order again */
        do sort_col = sort_col + 1 == C_N ? -1 : sort_col + 1;
        while (sort_col >= 0 && !shown_col(sort_col, COLS >= WIDE));
        return TUI_REDRAW_VIEW;
    }
    if (ch == 'S' || ch == 'r') {
        sort_desc = !sort_desc;
        return TUI_REDRAW_VIEW;
    }
    if ((ch == '\n' || ch == KEY_ENTER) && n > 0) return tui_open_resource(a, rows[list.sel]);
    return TUI_NOT_MINE;
}

/* A click selects a row; on the selected one it opens it. */
static int mouse(tui_app *a, const tui_mouse *ev)
{
    if (!ev->press || ev->button != 0 || ev->y < 1 || ev->y > LINES - 3 - 5) return TUI_REDRAW_NONE;
    const tui_resource *res;
    tui_model_resources(a->m, &res);
    int n = rows_of(a, key_rows, 65536);
    int i = list.top + ev->y - 1;
    if (i < 0 || i >= n) return TUI_REDRAW_NONE;
    if (i == list.sel) return tui_open_resource(a, key_rows[i]);
    list.sel = i;
    sel_id = res[key_rows[i]].id;
    return TUI_REDRAW_VIEW;
}

static const char *const help[] = {
    "j k", "select (PgUp PgDn Home End)",
    "Enter", "its holds and waits",
    "s", "sort by the next column",
    "S r", "reverse the sort",
    NULL,
};

const tui_view tui_view_resources = {
    "Resources", draw, key, help,
    "Enter holds and waits  s sort  S reverse  \\ filter  , . event  [ ] step  t time",
    NULL, mouse, NULL,
};

/* ---- one resource ------------------------------------------------------- */

static tui_list ulist;
static int shown_res = -1;
static tui_use uses[200];
static int nuses;

static void detail_draw(tui_app *a, WINDOW *w)
{
    int h, wd;
    getmaxyx(w, h, wd);
    const tui_resource *res;
    size_t nres = tui_model_resources(a->m, &res);
    int idx = a->detail_res;
    if (idx < 0 || (size_t)idx >= nres) {
        tui_put(w, 1, 2, 0, A_NORMAL, "no resource");
        return;
    }
    if (shown_res != idx) {
        shown_res = idx;
        ulist.sel = ulist.top = 0;
    }
    const tui_resource *x = &res[idx];
    int y = 0;
    tui_putf(w, y++, 0, 0, tui_attr(TUI_L_SECTION), "%s '%s'", x->kind_name, x->name);
    tui_putf(w, y++, 2, 0, tui_attr(TUI_L_DIM), "created at %s, t=%s", x->created_at[0] ? x->created_at : "?",
             tui_fmt_time(x->create_ts));
    if (x->has_stats)
        tui_putf(w, y++, 2, 0, A_NORMAL, "%lld acquisitions, %lld contended; waits p50 %s p99 %s max %s; holds max %s",
                 (long long)x->acquisitions, (long long)x->contended, tui_fmt_dur(x->wait_p50_ns),
                 tui_fmt_dur(x->wait_p99_ns), tui_fmt_dur(x->wait_max_ns), tui_fmt_dur(x->hold_max_ns));
    tui_res_at at;
    if (tui_model_resource_at(a->m, idx, a->t, &at) == 0) {
        char hb[200], wb[200];
        int xx = tui_putf(w, y, 2, 0, A_NORMAL, "at the cursor: ");
        if (at.depth < 0 || at.nholders_total)   /* a queue is not held: its depth says more */
            xx += tui_putf(w, y, 2 + xx, 0, tui_attr(TUI_L_RUNNING), "held by %s  ",
                           ids(at.holders, at.nholders, at.nholders_total, hb, sizeof hb));
        else
            xx += tui_putf(w, y, 2 + xx, 0, A_BOLD, "%lld in the queue  ", (long long)at.depth);
        tui_putf(w, y, 2 + xx, 0, tui_attr(TUI_L_WAITING), "waiters %s",
                 ids(at.waiters, at.nwaiters, at.nwaiters_total, wb, sizeof wb));
        y++;
    }
    if (is_queue(x)) {
        int lx = tui_put(w, y, 2, 0, A_NORMAL, "depth ") + 2;
        depth_line(a, w, y++, lx, wd - lx - 1, idx);
    }
    /* Where the waiting happens, by line (the block profile of the whole run). */
    const tui_site *sites;
    size_t nsites = tui_model_resource_sites(a->m, idx, 4, &sites);
    if (nsites && h - y > 12) {
        y++;
        tui_put(w, y++, 0, 0, tui_attr(TUI_L_SECTION), "Where it was waited on (the whole run)");
        for (size_t i = 0; i < nsites; i++) {
            char fit[160];
            int xx = tui_putf(w, y, 2, 0, A_NORMAL, "%5lld waits  total %-7s p99 %-7s max %-7s  ",
                              (long long)sites[i].contended, tui_fmt_dur(sites[i].wait_total_ns),
                              tui_fmt_dur(sites[i].wait_p99_ns), tui_fmt_dur(sites[i].wait_max_ns));
            int room = wd - 2 - xx;
            if (room > 4)
                tui_put(w, y, 2 + xx, 0, tui_attr(TUI_L_DIM), tr_fit_left(fit, sizeof fit, sites[i].at, (size_t)room));
            y++;
        }
    }
    y++;
    tui_put(w, y++, 0, 0, tui_attr(TUI_L_SECTION), "Holds and waits around the cursor (Enter opens the task)");
    const tui_use *u;
    nuses = (int)tui_model_resource_uses(a->m, idx, a->t, 200, &u);
    memcpy(uses, u, sizeof uses[0] * (size_t)nuses);
    tui_column c[] = { { "", 4, 0 }, { "TASK", 22, 0 }, { "FROM", 12, 1 }, { "TO", 12, 1 }, { "FOR", 7, 1 },
                       { "DETAIL", 0, 0 } };
    int xs[6];
    tui_columns_layout(c, 6, wd, xs);
    tui_columns_header(w, y++, c, 6, xs, -1, 0);
    if (nuses == 0) {
        tui_put(w, y, 2, 0, tui_attr(TUI_L_DIM), "(no holds or waits recorded)");
        return;
    }
    int body = h - y;
    ulist.n = nuses;
    /* A new cursor time: select the use at the cursor (the first covering
     * it or after it), so the list opens where the user is looking. */
    static int64_t ulist_t = INT64_MIN;
    static int ulist_res = -1;
    if (a->t != ulist_t || idx != ulist_res) {
        ulist_t = a->t;
        ulist_res = idx;
        int at = nuses - 1;
        for (int i = 0; i < nuses; i++)
            if (uses[i].start >= a->t || uses[i].end < 0 || uses[i].end > a->t) {
                at = i;
                break;
            }
        ulist.sel = at;
        ulist.top = at > body / 2 ? at - body / 2 : 0;
    }
    tui_list_fit(&ulist, body);
    const tui_task *tasks;
    tui_model_tasks(a->m, &tasks);
    for (int r = 0; r < body && ulist.top + r < nuses; r++) {
        const tui_use *e = &uses[ulist.top + r];
        int sel = ulist.top + r == ulist.sel;
        int cover = e->start <= a->t && (e->end < 0 || e->end > a->t);
        int base = (sel ? A_REVERSE : 0) | (cover ? A_BOLD : 0);
        int yy = y + r;
        if (sel) tui_fill(w, yy, 0, A_REVERSE);
        tui_put(w, yy, xs[0], c[0].width, base | tui_attr(e->is_wait ? TUI_L_WAITING : TUI_L_RUNNING),
                e->is_wait ? "wait" : "hold");
        int ti = tui_model_task_index(a->m, e->task);
        tui_putf(w, yy, xs[1], c[1].width, base, "#%lld %s", (long long)e->task, ti >= 0 ? tasks[ti].name : "");
        tui_put_right(w, yy, xs[2], c[2].width, base, tui_fmt_time(e->start));
        tui_put_right(w, yy, xs[3], c[3].width, base, e->end >= 0 ? tui_fmt_time(e->end) : "(open)");
        tui_put_right(w, yy, xs[4], c[4].width, base,
                      tui_fmt_dur((e->end >= 0 ? e->end : a->info->duration_ns) - e->start));
        char d[300];
        d[0] = 0;
        size_t o = 0;
        if (e->is_wait && e->other) o += (size_t)snprintf(d + o, sizeof d - o, "while #%lld held it  ", (long long)e->other);
        if (e->is_wait && e->result) o += (size_t)snprintf(d + o, sizeof d - o, "result %lld  ", (long long)e->result);
        if (e->at && e->at[0] && o < sizeof d) snprintf(d + o, sizeof d - o, "at %s", e->at);
        tui_put(w, yy, xs[5], c[5].width, base | (cover ? 0 : tui_attr(TUI_L_DIM)), d);
    }
}

static int detail_key(tui_app *a, int ch)
{
    int r = tui_list_key(&ulist, ch, LINES - 3 - 8);
    if (!(r & TUI_NOT_MINE)) return r;
    if ((ch == '\n' || ch == KEY_ENTER) && ulist.sel >= 0 && ulist.sel < nuses) {
        int ti = tui_model_task_index(a->m, uses[ulist.sel].task);
        return tui_open_task(a, ti);
    }
    if (ch == 'T' && ulist.sel >= 0 && ulist.sel < nuses) return tui_jump(a, uses[ulist.sel].start);
    return TUI_NOT_MINE;
}

static const char *const detail_help[] = {
    "j k", "select a hold or wait",
    "Enter", "open its task",
    "T", "move the cursor to its start",
    "Esc", "back",
    NULL,
};

const tui_view tui_view_resdetail = {
    "Resource", detail_draw, detail_key, detail_help,
    "Enter open task  T cursor to its start  , . event  [ ] step  Esc back",
    NULL, NULL, NULL,
};
