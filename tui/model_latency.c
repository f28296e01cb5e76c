/* SPDX-License-Identifier: MIT */
/* model_latency.c -- a task's latency for its detail: the percentiles of
 * its busy steps, of its waits by wait kind, and of its scheduled delay
 * (ready again to running: tokio-console's scheduled time), from its step
 * rows (each a step and the await that ended it) and when each wait was
 * over, both through the reader (tr_step_after, tr_ready_at), kept for
 * the task. */
#include "model_int.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int cmp_i64(const void *pa, const void *pb)
{
    int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
    return (a > b) - (a < b);
}

/* b - a, 0 if b < a, saturated: a hostile file's times may be anything. */
static int64_t dur(int64_t a, int64_t b)
{
    int64_t d;
    if (b <= a) return 0;
    return __builtin_sub_overflow(b, a, &d) ? INT64_MAX : d;
}

static void pct(int64_t *v, size_t n, int64_t out[TUI_PCT_COUNT])
{
    qsort(v, n, sizeof *v, cmp_i64);
    static const int p[TUI_PCT_COUNT] = { 50, 90, 99, 100 };
    for (int i = 0; i < TUI_PCT_COUNT; i++) {
        size_t r = (size_t)(((double)p[i] * (double)n + 99.0) / 100.0);
        out[i] = n ? v[(r ? r : 1) - 1] : 0;
    }
}

int tui_model_task_latency(tui_model *m, int idx, tui_latency *out)
{
    if (idx < 0 || (size_t)idx >= m->ntasks) return -EINVAL;
    if (m->lat_idx == idx + 1 && m->lat_gen == m->gen) {
        *out = m->lat;
        return 0;
    }
    memset(out, 0, sizeof *out);
    const tui_task *k = &m->tasks[idx];
    int64_t *busy = malloc(TUI_LATENCY_STEPS * sizeof *busy);
    int64_t *wait = malloc(TUI_LATENCY_STEPS * sizeof *wait);
    int64_t *sched = malloc(TUI_LATENCY_STEPS * sizeof *sched);
    int *kind = malloc(TUI_LATENCY_STEPS * sizeof *kind);
    int r = 0;
    size_t nb = 0, nw = 0, ns = 0;
    if (!m->ready && (r = tr_ready_open(&m->ready, m->db)) < 0) goto done;
    if (!busy || !wait || !kind || !sched) {
        r = -ENOMEM;
        goto done;
    }
    tr_step s;
    int64_t t = INT64_MIN; /* its first step is the first after that */
    while (nb < TUI_LATENCY_STEPS && (r = tr_step_after(m->q, k->id, t, &s)) == 1) {
        if (!s.open || s.wait >= 0) busy[nb++] = dur(s.start, s.end);
        if (s.wait >= 0 && s.has_resumed && !s.open && s.wait < CO_WAIT_KIND_COUNT) {
            wait[nw] = dur(s.end, s.resumed);
            kind[nw++] = s.wait;
            int64_t ready;
            int got = tr_ready_at(m->ready, k->id, &s, &ready);
            if (got < 0) {
                r = got;
                break;
            }
            if (got) sched[ns++] = dur(ready, s.resumed);
        }
        t = s.start;
    }
    if (r < 0) goto done;
    r = 0;
    out->truncated = nb == TUI_LATENCY_STEPS;
    out->nbusy = (int64_t)nb;
    pct(busy, nb, out->busy);
    out->nsched = (int64_t)ns;
    pct(sched, ns, out->sched);
    /* By kind: each kind's waits gathered in turn (few kinds a task). */
    for (int wk = 0; wk < CO_WAIT_KIND_COUNT && out->nkinds < TUI_LATENCY_KINDS; wk++) {
        size_t n = 0;
        for (size_t i = 0; i < nw; i++)
            if (kind[i] == wk) busy[n++] = wait[i];
        if (!n) continue;
        tui_latency_kind *x = &out->kinds[out->nkinds++];
        x->wait = wk;
        x->n = (int64_t)n;
        pct(busy, n, x->p);
    }
    m->lat = *out;
    m->lat_idx = idx + 1;
    m->lat_gen = m->gen;
done:
    free(busy);
    free(wait);
    free(kind);
    free(sched);
    return r;
}
