/* dump.c -- human-readable reports: co_dump, the deadlock and all-asleep
 * reports, and the leftovers printed when a loop closes. */
#include "internal.h"

int co__debug_from_env(void)
{
    const char *v = getenv("CO_DEBUG");
    return v && *v && strcmp(v, "0") != 0;
}

static const char *loc_file(const co_loc *l) { return l && l->file ? l->file : "?"; }
static int loc_line(const co_loc *l) { return l ? l->line : 0; }

/* One line on what t waits for, e.g. "lock #3 held by 'worker' (#7)". */
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
        fprintf(out, " #%llu%s%s", (unsigned long long)l->id, l->name ? " " : "", l->name ? l->name : "");
        if (o) fprintf(out, " held by '%s' (#%llu)", o->name, (unsigned long long)o->id);
        break;
    }
    case CO_WAIT_SEM: {
        co_sem_t *s = t->wait_obj;
        co__task *o = co__sem_last_taker(s);
        fprintf(out, " #%llu (value %lld)", (unsigned long long)s->id, (long long)s->value);
        if (o && (o->gen & 1)) fprintf(out, ", last taken by '%s' (#%llu)", o->name, (unsigned long long)o->id);
        break;
    }
    case CO_WAIT_SLEEP:
    case CO_WAIT_YIELD:
    case CO_WAIT_NONE:
    case CO_WAIT_TASKS:
    case CO_WAIT_GROUP:
        break;
    default:
        if (t->wait_obj_id) fprintf(out, " #%llu", (unsigned long long)t->wait_obj_id);
        break;
    }
    if (t->wait_loc) fprintf(out, " at %s:%d", loc_file(t->wait_loc), loc_line(t->wait_loc));
}

static void dump_task(FILE *out, co__task *t)
{
    fprintf(out, "  task #%llu '%s' %s", (unsigned long long)t->id, t->name, co_task_state_name(t->state));
    if (t->state == CO_TASK_WAITING) {
        fprintf(out, " on ");
        describe_wait(out, t);
    }
    if (co__task_ended(t)) fprintf(out, " result %d", t->result);
    fprintf(out, "\n    spawned at %s:%d", loc_file(t->spawn_loc), loc_line(t->spawn_loc));
    if (t->spawn_loc && t->spawn_loc->func) fprintf(out, " in %s()", t->spawn_loc->func);
    if (t->parent_id) fprintf(out, " by #%llu", (unsigned long long)t->parent_id);
    fprintf(out, "\n");
}

#define FOR_EACH_TASK(l, t)                                                 \
    for (uint32_t s_ = 0; s_ < (l)->nslots; s_++)                           \
        for (co__task *t = &(l)->chunks[s_ / CO__CHUNK][s_ % CO__CHUNK]; t; t = NULL) \
            if (t->gen & 1)

void co_dump(FILE *out)
{
    co__loop *l = co__tl_loop;
    if (!l) {
        fprintf(out, "coscope: no loop on this thread\n");
        return;
    }
    fprintf(out, "coscope: %zu tasks\n", l->live);
    FOR_EACH_TASK(l, t) dump_task(out, t);
}

void co__report_asleep(co__loop *l, FILE *out)
{
    FOR_EACH_TASK(l, t)
        if (t->state == CO_TASK_WAITING) dump_task(out, t);
}

void co__report_deadlock(co__task *self, co_lock_t *want, co__task *target, co_loc *loc)
{
    FILE *out = stderr;
    fprintf(out, "coscope: deadlock: task '%s' (#%llu) at %s:%d wants lock #%llu", self->name,
            (unsigned long long)self->id, loc_file(loc), loc_line(loc), (unsigned long long)want->id);
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
        x = x->wait_kind == CO_WAIT_TASK ? x->wait_obj
          : x->wait_kind == CO_WAIT_LOCK ? co__lock_owner((co_lock_t *)x->wait_obj) : NULL;
    }
}

void co__report_pending(co__loop *l, FILE *out)
{
    FOR_EACH_TASK(l, t) {
        if (!co__task_ended(t)) {
            fprintf(out, "coscope: task '%s' (#%llu, spawned at %s:%d) was still pending when the loop closed",
                    t->name, (unsigned long long)t->id, loc_file(t->spawn_loc), loc_line(t->spawn_loc));
            if (t->state == CO_TASK_WAITING) {
                fprintf(out, ", waiting on ");
                describe_wait(out, t);
            }
            fprintf(out, "\n");
        }
    }
}

void co__report_leftovers(co__loop *l, FILE *out)
{
    FOR_EACH_TASK(l, t) {
        if (co__task_ended(t) && !t->detached && !t->awaited && !t->closing_cancelled) {
            if (t->state == CO_TASK_FAILED)
                fprintf(out, "coscope: task '%s' (#%llu, spawned at %s:%d) failed with '%s' and nobody retrieved the error\n",
                        t->name, (unsigned long long)t->id, loc_file(t->spawn_loc), loc_line(t->spawn_loc),
                        co_strerror(t->result));
            else if (t->cancel_count == 0)
                fprintf(out, "coscope: task '%s' (#%llu, spawned at %s:%d) was never awaited nor detached\n",
                        t->name, (unsigned long long)t->id, loc_file(t->spawn_loc), loc_line(t->spawn_loc));
        }
    }
}
