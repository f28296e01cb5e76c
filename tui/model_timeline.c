/* SPDX-License-Identifier: MIT */
/* model_timeline.c -- a task's row of the timeline at any zoom, as cells.
 *
 * The reader sums the row (tr_timeline, tracer/reader_timeline.c: from the
 * builder's levels of detail, or the step rows when zoomed in finer than
 * them); this file turns its sums into what a cell draws -- eighths of
 * busy and waiting, the wait's kind, the ticks -- and adds the warnings the
 * model already holds.
 */
#include "model_int.h"
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The reader's flags are the cells' ticks. */
_Static_assert((int)TUI_TICK_LOG == (int)TR_LOD_F_LOG && (int)TUI_TICK_MARK == (int)TR_LOD_F_MARK &&
                   (int)TUI_TICK_REGION == (int)TR_LOD_F_REGION && (int)TUI_TICK_WARN == (int)TR_LOD_F_WARN &&
                   (int)TUI_TICK_HOLD == (int)TR_LOD_F_HOLD,
               "timeline ticks");

int tui_model_timeline(tui_model *m, int idx, int64_t from, int64_t to, int ncells, tui_cell *out)
{
    if (idx < 0 || (size_t)idx >= m->ntasks || ncells <= 0 || to <= from) return -EINVAL;
    memset(out, 0, (size_t)ncells * sizeof *out);
    const tui_task *k = &m->tasks[idx];
    /* Nothing to read outside its life. */
    if (k->spawn_ts >= to || (k->end_ts >= 0 && k->end_ts < from)) return 0;
    if ((size_t)ncells > m->tl_cap) {
        tr_tl_cell *c = realloc(m->tl_cells, (size_t)ncells * sizeof *c);
        if (!c) return -ENOMEM;
        m->tl_cells = c;
        m->tl_cap = (size_t)ncells;
    }
    tr_tl_cell *cells = m->tl_cells;
    int err = tr_timeline(m->q, k->id, from, to, ncells, m->info.duration_ns, cells);
    if (err < 0) return err;
    double w = ((double)to - (double)from) / ncells;
    /* By index: m->warn is NULL on a trace without warnings, and NULL + 0
     * is undefined (clang's UBSan says so). */
    for (size_t i = 0; i < m->nwarn; i++) {
        const tui_warning *x = &m->warn[i];
        if (x->task == k->id && x->ts >= from && x->ts < to) {
            double c = ((double)x->ts - (double)from) / w;
            cells[c < 0 ? 0 : c >= ncells ? ncells - 1 : (int)c].flags |= TUI_TICK_WARN;
        }
    }
    for (int c = 0; c < ncells; c++) {
        const tr_tl_cell *x = &cells[c];
        int64_t run = (int64_t)(8.0 * (double)x->run / w + 0.5), wait = (int64_t)(8.0 * (double)x->wait / w + 0.5);
        /* Something that happened shows, however short. */
        if (run == 0 && x->run > 0) run = 1;
        if (wait == 0 && x->wait > 0) wait = 1;
        out[c].busy8 = (uint8_t)(run > 8 ? 8 : run);
        out[c].wait8 = (uint8_t)(wait > 8 ? 8 : wait);
        out[c].wait = (uint8_t)(x->kind >= 0 && x->kind < CO_WAIT_KIND_COUNT ? x->kind : 0);
        out[c].ticks = (uint8_t)x->flags;
        out[c].runs = out[c].busy8 && (out[c].busy8 >= TUI_CELL_RUN_MIN8 || out[c].busy8 >= out[c].wait8);
    }
    return 0;
}
