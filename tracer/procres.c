/* SPDX-License-Identifier: MIT */
/* procres.c -- the outside reader's resources and ties (procread.h): a lock,
 * semaphore, queue, event, future or condition a task waits on, read once
 * and checked by its magic; then, once every task is read, who holds
 * each lock, which task awaits which, and who is behind a gather's or a
 * group's wait.
 */
#define _GNU_SOURCE
#include "procread_int.h"
#include <stdlib.h>

/* The resource at addr, read once; index + 1, or 0. */
size_t tr__ps_resource(reader *r, uint64_t addr, int kind)
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
    if (tr__ps_rd(r, addr, b, sizeof b) < 0 && tr__ps_rd(r, addr, b, 128) < 0) goto out;
    switch (kind) {
    case CO_WAIT_LOCK:
        if (tr__ps_getu(b, T->lock_magic) != T->lock_magic_value) break;
        x->valid = 1;
        x->id = tr__ps_getu(b, T->lock_id);
        x->name = tr__ps_str(r, tr__ps_getu(b, T->lock_name));
        r->res_owner[i] = tr__ps_getu(b, T->lock_owner);
        r->res_owner_gen[i] = (uint32_t)tr__ps_getu(b, T->lock_owner_gen);
        break;
    case CO_WAIT_SEM:
        if (tr__ps_getu(b, T->sem_magic) != T->sem_magic_value) break;
        x->valid = 1;
        x->id = tr__ps_getu(b, T->sem_id);
        x->name = tr__ps_str(r, tr__ps_getu(b, T->sem_name));
        x->value = tr__ps_gets(b, T->sem_value);
        r->res_owner[i] = tr__ps_getu(b, T->sem_last_taker);
        r->res_owner_gen[i] = (uint32_t)tr__ps_getu(b, T->sem_last_taker_gen);
        x->holder_id = tr__ps_getu(b, T->sem_last_taker_id);
        break;
    case CO_WAIT_QUEUE_GET: case CO_WAIT_QUEUE_PUT: case CO_WAIT_QUEUE_JOIN:
        if (tr__ps_getu(b, T->queue_magic) != T->queue_magic_value) break;
        x->valid = 1;
        x->id = tr__ps_getu(b, T->queue_id);
        x->name = tr__ps_str(r, tr__ps_getu(b, T->queue_name));
        x->value = (int64_t)tr__ps_getu(b, T->queue_len);
        x->maxsize = (int64_t)tr__ps_getu(b, T->queue_maxsize);
        break;
    case CO_WAIT_EVENT:
        if (tr__ps_getu(b, T->event_magic) != T->event_magic_value) break;
        x->valid = 1;
        x->id = tr__ps_getu(b, T->event_id);
        x->name = tr__ps_str(r, tr__ps_getu(b, T->event_name));
        x->value = tr__ps_gets(b, T->event_is_set);
        break;
    case CO_WAIT_FUTURE:
        if (tr__ps_getu(b, T->future_magic) != T->future_magic_value) break;
        x->valid = 1;
        x->id = tr__ps_getu(b, T->future_id);
        x->value = tr__ps_gets(b, T->future_state);
        break;
    case CO_WAIT_COND:
        if (tr__ps_getu(b, T->cond_magic) != T->cond_magic_value) break;
        x->valid = 1;
        x->id = tr__ps_getu(b, T->cond_id);
        x->name = tr__ps_str(r, tr__ps_getu(b, T->cond_name));
        x->lock_addr = tr__ps_getu(b, T->cond_lock);
        break;
    }
out:;
    size_t *slot = tr_map_put(&r->resix, addr);
    if (slot) *slot = i + 1;
    return i + 1;
}


static uint64_t id_at(reader *r, uint64_t addr, uint32_t gen, int check_gen, int *ended)
{
    if (ended) *ended = 0;
    if (!addr) return 0;
    size_t *ix = tr_map_find(&r->taskix, addr);
    if (ix && (!check_gen || r->s->tasks[*ix - 1].gen == gen)) return r->s->tasks[*ix - 1].id;
    if (ended) *ended = 1;
    return 0;
}

int tr__ps_resolve(reader *r)
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

