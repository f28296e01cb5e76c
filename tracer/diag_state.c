/* SPDX-License-Identifier: MIT */
/* diag_state.c -- the life of issue 22's detections' state in the builder
 * (b->dx, diag.h): made with the builder, closed when the trace ends (the
 * queues still growing and the failure loops still running are told
 * then), freed with it.  Apart from the detections themselves
 * (diag_queue.c, diag_fail.c, diag_cause.c), which call into each other
 * only one way: this file drives them, they never call back here.
 */
#include "diag.h"
#include <errno.h>
#include <stdlib.h>

int tr_dx_init(tr_builder *b)
{
    tr_dx *x = calloc(1, sizeof *x);
    if (!x) return -ENOMEM;
    tr_map_init(&x->queues, sizeof(tr_dq));
    tr_map_init(&x->fails, sizeof(tr_fl_task));
    tr_map_init(&x->ended, sizeof(tr_dx_end));
    tr_map_init(&x->lost, sizeof(tr_dx_lost));
    tr_map_init(&x->last, sizeof(tr_dx_last));
    tr_map_init(&x->eps, sizeof(tr_dx_ep));
    /* Traces made before the table have none: endpoints are then only told. */
    sqlite3_prepare_v2(b->db, "INSERT OR REPLACE INTO endpoints(resource, local, peer, task, ts, loc) VALUES (?,?,?,?,?,?)",
                       -1, &x->ins_ep, NULL);
    b->dx = x;
    return 0;
}

void tr_dx_free(tr_builder *b)
{
    tr_dx *x = b->dx;
    if (!x) return;
    tr_dq_free(b);
    tr_map_free(&x->queues);
    tr_map_free(&x->fails);
    tr_map_free(&x->ended);
    tr_map_free(&x->lost);
    tr_map_free(&x->last);
    tr_map_free(&x->eps);
    sqlite3_finalize(x->ins_ep);
    free(x);
    b->dx = NULL;
}

void tr_dx_close(tr_builder *b)
{
    tr_dq_close(b);
    tr_fl_close(b);
}
