/* SPDX-License-Identifier: MIT */
/* model_find.c -- the model's lookups by id and the string pool, which
 * every other model file uses: a location, a task, a resource by its id;
 * a task state's name; the holders of a resource at t; sanitized copies
 * of trace text that live until the model closes.  Apart from model.c,
 * which loads and drives, so that the files of the model call down into
 * this one and never back into each other.
 */
#define _GNU_SOURCE
#include "model_int.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A spawned task's states are the runtime's, one after: their names are
 * the runtime's (co_task_state_name), as coscope ps prints them live. */
_Static_assert(TUI_READY - 1 == CO_TASK_READY && TUI_RUNNING - 1 == CO_TASK_RUNNING &&
                   TUI_WAITING - 1 == CO_TASK_WAITING && TUI_DONE - 1 == CO_TASK_DONE &&
                   TUI_FAILED - 1 == CO_TASK_FAILED && TUI_CANCELLED - 1 == CO_TASK_CANCELLED &&
                   TUI_STATE_COUNT - 1 == CO_TASK_CANCELLED + 1,
               "the TUI's task states are the runtime's after TUI_UNBORN");

const char *tui_state_name(int s)
{
    if (s == TUI_UNBORN) return "not yet";
    return s > TUI_UNBORN && s < TUI_STATE_COUNT ? co_task_state_name(s - 1) : "?";
}

/* ---- strings ----------------------------------------------------------- */

static char *pool_alloc(tui_model *m, size_t n)
{
    tui_pool_block *b = m->pool;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > 60000 ? n : 60000;
        b = malloc(sizeof *b + cap);
        if (!b) return NULL;
        b->next = m->pool;
        b->used = 0;
        b->cap = cap;
        m->pool = b;
    }
    char *p = b->data + b->used;
    b->used += n;
    return p;
}

const char *tui__intern(tui_model *m, const char *s)
{
    if (!s || !*s) return "";
    size_t n = strlen(s);
    if (n > TR_TEXT_MAX) n = TR_TEXT_MAX; /* a name or a message, not a novel (tracer.h) */
    char tmp[TR_TEXT_MAX + 1], clean[3 * TR_TEXT_MAX + 1]; /* an escape (<U+202E>) is 8 bytes for 3 */
    memcpy(tmp, s, n);
    tmp[n] = 0;
    size_t len = tr_sanitize(clean, sizeof clean, tmp);
    char *out = pool_alloc(m, len + 1);
    if (!out) return "";
    memcpy(out, clean, len + 1);
    return out;
}

const char *tui__intern_lines(tui_model *m, const char *s)
{
    size_t n = strlen(s);
    char *out = pool_alloc(m, n + 1);
    if (!out) return "";
    memcpy(out, s, n + 1);
    return out;
}

/* ---- locations --------------------------------------------------------- */

static int cmp_loc(const void *a, const void *b)
{
    int64_t x = ((const tui_loc *)a)->id, y = ((const tui_loc *)b)->id;
    return x < y ? -1 : x > y;
}

int tui__load_locations(tui_model *m)
{
    sqlite3_stmt *st;
    const char *sql = "SELECT id, " TR_TEXT("file") ", line, " TR_TEXT("func") " FROM locations ORDER BY id";
    if (sqlite3_prepare_v2(m->db, sql, -1, &st, NULL) != SQLITE_OK) return -EILSEQ;
    size_t cap = 0;
    free(m->locs);
    m->locs = NULL;
    m->nlocs = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (m->nlocs == cap) {
            cap = cap ? 2 * cap : 256;
            tui_loc *n = realloc(m->locs, cap * sizeof *n);
            if (!n) break;
            m->locs = n;
        }
        char where[600];
        snprintf(where, sizeof where, "%s:%lld", tui__col_text(st, 1), (long long)tui__col_int(st, 2, 0));
        tui_loc *l = &m->locs[m->nlocs++];
        l->id = sqlite3_column_int64(st, 0);
        l->where = tui__intern(m, where);
        l->func = tui__intern(m, tui__col_text(st, 3));
    }
    sqlite3_finalize(st);
    if (m->nlocs > 1) qsort(m->locs, m->nlocs, sizeof *m->locs, cmp_loc); /* ORDER BY is the file's word; check */
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -EILSEQ;
}

const tui_loc *tui__loc(tui_model *m, int64_t id)
{
    if (id <= 0) return NULL;
    if (!m->nlocs) return NULL; /* bsearch on a NULL array is undefined, even of 0 elements */
    tui_loc key = { .id = id };
    return bsearch(&key, m->locs, m->nlocs, sizeof *m->locs, cmp_loc);
}

const char *tui__where(tui_model *m, int64_t id)
{
    const tui_loc *l = tui__loc(m, id);
    return l ? l->where : "";
}

/* ---- tasks and resources ------------------------------------------------- */

static int cmp_task(const void *a, const void *b)
{
    int64_t x = ((const tui_task *)a)->id, y = ((const tui_task *)b)->id;
    return x < y ? -1 : x > y;
}

int tui_model_task_index(tui_model *m, int64_t id)
{
    /* Ids are mostly dense (1, 2, 3 ...): a pass over the awaits at t asks
     * this for every row, so the direct guess goes first. */
    if (m->ntasks && id >= m->tasks[0].id && id - m->tasks[0].id < (int64_t)m->ntasks &&
        m->tasks[id - m->tasks[0].id].id == id)
        return (int)(id - m->tasks[0].id);
    if (!m->ntasks) return -1;
    tui_task key = { .id = id };
    const tui_task *t = bsearch(&key, m->tasks, m->ntasks, sizeof *m->tasks, cmp_task);
    return t ? (int)(t - m->tasks) : -1;
}


static int cmp_res(const void *a, const void *b)
{
    int64_t x = ((const tui_resource *)a)->id, y = ((const tui_resource *)b)->id;
    return x < y ? -1 : x > y;
}

int tui_model_resource_index(tui_model *m, int64_t id)
{
    if (!m->nres) return -1; /* an empty resources table, spans naming resources anyway */
    tui_resource key = { .id = id };
    const tui_resource *r = bsearch(&key, m->res, m->nres, sizeof *m->res, cmp_res);
    return r ? (int)(r - m->res) : -1;
}


int tui__holders_at(tui_model *m, int64_t res, int64_t t, int64_t *out, int cap)
{
    int n = tr_holders_of(m->q, res, t, out, cap);
    return n < 0 ? 0 : n;
}

