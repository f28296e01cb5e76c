/* SPDX-License-Identifier: MIT */
/* test_file.c -- file I/O on the thread pool: write then read back (with
 * and without offsets, across the 1 MiB request size), read_all/write_all,
 * a missing file is -ENOENT, a closed file is dead, cancellation returns at
 * once without touching the caller's buffer later, and calls outside a task
 * are refused.  Files live in a fresh directory under $TMPDIR or /tmp. */
#include "testutil.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

static void path_of(char *out, size_t cap, const char *name) { snprintf(out, cap, "%s/%s", dir, name); }

static int roundtrip_main(void *arg)
{
    char p[300];
    path_of(p, sizeof p, "rt.txt");
    co_file_t f;
    EXPECT_INT(co_file_open(&f, p, O_WRONLY | O_CREAT | O_TRUNC, 0644), 0);
    EXPECT_TRUE(f.fd >= 0 && f.id != 0);
    EXPECT_INT(co_file_write(&f, "hello ", 6, -1), 0);
    EXPECT_INT(co_file_write(&f, "world", 5, -1), 0);
    EXPECT_INT(co_file_write(&f, "W", 1, 6), 0); /* positional */
    EXPECT_INT(co_file_close(&f), 0);
    EXPECT_INT(f.fd, -1);
    char buf[32];
    EXPECT_INT(co_file_read(&f, buf, sizeof buf, 0), -EINVAL); /* dead */
    EXPECT_INT(co_file_close(&f), -EINVAL);

    EXPECT_INT(co_file_open(&f, p, O_RDONLY, 0), 0);
    EXPECT_INT(co_file_read(&f, buf, sizeof buf, -1), 11);
    EXPECT_INT(memcmp(buf, "hello World", 11), 0);
    EXPECT_INT(co_file_read(&f, buf, sizeof buf, -1), 0); /* end of file */
    EXPECT_INT(co_file_read(&f, buf, 3, 8), 3);
    EXPECT_INT(memcmp(buf, "rld", 3), 0);
    EXPECT_INT(co_file_read(&f, buf, 0, 0), 0);
    EXPECT_INT(co_file_write(&f, "x", 1, -1) < 0, 1); /* opened read-only: -EBADF */
    EXPECT_INT(co_file_close(&f), 0);
    return 0;
}

static void test_roundtrip(void **state) { run(roundtrip_main, NULL); }

#define BIG ((size_t)3 << 20 | 12345) /* crosses the 1 MiB request size */

static int all_main(void *arg)
{
    char p[300];
    path_of(p, sizeof p, "big.bin");
    unsigned char *data = malloc(BIG);
    for (size_t i = 0; i < BIG; i++) data[i] = (unsigned char)(i * 31 + i / 4093);
    EXPECT_INT(co_file_write_all(p, data, BIG), 0);
    void *back = NULL;
    size_t len = 0;
    EXPECT_INT(co_file_read_all(p, &back, &len), 0);
    EXPECT_INT(len, BIG);
    EXPECT_TRUE(back && memcmp(back, data, BIG) == 0);
    EXPECT_TRUE(back && ((char *)back)[len] == '\0');
    free(back);

    /* Read in pieces at offsets. */
    co_file_t f;
    EXPECT_INT(co_file_open(&f, p, O_RDONLY, 0), 0);
    unsigned char piece[5000];
    EXPECT_INT(co_file_read(&f, piece, sizeof piece, (int64_t)(BIG - 100)), 100);
    EXPECT_INT(memcmp(piece, data + BIG - 100, 100), 0);
    EXPECT_INT(co_file_read(&f, data, BIG, 0), 1 << 20); /* one request at most */
    co_file_close(&f);
    free(data);

    /* Empty files and text. */
    path_of(p, sizeof p, "empty");
    EXPECT_INT(co_file_write_all(p, "", 0), 0);
    EXPECT_INT(co_file_read_all(p, &back, &len), 0);
    EXPECT_INT(len, 0);
    EXPECT_TRUE(back && ((char *)back)[0] == '\0');
    free(back);
    path_of(p, sizeof p, "text");
    EXPECT_INT(co_file_write_all(p, "line one\nline two\n", 18), 0);
    EXPECT_INT(co_file_read_all(p, &back, &len), 0);
    EXPECT_TRUE(back && strcmp(back, "line one\nline two\n") == 0);
    free(back);
    /* write_all truncates. */
    EXPECT_INT(co_file_write_all(p, "short", 5), 0);
    EXPECT_INT(co_file_read_all(p, &back, &len), 0);
    EXPECT_INT(len, 5);
    free(back);
    return 0;
}

static void test_read_write_all(void **state) { run(all_main, NULL); }

static int missing_main(void *arg)
{
    char p[300];
    path_of(p, sizeof p, "does-not-exist");
    co_file_t f;
    EXPECT_INT(co_file_open(&f, p, O_RDONLY, 0), -ENOENT);
    EXPECT_INT(f.fd, -1);
    void *data = (void *)1;
    size_t len = 7;
    EXPECT_INT(co_file_read_all(p, &data, &len), -ENOENT);
    EXPECT_TRUE(data == NULL && len == 0);
    path_of(p, sizeof p, "no-dir/x");
    EXPECT_INT(co_file_write_all(p, "x", 1), -ENOENT);
    EXPECT_INT(co_file_read_all(dir, &data, &len), -EISDIR);
    return 0;
}

static void test_missing(void **state) { run(missing_main, NULL); }

typedef struct { co_file_t *f; char *buf; size_t len; int r; } rd_ctx;

static int file_reader(void *arg)
{
    rd_ctx *x = arg;
    x->r = co_file_read(x->f, x->buf, x->len, 0);
    return x->r < 0 ? x->r : 0;
}

static int all_reader(void *arg)
{
    char p[300];
    path_of(p, sizeof p, "big.bin");
    void *data = NULL;
    size_t len;
    int r = co_file_read_all(p, &data, &len);
    free(data);
    return r;
}

static int cancel_main(void *arg)
{
    char p[300];
    path_of(p, sizeof p, "cancel.bin");
    size_t n = 1 << 20;
    char *src = malloc(n);
    memset(src, 'a', n);
    EXPECT_INT(co_file_write_all(p, src, n), 0);
    co_file_t f;
    EXPECT_INT(co_file_open(&f, p, O_RDONLY, 0), 0);
    /* Cancel a read while the pool works on it; the caller's buffer is
     * freed at once and must never be written afterwards (ASan). */
    rd_ctx x = { &f, malloc(n), n, 1 };
    co_task_t t = co_spawn(file_reader, &x);
    co_yield(); /* t submits its read and waits */
    EXPECT_INT(co_task_state_of(t), CO_TASK_WAITING);
    co_cancel(t);
    EXPECT_INT(co_await(t), -ECANCELED);
    EXPECT_INT(x.r, -ECANCELED);
    memset(x.buf, 'z', n);
    free(x.buf);
    /* The file is still usable. */
    char b[4];
    EXPECT_INT(co_file_read(&f, b, 4, 0), 4);
    EXPECT_INT(memcmp(b, "aaaa", 4), 0);
    EXPECT_INT(co_file_close(&f), 0);

    /* read_all cancelled in the middle closes its file and frees its buffer. */
    for (int k = 0; k < 5; k++) {
        co_task_t a = co_spawn(all_reader, NULL);
        for (int i = 0; i < k; i++) co_yield();
        co_cancel(a);
        int r = co_await(a);
        EXPECT_TRUE(r == -ECANCELED || r == 0);
    }
    /* A timeout scope that has expired: the write returns at once. */
    EXPECT_INT(co_file_open(&f, p, O_WRONLY, 0), 0);
    co_timeout_t sc;
    co_timeout_begin(&sc, 0);
    EXPECT_INT(co_file_write(&f, src, n, 0), -ETIMEDOUT);
    co_timeout_end(&sc);
    free(src);
    EXPECT_INT(co_file_close(&f), 0);
    co_sleep(20); /* let background requests finish before the loop goes */
    return 0;
}

static void test_cancel(void **state) { run(cancel_main, NULL); }

static void test_outside_task(void **state)
{
    co_file_t f;
    assert_int_equal(co_file_open(&f, "/dev/null", O_RDONLY, 0), -EPERM);
    void *d;
    size_t n;
    assert_int_equal(co_file_read_all("/dev/null", &d, &n), -EPERM);
}

static int setup(void **state)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/coscope-file-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_read_write_all),
        cmocka_unit_test(test_missing),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_outside_task),
    };
    return cmocka_run_group_tests_name("file", tests, setup, teardown);
}
