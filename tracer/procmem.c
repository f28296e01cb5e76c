/* SPDX-License-Identifier: MIT */
/* procmem.c -- the outside reader's copies of the target's memory
 * (procread.h): process_vm_readv one read at a time, in batches, or a span
 * of neighbours at once; strings and source locations read once and kept
 * by the snapshot; the runtime's layout table read and checked, field by
 * field, before anything is walked with it.
 */
#define _GNU_SOURCE
#include "procread_int.h"
#include <stdlib.h>
#include <sys/uio.h>

/* 0, or -EFAULT (not mapped), -ESRCH (gone), -EPERM. */
int tr__ps_rd(reader *r, uint64_t addr, void *buf, size_t len)
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
void tr__ps_rd_many(reader *r, size_t n, const uint64_t *addr, size_t len, unsigned char *buf, unsigned char *ok)
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
void tr__ps_rd_near(reader *r, size_t n, const uint64_t *addr, size_t len, unsigned char *buf, unsigned char *ok)
{
    size_t *ix = malloc((n + 1) * sizeof *ix);
    unsigned char *span = malloc(SPAN_MAX);
    if (!ix || !span) {
        free(ix); free(span);
        tr__ps_rd_many(r, n, addr, len, buf, ok);
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
        if (j - i > 1 && tr__ps_rd(r, lo, span, bytes) == 0) {
            for (size_t k = i; k < j; k++) {
                memcpy(buf + ix[k] * len, span + (addr[ix[k]] - lo), len);
                ok[ix[k]] = 1;
            }
        } else {
            for (size_t k = i; k < j; k++) ok[ix[k]] = tr__ps_rd(r, addr[ix[k]], buf + ix[k] * len, len) == 0;
        }
        i = j;
    }
    free(ix);
    free(span);
}

int tr__ps_own(tr_ps_mem *m, char *p)
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
const char *tr__ps_str(reader *r, uint64_t addr)
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
        if (tr__ps_rd(r, a, buf + got, n) < 0) break;
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
    if (!slot || tr__ps_own(r->s->mem, s) < 0) {
        free(s);
        return NULL;
    }
    *slot = s;
    return s;
}

tr_ps_loc tr__ps_loc(reader *r, uint64_t addr)
{
    tr_ps_loc l = { 0 };
    if (!addr) return l;
    tr_ps_loc *hit = tr_map_find(&r->locs, addr);
    if (hit) return *hit;
    unsigned char buf[64];
    if (tr__ps_rd(r, addr, buf, sizeof buf) < 0 && tr__ps_rd(r, addr, buf, 24) < 0) return l;
    l.file = tr__ps_str(r, tr__ps_getu(buf, r->T.loc_file));
    l.func = tr__ps_str(r, tr__ps_getu(buf, r->T.loc_func));
    l.line = (int)tr__ps_gets(buf, r->T.loc_line);
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
    /* co_loc.line may end a 24-byte struct: the fallback read in tr__ps_loc(). */
    return field_ok(T->loc_line, 24) && field_ok(T->loc_file, 24) && field_ok(T->loc_func, 24);
}

int tr__ps_read_table(reader *r, uint64_t addr, tr_ps_info *info)
{
    struct { char magic[8]; uint32_t version, size; } head;
    int e = tr__ps_rd(r, addr, &head, sizeof head);
    if (e < 0) return e == -ESRCH ? TR_PS_ENOPROC : e == -EPERM ? TR_PS_EPERM : TR_PS_EBADTABLE;
    if (memcmp(head.magic, CO_DEBUG_MAGIC, 8)) return TR_PS_EBADTABLE;
    if (info) info->version = head.version;
    r->s->version = head.version;
    if (head.version != CO_DEBUG_VERSION) return TR_PS_EVERSION;
    /* Fields appended since (attach) are not needed here: an older,
     * shorter table reads with them zero. */
    if (head.size < CO_DEBUG_SIZE_V1_BASE || head.size > 65536) return TR_PS_EBADTABLE;
    memset(&r->T, 0, sizeof r->T);
    e = tr__ps_rd(r, addr, &r->T, head.size < sizeof r->T ? head.size : sizeof r->T);
    if (e < 0) return e == -ESRCH ? TR_PS_ENOPROC : TR_PS_EBADTABLE;
    return table_ok(&r->T) ? 0 : TR_PS_EBADTABLE;
}

