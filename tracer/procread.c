/* SPDX-License-Identifier: MIT */
/* procread.c -- read a snapshot of a running coscope program from outside
 * (procread.h): pause it, walk the registry of loops and every loop's task
 * slots through the layout table it exports, read what each waiting task
 * waits on, resume it, then tie tasks together (who holds, who awaits).
 *
 * Everything is read while the target is stopped, formatting comes after:
 * the pause lasts as long as the copies, which are one process_vm_readv per
 * chunk of 1024 tasks, and one per distinct string, location and resource.
 */
#define _GNU_SOURCE
#include "procread.h"
#include "map.h"
#include "../runtime/coscope.h"
#include "../runtime/debug_offsets.h"
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>

#define STR_MAX      256          /* longest string read from the target */
#define SLOTS_MAX    (1u << 26)   /* tasks per loop we are ready to read */
#define WATCHERS_MAX 64           /* watchers walked per task */
#define STRUCT_MAX   65536        /* a loop or task struct larger than this is not believed */
#define THREADS_MAX  65536

typedef struct tr_ps_mem {
    char **owned;
    size_t n, cap;
    size_t *by_id; /* task indices by id, for tr_ps_find */
} tr_ps_mem;

typedef struct reader {
    int pid, flags;
    co_debug_offsets_t T;
    tr_ps_snap *s;
    tr_map strs;   /* addr -> char * */
    tr_map locs;   /* addr -> tr_ps_loc */
    tr_map resix;  /* addr -> size_t index + 1 */
    tr_map taskix; /* addr -> size_t index + 1 */
    size_t cap_tasks, cap_res;
    /* By task index, what is resolved after the read. */
    uint64_t *watch_waiters; /* waiter addrs, WATCHERS_MAX per task that has any, 0-ended */
    size_t nwatch, cap_watch;
    size_t *watch_of;        /* task index -> first in watch_waiters + 1, 0 = none */
    uint64_t *group_waiter;  /* task index -> its group's waiter addr */
    size_t *res_of;          /* task index -> res index + 1 */
    uint64_t *res_owner;     /* res index -> lock owner / sem last taker addr */
    uint32_t *res_owner_gen;
    uint64_t *name_at;       /* task index -> its name's address, read in a batch */
    uint64_t *watch_at;      /* task index -> its first watcher's address, read in a batch */
    int gone;                /* a read found the process gone */
} reader;

static double ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

/* 0, or -EFAULT (not mapped), -ESRCH (gone), -EPERM. */
static int rd(reader *r, uint64_t addr, void *buf, size_t len)
{
    if (len == 0) return 0;
    if (addr == 0 || addr + len < addr) return -EFAULT;
    struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };
    ssize_t n = process_vm_readv(r->pid, &local, 1, &remote, 1, 0);
    if (n == (ssize_t)len) return 0;
    if (n < 0 && errno == ESRCH) {
        r->gone = 1;
        return -ESRCH;
    }
    if (n < 0 && errno == EPERM) return -EPERM;
    return -EFAULT;
}

#define BATCH 1024 /* IOV_MAX: iovecs per process_vm_readv */

/* Many small reads in as few system calls as possible: the walk of 100k
 * tasks makes 100k name reads, and one call each would be most of the
 * pause.  ok[k] says whether read k succeeded; a failed one costs a call of
 * its own (the kernel stops a batch at the first iovec it cannot read). */
static void rd_many(reader *r, size_t n, const uint64_t *addr, size_t len, unsigned char *buf, unsigned char *ok)
{
    struct iovec local[BATCH], remote[BATCH];
    size_t i = 0;
    while (i < n && !r->gone) {
        size_t m = n - i < BATCH ? n - i : BATCH;
        for (size_t k = 0; k < m; k++) {
            local[k] = (struct iovec){ buf + (i + k) * len, len };
            remote[k] = (struct iovec){ (void *)(uintptr_t)addr[i + k], len };
        }
        ssize_t got = process_vm_readv(r->pid, local, m, remote, m, 0);
        if (got < 0 && errno == ESRCH) {
            r->gone = 1;
            break;
        }
        size_t full = got > 0 ? (size_t)got / len : 0;
        for (size_t k = 0; k < full; k++) ok[i + k] = 1;
        if (full < m) ok[i + full] = 0; /* the one that stopped it */
        i += full + (full < m);
    }
}

#define SPAN_MAX 65536 /* bytes read at once for neighbouring small reads */

static int by_addr(const void *a, const void *b, void *addrs)
{
    uint64_t x = ((const uint64_t *)addrs)[*(const size_t *)a], y = ((const uint64_t *)addrs)[*(const size_t *)b];
    return x < y ? -1 : x > y;
}

/* rd_many, but neighbours are read together: 100k names strdup'd one after
 * another, or a gather's array of watchers, lie side by side in the heap,
 * and one read of the span costs what one small read does.  A span that
 * cannot be read (a hole in it) falls back to its reads one by one. */
static void rd_near(reader *r, size_t n, const uint64_t *addr, size_t len, unsigned char *buf, unsigned char *ok)
{
    size_t *ix = malloc((n + 1) * sizeof *ix);
    unsigned char *span = malloc(SPAN_MAX);
    if (!ix || !span) {
        free(ix); free(span);
        rd_many(r, n, addr, len, buf, ok);
        return;
    }
    for (size_t i = 0; i < n; i++) ix[i] = i;
    qsort_r(ix, n, sizeof *ix, by_addr, (void *)addr);
    for (size_t i = 0; i < n && !r->gone;) {
        uint64_t lo = addr[ix[i]];
        size_t j = i + 1;
        while (j < n && addr[ix[j]] >= lo && addr[ix[j]] - lo + len <= SPAN_MAX &&
               addr[ix[j]] - addr[ix[j - 1]] <= 4096)
            j++;
        size_t bytes = (size_t)(addr[ix[j - 1]] - lo) + len;
        if (j - i > 1 && rd(r, lo, span, bytes) == 0) {
            for (size_t k = i; k < j; k++) {
                memcpy(buf + ix[k] * len, span + (addr[ix[k]] - lo), len);
                ok[ix[k]] = 1;
            }
        } else {
            for (size_t k = i; k < j; k++) ok[ix[k]] = rd(r, addr[ix[k]], buf + ix[k] * len, len) == 0;
        }
        i = j;
    }
    free(ix);
    free(span);
}

/* A field of a struct copied into buf (its bounds were checked against the
 * struct's size when the table was validated). */
static uint64_t getu(const unsigned char *buf, co_debug_field f)
{
    switch (f.size) {
    case 1: return buf[f.off];
    case 2: { uint16_t v; memcpy(&v, buf + f.off, 2); return v; }
    case 4: { uint32_t v; memcpy(&v, buf + f.off, 4); return v; }
    default: { uint64_t v; memcpy(&v, buf + f.off, 8); return v; }
    }
}
static int64_t gets(const unsigned char *buf, co_debug_field f)
{
    switch (f.size) {
    case 1: return (int8_t)buf[f.off];
    case 2: { int16_t v; memcpy(&v, buf + f.off, 2); return v; }
    case 4: { int32_t v; memcpy(&v, buf + f.off, 4); return v; }
    default: { int64_t v; memcpy(&v, buf + f.off, 8); return v; }
    }
}

static int own(tr_ps_mem *m, char *p)
{
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        char **o = realloc(m->owned, cap * sizeof *o);
        if (!o) return -ENOMEM;
        m->owned = o;
        m->cap = cap;
    }
    m->owned[m->n++] = p;
    return 0;
}

/* A string of the target, at most STR_MAX bytes, read page by page (the
 * page after it may be unmapped); control characters become '?' so a name
 * cannot drive the terminal.  NULL for a NULL or unreadable pointer. */
static const char *str(reader *r, uint64_t addr)
{
    if (!addr) return NULL;
    char **hit = tr_map_find(&r->strs, addr);
    if (hit) return *hit;
    char buf[STR_MAX + 1];
    size_t got = 0;
    int done = 0;
    while (got < STR_MAX && !done) {
        uint64_t a = addr + got;
        size_t n = 4096 - (a & 4095);
        if (n > STR_MAX - got) n = STR_MAX - got;
        if (rd(r, a, buf + got, n) < 0) break;
        void *z = memchr(buf + got, 0, n);
        if (z) {
            n = (size_t)((char *)z - (buf + got));
            done = 1;
        }
        got += n;
    }
    if (!done && got == 0) return NULL;
    buf[got] = 0;
    for (size_t i = 0; i < got; i++)
        if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f) buf[i] = '?';
    char *s = strdup(buf);
    char **slot = s ? tr_map_put(&r->strs, addr) : NULL;
    if (!slot || own(r->s->mem, s) < 0) {
        free(s);
        return NULL;
    }
    *slot = s;
    return s;
}

static tr_ps_loc loc(reader *r, uint64_t addr)
{
    tr_ps_loc l = { 0 };
    if (!addr) return l;
    tr_ps_loc *hit = tr_map_find(&r->locs, addr);
    if (hit) return *hit;
    unsigned char buf[64];
    if (rd(r, addr, buf, sizeof buf) < 0 && rd(r, addr, buf, 24) < 0) return l;
    l.file = str(r, getu(buf, r->T.loc_file));
    l.func = str(r, getu(buf, r->T.loc_func));
    l.line = (int)gets(buf, r->T.loc_line);
    if (l.line < 0) l.line = 0;
    tr_ps_loc *slot = tr_map_put(&r->locs, addr);
    if (slot) *slot = l;
    return l;
}

/* ------------------------------------------------------------------------ */
/* The table                                                                 */

static int field_ok(co_debug_field f, uint32_t within)
{
    return (f.size == 1 || f.size == 2 || f.size == 4 || f.size == 8) && f.off <= within &&
           f.size <= within - f.off;
}

/* Every field inside its struct: what the walk relies on to index buffers. */
static int table_ok(const co_debug_offsets_t *T)
{
    if (T->ptr_size != 8 || T->loops_max == 0 || T->loops_max > 65536 || T->loop_slot_size == 0 ||
        T->loop_slot_size > 256 || T->loop_size == 0 || T->loop_size > STRUCT_MAX || T->task_size == 0 ||
        T->task_size > STRUCT_MAX || T->chunk_tasks == 0 || T->chunk_tasks > 65536 || T->task_states == 0 ||
        T->task_states > 64 || T->wait_kinds == 0 || T->wait_kinds > 256)
        return 0;
    const co_debug_field slot[] = { T->loop_slot_loop, T->loop_slot_tid };
    const co_debug_field loop[] = { T->loop_current, T->loop_main, T->loop_chunks, T->loop_nchunks,
                                    T->loop_nslots, T->loop_live, T->loop_running };
    const co_debug_field task[] = { T->task_gen, T->task_id, T->task_name, T->task_state, T->task_started,
                                    T->task_cancel_pending, T->task_detached, T->task_wait_kind,
                                    T->task_wait_obj, T->task_wait_obj_id, T->task_wait_loc,
                                    T->task_spawn_loc, T->task_parent_id, T->task_await_t0,
                                    T->task_timer_at, T->task_heap_idx, T->task_watchers, T->task_group,
                                    T->task_slot, T->task_loop };
    /* Small structs whose size the table does not give: 64 bytes (co_loc,
     * a watcher, a group) or 256 (a resource) is the most we copy. */
    const co_debug_field small[] = { T->loc_file, T->loc_func, T->watch_next, T->watch_waiter,
                                     T->group_magic, T->group_waiter, T->group_count };
    const co_debug_field res[] = { T->lock_magic, T->lock_id, T->lock_name, T->lock_owner, T->lock_owner_gen,
                                   T->sem_magic, T->sem_id, T->sem_name, T->sem_value, T->sem_last_taker,
                                   T->sem_last_taker_gen, T->sem_last_taker_id, T->queue_magic,
                                   T->queue_id, T->queue_name, T->queue_len, T->queue_maxsize,
                                   T->event_magic, T->event_id, T->event_name, T->event_is_set,
                                   T->future_magic, T->future_id, T->future_state, T->cond_magic,
                                   T->cond_id, T->cond_name, T->cond_lock };
    for (size_t i = 0; i < sizeof slot / sizeof *slot; i++) if (!field_ok(slot[i], T->loop_slot_size)) return 0;
    for (size_t i = 0; i < sizeof loop / sizeof *loop; i++) if (!field_ok(loop[i], T->loop_size)) return 0;
    for (size_t i = 0; i < sizeof task / sizeof *task; i++) if (!field_ok(task[i], T->task_size)) return 0;
    for (size_t i = 0; i < sizeof small / sizeof *small; i++) if (!field_ok(small[i], 64)) return 0;
    for (size_t i = 0; i < sizeof res / sizeof *res; i++) if (!field_ok(res[i], 256)) return 0;
    /* co_loc.line may end a 24-byte struct: the fallback read in loc(). */
    return field_ok(T->loc_line, 24) && field_ok(T->loc_file, 24) && field_ok(T->loc_func, 24);
}

static int read_table(reader *r, uint64_t addr, tr_ps_info *info)
{
    struct { char magic[8]; uint32_t version, size; } head;
    int e = rd(r, addr, &head, sizeof head);
    if (e < 0) return e == -ESRCH ? TR_PS_ENOPROC : e == -EPERM ? TR_PS_EPERM : TR_PS_EBADTABLE;
    if (memcmp(head.magic, CO_DEBUG_MAGIC, 8)) return TR_PS_EBADTABLE;
    if (info) info->version = head.version;
    r->s->version = head.version;
    if (head.version != CO_DEBUG_VERSION) return TR_PS_EVERSION;
    /* Fields appended since (attach) are not needed here: an older,
     * shorter table reads with them zero. */
    if (head.size < CO_DEBUG_SIZE_V1_BASE || head.size > 65536) return TR_PS_EBADTABLE;
    memset(&r->T, 0, sizeof r->T);
    e = rd(r, addr, &r->T, head.size < sizeof r->T ? head.size : sizeof r->T);
    if (e < 0) return e == -ESRCH ? TR_PS_ENOPROC : TR_PS_EBADTABLE;
    return table_ok(&r->T) ? 0 : TR_PS_EBADTABLE;
}

/* ------------------------------------------------------------------------ */
/* Pausing                                                                   */

typedef struct stopped {
    int *tids;
    size_t n, cap;
} stopped;

static int has(const stopped *st, int tid)
{
    for (size_t i = 0; i < st->n; i++) if (st->tids[i] == tid) return 1;
    return 0;
}

static void resume(stopped *st)
{
    for (size_t i = 0; i < st->n; i++) ptrace(PTRACE_DETACH, st->tids[i], NULL, NULL);
    free(st->tids);
    memset(st, 0, sizeof *st);
}

/* Seize and interrupt every thread, listing them again until no new one
 * appeared (a thread may start while we stop the others).  If we die
 * while they are stopped, the kernel detaches and they run on. */
static int pause_all(int pid, stopped *st)
{
    char p[64];
    snprintf(p, sizeof p, "/proc/%d/task", pid);
    for (int round = 0; round < 8; round++) {
        DIR *d = opendir(p);
        if (!d) return errno == ENOENT ? TR_PS_EEXITED : TR_PS_EPERM;
        int added = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
            int tid = atoi(de->d_name);
            if (tid <= 0 || has(st, tid)) continue;
            if (st->n == st->cap) {
                size_t cap = st->cap ? st->cap * 2 : 16;
                int *t = cap <= THREADS_MAX ? realloc(st->tids, cap * sizeof *t) : NULL;
                if (!t) {
                    closedir(d);
                    return -ENOMEM;
                }
                st->tids = t;
                st->cap = cap;
            }
            if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) < 0) {
                if (errno == ESRCH) continue; /* it ended meanwhile */
                int e = errno;
                closedir(d);
                return e == EPERM || e == EACCES ? TR_PS_EPERM : -e;
            }
            st->tids[st->n++] = tid;
            added = 1;
            if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) < 0) continue;
            int status;
            while (waitpid(tid, &status, __WALL) < 0 && errno == EINTR) {}
        }
        closedir(d);
        if (!added) return st->n ? 0 : TR_PS_EEXITED;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* The walk                                                                  */

static int is_res_kind(int k)
{
    return k == CO_WAIT_LOCK || k == CO_WAIT_SEM || k == CO_WAIT_QUEUE_GET || k == CO_WAIT_QUEUE_PUT ||
           k == CO_WAIT_QUEUE_JOIN || k == CO_WAIT_EVENT || k == CO_WAIT_FUTURE || k == CO_WAIT_COND;
}

/* The resource at addr, read once; index + 1, or 0. */
static size_t resource(reader *r, uint64_t addr, int kind)
{
    size_t *hit = tr_map_find(&r->resix, addr);
    if (hit) return *hit;
    tr_ps_snap *s = r->s;
    if (s->nres == r->cap_res) {
        size_t cap = r->cap_res ? r->cap_res * 2 : 64;
        tr_ps_res *n = realloc(s->res, cap * sizeof *n);
        uint64_t *o = realloc(r->res_owner, cap * sizeof *o);
        if (o) r->res_owner = o;
        uint32_t *g = realloc(r->res_owner_gen, cap * sizeof *g);
        if (g) r->res_owner_gen = g;
        if (n) s->res = n;
        if (!n || !o || !g) return 0;
        r->cap_res = cap;
    }
    size_t i = s->nres++;
    tr_ps_res *x = &s->res[i];
    memset(x, 0, sizeof *x);
    r->res_owner[i] = 0;
    r->res_owner_gen[i] = 0;
    x->addr = addr;
    x->kind = kind;
    unsigned char b[256];
    const co_debug_offsets_t *T = &r->T;
    if (rd(r, addr, b, sizeof b) < 0 && rd(r, addr, b, 128) < 0) goto out;
    switch (kind) {
    case CO_WAIT_LOCK:
        if (getu(b, T->lock_magic) != T->lock_magic_value) break;
        x->valid = 1;
        x->id = getu(b, T->lock_id);
        x->name = str(r, getu(b, T->lock_name));
        r->res_owner[i] = getu(b, T->lock_owner);
        r->res_owner_gen[i] = (uint32_t)getu(b, T->lock_owner_gen);
        break;
    case CO_WAIT_SEM:
        if (getu(b, T->sem_magic) != T->sem_magic_value) break;
        x->valid = 1;
        x->id = getu(b, T->sem_id);
        x->name = str(r, getu(b, T->sem_name));
        x->value = gets(b, T->sem_value);
        r->res_owner[i] = getu(b, T->sem_last_taker);
        r->res_owner_gen[i] = (uint32_t)getu(b, T->sem_last_taker_gen);
        x->holder_id = getu(b, T->sem_last_taker_id);
        break;
    case CO_WAIT_QUEUE_GET: case CO_WAIT_QUEUE_PUT: case CO_WAIT_QUEUE_JOIN:
        if (getu(b, T->queue_magic) != T->queue_magic_value) break;
        x->valid = 1;
        x->id = getu(b, T->queue_id);
        x->name = str(r, getu(b, T->queue_name));
        x->value = (int64_t)getu(b, T->queue_len);
        x->maxsize = (int64_t)getu(b, T->queue_maxsize);
        break;
    case CO_WAIT_EVENT:
        if (getu(b, T->event_magic) != T->event_magic_value) break;
        x->valid = 1;
        x->id = getu(b, T->event_id);
        x->name = str(r, getu(b, T->event_name));
        x->value = gets(b, T->event_is_set);
        break;
    case CO_WAIT_FUTURE:
        if (getu(b, T->future_magic) != T->future_magic_value) break;
        x->valid = 1;
        x->id = getu(b, T->future_id);
        x->value = gets(b, T->future_state);
        break;
    case CO_WAIT_COND:
        if (getu(b, T->cond_magic) != T->cond_magic_value) break;
        x->valid = 1;
        x->id = getu(b, T->cond_id);
        x->name = str(r, getu(b, T->cond_name));
        x->lock_addr = getu(b, T->cond_lock);
        break;
    }
out:;
    size_t *slot = tr_map_put(&r->resix, addr);
    if (slot) *slot = i + 1;
    return i + 1;
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
        if (rd(r, w, b, sizeof b) < 0) break;
        if (r->nwatch + 2 > r->cap_watch) {
            size_t cap = r->cap_watch ? r->cap_watch * 2 : 256;
            uint64_t *n = realloc(r->watch_waiters, cap * sizeof *n);
            if (!n) break;
            r->watch_waiters = n;
            r->cap_watch = cap;
        }
        r->watch_waiters[r->nwatch++] = getu(b, r->T.watch_waiter);
        w = getu(b, r->T.watch_next);
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
    t->gen = (uint32_t)getu(b, T->task_gen);
    t->id = getu(b, T->task_id);
    t->parent_id = getu(b, T->task_parent_id);
    t->state = (int)getu(b, T->task_state);
    t->started = (int)getu(b, T->task_started);
    t->cancel_pending = (int)getu(b, T->task_cancel_pending);
    t->detached = (int)getu(b, T->task_detached);
    t->wait_kind = (int)getu(b, T->task_wait_kind);
    t->wait_obj = getu(b, T->task_wait_obj);
    t->wait_obj_id = getu(b, T->task_wait_obj_id);
    t->await_t0_ns = getu(b, T->task_await_t0);
    t->timer_at_ms = (uint32_t)getu(b, T->task_heap_idx) != UINT32_MAX ? (int64_t)getu(b, T->task_timer_at) : -1;
    t->torn = torn || t->state >= (int)T->task_states || t->id == 0 ||
              (t->state == CO_TASK_WAITING && t->wait_kind >= (int)T->wait_kinds);
    if (t->torn) {
        s->ntorn++;
        if (t->state >= (int)T->task_states) t->state = CO_TASK_READY;
        return 0; /* its pointers are not followed */
    }
    r->name_at[i] = getu(b, T->task_name);
    t->spawn_loc = loc(r, getu(b, T->task_spawn_loc));
    if (t->state == CO_TASK_WAITING) {
        t->wait_loc = loc(r, getu(b, T->task_wait_loc));
        if (is_res_kind(t->wait_kind) && t->wait_obj) r->res_of[i] = resource(r, t->wait_obj, t->wait_kind);
    } else if (t->state == CO_TASK_READY || t->state == CO_TASK_RUNNING) {
        t->wait_loc = loc(r, getu(b, T->task_wait_loc)); /* where it last suspended */
    }
    r->watch_at[i] = getu(b, T->task_watchers);
    uint64_t g = getu(b, T->task_group);
    if (g) {
        unsigned char gb[64];
        if (rd(r, g, gb, sizeof gb) == 0 && getu(gb, T->group_magic) == T->group_magic_value)
            r->group_waiter[i] = getu(gb, T->group_waiter);
    }
    return 0;
}

static int read_loop(reader *r, uint64_t laddr, int tid)
{
    const co_debug_offsets_t *T = &r->T;
    tr_ps_snap *s = r->s;
    unsigned char *lb = malloc(T->loop_size);
    if (!lb) return -ENOMEM;
    int e = rd(r, laddr, lb, T->loop_size);
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
    L->nslots = (uint32_t)getu(lb, T->loop_nslots);
    L->live = getu(lb, T->loop_live);
    L->running = (int)getu(lb, T->loop_running);
    uint64_t chunks = getu(lb, T->loop_chunks), cur = getu(lb, T->loop_current), main = getu(lb, T->loop_main);
    uint32_t nchunks = (uint32_t)getu(lb, T->loop_nchunks);
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
    e = used ? rd(r, chunks, cp, used * sizeof *cp) : 0;
    for (uint32_t c = 0; e == 0 && c < used; c++) {
        uint32_t n = c + 1 < used ? T->chunk_tasks : L->nslots - c * T->chunk_tasks;
        size_t bytes = (size_t)n * T->task_size;
        if (rd(r, cp[c], cb, bytes) < 0) {
            if (r->gone) e = -ESRCH;
            continue;
        }
        /* Not paused: a second copy; a slot that differs changed under us. */
        int second = cb2 && rd(r, cp[c], cb2, bytes) == 0;
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
            if (!(getu(b, T->task_gen) & 1)) continue;
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
static uint64_t id_at(reader *r, uint64_t addr, uint32_t gen, int check_gen, int *ended)
{
    if (ended) *ended = 0;
    if (!addr) return 0;
    size_t *ix = tr_map_find(&r->taskix, addr);
    if (ix && (!check_gen || r->s->tasks[*ix - 1].gen == gen)) return r->s->tasks[*ix - 1].id;
    if (ended) *ended = 1;
    return 0;
}

static int resolve(reader *r)
{
    tr_ps_snap *s = r->s;
    for (size_t i = 0; i < s->ntasks; i++) {
        if (s->tasks[i].torn) continue; /* its pointers are not followed */
        size_t *ix = tr_map_put(&r->taskix, s->tasks[i].addr);
        if (!ix) return -ENOMEM;
        *ix = i + 1;
    }
    for (size_t i = 0; i < s->nres; i++) {
        tr_ps_res *x = &s->res[i];
        if (!x->valid) continue;
        int ended = 0;
        if (x->kind == CO_WAIT_LOCK) {
            x->holder_id = id_at(r, r->res_owner[i], r->res_owner_gen[i], 1, &ended);
            x->holder_ended = r->res_owner[i] && ended;
        } else if (x->kind == CO_WAIT_SEM && r->res_owner[i]) {
            id_at(r, r->res_owner[i], r->res_owner_gen[i], 1, &ended);
            x->holder_ended = ended;
        }
    }
    for (size_t i = 0; i < s->ntasks; i++) {
        tr_ps_task *t = &s->tasks[i];
        if (r->res_of[i]) t->res = &s->res[r->res_of[i] - 1];
        if (t->torn || t->state != CO_TASK_WAITING) continue;
        if (t->wait_kind == CO_WAIT_TASK) {
            size_t *ix = tr_map_find(&r->taskix, t->wait_obj);
            if (ix) {
                t->waits_for_id = s->tasks[*ix - 1].id;
                if (!s->tasks[*ix - 1].awaiter_id) s->tasks[*ix - 1].awaiter_id = t->id;
            } else {
                t->waits_for_id = t->wait_obj_id;
            }
        } else if (t->wait_kind == CO_WAIT_LOCK && t->res && t->res->valid) {
            t->waits_for_id = t->res->holder_id;
        }
    }
    for (size_t i = 0; i < s->ntasks; i++) {
        tr_ps_task *t = &s->tasks[i];
        if (!t->awaiter_id && r->watch_of[i])
            for (size_t k = r->watch_of[i] - 1; k < r->nwatch && r->watch_waiters[k] && !t->awaiter_id; k++)
                t->awaiter_id = id_at(r, r->watch_waiters[k], 0, 0, NULL);
        if (!t->awaiter_id && r->group_waiter[i]) t->awaiter_id = id_at(r, r->group_waiter[i], 0, 0, NULL);
    }
    return 0;
}

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
     * (a longer name) leaves the name to str(), page by page. */
    rd_near(r, u, a, NAME_PEEK, buf, ok);
    for (size_t i = 0; i < u; i++) {
        char *p = (char *)buf + i * NAME_PEEK, *z = ok[i] ? memchr(p, 0, NAME_PEEK) : NULL;
        if (!z) ok[i] = 0;
        else for (char *c = p; c < z; c++) if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = '?';
    }
    /* buf becomes the snapshot's: the names point into it. */
    if (own(s->mem, (char *)buf) < 0) {
        free(ix); free(a); free(buf); free(ok);
        return -ENOMEM;
    }
    for (size_t i = 0, k = 0; i < m && !r->gone; i++) {
        while (a[k] != r->name_at[ix[i]]) k++;
        tr_ps_task *t = &s->tasks[ix[i]];
        t->name = ok[k] ? (const char *)buf + k * NAME_PEEK : str(r, a[k]);
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
    rd_near(r, n, a, len, buf, ok);
    for (size_t k = 0; k < n && !r->gone; k++) {
        const unsigned char *b = buf + k * len;
        if (!ok[k] || getu(b, r->T.watch_next)) {
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
        r->watch_waiters[r->nwatch++] = getu(b, r->T.watch_waiter);
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
    int e = rd(r, T->loops, slots, bytes);
    if (e == 0) rd(r, T->loops_dropped, &r->s->loops_dropped, sizeof r->s->loops_dropped);
    for (uint32_t i = 0; e == 0 && i < T->loops_max; i++) {
        const unsigned char *b = slots + (size_t)i * T->loop_slot_size;
        uint64_t l = getu(b, T->loop_slot_loop);
        if (l) e = read_loop(r, l, (int)gets(b, T->loop_slot_tid));
    }
    free(slots);
    if (e == 0) e = fetch_names(r);
    if (e == 0) e = fetch_watchers(r);
    if (e == -ESRCH || r->gone) return TR_PS_EEXITED;
    if (e == -EPERM) return TR_PS_EPERM;
    if (e == -EFAULT) return TR_PS_EBADTABLE; /* the registry itself is not readable */
    return e;
}

static int tracer_of(int pid)
{
    char p[64], line[256];
    snprintf(p, sizeof p, "/proc/%d/status", pid);
    FILE *f = fopen(p, "re");
    int t = 0;
    if (!f) return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "TracerPid: %d", &t) == 1) break;
    fclose(f);
    return t;
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
    if (e == 0) e = read_table(&r, addr, info);
    stopped st = { 0 };
    struct timespec p0;
    if (e == 0 && !(flags & TR_PS_NO_PAUSE)) {
        clock_gettime(CLOCK_MONOTONIC, &p0);
        e = pause_all(pid, &st);
        s->paused = e == 0;
        if (e == TR_PS_EPERM && info) info->tracer_pid = tracer_of(pid);
    }
    if (e == 0) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        s->now_ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
        e = walk(&r);
    }
    if (st.tids) {
        resume(&st);
        s->pause_ms = ms_since(&p0);
    }
    if (e == 0) {
        e = resolve(&r);
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
