/* SPDX-License-Identifier: MIT */
/* model_int.h -- what the model's files (model*.c) share: the struct
 * behind tui_model and the helpers each of them uses.  Not for views. */
#ifndef TUI_MODEL_INT_H
#define TUI_MODEL_INT_H

#include "model.h"
#include "../tracer/tracer.h"
#include "../tracer/reader.h"
#include <sqlite3.h>

/* Sanitized strings live in blocks that are never moved or freed before
 * the model closes, so a const char * handed out stays valid. */
typedef struct tui_pool_block {
    struct tui_pool_block *next;
    size_t used, cap;
    char data[];
} tui_pool_block;

typedef struct tui_loc {
    int64_t id;
    const char *where;       /* "file:line" */
    const char *func;
} tui_loc;

/* A task's state, cached with the interval [lo, hi) over which it holds:
 * views ask the same thing of the same task many times per frame, and a
 * state lasts (a task waits for seconds while the cursor moves by
 * microseconds), so a pass over every task after a seek probes only the
 * tasks whose state changed. */
typedef struct tui_at_cache {
    int64_t t;               /* the last time asked: valid only if valid */
    int64_t lo, hi;          /* at holds for every t in [lo, hi) */
    int valid;
    tui_at at;
} tui_at_cache;

/* Every resource at one time t: what the Resources view's rows ask, found
 * for all of them in one pass over the tasks (waiters), and per resource
 * when first asked (holders: the bins; a queue's depth: the chunks). */
typedef struct tui_res_cache {
    tui_res_at *at;          /* per resource */
    unsigned char *have;     /* per resource: 1 holders and depth are in at[] */
    int64_t t;
    uint64_t gen;            /* == m->gen: valid */
} tui_res_cache;

/* A queue's depth line, as last asked: the same run-wide sparkline is
 * drawn every frame, and only the cursor's mark moves. */
typedef struct tui_spark {
    int64_t from, to;
    int n;
    uint64_t gen;            /* == m->gen: valid */
    int64_t *v;
} tui_spark;

struct tui_model {
    tr_reader rd;
    sqlite3 *db;             /* rd.db */
    int (*cancel)(void *ctx, int sql); /* tui_model_set_cancel's check */
    void *cancel_ctx;
    int in_sql;              /* the SQL prompt's statement runs: a key may stop only it */
    tui_info info;
    tui_pool_block *pool;

    tui_loc *locs;           /* sorted by id */
    size_t nlocs;

    tui_task *tasks;         /* sorted by id */
    size_t ntasks, tasks_cap;
    int tasks_partial_ok;    /* tasks were read once: a refresh reads only what changed */
    int64_t tasks_read_upto; /* valid only if tasks_partial_ok: the trace's length at that read */
    tui_at_cache *at;        /* per task */

    tui_resource *res;       /* sorted by id */
    size_t nres;

    tui_warning *warn;       /* time order */
    size_t nwarn;

    tr_chunks *ch;           /* the recording: the reader's chunk directory and decoded chunks */
    tr_at *q;                /* the reader's questions at t (tracer/reader.h) */
    sqlite3_stmt *st_string;
    int built;                     /* meta.built at the last load: the tables are complete */
    tr_tl_cell *tl_cells;          /* model_timeline.c: the reader's row */
    size_t tl_cap;

    /* Answers kept until the cursor or the trace changes: what a frame
     * asks again after a key costs a lookup.  gen grows at every load
     * (a live refresh), which drops them all. */
    uint64_t gen;
    tui_res_cache rc;
    tui_spark *spark;              /* per resource, NULL until asked */
    size_t spark_n;
    int64_t tree_t;                /* the await tree in tree[0, tree_n) is at tree_t */
    size_t tree_n;
    uint64_t tree_gen;             /* == gen: valid */
    unsigned char *has_stack;      /* per task: a warning with a stack names it */
    unsigned *warned;              /* model_marks.c: per task, the warnings naming it; valid while warned_gen == gen and the counts match */
    uint64_t warned_gen;
    size_t warned_n, warned_nwarn;
    int uses_idx;                  /* resource_uses' answer in uses[0, uses_n) is for (uses_idx, uses_t, uses_cap) */
    int64_t uses_t;
    size_t uses_n, uses_want;
    uint64_t uses_gen;

    /* Buffers handed out "until the next call". */
    int *rows;
    size_t rows_cap;
    tui_event *events;
    size_t events_cap;
    tui_tree_row *tree;
    size_t tree_cap;
    tui_use *uses;
    size_t uses_cap;
    tui_site sites[16];
    char state_text[320];
    tui_group *grp;            /* model_group.c: the last groups and their members */
    size_t ngrp;
    int *grp_members;
    tui_range range;           /* model_range.c: the last range asked, at range_gen */
    uint64_t range_gen;
    tr_ready *ready;           /* model_latency.c: opened on first use */
    int lat_idx;               /* model_latency.c: lat is task (lat_idx - 1)'s at lat_gen; 0: none */
    uint64_t lat_gen;
    tui_latency lat;
    int hist_idx;              /* the task both histograms are of; -1: nothing */
    int64_t hist[2][TUI_HIST_BUCKETS], hist_n[2];
};

_Static_assert(TUI_HIST_BUCKETS == TR_HIST_BUCKETS, "the model's histograms are the reader's");

/* A column's text ("" for NULL) and integer (dflt for NULL). */
static inline const char *tui__col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *s = sqlite3_column_text(st, i);
    return s ? (const char *)s : "";
}
static inline int64_t tui__col_int(sqlite3_stmt *st, int i, int64_t dflt)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? dflt : sqlite3_column_int64(st, i);
}

/* model_find.c: lookups and strings, below every other model file */
const char *tui__intern(tui_model *m, const char *s);    /* sanitized copy, lives until close */
const char *tui__intern_lines(tui_model *m, const char *sanitized); /* a copy, newlines kept */
int tui__load_locations(tui_model *m);                    /* (re)read the locations table */
const tui_loc *tui__loc(tui_model *m, int64_t id);        /* NULL if unknown */
const char *tui__where(tui_model *m, int64_t loc_id);     /* "file:line" or "" */
/* Holders of resource id at t (tasks ids into out, up to cap); returns the total. */
int tui__holders_at(tui_model *m, int64_t res, int64_t t, int64_t *out, int cap);

/* The name of resource id ("" if unknown), its index into *idx (may be NULL). */
static inline const char *tui__res_name(tui_model *m, int64_t id, int *idx)
{
    int i = tui_model_resource_index(m, id);
    if (idx) *idx = i;
    return i >= 0 ? m->res[i].name : "";
}

/* model_tasks.c: the tasks a gather of task idx waits for at t (its live
 * children), the first cap into out; returns how many. */
int tui__waited_children(tui_model *m, int idx, int64_t t, int *out, int cap);
/* model_chain.c: the deadlock warning about task k running at t (a wait
 * the runtime refused: it would have closed a cycle), NULL if none: its
 * refused wait is an edge. */
const tui_warning *tui__refusal(tui_model *m, const tui_task *k, const tui_at *a, int64_t t);

/* model.c: loading, which calls the files below */
int tui__load(tui_model *m);                              /* (re)read tasks, resources, warnings */

/* model_res.c */
int tui__load_warnings(tui_model *m);
int tui__load_resources(tui_model *m);
void tui__free_res(tui_model *m);
int tui__mark_stacks(tui_model *m);                       /* has_stack from the warnings */

/* model_events.c */
int tui__load_chunks(tui_model *m);                       /* the directory; again on refresh */
void tui__free_events(tui_model *m);
void tui__describe(tui_model *m, tui_event *ev, const tr_rec *r, int64_t ns, uint32_t ring);
/* Queue idx's depth at t: 0, or -ENOENT if it is not a queue or not created yet at t. */
int tui__queue_depth_at(tui_model *m, int idx, int64_t t, int64_t *out);

#endif
