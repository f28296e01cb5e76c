/* SPDX-License-Identifier: MIT */
/* dump.c -- human-readable reports: co_dump (and the SIGQUIT dump, the
 * same), the deadlock and all-asleep reports, and the leftovers printed when
 * a loop closes.
 *
 * Every report names a task the same way: 'NAME' (#ID, spawned at
 * FILE:LINE).  co_dump shows each task's call stack; so do the all-asleep
 * and pending-at-close reports in debug mode (those always print, as asyncio
 * always reports pending tasks and unretrieved errors; debug mode adds where
 * each task is stuck).  Stacks are walked first and symbolized in one batch
 * (stackwalk.c, symbols.c), so a dump reads each object's debug information
 * once, not per frame.
 */
#include "internal.h"
#include "story.h"

#define DUMP_FRAMES 32

int co__debug_from_env(void)
{
    const char *v = getenv("CO_DEBUG");
    return v && *v && strcmp(v, "0") != 0;
}

static const char *loc_file(const co_loc *l) { return l && l->file ? l->file : "?"; }
static int loc_line(const co_loc *l) { return l ? l->line : 0; }

/* An object's name as shown: co_X_init(&x) names it "&x"; show "x". */
static const char *shown(const char *name) { return name && name[0] == '&' ? name + 1 : name; }

/* " 'name' #id", or " #id" for an unnamed object. */
static void print_obj(FILE *out, const char *name, uint64_t id)
{
    name = shown(name);
    if (name) fprintf(out, " '%s'", name);
    fprintf(out, " #%llu", (unsigned long long)id);
}

/* One line on what t waits for, e.g. "lock 'db' #3 held by 'worker' (#7)". */
static void describe_wait(FILE *out, co__task *t)
{
    fprintf(out, "%s", co_wait_kind_name(t->wait_kind));
    switch (t->wait_kind) {
    case CO_WAIT_TASK: {
        co__task *x = t->wait_obj;
        fprintf(out, " '%s' (#%llu)", x->name, (unsigned long long)x->id);
        break;
    }
    case CO_WAIT_LOCK: {
        co_lock_t *l = t->wait_obj;
        co__task *o = co__lock_owner(l);
        print_obj(out, l->name, l->id);
        if (o) fprintf(out, " held by '%s' (#%llu)", o->name, (unsigned long long)o->id);
        break;
    }
    case CO_WAIT_SEM: {
        co_sem_t *s = t->wait_obj;
        co__task *o = co__sem_last_taker(s);
        print_obj(out, s->name, s->id);
        fprintf(out, " (value %lld)", (long long)s->value);
        if (o)
            fprintf(out, ", last taken by '%s' (#%llu)", o->name, (unsigned long long)o->id);
        else if (s->last_taker_id)
            fprintf(out, ", last taken by #%llu (freed)", (unsigned long long)s->last_taker_id);
        break;
    }
    case CO_WAIT_SLEEP:
    case CO_WAIT_YIELD:
    case CO_WAIT_NONE:
    case CO_WAIT_TASKS:
    case CO_WAIT_GROUP:
        break;
    case CO_WAIT_EVENT: print_obj(out, ((co_event_t *)t->wait_obj)->name, t->wait_obj_id); break;
    case CO_WAIT_COND: print_obj(out, ((co_cond_t *)t->wait_obj)->name, t->wait_obj_id); break;
    case CO_WAIT_QUEUE_GET:
    case CO_WAIT_QUEUE_PUT:
    case CO_WAIT_QUEUE_JOIN: print_obj(out, ((co_queue_t *)t->wait_obj)->name, t->wait_obj_id); break;
    default:
        if (t->wait_obj_id) fprintf(out, " #%llu", (unsigned long long)t->wait_obj_id);
        break;
    }
    if (t->wait_loc) fprintf(out, " at %s:%d", loc_file(t->wait_loc), loc_line(t->wait_loc));
}

#define FOR_EACH_TASK(l, t)                                                 \
    for (uint32_t s_ = 0; s_ < (l)->nslots; s_++)                           \
        for (co__task *t = &(l)->chunks[s_ / CO__CHUNK][s_ % CO__CHUNK]; t; t = NULL) \
            if (t->gen & 1)

/* ------------------------------------------------------------------------ */
/* Stacks of many tasks, symbolized together                                 */

typedef struct {
    co__loop *l;
    uintptr_t *pcs;      /* every task's frames, back to back */
    size_t npcs, cap;
    uint32_t *off, *cnt; /* by slot: where its frames are, how many */
    co__syms *syms;
    uint64_t now;        /* when the report began (before the walks and symbolization) */
} stacks;

typedef bool (*task_filter)(const co__task *t);

/* Walk the stacks of the tasks `want` selects (NULL: all).  The running
 * task, if any, is walked from self_fp (0: not at all).  On failure (memory)
 * the reports go on without stacks. */
static void stacks_collect(stacks *st, co__loop *l, uintptr_t self_fp, task_filter want)
{
    memset(st, 0, sizeof *st);
    st->l = l;
    st->now = co__mono_ns();
    st->off = calloc(l->nslots ? l->nslots : 1, sizeof *st->off);
    st->cnt = calloc(l->nslots ? l->nslots : 1, sizeof *st->cnt);
    st->syms = co__syms_new();
    if (!st->off || !st->cnt || !st->syms) goto fail;
    FOR_EACH_TASK(l, t) {
        if (want && !want(t)) continue;
        if (st->npcs + DUMP_FRAMES > st->cap) {
            size_t cap = st->cap ? st->cap * 2 : 16 * DUMP_FRAMES;
            uintptr_t *p = realloc(st->pcs, cap * sizeof *p);
            if (!p) goto fail;
            st->pcs = p;
            st->cap = cap;
        }
        uintptr_t *out = st->pcs + st->npcs;
        size_t n = 0;
        if (t == l->current && t->stack && self_fp)
            n = co__walk_fp(self_fp, (uintptr_t)t->stack->lo, (uintptr_t)t->stack->hi, out, DUMP_FRAMES);
        else if (t != l->current)
            n = co__walk_task(t, out, DUMP_FRAMES);
        st->off[t->slot] = (uint32_t)st->npcs;
        st->cnt[t->slot] = (uint32_t)n;
        st->npcs += n;
    }
    for (size_t i = 0; i < st->npcs; i++) co__syms_add(st->syms, st->pcs[i], 0);
    co__syms_resolve(st->syms);
    return;
fail:
    co__syms_free(st->syms);
    free(st->pcs);
    free(st->off);
    free(st->cnt);
    memset(st, 0, sizeof *st);
    st->now = co__mono_ns();
}

static void stacks_free(stacks *st)
{
    co__syms_free(st->syms);
    free(st->pcs);
    free(st->off);
    free(st->cnt);
}

/* Runtime plumbing on top of every suspended stack (co__switch_away,
 * co__suspend): the await itself is the interesting frame. */
static bool plumbing(const char *f) { return f && strncmp(f, "co__", 4) == 0; }

static void print_stack(FILE *out, const stacks *st, co__task *t)
{
    if (!st || !st->syms) return;
    if (!t->started && !co__task_ended(t)) {
        fprintf(out, "    stack: not started yet\n");
        return;
    }
    uint32_t n = st->cnt[t->slot];
    const uintptr_t *p = st->pcs + st->off[t->slot];
    if (n == 0) {
        if (!co__task_ended(t)) fprintf(out, "    stack: unavailable\n");
        return;
    }
    uint32_t i = 0;
    while (i < n && plumbing(co__syms_func(st->syms, p[i], 0))) i++;
    if (i == n) i = 0;
    fprintf(out, "    stack:\n");
    for (uint32_t k = 0; i < n; i++, k++) {
        const char *f = co__syms_func(st->syms, p[i], 0);
        if (f && strcmp(f, "co__task_main") == 0) break; /* the task's own frames end here */
        fprintf(out, "      #%u ", k);
        co__syms_print(st->syms, out, p[i], 0);
        fputc('\n', out);
    }
}

/* ------------------------------------------------------------------------ */
/* co_dump                                                                   */

static void dump_task(FILE *out, co__task *t, const stacks *st)
{
    fprintf(out, "  task #%llu '%s' %s", (unsigned long long)t->id, t->name, co_task_state_name(t->state));
    if (t->state == CO_TASK_WAITING) {
        fprintf(out, " on ");
        describe_wait(out, t);
    } else if (t->state == CO_TASK_READY && t->started && t->wait_loc) {
        /* Woken, not yet back: wait_loc is still the await it returns from. */
        fprintf(out, ", resuming from await at %s:%d", loc_file(t->wait_loc), loc_line(t->wait_loc));
    } else if (t->state == CO_TASK_RUNNING && t->loop->dbg &&
               atomic_load_explicit(&t->loop->dbg->task, memory_order_relaxed) == t &&
               (atomic_load_explicit(&t->loop->dbg->seq, memory_order_relaxed) & 1)) {
        /* Debug mode times steps, so it knows where this one began. */
        co__dbg *d = t->loop->dbg;
        co_loc *from = atomic_load_explicit(&d->from, memory_order_relaxed);
        uint64_t now = st && st->now ? st->now : co__mono_ns();
        fprintf(out, " for %.1f ms since ", (double)(now - atomic_load(&d->t0)) / 1e6);
        if (from)
            fprintf(out, "await at %s:%d", loc_file(from), loc_line(from));
        else
            fprintf(out, "its start");
    }
    if (co__task_ended(t)) fprintf(out, " result %d", t->result);
    fprintf(out, "\n    spawned at %s:%d", loc_file(t->spawn_loc), loc_line(t->spawn_loc));
    if (t->spawn_loc && t->spawn_loc->func) fprintf(out, " in %s()", t->spawn_loc->func);
    if (t->parent_id) fprintf(out, " by #%llu", (unsigned long long)t->parent_id);
    fprintf(out, "\n");
    print_stack(out, st, t);
}

void co__dump(co__loop *l, FILE *out, uintptr_t self_fp)
{
    co__debug_quiet(l, 1);
    stacks st;
    stacks_collect(&st, l, self_fp, NULL);
    fprintf(out, "coscope: %zu tasks\n", l->live);
    FOR_EACH_TASK(l, t) dump_task(out, t, &st);
    fflush(out);
    stacks_free(&st);
    co__debug_quiet(l, 0);
}

void co_dump(FILE *out)
{
    co__loop *l = co__tl_loop;
    if (!l) {
        fprintf(out, "coscope: no loop on this thread\n");
        return;
    }
    /* Our own frame record: the running task's stack is walked from its
     * return address, i.e. from the caller of co_dump. */
    co__dump(l, out, (uintptr_t)__builtin_frame_address(0));
    __asm__ volatile("" ::: "memory"); /* no tail call: our frame must outlive the walk */
}

/* ------------------------------------------------------------------------ */
/* Reports                                                                   */

static bool is_waiting(const co__task *t) { return t->state == CO_TASK_WAITING; }
static bool is_pending(const co__task *t) { return !co__task_ended(t); }

/* One task of an all-asleep report, with its stack; the close's pending
 * report does not tell it again (its wait is the same). */
static void dump_told(FILE *out, co__task *t, void *st)
{
    dump_task(out, t, st);
    t->asleep_told = 1;
}

void co__report_asleep(co__loop *l, FILE *out)
{
    /* Always with stacks: the program is about to fail with -EDEADLK, and
     * where each task is stuck is the whole point of the report. */
    stacks st;
    stacks_collect(&st, l, 0, is_waiting);
    if (co__asleep_groups(l, out, dump_told, &st) == 0)
        FOR_EACH_TASK(l, t)
            if (t->state == CO_TASK_WAITING) dump_told(out, t, &st);
    stacks_free(&st);
}

static void deadlock_text(FILE *out, co__task *self, co_lock_t *want, co__task *target, co_loc *loc)
{
    fprintf(out, "coscope: deadlock: task '%s' (#%llu) at %s:%d wants lock", self->name,
            (unsigned long long)self->id, loc_file(loc), loc_line(loc));
    print_obj(out, want->name, want->id);
    if (target == self) {
        fprintf(out, ", which it already holds\n");
        return;
    }
    fprintf(out, " held by '%s' (#%llu)\n", target->name, (unsigned long long)target->id);
    co__task *x = target;
    size_t limit = self->loop->live;
    while (x && x != self && x->state == CO_TASK_WAITING && limit--) {
        fprintf(out, "  '%s' (#%llu) waits on ", x->name, (unsigned long long)x->id);
        describe_wait(out, x);
        fprintf(out, "\n");
        x = co__waits_for(x);
    }
}

/* A refused lock acquire (lock.c): the cycle it would close, to the log. */
void co__report_deadlock(co__task *self, co_lock_t *want, co__task *target, co_loc *loc)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (!out) return;
    deadlock_text(out, self, want, target, loc);
    fclose(out);
    co__log_text(self->loop, text);
    free(text);
}

/* "'x' (#7, spawned at file:line)": who, in the loop's close sentences. */
static void who_of(const co__task *t, char *out, size_t cap)
{
    snprintf(out, cap, "'%s' (#%llu, spawned at %s:%d)", t->name, (unsigned long long)t->id, loc_file(t->spawn_loc),
             loc_line(t->spawn_loc));
}

/* One of story.c's sentences, as a report line. */
static void say(FILE *out, co__story_text *s)
{
    fprintf(out, "coscope: %s\n", s->p ? s->p : "");
    s->n = 0;
}

void co__report_pending(co__loop *l, FILE *out)
{
    stacks st, *sp = NULL;
    if (l->debug) {
        stacks_collect(&st, l, 0, is_pending);
        sp = &st;
    }
    co__story_text s = { 0 };
    FOR_EACH_TASK(l, t) {
        if (!co__task_ended(t) && !(t->asleep_told && t->state == CO_TASK_WAITING)) {
            char who[300], what[400], at[300];
            who_of(t, who, sizeof who);
            bool waiting = t->state == CO_TASK_WAITING;
            if (waiting) {
                co__wait_what(t, what, sizeof what);
                snprintf(at, sizeof at, "%s:%d", loc_file(t->wait_loc), loc_line(t->wait_loc));
            }
            co__story_pending(&s, who, waiting ? what : NULL, waiting ? at : NULL);
            say(out, &s);
            print_stack(out, sp, t);
        }
    }
    free(s.p);
    if (sp) stacks_free(sp);
}

void co__report_leftovers(co__loop *l, FILE *out)
{
    co__story_text s = { 0 };
    FOR_EACH_TASK(l, t) {
        if (co__task_ended(t) && !t->detached && !t->awaited && !t->closing_cancelled) {
            char who[300];
            who_of(t, who, sizeof who);
            if (t->state == CO_TASK_FAILED) {
                co__story_unretrieved(&s, who, t->result);
                say(out, &s);
            } else if (t->cancel_count == 0) {
                co__story_never_awaited(&s, who);
                say(out, &s);
            }
        }
    }
    free(s.p);
}
