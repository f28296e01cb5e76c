/* SPDX-License-Identifier: MIT */
/* warnings.c -- the `warnings` rows: the runtime's detections (TR_WARN
 * events) turned into sentences that name tasks, resources and what each
 * task waited for, and the row writer the builder's own detections (slow
 * steps, locks held across awaits) use too. */
#include "builder.h"
#include "../runtime/story.h"
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>


void tr_on_warn(tr_builder *b, const tr_rec *e, int64_t ts, uint32_t loc)
{
    int code = (int)(e->arg & 0xff);
    int wk = (int)((e->arg >> 8) & 0xff);
    uint64_t other = e->arg >> 16;
    char who[160], what[240], by[200], msg[1024]; /* msg: room for all four and the words (gcc -O1 -Wformat-truncation) */
    tr_task_label(b, e->task, who, sizeof who);
    const char *kind = (code > 0 && code <= TR_WARN_UNRETRIEVED) || code == TR_WARN_CANCEL_IGNORED
                           ? tr_warning_name(code) : "unknown";
    if (code == TR_WARN_CANCEL_IGNORED && tr_dg_abandoned_known(b, e->task)) return; /* told already, with more */
    by[0] = 0;
    if ((wk == CO_WAIT_TASKS || wk == CO_WAIT_GROUP) && b->wf_task == e->task && b->nwf > 0) {
        /* A gather, wait or group: the tasks it waits for, by name. */
        size_t n = (size_t)snprintf(what, sizeof what, "task%s ", b->nwf > 1 ? "s" : "");
        for (int i = 0; i < b->nwf && n < sizeof what; i++) {
            char l[160];
            tr_task_label(b, b->wf[i], l, sizeof l);
            n += (size_t)snprintf(what + n, sizeof what - n, "%s%s", i ? ", " : "", l);
        }
        if (n < sizeof what)
            snprintf(what + n, sizeof what - n, " (%s)", wk == CO_WAIT_GROUP ? "a task group" : "gather/wait");
        b->nwf = 0;
        b->wf_task = 0;
    } else {
        tr_wait_label(b, wk, e->res, what, sizeof what);
    }
    if (other && (wk == CO_WAIT_LOCK || wk == CO_WAIT_SEM)) {
        char o[160];
        tr_task_label(b, other, o, sizeof o);
        snprintf(by, sizeof by, " %s %s", wk == CO_WAIT_LOCK ? "held by" : "last taken by", o);
    }
    switch (code) {
    case TR_WARN_DEADLOCK: {
        /* The task whose wait would have closed the cycle is running (its
         * wait was refused: -EDEADLK); the others of the cycle wait. */
        tstate *t = tr_map_find(&b->tasks, e->task);
        if (t && !t->in_await) {
            snprintf(msg, sizeof msg, "task %s asked for %s%s: that wait would have closed a cycle (it would have "
                     "waited forever), so it got -EDEADLK instead", who, what, by);
            b->dl_requester = e->task; /* the cycle's other rows follow at once (runtime/warn.c) */
        } else {
            char o[160] = "";
            if (b->dl_requester) tr_task_label(b, b->dl_requester, o, sizeof o);
            snprintf(msg, sizeof msg, "task %s waits for %s%s, in a cycle of waits: %s%s got -EDEADLK, and this wait "
                     "ends only if it gives that up", who, what, by, b->dl_requester ? o : "the task that closed it",
                     b->dl_requester ? " (whose wait closed the cycle)" : "");
            if (t) t->dl_pending = 1; /* tr_dg_resume tells how it went */
        }
        break;
    }
    case TR_WARN_ALL_ASLEEP:
        snprintf(msg, sizeof msg, "task %s waits for %s%s, and nothing left can wake it", who, what, by);
        break;
    /* The loop's close: the runtime's own sentences (runtime/story.c). */
    case TR_WARN_PENDING_AT_EXIT:
    case TR_WARN_NEVER_AWAITED:
    case TR_WARN_UNRETRIEVED:
    case TR_WARN_CANCEL_IGNORED: {
        co__story_text s = { 0 };
        char full[600], at[160];
        snprintf(full, sizeof full, "%s%s", what, by);
        tr_loc_label(b, loc, at, sizeof at);
        if (code == TR_WARN_PENDING_AT_EXIT) co__story_pending(&s, who, full, loc ? at : NULL);
        else if (code == TR_WARN_NEVER_AWAITED) co__story_never_awaited(&s, who);
        else if (code == TR_WARN_UNRETRIEVED) co__story_unretrieved(&s, who, (int)(int64_t)e->res);
        else co__story_abandoned(&s, who, wk == CO_WAIT_NONE ? NULL : full, loc ? at : NULL);
        snprintf(msg, sizeof msg, "%s", s.p ? s.p : "");
        free(s.p);
        break;
    }
    default:
        snprintf(msg, sizeof msg, "task %s: detection %d", who, code);
    }
    tr_warning(b, kind, e->task, other, code == TR_WARN_UNRETRIEVED ? 0 : e->res, ts, 0, loc, 0, msg);
    if (code == TR_WARN_DEADLOCK) {
        tstate *t = tr_map_find(&b->tasks, e->task);
        if (t && t->dl_pending) t->dl_warning = sqlite3_last_insert_rowid(b->db);
    }
}

