/* SPDX-License-Identifier: MIT */
/* procread.c -- read a snapshot of a running coscope program from outside
 * (procread.h): pause it, walk the registry of loops and every loop's task
 * slots through the layout table it exports, read what each waiting task
 * waits on, resume it, then tie tasks together (who holds, who awaits).
 *
 * Everything is read while the target is stopped, formatting comes after:
 * the pause lasts as long as the copies, which are one process_vm_readv per
 * chunk of 1024 tasks, and one per distinct string, location and resource.
 * The parts: procmem.c (the copies, the table), procpause.c (stopping it),
 * procres.c (resources, and the ties between tasks).
 */
#define _GNU_SOURCE
#include "procread_int.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}


static int grow_tasks(reader *r)
{
    size_t cap = r->cap_tasks ? r->cap_tasks * 2 : 1024;
    tr_ps_task *t = realloc(r->s->tasks, cap * sizeof *t);
    if (t) r->s->tasks = t;
    size_t *w = realloc(r->watch_of, cap * sizeof *w);
    if (w) r->watch_of = w;
    uint64_t *g = realloc(r->group_waiter, cap * sizeof *g);
    if (g) r->group_waiter = g;
    size_t *ro = realloc(r->res_of, cap * sizeof *ro);
    if (ro) r->res_of = ro;
    uint64_t *na = realloc(r->name_at, cap * sizeof *na);
    if (na) r->name_at = na;
    uint64_t *wa = realloc(r->watch_at, cap * sizeof *wa);
    if (wa) r->watch_at = wa;
    if (!t || !w || !g || !ro || !na || !wa) return -ENOMEM;
    r->cap_tasks = cap;
    return 0;
}

/* The tasks that wait for this one to end through co_gather/co_wait: its
 * watchers' waiters, kept for after the read. */
static void read_watchers(reader *r, size_t ti, uint64_t w)
{
    size_t first = r->nwatch;
    for (int k = 0; w && k < WATCHERS_MAX; k++) {
        unsigned char b[64];
        if (tr__ps_rd(r, w, b, sizeof b) < 0) break;
        if (r->nwatch + 2 > r->cap_watch) {
            size_t cap = r->cap_watch ? r->cap_watch * 2 : 256;
            uint64_t *n = realloc(r->watch_waiters, cap * sizeof *n);
            if (!n) break;
            r->watch_waiters = n;
            r->cap_watch = cap;
        }
        r->watch_waiters[r->nwatch++] = tr__ps_getu(b, r->T.watch_waiter);
        w = tr__ps_getu(b, r->T.watch_next);
    }
    if (r->nwatch > first) {
        r->watch_waiters[r->nwatch++] = 0;
        r->watch_of[ti] = first + 1;
    }
}

/* One live slot: validate, copy what ps shows, read what it points to. */
static int add_task(reader *r, uint32_t li, const unsigned char *b, uint64_t addr, int torn)
{
    const co_debug_offsets_t *T = &r->T;
    tr_ps_snap *s = r->s;
    if (s->ntasks == r->cap_tasks && grow_tasks(r) < 0) return -ENOMEM;
    size_t i = s->ntasks++;
    tr_ps_task *t = &s->tasks[i];
    memset(t, 0, sizeof *t);
    r->watch_of[i] = 0;
    r->group_waiter[i] = 0;
    r->res_of[i] = 0;
    r->name_at[i] = 0;
    r->watch_at[i] = 0;
    t->addr = addr;
    t->loop = li;
    t->gen = (uint32_t)tr__ps_getu(b, T->task_gen);
    t->id = tr__ps_getu(b, T->task_id);
    t->parent_id = tr__ps_getu(b, T->task_parent_id);
    t->state = (int)tr__ps_getu(b, T->task_state);
    t->started = (int)tr__ps_getu(b, T->task_started);
    t->cancel_pending = (int)tr__ps_getu(b, T->task_cancel_pending);
    t->detached = (int)tr__ps_getu(b, T->task_detached);
    t->wait_kind = (int)tr__ps_getu(b, T->task_wait_kind);
    t->wait_obj = tr__ps_getu(b, T->task_wait_obj);
    t->wait_obj_id = tr__ps_getu(b, T->task_wait_obj_id);
    t->await_t0_ns = tr__ps_getu(b, T->task_await_t0);
    t->timer_at_ms = (uint32_t)tr__ps_getu(b, T->task_heap_idx) != UINT32_MAX ? (int64_t)tr__ps_getu(b, T->task_timer_at) : -1;
    t->torn = torn || t->state >= (int)T->task_states || t->id == 0 ||
              (t->state == CO_TASK_WAITING && t->wait_kind >= (int)T->wait_kinds);
    if (t->torn) {
        s->ntorn++;
        if (t->state >= (int)T->task_states) t->state = CO_TASK_READY;
        return 0; /* its pointers are not followed */
    }
    r->name_at[i] = tr__ps_getu(b, T->task_name);
    t->spawn_loc = tr__ps_loc(r, tr__ps_getu(b, T->task_spawn_loc));
    if (t->state == CO_TASK_WAITING) {
        t->wait_loc = tr__ps_loc(r, tr__ps_getu(b, T->task_wait_loc));
        if (tr__ps_is_res_kind(t->wait_kind) && t->wait_obj) r->res_of[i] = tr__ps_resource(r, t->wait_obj, t->wait_kind);
    } else if (t->state == CO_TASK_READY || t->state == CO_TASK_RUNNING) {
        t->wait_loc = tr__ps_loc(r, tr__ps_getu(b, T->task_wait_loc)); /* where it last suspended */
    }
    r->watch_at[i] = tr__ps_getu(b, T->task_watchers);
    uint64_t g = tr__ps_getu(b, T->task_group);
    if (g) {
        unsigned char gb[64];
        if (tr__ps_rd(r, g, gb, sizeof gb) == 0 && tr__ps_getu(gb, T->group_magic) == T->group_magic_value)
            r->group_waiter[i] = tr__ps_getu(gb, T->group_waiter);
    }
    return 0;
}

static int read_loop(reader *r, uint64_t laddr, int tid)
{
    const co_debug_offsets_t *T = &r->T;
    tr_ps_snap *s = r->s;
    unsigned char *lb = malloc(T->loop_size);
    if (!lb) return -ENOMEM;
    int e = tr__ps_rd(r, laddr, lb, T->loop_size);
    if (e < 0) {
        free(lb);
        return e == -ESRCH ? e : 0; /* a loop freed as we looked: not there */
    }
    tr_ps_loop *nl = realloc(s->loops, (s->nloops + 1) * sizeof *nl);
    if (!nl) {
        free(lb);
        return -ENOMEM;
    }
    s->loops = nl;
    uint32_t li = (uint32_t)s->nloops++;
    tr_ps_loop *L = &s->loops[li];
    memset(L, 0, sizeof *L);
    L->addr = laddr;
    L->tid = tid;
    L->nslots = (uint32_t)tr__ps_getu(lb, T->loop_nslots);
    L->live = tr__ps_getu(lb, T->loop_live);
    L->running = (int)tr__ps_getu(lb, T->loop_running);
    uint64_t chunks = tr__ps_getu(lb, T->loop_chunks), cur = tr__ps_getu(lb, T->loop_current), main = tr__ps_getu(lb, T->loop_main);
    uint32_t nchunks = (uint32_t)tr__ps_getu(lb, T->loop_nchunks);
    free(lb);
    uint32_t used = (uint32_t)(((uint64_t)L->nslots + T->chunk_tasks - 1) / T->chunk_tasks);
    if (L->nslots > SLOTS_MAX || used > nchunks) {
        s->ntorn++; /* a loop that does not add up: show it, read none of its tasks */
        return 0;
    }
    uint64_t *cp = used ? malloc(used * sizeof *cp) : NULL;
    size_t csize = (size_t)T->chunk_tasks * T->task_size;
    unsigned char *cb = used ? malloc(csize) : NULL, *cb2 = NULL;
    if (used && (r->flags & TR_PS_NO_PAUSE)) cb2 = malloc(csize);
    if (used && (!cp || !cb || ((r->flags & TR_PS_NO_PAUSE) && !cb2))) {
        free(cp); free(cb); free(cb2);
        return -ENOMEM;
    }
    size_t before = s->ntasks;
    e = used ? tr__ps_rd(r, chunks, cp, used * sizeof *cp) : 0;
    for (uint32_t c = 0; e == 0 && c < used; c++) {
        uint32_t n = c + 1 < used ? T->chunk_tasks : L->nslots - c * T->chunk_tasks;
        size_t bytes = (size_t)n * T->task_size;
        if (tr__ps_rd(r, cp[c], cb, bytes) < 0) {
            if (r->gone) e = -ESRCH;
            continue;
        }
        /* Not paused: a second copy; a slot that differs changed under us. */
        int second = cb2 && tr__ps_rd(r, cp[c], cb2, bytes) == 0;
        for (uint32_t k = 0; k < n; k++) {
            const unsigned char *b = cb + (size_t)k * T->task_size;
            int torn = 0;
            if (second) {
                const unsigned char *b2 = cb2 + (size_t)k * T->task_size;
                if (memcmp(b, b2, T->task_size)) {
                    torn = 1;
                    b = b2;
                }
            }
            if (!(tr__ps_getu(b, T->task_gen) & 1)) continue;
            if ((e = add_task(r, li, b, cp[c] + (uint64_t)k * T->task_size, torn)) < 0) break;
        }
    }
    free(cp); free(cb); free(cb2);
    L->ntasks = s->ntasks - before;
    for (size_t i = before; i < s->ntasks; i++) {
        if (s->tasks[i].addr == cur) L->current_id = s->tasks[i].id;
        if (s->tasks[i].addr == main) L->main_id = s->tasks[i].id;
    }
    return e;
}

/* After the read: who holds, who awaits, by task id. */
static int by_loop_id(const void *a, const void *b)
{
    const tr_ps_task *x = a, *y = b;
    if (x->loop != y->loop) return x->loop < y->loop ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

#define NAME_PEEK 64 /* bytes of each name read in the batch; longer ones are read again */

static int by_name_at(const void *a, const void *b, void *names)
{
    uint64_t x = ((const uint64_t *)names)[*(const size_t *)a], y = ((const uint64_t *)names)[*(const size_t *)b];
    return x < y ? -1 : x > y;
}

/* Every task's name, each distinct address read once, neighbours
 * together, into one block: with 100k named tasks, a string and a hash
 * entry each would be most of the pause. */
static int fetch_names(reader *r)
{
    tr_ps_snap *s = r->s;
    size_t n = s->ntasks;
    size_t *ix = malloc((n + 1) * sizeof *ix);
    uint64_t *a = malloc((n + 1) * sizeof *a);
    if (!ix || !a) {
        free(ix); free(a);
        return -ENOMEM;
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++) if (r->name_at[i]) ix[m++] = i;
    qsort_r(ix, m, sizeof *ix, by_name_at, r->name_at);
    size_t u = 0;
    for (size_t i = 0; i < m; i++) if (!u || r->name_at[ix[i]] != a[u - 1]) a[u++] = r->name_at[ix[i]];
    unsigned char *buf = malloc(u * NAME_PEEK + 1), *ok = calloc(u + 1, 1);
    if (!buf || !ok) {
        free(ix); free(a); free(buf); free(ok);
        return -ENOMEM;
    }
    /* A peek that fails (it crossed into an unmapped page) or finds no end
     * (a longer name) leaves the name to tr__ps_str(), page by page. */
    tr__ps_rd_near(r, u, a, NAME_PEEK, buf, ok);
    for (size_t i = 0; i < u; i++) {
        char *p = (char *)buf + i * NAME_PEEK, *z = ok[i] ? memchr(p, 0, NAME_PEEK) : NULL;
        if (!z) ok[i] = 0;
        else for (char *c = p; c < z; c++) if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = '?';
    }
    /* buf becomes the snapshot's: the names point into it. */
    if (tr__ps_own(s->mem, (char *)buf) < 0) {
        free(ix); free(a); free(buf); free(ok);
        return -ENOMEM;
    }
    for (size_t i = 0, k = 0; i < m && !r->gone; i++) {
        while (a[k] != r->name_at[ix[i]]) k++;
        tr_ps_task *t = &s->tasks[ix[i]];
        t->name = ok[k] ? (const char *)buf + k * NAME_PEEK : tr__ps_str(r, a[k]);
    }
    free(ix); free(a); free(ok);
    return r->gone ? -ESRCH : 0;
}

/* Who waits for each task through co_gather/co_wait: its watchers.  The
 * first of each in a batch; a task with more than one is walked alone. */
static int fetch_watchers(reader *r)
{
    tr_ps_snap *s = r->s;
    size_t n = 0;
    for (size_t i = 0; i < s->ntasks; i++) n += r->watch_at[i] != 0;
    if (!n) return 0;
    uint64_t *a = malloc(n * sizeof *a);
    size_t *who = malloc(n * sizeof *who);
    unsigned char *buf = malloc(n * 64), *ok = calloc(n, 1);
    if (!a || !who || !buf || !ok) {
        free(a); free(who); free(buf); free(ok);
        return -ENOMEM;
    }
    size_t len = r->T.watch_next.off + r->T.watch_next.size;
    if (r->T.watch_waiter.off + r->T.watch_waiter.size > len) len = r->T.watch_waiter.off + r->T.watch_waiter.size;
    n = 0;
    for (size_t i = 0; i < s->ntasks; i++) if (r->watch_at[i]) { who[n] = i; a[n++] = r->watch_at[i]; }
    tr__ps_rd_near(r, n, a, len, buf, ok);
    for (size_t k = 0; k < n && !r->gone; k++) {
        const unsigned char *b = buf + k * len;
        if (!ok[k] || tr__ps_getu(b, r->T.watch_next)) {
            read_watchers(r, who[k], a[k]);
            continue;
        }
        if (r->nwatch + 2 > r->cap_watch) {
            size_t cap = r->cap_watch ? r->cap_watch * 2 : 256;
            uint64_t *nw = realloc(r->watch_waiters, cap * sizeof *nw);
            if (!nw) break;
            r->watch_waiters = nw;
            r->cap_watch = cap;
        }
        r->watch_of[who[k]] = r->nwatch + 1;
        r->watch_waiters[r->nwatch++] = tr__ps_getu(b, r->T.watch_waiter);
        r->watch_waiters[r->nwatch++] = 0;
    }
    free(a); free(who); free(buf); free(ok);
    return r->gone ? -ESRCH : 0;
}

static int walk(reader *r)
{
    const co_debug_offsets_t *T = &r->T;
    size_t bytes = (size_t)T->loops_max * T->loop_slot_size;
    unsigned char *slots = malloc(bytes);
    if (!slots) return -ENOMEM;
    int e = tr__ps_rd(r, T->loops, slots, bytes);
    if (e == 0) tr__ps_rd(r, T->loops_dropped, &r->s->loops_dropped, sizeof r->s->loops_dropped);
    for (uint32_t i = 0; e == 0 && i < T->loops_max; i++) {
        const unsigned char *b = slots + (size_t)i * T->loop_slot_size;
        uint64_t l = tr__ps_getu(b, T->loop_slot_loop);
        if (l) e = read_loop(r, l, (int)tr__ps_gets(b, T->loop_slot_tid));
    }
    free(slots);
    if (e == 0) e = fetch_names(r);
    if (e == 0) e = fetch_watchers(r);
    if (e == -ESRCH || r->gone) return TR_PS_EEXITED;
    if (e == -EPERM) return TR_PS_EPERM;
    if (e == -EFAULT) return TR_PS_EBADTABLE; /* the registry itself is not readable */
    return e;
}


static int index_ids(tr_ps_snap *s);

int tr_ps_snapshot(int pid, int flags, tr_ps_snap **out, tr_ps_info *info)
{
    *out = NULL;
    if (info) memset(info, 0, sizeof *info);
    if (pid <= 0) return TR_PS_ENOPROC;
    if (kill(pid, 0) < 0 && errno == ESRCH) return TR_PS_ENOPROC;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    reader r = { .pid = pid, .flags = flags };
    tr_ps_snap *s = calloc(1, sizeof *s);
    if (!s || !(s->mem = calloc(1, sizeof *s->mem))) {
        free(s);
        return -ENOMEM;
    }
    s->pid = pid;
    r.s = s;
    tr_map_init(&r.strs, sizeof(char *));
    tr_map_init(&r.locs, sizeof(tr_ps_loc));
    tr_map_init(&r.resix, sizeof(size_t));
    tr_map_init(&r.taskix, sizeof(size_t));
    uint64_t addr = 0;
    int e = tr_ps_find_table(pid, &addr, s->object, sizeof s->object);
    if (info) memcpy(info->object, s->object, sizeof info->object);
    if (e == 0) e = tr__ps_read_table(&r, addr, info);
    stopped st = { 0 };
    struct timespec p0;
    if (e == 0 && !(flags & TR_PS_NO_PAUSE)) {
        clock_gettime(CLOCK_MONOTONIC, &p0);
        e = tr__ps_pause_all(pid, &st);
        s->paused = e == 0;
        if (e == TR_PS_EPERM && info) info->tracer_pid = tr__ps_tracer_of(pid);
    }
    if (e == 0) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        s->now_ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
        e = walk(&r);
    }
    if (st.tids) {
        tr__ps_resume(&st);
        s->pause_ms = ms_since(&p0);
    }
    if (e == 0) {
        e = tr__ps_resolve(&r);
    }
    if (e == 0) {
        qsort(s->tasks, s->ntasks, sizeof *s->tasks, by_loop_id);
        e = index_ids(s);
    }
    s->read_ms = ms_since(&t0);
    tr_map_free(&r.strs);
    tr_map_free(&r.locs);
    tr_map_free(&r.resix);
    tr_map_free(&r.taskix);
    free(r.watch_waiters);
    free(r.watch_of);
    free(r.group_waiter);
    free(r.res_of);
    free(r.res_owner);
    free(r.res_owner_gen);
    free(r.name_at);
    free(r.watch_at);
    if (e < 0) {
        tr_ps_free(s);
        return e;
    }
    *out = s;
    return 0;
}

void tr_ps_free(tr_ps_snap *s)
{
    if (!s) return;
    if (s->mem) {
        for (size_t i = 0; i < s->mem->n; i++) free(s->mem->owned[i]);
        free(s->mem->owned);
        free(s->mem->by_id);
        free(s->mem);
    }
    free(s->loops);
    free(s->tasks);
    free(s->res);
    free(s);
}

static int by_id(const void *a, const void *b, void *snap)
{
    const tr_ps_snap *s = snap;
    uint64_t x = s->tasks[*(const size_t *)a].id, y = s->tasks[*(const size_t *)b].id;
    return x < y ? -1 : x > y;
}

static int index_ids(tr_ps_snap *s)
{
    s->mem->by_id = malloc((s->ntasks ? s->ntasks : 1) * sizeof *s->mem->by_id);
    if (!s->mem->by_id) return -ENOMEM;
    for (size_t i = 0; i < s->ntasks; i++) s->mem->by_id[i] = i;
    qsort_r(s->mem->by_id, s->ntasks, sizeof *s->mem->by_id, by_id, s);
    return 0;
}

const tr_ps_task *tr_ps_find(const tr_ps_snap *s, uint64_t id)
{
    size_t a = 0, b = s->ntasks;
    while (a < b) {
        size_t m = a + (b - a) / 2;
        if (s->tasks[s->mem->by_id[m]].id < id) a = m + 1;
        else b = m;
    }
    return a < s->ntasks && s->tasks[s->mem->by_id[a]].id == id ? &s->tasks[s->mem->by_id[a]] : NULL;
}

