/* SPDX-License-Identifier: MIT */
/* stack.c -- task stacks: mmap'd slabs, guard pages, a per-loop pool, and
 * the SIGSEGV handler that turns a guard-page hit into a report naming the
 * task.
 *
 * Guard pages and vm.max_map_count.  A guard made with mprotect splits the
 * mapping, so every guarded stack costs two VMAs, and the default limit of
 * 65530 VMAs caps a process at about 32,700 such stacks.  We carve stacks out
 * of large slabs and guard them, in order of preference, with:
 *   1. MADV_GUARD_INSTALL (Linux >= 6.13): guard regions that cost no VMA, so
 *      every stack is guarded whatever the count.  A slab's guards go in with
 *      one process_madvise(2) call (an iovec of all its guard ranges) where
 *      the kernel accepts it, else one madvise per stack;
 *   2. mprotect, while a budget of a quarter of max_map_count lasts;
 *   3. beyond that, a canary word at the low end of the stack, checked each
 *      time the task switches out and by the SIGSEGV handler.  Those stacks
 *      are flagged; the pool still lays slabs out so an overflow runs into a
 *      neighbour's *unused low end* first.
 * The mode is chosen at the first slab and only degrades after that.
 * $CO_STACK_GUARD=mprotect|canary forces a fallback (the tests use it).
 *
 * Memory: slabs are reserved with MAP_NORESERVE; only touched pages cost.  A
 * task that never goes deep touches one page.  Free stacks stay resident in
 * LIFO order for reuse; co__stackpool_trim() returns the pages of all but
 * CO__HOT_STACKS of them to the kernel before the loop blocks.
 *
 * Slabs outlive their loop.  Mapping a slab and installing its guards costs
 * about a microsecond per stack, and faulting in a fresh page several, far
 * more than a task's whole run, so a freed loop's MADV_GUARD_INSTALL slabs
 * go to a process-wide cache and the next loop's pool takes them before
 * mapping new ones.  Each cached stack keeps its top page, the one every
 * task touches, resident and its page table entry unchanged; the pages below
 * go back to the kernel (guard regions survive MADV_DONTNEED).  Handing the
 * top pages back too, even with MADV_FREE, which leaves them in place, costs
 * the next loop a fault on each: under a hypervisor that shadows the page
 * tables, any change to an entry does, 15 us and more a page.  What stays
 * resident is one page per cached stack, no more than the freed loop held,
 * and the next loop that takes the slab gives it back at its first idle
 * moment (co__stackpool_trim) if it does not use it.  Bounded by
 * CO__SLAB_CACHE_MAX.
 */
#include "internal.h"
#include <pthread.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#if defined(__has_include)
#  if __has_include(<valgrind/valgrind.h>)
#    include <valgrind/valgrind.h>
#    define CO_HAVE_VALGRIND 1
#  endif
#endif

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

#define CO__HOT_STACKS 64
#define CO__SLAB_BYTES (4u << 20)
#define CO__SLAB_CACHE_MAX 2048 /* 8 GiB of address space, about 150k stacks of 64 KiB */

struct co__slab {
    struct co__slab *next;
    char *base;
    size_t len;
    size_t n;
    size_t stride;  /* usable + guard of its stacks */
    bool cacheable; /* every stack guarded by MADV_GUARD_INSTALL */
    co__stack stacks[];
};

/* The process-wide cache of slabs whose loops were freed (see the top). */
static pthread_mutex_t slab_cache_mu = PTHREAD_MUTEX_INITIALIZER;
static struct co__slab *slab_cache;
static size_t slab_cache_n;

static struct co__slab *slab_cache_take(size_t stride)
{
    pthread_mutex_lock(&slab_cache_mu);
    struct co__slab **pp = &slab_cache, *s;
    while ((s = *pp) && s->stride != stride) pp = &s->next;
    if (s) {
        *pp = s->next;
        slab_cache_n--;
    }
    pthread_mutex_unlock(&slab_cache_mu);
    return s;
}

/* Keep s for the next loop; false if the cache is full. */
static bool slab_cache_put(struct co__slab *s)
{
    pthread_mutex_lock(&slab_cache_mu);
    bool room = slab_cache_n < CO__SLAB_CACHE_MAX;
    if (room) {
        s->next = slab_cache;
        slab_cache = s;
        slab_cache_n++;
    }
    pthread_mutex_unlock(&slab_cache_mu);
    return room;
}

static size_t page_size(void)
{
    static size_t ps;
    if (!ps) ps = (size_t)sysconf(_SC_PAGESIZE);
    return ps;
}

static size_t max_map_count(void)
{
    size_t v = 65530;
    FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
    if (f) {
        unsigned long x;
        if (fscanf(f, "%lu", &x) == 1) v = x;
        fclose(f);
    }
    return v;
}

int co__stackpool_init(co__stackpool *p, size_t stack_size)
{
    size_t ps = page_size();
    memset(p, 0, sizeof *p);
    if (stack_size == 0) {
        const char *env = getenv("CO_STACK_SIZE");
        stack_size = env ? (size_t)strtoull(env, NULL, 0) : 0;
        if (stack_size == 0) stack_size = 64 * 1024;
#if defined(__SANITIZE_ADDRESS__)
        stack_size *= 4; /* ASan's redzones make frames several times larger */
#endif
    }
    if (stack_size < 4 * ps) stack_size = 4 * ps;
    p->usable = (stack_size + ps - 1) & ~(ps - 1);
    p->guard = ps;
    p->guard_mode = CO__GUARD_MADVISE;
    p->guarded_budget = max_map_count() / 4;
    /* Tests force the fallbacks: CO_STACK_GUARD=mprotect or canary. */
    const char *mode = getenv("CO_STACK_GUARD");
    if (mode && strcmp(mode, "mprotect") == 0) p->guard_mode = CO__GUARD_MPROTECT;
    if (mode && strcmp(mode, "canary") == 0) p->guard_mode = CO__GUARD_CANARY;
    return 0;
}

/* Apply `advice` to the ranges iov[0..n) with process_madvise(2): one
 * system call for many ranges, where madvise takes one per range.  Returns
 * how many leading ranges were advised (0 if the kernel cannot do it); the
 * caller advises the rest one by one.  The target is our own process:
 * PIDFD_SELF where the kernel knows it (6.15+), else a pidfd opened for the
 * call (never cached: a forked child must not advise its parent). */
#define CO__PIDFD_SELF_PROCESS (-10001)
#define CO__ADVISE_BATCH 64
static _Atomic int pidfd_state; /* 0 untried, 1 PIDFD_SELF works, 2 pidfd_open needed, -1 no process_madvise */

static size_t advise_ranges(struct iovec *iov, size_t n, int advice)
{
#if defined(SYS_process_madvise) && defined(SYS_pidfd_open)
    int state = atomic_load_explicit(&pidfd_state, memory_order_relaxed);
    if (state < 0 || n == 0) return 0;
    int fd = CO__PIDFD_SELF_PROCESS, opened = -1;
    if (state == 2) {
        fd = opened = (int)syscall(SYS_pidfd_open, getpid(), 0);
        if (fd < 0) return 0;
    }
    size_t done = 0;
    while (done < n) {
        long r = syscall(SYS_process_madvise, fd, iov + done, n - done, advice, 0);
        if (r < 0 && errno == EBADF && state == 0 && opened < 0) {
            /* No PIDFD_SELF: use a pidfd of our own from now on. */
            fd = opened = (int)syscall(SYS_pidfd_open, getpid(), 0);
            if (fd < 0) break;
            state = 2;
            atomic_store_explicit(&pidfd_state, 2, memory_order_relaxed);
            continue;
        }
        if (r < 0) {
            /* ENOSYS, EPERM: no process_madvise here, do not try again;
             * EINVAL: not this advice (the per-range path will tell). */
            if ((errno == ENOSYS || errno == EPERM) && state == 0)
                atomic_store_explicit(&pidfd_state, -1, memory_order_relaxed);
            break;
        }
        if (state == 0) {
            state = 1;
            atomic_store_explicit(&pidfd_state, 1, memory_order_relaxed);
        }
        /* The kernel stops at the first range that fails. */
        size_t bytes = (size_t)r, got = 0;
        while (done + got < n && bytes >= iov[done + got].iov_len) bytes -= iov[done + got++].iov_len;
        if (got == 0) break;
        done += got;
    }
    if (opened >= 0) close(opened);
    return done;
#else
    (void)iov, (void)n, (void)advice;
    return 0;
#endif
}

/* Install the guards of a slab's n stacks in batches; returns how many
 * leading stacks got theirs (slab_new guards the rest one by one, and picks
 * the fallback mode if that fails too). */
static size_t guard_batch(char *base, size_t stride, size_t guard, size_t n)
{
    size_t done = 0;
    while (done < n) {
        struct iovec iov[CO__ADVISE_BATCH];
        size_t k = 0;
        for (; k < CO__ADVISE_BATCH && done + k < n; k++) {
            iov[k].iov_base = base + (done + k) * stride;
            iov[k].iov_len = guard;
        }
        size_t got = advise_ranges(iov, k, MADV_GUARD_INSTALL);
        done += got;
        if (got < k) break;
    }
    return done;
}

/* A freed loop's slab, for the cache: every stack's pages but its top one
 * back to the kernel, a batch of ranges per call.  False if the kernel
 * refused (the slab is then unmapped, not cached). */
static bool give_back_below_tops(struct co__slab *s, size_t ps)
{
    for (size_t i = 0; i < s->n;) {
        struct iovec iov[CO__ADVISE_BATCH];
        size_t k = 0;
        for (; k < CO__ADVISE_BATCH && i + k < s->n; k++) {
            co__stack *st = &s->stacks[i + k];
            iov[k].iov_base = st->lo;
            iov[k].iov_len = (size_t)(st->hi - st->lo) - ps;
        }
        for (size_t j = advise_ranges(iov, k, MADV_DONTNEED); j < k; j++)
            if (madvise(iov[j].iov_base, iov[j].iov_len, MADV_DONTNEED) != 0) return false;
        i += k;
    }
    return true;
}

/* A freed loop's slab: its stacks, guards and Valgrind ids are as they were. */
static bool slab_reuse(co__stackpool *p)
{
    if (p->guard_mode != CO__GUARD_MADVISE) return false;
    struct co__slab *s = slab_cache_take(p->usable + p->guard);
    if (!s) return false;
    for (size_t i = 0; i < s->n; i++) {
        co__stack *st = &s->stacks[i];
        CO_ASSERT(st->canary == NULL && st->hi - st->lo == (ptrdiff_t)p->usable);
        st->next_free = p->free;
        p->free = st;
        p->nfree++;
    }
    p->ncold = 0; /* their top pages are resident: the first trim gives them back */
    s->next = p->slabs;
    p->slabs = s;
    return true;
}

static int slab_new(co__stackpool *p)
{
    if (slab_reuse(p)) return 0;
    size_t stride = p->usable + p->guard;
    size_t n = CO__SLAB_BYTES / stride;
    if (n < 1) n = 1;
    size_t len = n * stride;
    char *base = mmap(NULL, len, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) return -ENOMEM;
    struct co__slab *s = malloc(sizeof *s + n * sizeof(co__stack));
    if (!s) {
        munmap(base, len);
        return -ENOMEM;
    }
    s->base = base;
    s->len = len;
    s->n = n;
    s->stride = stride;
    s->cacheable = p->guard_mode == CO__GUARD_MADVISE;
    size_t batched = p->guard_mode == CO__GUARD_MADVISE ? guard_batch(base, stride, p->guard, n) : 0;
    for (size_t i = 0; i < n; i++) {
        char *g = base + i * stride;
        co__stack *st = &s->stacks[i];
        st->lo = g + p->guard;
        st->hi = st->lo + p->usable;
        st->canary = NULL;
        st->vg_id = 0;
        if (p->guard_mode == CO__GUARD_MADVISE && i >= batched && madvise(g, p->guard, MADV_GUARD_INSTALL) != 0) {
            p->guard_mode = CO__GUARD_MPROTECT;
            s->cacheable = false;
        }
        if (p->guard_mode == CO__GUARD_MPROTECT) {
            if (p->guarded_budget > 0 && mprotect(g, p->guard, PROT_NONE) == 0)
                p->guarded_budget--;
            else
                p->guard_mode = CO__GUARD_CANARY;
        }
        if (p->guard_mode == CO__GUARD_CANARY) {
            st->canary = (uint64_t *)st->lo;
            *st->canary = CO__CANARY;
        }
#ifdef CO_HAVE_VALGRIND
        st->vg_id = VALGRIND_STACK_REGISTER(st->lo, st->hi);
#endif
        st->next_free = p->free;
        p->free = st;
        p->nfree++;
    }
    /* Only called with the pool empty: the new stacks are the whole free
     * list, none of them touched yet. */
    p->ncold = p->nfree;
    s->next = p->slabs;
    p->slabs = s;
    return 0;
}

co__stack *co__stack_get_slow(co__stackpool *p)
{
    if (slab_new(p) != 0) return NULL;
    return co__stack_get(p);
}

void co__stackpool_trim(co__stackpool *p)
{
    size_t hot = p->nfree - p->ncold;
    if (hot <= CO__HOT_STACKS) return;
    /* The first `hot` stacks of the LIFO are the resident ones: give back
     * those after the first CO__HOT_STACKS, a batch of ranges per call. */
    size_t i = 0;
    co__stack *s = p->free;
    for (; s && i < CO__HOT_STACKS; s = s->next_free) i++;
    while (s && i < hot) {
        struct iovec iov[CO__ADVISE_BATCH];
        co__stack *batch = s;
        size_t k = 0;
        for (; s && i < hot && k < CO__ADVISE_BATCH; s = s->next_free, i++, k++) {
            iov[k].iov_base = s->lo;
            iov[k].iov_len = (size_t)(s->hi - s->lo);
        }
        size_t done = advise_ranges(iov, k, MADV_DONTNEED);
        for (size_t j = 0; j < k; j++, batch = batch->next_free) {
            if (j >= done) madvise(iov[j].iov_base, iov[j].iov_len, MADV_DONTNEED);
            if (batch->canary) *batch->canary = CO__CANARY;
        }
    }
    p->ncold = p->nfree - CO__HOT_STACKS;
}

void co__stackpool_destroy(co__stackpool *p)
{
    struct co__slab *s = p->slabs;
    while (s) {
        struct co__slab *next = s->next;
        /* To the cache, its pages the kernel's to take (see the top). */
        if (s->cacheable && give_back_below_tops(s, page_size()) && slab_cache_put(s)) {
            s = next;
            continue;
        }
#ifdef CO_HAVE_VALGRIND
        for (size_t i = 0; i < s->n; i++)
            if (s->stacks[i].vg_id) VALGRIND_STACK_DEREGISTER(s->stacks[i].vg_id);
#endif
        munmap(s->base, s->len);
        free(s);
        s = next;
    }
    memset(p, 0, sizeof *p);
}

/* ------------------------------------------------------------------------ */
/* Overflow reports.  Only async-signal-safe calls below. */

static struct sigaction prev_segv, prev_bus, prev_fpe, prev_ill, prev_abrt;

static void put_str(char *buf, size_t *n, size_t cap, const char *s)
{
    while (*s && *n + 1 < cap) buf[(*n)++] = *s++;
}

static void put_num(char *buf, size_t *n, size_t cap, unsigned long long v)
{
    char tmp[24];
    int k = 0;
    do { tmp[k++] = (char)('0' + v % 10); v /= 10; } while (v && k < 24);
    while (k > 0 && *n + 1 < cap) buf[(*n)++] = tmp[--k];
}

static void on_fault(int sig, siginfo_t *si, void *uctx)
{
    co__loop *l = co__tl_loop;
    co__task *t = l ? l->current : NULL;
    if (t && t->stack) {
        char *addr = si->si_addr;
        char *glo = t->stack->lo - l->pool.guard;
        bool in_guard = addr >= glo && addr < t->stack->lo;
        bool canary_smashed = t->stack->canary && *t->stack->canary != CO__CANARY;
        if (in_guard || canary_smashed) {
            char buf[512];
            size_t n = 0;
            put_str(buf, &n, sizeof buf, "coscope: stack overflow in task '");
            put_str(buf, &n, sizeof buf, t->name ? t->name : "?");
            put_str(buf, &n, sizeof buf, "' (#");
            put_num(buf, &n, sizeof buf, t->id);
            put_str(buf, &n, sizeof buf, ", spawned at ");
            put_str(buf, &n, sizeof buf, t->spawn_loc ? t->spawn_loc->file : "?");
            put_str(buf, &n, sizeof buf, ":");
            put_num(buf, &n, sizeof buf, t->spawn_loc ? (unsigned long long)t->spawn_loc->line : 0);
            put_str(buf, &n, sizeof buf, "): its ");
            put_num(buf, &n, sizeof buf, (unsigned long long)(t->stack->hi - t->stack->lo) / 1024);
            put_str(buf, &n, sizeof buf, " KiB stack is exhausted; raise co_loop_opts.stack_size or CO_STACK_SIZE\n");
            ssize_t w = write(2, buf, n);
            (void)w;
            co__crash_record(sig, si, uctx, t, 1);
            /* Fall through to the default action so the process dies with
             * SIGSEGV and a core, as any overflow would. */
            signal(sig, SIG_DFL);
            return;
        }
    }
    /* Any other crash: into the trace too, then as it would have gone. */
    co__crash_record(sig, si, uctx, t, 0);
    struct sigaction *prev = sig == SIGBUS ? &prev_bus : sig == SIGFPE ? &prev_fpe : sig == SIGILL ? &prev_ill
                           : sig == SIGABRT ? &prev_abrt : &prev_segv;
    if (prev->sa_flags & SA_SIGINFO) {
        if (prev->sa_sigaction) {
            prev->sa_sigaction(sig, si, uctx);
            return;
        }
    } else if (prev->sa_handler != SIG_DFL && prev->sa_handler != SIG_IGN) {
        prev->sa_handler(sig);
        return;
    }
    signal(sig, SIG_DFL);
    /* A fault comes back when the instruction runs again; a SIGABRT does
     * not (abort() raises it again itself, kill -ABRT would not): pending
     * now, it kills the process as the handler returns. */
    if (sig == SIGABRT) raise(sig);
}

static pthread_once_t handler_once = PTHREAD_ONCE_INIT;

static void install_once(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &prev_segv);
    sigaction(SIGBUS, &sa, &prev_bus);
    sigaction(SIGFPE, &sa, &prev_fpe);
    sigaction(SIGILL, &sa, &prev_ill);
    /* abort(): a failed assert, glibc's heap checks, a library giving up. */
    sigaction(SIGABRT, &sa, &prev_abrt);
}

void co__overflow_handler_install(void)
{
    static __thread void *altstack;
    pthread_once(&handler_once, install_once);
    if (!altstack) {
        stack_t cur;
        /* Keep an alternate stack someone else (ASan) already set up. */
        if (sigaltstack(NULL, &cur) == 0 && !(cur.ss_flags & SS_DISABLE)) {
            altstack = cur.ss_sp;
            return;
        }
        size_t sz = 64 * 1024;
        altstack = malloc(sz);
        if (!altstack) return;
        stack_t ss = { .ss_sp = altstack, .ss_size = sz, .ss_flags = 0 };
        sigaltstack(&ss, NULL);
    }
}
