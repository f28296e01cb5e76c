/* SPDX-License-Identifier: MIT */
/* cmd_record.c -- `coscope record --fd N --sock N --pid N -- FILE`: the
 * helper process a program's co_trace_start starts (runtime/record.c), not
 * a command for people.  It records the program's region into FILE until
 * the program calls co_trace_stop or ends.  It prints nothing but its
 * usage: the program hears every failure as the result of co_trace_start
 * or co_trace_stop, and the stderr it shares is the program's own. */
#include "cli.h"
#include <stdlib.h>
#include <string.h>

static int number(const char *s, long *out)
{
    char *end;
    if (!s || !*s) return -1;
    *out = strtol(s, &end, 10);
    return *end || *out < 0 ? -1 : 0;
}

int cli_record(int argc, char **argv)
{
    long fd = -1, sock = -1, pid = -1;
    int i = 1;
    for (; i + 1 < argc && strcmp(argv[i], "--"); i += 2) {
        long *to = !strcmp(argv[i], "--fd") ? &fd : !strcmp(argv[i], "--sock") ? &sock
                 : !strcmp(argv[i], "--pid") ? &pid : NULL;
        if (!to || number(argv[i + 1], to) < 0) return 2;
    }
    if (i + 2 != argc || strcmp(argv[i], "--") || fd < 0 || sock < 0 || pid < 0) {
        fputs("usage: coscope record --fd N --sock N --pid N -- FILE  (started by co_trace_start)\n", stderr);
        return 2;
    }
    tr_log_set(NULL, NULL); /* the program's stderr is not ours to write */
    const char *why;
    return tr_session_record((int)fd, (int)sock, pid, argv[i + 1], &why) < 0 ? 1 : 0;
}
