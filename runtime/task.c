/* SPDX-License-Identifier: MIT */
/* task.c -- task lifecycle: the slot table behind handles, spawn, end,
 * await/detach ownership, cancellation requests and introspection.
 *
 * Handles.  A co_task_t is (generation << 32 | slot + 1).  Task structs live
 * in chunks of CO__CHUNK that never move; a slot's generation is odd while a
 * task occupies it and even while free, and is bumped at both transitions,
 * so a handle to a freed task can never match again: stale use is -ESRCH.
 *
 * A task struct outlives its stack: the stack goes back to the pool the
 * moment the task ends; the struct (result, name, ...) stays until the owner
 * collects it with co_await/co_gather, or at once if detached.
 */
#include "internal.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/mman.h>

static _Atomic uint64_t next_task_block = 1;
static _Atomic uint64_t next_resource = 1;
/* CO__TLS_MODEL: initial-exec (internal.h). */
static __thread uint64_t id_next CO__TLS_MODEL;
static __thread uint64_t id_end CO__TLS_MODEL;

static uint64_t new_task_id(void)
{
    if (CO_UNLIKELY(id_next == id_end)) {
        id_next = atomic_fetch_add_explicit(&next_task_block, 1024, memory_order_relaxed);
        id_end = id_next + 1024;
    }
    return id_next++;
}

uint64_t co__next_resource_id(void)
{
    return atomic_fetch_add_explicit(&next_resource, 1, memory_order_relaxed);
}

static uint64_t intern_name(const char *name, bool literal);

uint64_t co__resource_new(co_loc *loc, co_wait_kind kind, const char *name)
{
    uint64_t id = co__next_resource_id();
    if (CO_UNLIKELY(co__tracing)) {
        if (name && name[0] == '&') name++;
        uint64_t name_id = name ? intern_name(name, true) : 0;
        co__task *self = co__self();
        co__tr_emit(TR_RES_NEW, loc, self ? self->id : 0, id, (uint64_t)kind | (name_id << 8));
    }
    return id;
}

/* Chunks are mapped, not malloc'd: page-aligned, so every task sits in
 * four whole cache lines, and zero until touched.  A freed loop's chunks
 * stay in the process for the next loop, as its stack slabs do (stack.c):
 * mapping them again would cost a fault per page, 64 pages a chunk.  A
 * cached chunk holds only free slots (even generations, no owned name); its
 * slots' other fields are whatever their last task left, as a slot reused
 * within a loop has them (spawn writes every field a task reads first). */
#define CO__CHUNK_CACHE_MAX 128 /* 32 MiB, 131k tasks */
static pthread_mutex_t chunk_cache_mu = PTHREAD_MUTEX_INITIALIZER;
static co__task *chunk_cache[CO__CHUNK_CACHE_MAX];
static size_t chunk_cache_n;

static co__task *chunk_new(void)
{
    co__task *c = NULL;
    pthread_mutex_lock(&chunk_cache_mu);
    if (chunk_cache_n > 0) c = chunk_cache[--chunk_cache_n];
    pthread_mutex_unlock(&chunk_cache_mu);
    if (c) return c;
    void *p = mmap(NULL, CO__CHUNK * sizeof(co__task), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void co__chunk_free(co__task *chunk)
{
    if (!chunk) return;
    /* A generation stays increasing across loops: the next loop's handles
     * never match one of this loop's. */
    for (uint32_t i = 0; i < CO__CHUNK; i++) {
        co__task *t = &chunk[i];
        if (t->gen & 1) {
            t->gen++;
            t->name_owned = 0; /* co_loop_free freed it */
        }
    }
    pthread_mutex_lock(&chunk_cache_mu);
    bool kept = chunk_cache_n < CO__CHUNK_CACHE_MAX;
    if (kept) chunk_cache[chunk_cache_n++] = chunk;
    pthread_mutex_unlock(&chunk_cache_mu);
    if (!kept) munmap(chunk, CO__CHUNK * sizeof(co__task));
}

static co__task *slot_alloc(co__loop *l)
{
    co__task *t = l->free_tasks;
    if (CO_LIKELY(t != NULL)) {
        l->free_tasks = t->next_ready;
        return t;
    }
    if (l->nslots % CO__CHUNK == 0) {
        uint32_t c = l->nslots / CO__CHUNK;
        /* Room in the ready ring for every task of the new chunk. */
        if (co__ready_reserve(l, (c + 1) * CO__CHUNK) != 0) return NULL;
        if (c == l->nchunks) {
            uint32_t n = l->nchunks ? l->nchunks * 2 : 16;
            co__task **chunks = realloc(l->chunks, n * sizeof *chunks);
            if (!chunks) return NULL;
            l->chunks = chunks;
            l->nchunks = n;
        }
        l->chunks[c] = chunk_new();
        if (!l->chunks[c]) return NULL;
    }
    uint32_t s = l->nslots++;
    t = &l->chunks[s / CO__CHUNK][s % CO__CHUNK];
    t->slot = s;
    return t;
}

static inline void task_free(co__loop *l, co__task *t)
{
    CO_ASSERT((t->gen & 1) && t->stack == NULL && t->watchers == NULL);
    if (CO_UNLIKELY(t->name_owned)) {
        free((char *)t->name);
        t->name_owned = 0;
    }
    t->gen++; /* even: free; the next spawn rewrites every field it needs */
    t->next_ready = l->free_tasks;
    l->free_tasks = t;
    l->live--;
}

void co__task_free(co__loop *l, co__task *t) { task_free(l, t); }

/* Interned names of spawn sites: co_spawn's names are string literals, so
 * their address identifies them for the life of the process.  Made at the
 * first traced spawn of a thread (co__thread_table: the runtime's
 * thread-locals stay a few words). */
struct name_slot {
    const char *name;
    uint64_t id;
    uint32_t epoch;
};
static __thread struct name_slot *name_cache CO__TLS_MODEL; /* 256 slots */

static uint64_t intern_name(const char *name, bool literal)
{
    struct name_slot *c = name_cache;
    if (CO_UNLIKELY(!c)) c = co__thread_table((void **)&name_cache, 256 * sizeof *c);
    if (!literal || !c) return co__tr_intern(name, strlen(name));
    struct name_slot *e = &c[((uintptr_t)name >> 3) & 255];
    if (e->name != name || e->epoch != co__tr_epoch) {
        e->name = name;
        e->id = co__tr_intern(name, strlen(name));
        e->epoch = co__tr_epoch;
    }
    return e->id;
}

static co_task_t spawn(co_loc *loc, const char *name, co_fn fn, void *arg, bool copy_name);

co_task_t co_spawn_at(co_loc *loc, const char *name, co_fn fn, void *arg)
{
    return spawn(loc, name, fn, arg, false);
}

/* co_spawn_named: the name may live in a buffer the caller reuses. */
co_task_t co_spawn_named_at(co_loc *loc, const char *name, co_fn fn, void *arg)
{
    return spawn(loc, name, fn, arg, true);
}

/* The flag bytes, written as one word at spawn. */
_Static_assert(offsetof(co__task, closing_cancelled) - offsetof(co__task, state) == 7,
               "the eight flag bytes are contiguous");

static co_task_t spawn(co_loc *loc, const char *name, co_fn fn, void *arg, bool copy_name)
{
    co_task_t none = { 0 };
    co__loop *l = co__tl_loop;
    if (CO_UNLIKELY(!l || !fn)) return none;
    co__task *t = slot_alloc(l);
    if (CO_UNLIKELY(!t)) return none;
    co__stack *s = co__stack_get(&l->pool);
    if (CO_UNLIKELY(!s)) {
        t->next_ready = l->free_tasks;
        l->free_tasks = t;
        return none;
    }
    co__task *parent = l->current;
    /* Every field a task may read before writing it, set here; the others
     * are marked "valid only while/once ..." and written before use (a
     * whole-struct assignment costs a 256-byte clear per spawn).  Left as the
     * slot's previous task had them: next_ready (co__ready sets it),
     * wait_obj_id, wake_value, wq_next/wq_prev, timer_at, timer_result,
     * result, group_next/group_prev, asan_fake. */
    /* state = READY and the other flag bytes zero, as one 8-byte store: a
     * later load of several flags at once (co_await's checks) forwards
     * from it, where a byte store on top of a wider one would stall it. */
    uint8_t flags[8] = { CO_TASK_READY };
    memcpy(&t->state, flags, sizeof flags);
    t->loop = l;
    t->wake_result = 0;
    t->heap_idx = CO__NOHEAP;
    t->wait_obj = NULL;
    t->wait_loc = NULL;
    t->wq = NULL;
    t->deadline = CO__NODEADLINE;
    t->id = new_task_id();
    t->gen++; /* odd: live */
    t->wait_cancel = NULL;
    t->fn = fn;
    t->arg = arg;
    t->stack = s;
    t->watchers = NULL;
    t->scope = NULL;
    t->cancel_count = 0;
    t->locks_held = 0;
    t->last_lock = NULL;
    t->await_t0 = 0;
    t->name = name ? name : "task";
    t->spawn_loc = loc;
    t->parent_id = parent ? parent->id : 0;
    t->parent = parent ? co__handle(parent) : none;
    t->group = NULL;
    t->asleep_told = 0;
    if (copy_name && name) {
        char *copy = strdup(name);
        if (copy) {
            t->name = copy;
            t->name_owned = 1;
        }
    }
    t->sp = co__ctx_init(s->lo, s->hi, t);
    l->live++;
    if (CO_UNLIKELY(co__tracing)) {
        uint64_t name_id = intern_name(t->name, !t->name_owned);
        co__tr_emit(TR_SPAWN, loc, t->id, t->parent_id, name_id);
    }
    co__ready_link(l, t);
    return co__handle(t);
}

void co__main_ended(co__loop *l);
void co__group_child_ended(co__task *t);

static void wake_awaiter(co__watch *w, co__task *ended);

static inline void task_end(co__loop *l, co__task *t, int result)
{
    t->result = result;
    t->state = result >= 0 ? CO_TASK_DONE : result == -ECANCELED ? CO_TASK_CANCELLED : CO_TASK_FAILED;
    CO_TRACE(TR_END, NULL, t->id, 0, (uint64_t)(int64_t)result);
    while (t->watchers) {
        co__watch *w = t->watchers;
        t->watchers = w->next;
        if (t->watchers) t->watchers->prev = NULL;
        w->next = w->prev = NULL;
        if (CO_LIKELY(w->fn == wake_awaiter))
            co__wake(w->waiter, 0); /* co_await's watcher, called directly */
        else
            w->fn(w, t);
    }
    /* A group's child is detached as it ends, but its error is not lost:
     * co_group_wait hands it to the owner (the first one, which stands for
     * the group's failure).  Only a task nobody owns fails unseen. */
    bool unowned = t->detached;
    if (CO_UNLIKELY(t->group != NULL)) co__group_child_ended(t);
    if (CO_UNLIKELY(t == l->main)) co__main_ended(l);
    if (CO_UNLIKELY(unowned) && t->state == CO_TASK_FAILED) co__warn_detached_failed(t);
    if (CO_UNLIKELY(unowned) && t->state == CO_TASK_FAILED && l->debug)
        co__logf("detached task '%s' (#%llu, spawned at %s:%d) failed: %s", t->name,
                (unsigned long long)t->id, t->spawn_loc ? t->spawn_loc->file : "?",
                t->spawn_loc ? t->spawn_loc->line : 0, co_strerror(result));
}

/* A task's whole life on its own stack: entered by the first switch into it
 * (through co__trampoline), never returns.  An ended task cannot release its
 * own stack while it runs on it: it leaves itself in loop->dead for whoever
 * runs next (co__post_switch) and switches away for good. */
_Noreturn void co__task_main(void *arg)
{
    co__task *t = arg;
    co__loop *l = t->loop;
    co__post_switch(l, NULL);
    t->started = 1;
    CO_TRACE(TR_START, NULL, t->id, 0, 0);
    if (CO__STEP_HOOKS(l)) co__step_begin(l, t, NULL); /* debug.c: the first step starts */
    int r;
    if (CO_UNLIKELY(t->cancel_pending)) {
        t->cancel_pending = CO__CANCEL_NONE;
        r = -ECANCELED;
    } else {
        r = t->fn(t->arg);
        /* A cancellation requested after the last await (or by the task
         * itself) would otherwise vanish: the requester was told it was made.
         * asyncio ends such a task cancelled (test_cancel_at_end); an error
         * the task returns is kept, as asyncio keeps a raised exception.
         * One that came after a hand-off is not delivered: the task took
         * what it was handed and its result says what it did with it
         * (await.c: cancellation after a wake). */
        if (CO_UNLIKELY(t->cancel_pending == CO__CANCEL_ASKED) && r >= 0) r = -ECANCELED;
        t->cancel_pending = CO__CANCEL_NONE;
    }
    task_end(l, t, r);
    if (CO__STEP_HOOKS(l)) co__step_end(l, t, NULL); /* the last step ends */
    l->dead = t;
    co__stack_check(l, t);
    co__task *next = l->budget > 0 ? co__pop_ready(l) : NULL;
    if (next) {
        l->budget--;
        next->state = CO_TASK_RUNNING;
        co__prefetch_ready(l);
    }
#ifdef CO_ASAN
    co__transfer(l, t, next); /* tells ASan this fiber is gone */
    co__assert_fail("an ended task was resumed", __FILE__, __LINE__, __func__);
#else
    l->current = next;
    co__switch_final(next ? next->sp : l->sched_sp);
#endif
}

/* ------------------------------------------------------------------------ */
/* Watchers                                                                  */

static inline void watch_add(co__task *t, co__watch *w)
{
    w->prev = NULL;
    w->next = t->watchers;
    if (t->watchers) t->watchers->prev = w;
    t->watchers = w;
}

void co__watch_add(co__task *t, co__watch *w) { watch_add(t, w); }

void co__watch_remove(co__task *t, co__watch *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else if (t->watchers == w)
        t->watchers = w->next;
    else
        return; /* not linked */
    if (w->next) w->next->prev = w->prev;
    w->next = w->prev = NULL;
}

static void wake_awaiter(co__watch *w, co__task *ended)
{
    (void)ended;
    co__wake(w->waiter, 0);
}

static void unwatch_single(co__task *waiter)
{
    co__watch *w = waiter->wake_value;
    co__watch_remove((co__task *)waiter->wait_obj, w);
}

int co_await_at(co_loc *loc, co_task_t h)
{
    co__task *self = co__self();
    if (CO_UNLIKELY(!self)) return -EPERM;
    co__loop *l = self->loop;
    co__task *t = co__task_lookup(l, h);
    if (CO_UNLIKELY(!t)) return -ESRCH;
    if (CO_UNLIKELY(t == self)) return -EDEADLK;
    if (CO_UNLIKELY(t->detached || t->awaited || t->group)) return -EINVAL;
    if (!co__task_ended(t)) {
        /* Only a waiting target can be part of a cycle through us. */
        if (t->state == CO_TASK_WAITING && co__would_deadlock(self, t)) {
            co__logf("deadlock: task '%s' (#%llu) at %s:%d awaits '%s' (#%llu), which waits "
                     "(directly or not) for it", self->name, (unsigned long long)self->id,
                     loc ? loc->file : "?", loc ? loc->line : 0, t->name, (unsigned long long)t->id);
            co__warn_cycle(self, t->id, CO_WAIT_TASK, t, loc);
            return -EDEADLK;
        }
        co__watch w; /* index and data: unused by wake_awaiter */
        w.fn = wake_awaiter;
        w.waiter = self;
        watch_add(t, &w);
        t->awaited = 1;
        self->wake_value = &w;
        self->wait_cancel = unwatch_single;
        int r = co__suspend(self, CO_WAIT_TASK, t, t->id, loc, NULL);
        self->wait_cancel = NULL;
        if (CO_UNLIKELY(r < 0) && !co__task_ended(t)) {
            co__watch_remove(t, &w); /* interrupted before suspending */
            t->awaited = 0;
            return r;
        }
        /* Cancelled, but t ended before we ran again: its result is
         * returned (t is consumed), so the cancellation is kept like one
         * after a hand-off, for our next await. */
        if (CO_UNLIKELY(r == -ECANCELED)) co__cancel_keep(self, t->result);
    }
    int result = t->result;
    task_free(l, t);
    return result;
}

int co_detach(co_task_t h)
{
    co__loop *l = co__tl_loop;
    co__task *t = co__task_lookup(l, h);
    if (!t) return -ESRCH;
    if (t->detached || t->awaited || t->group) return -EINVAL;
    t->detached = 1;
    CO_TRACE(TR_DETACH, NULL, l->current ? l->current->id : 0, t->id, 0);
    if (co__task_ended(t) && t->state == CO_TASK_FAILED) co__warn_detached_failed(t);
    if (co__task_ended(t) && t->stack == NULL) co__task_free(l, t);
    return 0;
}

int co_cancel(co_task_t h)
{
    co__loop *l = co__tl_loop;
    co__task *t = co__task_lookup(l, h);
    if (!t) return -ESRCH;
    if (co__task_ended(t)) return 0;
    t->cancel_count++;
    if (t->state == CO_TASK_WAITING && t->wait_kind != CO_WAIT_YIELD) {
        CO_TRACE(TR_CANCEL, NULL, l->current ? l->current->id : 0, t->id, TR_CANCEL_INTERRUPTS);
        co__interrupt(t, -ECANCELED);
    } else if (t->state == CO_TASK_READY && co__wait_hands_off(t->wait_kind) && t->wake_result >= 0) {
        /* Woken with something in hand, not yet run (await.c): kept for
         * its next await.  A second request changes nothing. */
        CO_TRACE(TR_CANCEL, NULL, l->current ? l->current->id : 0, t->id,
                 TR_CANCEL_AFTER_HANDOFF | (uint64_t)t->wait_kind << 8);
        if (t->cancel_pending == CO__CANCEL_NONE) t->cancel_pending = CO__CANCEL_AFTER_HANDOFF;
    } else {
        /* Not started, after a wake that handed nothing, or running (it
         * cancels itself): delivered at its start or next await, or ends
         * it cancelled at its return. */
        CO_TRACE(TR_CANCEL, NULL, l->current ? l->current->id : 0, t->id, TR_CANCEL_PENDING);
        t->cancel_pending = CO__CANCEL_ASKED;
    }
    return 1;
}

/* ------------------------------------------------------------------------ */
/* Introspection                                                             */

co_task_t co_current(void)
{
    co__task *t = co__self();
    co_task_t none = { 0 };
    return t ? co__handle(t) : none;
}

int co_cancelling(void)
{
    co__task *t = co__self();
    return t ? (int)t->cancel_count : 0;
}

size_t co_all_tasks(co_task_t *out, size_t cap)
{
    co__loop *l = co__tl_loop;
    size_t n = 0;
    if (!l) return 0;
    for (uint32_t s = 0; s < l->nslots; s++) {
        co__task *t = &l->chunks[s / CO__CHUNK][s % CO__CHUNK];
        if (!(t->gen & 1)) continue;
        if (n < cap) out[n] = co__handle(t);
        n++;
    }
    return n;
}

static co__task *find(co_task_t h) { return co__task_lookup(co__tl_loop, h); }

const char *co_task_name(co_task_t h)
{
    co__task *t = find(h);
    return t ? t->name : NULL;
}

uint64_t co_task_id(co_task_t h)
{
    co__task *t = find(h);
    return t ? t->id : 0;
}

co_task_t co_task_parent(co_task_t h)
{
    co__task *t = find(h);
    co_task_t none = { 0 };
    if (!t || !find(t->parent)) return none;
    return t->parent;
}

int co_task_state_of(co_task_t h)
{
    co__task *t = find(h);
    return t ? t->state : -ESRCH;
}

int co_task_done(co_task_t h)
{
    co__task *t = find(h);
    return t ? co__task_ended(t) : -ESRCH;
}

const co_loc *co_task_spawn_loc(co_task_t h)
{
    co__task *t = find(h);
    return t ? t->spawn_loc : NULL;
}

const char *co_task_state_name(int s)
{
    static const char *names[] = { "ready", "running", "waiting", "done", "failed", "cancelled" };
    return s >= 0 && s <= CO_TASK_CANCELLED ? names[s] : "?";
}

const char *co_wait_kind_name(int k)
{
    return k >= 0 && k < CO_WAIT_KIND_COUNT ? co__wait_name((unsigned)k) : "?";
}
