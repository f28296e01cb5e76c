/* SPDX-License-Identifier: MIT */
/* fuzz.h -- what the libFuzzer harnesses share: a scratch directory of
 * their own (the CLI may write files there: export -o) and a trace file
 * written from the fuzzer's bytes.  What the commands print is dropped by
 * libFuzzer's -close_fd_mask=3 (run.sh). */
#ifndef FUZZ_H
#define FUZZ_H
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char fuzz_dir[256];

static void fuzz_cleanup(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fuzz_dir);
    if (chdir("/") == 0 && system(cmd) != 0) return;
}

/* Once per process: a scratch directory on tmpfs, made the working one,
 * removed at exit. */
static void fuzz_setup(void)
{
    if (fuzz_dir[0]) return;
    atexit(fuzz_cleanup);
    snprintf(fuzz_dir, sizeof fuzz_dir, "/dev/shm/coscope-fuzz-%d", (int)getpid());
    mkdir(fuzz_dir, 0700);
    if (chdir(fuzz_dir) != 0) abort();
    /* A hostile view must not cost the fuzzer its speed: 1 s per query. */
    setenv("COSCOPE_QUERY_TIMEOUT", "1", 1);
}

/* The bytes as a file at path (and no side files from an earlier run). */
static void fuzz_write(const char *path, const uint8_t *data, size_t size)
{
    char side[300];
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-journal", path);
    unlink(side);
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (size && fwrite(data, 1, size, f) != size) abort();
    fclose(f);
}
#endif
