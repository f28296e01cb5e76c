/* SPDX-License-Identifier: MIT */
/* bstmt.c -- what every part of the builder writes its rows with: a step
 * that keeps the build's first error, a bind that makes 0 NULL, and the
 * interned strings by id (cached once persisted).  Apart from build.c,
 * which drives the build and calls the parts that call these.
 */
#include "builder.h"
#include <stdlib.h>
#include <string.h>

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

void tr_bstep(tr_builder *b, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE && !b->err) {
        tr_logf("sqlite: %s", sqlite3_errmsg(b->db));
        b->err = tr_sqlite_err(rc);
    }
    sqlite3_reset(st);
}

void tr_bind_opt(sqlite3_stmt *st, int i, int64_t v)
{
    if (v) sqlite3_bind_int64(st, i, v);
    else sqlite3_bind_null(st, i);
}
