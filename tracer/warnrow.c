/* SPDX-License-Identifier: MIT */
/* warnrow.c -- a row of `warnings` (tr_warning), and the labels its
 * message words tasks, waits and source lines with.  Every detection
 * writes through these: the runtime's (warnings.c), the builder's own
 * (diagnose.c, asleep.c, spanrows.c).
 */
#include "builder.h"
#include "../runtime/story.h"
#include <stdio.h>
#include <string.h>

void tr_warning(tr_builder *b, const char *kind, uint64_t task, uint64_t task2, uint64_t res, int64_t ts,
                int64_t dur, uint32_t loc, uint32_t loc2, const char *msg)
{
    sqlite3_stmt *st = b->ins_warning;
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    tr_bind_opt(st, 2, (int64_t)task);
    tr_bind_opt(st, 3, (int64_t)res);
    sqlite3_bind_int64(st, 4, ts);
    sqlite3_bind_int64(st, 5, dur);
    tr_bind_opt(st, 6, loc);
    tr_bind_opt(st, 7, loc2);
    sqlite3_bind_text(st, 8, msg, -1, SQLITE_TRANSIENT);
    tr_bind_opt(st, 9, (int64_t)task2);
    const char *stack = b->warn_stack;
    if (stack) sqlite3_bind_text(st, 10, stack, -1, SQLITE_TRANSIENT); else sqlite3_bind_null(st, 10);
    b->warn_stack = NULL;
    tr_bind_opt(st, 11, b->warn_cause);
    b->warn_cause = 0;
    tr_bstep(b, st);
}

/* "'name' (#id)" for a task, ended or not. */
void tr_task_label(tr_builder *b, uint64_t id, char *out, size_t cap)
{
    uint64_t *name_id = tr_map_find(&b->names, id);
    const char *name = name_id ? tr_string_of(b, *name_id) : NULL;
    snprintf(out, cap, "'%s' (#%llu)", name ? name : "?", (unsigned long long)id);
}



/* What a task waits for, in words: "lock 'db' (#3)", "an item from queue
 * 'jobs' (#5)", "task 'worker' (#7)", "a timer (sleep)". */
void tr_wait_label(tr_builder *b, int kind, uint64_t res, char *out, size_t cap)
{
    char name[160];
    const char *n = NULL;
    if (kind == CO_WAIT_TASK) {
        uint64_t *name_id = res ? tr_map_find(&b->names, res) : NULL;
        n = name_id ? tr_string_of(b, *name_id) : NULL;
    } else if (res) {
        sqlite3_bind_int64(b->sel_res, 1, (int64_t)res);
        if (sqlite3_step(b->sel_res) == SQLITE_ROW && sqlite3_column_text(b->sel_res, 1)) {
            snprintf(name, sizeof name, "%s", (const char *)sqlite3_column_text(b->sel_res, 1));
            n = name;
        }
        sqlite3_reset(b->sel_res);
    }
    co__story_wait_label(kind, res, n, out, cap); /* the runtime's words (runtime/story.c) */
}

/* "file:line" (the file's last component) of a location, "?" if unknown. */
void tr_loc_label(tr_builder *b, uint32_t loc, char *out, size_t cap)
{
    snprintf(out, cap, "?");
    if (!loc || !b->sel_loc) return;
    sqlite3_bind_int64(b->sel_loc, 1, loc);
    if (sqlite3_step(b->sel_loc) == SQLITE_ROW && sqlite3_column_text(b->sel_loc, 0)) {
        const char *f = (const char *)sqlite3_column_text(b->sel_loc, 0);
        const char *slash = strrchr(f, '/');
        snprintf(out, cap, "%s:%d", slash ? slash + 1 : f, sqlite3_column_int(b->sel_loc, 1));
    }
    sqlite3_reset(b->sel_loc);
}
