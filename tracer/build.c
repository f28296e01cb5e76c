/* build.c -- the builder: turns persisted chunks into the relational tables
 * (events, spans, tasks, resources, threads) that reports, SQL users and
 * the TUI read.
 *
 * It replays events in order with a little state per task (the open step,
 * the open await) and per held resource, so every span is written once,
 * complete, with an INSERT (no UPDATE of spans).  Awaits and resumes become
 * no rows of their own: a step row carries the await that ended it and
 * when that await resumed, so a task switch costs one row, not four (two
 * events, two spans) -- the difference between minutes and seconds of
 * building on a switch-heavy trace.  Progress is meta
 * 'built_seq' (last chunk built), written in the same transaction as the
 * rows, so a build interrupted by a crash of the recorder is redone from
 * scratch by tr_build_complete() on the next open.
 *
 * A task's step rows tile its life, so "what was it doing at t" is the
 * last of its rows starting at or before t: one probe of (task, start).
 * Other spans (holds, regions, work, idle) may overlap, so they carry a
 * `bin` (a hierarchical time bin, as in genome browsers) and "which of them
 * overlap t" is a lookup on (bin, start) over 9 bins instead of a scan: a
 * span gets the finest level whose 2^shift-ns bucket holds both its ends
 * (shift = 20, 24, ... 48), or the catch-all level 8.
 */
#include "builder.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const KIND_NAMES[TR_KIND_COUNT] = {
    "none", "thread", "spawn", "start", "await", "resume", "end", "cancel", "detach", "resource",
    "lock_acquire", "lock_release", "sem_acquire", "sem_release", "queue_put", "queue_get",
    "event_set", "cond_notify", "future_set", "log", "mark", "region_begin", "region_end",
    "loop_idle", "loop_busy", "work_begin", "work_end", "slow_step", "stack", "warning", "stack_text",
    "slow_callback",
};

static int64_t span_bin(int64_t s, int64_t e)
{
    for (int lvl = 0; lvl < 8; lvl++) {
        int shift = 20 + 4 * lvl;
        if ((s >> shift) == (e >> shift)) return ((int64_t)lvl << 48) | (s >> shift);
    }
    return (int64_t)8 << 48;
}

static int prep(tr_builder *b, sqlite3_stmt **st, const char *sql)
{
    int rc = sqlite3_prepare_v3(b->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
    if (rc != SQLITE_OK) fprintf(stderr, "coscope: sqlite: %s\n", sqlite3_errmsg(b->db));
    return tr_sqlite_err(rc);
}

int tr_builder_new(tr_builder **out, sqlite3 *db)
{
    tr_builder *b = calloc(1, sizeof *b);
    if (!b) return -ENOMEM;
    b->db = db;
    b->built_seq = tr_meta_int(db, "built_seq", 0);
    b->clock = (int)tr_meta_int(db, "clock_kind", TR_CLOCK_MONO);
    b->tsc0 = (uint64_t)tr_meta_int(db, "clock_origin", 0);
    sqlite3_stmt *st;
    b->ns_per_tick = 1.0;
    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'ns_per_tick'", -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) b->ns_per_tick = sqlite3_column_double(st, 0);
        sqlite3_finalize(st);
    }
    b->slow_ns = tr_meta_int(db, "slow_ms", 100) * 1000000;
    tr_map_init(&b->tasks, sizeof(tstate));
    tr_map_init(&b->holds, sizeof(hold));
    tr_map_init(&b->strcache, sizeof(char *));
    tr_map_init(&b->rstats, sizeof(rstat));
    int r = 0;
    r = r ? r : prep(b, &b->sel_chunks, "SELECT seq, data FROM chunks WHERE seq > ? ORDER BY seq LIMIT 16");
    r = r ? r : prep(b, &b->ins_task, "INSERT OR REPLACE INTO tasks(id, name, parent, ring, spawn_loc, spawn_ts) VALUES (?,?,?,?,?,?)");
    r = r ? r : prep(b, &b->upd_task, "UPDATE tasks SET start_ts=?, end_ts=?, state=?, result=?, steps=?, awaits=?, busy_ns=?, wait_ns=? WHERE id=?");
    r = r ? r : prep(b, &b->ins_res, "INSERT OR REPLACE INTO resources(id, kind, name, ring, create_ts, create_loc) VALUES (?,?,?,?,?,?)");
    r = r ? r : prep(b, &b->ins_thread, "INSERT OR REPLACE INTO threads(ring, tid, first_ts) VALUES (?,?,?)");
    r = r ? r : prep(b, &b->sel_string, "SELECT text FROM strings WHERE id = ?");
    r = r ? r : prep(b, &b->ins_warning, "INSERT INTO warnings(kind, task, resource, ts, dur, loc, loc2, message, task2, stack) VALUES (?,?,?,?,?,?,?,?,?,?)");
    r = r ? r : prep(b, &b->sel_task_name, "SELECT name FROM tasks WHERE id = ?");
    r = r ? r : prep(b, &b->sel_res, "SELECT kind, name FROM resources WHERE id = ?");
    r = r ? r : prep(b, &b->upd_detached, "UPDATE tasks SET detached = 1 WHERE id = ?");
    r = r ? r : tr_batch_register(db);
    r = r ? r : tr_writer_new(&b->writer, db);
    r = r ? r : tr_batch_init(&b->ev, db, b->writer, "events(ts, ring, task, kind, resource, arg, loc)", 7, 1 << 14);
    r = r ? r : tr_batch_init(&b->sp, db, b->writer, "spans(id, kind, task, resource, start, end, wait, resumed, result, loc, "
                                          "end_loc, open, bin, ring)", 14, 1 << 14);
    if (r < 0) {
        tr_builder_free(b);
        return r;
    }
    *out = b;
    return 0;
}

static inline void cell_int(tr_cell *c, int64_t v) { c->type = TR_CELL_INT; c->i = v; }
static inline void cell_opt(tr_cell *c, int64_t v) { c->type = v ? TR_CELL_INT : TR_CELL_NULL; c->i = v; }
static inline void cell_text(tr_cell *c, const char *s) { c->type = s ? TR_CELL_TEXT : TR_CELL_NULL; c->s = s; }

static tr_cell *next_row(tr_builder *b, tr_batch *batch)
{
    tr_cell *row = tr_batch_row(batch);
    if (!row) {
        int r = tr_batch_flush(batch);
        if (r < 0 && !b->err) {
            fprintf(stderr, "coscope: sqlite: %s\n", tr_writer_errmsg(b->writer, b->db));
            b->err = r;
        }
        row = tr_batch_row(batch);
    }
    return row;
}

/* spans: also write the spans found so far.  The build at exit leaves them
 * all to the end, so they go in as one sorted run of appends.  Returns with
 * every row in the database. */
static void flush_batches(tr_builder *b, int spans)
{
    int r = tr_batch_flush(&b->ev);
    if (r == 0 && spans) r = tr_spans_flush(b);
    int w = tr_writer_sync(b->writer);
    if (r == 0) r = w;
    if (r < 0 && !b->err) {
        fprintf(stderr, "coscope: sqlite: %s\n", tr_writer_errmsg(b->writer, b->db));
        b->err = r;
    }
}

void tr_builder_set_origin(tr_builder *b, uint64_t tsc0) { b->tsc0 = tsc0; }

void tr_builder_free(tr_builder *b)
{
    if (!b) return;
    sqlite3_stmt *all[] = { b->sel_chunks, b->ins_task, b->upd_task,
                            b->ins_res, b->ins_thread, b->sel_string, b->ins_warning, b->sel_task_name,
                            b->sel_res, b->upd_detached };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) sqlite3_finalize(all[i]);
    tr_batch_free(&b->ev);
    tr_batch_free(&b->sp);
    tr_writer_free(b->writer);
    free(b->spans);
    free(b->fetch_buf);
    for (size_t i = 0; i < b->strcache.cap; i++)
        if (b->strcache.keys && b->strcache.keys[i]) free(*(char **)(b->strcache.vals + i * sizeof(char *)));
    tr_map_free(&b->tasks);
    tr_map_free(&b->holds);
    tr_map_free(&b->strcache);
    for (size_t i = 0; i < b->rstats.cap; i++)
        if (b->rstats.keys && b->rstats.keys[i]) free(((rstat *)(b->rstats.vals + i * b->rstats.vsize))->waits);
    tr_map_free(&b->rstats);
    free(b);
}

const char *tr_string_of(tr_builder *b, uint64_t id)
{
    if (!id) return NULL;
    char **slot = tr_map_find(&b->strcache, id);
    if (slot) return *slot;
    const char *text = NULL;
    sqlite3_bind_int64(b->sel_string, 1, (int64_t)id);
    if (sqlite3_step(b->sel_string) == SQLITE_ROW) text = (const char *)sqlite3_column_text(b->sel_string, 0);
    char *copy = text ? strdup(text) : NULL;
    sqlite3_reset(b->sel_string);
    if (!copy) return NULL; /* not persisted yet: do not cache the miss */
    slot = tr_map_put(&b->strcache, id);
    if (slot) *slot = copy;
    return copy;
}

static inline int64_t to_ns(tr_builder *b, uint64_t raw)
{
    if (b->clock == TR_CLOCK_TSC) return (int64_t)((double)(int64_t)(raw - b->tsc0) * b->ns_per_tick);
    return (int64_t)(raw - b->tsc0);
}

void tr_bstep(tr_builder *b, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE && !b->err) {
        fprintf(stderr, "coscope: sqlite: %s\n", sqlite3_errmsg(b->db));
        b->err = tr_sqlite_err(rc);
    }
    sqlite3_reset(st);
}

void tr_bind_opt(sqlite3_stmt *st, int i, int64_t v)
{
    if (v) sqlite3_bind_int64(st, i, v);
    else sqlite3_bind_null(st, i);
}

/* A hold, region, work or idle span. */
static void span(tr_builder *b, int kind, uint64_t task, uint64_t res, int64_t start, int64_t end, uint32_t loc,
                 uint32_t end_loc, int open, uint32_t ring)
{
    tr_span_row *s = tr_span_add(b);
    if (!s) return;
    if (end < start) end = start;
    s->kind = (uint8_t)kind;
    s->task = task;
    s->res = res;
    s->start = start;
    s->end = end;
    s->loc = loc;
    s->end_loc = end_loc;
    s->open = (uint8_t)open;
    s->bin = span_bin(start, end);
    s->ring = ring;
}

/* The task's step row: the step [step_start, step_end) and, if t->in_await,
 * the await that ended it, resumed at `resumed` with `result`.  open: the
 * row's last part had not ended when the trace stopped. */
static void step_row(tr_builder *b, uint64_t task, tstate *t, int64_t resumed, int64_t result, int open)
{
    tr_span_row *s = tr_span_add(b);
    if (!s) return;
    s->kind = TR_SPAN_STEP;
    s->task = task;
    s->start = t->step_start;
    s->end = t->step_end < t->step_start ? t->step_start : t->step_end;
    s->loc = t->step_loc;
    s->open = (uint8_t)open;
    if (t->in_await) {
        s->wait = (uint8_t)(t->await_kind + 1);
        s->res = t->await_res;
        s->resumed = resumed < s->end ? s->end : resumed;
        s->result = result;
        s->end_loc = t->await_loc;
    } else {
        s->end_loc = t->step_end_loc;
    }
}

static uint64_t hold_key(uint64_t res, uint64_t task, int kind)
{
    return mix(res * 0x9e3779b97f4a7c15ull ^ (task << 3) ^ (uint64_t)kind) | 1;
}

static void track_held(tr_builder *b, uint64_t task, uint64_t res, int add)
{
    tstate *t = task ? tr_map_find(&b->tasks, task) : NULL;
    if (!t) return;
    if (add) {
        if (t->nheld < 4) t->held[t->nheld++] = res;
        return;
    }
    for (int i = 0; i < t->nheld; i++)
        if (t->held[i] == res) {
            t->held[i] = t->held[--t->nheld];
            return;
        }
}

/* kind 'h' with owned != 0: a lock, owned by the task until it releases
 * it (semaphores are released by whoever signals: not owned). */
static void open_hold_owned(tr_builder *b, int kind, uint64_t res, uint64_t task, int64_t ts, uint32_t loc, int owned);

static void open_hold(tr_builder *b, int kind, uint64_t res, uint64_t task, int64_t ts, uint32_t loc)
{
    open_hold_owned(b, kind, res, task, ts, loc, 0);
}

static void open_hold_owned(tr_builder *b, int kind, uint64_t res, uint64_t task, int64_t ts, uint32_t loc, int owned)
{
    if (kind == 'h' && owned) track_held(b, task, res, 1);
    hold *h = tr_map_put(&b->holds, hold_key(res, task, kind));
    if (!h) return;
    h->start = ts;
    h->loc = loc;
    h->kind = (uint8_t)kind;
    h->task = task;
    h->res = kind == 'i' ? 0 : res;
}

static void close_hold(tr_builder *b, int kind, int name, uint64_t res, uint64_t task, int64_t ts,
                       uint32_t loc, uint32_t ring)
{
    uint64_t key = hold_key(res, task, kind);
    hold *h = tr_map_find(&b->holds, key);
    if (!h) return;
    if (kind == 'h') {
        track_held(b, task, res, 0);
        tr_rs_hold(b, h->res, task, ts - h->start);
    }
    span(b, name, task, h->res, h->start, ts, h->loc, loc, 0, ring);
    tr_map_del(&b->holds, key);
}

static void write_task(tr_builder *b, uint64_t id, tstate *t, int64_t end_ts, const char *state, int64_t result,
                       int has_result)
{
    sqlite3_stmt *st = b->upd_task;
    tr_bind_opt(st, 1, t->start_ts);
    if (end_ts >= 0) sqlite3_bind_int64(st, 2, end_ts); else sqlite3_bind_null(st, 2);
    sqlite3_bind_text(st, 3, state, -1, SQLITE_STATIC);
    if (has_result) sqlite3_bind_int64(st, 4, result); else sqlite3_bind_null(st, 4);
    sqlite3_bind_int64(st, 5, t->steps);
    sqlite3_bind_int64(st, 6, t->awaits);
    sqlite3_bind_int64(st, 7, t->busy);
    sqlite3_bind_int64(st, 8, t->wait);
    sqlite3_bind_int64(st, 9, (int64_t)id);
    tr_bstep(b, st);
}

/* The running step ends (at an await or the task's end): its figures and
 * slow-step check now; its row is written once we know how the await
 * that ended it went (step_row). */
static void close_step(tr_builder *b, uint64_t task, tstate *t, int64_t ts, uint32_t end_loc)
{
    if (!t->in_step) {  /* no step seen (tracing began while it waited): an empty one */
        t->step_start = ts;
        t->step_loc = 0;
    }
    t->step_end = ts;
    t->step_end_loc = end_loc;
    if (!t->in_step) return;
    int64_t dur = ts - t->step_start;
    t->busy += dur;
    t->steps++;
    t->in_step = 0;
    uint64_t wd = t->wd_stack;
    t->wd_stack = 0;
    if (b->slow_ns > 0 && dur > b->slow_ns) {
        char msg[200];
        snprintf(msg, sizeof msg, "task ran %.1f ms without awaiting (threshold %lld ms)", dur / 1e6,
                 (long long)(b->slow_ns / 1000000));
        b->warn_stack = wd ? tr_string_of(b, wd) : NULL;
        tr_warning(b, "slow_step", task, 0, 0, t->step_start, dur, t->step_loc, end_loc, msg);
    }
}

static void on_event(void *ctx, uint32_t ring, const tr_rec *e)
{
    tr_builder *b = ctx;
    int64_t ts = to_ns(b, e->ts);
    unsigned kind = e->kind_loc & 0xff;
    uint32_t loc = e->kind_loc >> 8;
    uint64_t task = e->task;
    if (ts > b->max_ts) b->max_ts = ts;
    b->events++;

    sqlite3_stmt *st;
    tstate *t = task ? tr_map_find(&b->tasks, task) : NULL;
    /* Awaits and resumes are parts of step rows; a resume whose await was
     * never seen (tracing began while the task waited) has no step row to
     * be part of, so it stays an event. */
    int in_step_row = kind == TR_AWAIT || (kind == TR_RESUME && t && t->in_await);
    tr_cell *c = in_step_row ? NULL : next_row(b, &b->ev);
    if (c) {
        cell_int(&c[0], ts);
        cell_int(&c[1], ring);
        cell_opt(&c[2], (int64_t)task);
        cell_text(&c[3], kind < TR_KIND_COUNT ? KIND_NAMES[kind] : "unknown");
        cell_opt(&c[4], (int64_t)e->res);
        cell_int(&c[5], (int64_t)e->arg);
        cell_opt(&c[6], loc);
    }

    if (__builtin_expect(!t && task && (kind == TR_START || kind == TR_AWAIT || kind == TR_RESUME || kind == TR_END), 0)) {
        /* A task spawned before recording began (co_trace_start in a
         * running program): known from its first event on. */
        t = tr_map_put(&b->tasks, task);
        if (t) {
            t->spawn_ts = ts;
            t->ring = ring;
            if (kind == TR_AWAIT || kind == TR_END) { /* it was running: its step began unseen */
                t->in_step = 1;
                t->step_start = ts;
            }
            st = b->ins_task;
            sqlite3_bind_int64(st, 1, (int64_t)task);
            sqlite3_bind_null(st, 2);
            sqlite3_bind_null(st, 3);
            sqlite3_bind_int64(st, 4, ring);
            sqlite3_bind_null(st, 5);
            sqlite3_bind_int64(st, 6, ts);
            tr_bstep(b, st);
        }
    }
    switch (kind) {
    case TR_THREAD:
        sqlite3_bind_int64(b->ins_thread, 1, (int64_t)e->res);
        sqlite3_bind_int64(b->ins_thread, 2, (int64_t)e->arg);
        sqlite3_bind_int64(b->ins_thread, 3, ts);
        tr_bstep(b, b->ins_thread);
        break;
    case TR_SPAWN: {
        t = tr_map_put(&b->tasks, task);
        if (!t) break;
        t->spawn_ts = ts;
        t->ring = ring;
        st = b->ins_task;
        sqlite3_bind_int64(st, 1, (int64_t)task);
        const char *name = tr_string_of(b, e->arg);
        if (name) sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT); else sqlite3_bind_null(st, 2);
        tr_bind_opt(st, 3, (int64_t)e->res);
        sqlite3_bind_int64(st, 4, ring);
        tr_bind_opt(st, 5, loc);
        sqlite3_bind_int64(st, 6, ts);
        tr_bstep(b, st);
        break;
    }
    case TR_START:
        if (!t) break;
        t->start_ts = ts;
        t->step_start = ts;
        t->step_loc = 0;
        t->in_step = 1;
        break;
    case TR_AWAIT:
        if (!t) break;
        close_step(b, task, t, ts, loc);
        t->in_await = 1;
        t->await_start = ts;
        t->await_kind = (uint8_t)(e->arg & 0xff);
        t->await_res = e->res;
        t->await_loc = loc;
        if (tr_contended_kind(t->await_kind)) {
            rstat *r = tr_rs_of(b, e->res);
            if (r && ++r->waiters > r->max_waiters) r->max_waiters = r->waiters;
        }
        break;
    case TR_RESUME: {
        if (!t) break;
        int64_t result = (int64_t)e->arg;
        if (t->in_await) {
            step_row(b, task, t, ts, result, 0);
            t->wait += ts - t->await_start;
            t->awaits++;
            t->in_await = 0;
            if (tr_contended_kind(t->await_kind)) {
                tr_rs_wait(b, t->await_res, task, ts - t->await_start);
                rstat *r = tr_rs_of(b, t->await_res);
                if (r) r->waiters--;
            }
            /* A lock held while awaiting something else, for long: others queue behind it. */
            int64_t dur = ts - t->await_start;
            for (int i = 0; i < t->nheld && b->slow_ns > 0 && dur > b->slow_ns; i++) {
                if (t->held[i] == t->await_res) continue;
                char msg[600], who[160], lock[200], what[200];
                tr_task_label(b, task, who, sizeof who);
                tr_wait_label(b, CO_WAIT_LOCK, t->held[i], lock, sizeof lock);
                tr_wait_label(b, t->await_kind, t->await_res, what, sizeof what);
                snprintf(msg, sizeof msg, "task %s held %s for %.1f ms while awaiting %s", who, lock, dur / 1e6,
                         what);
                tr_warning(b, "lock_held_across_await", task, 0, t->held[i], t->await_start, dur, t->await_loc, 0, msg);
            }
            if (result == 0 && (t->await_kind == CO_WAIT_LOCK || t->await_kind == CO_WAIT_SEM))
                open_hold_owned(b, 'h', t->await_res, task, ts, t->await_loc, t->await_kind == CO_WAIT_LOCK);
        }
        t->step_start = ts;
        t->step_loc = t->await_loc;
        t->in_step = 1;
        break;
    }
    case TR_END: {
        if (!t) break;
        int64_t result = (int64_t)e->arg;
        if (t->in_await) {  /* ended without resuming: not seen from the runtime, but keep the await */
            step_row(b, task, t, ts, 0, 0);
            t->in_await = 0;
            t->in_step = 1;
            t->step_start = ts;
        }
        close_step(b, task, t, ts, 0);
        step_row(b, task, t, 0, 0, 0);
        t->ended = 1;
        const char *state = result >= 0 ? "done" : result == -ECANCELED ? "cancelled" : "failed";
        write_task(b, task, t, ts, state, result, 1);
        tr_map_del(&b->tasks, task);
        break;
    }
    case TR_RES_NEW: {
        st = b->ins_res;
        sqlite3_bind_int64(st, 1, (int64_t)e->res);
        sqlite3_bind_text(st, 2, co_wait_kind_name((int)(e->arg & 0xff)), -1, SQLITE_STATIC);
        const char *name = tr_string_of(b, e->arg >> 8);
        if (name) sqlite3_bind_text(st, 3, name, -1, SQLITE_TRANSIENT); else sqlite3_bind_null(st, 3);
        sqlite3_bind_int64(st, 4, ring);
        sqlite3_bind_int64(st, 5, ts);
        tr_bind_opt(st, 6, loc);
        tr_bstep(b, st);
        break;
    }
    case TR_LOCK_ACQ:
    case TR_SEM_ACQ:
        open_hold_owned(b, 'h', e->res, task, ts, loc, kind == TR_LOCK_ACQ);
        break;
    case TR_LOCK_REL:
    case TR_SEM_REL:
        close_hold(b, 'h', TR_SPAN_HOLD, e->res, task, ts, loc, ring);
        break;
    case TR_REGION_BEGIN:
        open_hold(b, 'r', e->res, task, ts, loc);
        break;
    case TR_REGION_END:
        close_hold(b, 'r', TR_SPAN_REGION, e->res, task, ts, loc, ring);
        break;
    case TR_WORK_BEGIN: /* on a pool thread; task = the task that submitted it */
        open_hold(b, 'w', e->res, task, ts, loc);
        break;
    case TR_WORK_END:
        close_hold(b, 'w', TR_SPAN_WORK, e->res, task, ts, loc, ring);
        break;
    case TR_Q_PUT:
    case TR_Q_GET: {
        rstat *r = tr_rs_of(b, e->res);
        if (!r) break;
        r->seen_depth = 1;
        if ((int64_t)e->arg > r->max_depth) r->max_depth = (int64_t)e->arg;
        /* Items taken out: every get, and every put handed straight to a
         * waiting getter (the queue stays empty: depth 0 after the put). */
        if (kind == TR_Q_GET || e->arg == 0) r->acquisitions++;
        break;
    }
    case TR_DETACH:
        sqlite3_bind_int64(b->upd_detached, 1, (int64_t)e->res);
        tr_bstep(b, b->upd_detached);
        break;
    case TR_LOOP_IDLE: /* the loop of this ring blocks in poll */
        open_hold(b, 'i', ring + 1, 0, ts, 0);
        break;
    case TR_LOOP_BUSY:
        close_hold(b, 'i', TR_SPAN_IDLE, ring + 1, 0, ts, 0, ring);
        break;
    case TR_WARN:
        tr_on_warn(b, e, ts, loc);
        break;
    case TR_STACK_TEXT:
        if (t) t->wd_stack = e->res;
        break;
    case TR_SLOW_CB: {
        char msg[200];
        snprintf(msg, sizeof msg, "libuv callbacks (not task steps) ran %.1f ms in one loop iteration (threshold %lld ms)",
                 (double)e->arg / 1e6, (long long)(b->slow_ns / 1000000));
        tr_warning(b, "slow_step", 0, 0, 0, ts - (int64_t)e->arg, (int64_t)e->arg, 0, 0, msg);
        break;
    }
    default:
        break;
    }
}

/* Copy the next chunks (up to 16) out of the database: they are replayed
 * with no statement of ours running, so the writer's inserts do not wait
 * for the replay nor the replay for them.  Returns how many, or -errno. */
static int fetch_chunks(tr_builder *b)
{
    int n = 0, rc;
    size_t used = 0;
    sqlite3_bind_int64(b->sel_chunks, 1, b->built_seq);
    while ((rc = sqlite3_step(b->sel_chunks)) == SQLITE_ROW) {
        const void *blob = sqlite3_column_blob(b->sel_chunks, 1);
        size_t len = (size_t)sqlite3_column_bytes(b->sel_chunks, 1);
        if (used + len > b->fetch_cap) {
            size_t cap = (used + len) * 2;
            uint8_t *buf = realloc(b->fetch_buf, cap);
            if (!buf) {
                sqlite3_reset(b->sel_chunks);
                return -ENOMEM;
            }
            b->fetch_buf = buf;
            b->fetch_cap = cap;
        }
        if (len) memcpy(b->fetch_buf + used, blob, len);
        b->fetched[n].seq = sqlite3_column_int64(b->sel_chunks, 0);
        b->fetched[n].off = used;
        b->fetched[n].len = len;
        used += len;
        n++;
    }
    sqlite3_reset(b->sel_chunks);
    return rc == SQLITE_DONE ? n : tr_sqlite_err(rc);
}

int64_t tr_builder_step(tr_builder *b, int64_t max_events)
{
    int64_t before = b->events;
    for (int more = 1; more && !b->err;) {
        int got = fetch_chunks(b);
        if (got < 0) {
            fprintf(stderr, "coscope: cannot read the chunks: %s\n", sqlite3_errmsg(b->db));
            b->err = got;
            break;
        }
        more = got > 0;
        for (int i = 0; i < got; i++) {
            const uint8_t *blob = b->fetch_buf + b->fetched[i].off;
            if (tr_chunk_decode(blob, b->fetched[i].len, NULL, on_event, b) < 0)
                fprintf(stderr, "coscope: chunk %lld is damaged; skipped\n", (long long)b->fetched[i].seq);
            b->built_seq = b->fetched[i].seq;
            if (max_events > 0 && b->events - before >= max_events) {
                more = 0;
                break;
            }
        }
    }
    flush_batches(b, max_events > 0);  /* a live build: its spans are read now */
    if (b->err) return b->err;
    tr_meta_set_int(b->db, "built_seq", b->built_seq);
    return b->events - before;
}

int tr_builder_finish(tr_builder *b)
{
    int64_t end = b->max_ts;
    /* Whatever is still open ran until the end of the trace. */
    for (size_t i = 0; i < b->holds.cap; i++) {
        if (!b->holds.keys[i]) continue;
        hold *h = (hold *)(b->holds.vals + i * b->holds.vsize);
        int name = h->kind == 'r' ? TR_SPAN_REGION : h->kind == 'w' ? TR_SPAN_WORK : h->kind == 'i' ? TR_SPAN_IDLE : TR_SPAN_HOLD;
        if (h->kind == 'h') tr_rs_hold(b, h->res, h->task, end - h->start);
        span(b, name, h->task, h->res, h->start, end, h->loc, 0, 1, 0);
    }
    for (size_t i = 0; i < b->tasks.cap; i++) {
        if (!b->tasks.keys[i]) continue;
        uint64_t id = b->tasks.keys[i];
        tstate *t = (tstate *)(b->tasks.vals + i * b->tasks.vsize);
        if (t->in_step) {
            t->step_end = end;
            t->step_end_loc = 0;
            step_row(b, id, t, 0, 0, 1);
            t->busy += end - t->step_start;
        }
        if (t->in_await) {
            step_row(b, id, t, end, 0, 1);
            t->wait += end - t->await_start;
            if (tr_contended_kind(t->await_kind)) tr_rs_wait(b, t->await_res, id, end - t->await_start);
        }
        write_task(b, id, t, -1, t->in_await ? "waiting" : t->start_ts ? "ready" : "pending", 0, 0);
    }
    flush_batches(b, 1);
    if (tr_write_rstats(b) < 0) return b->err;
    /* Statistics, from a sample (a tenth of a second on 10M events): without
     * them SQLite would rather scan spans than probe it once per task. */
    int r = tr_exec(b->db, "PRAGMA analysis_limit=1000; ANALYZE;");
    if (r == 0) r = tr_meta_set_int(b->db, "built", 1);
    if (r == 0) r = tr_meta_set_int(b->db, "duration_ns", end);
    return b->err ? b->err : r;
}

int tr_build_complete(sqlite3 *db)
{
    if (tr_meta_int(db, "built", 0)) return 0;
    tr_db_journal_for_build(db);
    /* Interrupted build (or a recorder that died): redo it from the chunks. */
    int r = tr_exec(db, "BEGIN; DELETE FROM events; DELETE FROM spans; DELETE FROM tasks; DELETE FROM resources;"
                        "DELETE FROM threads; DELETE FROM warnings; DELETE FROM resource_stats;"
                        "DELETE FROM meta WHERE key = 'built_seq';");
    if (r < 0) return r;
    tr_builder *b;
    r = tr_builder_new(&b, db);
    if (r == 0) {
        int64_t n = tr_builder_step(b, 0);
        r = n < 0 ? (int)n : tr_builder_finish(b);
        tr_builder_free(b);
    }
    if (r == 0) r = tr_exec(db, "COMMIT");
    else tr_exec(db, "ROLLBACK");
    return r;
}
