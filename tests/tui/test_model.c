/* SPDX-License-Identifier: MIT */
/* test_model.c -- the TUI's model (tui/model*.c) on traces of real
 * programs, recorded in-process with co_trace_start.
 *
 * The program: `holder` takes lock `shared` and sleeps 40 ms with it;
 * `waiter` sleeps 10 ms, then waits for the lock; `failer` returns -EIO;
 * then two tellers take `acct_a` and `acct_b` in opposite orders, so the
 * runtime refuses the wait that would close the cycle (-EDEADLK) and a
 * `deadlock` warning names it.  Times are whatever the run took: each
 * check finds its moment from the trace (the waiter's wait, the warning)
 * and asserts what the model says at that moment and around it.
 *
 * Checks: the state of a task before its spawn, running, waiting on a lock
 * held by another task, ended (done / failed); the await chain (waiter ->
 * lock -> holder) and the cycle of the deadlock, drawn as a cycle; sort
 * and filter of the Tasks rows; the holder and waiters of a resource at t;
 * jumping to a warning (its task and moment); stepping by event; the SQL
 * prompt's parameters and errors; the timeline's cells at three zooms (the
 * spans, the levels of detail) and over the whole run; tasks grouped by
 * spawn site; a task's latency (its steps, its waits by kind, the
 * scheduled delay of its lock wait); where time went over the whole run
 * and over one sleep; how many warnings name each task; every event number
 * up to the run's count; a file that is not a trace. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "coscope.h"
#include "trace.h"
#include "../../tui/model.h"

static char dir[256], path[300];
static co_lock_t shared, acct_a, acct_b;
static co_queue_t jobs;

static int consumer(void *arg)
{
    (void)arg;
    void *item;
    return co_queue_get(&jobs, &item); /* waits: the producer puts 5 ms later */
}

static int holder(void *arg)
{
    (void)arg;
    co_lock_acquire(&shared);
    co_sleep(40);
    co_lock_release(&shared);
    return 0;
}

static int waiter(void *arg)
{
    (void)arg;
    co_sleep(10);
    int r = co_lock_acquire(&shared);
    if (r == 0) co_lock_release(&shared);
    return r;
}

static int failer(void *arg)
{
    (void)arg;
    co_sleep(1);
    return -EIO;
}

static int teller_ab(void *arg)
{
    (void)arg;
    co_lock_acquire(&acct_a);
    co_sleep(5);
    int r = co_lock_acquire(&acct_b);
    if (r == 0) co_lock_release(&acct_b);
    co_lock_release(&acct_a);
    return 0;
}

static int teller_ba(void *arg)
{
    (void)arg;
    co_lock_acquire(&acct_b);
    co_sleep(10);
    int r = co_lock_acquire(&acct_a); /* refused: -EDEADLK */
    if (r == 0) co_lock_release(&acct_a);
    co_lock_release(&acct_b);
    return 0;
}

static int program(void *arg)
{
    (void)arg;
    co_lock_init(&shared);
    co_lock_init(&acct_a);
    co_lock_init(&acct_b);
    co_task_t h = co_spawn(holder, NULL);
    co_task_t w = co_spawn(waiter, NULL);
    co_task_t f = co_spawn(failer, NULL);
    co_queue_init(&jobs, 4);
    co_task_t q = co_spawn(consumer, NULL);
    co_sleep(5);
    co_queue_put(&jobs, &jobs);
    co_await(q);
    co_await(h);
    co_await(w);
    co_await(f);
    co_task_t a = co_spawn(teller_ab, NULL);
    co_task_t b = co_spawn(teller_ba, NULL);
    co_await(a);
    co_await(b);
    return 0;
}

static tui_model *m;

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/coscope-test-model-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/t.db", dir);
    assert_int_equal(co_trace_start(path), 0);
    assert_int_equal(co_run(program, NULL), 0);
    assert_int_equal(co_trace_stop(), 0);
    char why[600];
    int r = tui_model_open(&m, path, NULL, NULL, why, sizeof why);
    if (r < 0) fail_msg("open: %s", why);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tui_model_close(m);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static int task_named(const char *name)
{
    const tui_task *t;
    size_t n = tui_model_tasks(m, &t);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(t[i].name, name)) return (int)i;
    fail_msg("no task %s", name);
    return -1;
}

static int res_named(const char *name)
{
    const tui_resource *r;
    size_t n = tui_model_resources(m, &r);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(r[i].name, name)) return (int)i;
    fail_msg("no resource %s", name);
    return -1;
}

/* The middle of the part of waiter's wait for the lock while the holder
 * still held it, from the trace's own rows.  (The wait itself may go on a
 * little after the release: the lock is handed over at once, but the
 * waiter runs when the loop gets to it -- much later under Valgrind.) */
static int64_t mid_of_lock_wait(void)
{
    tui_table tb;
    char sql[400];
    const tui_task *t;
    tui_model_tasks(m, &t);
    snprintf(sql, sizeof sql,
             "SELECT (w.end + MIN(w.resumed, h.end)) / 2 FROM spans w JOIN spans h ON h.kind = 'hold'"
             " AND h.resource = w.resource AND h.start <= w.end AND h.end > w.end"
             " WHERE w.task = :task AND w.kind = 'step' AND w.wait = 'lock'");
    assert_int_equal(tui_model_sql(m, sql, 0, t[task_named("waiter")].id, &tb), 0);
    assert_int_equal(tb.nrows, 1);
    int64_t v = atoll(tb.cells[1]);
    tui_table_free(&tb);
    return v;
}

static void test_info(void **state)
{
    (void)state;
    const tui_info *i = tui_model_info(m);
    assert_int_equal(i->ntasks, 7);
    assert_int_equal(i->nresources, 4);
    assert_true(i->duration_ns > 40000000); /* the holder slept 40 ms */
    assert_false(i->recording);
    assert_string_equal(i->ended, "stopped (co_trace_stop)");
}

static void test_state_at(void **state)
{
    (void)state;
    const tui_task *t;
    tui_model_tasks(m, &t);
    int w = task_named("waiter"), h = task_named("holder"), f = task_named("failer");
    tui_at a;
    /* before its spawn */
    assert_int_equal(tui_model_task_at(m, w, t[w].spawn_ts - 1, &a), 0);
    assert_int_equal(a.state, TUI_UNBORN);
    /* waiting on the lock held by the holder */
    int64_t mid = mid_of_lock_wait();
    assert_int_equal(tui_model_task_at(m, w, mid, &a), 0);
    assert_int_equal(a.state, TUI_WAITING);
    assert_int_equal(a.wait, CO_WAIT_LOCK);
    assert_string_equal(a.on_name, "shared");
    assert_non_null(strstr(a.at, "test_model.c"));
    assert_non_null(strstr(tui_model_state_text(m, w, &a), "held by #"));
    assert_non_null(strstr(tui_model_state_text(m, w, &a), "holder"));
    /* the holder is asleep with the lock */
    assert_int_equal(tui_model_task_at(m, h, mid, &a), 0);
    assert_int_equal(a.state, TUI_WAITING);
    assert_int_equal(a.wait, CO_WAIT_SLEEP);
    /* running: its first step starts at start_ts */
    assert_int_equal(tui_model_task_at(m, w, t[w].start_ts, &a), 0);
    assert_int_equal(a.state, TUI_RUNNING);
    /* ended */
    assert_int_equal(tui_model_task_at(m, w, t[w].end_ts, &a), 0);
    assert_int_equal(a.state, TUI_DONE);
    assert_int_equal(tui_model_task_at(m, f, t[f].end_ts + 1, &a), 0);
    assert_int_equal(a.state, TUI_FAILED);
    assert_non_null(strstr(tui_model_state_text(m, f, &a), "failed"));
}

static void test_chain(void **state)
{
    (void)state;
    const tui_task *t;
    tui_model_tasks(m, &t);
    int w = task_named("waiter"), h = task_named("holder");
    tui_link l[16];
    int n = tui_model_chain(m, w, mid_of_lock_wait(), l, 16);
    /* waiter -> lock shared -> holder (asleep: nothing further to follow but its sleep) */
    assert_true(n >= 3);
    assert_true(l[0].is_task);
    assert_int_equal(l[0].task_idx, w);
    assert_false(l[1].is_task);
    assert_string_equal(l[1].name, "shared");
    assert_false(l[1].refused);
    assert_true(l[2].is_task);
    assert_int_equal(l[2].task_idx, h);
    for (int i = 0; i < n; i++) assert_int_equal(l[i].cycle_to, -1);
}

static const tui_warning *deadlock_warning(void)
{
    const tui_warning *w;
    size_t n = tui_model_warnings(m, &w);
    for (size_t i = 0; i < n; i++)
        if (w[i].kind == TR_WARN_DEADLOCK) return &w[i];
    fail_msg("no deadlock warning");
    return NULL;
}

static void test_cycle_at_warning(void **state)
{
    (void)state;
    /* Jumping to the warning: its task and its moment. */
    const tui_warning *dw = deadlock_warning();
    int ba = task_named("teller_ba"), ab = task_named("teller_ab");
    const tui_task *t;
    tui_model_tasks(m, &t);
    assert_int_equal(tui_model_task_index(m, dw->task), ba);
    assert_non_null(strstr(dw->message, "cycle"));
    /* At that moment: teller_ba was refused acct_a, held by teller_ab, which
     * waits for acct_b, held by teller_ba: a cycle back to the first link. */
    tui_link l[16];
    int n = tui_model_chain(m, ba, dw->ts, l, 16);
    assert_int_equal(n, 5);
    assert_int_equal(l[0].task_idx, ba);
    assert_int_equal(l[0].state, TUI_RUNNING);
    assert_string_equal(l[1].name, "acct_a");
    assert_true(l[1].refused);
    assert_int_equal(l[2].task_idx, ab);
    assert_int_equal(l[2].state, TUI_WAITING);
    assert_string_equal(l[3].name, "acct_b");
    assert_false(l[3].refused);
    assert_int_equal(l[4].task_idx, ba);
    assert_int_equal(l[4].cycle_to, 0);
    /* The await tree draws the cycle instead of refusing it. */
    const tui_tree_row *rows;
    size_t nr = tui_model_await_tree(m, dw->ts, &rows);
    int cycles = 0, saw_ab = 0;
    for (size_t i = 0; i < nr; i++) {
        cycles += rows[i].cycle;
        saw_ab |= rows[i].task_idx == ab;
    }
    assert_true(saw_ab);
    assert_int_equal(cycles, 1);
}

static void test_resource_at(void **state)
{
    (void)state;
    const tui_task *t;
    tui_model_tasks(m, &t);
    int r = res_named("shared");
    tui_res_at ra;
    int64_t mid = mid_of_lock_wait();
    assert_int_equal(tui_model_resource_at(m, r, mid, &ra), 0);
    assert_int_equal(ra.nholders, 1);
    assert_int_equal(ra.holders[0], t[task_named("holder")].id);
    assert_int_equal(ra.nwaiters, 1);
    assert_int_equal(ra.waiters[0], t[task_named("waiter")].id);
    /* after both ended: free */
    assert_int_equal(tui_model_resource_at(m, r, t[task_named("waiter")].end_ts + 1, &ra), 0);
    assert_int_equal(ra.nholders, 0);
    assert_int_equal(ra.nwaiters, 0);
    const tui_resource *res;
    tui_model_resources(m, &res);
    assert_int_equal(res[r].acquisitions, 2);
    assert_int_equal(res[r].contended, 1);
    /* history: two holds and the wait that led to the second, by the waiter, on the holder */
    const tui_use *u;
    size_t nu = tui_model_resource_uses(m, r, mid, 16, &u);
    assert_int_equal(nu, 3);
    int waits = 0;
    for (size_t i = 0; i < nu; i++)
        if (u[i].is_wait) {
            waits++;
            assert_int_equal(u[i].task, t[task_named("waiter")].id);
            assert_int_equal(u[i].other, t[task_named("holder")].id);
        }
    assert_int_equal(waits, 1);
    /* Where it was waited on: the waiter's acquire line, one wait. */
    const tui_site *sites;
    size_t ns = tui_model_resource_sites(m, r, 8, &sites);
    assert_true(ns >= 1);
    assert_int_equal(sites[0].contended, 1);
    assert_non_null(strstr(sites[0].at, "test_model.c"));
    assert_true(sites[0].wait_max_ns > 0);
    /* A queue's history: the consumer's wait for an item, ended by the put. */
    const tui_task *k = &t[task_named("consumer")];
    nu = tui_model_resource_uses(m, res_named("jobs"), k->start_ts, 16, &u);
    assert_int_equal(nu, 1);
    assert_true(u[0].is_wait);
    assert_int_equal(u[0].task, k->id);
    assert_true(u[0].end > u[0].start && u[0].end <= k->end_ts);
    tui_res_at qa;
    assert_int_equal(tui_model_resource_at(m, res_named("jobs"), (u[0].start + u[0].end) / 2, &qa), 0);
    assert_int_equal(qa.nwaiters, 1);
    assert_int_equal(qa.depth, 0);
}

static void test_sort_and_filter(void **state)
{
    (void)state;
    const tui_task *t;
    tui_model_tasks(m, &t);
    const int *rows;
    int64_t mid = mid_of_lock_wait();
    size_t n = tui_model_task_rows(m, mid, TUI_COL_NAME, 0, NULL, &rows);
    assert_int_equal(n, 7);
    for (size_t i = 1; i < n; i++) assert_true(strcmp(t[rows[i - 1]].name, t[rows[i]].name) <= 0);
    n = tui_model_task_rows(m, mid, TUI_COL_NAME, 1, NULL, &rows);
    for (size_t i = 1; i < n; i++) assert_true(strcmp(t[rows[i - 1]].name, t[rows[i]].name) >= 0);
    n = tui_model_task_rows(m, mid, TUI_COL_ID, 0, NULL, &rows);
    for (size_t i = 1; i < n; i++) assert_true(t[rows[i - 1]].id < t[rows[i]].id);
    /* by text: the name, and the state at t with what it waits on */
    n = tui_model_task_rows(m, mid, TUI_COL_ID, 0, "TELLER", &rows);
    assert_int_equal(n, 2);
    n = tui_model_task_rows(m, mid, TUI_COL_ID, 0, "shared", &rows);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0], task_named("waiter"));
    n = tui_model_task_rows(m, mid, TUI_COL_STATE, 0, NULL, &rows);
    assert_int_equal(n, 7);
    tui_at a, b;
    for (size_t i = 1; i < n; i++) {
        tui_model_task_at(m, rows[i - 1], mid, &a);
        tui_model_task_at(m, rows[i], mid, &b);
        assert_true(a.state <= b.state);
    }
    n = tui_model_task_rows(m, mid, TUI_COL_ID, 0, "no such thing", &rows);
    assert_int_equal(n, 0);
}

static void test_events(void **state)
{
    (void)state;
    const tui_task *t;
    tui_model_tasks(m, &t);
    int w = task_named("waiter");
    /* stepping by the task's events from its spawn visits its start, its
     * sleep, the resume, the lock wait ... in increasing time, to its end */
    int64_t ts = t[w].spawn_ts, prev = ts;
    int steps = 0;
    while (tui_model_step_event(m, ts, 1, w, &ts) == 0) {
        assert_true(ts > prev);
        prev = ts;
        steps++;
        assert_true(steps < 50);
    }
    assert_int_equal(prev, t[w].end_ts);
    assert_true(steps >= 5);
    int64_t back;
    assert_int_equal(tui_model_step_event(m, t[w].end_ts, -1, w, &back), 0);
    assert_true(back < t[w].end_ts);
    /* any task's next event is no later than this task's */
    int64_t any, mine;
    assert_int_equal(tui_model_step_event(m, t[w].start_ts, 1, -1, &any), 0);
    assert_int_equal(tui_model_step_event(m, t[w].start_ts, 1, w, &mine), 0);
    assert_true(any <= mine);
    /* its events near the lock wait, with the await's line */
    const tui_event *ev;
    size_t cur;
    size_t n = tui_model_task_events(m, w, mid_of_lock_wait(), 50, &ev, &cur);
    int saw_await_lock = 0;
    for (size_t i = 0; i < n; i++) {
        if (i) assert_true(ev[i - 1].ts <= ev[i].ts);
        if (ev[i].kind == TR_AWAIT && strstr(ev[i].text, "lock 'shared'")) {
            saw_await_lock = 1;
            assert_non_null(strstr(ev[i].at, "test_model.c"));
            assert_true(i < cur); /* before the cursor, in the middle of the wait */
        }
    }
    assert_true(saw_await_lock);
    assert_int_equal(tui_model_step_event(m, tui_model_info(m)->duration_ns, 1, -1, &any), -ENOENT);
}

/* The cell of the timeline holding t, at a zoom of `span` ns over 100 cells. */
static tui_cell cell_at(int idx, int64_t t, int64_t span)
{
    tui_cell c[100];
    int64_t from = t - span / 2;
    assert_int_equal(tui_model_timeline(m, idx, from, from + span, 100, c), 0);
    return c[50];
}

static void test_timeline(void **state)
{
    (void)state;
    int w = task_named("waiter"), h = task_named("holder");
    int64_t mid = mid_of_lock_wait();
    /* At three zooms -- the spans themselves (10 us a cell), the finest
     * level of detail (1 ms), a coarse one (100 ms) -- the waiter waits on
     * the lock while the holder sleeps holding it. */
    int64_t spans[] = { 1000000, 100000000 };
    for (int i = 0; i < 2; i++) {
        tui_cell c = cell_at(w, mid, spans[i]);
        assert_int_equal(c.busy8, 0);
        assert_int_equal(c.wait8, 8);
        assert_int_equal(c.wait, CO_WAIT_LOCK);
        c = cell_at(h, mid, spans[i]);
        assert_int_equal(c.wait8, 8);
        assert_int_equal(c.wait, CO_WAIT_SLEEP);
        assert_true(c.ticks & TUI_TICK_HOLD);
    }
    /* The whole run in 100 cells: every task's row has something; the
     * failer's ends early; the deadlock's warning shows on teller_ba's row. */
    const tui_info *i = tui_model_info(m);
    tui_cell c[100];
    int warn_cells = 0;
    assert_int_equal(tui_model_timeline(m, task_named("teller_ba"), 0, i->duration_ns + 1, 100, c), 0);
    for (int k = 0; k < 100; k++) warn_cells += (c[k].ticks & TUI_TICK_WARN) != 0;
    assert_int_equal(warn_cells, 1);
    assert_int_equal(tui_model_timeline(m, task_named("failer"), 0, i->duration_ns + 1, 100, c), 0);
    int alive = 0;
    for (int k = 0; k < 100; k++) alive += c[k].busy8 + c[k].wait8 > 0;
    /* Early: well before the end, however a loaded machine stretched
     * the run's other parts (it lives a few percent of a quiet run). */
    assert_true(alive > 0 && alive < 50);
    assert_int_equal(c[99].busy8 + c[99].wait8, 0);
}

static void test_sql(void **state)
{
    (void)state;
    tui_table tb;
    assert_int_equal(tui_model_sql(m, "SELECT :t AS t, :task AS task", 42, 0, &tb), 0);
    assert_int_equal(tb.ncols, 2);
    assert_string_equal(tb.cells[0], "t");
    assert_string_equal(tb.cells[2], "42");
    assert_string_equal(tb.cells[3], "NULL");
    tui_table_free(&tb);
    assert_true(tui_model_sql(m, "SELEC nonsense", 0, 0, &tb) < 0);
    assert_non_null(strstr(tb.error, "syntax error"));
    tui_table_free(&tb);
    /* read-only */
    assert_true(tui_model_sql(m, "DELETE FROM tasks", 0, 0, &tb) < 0);
    assert_true(tb.error[0] != 0);
    tui_table_free(&tb);
    /* control characters in results are neutralised */
    assert_int_equal(tui_model_sql(m, "SELECT char(27) || '[2J'", 0, 0, &tb), 0);
    assert_string_equal(tb.cells[1], "?[2J");
    tui_table_free(&tb);
}

/* One integer from the trace (a query with :task bound). */
static int64_t q_int(const char *sql, int64_t task)
{
    tui_table tb;
    assert_int_equal(tui_model_sql(m, sql, 0, task, &tb), 0);
    assert_int_equal(tb.nrows, 1);
    int64_t v = atoll(tb.cells[tb.ncols]);
    tui_table_free(&tb);
    return v;
}

/* Grouped by spawn site: every task in one group, each tellers' own line
 * its own group, a group's figures its tasks'. */
static void test_groups(void **state)
{
    (void)state;
    const tui_task *t;
    size_t nt = tui_model_tasks(m, &t);
    const int *rows;
    size_t n = tui_model_task_rows(m, 0, TUI_COL_ID, 0, NULL, &rows);
    assert_int_equal(n, nt);
    const tui_group *g;
    const int *mem;
    size_t ng = tui_model_groups(m, t[0].end_ts, rows, n, &g, &mem);
    assert_true(ng >= 2 && ng <= n);
    int total = 0;
    for (size_t i = 0; i < ng; i++) {
        int states = 0;
        for (int s = 0; s < TUI_STATE_COUNT; s++) states += g[i].nstate[s];
        assert_int_equal(states, g[i].ntasks);
        total += g[i].ntasks;
        for (int k = 0; k < g[i].ntasks; k++) assert_string_equal(t[mem[g[i].first + k]].spawn_at, g[i].spawn_at);
        assert_true(g[i].busy[TUI_P50] <= g[i].busy[TUI_P99] && g[i].busy[TUI_P99] <= g[i].busy[TUI_PMAX]);
    }
    assert_int_equal(total, (int)n);
    /* the waiter is alone at its line: its group's figures are its own */
    int w = task_named("waiter");
    for (size_t i = 0; i < ng; i++)
        if (!strcmp(g[i].spawn_at, t[w].spawn_at)) {
            assert_int_equal(g[i].ntasks, 1);
            assert_int_equal(g[i].busy[TUI_PMAX], t[w].busy_ns);
            assert_int_equal(g[i].waiting[TUI_P50], t[w].wait_ns);
        }
}

/* The waiter's latency: its steps and its two waits (a sleep, the lock),
 * as its step rows have them; the lock's scheduled delay from the
 * holder's release. */
static void test_latency(void **state)
{
    (void)state;
    const tui_task *t;
    tui_model_tasks(m, &t);
    int w = task_named("waiter");
    tui_latency l;
    assert_int_equal(tui_model_task_latency(m, w, &l), 0);
    assert_int_equal(l.nbusy, q_int("SELECT COUNT(*) FROM spans WHERE task = :task AND kind = 'step'", t[w].id));
    int seen = 0;
    for (int k = 0; k < l.nkinds; k++) {
        const char *name = l.kinds[k].wait == CO_WAIT_LOCK ? "lock" : l.kinds[k].wait == CO_WAIT_SLEEP ? "sleep" : NULL;
        assert_non_null(name);
        char sql[200];
        snprintf(sql, sizeof sql, "SELECT MAX(resumed - end) FROM spans WHERE task = :task AND wait = '%s'", name);
        assert_int_equal(l.kinds[k].n, 1);
        assert_int_equal(l.kinds[k].p[TUI_PMAX], q_int(sql, t[w].id));
        seen++;
    }
    assert_int_equal(seen, 2);
    /* the lock's wait was over at the holder's release, before the waiter ran */
    assert_true(l.nsched >= 1);
    int64_t lock_wait = q_int("SELECT resumed - end FROM spans WHERE task = :task AND wait = 'lock'", t[w].id);
    assert_true(l.sched[TUI_PMAX] >= 0 && l.sched[TUI_PMAX] <= lock_wait);
}

/* Over the whole run each task's busy is its life's, and busy, waiting
 * and idle add up to the time it was alive. */
static void test_range(void **state)
{
    (void)state;
    const tui_task *t;
    size_t nt = tui_model_tasks(m, &t);
    const tui_info *info = tui_model_info(m);
    const tui_range *g;
    assert_int_equal(tui_model_range(m, 0, info->duration_ns, &g), 0);
    assert_int_equal(g->ntasks, nt);
    for (size_t i = 0; i < g->ntasks; i++) {
        const tui_range_task *x = &g->tasks[i];
        const tui_task *k = &t[x->idx];
        assert_int_equal(x->busy, k->busy_ns);
        int64_t end = k->end_ts >= 0 ? k->end_ts : info->duration_ns;
        assert_int_equal(x->busy + x->wait + x->idle, end - k->spawn_ts);
        int64_t sum = 0;
        for (int w = 0; w < TUI_WAIT_KINDS; w++) sum += x->by_kind[w];
        assert_int_equal(sum, x->wait);
        if (i) assert_true(g->tasks[i - 1].busy >= x->busy);
    }
    assert_true(g->nloops >= 1);
    assert_int_equal(g->loops[0].busy + g->loops[0].idle, info->duration_ns);
    /* a range of the holder's sleep with the lock: it only waits there */
    int h = task_named("holder");
    int64_t s0 = q_int("SELECT end FROM spans WHERE task = :task AND wait = 'sleep'", t[h].id);
    int64_t s1 = q_int("SELECT resumed FROM spans WHERE task = :task AND wait = 'sleep'", t[h].id);
    assert_int_equal(tui_model_range(m, s0, s1, &g), 0);
    for (size_t i = 0; i < g->ntasks; i++)
        if (g->tasks[i].idx == h) {
            assert_int_equal(g->tasks[i].busy, 0);
            assert_int_equal(g->tasks[i].by_kind[CO_WAIT_SLEEP], s1 - s0);
        }
}

/* Which tasks the warnings name (tui/model_marks.c: the `!` the lists
 * draw), each against the trace's own warnings table through the SQL
 * prompt's path; a teller must be named by the deadlock and some task by
 * nothing, or a model counting nothing (or everything) would pass. */
static void test_warning_counts(void **state)
{
    (void)state;
    const char *sql = "SELECT COUNT(*) FROM warnings WHERE task = :task OR task2 = :task";
    const tui_task *t;
    size_t n = tui_model_tasks(m, &t);
    int64_t tellers = 0, unnamed = 0;
    for (size_t i = 0; i < n; i++) {
        int c = tui_model_task_warnings(m, (int)i);
        assert_int_equal(c, q_int(sql, t[i].id));
        if (!strncmp(t[i].name, "teller", 6)) tellers += c;
        unnamed += c == 0;
    }
    assert_true(tellers >= 1);
    assert_true(unnamed >= 1);
    /* Asked again: the same (kept, not recounted wrongly). */
    for (size_t i = 0; i < n; i++) assert_int_equal(tui_model_task_warnings(m, (int)i), q_int(sql, t[i].id));
    assert_int_equal(tui_model_task_warnings(m, -1), 0);
    assert_int_equal(tui_model_task_warnings(m, (int)n), 0);
    assert_int_equal(tui_model_task_warnings(m, 1 << 30), 0);
}

/* Every event number up to the run's count is an event; past it none. */
static void test_event_numbers(void **state)
{
    (void)state;
    const tui_info *info = tui_model_info(m);
    int64_t rows = q_int("SELECT MAX(id) FROM events", 0), ts;
    assert_true(info->events > rows); /* awaits and resumes are in no table */
    assert_int_equal(tui_model_event_time(m, rows, &ts), 0);
    assert_int_equal(tui_model_event_time(m, info->events, &ts), 0);
    assert_true(ts >= 0 && ts <= info->duration_ns);
    assert_int_equal(tui_model_event_time(m, info->events + 1, &ts), -ENOENT);
    assert_int_equal(tui_model_event_time(m, 0, &ts), -ENOENT);
}

/* A flight recorder's dump: the program ran on after it, so the header
 * says it is a window and what asked for it, not "unfinished".  The same
 * trace, with the meta a dump writes (tracer/flightdump.c). */
static void test_flight_window(void **state)
{
    (void)state;
    char copy[320], cmd[1200], why[600];
    snprintf(copy, sizeof copy, "%s/window.db", dir);
    snprintf(cmd, sizeof cmd,
             "cp '%s' '%s' && sqlite3 '%s' \"UPDATE meta SET value = 'dumped' WHERE key = 'ended';"
             " INSERT OR REPLACE INTO meta(key, value) VALUES ('flight_trigger', 'deadlock')\"",
             path, copy, copy);
    assert_int_equal(system(cmd), 0);
    tui_model *x = NULL;
    int r = tui_model_open(&x, copy, NULL, NULL, why, sizeof why);
    if (r < 0) fail_msg("open: %s", why);
    const tui_info *i = tui_model_info(x);
    assert_int_equal(i->end_kind, TUI_END_DUMPED);
    assert_string_equal(i->ended, "flight window (deadlock)");
    assert_int_equal(i->nwarnings, tui_model_info(m)->nwarnings); /* the rest reads the same */
    tui_model_close(x);
}

static void test_bad_file(void **state)
{
    (void)state;
    char bad[320], why[600];
    snprintf(bad, sizeof bad, "%s/not-a-trace", dir);
    FILE *f = fopen(bad, "w");
    assert_non_null(f);
    fputs("hello, this is not SQLite\n", f);
    fclose(f);
    tui_model *x = NULL;
    assert_true(tui_model_open(&x, bad, NULL, NULL, why, sizeof why) < 0);
    assert_null(x);
    assert_non_null(strstr(why, "not a SQLite database"));
    snprintf(bad, sizeof bad, "%s/missing.db", dir);
    assert_int_equal(tui_model_open(&x, bad, NULL, NULL, why, sizeof why), -ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_info),
        cmocka_unit_test(test_state_at),
        cmocka_unit_test(test_chain),
        cmocka_unit_test(test_cycle_at_warning),
        cmocka_unit_test(test_resource_at),
        cmocka_unit_test(test_sort_and_filter),
        cmocka_unit_test(test_events),
        cmocka_unit_test(test_timeline),
        cmocka_unit_test(test_sql),
        cmocka_unit_test(test_groups),
        cmocka_unit_test(test_latency),
        cmocka_unit_test(test_range),
        cmocka_unit_test(test_warning_counts),
        cmocka_unit_test(test_event_numbers),
        cmocka_unit_test(test_flight_window),
        cmocka_unit_test(test_bad_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
