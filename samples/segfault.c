/* SPDX-License-Identifier: MIT */
/* segfault.c -- FAILURE CASE: a crash in the middle of the work.
 *
 * The bug: three packers process orders, logging each one (co_log) and
 * yielding between them.  Order 7 has no customer record: lookup_customer
 * returns NULL and pack() dereferences it -- SIGSEGV, the process dies on
 * the spot, with no chance to flush anything.  The tracer's rings live in
 * memory shared with `coscope run`, so every event recorded before the
 * crash is in the trace anyway, down to the co_mark("packing order 7")
 * recorded just before the fatal line.  Dies by SIGSEGV (status 139).
 *
 * Run it:
 *     build/coscope run -o t.db -- build/samples/segfault
 *     build/coscope report t.db
 *
 * What to look for:
 *   - report: "ended  killed by signal 11 (SIGSEGV)"; no task ended: packer 0
 *     reads "ready" (it was running when it died), the others "waiting";
 *     no warnings (the program never reached the loop's close, where leaks
 *     are judged).  `coscope sql t.db "SELECT * FROM events WHERE kind IN
 *     ('log', 'mark') ORDER BY ts"` lists the six orders packed and the mark.
 *   - tui: Tasks (1) shows the four unfinished tasks; Enter on packer 0
 *     shows its log lines and the last mark, "packing order 7", right
 *     before the end; Timeline (4) stops dead at the crash.
 */
#include "coscope.h"
#include <stdio.h>

#define PACKERS 3
#define ORDERS_EACH 4

typedef struct customer {
    int id;
    char name[32];
    int discount_pct;
} customer;

static customer customers[] = { { 100, "ada", 0 }, { 101, "grace", 10 }, { 102, "edsger", 5 } };

/* The customer id of each order; order 7's customer, 199, was deleted. */
static const int order_customer[] = { 0, 100, 101, 102, 100, 101, 102, 199, 100, 101, 102, 100, 101 };

/* NULL when the customer does not exist.  noinline: the compiler must not
 * see which order gets NULL and reason about the crash away. */
__attribute__((noinline)) static customer *lookup_customer(int order)
{
    for (size_t i = 0; i < sizeof customers / sizeof customers[0]; i++)
        if (customers[i].id == order_customer[order]) return &customers[i];
    return NULL;
}

static int pack(int order)
{
    customer *c = lookup_customer(order);
    if (order == 7) co_mark("packing order 7");
    int discount = c->discount_pct; /* SEGFAULT_LINE: c is NULL for order 7 */
    co_log("order %d for %s, discount %d%%", order, c->name, discount);
    return discount;
}

static int packer(void *arg)
{
    int id = *(int *)arg;
    for (int i = 0; i < ORDERS_EACH; i++) {
        int order = 1 + i * PACKERS + id; /* packer 0: 1, 4, 7, ...; 1: 2, 5, 8, ... */
        int r = co_sleep(10); /* fetch the order */
        if (r < 0) return r;
        pack(order);
        printf("packer %d: order %d packed\n", id, order);
        fflush(stdout); /* the crash will not flush stdio for us */
    }
    return 0;
}

static int amain(void *arg)
{
    static int ids[PACKERS];
    co_task_t tasks[PACKERS];
    for (int i = 0; i < PACKERS; i++) {
        ids[i] = i;
        char name[32];
        snprintf(name, sizeof name, "packer %d", i);
        tasks[i] = co_spawn_named(name, packer, &ids[i]);
    }
    return co_gather(tasks, PACKERS, NULL, 0);
}

int main(void)
{
    int r = co_run(amain, NULL);
    printf("not reached: co_run returned %d\n", r);
    return 1;
}
