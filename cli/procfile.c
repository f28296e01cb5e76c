/* SPDX-License-Identifier: MIT */
/* procfile.c -- one file of /proc/PID, read whole: what the commands that
 * act on a running program (attach, dump) learn of it that it does not
 * tell them itself -- how it was started, whether it has ended. */
#include "cli.h"
#include <stdio.h>

ssize_t cli_proc_read(long pid, const char *name, char *buf, size_t cap)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/%s", pid, name);
    FILE *f = fopen(path, "re");
    if (!f || cap == 0) {
        if (f) fclose(f);
        return -1;
    }
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = 0;
    return (ssize_t)n;
}
