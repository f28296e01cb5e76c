/* SPDX-License-Identifier: MIT */
/* procpause.c -- stopping a running program for the outside reader's copy
 * (procread.h): every thread seized and interrupted with ptrace, listed
 * again until no new one appears, and detached afterwards; if coscope
 * dies meanwhile, the kernel detaches and the program runs on.  And who
 * else ptraces it, for the refusal's words.
 */
#define _GNU_SOURCE
#include "procread_int.h"
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

/* ------------------------------------------------------------------------ */
/* Pausing                                                                   */


static int has(const stopped *st, int tid)
{
    for (size_t i = 0; i < st->n; i++) if (st->tids[i] == tid) return 1;
    return 0;
}

void tr__ps_resume(stopped *st)
{
    for (size_t i = 0; i < st->n; i++) ptrace(PTRACE_DETACH, st->tids[i], NULL, NULL);
    free(st->tids);
    memset(st, 0, sizeof *st);
}

/* Seize and interrupt every thread, listing them again until no new one
 * appeared (a thread may start while we stop the others).  If we die
 * while they are stopped, the kernel detaches and they run on. */
int tr__ps_pause_all(int pid, stopped *st)
{
    char p[64];
    snprintf(p, sizeof p, "/proc/%d/task", pid);
    for (int round = 0; round < 8; round++) {
        DIR *d = opendir(p);
        if (!d) return errno == ENOENT ? TR_PS_EEXITED : TR_PS_EPERM;
        int added = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
            int tid = atoi(de->d_name);
            if (tid <= 0 || has(st, tid)) continue;
            if (st->n == st->cap) {
                size_t cap = st->cap ? st->cap * 2 : 16;
                int *t = cap <= THREADS_MAX ? realloc(st->tids, cap * sizeof *t) : NULL;
                if (!t) {
                    closedir(d);
                    return -ENOMEM;
                }
                st->tids = t;
                st->cap = cap;
            }
            if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) < 0) {
                if (errno == ESRCH) continue; /* it ended meanwhile */
                int e = errno;
                closedir(d);
                return e == EPERM || e == EACCES ? TR_PS_EPERM : -e;
            }
            st->tids[st->n++] = tid;
            added = 1;
            if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) < 0) continue;
            int status;
            while (waitpid(tid, &status, __WALL) < 0 && errno == EINTR) {}
        }
        closedir(d);
        if (!added) return st->n ? 0 : TR_PS_EEXITED;
    }
    return 0;
}


int tr__ps_tracer_of(int pid)
{
    char p[64], line[256];
    snprintf(p, sizeof p, "/proc/%d/status", pid);
    FILE *f = fopen(p, "re");
    int t = 0;
    if (!f) return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "TracerPid: %d", &t) == 1) break;
    fclose(f);
    return t;
}

