/* SPDX-License-Identifier: MIT */
/* dlopen.c -- a plugin host or a language binding loads libcoscope.so at run
 * time (tests/link/link.sh): the library must load with dlopen (no
 * initial-exec thread-locals filling the static TLS block) and run a task.
 * coscope.h gives the types only: nothing is linked but libdl.
 *
 * Usage: dlopen PATH-TO-libcoscope.so */
#include "coscope.h"
#include <dlfcn.h>
#include <stdio.h>

static int (*run_at)(co_loc *, int (*)(void *), void *);
static int (*yield_at)(co_loc *);
static co_loc here = { __FILE__, "body", __LINE__, 0, 0 };

static int body(void *arg)
{
    for (int i = 0; i < 3; i++)
        if (yield_at(&here) < 0) return -1;
    return *(int *)arg + 1;
}

int main(int argc, char **argv)
{
    if (argc != 2) return 2;
    void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 1;
    }
    *(void **)&run_at = dlsym(h, "co_run_at");
    *(void **)&yield_at = dlsym(h, "co_yield_at");
    if (!run_at || !yield_at) {
        fprintf(stderr, "dlsym: %s\n", dlerror());
        return 1;
    }
    int x = 41;
    int r = run_at(&here, body, &x);
    printf("co_run returned %d\n", r);
    return r == 42 ? 0 : 1;
}
