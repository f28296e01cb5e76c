/* SPDX-License-Identifier: MIT */
/* model_marks.c -- which tasks the warnings name (see model.h): the `!`
 * the lists put on a task, counted once per load from the warnings in
 * memory (as a warning names them: its task and its second task), so a
 * frame asks a lookup per row whatever the number of warnings.
 */
#include "model_int.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int count(tui_model *m)
{
    unsigned *c = realloc(m->warned, (m->ntasks ? m->ntasks : 1) * sizeof *c);
    if (!c) return -ENOMEM;
    memset(c, 0, (m->ntasks ? m->ntasks : 1) * sizeof *c);
    for (size_t i = 0; i < m->nwarn; i++) {
        int k = m->warn[i].task ? tui_model_task_index(m, m->warn[i].task) : -1;
        int k2 = m->warn[i].task2 ? tui_model_task_index(m, m->warn[i].task2) : -1;
        if (k >= 0) c[k]++;
        if (k2 >= 0 && k2 != k) c[k2]++;
    }
    m->warned = c;
    m->warned_gen = m->gen;
    m->warned_n = m->ntasks;
    m->warned_nwarn = m->nwarn;
    return 0;
}

int tui_model_task_warnings(tui_model *m, int idx)
{
    if (idx < 0 || (size_t)idx >= m->ntasks) return 0;
    if ((!m->warned || m->warned_gen != m->gen || m->warned_n != m->ntasks || m->warned_nwarn != m->nwarn) &&
        count(m) < 0)
        return 0;
    return (int)m->warned[idx];
}
