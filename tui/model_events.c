/* model_events.c -- events, read from the recording itself.
 *
 * The events table has no time index, and awaits and resumes are not in it
 * at all (they are the edges of step rows).  An index on events(task, ts)
 * would cost a 10M-event trace 2.5 s more to build and 75 MB more on disk.
 * The chunks need neither: each is the events of one thread over a time
 * range, in order, and there are only a few thousand of them.  The model
 * keeps the chunk directory (seq, ring, first and last time) in memory and
 * decodes the one or two chunks around a time (about 16k events each) to
 * answer "the next event after t", "this task's events near t" or "the
 * queue's depth at t".  The last few decoded chunks are kept, because a
 * cursor moves by small steps.
 */
#include "model_int.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tui__load_chunks(tui_model *m)
{
    if (m->nchunks == 0) tr_clock_load(m->db, &m->clk);
    sqlite3_stmt *st;
    /* Only the header columns: the blob stays on its overflow pages. */
    if (sqlite3_prepare_v2(m->db, "SELECT seq, ring, n, first_ts, last_ts FROM chunks WHERE seq > ? ORDER BY seq", -1,
                           &st, NULL) != SQLITE_OK)
        return -EILSEQ;
    sqlite3_bind_int64(st, 1, m->max_seq);
    size_t cap = m->nchunks;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (m->nchunks >= cap) {
            cap = cap < 64 ? 64 : 2 * cap;
            tui_chunk *n = realloc(m->chunks, cap * sizeof *n);
            if (!n) {
                sqlite3_finalize(st);
                return -ENOMEM;
            }
            m->chunks = n;
        }
        tui_chunk *c = &m->chunks[m->nchunks];
        c->seq = sqlite3_column_int64(st, 0);
        int64_t ring = sqlite3_column_int64(st, 1), n = sqlite3_column_int64(st, 2);
        if (ring < 0 || ring >= TR_NRINGS || n < 0 || n > 1 << 26) continue; /* not a chunk we could have written */
        c->ring = (uint32_t)ring;
        c->n = (uint32_t)n;
        c->first = tr_clock_ns(&m->clk, (uint64_t)sqlite3_column_int64(st, 3));
        c->last = tr_clock_ns(&m->clk, (uint64_t)sqlite3_column_int64(st, 4));
        if (c->last < c->first) c->last = c->first;
        m->max_seq = c->seq;
        m->nchunks++;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -EILSEQ;
}

static void collect(void *ctx, uint32_t ring, const tr_rec *e)
{
    tui_decoded *d = ctx;
    if (d->n == d->cap) {
        size_t cap = d->cap ? 2 * d->cap : 4096;
        tr_rec *r = realloc(d->recs, cap * sizeof *r);
        if (!r) return;
        d->recs = r;
        int64_t *ns = realloc(d->ns, cap * sizeof *ns);
        if (!ns) return;
        d->ns = ns;
        d->cap = cap;
    }
    d->recs[d->n++] = *e;
}

const tui_decoded *tui__decode(tui_model *m, size_t ci)
{
    if (ci >= m->nchunks) return NULL;
    int64_t seq = m->chunks[ci].seq;
    tui_decoded *slot = &m->dec[0];
    for (int i = 0; i < TUI_DECODED_SLOTS; i++) {
        if (m->dec[i].seq == seq) {
            m->dec[i].used = ++m->dec_clock;
            return &m->dec[i];
        }
        if (m->dec[i].used < slot->used) slot = &m->dec[i];
    }
    sqlite3_stmt *st = m->st_chunk;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, seq);
    slot->seq = 0;
    slot->n = 0;
    if (sqlite3_step(st) != SQLITE_ROW) return NULL;
    const void *blob = sqlite3_column_blob(st, 1);
    int len = sqlite3_column_bytes(st, 1);
    uint32_t ring = 0;
    if (!blob || tr_chunk_decode(blob, (size_t)len, &ring, collect, slot) < 0) {
        sqlite3_reset(st);
        return NULL; /* damaged: as if it held nothing */
    }
    sqlite3_reset(st);
    for (size_t i = 0; i < slot->n; i++) slot->ns[i] = tr_clock_ns(&m->clk, slot->recs[i].ts);
    slot->seq = seq;
    slot->ring = m->chunks[ci].ring;
    slot->used = ++m->dec_clock;
    return slot;
}

void tui__free_events(tui_model *m)
{
    for (int i = 0; i < TUI_DECODED_SLOTS; i++) {
        free(m->dec[i].recs);
        free(m->dec[i].ns);
    }
    free(m->chunks);
    free(m->events);
}

/* ---- describing an event --------------------------------------------- */

static const char *string_text(tui_model *m, uint64_t id, char *buf, size_t cap)
{
    sqlite3_stmt *st = m->st_string;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, (int64_t)id);
    buf[0] = 0;
    if (sqlite3_step(st) == SQLITE_ROW) tr_sanitize(buf, cap, (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    return buf;
}

static const char *res_name(tui_model *m, uint64_t id)
{
    int i = tui_model_resource_index(m, (int64_t)id);
    return i >= 0 ? m->res[i].name : "?";
}

static const char *task_name(tui_model *m, uint64_t id)
{
    int i = tui_model_task_index(m, (int64_t)id);
    return i >= 0 ? m->tasks[i].name : "?";
}

void tui__describe(tui_model *m, tui_event *ev, const tr_rec *r, int64_t ns, uint32_t ring)
{
    unsigned kind = r->kind_loc & 0xff;
    ev->ts = ns;
    ev->kind = (int)kind;
    ev->kind_name = tr_event_name(kind);
    ev->task = r->task;
    ev->res = (int64_t)r->res;
    ev->arg = (int64_t)r->arg;
    ev->ring = ring;
    ev->at = tui__where(m, r->kind_loc >> 8);
    char s[120];
    char *t = ev->text;
    size_t cap = sizeof ev->text;
    switch (kind) {
    case TR_SPAWN: snprintf(t, cap, "spawned by #%llu", (unsigned long long)r->res); break;
    case TR_START: snprintf(t, cap, "first run"); break;
    case TR_AWAIT: {
        unsigned wk = (unsigned)(r->arg & 0xff);
        if (wk == CO_WAIT_TASK)
            snprintf(t, cap, "await task #%llu %s", (unsigned long long)r->res, task_name(m, r->res));
        else if (r->res && tui_model_resource_index(m, (int64_t)r->res) >= 0)
            snprintf(t, cap, "await %s '%s'", tr_wait_name(wk), res_name(m, r->res));
        else
            snprintf(t, cap, "await %s", tr_wait_name(wk));
        break;
    }
    case TR_RESUME:
        if ((int64_t)r->arg < 0) snprintf(t, cap, "resume: %s", co_strerror((int)(int64_t)r->arg));
        else snprintf(t, cap, "resume");
        break;
    case TR_END:
        if ((int64_t)r->arg < 0) snprintf(t, cap, "end: %s", co_strerror((int)(int64_t)r->arg));
        else snprintf(t, cap, "end (%lld)", (long long)(int64_t)r->arg);
        break;
    case TR_CANCEL:
        if ((r->arg & 0xff) == TR_CANCEL_AFTER_HANDOFF) /* the rule in runtime/await.c */
            snprintf(t, cap, "cancel task #%llu %s: after its %s handed it something, kept for its next await",
                     (unsigned long long)r->res, task_name(m, r->res), tr_wait_name((unsigned)(r->arg >> 8 & 0xff)));
        else
            snprintf(t, cap, "cancel task #%llu %s", (unsigned long long)r->res, task_name(m, r->res));
        break;
    case TR_DETACH: snprintf(t, cap, "detach #%llu", (unsigned long long)r->res); break;
    case TR_RES_NEW: snprintf(t, cap, "create %s '%s'", tr_wait_name((unsigned)(r->arg & 0xff)), res_name(m, r->res)); break;
    case TR_LOCK_ACQ: snprintf(t, cap, "acquire lock '%s'", res_name(m, r->res)); break;
    case TR_LOCK_REL:
        if (r->arg) snprintf(t, cap, "release lock '%s' to #%llu", res_name(m, r->res), (unsigned long long)r->arg);
        else snprintf(t, cap, "release lock '%s'", res_name(m, r->res));
        break;
    case TR_SEM_ACQ: snprintf(t, cap, "acquire semaphore '%s' (value %lld)", res_name(m, r->res), (long long)r->arg); break;
    case TR_SEM_REL:
        if (r->arg) snprintf(t, cap, "release semaphore '%s' to #%llu", res_name(m, r->res), (unsigned long long)r->arg);
        else snprintf(t, cap, "release semaphore '%s'", res_name(m, r->res));
        break;
    case TR_Q_PUT: snprintf(t, cap, "put into queue '%s' (depth %lld)", res_name(m, r->res), (long long)r->arg); break;
    case TR_Q_GET: snprintf(t, cap, "get from queue '%s' (depth %lld)", res_name(m, r->res), (long long)r->arg); break;
    case TR_EV_SET: snprintf(t, cap, "set event '%s' (%lld woken)", res_name(m, r->res), (long long)r->arg); break;
    case TR_COND_NOTIFY: snprintf(t, cap, "notify '%s' (%lld woken)", res_name(m, r->res), (long long)r->arg); break;
    case TR_FUT_SET:
        if (r->arg) snprintf(t, cap, "fail future '%s': %s", res_name(m, r->res), co_strerror((int)(int64_t)r->arg));
        else snprintf(t, cap, "set future '%s'", res_name(m, r->res));
        break;
    case TR_LOG: snprintf(t, cap, "log: %s", string_text(m, r->res, s, sizeof s)); break;
    case TR_MARK: snprintf(t, cap, "mark: %s", string_text(m, r->res, s, sizeof s)); break;
    case TR_REGION_BEGIN: snprintf(t, cap, "region begin: %s", string_text(m, r->res, s, sizeof s)); break;
    case TR_REGION_END: snprintf(t, cap, "region end: %s", string_text(m, r->res, s, sizeof s)); break;
    case TR_WORK_BEGIN: snprintf(t, cap, "thread-pool work #%llu begins", (unsigned long long)r->res); break;
    case TR_WORK_END: snprintf(t, cap, "thread-pool work #%llu ends", (unsigned long long)r->res); break;
    case TR_WORK_QUEUED: snprintf(t, cap, "thread-pool work #%llu queued", (unsigned long long)r->res); break;
    case TR_SLOW_STEP: snprintf(t, cap, "slow step: %.1f ms", (double)r->arg / 1e6); break;
    case TR_WARN: snprintf(t, cap, "warning: %s", tr_warning_name((unsigned)(r->arg & 0xff))); break;
    default: snprintf(t, cap, "%s", ev->kind_name); break;
    }
}

/* ---- moving by event ---------------------------------------------------- */

/* Events a person steps through and reads: not the records that only carry
 * another one's detail (a stack's frames, a crash's mapped objects, the
 * tasks a warning names), which the views show with what they belong to. */
static int shown(const tr_rec *r)
{
    unsigned k = r->kind_loc & 0xff;
    return k != TR_STACK && k != TR_STACK_TEXT && k != TR_WAITS_FOR && k != TR_MODULE && k != TR_NONE;
}

/* The next (dir > 0) or previous event strictly after / before t on one
 * ring, over its chunks; events of task id only if id != 0 (and then only
 * those strictly between t and limit, which bounds the search). */
static int ring_step(tui_model *m, uint32_t ring, int64_t t, int dir, uint64_t id, int64_t limit, int64_t *best)
{
    int found = 0;
    if (dir > 0) {
        for (size_t ci = 0; ci < m->nchunks; ci++) {
            const tui_chunk *c = &m->chunks[ci];
            if (c->ring != ring || c->last <= t) continue;
            if (c->first >= *best || (id && c->first >= limit)) break;
            const tui_decoded *d = tui__decode(m, ci);
            for (size_t i = 0; d && i < d->n; i++) {
                int64_t ns = d->ns[i];
                if (ns <= t || ns >= *best || (id && (d->recs[i].task != id || ns >= limit)) || !shown(&d->recs[i]))
                    continue;
                *best = ns;
                found = 1;
            }
            if (found) break; /* chunks of a ring are in time order */
        }
    } else {
        for (size_t ci = m->nchunks; ci-- > 0;) {
            const tui_chunk *c = &m->chunks[ci];
            if (c->ring != ring || c->first >= t) continue;
            if (c->last <= *best || (id && c->last <= limit)) break;
            const tui_decoded *d = tui__decode(m, ci);
            for (size_t i = 0; d && i < d->n; i++) {
                int64_t ns = d->ns[i];
                if (ns >= t || ns <= *best || (id && (d->recs[i].task != id || ns <= limit)) || !shown(&d->recs[i]))
                    continue;
                *best = ns;
                found = 1;
            }
            if (found) break;
        }
    }
    return found;
}

/* The edges of a step row (start, end, resumed; -1: none), from the
 * reader's row at t (after: the first row after t). */
static int step_row(tui_model *m, int after, int64_t task, int64_t t, int64_t b[3])
{
    tr_step s;
    int got = (after ? tr_step_after(m->q, task, t, &s) : tr_step_at(m->q, task, t, &s)) > 0;
    if (got) {
        b[0] = s.start;
        b[1] = s.wait >= 0 || !s.open ? s.end : -1;
        b[2] = s.has_resumed ? s.resumed : -1;
    }
    return got;
}

int tui_model_step_event(tui_model *m, int64_t t, int dir, int task_idx, int64_t *ts)
{
    if (task_idx < 0) {
        int64_t best = dir > 0 ? INT64_MAX : INT64_MIN;
        int found = 0;
        uint32_t seen[TR_NRINGS] = { 0 };
        for (size_t ci = 0; ci < m->nchunks; ci++) {
            uint32_t r = m->chunks[ci].ring;
            if (seen[r]) continue;
            seen[r] = 1;
            found |= ring_step(m, r, t, dir, 0, 0, &best);
        }
        if (!found) return -ENOENT;
        *ts = best;
        return 0;
    }
    if ((size_t)task_idx >= m->ntasks) return -EINVAL;
    const tui_task *k = &m->tasks[task_idx];
    /* A task's life is cut by its spawn, its end and its step rows' edges
     * (start, await, resume); between those, its other events happen only
     * while it runs, so the chunks are read only inside the step at t. */
    int64_t cand[8], n = 0, row[3], nxt[3];
    cand[n++] = k->spawn_ts;
    if (k->end_ts >= 0) cand[n++] = k->end_ts;
    int have = step_row(m, 0, k->id, t, row);
    if (have) for (int i = 0; i < 3; i++) cand[n++] = row[i];
    /* and the row next to it in the direction of the move */
    if (dir > 0 ? step_row(m, 1, k->id, t, nxt) : have && step_row(m, 0, k->id, row[0] - 1, nxt))
        for (int i = 0; i < 3; i++) cand[n++] = nxt[i];
    int64_t best = dir > 0 ? INT64_MAX : INT64_MIN;
    for (int i = 0; i < n; i++) {
        if (cand[i] < 0) continue;
        if (dir > 0 && cand[i] > t && cand[i] < best) best = cand[i];
        if (dir < 0 && cand[i] < t && cand[i] > best) best = cand[i];
    }
    /* Instant events inside the step running at t (or, going back, the step
     * the cursor is in or just after). */
    if (have) {
        int64_t lo = row[0], hi = row[1] >= 0 ? row[1] : m->info.duration_ns + 1;
        if (dir > 0 && t < hi) {
            int64_t b = best;
            if (ring_step(m, k->ring, t, 1, (uint64_t)k->id, hi, &b)) best = b;
        } else if (dir < 0 && t > lo) {
            int64_t b = best;
            if (ring_step(m, k->ring, t, -1, (uint64_t)k->id, lo, &b)) best = b;
        }
    }
    if (best == INT64_MAX || best == INT64_MIN) return -ENOENT;
    *ts = best;
    return 0;
}

int tui_model_event_time(tui_model *m, int64_t event_id, int64_t *ts)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(m->db, "SELECT ts FROM events WHERE id = ?", -1, &st, NULL) != SQLITE_OK) return -EILSEQ;
    sqlite3_bind_int64(st, 1, event_id);
    int r = -ENOENT;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *ts = sqlite3_column_int64(st, 0);
        r = 0;
    }
    sqlite3_finalize(st);
    return r;
}

/* ---- a task's events ------------------------------------------------------ */

static tui_event *grow_events(tui_model *m, size_t n)
{
    if (n <= m->events_cap) return m->events;
    size_t cap = m->events_cap ? m->events_cap : 256;
    while (cap < n) cap *= 2;
    tui_event *e = realloc(m->events, cap * sizeof *e);
    if (!e) return NULL;
    m->events = e;
    m->events_cap = cap;
    return e;
}

/* Whether an event belongs in task id's list: its own, and cancellations
 * aimed at it (recorded by the task that asked). */
static int of_task(const tr_rec *r, uint64_t id)
{
    return (r->task == id || ((r->kind_loc & 0xff) == TR_CANCEL && r->res == id)) && shown(r);
}

typedef struct interval {
    int64_t a, b;
} interval;

static int cmp_interval(const void *x, const void *y)
{
    int64_t p = ((const interval *)x)->a, q = ((const interval *)y)->a;
    return p < q ? -1 : p > q;
}

/* The task's steps nearest t (up to k each side), plus its spawn: a task's
 * own events happen only while it runs, so only the chunks under these
 * intervals can hold them. */
static size_t step_intervals(tui_model *m, const tui_task *k, int64_t t, int lim, interval *out)
{
    static const char *const sql[2] = {
        "SELECT start, end FROM spans WHERE task = ?1 AND kind = '" TR_NAME_STEP "' AND start <= ?2 ORDER BY start DESC LIMIT ?3",
        "SELECT start, end FROM spans WHERE task = ?1 AND kind = '" TR_NAME_STEP "' AND start > ?2 ORDER BY start LIMIT ?3",
    };
    size_t n = 0;
    out[n++] = (interval){ k->spawn_ts, k->spawn_ts };
    for (int side = 0; side < 2; side++) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(m->db, sql[side], -1, &st, NULL) != SQLITE_OK) continue;
        sqlite3_bind_int64(st, 1, k->id);
        sqlite3_bind_int64(st, 2, t);
        sqlite3_bind_int(st, 3, lim);
        while (sqlite3_step(st) == SQLITE_ROW)
            out[n++] = (interval){ sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1) };
        sqlite3_finalize(st);
    }
    if (n > 1) qsort(out, n, sizeof *out, cmp_interval);
    return n;
}

/* An event found for the list, described only if it is kept. */
typedef struct found {
    tr_rec rec;
    int64_t ns;
    uint32_t ring;
} found;

size_t tui_model_task_events(tui_model *m, int idx, int64_t t, size_t cap, const tui_event **out, size_t *at_cursor)
{
    *out = NULL;
    *at_cursor = 0;
    if (idx < 0 || (size_t)idx >= m->ntasks || cap == 0) return 0;
    if (cap > 4096) cap = 4096;
    const tui_task *k = &m->tasks[idx];
    uint64_t id = (uint64_t)k->id;
    /* Each step gives at least two events (its resume, its await), so
     * cap/2 steps a side cover the window. */
    int lim = (int)(cap / 2 + 1);
    interval *iv = malloc(((size_t)lim * 2 + 1) * sizeof *iv);
    size_t *cand = malloc(m->nchunks * sizeof *cand + 1);
    found *fb = malloc(2 * cap * sizeof *fb), *fa = fb ? fb + cap : NULL;
    if (!iv || !cand || !fb) {
        free(iv);
        free(cand);
        free(fb);
        return 0;
    }
    size_t niv = step_intervals(m, k, t, lim, iv);
    /* The chunks of its ring under those intervals, in order. */
    size_t nc = 0;
    for (size_t ci = 0; ci < m->nchunks; ci++) {
        const tui_chunk *c = &m->chunks[ci];
        if (c->ring != k->ring) continue;
        for (size_t v = 0; v < niv; v++)
            if (c->last >= iv[v].a && c->first <= iv[v].b) {
                cand[nc++] = ci;
                break;
            }
    }
    free(iv);
    /* From t outwards, up to cap events each way: a task that did 200k
     * things in one step (spawned them) costs the chunks near t, and only
     * the events kept are put in words. */
    size_t split = 0;
    while (split < nc && m->chunks[cand[split]].last < t) split++;
    size_t nb = 0, na = 0;
    for (size_t c = split < nc ? split + 1 : nc; c-- > 0 && nb < cap;) {
        const tui_decoded *d = tui__decode(m, cand[c]);
        for (size_t i = d ? d->n : 0; i-- > 0 && nb < cap;)
            if (d->ns[i] < t && of_task(&d->recs[i], id)) fb[nb++] = (found){ d->recs[i], d->ns[i], d->ring };
    }
    for (size_t c = split; c < nc && na < cap; c++) {
        const tui_decoded *d = tui__decode(m, cand[c]);
        for (size_t i = 0; d && i < d->n && na < cap; i++)
            if (d->ns[i] >= t && of_task(&d->recs[i], id)) fa[na++] = (found){ d->recs[i], d->ns[i], d->ring };
    }
    free(cand);
    /* About half before t, more on a side when the other has fewer. */
    size_t before = nb < cap / 2 ? nb : cap / 2;
    size_t after = na < cap - before ? na : cap - before;
    if (before + after < cap) before = nb < cap - after ? nb : cap - after;
    size_t n = before + after;
    if (!grow_events(m, n ? n : 1)) {
        free(fb);
        return 0;
    }
    for (size_t i = 0; i < before; i++) {
        const found *f = &fb[before - 1 - i]; /* fb is newest first */
        tui__describe(m, &m->events[i], &f->rec, f->ns, f->ring);
    }
    for (size_t i = 0; i < after; i++) tui__describe(m, &m->events[before + i], &fa[i].rec, fa[i].ns, fa[i].ring);
    free(fb);
    *out = m->events;
    *at_cursor = before;
    return n;
}

/* ---- queue depth ------------------------------------------------------------ */

/* The depth of queue res at t on its ring: the depth after its last put or
 * get at or before t, looking back a few chunks; -1 if none was found. */
static int64_t depth_at(tui_model *m, uint32_t ring, uint64_t res, int64_t t)
{
    int looked = 0;
    for (size_t ci = m->nchunks; ci-- > 0 && looked < 4;) {
        const tui_chunk *c = &m->chunks[ci];
        if (c->ring != ring || c->first > t) continue;
        const tui_decoded *d = tui__decode(m, ci);
        looked++;
        for (size_t i = d ? d->n : 0; i-- > 0;) {
            unsigned kind = d->recs[i].kind_loc & 0xff;
            if (d->ns[i] > t || d->recs[i].res != res || (kind != TR_Q_PUT && kind != TR_Q_GET)) continue;
            return (int64_t)d->recs[i].arg;
        }
    }
    return -1;
}

int tui__queue_depth_at(tui_model *m, int idx, int64_t t, int64_t *out)
{
    const tui_resource *r = &m->res[idx];
    if (r->kind != CO_WAIT_QUEUE_GET || t < r->create_ts) return -ENOENT;
    int64_t d = depth_at(m, r->ring, (uint64_t)r->id, t);
    *out = d >= 0 ? d : 0; /* no put or get near t: as the depth line reads it, none since its creation */
    return 0;
}

/* The samples of queue idx into sp (n of them over [from, to]). */
static int sample_depth(tui_model *m, int idx, int64_t from, int64_t to, int n, tui_spark *sp)
{
    if (sp->n != n || !sp->v) {
        int64_t *v = realloc(sp->v, (size_t)n * sizeof *v);
        if (!v) return -ENOMEM;
        sp->v = v;
    }
    const tui_resource *r = &m->res[idx];
    int64_t last = 0;
    for (int i = 0; i < n; i++) {
        int64_t t = n > 1 ? from + (int64_t)((double)(to - from) * i / (n - 1)) : from;
        if (t < r->create_ts) {
            sp->v[i] = -1;
            continue;
        }
        int64_t d = depth_at(m, r->ring, (uint64_t)r->id, t);
        sp->v[i] = d >= 0 ? (last = d) : last; /* nothing near: unchanged since the last sample */
    }
    sp->from = from;
    sp->to = to;
    sp->n = n;
    sp->gen = m->gen;
    return 0;
}

int tui_model_queue_depth(tui_model *m, int idx, int64_t from, int64_t to, int64_t *out, int n)
{
    if (idx < 0 || (size_t)idx >= m->nres || n <= 0) return -EINVAL;
    const tui_resource *r = &m->res[idx];
    if (r->kind != CO_WAIT_QUEUE_GET) {
        for (int i = 0; i < n; i++) out[i] = -1;
        return 0;
    }
    if (m->spark_n < m->nres) {
        tui_spark *s = realloc(m->spark, m->nres * sizeof *s);
        if (!s) return -ENOMEM;
        memset(s + m->spark_n, 0, (m->nres - m->spark_n) * sizeof *s);
        m->spark = s;
        m->spark_n = m->nres;
    }
    tui_spark *sp = &m->spark[idx];
    if (m->built) {
        /* A finished trace: the builder's depth per bucket, n probes. */
        int r2 = tr_queue_depths(m->q, r->id, from, to, out, n);
        if (r2 < 0) return r2;
        for (int i = 0; i < n; i++) {
            int64_t t = n > 1 ? from + (int64_t)((double)(to - from) * i / (n - 1)) : from;
            if (t < r->create_ts) out[i] = -1;
        }
        return 0;
    }
    if (sp->gen != m->gen || sp->from != from || sp->to != to || sp->n != n || !sp->v) {
        /* The line is asked again every frame with the same range; and
         * the queues of one thread share the chunks it decodes, so the
         * others' lines are sampled now too, while they are at hand (a
         * key that selects the next queue then draws at once). */
        int r2 = sample_depth(m, idx, from, to, n, sp);
        if (r2 < 0) return r2;
        int others = 0;
        for (size_t j = 0; j < m->nres && others < 16; j++) {
            tui_spark *o = &m->spark[j];
            if ((int)j == idx || m->res[j].kind != CO_WAIT_QUEUE_GET || m->res[j].ring != r->ring) continue;
            if (o->gen == m->gen && o->from == from && o->to == to && o->n == n && o->v) continue;
            if (sample_depth(m, (int)j, from, to, n, o) < 0) break;
            others++;
        }
    }
    memcpy(out, sp->v, (size_t)n * sizeof *out);
    return 0;
}
