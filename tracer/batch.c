/* SPDX-License-Identifier: MIT */
/* batch.c -- bulk inserts for the builder.  Rows are collected in C arrays
 * and written with one `INSERT INTO t SELECT * FROM tr_rows(?)` per batch:
 * tr_rows is a virtual table over the array (bound with
 * sqlite3_bind_pointer), so SQLite runs the insert loop inside one statement
 * instead of a bind/step/reset round trip per row, about 3x fewer cycles
 * per row.  The module is registered on the builder's connection only;
 * nothing of it is in the database file.
 *
 * With a writer (tr_writer), a flush hands the full array to a thread of
 * its own and the builder goes on filling a second one: SQLite's half of a
 * build (about half of its time) runs on the other core, beside the
 * replay.  The connection must then be in serialized mode (opened
 * SQLITE_OPEN_FULLMUTEX): the builder's occasional statements (a task row,
 * the next chunks) take the connection's mutex between the writer's
 * inserts, in one transaction, as they would on one thread. */
#define _GNU_SOURCE /* qsort_r */
#include "tracer.h"
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What one INSERT reads through tr_rows(?): a view of a batch's array. */
typedef struct rows {
    const tr_cell *cells;
    size_t n;
    int ncols;
} rows;

/* Touched by the builder's thread and the writer thread, under mu. */
struct tr_writer {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    sqlite3_stmt *insert;  /* valid only while busy: the job's statement */
    rows job;              /* valid only while busy */
    int busy;              /* a job is posted and not finished */
    int stop;
    int rc;                /* first failure of a job (negative errno), 0 if none */
    char msg[256];         /* valid only if rc: SQLite's message for it */
};

#define POINTER_TYPE "coscope_batch"

typedef struct vtab { sqlite3_vtab base; } vtab;
typedef struct cursor {
    sqlite3_vtab_cursor base;
    const rows *batch;  /* valid only after xFilter */
    size_t row;
} cursor;

enum { NCOLS = 16, COL_BATCH = 16 };

static int x_connect(sqlite3 *db, void *aux, int argc, const char *const *argv, sqlite3_vtab **out, char **err)
{
    (void)aux; (void)argc; (void)argv; (void)err;
    int rc = sqlite3_declare_vtab(db, "CREATE TABLE x(c0,c1,c2,c3,c4,c5,c6,c7,c8,c9,c10,c11,c12,c13,c14,c15, batch HIDDEN)");
    if (rc != SQLITE_OK) return rc;
    vtab *v = sqlite3_malloc(sizeof *v);
    if (!v) return SQLITE_NOMEM;
    memset(v, 0, sizeof *v);
    *out = &v->base;
    return SQLITE_OK;
}

static int x_disconnect(sqlite3_vtab *v) { sqlite3_free(v); return SQLITE_OK; }

/* Only usable with the batch given: tr_rows(?) binds it as a hidden column. */
static int x_best_index(sqlite3_vtab *v, sqlite3_index_info *info)
{
    (void)v;
    for (int i = 0; i < info->nConstraint; i++) {
        const struct sqlite3_index_constraint *c = &info->aConstraint[i];
        if (c->iColumn == COL_BATCH && c->op == SQLITE_INDEX_CONSTRAINT_EQ) {
            if (!c->usable) return SQLITE_CONSTRAINT;
            info->aConstraintUsage[i].argvIndex = 1;
            info->aConstraintUsage[i].omit = 1;
            info->estimatedCost = 1;
            return SQLITE_OK;
        }
    }
    return SQLITE_CONSTRAINT;
}

static int x_open(sqlite3_vtab *v, sqlite3_vtab_cursor **out)
{
    (void)v;
    cursor *c = sqlite3_malloc(sizeof *c);
    if (!c) return SQLITE_NOMEM;
    memset(c, 0, sizeof *c);
    *out = &c->base;
    return SQLITE_OK;
}

static int x_close(sqlite3_vtab_cursor *c) { sqlite3_free(c); return SQLITE_OK; }

static int x_filter(sqlite3_vtab_cursor *cur, int idx, const char *idxstr, int argc, sqlite3_value **argv)
{
    (void)idx; (void)idxstr;
    cursor *c = (cursor *)cur;
    c->batch = argc > 0 ? sqlite3_value_pointer(argv[0], POINTER_TYPE) : NULL;
    c->row = 0;
    return SQLITE_OK;
}

static int x_next(sqlite3_vtab_cursor *cur) { ((cursor *)cur)->row++; return SQLITE_OK; }

static int x_eof(sqlite3_vtab_cursor *cur)
{
    cursor *c = (cursor *)cur;
    return !c->batch || c->row >= c->batch->n;
}

static int x_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col)
{
    cursor *c = (cursor *)cur;
    const rows *b = c->batch;
    if (col >= b->ncols) {
        sqlite3_result_null(ctx);
        return SQLITE_OK;
    }
    const tr_cell *cell = &b->cells[c->row * (size_t)b->ncols + (size_t)col];
    switch (cell->type) {
    case TR_CELL_INT: sqlite3_result_int64(ctx, cell->i); break;
    case TR_CELL_TEXT: sqlite3_result_text(ctx, cell->s, -1, SQLITE_STATIC); break;
    default: sqlite3_result_null(ctx); break;
    }
    return SQLITE_OK;
}

static int x_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *rowid)
{
    *rowid = (sqlite3_int64)((cursor *)cur)->row;
    return SQLITE_OK;
}

static const sqlite3_module MODULE = {
    .iVersion = 0,
    .xCreate = NULL, /* eponymous only: never stored in the database */
    .xConnect = x_connect,
    .xBestIndex = x_best_index,
    .xDisconnect = x_disconnect,
    .xDestroy = x_disconnect,
    .xOpen = x_open,
    .xClose = x_close,
    .xFilter = x_filter,
    .xNext = x_next,
    .xEof = x_eof,
    .xColumn = x_column,
    .xRowid = x_rowid,
};

int tr_batch_register(sqlite3 *db)
{
    return tr_sqlite_err(sqlite3_create_module(db, "tr_rows", &MODULE, NULL));
}

static int run_insert(sqlite3_stmt *insert, const rows *job)
{
    sqlite3_bind_pointer(insert, 1, (void *)job, POINTER_TYPE, NULL);
    int rc = sqlite3_step(insert);
    sqlite3_reset(insert);
    return rc == SQLITE_DONE ? 0 : tr_sqlite_err(rc);
}

static void *writer_main(void *arg)
{
    tr_writer *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->busy && !w->stop) pthread_cond_wait(&w->cv, &w->mu);
        if (!w->busy) break;
        rows job = w->job;
        sqlite3_stmt *insert = w->insert;
        pthread_mutex_unlock(&w->mu);
        int r = run_insert(insert, &job);
        /* The message before the builder's next call replaces it. */
        char msg[sizeof w->msg];
        if (r < 0) snprintf(msg, sizeof msg, "%s", sqlite3_errmsg(sqlite3_db_handle(insert)));
        pthread_mutex_lock(&w->mu);
        if (r < 0 && w->rc == 0) {
            w->rc = r;
            memcpy(w->msg, msg, sizeof msg);
        }
        w->busy = 0;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int tr_writer_new(tr_writer **out, sqlite3 *db)
{
    *out = NULL;
    /* A connection without its own mutex cannot be shared between two
     * threads: write on the builder's thread then. */
    if (!sqlite3_threadsafe() || !sqlite3_db_mutex(db)) return 0;
    tr_writer *w = calloc(1, sizeof *w);
    if (!w) return -ENOMEM;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        free(w);
        return 0; /* no thread to spare: synchronous writes still work */
    }
    *out = w;
    return 0;
}

int tr_writer_sync(tr_writer *w)
{
    if (!w) return 0;
    pthread_mutex_lock(&w->mu);
    while (w->busy) pthread_cond_wait(&w->cv, &w->mu);
    int rc = w->rc;
    pthread_mutex_unlock(&w->mu);
    return rc;
}

const char *tr_writer_errmsg(tr_writer *w, sqlite3 *db)
{
    return w && w->rc ? w->msg : sqlite3_errmsg(db);
}

void tr_writer_free(tr_writer *w)
{
    if (!w) return;
    pthread_mutex_lock(&w->mu);
    while (w->busy) pthread_cond_wait(&w->cv, &w->mu);
    w->stop = 1;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

int tr_batch_init(tr_batch *b, sqlite3 *db, tr_writer *w, const char *into, const char *select, int ncols,
                  size_t cap)
{
    memset(b, 0, sizeof *b);
    if (ncols > NCOLS) return -EINVAL;
    b->ncols = ncols;
    b->cap = cap;
    b->writer = w;
    b->cells = malloc(cap * (size_t)ncols * sizeof *b->cells);
    if (w && b->cells) b->spare = malloc(cap * (size_t)ncols * sizeof *b->cells);
    if (!b->cells || (w && !b->spare)) {
        free(b->cells);
        free(b->spare);
        b->cells = b->spare = NULL;
        return -ENOMEM;
    }
    char sql[768], cols[256] = "";
    size_t n = 0;
    for (int i = 0; i < ncols; i++) n += (size_t)snprintf(cols + n, sizeof cols - n, "%sc%d", i ? "," : "", i);
    snprintf(sql, sizeof sql, "INSERT %s SELECT %s FROM tr_rows(?1)", into, select ? select : cols);
    int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &b->insert, NULL);
    if (rc != SQLITE_OK) {
        free(b->cells);
        free(b->spare);
        b->cells = b->spare = NULL;
        return tr_sqlite_err(rc);
    }
    return 0;
}

/* Rows by their first *keys cells, then by where they were added. */
static int cmp_rows(const void *x, const void *y, void *keys)
{
    const tr_cell *a = *(tr_cell *const *)x, *c = *(tr_cell *const *)y;
    for (int i = 0; i < *(const int *)keys; i++)
        if (a[i].i != c[i].i) return a[i].i < c[i].i ? -1 : 1;
    return a < c ? -1 : a > c;
}

/* A table clustered on its key (WITHOUT ROWID) takes a batch in key order
 * as runs of appends to a few pages; in the order the replay makes them
 * (time, across every task) each row is a descent to another page: the
 * timeline's rows cost the writer half as much sorted.  Unsorted if there
 * is no memory for it: the same rows, slower. */
static void sort_rows(tr_batch *b)
{
    size_t nc = (size_t)b->ncols;
    tr_cell **order = malloc(b->n * sizeof *order);
    tr_cell *sorted = malloc(b->n * nc * sizeof *sorted);
    if (order && sorted) {
        for (size_t i = 0; i < b->n; i++) order[i] = b->cells + i * nc;
        qsort_r(order, b->n, sizeof *order, cmp_rows, &b->sort_keys);
        for (size_t i = 0; i < b->n; i++) memcpy(sorted + i * nc, order[i], nc * sizeof *sorted);
        memcpy(b->cells, sorted, b->n * nc * sizeof *sorted);
    }
    free(order);
    free(sorted);
}

int tr_batch_flush(tr_batch *b)
{
    if (b->n == 0) return 0;
    if (b->sort_keys > 0 && b->sort_keys <= b->ncols) sort_rows(b);
    tr_writer *w = b->writer;
    if (!w) {
        rows job = { b->cells, b->n, b->ncols };
        b->n = 0;
        return run_insert(b->insert, &job);
    }
    pthread_mutex_lock(&w->mu);
    /* The writer is done with the previous job, so with b->spare too (a
     * batch's jobs are its two arrays in turn). */
    while (w->busy) pthread_cond_wait(&w->cv, &w->mu);
    int rc = w->rc;
    if (rc == 0) {
        w->job = (rows){ b->cells, b->n, b->ncols };
        w->insert = b->insert;
        w->busy = 1;
        pthread_cond_broadcast(&w->cv);
        tr_cell *t = b->cells;
        b->cells = b->spare;
        b->spare = t;
    }
    pthread_mutex_unlock(&w->mu);
    b->n = 0;
    return rc;
}

tr_cell *tr_batch_next(tr_batch *b, int *err)
{
    tr_cell *c = tr_batch_row(b);
    if (!c && (*err = tr_batch_flush(b)) == 0) c = tr_batch_row(b);
    return c;
}

void tr_batch_free(tr_batch *b)
{
    tr_writer_sync(b->writer);
    sqlite3_finalize(b->insert);
    free(b->cells);
    free(b->spare);
    memset(b, 0, sizeof *b);
}
