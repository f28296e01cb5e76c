/* SPDX-License-Identifier: MIT */
/* marks.c -- subject for tests/tracer/hostile.sh: texts made again and
 * again.  N (default 1500000) co_mark("tick") calls and N/1000 identical
 * co_log lines: each text used to be stored at every call, and after about
 * 1.4M marks the 32 MiB arena was full and later marks lost their text
 * even in the mode that promises no loss. */
#include "coscope.h"
#include <stdlib.h>

static long n = 1500000;

static int body(void *arg)
{
    (void)arg;
    for (long i = 0; i < n; i++) {
        co_mark("tick");
        if (i % 1000 == 0) co_log("the same line, %s", "again");
    }
    co_mark("last");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1) n = atol(argv[1]);
    return co_run(body, NULL);
}
