/* SPDX-License-Identifier: MIT */
/* trace.c -- the producer side of tracing: the shared region, per-thread
 * rings, interning of strings and call sites, and attaching to a region
 * that `coscope run` created (passed as $COSCOPE_TRACE_FD).
 *
 * Only co__tr_emit (trace.h) is on the hot path.  Everything here runs once
 * per thread, per call site or per distinct string.
 */
#define _GNU_SOURCE
#include "internal.h"
#include "trace.h"
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

int co__tracing;
uint32_t co__tr_epoch;
__thread tr_ring *co__tr_ring CO__TLS_MODEL;
__thread uint32_t co__tr_ring_epoch CO__TLS_MODEL;
__thread uint64_t co__tr_last CO__TLS_MODEL;
__thread int co__tr_step CO__TLS_MODEL;
__thread int co__tr_keep CO__TLS_MODEL;
static tr_shm *g_shm;

void co__tr_emit_slow(unsigned kind, co_loc *loc, uint64_t task, uint64_t res, uint64_t arg)
{
    tr_ring *r = co__tr_ring;
    if (r == NULL || co__tr_ring_epoch != co__tr_epoch) {
        r = co__tr_claim();
        if (!r) return;
    }
    uint64_t h = r->head_local;
    if (h - r->tail_cached >= TR_RING_RECS / 2 && !co__tr_room(r)) {
        if (kind == TR_SWITCH) atomic_fetch_add(&g_shm->dropped, 1); /* two events lost */
        return; /* dropped (counted) */
    }
    co__tr_put(r, h, kind, co__tr_loc(loc), task, res, arg);
}
int co__tr_snap_gate;
static _Atomic int g_consumer_fd = -1; /* co__tr_set_consumer_fd */

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

tr_ring *co__tr_claim(void)
{
    tr_shm *s = g_shm;
    if (!s) return NULL;
    /* Mid-run: this loop's state goes first (co__tr_snap_gate); until its
     * snapshot is written, what happens on it is in the snapshot. */
    co__loop *l = co__tl_loop;
    if (co__tr_snap_gate && l && l->snap_epoch != co__tr_epoch) return NULL;
    uint32_t tid = (uint32_t)syscall(SYS_gettid);
    tr_ring *rings = tr_rings(s);
    for (uint32_t i = 0; i < s->nrings; i++) {
        uint32_t expect = 0;
        if (atomic_load_explicit(&rings[i].owner, memory_order_relaxed) == 0 &&
            atomic_compare_exchange_strong(&rings[i].owner, &expect, tid)) {
            tr_ring *r = &rings[i];
            /* Fault the ring in now, in one call: otherwise the hot path
             * takes a page fault every 128 events (shared memory faults are
             * slow), which a traced server feels. */
            madvise(r, sizeof *r, 23 /* MADV_POPULATE_WRITE, Linux >= 5.14 */);
            r->head_local = atomic_load_explicit(&r->head, memory_order_relaxed);
            r->tail_cached = atomic_load_explicit(&r->tail, memory_order_acquire);
            atomic_fetch_add(&s->rings_used, 1);
            co__tr_ring = r;
            co__tr_ring_epoch = co__tr_epoch;
            co__tr_emit(TR_THREAD, NULL, 0, i, tid);
            return r;
        }
    }
    atomic_fetch_add(&s->dropped, 1); /* more threads than rings */
    return NULL;
}

static void wake_consumer(tr_shm *s)
{
    if (atomic_load_explicit(&s->consumer_sleeping, memory_order_relaxed) &&
        atomic_exchange(&s->consumer_sleeping, 0)) {
        atomic_fetch_add(&s->consumer_wake, 1);
        syscall(SYS_futex, &s->consumer_wake, FUTEX_WAKE, 1, NULL, NULL, 0); /* shared: no FUTEX_PRIVATE_FLAG */
    }
}

/* Full: sleep until the recorder has freed slots, 1 ms at the most, so a
 * recorder that died meanwhile (or a wake-up lost to the race with its
 * check of room_waiters) is noticed. */
void co__tr_set_consumer_fd(int fd) { atomic_store(&g_consumer_fd, fd); }

/* The recorder at the other end of the control socket is gone (killed):
 * nobody will free room again. */
static int consumer_hung_up(void)
{
    int fd = atomic_load(&g_consumer_fd);
    if (fd < 0) return 0;
    struct pollfd p = { .fd = fd, .events = POLLRDHUP };
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

static void wait_for_room(tr_shm *s, tr_ring *r)
{
    if (consumer_hung_up()) {
        atomic_store(&s->consumer_alive, 0);
        return;
    }
    uint32_t seq = atomic_load(&s->room_wake);
    atomic_fetch_add(&s->room_waiters, 1);
    if (r->head_local - atomic_load(&r->tail) >= TR_RING_RECS) {
        struct timespec ts = { 0, 1000000 };
        syscall(SYS_futex, &s->room_wake, FUTEX_WAIT, seq, &ts, NULL, 0);
    }
    atomic_fetch_sub(&s->room_waiters, 1);
}

/* The ring looked at least half full: look again, wake the recorder if it
 * is, and wait while it is full (drop instead in drop mode unless
 * co__tr_keep, or once the recorder is gone). */
int co__tr_room(tr_ring *r)
{
    tr_shm *s = g_shm;
    for (;;) {
        r->tail_cached = atomic_load_explicit(&r->tail, memory_order_acquire);
        uint64_t used = r->head_local - r->tail_cached;
        if (used < TR_RING_RECS / 2) return 1;
        wake_consumer(s);
        if (used < TR_RING_RECS) return 1;
        if ((s->full_policy == TR_FULL_DROP && !co__tr_keep) || !atomic_load(&s->consumer_alive)) {
            atomic_fetch_add(&s->dropped, 1);
            return 0;
        }
        wait_for_room(s, r);
    }
}

static tr_str *arena_alloc(size_t textlen, uint64_t *off_out)
{
    tr_shm *s = g_shm;
    size_t size = (sizeof(tr_str) + textlen + 1 + 7) & ~(size_t)7;
    uint64_t off = atomic_fetch_add(&s->arena_top, size);
    if (off + size > s->arena_size) {
        atomic_fetch_add(&s->text_lost, 1); /* the event still goes in, without its text */
        return NULL;
    }
    *off_out = off;
    return (tr_str *)(tr_arena(s) + off);
}

uint64_t co__tr_intern(const char *str, size_t len)
{
    if (!g_shm || !str) return 0;
    uint64_t off;
    tr_str *e = arena_alloc(len, &off);
    if (!e) return 0;
    e->len = (uint32_t)len;
    e->line = 0;
    e->func_off = 0;
    memcpy(e->text, str, len);
    e->text[len] = 0;
    atomic_store_explicit(&e->ready, TR_STR_PLAIN, memory_order_release);
    return off;
}

/* Per-thread tables (co__thread_table): one pthread key whose value is the
 * thread's list of them, freed by the key's destructor as the thread exits. */
struct thread_table {
    struct thread_table *next;
    void **slot; /* the owner's thread-local */
    _Alignas(16) char mem[];
};
static pthread_key_t table_key;
static pthread_once_t table_once = PTHREAD_ONCE_INIT;
static int table_key_ok;

static void tables_free(void *head)
{
    for (struct thread_table *t = head, *next; t; t = next) {
        next = t->next;
        *t->slot = NULL;
        free(t);
    }
}

static void table_key_make(void) { table_key_ok = pthread_key_create(&table_key, tables_free) == 0; }

void *co__thread_table(void **slot, size_t bytes)
{
    if (*slot) return *slot;
    pthread_once(&table_once, table_key_make);
    if (!table_key_ok) return NULL;
    struct thread_table *t = calloc(1, sizeof *t + bytes);
    if (!t) return NULL;
    t->slot = slot;
    t->next = pthread_getspecific(table_key);
    if (pthread_setspecific(table_key, t) != 0) {
        free(t);
        return NULL;
    }
    return *slot = t->mem;
}

/* This thread's recent texts, by hash: an entry is reused only when the
 * arena still holds the same bytes (the arena is never rewritten within a
 * session, so the check is exact).  Made at the thread's first use. */
struct text_slot {
    uint64_t hash, id;
    uint32_t len, epoch;
};
static __thread struct text_slot *text_cache CO__TLS_MODEL; /* 512 slots */

uint64_t co__tr_intern_cached(const char *str, size_t len)
{
    if (!g_shm || !str) return 0;
    struct text_slot *c = text_cache;
    if (CO_UNLIKELY(!c)) c = co__thread_table((void **)&text_cache, 512 * sizeof *c);
    if (!c) return co__tr_intern(str, len);
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)str[i]) * 1099511628211ull;
    struct text_slot *s = &c[(h ^ h >> 29) & 511];
    if (s->epoch == co__tr_epoch && s->hash == h && s->len == len && s->id) {
        tr_str *e = (tr_str *)(tr_arena(g_shm) + s->id);
        if (e->len == len && !memcmp(e->text, str, len)) return s->id;
    }
    uint64_t id = co__tr_intern(str, len);
    if (id) {
        s->hash = h;
        s->id = id;
        s->len = (uint32_t)len;
        s->epoch = co__tr_epoch;
    }
    return id;
}

uint32_t co__tr_intern_loc(co_loc *loc)
{
    if (!g_shm) return 0;
    const char *file = loc->file ? loc->file : "?";
    const char *func = loc->func ? loc->func : "?";
    size_t fl = strlen(file), fn = strlen(func);
    uint64_t off;
    tr_str *e = arena_alloc(fl + 1 + fn, &off);
    if (!e) return 0;
    e->len = (uint32_t)(fl + 1 + fn);
    e->line = (uint32_t)loc->line;
    e->func_off = (uint32_t)(fl + 1);
    memcpy(e->text, file, fl + 1);
    memcpy(e->text + fl + 1, func, fn + 1);
    atomic_store_explicit(&e->ready, TR_STR_LOC, memory_order_release);
    uint32_t id = (uint32_t)(off >> 3);
    loc->id = id;
    loc->epoch = co__tr_epoch; /* after id: a racing reader may intern twice, never misread */
    return id;
}

/* The hot path reads the cycle counter on x86-64 and AArch64 whatever this
 * says (a branch there would cost every event); this only records whether
 * the rate is guaranteed constant, so the trace can say how far to trust
 * its durations. */
static uint32_t detect_clock(uint32_t *invariant)
{
#if defined(__x86_64__)
    unsigned a, b, c, d;
    /* Invariant TSC: constant rate in every P-, C- and T-state.  VMs often
     * hide the bit while the rate is constant anyway. */
    *invariant = __get_cpuid(0x80000007, &a, &b, &c, &d) && (d & (1u << 8));
    return TR_CLOCK_TSC;
#elif defined(__aarch64__)
    *invariant = 1; /* the generic timer is constant-rate by architecture */
    return TR_CLOCK_TSC;
#else
    *invariant = 1;
    return TR_CLOCK_MONO;
#endif
}

static void init_header(tr_shm *s)
{
    memset(s, 0, sizeof *s);
    s->magic = TR_MAGIC;
    s->version = TR_VERSION;
    s->nrings = TR_NRINGS;
    s->ring_recs = TR_RING_RECS;
    s->arena_size = TR_ARENA_BYTES;
    s->clock = detect_clock(&s->clock_invariant);
    atomic_store(&s->arena_top, 8); /* offset 0 means "no string" */
    atomic_store(&s->consumer_alive, 1);
    s->slow_ms = 100;
    s->mono0 = mono_ns();
    s->tsc0 = co__tr_now();
    tr_ring *rings = tr_rings(s);
    for (uint32_t i = 0; i < TR_NRINGS; i++) rings[i].index = i;
}

tr_shm *co__tr_create_shm(int *fd_out)
{
    size_t size = tr_shm_size();
    int fd = -1;
    void *p;
    if (fd_out) {
        fd = memfd_create("coscope-trace", 0); /* inherited by the traced child */
        if (fd < 0) return NULL;
        if (ftruncate(fd, (off_t)size) != 0) {
            close(fd);
            return NULL;
        }
        p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    } else {
        p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    }
    if (p == MAP_FAILED) {
        if (fd >= 0) close(fd);
        return NULL;
    }
    init_header(p);
    if (fd_out) *fd_out = fd;
    return p;
}

int co__tr_attach(tr_shm *shm)
{
    if (shm->magic != TR_MAGIC || shm->version != TR_VERSION) return -EINVAL;
    g_shm = shm;
    if (++co__tr_epoch == 0) co__tr_epoch = 1;
    co__tr_ring = NULL;
    atomic_thread_fence(memory_order_seq_cst);
    co__tracing = 1;
    return 0;
}

void co__tr_detach(void)
{
    co__tracing = 0;
    atomic_thread_fence(memory_order_seq_cst);
    g_shm = NULL;
    co__tr_ring = NULL;
}

int co__tr_slow_ms(void) { return g_shm ? g_shm->slow_ms : -1; }

/* A forked child must not write into its parent's single-producer rings. */
static void forked_child(void)
{
    co__tracing = 0;
    co__tr_ring = NULL;
    g_shm = NULL;
}

/* Under `coscope run`: attach before main() to the region the parent made. */
__attribute__((constructor)) static void attach_from_env(void)
{
    pthread_atfork(NULL, NULL, forked_child);
    const char *v = getenv("COSCOPE_TRACE_FD");
    if (!v || !*v) return;
    int fd = atoi(v);
    void *p = mmap(NULL, tr_shm_size(), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    unsetenv("COSCOPE_TRACE_FD"); /* not for grandchildren */
    if (p == MAP_FAILED) {
        co__logf("cannot map the trace region (fd %d); running untraced", fd);
        return;
    }
    tr_shm *shm = p;
    if (shm->magic != TR_MAGIC || shm->version != TR_VERSION) {
        co__logf("trace region has a different format version; running untraced");
        munmap(p, tr_shm_size());
        return;
    }
    /* The first process of the run to get here is traced; another (a shell
     * starting two programs) would share its rings and ids: refused. */
    int32_t expect = 0, me = (int32_t)getpid();
    if (!atomic_compare_exchange_strong(&shm->producer_pid, &expect, me) && expect != me) {
        atomic_fetch_add(&shm->refused_procs, 1);
        co__logf("process %d runs untraced: process %d of this `coscope run` is traced already "
                 "(one traced process per run)", (int)me, (int)expect);
        munmap(p, tr_shm_size());
        return;
    }
    co__tr_attach(shm);
}
