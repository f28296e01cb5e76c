/* SPDX-License-Identifier: MIT */
/* helper.c -- starting the `coscope` binary as a helper process beside the
 * program: co_trace_start's recorder (record.c) and the flight recorder
 * (flight.c) both run in it, so that a program never links SQLite.
 *
 * Found as $COSCOPE_BIN, else CO_COSCOPE_BIN (where `make install` puts
 * it), else `coscope` on $PATH.  The fds it is handed are kept open in it
 * alone; it runs in its own process group (a terminal's Ctrl-C is the
 * program's, and the helper still finishes what it records) with every
 * signal unblocked and at its default.
 */
#define _GNU_SOURCE
#include "internal.h"
#include <spawn.h>
#include <stdio.h>
#include <unistd.h>

#ifndef CO_COSCOPE_BIN
#define CO_COSCOPE_BIN "/usr/local/bin/coscope"
#endif

extern char **environ;

int co__spawn_helper(char *argv[], const int *keep, size_t nkeep, pid_t *pid)
{
    const char *bin = getenv("COSCOPE_BIN");
    int search = 0;
    if (!bin || !*bin) {
        bin = CO_COSCOPE_BIN;
        if (access(bin, X_OK) != 0) {
            bin = "coscope";
            search = 1;
        }
    }
    argv[0] = (char *)bin;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    /* dup2 onto itself clears close-on-exec in the child only (glibc >= 2.29). */
    for (size_t i = 0; i < nkeep; i++) posix_spawn_file_actions_adddup2(&fa, keep[i], keep[i]);
    posix_spawnattr_setpgroup(&at, 0);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    int r = search ? posix_spawnp(pid, bin, &fa, &at, argv, environ) : posix_spawn(pid, bin, &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    return -r;
}
