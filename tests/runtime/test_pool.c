/* SPDX-License-Identifier: MIT */
/* test_pool.c -- the stack pool gives back the pages of idle stacks: once
 * the loop goes idle, all free stacks beyond the hot set are non-resident
 * (given back in batches), the hot ones are kept, and every stack still
 * works afterwards. */
#include "testutil.h"
#include "internal.h" /* the pool's free list, for the residency checks */
#include <sys/mman.h>
#include <unistd.h>

#define NTASKS 300
#define HOT 64 /* CO__HOT_STACKS in stack.c */

/* Dirty a few pages of the stack, then yield so all NTASKS are alive at once. */
static int dirty(void *arg)
{
    volatile char buf[12 * 1024];
    memset((char *)buf, 0x5a, sizeof buf);
    int r = co_yield();
    return r < 0 ? r : buf[100] + buf[sizeof buf - 1] - 2 * 0x5a;
}

static int resident(const co__stack *s)
{
    long ps = sysconf(_SC_PAGESIZE);
    unsigned char v = 0;
    char *top = s->hi - ps; /* the page a task always touches */
    if (mincore(top, (size_t)ps, &v) != 0) return -1;
    return v & 1;
}

static int wave(void)
{
    co_task_t t[NTASKS];
    for (int i = 0; i < NTASKS; i++) t[i] = co_spawn(dirty, NULL);
    int results[NTASKS];
    int r = co_gather(t, NTASKS, results, 0);
    for (int i = 0; i < NTASKS && r == 0; i++) r = results[i];
    return r;
}

static int trim_main(void *arg)
{
    EXPECT_INT(wave(), 0);
    /* Nothing ready and a timer pending: the loop blocks, and trims first. */
    EXPECT_INT(co_sleep(5), 0);
    co__stackpool *p = &co__tl_loop->pool;
    EXPECT_TRUE(p->nfree >= NTASKS);
    size_t i = 0, hot_resident = 0, cold_resident = 0;
    for (co__stack *s = p->free; s; s = s->next_free, i++) {
        int res = resident(s);
        EXPECT_TRUE(res >= 0);
        if (i < HOT) hot_resident += res == 1;
        else cold_resident += res == 1;
    }
    EXPECT_INT(i, p->nfree);
    EXPECT_INT(cold_resident, 0);
    EXPECT_TRUE(hot_resident > 0);
    EXPECT_INT(p->nfree - p->ncold, HOT);
    /* Given-back stacks come back zeroed and work as before. */
    EXPECT_INT(wave(), 0);
    return 0;
}

static void test_idle_trim_gives_back_pages(void **state) { run(trim_main, NULL); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idle_trim_gives_back_pages),
    };
    return cmocka_run_group_tests_name("pool", tests, NULL, NULL);
}
