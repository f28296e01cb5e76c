/* SPDX-License-Identifier: MIT */
/* test_handoff.c -- conservation under cancellation (await.c: cancellation
 * after a wake): nothing handed over is lost or duplicated.
 *
 * For every primitive with a blocking call that receives or hands over
 * something, a waiter W blocks in it and a driver D hands it over.  The
 * cancellation comes by each cause (co_cancel, an expiring co_wait_for, an
 * expiring timeout scope, a failing group sibling) at each moment around
 * the hand-off: before the wake, after the wake before W runs, while W runs
 * on to its next await, after W returned.  Every case checks that what W's
 * body did and what its caller was told agree, and that the primitive's
 * accounting (items, units, the lock, the value) holds.
 *
 * Timing: the moments come from timers that tie.  D, the cause and W are
 * armed in one loop turn (one cached uv_now), and ties wake in task id
 * order, so D (spawned first) hands over before the cause acts when both
 * are due at T.  test_handoff_random.c does the same with seeded random
 * schedules.
 */
#include "testutil.h"
#include <stdlib.h>

enum cause { BY_CANCEL, BY_WAIT_FOR, BY_SCOPE, BY_GROUP, NCAUSES };
enum moment { BEFORE_WAKE, AFTER_WAKE, AT_NEXT_AWAIT, AFTER_RETURN, NMOMENTS };
static const char *cause_names[] = { "co_cancel", "co_wait_for expiry", "scope expiry", "group failure" };
static const char *moment_names[] = { "before the wake", "after the wake, before it runs",
                                      "at its next await", "after it returned" };

#define T 20          /* ms: when the hand-off or the cause happens first */
#define LONG 10000    /* ms: W's next await, cut by the cause */
#define ITEM 42

typedef struct hctx hctx;

/* One primitive: W's blocking call and D's hand-off. */
typedef struct prim {
    const char *name;
    void (*init)(hctx *c);      /* main, before anyone else runs */
    void (*hold)(hctx *c);      /* D's first step: take what W will wait for (may be NULL) */
    int (*op)(hctx *c);         /* W: the blocking call; 0 = it got what was handed */
    void (*after)(hctx *c);     /* W, after a successful op and its next await: its cleanup */
    void (*handoff)(hctx *c);   /* D at its moment (NULL: another task hands over) */
    void (*settle)(hctx *c);    /* main, at the end: take back what was not handed, check accounting */
} prim;

struct hctx {
    const prim *p;
    int cause, moment;
    co_queue_t q;
    co_sem_t sem;
    co_lock_t lock;
    co_cond_t cond;
    co_future_t fut;
    co_chan_t *ch;
    co_task_t child;       /* the await primitive: the task W awaits */
    int child_result_seen; /* times the child's result reached anyone */
    int handed;            /* D's hand-off went through (a channel's try can find nobody) */
    int did;               /* W's body completed its operation */
    int next_await;        /* what W's next await returned */
    int w_started;         /* W's body began (and ran on into its blocking call) */
    int w_returned;        /* W's body returned */
    co_timeout_t scope;
};

/* ------------------------------------------------------------------------ */
/* The primitives                                                            */

/* When the hand-off and the cause happen.  Only the two moments that need
 * the cause to act within the same instant as the hand-off use timers:
 * before the wake (cause at T, hand-off at 2T: a late loop that fires both
 * in one pass still pops T first) and after the wake (both at T: a tie
 * wakes D first, its id being lower).  The others hand over as soon as W
 * is blocked, with no timer, so that a loaded machine that wakes late
 * cannot reorder them: the cause at T then comes long after the hand-off.
 * The scope's own deadline cannot tie with D (W's timer and D's would fire
 * in one pass, W's interrupting it first): there D hands over at once and
 * holds the loop past the deadline. */
#define AT_ONCE (-1)
static int handoff_at(const hctx *c)
{
    if (c->moment == BEFORE_WAKE) return 2 * T;
    if (c->moment == AFTER_WAKE && c->cause != BY_SCOPE) return T;
    return AT_ONCE;
}
static int cause_at(const hctx *c) { (void)c; return T; }

/* Wait for the hand-off's moment: a timer, or W blocked in its call (W's
 * first step runs until it suspends there). */
static void until_handoff(hctx *c)
{
    int at = handoff_at(c);
    if (at != AT_ONCE) {
        co_sleep(at);
        return;
    }
    while (!c->w_started) co_yield();
}

static void q_get_init(hctx *c) { EXPECT_INT(co_queue_init(&c->q, 0), 0); }
static int q_get_op(hctx *c)
{
    void *v = NULL;
    int r = co_queue_get(&c->q, &v);
    if (r == 0) EXPECT_INT(I(v), ITEM);
    return r;
}
static void q_get_handoff(hctx *c) { EXPECT_INT(co_queue_put_nowait(&c->q, P(ITEM)), 0); c->handed = 1; }
static void q_get_settle(hctx *c)
{
    /* The item is W's or still in the queue: exactly once. */
    void *v;
    int left = 0;
    while (co_queue_get_nowait(&c->q, &v) == 0) left++;
    EXPECT_INT(c->did + left, 1);
    EXPECT_INT(co_queue_destroy(&c->q), 0);
}

/* A full queue of one: W's put waits until D's get pulls it in. */
static void q_put_init(hctx *c)
{
    EXPECT_INT(co_queue_init(&c->q, 1), 0);
    EXPECT_INT(co_queue_put_nowait(&c->q, P(1)), 0);
}
static int q_put_op(hctx *c) { return co_queue_put(&c->q, P(ITEM)); }
static void q_put_handoff(hctx *c)
{
    void *v = NULL;
    EXPECT_INT(co_queue_get_nowait(&c->q, &v), 0);
    EXPECT_INT(I(v), 1);
    c->handed = 1;
}
static void q_put_settle(hctx *c)
{
    /* W's item is in the queue exactly when W says it put it. */
    void *v;
    int mine = 0, n = 0;
    while (co_queue_get_nowait(&c->q, &v) == 0) {
        n++;
        if (I(v) == ITEM) mine++;
    }
    EXPECT_INT(mine, c->did);
    EXPECT_INT(n, c->did ? 1 : 0);
    EXPECT_INT(co_queue_destroy(&c->q), 0);
}

static void sem_init(hctx *c) { EXPECT_INT(co_sem_init(&c->sem, 0), 0); }
static int sem_op(hctx *c) { return co_sem_acquire(&c->sem); }
static void sem_handoff(hctx *c) { EXPECT_INT(co_sem_release(&c->sem), 0); c->handed = 1; }
static void sem_settle(hctx *c)
{
    /* A caller releases the unit of a task that says it took one. */
    if (c->did) EXPECT_INT(co_sem_release(&c->sem), 0);
    EXPECT_INT(co_sem_value(&c->sem), 1);
    EXPECT_INT(co_sem_destroy(&c->sem), 0);
}

static void lock_init(hctx *c) { co_lock_init(&c->lock); }
static void lock_hold(hctx *c) { EXPECT_INT(co_lock_acquire(&c->lock), 0); }
static int lock_op(hctx *c) { return co_lock_acquire(&c->lock); }
static void lock_after(hctx *c) { EXPECT_INT(co_lock_release(&c->lock), 0); }
static void lock_handoff(hctx *c) { EXPECT_INT(co_lock_release(&c->lock), 0); c->handed = 1; }
static void lock_settle(hctx *c)
{
    EXPECT_INT(co_lock_locked(&c->lock), 0);
    EXPECT_INT(co_lock_destroy(&c->lock), 0);
}

static void cond_init(hctx *c)
{
    co_lock_init(&c->lock);
    co_cond_init(&c->cond, &c->lock);
}
static int cond_op(hctx *c)
{
    EXPECT_INT(co_lock_acquire(&c->lock), 0);
    int r = co_cond_wait(&c->cond);
    EXPECT_INT(co_lock_release(&c->lock), 0); /* held again on every return */
    return r;
}
static void cond_handoff(hctx *c)
{
    EXPECT_INT(co_lock_acquire(&c->lock), 0);
    c->handed = co_cond_notify(&c->cond, 1);
    EXPECT_INT(co_lock_release(&c->lock), 0);
}
static void cond_settle(hctx *c)
{
    /* A notification W took is a wake-up W reports. */
    EXPECT_TRUE(!c->did || c->handed);
    EXPECT_INT(co_lock_locked(&c->lock), 0);
    EXPECT_INT(co_cond_destroy(&c->cond), 0);
    EXPECT_INT(co_lock_destroy(&c->lock), 0);
}

static void fut_init(hctx *c) { co_future_init(&c->fut); }
static int fut_op(hctx *c)
{
    void *v = NULL;
    int r = co_future_await(&c->fut, &v);
    if (r == 0) EXPECT_INT(I(v), ITEM);
    return r;
}
static void fut_handoff(hctx *c) { EXPECT_INT(co_future_set(&c->fut, P(ITEM)), 0); c->handed = 1; }
static void fut_settle(hctx *c)
{
    EXPECT_INT(co_future_done(&c->fut), 1);
    EXPECT_INT(co_future_destroy(&c->fut), 0);
}

static void chan_init(hctx *c) { c->ch = co_chan_new(0); EXPECT_TRUE(c->ch != NULL); }
static int chan_recv_op(hctx *c)
{
    void *v = NULL;
    int r = co_chan_recv(c->ch, &v);
    if (r == 0) EXPECT_INT(I(v), ITEM);
    return r;
}
/* Unbuffered: the send finds W or nobody. */
static void chan_recv_handoff(hctx *c) { c->handed = co_chan_try_send(c->ch, P(ITEM)) == 0; }
static void chan_recv_settle(hctx *c)
{
    EXPECT_INT(c->did, c->handed);
    co_chan_unref(c->ch);
}
static int chan_send_op(hctx *c) { return co_chan_send(c->ch, P(ITEM)); }
static void chan_send_handoff(hctx *c)
{
    void *v = NULL;
    c->handed = co_chan_try_recv(c->ch, &v) == 0;
    if (c->handed) EXPECT_INT(I(v), ITEM);
}
static void chan_send_settle(hctx *c)
{
    EXPECT_INT(c->did, c->handed); /* sent exactly when received */
    co_chan_unref(c->ch);
}

/* co_await: the hand-off is the child's end, its result consumed. */
static int child_body(void *arg)
{
    until_handoff(arg); /* spawned before D: at a tie, it ends first */
    return ITEM;
}
static void await_init(hctx *c) { c->child = co_spawn(child_body, c); } /* before D: its end is the hand-off at T */
static int await_op(hctx *c)
{
    int r = co_await(c->child);
    if (r == ITEM) {
        c->child_result_seen++;
        return 0;
    }
    return r;
}
static void await_settle(hctx *c)
{
    /* Not consumed by W: still owned, collected here.  Seen exactly once. */
    if (co_task_id(c->child) != 0) {
        int r = co_await(c->child);
        if (r == ITEM) c->child_result_seen++;
    }
    EXPECT_INT(c->child_result_seen, 1);
}

static const prim prims[] = {
    { "co_queue_get", q_get_init, NULL, q_get_op, NULL, q_get_handoff, q_get_settle },
    { "co_queue_put", q_put_init, NULL, q_put_op, NULL, q_put_handoff, q_put_settle },
    { "co_sem_acquire", sem_init, NULL, sem_op, NULL, sem_handoff, sem_settle },
    { "co_lock_acquire", lock_init, lock_hold, lock_op, lock_after, lock_handoff, lock_settle },
    { "co_cond_wait", cond_init, NULL, cond_op, NULL, cond_handoff, cond_settle },
    { "co_future_await", fut_init, NULL, fut_op, NULL, fut_handoff, fut_settle },
    { "co_chan_recv", chan_init, NULL, chan_recv_op, NULL, chan_recv_handoff, chan_recv_settle },
    { "co_chan_send", chan_init, NULL, chan_send_op, NULL, chan_send_handoff, chan_send_settle },
    { "co_await", await_init, NULL, await_op, NULL, NULL, await_settle },
};
#define NPRIMS (sizeof prims / sizeof prims[0])

/* ------------------------------------------------------------------------ */
/* The tasks                                                                 */

static int driver(void *arg)
{
    hctx *c = arg;
    if (c->p->hold) c->p->hold(c);
    until_handoff(c);
    if (c->p->handoff) c->p->handoff(c);
    if (c->cause == BY_SCOPE && c->moment == AFTER_WAKE) usleep((T + 5) * 1000); /* W runs after its deadline */
    return 0;
}

static int waiter(void *arg)
{
    hctx *c = arg;
    if (c->cause == BY_SCOPE) co_timeout_begin(&c->scope, cause_at(c));
    c->w_started = 1;
    int r = c->p->op(c);
    if (r == 0) {
        c->did = 1;
        if (c->moment == AT_NEXT_AWAIT) c->next_await = co_sleep(LONG);
        if (c->p->after) c->p->after(c);
    }
    if (c->cause == BY_SCOPE) co_timeout_end(&c->scope);
    c->w_returned = 1;
    return r == 0 ? 1 : r; /* what it did: 1 = completed */
}

typedef struct { hctx *c; co_task_t w; } cancel_job;
static int cancel_later(void *arg)
{
    cancel_job *j = arg;
    co_sleep(cause_at(j->c));
    int r = co_cancel(j->w);
    if (j->c->moment == AFTER_RETURN) EXPECT_TRUE(r == 0 || r == -ESRCH); /* ended, or already collected */
    else EXPECT_INT(r, 1);
    return 0;
}

static int wait_for_parent(void *arg)
{
    hctx *c = arg;
    co_task_t w = co_spawn(waiter, c);
    return co_wait_for(w, cause_at(c));
}

static int failing_sibling(void *arg)
{
    hctx *c = arg;
    co_sleep(cause_at(c));
    return -EIO;
}

/* ------------------------------------------------------------------------ */
/* One case                                                                  */

static int one_case(void *arg)
{
    hctx *c = arg;
    c->p->init(c);
    co_task_t d = co_spawn(driver, c); /* lowest id but main's (and the await child's) */
    int reported = 1;                  /* what W's caller was told: 1 = completed */
    switch (c->cause) {
    case BY_CANCEL: {
        co_task_t w = co_spawn(waiter, c);
        cancel_job j = { c, w };
        co_task_t x = co_spawn(cancel_later, &j);
        reported = co_await(w);
        EXPECT_INT(co_await(x), 0);
        break;
    }
    case BY_WAIT_FOR:
        reported = co_await(co_spawn(wait_for_parent, c));
        break;
    case BY_SCOPE:
        reported = co_await(co_spawn(waiter, c));
        break;
    case BY_GROUP: {
        co_group_t g;
        co_group_init(&g);
        EXPECT_INT(co_group_spawn(&g, waiter, c), 0);
        EXPECT_INT(co_group_spawn(&g, failing_sibling, c), 0);
        EXPECT_INT(co_group_wait(&g), -EIO);
        reported = c->did ? 1 : -ECANCELED; /* a group reports no child's result: its own body is the witness */
        break;
    }
    }
    EXPECT_INT(co_await(d), 0);
    /* Unblock a W that the hand-off never reached (its cause came first
     * and it gave up, or the channel's try found nobody). */
    EXPECT_TRUE(c->w_returned);

    /* The caller's view is the truth of what W's body did. */
    EXPECT_INT(reported == 1, c->did);
    /* And the rule: a cancellation before the wake stops the operation;
     * after it, the operation stands. */
    EXPECT_INT(c->did, c->moment != BEFORE_WAKE);
    if (c->moment != BEFORE_WAKE) EXPECT_INT(reported, 1);
    else if (c->cause == BY_SCOPE || c->cause == BY_WAIT_FOR) EXPECT_INT(reported, -ETIMEDOUT);
    else EXPECT_INT(reported, -ECANCELED);
    if (c->moment == AT_NEXT_AWAIT) /* delivered there, by its cause */
        EXPECT_INT(c->next_await, c->cause == BY_SCOPE ? -ETIMEDOUT : -ECANCELED);
    c->p->settle(c);
    return 0;
}

static void test_matrix(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t p = 0; p < NPRIMS; p++)
        for (int cause = 0; cause < NCAUSES; cause++)
            for (int m = 0; m < NMOMENTS; m++) {
                hctx c;
                memset(&c, 0, sizeof c);
                c.p = &prims[p];
                c.cause = cause;
                c.moment = m;
                failed[0] = 0;
                alarm(10);
                int r = run_main(one_case, &c);
                alarm(0);
                if (failed[0] || r != 0) {
                    print_message("FAIL %s, cancelled by %s %s: %s\n", prims[p].name, cause_names[cause],
                                  moment_names[m], failed[0] ? failed : "main failed");
                    bad++;
                }
            }
    assert_int_equal(bad, 0);
}

/* ------------------------------------------------------------------------ */
/* The rule's other half: nothing handed, nothing kept                       */

static int self_cancel(void *arg)
{
    (void)arg;
    co_cancel(co_current());
    return 12; /* asyncio's test_cancel_at_end: ends cancelled */
}

static int sleeper(void *arg)
{
    int *r = arg;
    *r = co_sleep(T);
    return 5;
}

static int waits_event(void *arg)
{
    co_event_t *e = arg;
    return co_event_wait(e) == -ECANCELED ? 6 : 5;
}

static int nothing_handed_main(void *arg)
{
    (void)arg;
    /* Cancelled by itself: its result is dropped. */
    EXPECT_INT(co_await(co_spawn(self_cancel, NULL)), -ECANCELED);

    /* A sleep that ended, cancelled before the task ran: the sleep returns
     * 0 (a wake is final), and as nothing was handed over, the task that
     * returns then ends cancelled. */
    int slept = 1;
    co_task_t s = co_spawn(sleeper, &slept);
    co_yield();
    co_sleep(T); /* a tie with its timer: we wake first, then it */
    EXPECT_INT(co_task_state_of(s), CO_TASK_READY);
    EXPECT_INT(co_cancel(s), 1);
    EXPECT_INT(co_await(s), -ECANCELED);
    EXPECT_INT(slept, 0);

    /* An event: the same (asyncio raises at the wait; the outcome is the
     * task's, the same). */
    co_event_t e;
    co_event_init(&e);
    co_task_t w = co_spawn(waits_event, &e);
    co_yield();
    co_event_set(&e);
    EXPECT_INT(co_cancel(w), 1);
    EXPECT_INT(co_await(w), -ECANCELED); /* its wait returned 0, its 5 dropped */
    co_event_destroy(&e);
    return 0;
}

static void test_nothing_handed(void **state)
{
    (void)state;
    run(nothing_handed_main, NULL);
}

/* A task cancelled after a hand-off that then cancels itself: its own
 * request is a new one, and it ends cancelled. */
typedef struct { co_queue_t q; } q_only;
static int get_then_self_cancel(void *arg)
{
    q_only *o = arg;
    void *v;
    if (co_queue_get(&o->q, &v) != 0) return -1;
    co_cancel(co_current());
    return I(v);
}

static int get_and_return(void *arg)
{
    q_only *o = arg;
    void *v;
    int r = co_queue_get(&o->q, &v);
    return r == 0 ? I(v) : r;
}

static int rearmed_main(void *arg)
{
    q_only o;
    (void)arg;
    EXPECT_INT(co_queue_init(&o.q, 0), 0);
    co_task_t t = co_spawn(get_then_self_cancel, &o);
    co_yield();
    EXPECT_INT(co_queue_put_nowait(&o.q, P(7)), 0);
    EXPECT_INT(co_cancel(t), 1);
    EXPECT_INT(co_await(t), -ECANCELED);

    /* Twice after the hand-off: still kept, still one result. */
    t = co_spawn(get_and_return, &o);
    co_yield();
    EXPECT_INT(co_queue_put_nowait(&o.q, P(8)), 0);
    EXPECT_INT(co_cancel(t), 1);
    EXPECT_INT(co_cancel(t), 1);
    EXPECT_INT(co_await(t), 8);
    EXPECT_INT(co_task_id(t), 0);
    return co_queue_destroy(&o.q);
}

static void test_self_cancel_after_handoff(void **state)
{
    (void)state;
    run(rearmed_main, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matrix),
        cmocka_unit_test(test_nothing_handed),
        cmocka_unit_test(test_self_cancel_after_handoff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
