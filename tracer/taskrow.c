/* SPDX-License-Identifier: MIT */
/* taskrow.c -- a row of `tasks` as far as the task is known, and the next
 * row of a batch: what every part of the replay writes rows with (the
 * events, the snapshot's tasks, what is still open at the end).  Apart
 * from replay.c, which drives the replay and calls those parts.
 */
#include "builder.h"

/* The next row of a batch; NULL once a flush has failed (reported here). */
tr_cell *tr_next_row(tr_builder *b, tr_batch *batch)
{
    int r = 0;
    tr_cell *row = tr_batch_next(batch, &r);
    if (r < 0 && !b->err) {
        tr_logf("sqlite: %s", tr_writer_errmsg(b->writer, b->db));
        b->err = r;
    }
    return row;
}

/* The task's row, as far as it is known: at its spawn (state 'pending',
 * no figures yet), and again at its end or at the end of the trace (it
 * replaces the first; see tr_builder_new).  end_ts < 0: not ended. */
void tr_task_row(tr_builder *b, uint64_t id, const tstate *t, int64_t end_ts, unsigned state, int64_t result,
                 int has_result)
{
    tr_cell *c = tr_next_row(b, &b->tk);
    if (!c) return;
    cell_int(&c[0], (int64_t)id);
    cell_text(&c[1], tr_string_of(b, t->name_id));
    cell_opt(&c[2], (int64_t)t->parent);
    cell_int(&c[3], t->ring);
    cell_opt(&c[4], t->spawn_loc);
    cell_int(&c[5], t->spawn_ts);
    cell_opt(&c[6], t->start_ts);
    if (end_ts >= 0) cell_int(&c[7], end_ts); else cell_text(&c[7], NULL);
    cell_text(&c[8], tr_task_state_name(state));
    if (has_result) cell_int(&c[9], result); else cell_text(&c[9], NULL);
    cell_int(&c[10], t->detached);
    cell_int(&c[11], t->steps);
    cell_int(&c[12], t->awaits);
    cell_int(&c[13], t->busy);
    cell_int(&c[14], t->wait);
}
