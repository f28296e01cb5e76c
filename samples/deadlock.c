/* SPDX-License-Identifier: MIT */
/* deadlock.c -- the lock-order deadlock coscope exists to name.
 *
 * Two tellers move money between the same two accounts in opposite
 * directions.  Each takes the lock of the account it debits, does some I/O
 * (a sleep here), then takes the other account's lock.  With asyncio this
 * program hangs forever, silently.  Under coscope the second acquisition
 * that would close the cycle returns -EDEADLK at once, the report names both
 * tasks, both locks and both lines, and the program can back off and retry.
 *
 * Run it: build/coscope run -- build/samples/deadlock; then coscope report. */
#include "coscope.h"
#include <stdio.h>

typedef struct account {
    const char *name;
    long balance;
    co_lock_t lock;
} account;

typedef struct transfer {
    account *from, *to;
    long amount;
} transfer;

static int teller(void *arg)
{
    transfer *t = arg;
    for (int attempt = 1;; attempt++) {
        int r = co_lock_acquire(&t->from->lock);
        if (r < 0) return r;
        co_sleep(10); /* look up the customer: I/O while holding the lock */
        r = co_lock_acquire(&t->to->lock);
        if (r == -EDEADLK) {
            /* The other teller holds it and waits for ours: back off, retry. */
            printf("teller %s->%s: %s; backing off (attempt %d)\n", t->from->name, t->to->name,
                   co_strerror(r), attempt);
            co_lock_release(&t->from->lock);
            co_sleep(5 * attempt);
            continue;
        }
        if (r < 0) {
            co_lock_release(&t->from->lock);
            return r;
        }
        t->from->balance -= t->amount;
        t->to->balance += t->amount;
        co_lock_release(&t->to->lock);
        co_lock_release(&t->from->lock);
        return 0;
    }
}

static int bank(void *arg)
{
    account alice = { "alice", 100, { 0 } }, bob = { "bob", 50, { 0 } };
    co_lock_init_named(&alice.lock, "alice.lock");
    co_lock_init_named(&bob.lock, "bob.lock");
    transfer ab = { &alice, &bob, 30 }, ba = { &bob, &alice, 20 };
    co_task_t t[2] = { co_spawn_named("teller_ab", teller, &ab), co_spawn_named("teller_ba", teller, &ba) };
    int results[2];
    int r = co_gather(t, 2, results, CO_GATHER_COLLECT);
    printf("alice %ld, bob %ld (total %ld)\n", alice.balance, bob.balance, alice.balance + bob.balance);
    return r;
}

int main(void)
{
    int r = co_run(bank, NULL);
    return r < 0 ? 1 : 0;
}
