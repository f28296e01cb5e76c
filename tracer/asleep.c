/* SPDX-License-Identifier: MIT */
/* asleep.c -- the `all_asleep` rows: one story per stuck group.
 *
 * When every task is asleep the runtime writes one TR_WARN per waiting task
 * (runtime/warn.c), all at once on the loop's ring.  They are gathered here
 * until that ring moves on, each described as runtime/story.h wants it, and
 * story.c -- the same code that words the runtime's own stderr report --
 * splits them into groups stuck together and tells each as one row:
 * "every task is asleep: 'main' (#1) awaits 'consumer 1'..'consumer 4'
 * (#2..#5), each waiting for an item from queue 'jobs' (#2) that nobody
 * will put: its producer 'producer' (#6) ended".  What only the trace knows
 * goes into the description: the queue's last putter and getter, and the
 * history diag_cause.c keeps (where a unit was taken and never came back,
 * a wakeup that went nowhere, a connection's two ends).  The groups are
 * found from the events alone, so older traces read the same. */
#include "builder.h"
#include "../runtime/story.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct tr_asleep_ent {
    uint64_t task, res, other;
    int64_t ts;
    uint32_t loc;
    uint8_t kind;
    uint32_t nwf;
    uint64_t wf[16];
} ent;

void tr_asleep_add(tr_builder *b, uint32_t ring, const tr_rec *e, int64_t ts, uint32_t loc)
{
    if (b->nasleep && ring != b->asleep_ring) tr_asleep_flush(b); /* another loop's */
    if (b->nasleep == b->capasleep) {
        size_t cap = b->capasleep ? b->capasleep * 2 : 16;
        ent *p = realloc(b->asleep, cap * sizeof *p);
        if (!p) {
            if (!b->err) b->err = -ENOMEM;
            return;
        }
        b->asleep = p;
        b->capasleep = cap;
    }
    ent *x = &b->asleep[b->nasleep];
    memset(x, 0, sizeof *x);
    x->task = e->task;
    x->res = e->res;
    x->kind = (uint8_t)(e->arg >> 8);
    x->other = e->arg >> 16;
    x->ts = ts;
    x->loc = loc;
    if ((x->kind == CO_WAIT_TASKS || x->kind == CO_WAIT_GROUP) && b->wf_task == e->task) {
        x->nwf = (uint32_t)b->nwf;
        memcpy(x->wf, b->wf, (size_t)b->nwf * sizeof *x->wf);
    }
    b->nwf = 0;
    b->wf_task = 0;
    b->asleep_ring = ring;
    b->nasleep++;
}

/* What the story is told from, per gathered task: the strings it borrows. */
typedef struct {
    char *name, *res_name, *other_name, *by_name, *why;
    char *await_names[16];
    uint32_t cause; /* the line that caused its wait (diag_cause.c), 0: none */
} words;

typedef struct {
    tr_builder *b;
    ent *e;
    words *w;
    co__story_task *d;
} teller;

static char *task_name(tr_builder *b, uint64_t id)
{
    uint64_t *name_id = id ? tr_map_find(&b->names, id) : NULL;
    const char *name = name_id ? tr_string_of(b, *name_id) : NULL;
    return name ? strdup(name) : NULL;
}

static char *res_name(tr_builder *b, uint64_t res)
{
    char *name = NULL;
    if (!res) return NULL;
    sqlite3_bind_int64(b->sel_res, 1, (int64_t)res);
    if (sqlite3_step(b->sel_res) == SQLITE_ROW && sqlite3_column_text(b->sel_res, 1))
        name = strdup((const char *)sqlite3_column_text(b->sel_res, 1));
    sqlite3_reset(b->sel_res);
    return name;
}

static uint8_t fate_of(tr_builder *b, uint64_t id)
{
    tstate *t = tr_map_find(&b->tasks, id);
    return !t || t->ended ? CO__FATE_ENDED : CO__FATE_ALIVE;
}

static void describe(tr_builder *b, const ent *x, co__story_task *d, words *w)
{
    memset(d, 0, sizeof *d);
    memset(w, 0, sizeof *w);
    d->id = x->task;
    d->name = w->name = task_name(b, x->task);
    d->kind = x->kind;
    d->res = x->res;
    if (x->kind == CO_WAIT_TASK) {
        d->res_name = w->res_name = task_name(b, x->res);
    } else if (x->kind == CO_WAIT_TASKS || x->kind == CO_WAIT_GROUP) {
        d->res = 0;
        d->awaits = x->wf;
        d->nawaits = x->nwf;
        for (uint32_t i = 0; i < x->nwf; i++) w->await_names[i] = task_name(b, x->wf[i]);
        d->await_names = (const char *const *)w->await_names;
        return;
    } else {
        d->res_name = w->res_name = res_name(b, x->res);
    }
    if (x->other) {
        d->other = (co__story_ref){ x->other, w->other_name = task_name(b, x->other), fate_of(b, x->other) };
    }
    if (x->kind == CO_WAIT_QUEUE_GET || x->kind == CO_WAIT_QUEUE_PUT) {
        rstat *r = x->res ? tr_map_find(&b->rstats, x->res) : NULL;
        uint64_t by = r ? (x->kind == CO_WAIT_QUEUE_GET ? r->last_put : r->last_get) : 0;
        d->by_known = 1;
        if (by) d->by = (co__story_ref){ by, w->by_name = task_name(b, by), fate_of(b, by) };
    }
    char why[1200];
    w->cause = tr_dx_why(b, x->kind, x->res, x->other, why, sizeof why);
    if (why[0]) {
        w->why = strdup(why);
        if (x->kind == CO_WAIT_TCP_READ) d->conn = w->why; /* a connection within the process: its two ends */
        else d->why = w->why;
    }
}

static void unword(words *w)
{
    free(w->name);
    free(w->res_name);
    free(w->other_name);
    free(w->by_name);
    free(w->why);
    for (size_t i = 0; i < 16; i++) free(w->await_names[i]);
}

static int awaits_tasks(int kind) { return kind == CO_WAIT_TASK || kind == CO_WAIT_TASKS || kind == CO_WAIT_GROUP; }

/* One group told: its row.  The resource is the first one the chain
 * reaches (loc2: the line that waits on it), the cause the first one told. */
static void told(void *ctx, size_t root, const char *text, const size_t *order, size_t m)
{
    teller *tl = ctx;
    tr_builder *b = tl->b;
    const ent *r = &tl->e[root];
    uint64_t first_res = 0;
    uint32_t res_loc = 0, cause = 0;
    for (size_t i = 0; i < m; i++) {
        const ent *x = &tl->e[order[i]];
        if (!first_res && x->res && !awaits_tasks(x->kind)) {
            first_res = x->res;
            res_loc = x->loc;
        }
        if (!cause) cause = tl->w[order[i]].cause;
    }
    char *msg = NULL;
    size_t len = strlen(text);
    msg = malloc(len + 32);
    if (msg) snprintf(msg, len + 32, "every task is asleep: %s", text);
    uint64_t task2 = r->kind == CO_WAIT_TASK ? r->res : r->other ? r->other : r->nwf ? r->wf[0] : 0;
    b->warn_cause = cause;
    tr_warning(b, tr_warning_name(TR_WARN_ALL_ASLEEP), r->task, task2, first_res, r->ts, 0, r->loc,
               res_loc != r->loc ? res_loc : 0, msg ? msg : "every task is asleep");
    free(msg);
}

void tr_asleep_flush(tr_builder *b)
{
    size_t n = b->nasleep;
    b->nasleep = 0;
    if (!n) return;
    teller tl = { .b = b, .e = b->asleep };
    tl.d = malloc(n * sizeof *tl.d);
    tl.w = calloc(n, sizeof *tl.w);
    if (!tl.d || !tl.w) {
        if (!b->err) b->err = -ENOMEM;
    } else {
        for (size_t i = 0; i < n; i++) describe(b, &tl.e[i], &tl.d[i], &tl.w[i]);
        if (co__story_tell(tl.d, n, told, &tl) < 0 && !b->err) b->err = -ENOMEM;
    }
    for (size_t i = 0; tl.w && i < n; i++) unword(&tl.w[i]);
    free(tl.d);
    free(tl.w);
}
