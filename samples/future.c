/* SPDX-License-Identifier: MIT */
/* future.c -- a future one task awaits and another task sets.
 *
 * What it shows: a co_future_t is a one-shot slot for a result.  main
 * creates `price`, spawns a quote_service task that "looks the price up"
 * (a 50 ms round trip) and sets it, and meanwhile awaits the future.  The
 * future carries a pointer; here it points at a static struct the setter
 * fills first.  A second future, `discount`, is failed with -ENOENT by the
 * same service, and main gets that error from co_future_await.
 *
 * Run it:
 *     build/coscope run -o t.db -- build/samples/future
 *     build/coscope report t.db
 *
 * What to look for:
 *   - report: main and quote_service done; no warnings.
 *   - tui: Resources (2) lists the futures `price` and `discount`;
 *     Timeline (4) shows main waiting on `price` until quote_service's
 *     co_future_set 50 ms later; Enter on main shows the two future awaits
 *     and their results (0, then -ENOENT).
 */
#include "coscope.h"
#include <stdio.h>

typedef struct quote {
    const char *item;
    int cents;
} quote;

typedef struct quote_request {
    co_future_t *price, *discount;
} quote_request;

static int quote_service(void *arg)
{
    quote_request *req = arg;
    static quote answer = { "coffee", 0 };
    int r = co_sleep(50); /* the remote lookup */
    if (r < 0) return r;
    answer.cents = 350;
    r = co_future_set(req->price, &answer); /* FUTURE_SET */
    if (r < 0) return r;
    /* No discount on coffee: the other future carries an error instead. */
    return co_future_fail(req->discount, -ENOENT);
}

static int amain(void *arg)
{
    co_future_t price, discount;
    co_future_init(&price);
    co_future_init(&discount);
    quote_request req = { &price, &discount };
    co_task_t service = co_spawn(quote_service, &req);
    if (!service.h) return -ENOMEM;

    void *value;
    int r = co_future_await(&price, &value); /* FUTURE_AWAIT */
    if (r < 0) return r;
    const quote *q = value;
    printf("price of %s: %d.%02d\n", q->item, q->cents / 100, q->cents % 100);

    r = co_future_await(&discount, NULL);
    printf("discount: %s\n", r < 0 ? co_strerror(r) : "yes");

    r = co_await(service);
    co_future_destroy(&price);
    co_future_destroy(&discount);
    return r;
}

int main(void)
{
    int r = co_run(amain, NULL);
    if (r < 0) {
        fprintf(stderr, "future: %s\n", co_strerror(r));
        return 1;
    }
    return 0;
}
