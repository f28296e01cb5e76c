/* SPDX-License-Identifier: MIT */
/* model_events.c -- a task's events and stepping by event, in words.
 *
 * The reader finds them in the recording (tracer/reader.h: reader_chunks.c
 * keeps the chunk directory and the last decoded chunks, reader_events.c a
 * task's events near t, reader_next.c the next event, reader_queue.c a
 * queue's depth from its puts and gets); this file keeps what is shown:
 * the events put in words (only those kept), the list handed to the
 * views, and a queue's depth line as last drawn.
 */
#include "model_int.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tui__load_chunks(tui_model *m)
{
    if (!m->ch) {
        int r = tr_chunks_open(&m->ch, m->db);
        if (r < 0) return r;
    }
    return tr_chunks_load(m->ch);
}

void tui__free_events(tui_model *m)
{
    tr_chunks_close(m->ch);
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
    case TR_SPAWN:
        /* Task 0 is no task: main is spawned by co_run, outside any. */
        if (r->res) snprintf(t, cap, "spawned by #%llu", (unsigned long long)r->res);
        else snprintf(t, cap, "spawned outside any task");
        break;
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

static tr_task_life life_of(const tui_task *k)
{
    return (tr_task_life){ .id = k->id, .ring = k->ring, .spawn = k->spawn_ts, .end = k->end_ts };
}

int tui_model_step_event(tui_model *m, int64_t t, int dir, int task_idx, int64_t *ts)
{
    if (task_idx >= 0 && (size_t)task_idx >= m->ntasks) return -EINVAL;
    if (task_idx < 0) return tr_next_event(m->q, m->ch, NULL, t, dir, m->info.duration_ns, ts);
    tr_task_life k = life_of(&m->tasks[task_idx]);
    return tr_next_event(m->q, m->ch, &k, t, dir, m->info.duration_ns, ts);
}

int tui_model_event_time(tui_model *m, int64_t event_id, int64_t *ts)
{
    return tr_event_time(m->db, m->ch, event_id, ts);
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

size_t tui_model_task_events(tui_model *m, int idx, int64_t t, size_t cap, const tui_event **out, size_t *at_cursor)
{
    *out = NULL;
    *at_cursor = 0;
    if (idx < 0 || (size_t)idx >= m->ntasks || cap == 0) return 0;
    if (cap > 4096) cap = 4096;
    tr_task_life k = life_of(&m->tasks[idx]);
    tr_found *fb = malloc(2 * cap * sizeof *fb), *fa = fb ? fb + cap : NULL;
    size_t nb = 0, na = 0;
    if (!fb || tr_task_events(m->q, m->ch, &k, t, cap, fb, &nb, fa, &na) < 0) {
        free(fb);
        return 0;
    }
    /* About half before t, more on a side when the other has fewer; only
     * the events kept are put in words. */
    size_t before = nb < cap / 2 ? nb : cap / 2;
    size_t after = na < cap - before ? na : cap - before;
    if (before + after < cap) before = nb < cap - after ? nb : cap - after;
    size_t n = before + after;
    if (!grow_events(m, n ? n : 1)) {
        free(fb);
        return 0;
    }
    for (size_t i = 0; i < before; i++) {
        const tr_found *f = &fb[before - 1 - i]; /* fb is newest first */
        tui__describe(m, &m->events[i], &f->rec, f->ns, f->ring);
    }
    for (size_t i = 0; i < after; i++) tui__describe(m, &m->events[before + i], &fa[i].rec, fa[i].ns, fa[i].ring);
    free(fb);
    *out = m->events;
    *at_cursor = before;
    return n;
}

/* ---- queue depth ------------------------------------------------------------ */

int tui__queue_depth_at(tui_model *m, int idx, int64_t t, int64_t *out)
{
    const tui_resource *r = &m->res[idx];
    if (r->kind != CO_WAIT_QUEUE_GET || t < r->create_ts) return -ENOENT;
    int64_t d = tr_queue_depth_near(m->ch, r->ring, r->id, t);
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
        double x = n > 1 ? (double)from + ((double)to - (double)from) * i / (n - 1) : (double)from;
        int64_t t = x >= 9.2e18 ? INT64_MAX : x <= -9.2e18 ? INT64_MIN : (int64_t)x; /* no overflow on hostile times */
        if (t < r->create_ts) {
            sp->v[i] = -1;
            continue;
        }
        int64_t d = tr_queue_depth_near(m->ch, r->ring, r->id, t);
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
            /* In doubles, as tr_queue_depths: to - from overflows on a hostile trace's times. */
            double x = n > 1 ? (double)from + ((double)to - (double)from) * i / (n - 1) : (double)from;
            if (x < (double)r->create_ts) out[i] = -1;
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
