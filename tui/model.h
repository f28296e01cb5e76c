/* SPDX-License-Identifier: MIT */
/* model.h -- the TUI's model: a trace read into plain structs, and every
 * question a view asks of it ("what was task 7 doing at t?", "who held the
 * lock it waited on?").  No curses here: the model is what the unit tests
 * check, and the views (view_*.c) only draw what it returns.
 *
 * What is in memory and what is asked of SQLite.  At open the model loads
 * the small things whole -- the tasks (one tui_task each, with their tree),
 * resources with their contention figures, warnings, locations -- and the
 * chunk directory (seq, ring, time range of every chunk: a few thousand
 * rows for ten million events).  Everything that grows with the events is
 * read on demand, by keys that make each question a bounded read whatever
 * the trace's size:
 *   - a task at t: its last `step` row starting at or before t (one probe
 *     of spans' (task, start) key);
 *   - the holders of a lock at t: holds through the time bins;
 *   - events (the next one after t, a task's events near t, a queue's depth):
 *     the chunks themselves, the recording's own time-ordered index --
 *     the one or two chunks (about 16k events) around t are decoded, by
 *     the reader (tracer/reader.h: reader_chunks.c, reader_events.c,
 *     reader_next.c, reader_queue.c; the timeline, reader_timeline.c),
 *     which works the format out; the model puts the answers in words.
 * So the cursor can move anywhere without rescanning the trace.
 *
 * What each question costs (n: tasks; k: tasks whose state changed since
 * they were last asked; the answers a frame asks again after a key --
 * same cursor, another row selected -- are kept, and cost a lookup):
 *   - tui_model_task_at: one probe, none while t stays inside the interval
 *     the task's last answer holds over (a wait, a step, not yet spawned).
 *   - tui_model_task_rows: O(n) by id; O(n) task_at when sorted by state or
 *     filtered, plus the sort.
 *   - tui_model_resource_at: the first call at a new t makes one pass over
 *     the awaits open at t (the `waits` table's bins: nine range reads;
 *     a trace still recording: over the tasks, k probes) that finds the
 *     waiters of every resource; each resource then costs its holders (the bins: 9 index
 *     probes) and a queue's depth (the chunk around t), once per t.
 *   - tui_model_await_tree: one pass over the awaits open at t (the
 *     `waits` table's bins; a trace still recording: one task_at per live
 *     task) and an in-memory pass over the tasks; a row's state is asked
 *     when drawn (tui_model_tree_row); kept for its t.
 *   - tui_model_queue_depth: n samples, each the chunk around its time;
 *     kept per queue for its range, and the queues of the same thread are
 *     sampled with it (the run-wide line the views draw is paid once).
 *   - tui_model_task_hist: one read of the task's step rows, both
 *     histograms at once; kept for the task.
 *   - tui_model_task_events, tui_model_step_event: the chunks under the
 *     task's steps near t (a few of about 16k events each).
 *   - tui_model_resource_uses: a hold's (resource, start) index both ways
 *     from t, or for a queue at most 8 chunks each way; kept for (t, cap).
 *   - tui_model_timeline: at most 16 level-of-detail rows a cell.
 * A refresh (live) drops every kept answer.
 *
 * Ownership: strings and arrays a function returns belong to the model.
 * Those inside tui_task, tui_resource and tui_warning live until
 * tui_model_close; those in results marked "until the next call" are
 * overwritten by the next call of the same function.  Times are ns from
 * the start of the run, as in the database.  Trace text is sanitized
 * (tr_sanitize) before it is stored here: views may draw it as it is.
 *
 * One thread: the model and its connection belong to the UI's thread.
 */
#ifndef TUI_MODEL_H
#define TUI_MODEL_H

#include <stddef.h>
#include <stdint.h>

typedef struct tui_model tui_model;

/* A task's state at a time. */
enum tui_state {
    TUI_UNBORN,     /* not spawned yet at t */
    TUI_READY,      /* spawned, has not run yet (or: the trace does not say more) */
    TUI_RUNNING,    /* in a step */
    TUI_WAITING,    /* in an await: see tui_at.wait / .on */
    TUI_DONE,
    TUI_FAILED,
    TUI_CANCELLED,
    TUI_STATE_COUNT
};
/* "not yet", "ready", "running", "waiting", "done", "failed", "cancelled" */
const char *tui_state_name(int state);

/* How the run ended (meta.ended). */
enum tui_end { TUI_END_RUNNING, TUI_END_EXIT, TUI_END_SIGNAL, TUI_END_STOPPED, TUI_END_DUMPED };

typedef struct tui_info {
    const char *path;        /* the trace file, as given */
    const char *program;     /* meta.program */
    const char *argv;        /* the arguments, space separated */
    const char *start_time;  /* ISO 8601 */
    int end_kind;            /* enum tui_end */
    int exit_code;           /* valid only if end_kind == TUI_END_EXIT */
    int signal;              /* valid only if end_kind == TUI_END_SIGNAL */
    const char *ended;       /* "exit 0", "killed by SIGSEGV", "stopped", "running" */
    int recording;           /* the program still runs (live) */
    int64_t duration_ns;     /* the last event's time: the cursor's range is [0, duration_ns] */
    int64_t events, lost;
    size_t ntasks, nresources, nwarnings;
    const char *note;        /* "" or what the reader noted (partial tables) */
    int incomplete;          /* the recording stopped short (a full disk, a killed recorder): events are missing */
    const char *damaged;     /* "" or what happened to the file since it was opened (tui_model_check) */
} tui_info;

/* One task, as the tasks table has it (its life as a whole). */
typedef struct tui_task {
    int64_t id;
    int64_t parent;             /* task id; 0: none */
    int32_t parent_idx;         /* index of the parent in the task array; -1: none (or not in the trace) */
    int32_t first_child;        /* index of its first child, -1: none; children in spawn order */
    int32_t next_sibling;       /* index of the next child of the same parent, -1: none */
    uint32_t ring;              /* the thread it runs on */
    const char *name;
    const char *spawn_at;       /* "file:line" of the spawn, "" if unknown */
    const char *spawn_func;     /* the function that spawned it, "" if unknown */
    int64_t spawn_ts;
    int64_t start_ts;           /* -1: never ran */
    int64_t end_ts;             /* -1: never ended */
    int final_state;            /* tui_state at the end of the trace */
    int has_result;
    int64_t result;             /* valid only if has_result: return value, negative errno for failures */
    int detached;
    int64_t steps, awaits, busy_ns, wait_ns;
    int64_t total_ns;           /* spawn to end, or to the end of the trace */
} tui_task;

/* What a task was doing at a time t (tui_model_task_at). */
typedef struct tui_at {
    int state;                  /* enum tui_state */
    int wait;                   /* co_wait_kind; valid only if state == TUI_WAITING */
    int64_t on;                 /* waiting: the resource id, or the task id when wait is "task"; 0: nothing named */
    int on_task_idx;            /* waiting on a task: its index, -1 else */
    const char *on_name;        /* waiting: the name of what it waits on ("" if none); valid until tui_model_close */
    int64_t since;              /* when this state began (the step's start, the await's start, spawn, end) */
    int64_t until;              /* when it ends; -1: not within the trace */
    const char *at;             /* waiting: the await's line; running: the line it resumed from; "" if none */
} tui_at;

/* Resources: locks, semaphores, queues, events, conditions, futures ... */
typedef struct tui_resource {
    int64_t id;
    int kind;                   /* co_wait_kind of the object (lock, semaphore, queue_get for a queue, ...) */
    const char *kind_name;      /* "lock", "semaphore", "queue" (TUI_KIND_QUEUE), "event", ... */
    const char *name;
    const char *created_at;     /* "file:line", "" if unknown */
    uint32_t ring;              /* the thread it was created on (its events are in that ring's chunks) */
    int64_t create_ts;
    int has_stats;              /* locks, semaphores and queues have the figures below */
    int64_t acquisitions, contended, wait_total_ns, wait_p50_ns, wait_p99_ns, wait_max_ns;
    int64_t hold_total_ns, hold_max_ns, max_waiters, max_depth;
    int64_t longest_waiter, longest_holder;   /* task ids, 0: none */
} tui_resource;

/* A queue's kind_name: one name for its gets, puts and joins (its kind is
 * CO_WAIT_QUEUE_GET, the name of the wait its getters are in). */
#define TUI_KIND_QUEUE "queue"

#define TUI_MAX_LISTED 32
/* A resource at a time t. */
typedef struct tui_res_at {
    int nholders;               /* tasks holding it at t (a lock: 0 or 1) */
    int64_t holders[TUI_MAX_LISTED];  /* task ids, the first nholders (more may exist: see nholders_total) */
    int nholders_total;
    int nwaiters, nwaiters_total;
    int64_t waiters[TUI_MAX_LISTED];  /* task ids waiting on it at t, longest waiting first */
    int64_t depth;              /* queues: items in it at t; -1: not a queue or unknown */
} tui_res_at;

/* Where a resource was waited on: one acquire (or queue get/put) site. */
typedef struct tui_site {
    const char *at;             /* "file:line" */
    const char *func;
    int64_t acquisitions, contended, wait_total_ns, wait_p99_ns, wait_max_ns;
} tui_site;

/* A hold or a wait, for the resource's history (Enter on a resource). */
typedef struct tui_use {
    int is_wait;                /* 0: a hold; 1: a wait on it */
    int64_t task;
    int64_t start, end;         /* end: -1 if still open at the end of the trace */
    int64_t other;              /* waits: the task holding it when the wait began, 0 if none/unknown */
    const char *at;             /* where it was acquired / awaited */
    int64_t result;             /* waits: the await's result */
} tui_use;

typedef struct tui_warning {
    int64_t id;
    int kind;                   /* enum tr_warn (TR_WARN_*); 0 if unknown */
    const char *kind_name;
    int64_t task, task2, resource; /* 0: none */
    int64_t ts, dur;
    const char *at, *at2;       /* "file:line" or "" */
    const char *cause;          /* "file:line" of the line that caused it (warnings.cause_loc), or "" */
    const char *message;
    const char *stack;          /* one frame a line, or "" */
} tui_warning;

/* One event, decoded from the recording. */
typedef struct tui_event {
    int64_t ts;
    int kind;                   /* tr_kind */
    const char *kind_name;
    int64_t task, res, arg;
    uint32_t ring;
    const char *at;             /* "file:line" or "" */
    char text[160];             /* what it means, in words: "await lock 'db'", "log: hello" */
} tui_event;

/* A link of the await chain (tui_model_chain): tasks and what they wait
 * on, alternating: task -> resource -> holder task -> resource -> ...
 * A gather, wait or group branches: the links after it, one depth
 * deeper, are each task it waits for followed by that task's own chain
 * (depth first, in spawn order); a link back at the gather's depth or
 * less continues an outer branch. */
typedef struct tui_link {
    int is_task;                /* 1: a task (id, task_idx, state); 0: a resource or other awaitable */
    int64_t id;                 /* task id, or resource id; 0 for an unnamed wait (sleep, gather) */
    int task_idx;               /* tasks: index; -1 else */
    int res_idx;                /* resources: index; -1 else */
    int state;                  /* tasks: tui_state at t */
    int wait;                   /* tasks waiting: co_wait_kind; resources: how the task before waits on it (queue_put ...), or for a refused wait the resource's kind */
    const char *name;           /* "" for an unnamed wait (its kind names it: sleep, gather) */
    const char *at;             /* tasks: the await's line (waiting) */
    int64_t since;              /* tasks: since when in this state */
    int refused;                /* this wait was refused at t (a deadlock warning): it would have closed a cycle */
    int cycle_to;               /* -1, or the index of the earlier link on this branch this one is again: a cycle */
    int shown_above;            /* tasks: already followed on another branch (two gathers wait for it): not again */
    int branch;                 /* tasks: the first link of one of a gather's branches (depth > 0) */
    int depth;                  /* 0 the task asked about; +1 under each gather */
    int ntasks;                 /* resources: how many hold it (the first, the last to take it, is followed);
                                 * a gather, wait or group: how many tasks it waits for at t */
    int more;                   /* resources: holders besides the one followed; a gather: tasks not listed */
} tui_link;

/* A row of the await tree (tui_model_await_tree). */
typedef struct tui_tree_row {
    int depth;
    int task_idx;
    tui_at at;                  /* its state at t */
    int via_holder;             /* it is here because it holds what its parent row waits on */
    int cycle;                  /* it already appears above on this path: the tree stops here */
    const char *stack;          /* its recorded stack (slow-step watchdog), or "": only one taken at t's step or after its crash */
    int64_t stack_ts;           /* when that stack's warning begins */
    int filled;                 /* at is set: else ask tui_model_tree_row, which sets it */
} tui_tree_row;

/* A query result for the SQL prompt.  Cells are sanitized text (NULL shows
 * as "NULL"); row 0 is the column names. */
typedef struct tui_table {
    int ncols;
    size_t nrows;               /* rows of data, not counting the header */
    char **cells;               /* (nrows + 1) * ncols */
    int *width;                 /* per column: the widest cell, in characters */
    int truncated;              /* more rows than TUI_SQL_MAX_ROWS: the rest were not read */
    int64_t elapsed_us;
    char error[512];            /* "" on success; else SQLite's message */
} tui_table;
#define TUI_SQL_MAX_ROWS 10000

/* One cell of a task's row in the timeline: what the task did over the
 * cell's interval of time.
 *
 * A cell draws one thing: running (a bar of busy8) or its wait (a glyph of
 * its kind).  It draws running when the task ran a meaningful share of
 * it: at least a quarter, to the nearest eighth (busy8 >= 2, so from 3/16
 * of the cell), or at least as long as it waited.  A task that runs a
 * third of every cell is a busy task, and a row of wait glyphs hid that;
 * below a quarter the wait is what the cell is about, and its kind shows. */
typedef struct tui_cell {
    uint8_t busy8;              /* eighths of the cell's time it ran, 0..8 (1 if it ran at all) */
    uint8_t wait8;              /* eighths of the cell's time it waited, 0..8 (1 if it waited at all) */
    uint8_t wait;               /* co_wait_kind of the longest wait in the cell; valid only if wait8 > 0 */
    uint8_t ticks;              /* TUI_TICK_*: what happened in the cell */
    uint8_t runs;               /* 1: the cell draws as running (the rule above); 0: as its wait, or blank */
} tui_cell;
#define TUI_CELL_RUN_MIN8 2     /* the share of a cell that makes it running, in eighths: a quarter */
enum { TUI_TICK_LOG = 1, TUI_TICK_MARK = 2, TUI_TICK_REGION = 4, TUI_TICK_WARN = 8, TUI_TICK_HOLD = 16 };

/* Columns of the Tasks view, for sorting. */
enum tui_col { TUI_COL_ID, TUI_COL_NAME, TUI_COL_STATE, TUI_COL_BUSY, TUI_COL_WAIT, TUI_COL_TOTAL, TUI_COL_STEPS,
               TUI_COL_AWAITS, TUI_COL_SPAWNED_AT, TUI_COL_COUNT };

#define TUI_HIST_BUCKETS 24     /* log2 buckets: [0] < 1us, [i] in [2^(i-1), 2^i) us, the last open-ended */

/* ---- lifetime ---------------------------------------------------------- */

/* Open the trace at path (tr_reader_open: the same checks and notes as
 * every command; an interrupted build is finished first, progress told).
 * Returns 0, or a negative errno with why (cap bytes) set to one line. */
int tui_model_open(tui_model **out, const char *path, void (*progress)(void *ctx, int64_t done, int64_t total),
                   void *ctx, char *why, size_t cap);
void tui_model_close(tui_model *m);
/* Every model statement is bounded: TUI_QUERY_TOTAL_S seconds in all (or
 * $COSCOPE_QUERY_TIMEOUT if shorter) and TUI_QUERY_MAX_ROWS rows; a
 * question cut short answers with what it read, or an error. */
#define TUI_QUERY_TOTAL_S 10
#define TUI_QUERY_MAX_ROWS 4000000
/* A check asked while a statement runs (every 10 ms at most): nonzero
 * stops it.  sql: the statement is the SQL prompt's (tui_model_sql), which
 * Esc or Ctrl-C cancel without quitting. */
void tui_model_set_cancel(tui_model *m, int (*cancel)(void *ctx, int sql), void *ctx);
/* Live traces: read what the recorder added since the last call (new
 * tasks, warnings, chunks, the end of the run).  Returns 1 if anything
 * changed, 0 if not, a negative errno on failure.  Indices of tasks,
 * resources and warnings stay valid (new ones are appended). */
int tui_model_refresh(tui_model *m);

const tui_info *tui_model_info(tui_model *m);
/* Whether the file was cut short, damaged, replaced or removed since it was
 * opened (tr_reader_check): from then on answers may be wrong, and
 * info.damaged says why.  Cheap (a stat and a header read): call it on a
 * timer.  Returns 1 the first time it finds it, else 0. */
int tui_model_check(tui_model *m);

/* ---- tasks ------------------------------------------------------------- */

/* All tasks, in id order; *out valid until a refresh adds tasks. */
size_t tui_model_tasks(tui_model *m, const tui_task **out);
/* Index of the task with this id, -1 if none. */
int tui_model_task_index(tui_model *m, int64_t id);
/* What task idx was doing at t.  Returns 0 or a negative errno. */
int tui_model_task_at(tui_model *m, int idx, int64_t t, tui_at *out);
/* The Tasks view's rows at t: indices of the tasks matching filter (a
 * case-insensitive substring of the name, the state at t with what it
 * waits on, or the spawn location; NULL or "" for all), sorted by col
 * (enum tui_col), descending if desc, ties by id.  Returns the count;
 * *rows valid until the next call. */
size_t tui_model_task_rows(tui_model *m, int64_t t, int col, int desc, const char *filter, const int **rows);
/* A line describing what a task is doing at t, for lists and filters:
 * "waiting on lock 'db' (held by #7 worker)", "running", "done (0)". */
const char *tui_model_state_text(tui_model *m, int idx, const tui_at *at);

/* How the holder a chain or a state text names is called, in the
 * runtime's words (runtime/story.c): a lock is "held by" its holder, a
 * semaphore "last taken by" the last of its holders to take it. */
const char *tui_model_holder_word(int wait);
/* Percentiles a group or a task's latency gives: p50, p90, p99 and the
 * maximum (nearest rank: a value that occurred). */
enum { TUI_P50, TUI_P90, TUI_P99, TUI_PMAX, TUI_PCT_COUNT };

/* Tasks grouped by spawn site (tui_model_groups). */
typedef struct tui_group {
    const char *spawn_at;       /* "file:line", "" for the tasks whose site is unknown */
    const char *spawn_func;
    const char *name;           /* its first task's name */
    int names_differ;           /* its tasks have more than one name */
    int first, ntasks;          /* its tasks: members[first .. first + ntasks), in the rows' order */
    int nstate[TUI_STATE_COUNT];/* how many of them are in each state at t */
    int64_t busy[TUI_PCT_COUNT], waiting[TUI_PCT_COUNT]; /* over its tasks' whole-life busy and waiting times */
} tui_group;
/* The tasks rows[0, n) (tui_model_task_rows: filtered, sorted) grouped by
 * spawn site, groups in the order of their first task in rows.  *members
 * gets the task indices, each group's together in rows' order.  Returns
 * the number of groups; *out and *members valid until the next call.
 * Cost: a sort of the rows, task_at of each at t (cached per task), a
 * sort of each group's figures: O(n log n), no read of the trace beyond
 * the states. */
size_t tui_model_groups(tui_model *m, int64_t t, const int *rows, size_t n, const tui_group **out,
                        const int **members);

/* A task's latency (tui_model_task_latency): the percentiles of its busy
 * steps (each a run from resume to the next await or its end) and of its
 * waits (await to resume), by wait kind. */
#define TUI_LATENCY_STEPS 20000 /* read at most: a busier task's first ones (truncated) */
#define TUI_LATENCY_KINDS 8
typedef struct tui_latency_kind {
    int wait;                   /* co_wait_kind */
    int64_t n, p[TUI_PCT_COUNT];
} tui_latency_kind;
typedef struct tui_latency {
    int64_t nbusy, busy[TUI_PCT_COUNT];
    int nkinds;                 /* kinds[0, nkinds): the kinds it waited in, in co_wait_kind order */
    tui_latency_kind kinds[TUI_LATENCY_KINDS];
    int truncated;              /* it has more than TUI_LATENCY_STEPS steps: the first ones */
    /* Scheduled: from when a wait was over (it was ready again) to its
     * resume, over the waits whose end the trace states (tr_ready_at: a
     * yield, an awaited task's end, a gather's last child, a lock's or
     * semaphore's release; not a timer's, an event's, a queue's, I/O's). */
    int64_t nsched, sched[TUI_PCT_COUNT];
} tui_latency;
/* Task idx's latency into out.  Cost: one probe of spans' (task, start)
 * key a step (tr_step_after) and at most one more a wait (tr_ready_at), at
 * most TUI_LATENCY_STEPS steps, and a sort of each figure; kept for the
 * task until a refresh.  0 or a negative errno. */
int tui_model_task_latency(tui_model *m, int idx, tui_latency *out);

/* Where time went over a range (tui_model_range). */
#define TUI_WAIT_KINDS 48       /* >= co_wait_kind's count (checked where it is used) */
#define TUI_RANGE_ROWS 500000   /* step rows read at most: a range over a huge run stops there (truncated) */
#define TUI_RANGE_LOOPS 16
typedef struct tui_range_task {
    int idx;                    /* task index */
    int64_t busy;               /* ns running in the range */
    int64_t wait;               /* ns in an await, by_kind[co_wait_kind] each kind's */
    int64_t by_kind[TUI_WAIT_KINDS];
    int64_t idle;               /* ns alive but neither running nor waiting (ready, not run) */
} tui_range_task;
typedef struct tui_range_loop {
    uint32_t ring;              /* the thread whose loop it is (tasks run on it) */
    int64_t busy, idle;         /* idle: blocked in poll; busy: the rest of the range */
} tui_range_loop;
typedef struct tui_range {
    int64_t from, to;
    size_t ntasks;              /* the tasks alive in the range, busiest first */
    tui_range_task *tasks;
    int64_t busy;               /* all tasks' running, summed */
    int nloops;
    tui_range_loop loops[TUI_RANGE_LOOPS];
    int truncated;              /* TUI_RANGE_ROWS were read first: later tasks are not in it */
} tui_range;
/* Where time went over [from, to): each task alive in it (its step rows
 * there, tr_task_range) and each loop's idle (tr_loop_idle).  Cost: the
 * step rows overlapping the range, one key probe each, at most
 * TUI_RANGE_ROWS, and the loop's idle spans begun in it; kept for
 * (from, to) until a refresh.  *out valid until the next call.  0 or a
 * negative errno. */
int tui_model_range(tui_model *m, int64_t from, int64_t to, const tui_range **out);

/* The await chain of task idx at t, into out (cap links), branching at a
 * gather into the tasks it waits for (its children alive at t: the trace
 * records the await, not its list).  A resource held by several is
 * followed through the last to take it, as the warnings name it
 * (tr_holders_of).  Returns the number of links. */
int tui_model_chain(tui_model *m, int idx, int64_t t, tui_link *out, int cap);
/* Histogram of the task's step durations (which 0) or await durations
 * (which 1) into TUI_HIST_BUCKETS buckets.  Returns the count, or a
 * negative errno. */
int64_t tui_model_task_hist(tui_model *m, int idx, int which, int64_t buckets[TUI_HIST_BUCKETS]);
/* The task's events nearest t: up to cap of them in time order, about half
 * before t.  *at_cursor gets the index of the first event at or after t.
 * Returns the number written; *out valid until the next call. */
size_t tui_model_task_events(tui_model *m, int idx, int64_t t, size_t cap, const tui_event **out, size_t *at_cursor);
/* The task's recorded stack -- the one of its warnings (a slow step's, seen
 * by the watchdog; a crash's, at the fault) nearest before t, or its first
 * -- one frame a line, "" if none.  *why (may be NULL) gets that warning's
 * kind name ("slow_step", "crash", ...). */
const char *tui_model_task_stack(tui_model *m, int idx, int64_t t, const char **why);
/* The warning that stack comes from, NULL if none; and whether its stack
 * belongs to time t (t in the slow step it was taken in, or at or after
 * the crash): a stack from another moment must say when it was taken. */
const tui_warning *tui_model_stack_warning(tui_model *m, int idx, int64_t t);
int tui_model_stack_covers(const tui_warning *w, int64_t t);

/* Task idx's row of the timeline over [from, to), cut into ncells equal
 * cells, into out.  Zoomed out, from the levels of detail the builder
 * wrote (table timeline: at most 16 rows a cell, whatever the trace's
 * size); zoomed in finer than 16 us a cell, from the spans.  Returns 0 or
 * a negative errno. */
int tui_model_timeline(tui_model *m, int idx, int64_t from, int64_t to, int ncells, tui_cell *out);

/* ---- moving the cursor ------------------------------------------------- */

/* The time of the next (dir > 0) or previous (dir < 0) event strictly
 * after / before t: of any task (task_idx -1) or of one task.  Returns 0
 * with *ts set, -ENOENT if there is none. */
int tui_model_step_event(tui_model *m, int64_t t, int dir, int task_idx, int64_t *ts);
/* The time of event number event_id: the events table's row, or past its
 * last id the event_id-th event of the recording (tr_event_time), so
 * every number up to the run's event count is an event.  0 or -ENOENT. */
int tui_model_event_time(tui_model *m, int64_t event_id, int64_t *ts);

/* ---- resources --------------------------------------------------------- */

size_t tui_model_resources(tui_model *m, const tui_resource **out);
int tui_model_resource_index(tui_model *m, int64_t id);
int tui_model_resource_at(tui_model *m, int idx, int64_t t, tui_res_at *out);
/* The queue's depth sampled at n evenly spaced times over [from, to]:
 * out[i] >= 0, or -1 where unknown.  Returns 0 or a negative errno. */
int tui_model_queue_depth(tui_model *m, int idx, int64_t from, int64_t to, int64_t *out, int n);
/* The resource's acquire sites, most waited at first (up to cap), from
 * the trace's contention_sites (none in traces made before it).  *out
 * valid until the next call. */
size_t tui_model_resource_sites(tui_model *m, int idx, size_t cap, const tui_site **out);
/* Holds of the resource and waits on it, in time order, nearest t (up to
 * cap, about half before t).  *out valid until the next call. */
size_t tui_model_resource_uses(tui_model *m, int idx, int64_t t, size_t cap, const tui_use **out);

/* ---- warnings, the await tree, SQL -------------------------------------- */

/* All warnings in time order. */
size_t tui_model_warnings(tui_model *m, const tui_warning **out);
/* How many warnings name task idx (as their task or their second task):
 * the `!` on its row.  0 for an index out of range. */
int tui_model_task_warnings(tui_model *m, int idx);
/* The await tree at t: from the tasks nobody alive awaits, each task's
 * children are what it waits on (the task it awaits, the holder of the
 * lock it wants, the children a gather waits for).  Returns the rows;
 * *out valid until the next call.  A row's `at` is set only if `filled`
 * (tasks in an await that names something, tasks with a stack): the
 * others' are set by tui_model_tree_row. */
size_t tui_model_await_tree(tui_model *m, int64_t t, const tui_tree_row **out);
/* Row i of the last await tree with its state at t set (a row's state is
 * asked when it is drawn: a tree of 200k live tasks draws 40).  NULL if i
 * is out of range or the tree is stale. */
const tui_tree_row *tui_model_tree_row(tui_model *m, size_t i);
/* Run sql (read-only) with :t and :task bound (task: an id, or NULL when
 * task_id is 0).  Fills out (free with tui_table_free); returns 0, or a
 * negative errno with out->error set. */
int tui_model_sql(tui_model *m, const char *sql, int64_t t, int64_t task_id, tui_table *out);
void tui_table_free(tui_table *t);

#endif
