/* SPDX-License-Identifier: MIT */
/* model.c -- the model's lifetime: opening a trace through the tracer's
 * reader, loading what is small enough to hold whole (the run's facts,
 * tasks and their tree, resources, warnings, through the files below it),
 * and the refresh of a trace still being recorded.  Lookups and the string
 * pool every model string lives in are model_find.c's.
 *
 * A trace is input: every text read here goes through tr_sanitize before
 * anything can draw it, every id read from a row is checked before it
 * indexes anything, and a row that makes no sense (a parent that is not a
 * task, a kind that has no name) is kept with what can be kept of it.
 */
#define _GNU_SOURCE
#include "model_int.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- tasks --------------------------------------------------------------- */

/* A task's final state from the name the tasks table stores (the
 * tracer's list, tracer/tracer.h), as the model's states say it. */
static int state_of(const char *s)
{
    switch (tr_task_state_from_name(s)) {
    case TR_TASK_DONE: return TUI_DONE;
    case TR_TASK_FAILED: return TUI_FAILED;
    case TR_TASK_CANCELLED: return TUI_CANCELLED;
    case TR_TASK_WAITING: return TUI_WAITING;
    case TR_TASK_READY: return TUI_RUNNING; /* never ended, was running or runnable at the end */
    default: return TUI_READY;
    }
}

static int cmp_task(const void *a, const void *b)
{
    int64_t x = ((const tui_task *)a)->id, y = ((const tui_task *)b)->id;
    return x < y ? -1 : x > y;
}

/* Read the tasks table.  The first time, every row.  On a refresh of a
 * trace being recorded, only what can have changed: tasks new since the
 * last read (ids only grow), rows rewritten because their task ended
 * since (a task's row is written at its spawn and again at its end; a
 * second of margin for builders that replay threads out of step), and the
 * rows of tasks still alive, which a live build rewrites as they go. */
static int load_tasks(tui_model *m)
{
    sqlite3_stmt *st;
    const char *sql = "SELECT t.id, " TR_TEXT("t.name") ", t.parent, t.ring, t.spawn_loc, t.spawn_ts, t.start_ts,"
                      " t.end_ts, " TR_TEXT("t.state") ","
                      " t.result, t.detached, t.steps, t.awaits, t.busy_ns, t.wait_ns FROM tasks t"
                      " WHERE t.id > ?1 OR t.end_ts >= ?2 OR t.end_ts IS NULL OR ?3 ORDER BY t.id";
    if (sqlite3_prepare_v2(m->db, sql, -1, &st, NULL) != SQLITE_OK) return -EILSEQ;
    int first = m->ntasks == 0 || !m->tasks_partial_ok;
    int64_t max_id = m->ntasks ? m->tasks[m->ntasks - 1].id : 0;
    sqlite3_bind_int64(st, 1, first ? INT64_MIN : max_id);
    sqlite3_bind_int64(st, 2, first ? INT64_MIN : m->tasks_read_upto - 1000000000);
    sqlite3_bind_int(st, 3, first);
    size_t cap = m->tasks_cap, n = first ? 0 : m->ntasks;
    tui_task *tasks = m->tasks;
    int rc, added = 0;
    int64_t end = m->info.duration_ns;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        tui_task *slot;
        if (!first && id <= max_id) {
            int i = tui_model_task_index(m, id);
            if (i < 0) continue; /* not in the last read: ids out of order in a hostile file */
            slot = &tasks[i];
        } else {
            if (n == cap) {
                cap = cap ? 2 * cap : 1024;
                tui_task *nt = realloc(tasks, cap * sizeof *nt);
                if (!nt) {
                    rc = SQLITE_NOMEM;
                    break;
                }
                tasks = m->tasks = nt;
            }
            slot = &tasks[n++];
            memset(slot, 0, sizeof *slot);
            /* Names and spawn sites never change: interned once. */
            slot->name = tui__intern(m, tui__col_text(st, 1));
            added = 1;
        }
        tui_task t = *slot;
        t.id = id;
        t.parent = tui__col_int(st, 2, 0);
        t.ring = (uint32_t)tui__col_int(st, 3, 0);
        const tui_loc *l = tui__loc(m, tui__col_int(st, 4, 0));
        t.spawn_at = l ? l->where : "";
        t.spawn_func = l ? l->func : "";
        t.spawn_ts = tui__col_int(st, 5, 0);
        t.start_ts = tui__col_int(st, 6, -1);
        t.end_ts = tui__col_int(st, 7, -1);
        t.final_state = state_of(tui__col_text(st, 8));
        t.has_result = sqlite3_column_type(st, 9) != SQLITE_NULL;
        t.result = tui__col_int(st, 9, 0);
        t.detached = (int)tui__col_int(st, 10, 0);
        t.steps = tui__col_int(st, 11, 0);
        t.awaits = tui__col_int(st, 12, 0);
        t.busy_ns = tui__col_int(st, 13, 0);
        t.wait_ns = tui__col_int(st, 14, 0);
        *slot = t;
    }
    sqlite3_finalize(st);
    m->tasks = tasks;
    m->tasks_cap = cap;
    if (rc != SQLITE_DONE) return rc == SQLITE_NOMEM ? -ENOMEM : -EILSEQ;
    m->tasks_read_upto = end;
    m->tasks_partial_ok = 1;
    if (first || added) {
        /* An id is the primary key, so the rows come sorted and unique;
         * lookups rely on that, so do not take it on trust. */
        if (n > 1) qsort(tasks, n, sizeof *tasks, cmp_task);
        m->ntasks = n;
    }
    for (size_t i = 0; i < n; i++) {
        tui_task *t = &tasks[i];
        t->total_ns = (t->end_ts >= 0 ? t->end_ts : end) - t->spawn_ts;
        if (t->total_ns < 0) t->total_ns = 0;
    }
    tui_at_cache *at = realloc(m->at, (n ? n : 1) * sizeof *at);
    if (!at) return -ENOMEM;
    m->at = at;
    memset(m->at, 0, n * sizeof *at); /* states at t may have changed with the new rows */
    if (first || added) {
        /* The tree: children in spawn (id) order, linked from their parent.
         * Built backwards so each child is pushed in front of later ones. */
        for (size_t i = 0; i < n; i++) {
            tasks[i].first_child = tasks[i].next_sibling = -1;
            tasks[i].parent_idx = tasks[i].parent && tasks[i].parent != tasks[i].id
                                      ? tui_model_task_index(m, tasks[i].parent) : -1;
        }
        for (size_t i = n; i-- > 0;) {
            int p = tasks[i].parent_idx;
            if (p < 0) continue;
            tasks[i].next_sibling = tasks[p].first_child;
            tasks[p].first_child = (int32_t)i;
        }
    }
    m->info.ntasks = n;
    return 0;
}

size_t tui_model_tasks(tui_model *m, const tui_task **out)
{
    *out = m->tasks;
    return m->ntasks;
}

/* ---- the run ------------------------------------------------------------- */

/* What the run says of itself: the reader's summary (tracer/reader_run.c),
 * which the report heads its output with too. */
static void load_run(tui_model *m)
{
    tui_info *i = &m->info;
    tr_run run;
    tr_run_summary(m->db, 0, &run); /* never fails: what is missing reads as none */
    i->program = tui__intern(m, run.program);
    i->argv = tui__intern(m, run.argv);
    i->start_time = tui__intern(m, run.start_time);
    int ended = run.ending;
    char buf[128];
    i->recording = m->rd.recording = m->rd.recording && tr_reader_still_recording(m->db);
    if (ended == TR_ENDED_EXIT) {
        i->end_kind = TUI_END_EXIT;
        i->exit_code = (int)run.exit_code;
        snprintf(buf, sizeof buf, "exit %d", i->exit_code);
    } else if (ended == TR_ENDED_SIGNAL) {
        i->end_kind = TUI_END_SIGNAL;
        i->signal = (int)run.signal;
        char name[40];
        tr_sanitize(name, sizeof name, run.signal_name);
        snprintf(buf, sizeof buf, "killed by SIG%s", *name ? name : "?");
    } else if (ended == TR_ENDED_STOPPED) {
        i->end_kind = TUI_END_STOPPED;
        snprintf(buf, sizeof buf, "stopped (co_trace_stop)");
    } else if (ended == TR_ENDED_DUMPED) { /* the program ran on: this is a window of it */
        i->end_kind = TUI_END_DUMPED;
        char why[40];
        tr_sanitize(why, sizeof why, run.flight_trigger);
        snprintf(buf, sizeof buf, "flight window (%s)", *why ? why : "dump");
    } else {
        i->end_kind = TUI_END_RUNNING;
        snprintf(buf, sizeof buf, i->recording ? "running" : "unfinished (the recorder stopped)");
    }
    i->ended = tui__intern(m, buf);
    m->built = run.built;
    /* Said at every open and refresh, for good (meta.complete: 1 once every
     * published event is in the file; traces from before have none). */
    i->incomplete = !i->recording && !run.complete;
    i->events = run.events > 0 ? run.events : 0;
    i->lost = run.lost;
    /* duration_ns is written at the end of a build; while recording (or
     * for a build that never finished) the chunks say how far it got. */
    int64_t d = run.duration_ns;
    int64_t from_chunks = 0, events = 0;
    size_t nch;
    const tr_chunk *ch = tr_chunks_dir(m->ch, &nch);
    for (size_t c = 0; c < nch; c++) {
        if (ch[c].last > from_chunks) from_chunks = ch[c].last;
        events += ch[c].n;
    }
    i->duration_ns = d >= 0 && d >= from_chunks ? d : from_chunks;
    if (i->events < events) i->events = events;
}

int tui__load(tui_model *m)
{
    int r = tui__load_locations(m);
    if (r == 0) r = tui__load_chunks(m);
    if (r == 0) load_run(m);
    if (r == 0) r = load_tasks(m);
    if (r == 0) r = tui__load_resources(m);
    if (r == 0) r = tui__load_warnings(m);
    if (r == 0) r = tui__mark_stacks(m);
    m->gen++;        /* a refresh may have closed what was open: every kept answer is asked again */
    m->hist_idx = -1;
    return r;
}

static int prepare(tui_model *m, sqlite3_stmt **st, const char *sql)
{
    return sqlite3_prepare_v3(m->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) == SQLITE_OK ? 0 : -EILSEQ;
}

int tui_model_open(tui_model **out, const char *path, void (*progress)(void *ctx, int64_t done, int64_t total),
                   void *ctx, char *why, size_t cap)
{
    *out = NULL;
    tui_model *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(why, cap, "out of memory");
        return -ENOMEM;
    }
    int r = tr_reader_open(&m->rd, path, progress, ctx);
    if (r < 0) {
        snprintf(why, cap, "%s", m->rd.why);
        free(m);
        return r;
    }
    m->db = m->rd.db;
    m->hist_idx = -1;
    /* Someone watches: no statement may run long or give rows without
     * end (a hostile view drips rows, each of which restarts the guard's
     * clock without a row), so every one is bounded in total time and
     * rows too -- the shorter of TUI_QUERY_TOTAL_S and the guard's bound
     * ($COSCOPE_QUERY_TIMEOUT; 0 lifts both). */
    int64_t lim = tr_query_limit_ns();
    if (lim > 0)
        tr_db_set_bounds(m->db, lim < TUI_QUERY_TOTAL_S * 1000000000ll ? lim : TUI_QUERY_TOTAL_S * 1000000000ll,
                         TUI_QUERY_MAX_ROWS);
    m->info.path = tui__intern(m, path);
    m->info.note = tui__intern(m, m->rd.note);
    m->info.damaged = "";
    /* What views ask most often, prepared once.  A task's step at t is
     * one probe of spans' (task, start) key; holders of a resource at t
     * go through the time bins (docs/schema.md, "Time bins"). */
    r = tr_at_open(&m->q, m->db);
    if (r == 0) r = prepare(m, &m->st_string, "SELECT " TR_TEXT("text") " FROM strings WHERE id = ?");
    /* One read transaction for everything the model asks: without it each
     * statement takes and drops SQLite's file lock (two fcntl and an fstat
     * per probe: most of the time of the await tree of 100k tasks).  A
     * refresh ends it to see what the recorder committed since. */
    if (r == 0) r = tr_exec(m->db, "BEGIN");
    if (r == 0) r = tui__load(m);
    if (r < 0) {
        if (sqlite3_errcode(m->db) == SQLITE_TOOBIG) /* a value over TR_VALUE_MAX: not a layout question */
            snprintf(why, cap, "%s: %s", path, tr_db_errmsg(m->db));
        else
            snprintf(why, cap, "%s: %s (%s)", path,
                     r == -ENOMEM ? "out of memory" : "unexpected trace layout; is it from another coscope version?",
                     tr_db_errmsg(m->db));
        tui_model_close(m);
        return r;
    }
    *out = m;
    return 0;
}

static int model_cancel(void *ctx)
{
    tui_model *m = ctx;
    return m->cancel && m->cancel(m->cancel_ctx, m->in_sql);
}

void tui_model_set_cancel(tui_model *m, int (*cancel)(void *ctx, int sql), void *ctx)
{
    m->cancel = cancel;
    m->cancel_ctx = ctx;
    tr_db_set_cancel(m->db, cancel ? model_cancel : NULL, m);
}

int tui_model_refresh(tui_model *m)
{
    /* Nothing more will come once the run is over and its tables are
     * built; until then (the recorder finishing after the program's end),
     * read on. */
    if (!m->info.recording && m->built) return 0;
    size_t nch;
    tr_chunks_dir(m->ch, &nch);
    size_t ntasks = m->ntasks, nwarn = m->nwarn;
    int was_recording = m->info.recording, was_built = m->built;
    int r = tr_exec(m->db, "COMMIT; BEGIN");
    if (r == 0) r = tui__load(m);
    if (r < 0) return r;
    /* The levels of detail may have appeared with the build. */
    if (m->built) tr_timeline_recheck(m->q);
    size_t nch2;
    tr_chunks_dir(m->ch, &nch2);
    return nch2 != nch || m->ntasks != ntasks || m->nwarn != nwarn || m->info.recording != was_recording ||
           m->built != was_built;
}

int tui_model_check(tui_model *m)
{
    if (m->info.damaged && m->info.damaged[0]) return 0;
    if (!tr_reader_check(&m->rd)) return 0;
    m->info.damaged = tui__intern(m, m->rd.damage);
    return 1;
}

const tui_info *tui_model_info(tui_model *m)
{
    return &m->info;
}

void tui_model_close(tui_model *m)
{
    if (!m) return;
    tr_at_close(m->q);
    sqlite3_finalize(m->st_string);
    free(m->tl_cells);
    tui__free_events(m);          /* the chunks' statements, before their connection */
    tr_reader_close(&m->rd);
    tui__free_res(m);
    free(m->locs);
    free(m->tasks);
    free(m->at);
    free(m->rows);
    tr_ready_close(m->ready);     /* its statements, before their connection */
    free(m->range.tasks);
    free(m->grp);
    free(m->grp_members);
    free(m->tree);
    free(m->rc.at);
    free(m->rc.have);
    for (size_t i = 0; i < m->spark_n; i++) free(m->spark[i].v);
    free(m->spark);
    free(m->has_stack);
    free(m->warned);
    free(m->uses);
    while (m->pool) {
        tui_pool_block *next = m->pool->next;
        free(m->pool);
        m->pool = next;
    }
    free(m);
}
