/* SPDX-License-Identifier: MIT */
/* overflow.c -- FAILURE CASE: a stack overflow in a task.
 *
 * The bug: category_path() walks a category tree up to its root,
 * recursively.  The data has a cycle ("gadgets" is its own grand-parent,
 * after a bad import), so the recursion never ends.  Task stacks are small
 * (64 KiB by default) and end in a guard page: the overflow hits it after
 * a few hundred frames, the runtime's handler prints "coscope: stack
 * overflow in task 'categorize'" on stderr and the process dies of
 * SIGSEGV (status 139).  Everything recorded before is in the trace.
 *
 * Run it:
 *     build/coscope run -o t.db -- build/samples/overflow
 *     build/coscope report t.db
 *
 * What to look for:
 *   - report: "ended  killed by signal 11 (SIGSEGV)"; categorize never
 *     ended (it reads "ready": it was running), main "waiting" on it; its
 *     log lines for the two good products are in the trace.
 *   - tui: Tasks (1): categorize without an end; Enter on it shows its
 *     log lines and the mark "categorizing toaster", the last thing it
 *     recorded; Timeline (4) stops at the crash.
 */
#include "coscope.h"
#include <stdio.h>
#include <string.h>

typedef struct category {
    const char *name;
    int parent; /* index in categories, -1 for the root */
} category;

static const category categories[] = {
    { "all", -1 },         /* 0 */
    { "kitchen", 0 },      /* 1 */
    { "appliances", 4 },   /* 2: BUG, should be 1 */
    { "books", 0 },        /* 3 */
    { "gadgets", 2 },      /* 4: gadgets -> appliances -> gadgets -> ... */
};

/* Writes "all/kitchen/..." into out; returns its length.  The frame is
 * kept big on purpose (a path buffer per level), as real code often does. */
__attribute__((noinline)) static size_t category_path(int c, char *out, size_t cap)
{
    char parent_path[256];
    size_t n = 0;
    if (categories[c].parent >= 0) n = category_path(categories[c].parent, parent_path, sizeof parent_path); /* OVERFLOW_RECURSE */
    return (size_t)snprintf(out, cap, "%.*s%s%s", (int)n, parent_path, n ? "/" : "", categories[c].name);
}

typedef struct product {
    const char *name;
    int category;
} product;

static int categorize(void *arg)
{
    static const product products[] = { { "novel", 3 }, { "kettle", 1 }, { "toaster", 2 } };
    for (size_t i = 0; i < sizeof products / sizeof products[0]; i++) {
        int r = co_sleep(10); /* load the product */
        if (r < 0) return r;
        char path[256];
        if (!strcmp(products[i].name, "toaster")) co_mark("categorizing toaster");
        category_path(products[i].category, path, sizeof path);
        co_log("%s is in %s", products[i].name, path);
        printf("%s: %s\n", products[i].name, path);
        fflush(stdout); /* the crash will not flush stdio for us */
    }
    return 0;
}

static int amain(void *arg)
{
    return co_await(co_spawn(categorize, NULL));
}

int main(void)
{
    int r = co_run(amain, NULL);
    printf("not reached: co_run returned %d\n", r);
    return 1;
}
