/* SPDX-License-Identifier: MIT */
/* model_res.c -- resources (locks, semaphores, queues, events ...) and
 * warnings: loaded whole at open with their contention figures; who holds
 * and who waits on a resource at t; its history of holds and waits.
 *
 * Holders at t come from `hold` spans through the time bins (nine index
 * probes, whatever the trace's size); waiters at t from the reader
 * (tr_waiters_of: the `waits` table by resource, a crowd's count from the
 * builder's series), asked only for the rows a frame draws.  Waits in the history are
 * found from the holds they led to: a wait that ended in a hold ended at
 * that hold's start, in the waiter's step row just before it.
 */
#include "model_int.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_res(const void *a, const void *b)
{
    int64_t x = ((const tui_resource *)a)->id, y = ((const tui_resource *)b)->id;
    return x < y ? -1 : x > y;
}


int tui__load_resources(tui_model *m)
{
    sqlite3_stmt *st;
    const char *sql =
        "SELECT r.id, r.kind, r.name, r.create_loc, r.create_ts, r.ring, s.resource, s.acquisitions, s.contended,"
        " s.wait_total_ns, s.wait_p50_ns, s.wait_p99_ns, s.wait_max_ns, s.hold_total_ns, s.hold_max_ns,"
        " s.max_waiters, s.max_depth, s.longest_waiter, s.longest_holder"
        " FROM resources r LEFT JOIN resource_stats s ON s.resource = r.id ORDER BY r.id";
    if (sqlite3_prepare_v2(m->db, sql, -1, &st, NULL) != SQLITE_OK) return -EILSEQ;
    size_t n = 0, cap = m->nres;
    tui_resource *res = m->res;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            tui_resource *nr = realloc(res, cap * sizeof *nr);
            if (!nr) {
                rc = SQLITE_NOMEM;
                break;
            }
            res = nr;
        }
        int64_t id = sqlite3_column_int64(st, 0);
        int same = n < m->nres && res[n].id == id; /* a refresh: keep the strings */
        tui_resource r = { 0 };
        r.id = id;
        const char *kind = tui__col_text(st, 1);
        int k = tr_wait_from_name(kind);
        r.kind = k >= 0 ? k : CO_WAIT_NONE;
        r.kind_name = same ? res[n].kind_name : tui__intern(m, k == CO_WAIT_QUEUE_GET ? TUI_KIND_QUEUE : kind);
        r.name = same ? res[n].name : tui__intern(m, tui__col_text(st, 2));
        r.created_at = tui__where(m, tui__col_int(st, 3, 0));
        r.create_ts = tui__col_int(st, 4, 0);
        r.ring = (uint32_t)tui__col_int(st, 5, 0);
        r.has_stats = sqlite3_column_type(st, 6) != SQLITE_NULL;
        r.acquisitions = tui__col_int(st, 7, 0);
        r.contended = tui__col_int(st, 8, 0);
        r.wait_total_ns = tui__col_int(st, 9, 0);
        r.wait_p50_ns = tui__col_int(st, 10, 0);
        r.wait_p99_ns = tui__col_int(st, 11, 0);
        r.wait_max_ns = tui__col_int(st, 12, 0);
        r.hold_total_ns = tui__col_int(st, 13, 0);
        r.hold_max_ns = tui__col_int(st, 14, 0);
        r.max_waiters = tui__col_int(st, 15, 0);
        r.max_depth = tui__col_int(st, 16, 0);
        r.longest_waiter = tui__col_int(st, 17, 0);
        r.longest_holder = tui__col_int(st, 18, 0);
        res[n++] = r;
    }
    sqlite3_finalize(st);
    m->res = res;
    if (rc != SQLITE_DONE) return rc == SQLITE_NOMEM ? -ENOMEM : -EILSEQ;
    if (n > 1) qsort(res, n, sizeof *res, cmp_res);
    m->nres = n;
    m->info.nresources = n;
    return 0;
}

size_t tui_model_resources(tui_model *m, const tui_resource **out)
{
    *out = m->res;
    return m->nres;
}


/* Waiters of a resource at t.  A finished trace: the reader's, asked per
 * resource when its row is drawn.  A trace still recording (its open
 * awaits are not in `waits`): one pass over the live tasks (their states
 * at t are what a task_at answers, kept per task over the interval they
 * hold), which probes only tasks whose state changed. */
/* Longest waiting first: insertion of (task, since) into o's list. */
static void add_waiter(tui_res_at *o, int64_t *s, int64_t task, int64_t since)
{
    o->nwaiters_total++;
    int pos = o->nwaiters;
    if (pos == TUI_MAX_LISTED) {
        if (since > s[pos - 1] || (since == s[pos - 1] && task > o->waiters[pos - 1])) return;
        pos--;
    } else {
        o->nwaiters++;
    }
    /* ties by task id: the same order whichever pass found them */
    while (pos > 0 && (s[pos - 1] > since || (s[pos - 1] == since && o->waiters[pos - 1] > task))) {
        s[pos] = s[pos - 1];
        o->waiters[pos] = o->waiters[pos - 1];
        pos--;
    }
    s[pos] = since;
    o->waiters[pos] = task;
}

static int res_pass(tui_model *m, int64_t t)
{
    tui_res_cache *c = &m->rc;
    if (c->gen == m->gen && c->t == t && c->at) return 0;
    size_t nr = m->nres ? m->nres : 1;
    tui_res_at *at = realloc(c->at, nr * sizeof *at);
    if (at) c->at = at;
    unsigned char *have = at ? realloc(c->have, nr) : NULL;
    if (have) c->have = have;
    int64_t *since = have ? malloc(nr * TUI_MAX_LISTED * sizeof *since) : NULL;
    if (!since) return -ENOMEM;
    memset(c->at, 0, nr * sizeof *c->at);
    memset(c->have, 0, nr);
    for (size_t i = 0; i < m->nres; i++) c->at[i].depth = -1;
    if (m->built) {
        /* A finished trace has its awaits by resource (`waits`): each
         * row asks for its own when first drawn (tui_model_resource_at). */
        free(since);
        c->t = t;
        c->gen = m->gen;
        return 0;
    }
    /* A trace still recording: its open awaits are not in `waits` yet, so
     * each live task's state is asked. */
    for (size_t i = 0; i < m->ntasks && m->nres; i++) {
        const tui_task *k = &m->tasks[i];
        if (t < k->spawn_ts || (k->end_ts >= 0 && t >= k->end_ts) || k->start_ts < 0 || t < k->start_ts) continue;
        tui_at a;
        if (tui_model_task_at(m, (int)i, t, &a) < 0 || a.state != TUI_WAITING || a.wait == CO_WAIT_TASK || !a.on)
            continue;
        int ri = tui_model_resource_index(m, a.on);
        if (ri < 0) continue;
        add_waiter(&c->at[ri], since + (size_t)ri * TUI_MAX_LISTED, k->id, a.since);
    }
    free(since);
    c->t = t;
    c->gen = m->gen;
    return 0;
}

int tui_model_resource_at(tui_model *m, int idx, int64_t t, tui_res_at *out)
{
    if (idx < 0 || (size_t)idx >= m->nres) return -EINVAL;
    int r = res_pass(m, t);
    if (r < 0) return r;
    tui_res_at *o = &m->rc.at[idx];
    if (!m->rc.have[idx]) {
        /* What is asked of this row alone: the bins for its holders, the
         * chunks at t for a queue's depth. */
        const tui_resource *x = &m->res[idx];
        if (m->built) {
            /* Its waiters: how many, and the longest waiting, from the
             * reader (a count and at most TUI_MAX_LISTED rows a bin). */
            tr_wait w[TUI_MAX_LISTED];
            int64_t n = tr_waiters_of(m->q, x->id, t, w, TUI_MAX_LISTED);
            if (n < 0) return (int)n;
            o->nwaiters_total = n > INT32_MAX ? INT32_MAX : (int)n;
            o->nwaiters = o->nwaiters_total < TUI_MAX_LISTED ? o->nwaiters_total : TUI_MAX_LISTED;
            for (int i = 0; i < o->nwaiters; i++) o->waiters[i] = w[i].task;
        }
        o->nholders_total = tui__holders_at(m, x->id, t, o->holders, TUI_MAX_LISTED);
        o->nholders = o->nholders_total < TUI_MAX_LISTED ? o->nholders_total : TUI_MAX_LISTED;
        if (x->kind == CO_WAIT_QUEUE_GET) {
            int64_t d;
            if (tui__queue_depth_at(m, idx, t, &d) == 0) o->depth = d;
        }
        m->rc.have[idx] = 1;
    }
    *out = *o;
    return 0;
}

/* ---- history --------------------------------------------------------------- */

static tui_use *use_slot(tui_model *m, size_t n)
{
    if (n < m->uses_cap) return &m->uses[n];
    size_t cap = m->uses_cap ? 2 * m->uses_cap : 128;
    tui_use *u = realloc(m->uses, cap * sizeof *u);
    if (!u) return NULL;
    m->uses = u;
    m->uses_cap = cap;
    return &m->uses[n];
}

static int cmp_use(const void *a, const void *b)
{
    const tui_use *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start ? 1 : x->is_wait < y->is_wait ? 1 : x->is_wait > y->is_wait ? -1 : 0;
}

/* The wait that ended at ts in task's step row just before it, if it
 * waited on res. */
static int wait_before(tui_model *m, sqlite3_stmt *st, int64_t task, int64_t ts, int64_t res, tui_use *u)
{
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, task);
    sqlite3_bind_int64(st, 2, ts);
    int got = 0;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 1) == res &&
        sqlite3_column_type(st, 2) != SQLITE_NULL && sqlite3_column_int64(st, 2) == ts) {
        u->is_wait = 1;
        u->task = task;
        u->start = sqlite3_column_int64(st, 0);
        u->end = ts;
        u->at = tui__where(m, sqlite3_column_int64(st, 3));
        u->result = sqlite3_column_int64(st, 4);
        got = 1;
    }
    sqlite3_reset(st);
    return got;
}

/* A queue has no holds: its history is the waits on it (gets on an empty
 * queue, puts on a full one, joins), found by the reader in the chunks
 * around t -- the awaits, then each one's end from the waiter's step row. */
static size_t queue_uses(tui_model *m, int idx, int64_t t, size_t cap)
{
    tr_found *f = malloc((cap ? cap : 1) * sizeof *f);
    if (!f) return 0;
    size_t nbefore, nf = tr_queue_awaits(m->ch, m->res[idx].ring, m->res[idx].id, t, cap, f, &nbefore);
    size_t n = 0;
    for (size_t i = 0; i < nf; i++) {
        tui_use *u = use_slot(m, n);
        if (!u) break;
        memset(u, 0, sizeof *u);
        u->is_wait = 1;
        u->task = (int64_t)f[i].rec.task;
        u->start = f[i].ns;
        u->end = -1;
        u->at = tui__where(m, f[i].rec.kind_loc >> 8);
        n++;
    }
    free(f);
    /* How each wait ended: the waiter's step row that the await closed. */
    for (size_t i = 0; i < n; i++) {
        tui_use *u = &m->uses[i];
        tr_step s;
        if (tr_step_at(m->q, u->task, u->start, &s) > 0 && s.end == u->start && s.has_resumed && !s.open) u->end = s.resumed;
    }
    if (n > 1) qsort(m->uses, n, sizeof *m->uses, cmp_use);
    return n;
}

static size_t uses_of(tui_model *m, int idx, int64_t t, size_t cap);

size_t tui_model_resource_uses(tui_model *m, int idx, int64_t t, size_t cap, const tui_use **out)
{
    *out = NULL;
    if (idx < 0 || (size_t)idx >= m->nres || cap == 0) return 0;
    if (m->uses_gen == m->gen && m->uses_idx == idx && m->uses_t == t && m->uses_want == cap) {
        *out = m->uses;
        return m->uses_n;
    }
    size_t n = uses_of(m, idx, t, cap);
    m->uses_gen = m->gen;
    m->uses_idx = idx;
    m->uses_t = t;
    m->uses_want = cap;
    m->uses_n = n;
    *out = m->uses;
    return n;
}

/* The holds of the resource nearest t, each with the wait that led to it. */
static size_t uses_of(tui_model *m, int idx, int64_t t, size_t cap)
{
    int64_t id = m->res[idx].id;
    if (m->res[idx].kind == CO_WAIT_QUEUE_GET) return queue_uses(m, idx, t, cap);
    sqlite3_stmt *holds[2], *wst;
    /* Holds by the (resource, start) index: the last ones before t, the first ones after. */
    if (sqlite3_prepare_v2(m->db,
                           "SELECT task, start, end, open, loc FROM spans WHERE kind = '" TR_NAME_HOLD "' AND resource = ?1"
                           " AND start <= ?2 ORDER BY start DESC LIMIT ?3", -1, &holds[0], NULL) != SQLITE_OK)
        return 0;
    if (sqlite3_prepare_v2(m->db,
                           "SELECT task, start, end, open, loc FROM spans WHERE kind = '" TR_NAME_HOLD "' AND resource = ?1"
                           " AND start > ?2 ORDER BY start LIMIT ?3", -1, &holds[1], NULL) != SQLITE_OK) {
        sqlite3_finalize(holds[0]);
        return 0;
    }
    if (sqlite3_prepare_v2(m->db,
                           "SELECT end, resource, resumed, end_loc, result FROM spans WHERE task = ?1 AND kind = '" TR_NAME_STEP "'"
                           " AND start < ?2 AND wait IS NOT NULL ORDER BY start DESC LIMIT 1", -1, &wst, NULL) != SQLITE_OK) {
        sqlite3_finalize(holds[0]);
        sqlite3_finalize(holds[1]);
        return 0;
    }
    size_t n = 0;
    int64_t half = (int64_t)(cap / 4) + 1; /* each hold may bring its wait: about cap/2 rows a side */
    for (int side = 0; side < 2; side++) {
        sqlite3_stmt *st = holds[side];
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, t);
        sqlite3_bind_int64(st, 3, half);
        while (sqlite3_step(st) == SQLITE_ROW) {
            tui_use *u = use_slot(m, n);
            if (!u) break;
            memset(u, 0, sizeof *u);
            u->task = sqlite3_column_int64(st, 0);
            u->start = sqlite3_column_int64(st, 1);
            u->end = sqlite3_column_int(st, 3) ? -1 : sqlite3_column_int64(st, 2);
            u->at = tui__where(m, sqlite3_column_int64(st, 4));
            n++;
            tui_use w;
            memset(&w, 0, sizeof w);
            if (wait_before(m, wst, u->task, u->start, id, &w) && (u = use_slot(m, n))) {
                *u = w;
                n++;
            }
        }
    }
    sqlite3_finalize(holds[0]);
    sqlite3_finalize(holds[1]);
    sqlite3_finalize(wst);
    if (n > 1) qsort(m->uses, n, sizeof *m->uses, cmp_use);
    /* Who held it when each wait began: the hold open at that moment. */
    for (size_t i = 0; i < n; i++) {
        if (!m->uses[i].is_wait) continue;
        for (size_t j = i; j-- > 0;) {
            const tui_use *h = &m->uses[j];
            if (!h->is_wait && h->start <= m->uses[i].start && (h->end < 0 || h->end >= m->uses[i].start)) {
                m->uses[i].other = h->task;
                break;
            }
        }
    }
    if (n > cap) {
        /* keep the cap rows nearest t */
        size_t first = 0;
        while (first < n && m->uses[first].start <= t) first++;
        size_t from = first > cap / 2 ? first - cap / 2 : 0;
        if (from + cap > n) from = n - cap;
        memmove(m->uses, m->uses + from, cap * sizeof *m->uses);
        n = cap;
    }
    return n;
}

size_t tui_model_resource_sites(tui_model *m, int idx, size_t cap, const tui_site **out)
{
    *out = m->sites;
    if (idx < 0 || (size_t)idx >= m->nres) return 0;
    if (cap > sizeof m->sites / sizeof m->sites[0]) cap = sizeof m->sites / sizeof m->sites[0];
    sqlite3_stmt *st;
    /* No table (an older trace), or not ours: no sites, no error. */
    if (sqlite3_prepare_v2(m->db,
                           "SELECT loc, acquisitions, contended, wait_total_ns, wait_p99_ns, wait_max_ns"
                           " FROM contention_sites WHERE resource = ? ORDER BY wait_total_ns DESC, contended DESC"
                           " LIMIT ?", -1, &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_int64(st, 1, m->res[idx].id);
    sqlite3_bind_int64(st, 2, (int64_t)cap);
    size_t n = 0;
    while (n < cap && sqlite3_step(st) == SQLITE_ROW) {
        tui_site *s = &m->sites[n++];
        const tui_loc *l = tui__loc(m, tui__col_int(st, 0, 0));
        s->at = l ? l->where : "?";
        s->func = l ? l->func : "";
        s->acquisitions = tui__col_int(st, 1, 0);
        s->contended = tui__col_int(st, 2, 0);
        s->wait_total_ns = tui__col_int(st, 3, 0);
        s->wait_p99_ns = tui__col_int(st, 4, 0);
        s->wait_max_ns = tui__col_int(st, 5, 0);
    }
    sqlite3_finalize(st);
    return n;
}

/* ---- warnings --------------------------------------------------------------- */

static int cmp_warning(const void *a, const void *b)
{
    const tui_warning *x = a, *y = b;
    if (x->ts != y->ts) return x->ts < y->ts ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

typedef struct warn_load {
    tui_model *m;
    size_t n, cap;
    int err;
} warn_load;

/* A stack keeps its lines: each sanitized on its own. */
static const char *stack_lines(tui_model *m, const char *stack)
{
    if (!*stack) return "";
    size_t len = strlen(stack);
    char *buf = malloc(len + 1), *o = buf;
    if (!buf) return "";
    *o = 0;
    for (const char *p = stack; *p;) {
        const char *nl = strchr(p, '\n');
        size_t l = nl ? (size_t)(nl - p) : strlen(p);
        char line[512];
        snprintf(line, sizeof line, "%.*s", (int)(l < 511 ? l : 511), p);
        o += tr_sanitize(o, len + 1 - (size_t)(o - buf), line);
        if (nl && (size_t)(o - buf) < len) *o++ = '\n';
        *o = 0;
        p = nl ? nl + 1 : p + l;
    }
    const char *kept = tui__intern_lines(m, buf);
    free(buf);
    return kept;
}

static int add_warning(void *ctx, const tr_warning_row *r)
{
    warn_load *wl = ctx;
    tui_model *m = wl->m;
    if (wl->n == wl->cap) {
        size_t cap = wl->cap ? 2 * wl->cap : 64;
        tui_warning *nw = realloc(m->warn, cap * sizeof *nw);
        if (!nw) {
            wl->err = -ENOMEM;
            return 1;
        }
        m->warn = nw;
        wl->cap = cap;
    }
    tui_warning *w = &m->warn[wl->n++];
    w->id = r->id;
    w->kind = r->kind;
    w->kind_name = tui__intern(m, r->kind_name);
    w->task = r->task;
    w->task2 = r->task2;
    w->resource = r->resource;
    w->ts = r->ts;
    w->dur = r->dur;
    w->at = tui__where(m, r->loc);
    w->at2 = tui__where(m, r->loc2);
    w->cause = tui__where(m, r->cause_loc);
    w->message = tui__intern(m, r->message);
    w->stack = stack_lines(m, r->stack);
    return 0;
}

int tui__load_warnings(tui_model *m)
{
    /* Warnings are only ever added: a refresh reads the new ones. */
    int64_t last = 0;
    for (size_t i = 0; i < m->nwarn; i++)
        if (m->warn[i].id > last) last = m->warn[i].id;
    /* At most 100k: a trace with more is one bug repeated, and the view
     * lists them anyway. */
    warn_load wl = { m, m->nwarn, m->nwarn, 0 };
    int err = tr_warnings(m->db, NULL, last, TR_WARNINGS_BY_ID, 100000, add_warning, &wl);
    if (wl.err) return wl.err;
    if (err) return err == -ENOMEM ? err : -EILSEQ;
    size_t n = wl.n;
    m->nwarn = n;
    /* In time order for the view and for "the refusal at t"; ids are
     * recording order, which is not always time order across threads. */
    if (n > 1) qsort(m->warn, n, sizeof *m->warn, cmp_warning);
    m->info.nwarnings = n;
    return 0;
}

size_t tui_model_warnings(tui_model *m, const tui_warning **out)
{
    *out = m->warn;
    return m->nwarn;
}

void tui__free_res(tui_model *m)
{
    free(m->res);
    free(m->warn);
}

int tui__mark_stacks(tui_model *m)
{
    unsigned char *h = realloc(m->has_stack, m->ntasks ? m->ntasks : 1);
    if (!h) return -ENOMEM;
    memset(h, 0, m->ntasks);
    for (size_t i = 0; i < m->nwarn; i++) {
        if (!m->warn[i].task || !*m->warn[i].stack) continue;
        int k = tui_model_task_index(m, m->warn[i].task);
        if (k >= 0) h[k] = 1;
    }
    m->has_stack = h;
    return 0;
}
