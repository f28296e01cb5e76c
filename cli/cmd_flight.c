/* SPDX-License-Identifier: MIT */
/* cmd_flight.c -- the flight recorder's two commands:
 *
 *   coscope flight --fd N --sock N --pid N --window MS --bytes N
 *       the helper a program's co_flight_start starts (runtime/flight.c),
 *       not a command for people: keeps the program's last window and
 *       writes it when triggered (tracer/flight.c).  It prints nothing but
 *       its usage: the stderr it shares is the program's own.
 *   coscope dump PID [-o FILE]
 *       write the window of a program running the flight recorder now,
 *       whatever state the program is in (its helper does the writing).
 */
#include "cli.h"
#include "../tracer/flight.h"
#include "../tracer/fmt.h"
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int number(const char *s, long long *out)
{
    char *end;
    if (!s || !*s) return -1;
    *out = strtoll(s, &end, 10);
    return *end || *out < 0 ? -1 : 0;
}

int cli_flight(int argc, char **argv)
{
    long long fd = -1, sock = -1, pid = -1, window = -1, bytes = -1;
    int i = 1;
    for (; i + 1 < argc; i += 2) {
        long long *to = !strcmp(argv[i], "--fd") ? &fd : !strcmp(argv[i], "--sock") ? &sock
                      : !strcmp(argv[i], "--pid") ? &pid : !strcmp(argv[i], "--window") ? &window
                      : !strcmp(argv[i], "--bytes") ? &bytes : NULL;
        if (!to || number(argv[i + 1], to) < 0) return 2;
    }
    if (i != argc || fd < 0 || sock < 0 || pid < 0 || window <= 0 || bytes <= 0) {
        fputs("usage: coscope flight --fd N --sock N --pid N --window MS --bytes N  (started by co_flight_start)\n",
              stderr);
        return 2;
    }
    /* The program's stderr is not ours, unless asked (COSCOPE_FLIGHT_TIMES). */
    if (!getenv("COSCOPE_FLIGHT_TIMES")) tr_log_set(NULL, NULL);
    signal(SIGPIPE, SIG_IGN);
    const char *why;
    return tr_flight_run((int)fd, (int)sock, (long)pid, (uint64_t)window, (uint64_t)bytes, &why) < 0 ? 1 : 0;
}

/* Was pid started with COSCOPE_FLIGHT set?  Then "COSCOPE_FLIGHT=value"
 * (made safe for the terminal, tr_sanitize, and cut to cap) into buf and 1: a program
 * asked for a recorder that never started, which the runtime says only
 * when asked (CO_LOG=stderr), so a dump should not tell its user to set
 * what is set.  0 if not, or its environment cannot be read. */
static int flight_asked(long long pid, char *buf, size_t cap)
{
    char env[65536];
    ssize_t n = cli_proc_read((long)pid, "environ", env, sizeof env);
    static const char key[] = "COSCOPE_FLIGHT=";
    for (ssize_t i = 0; i < n; i += (ssize_t)strlen(env + i) + 1) {
        if (strncmp(env + i, key, sizeof key - 1) != 0) continue;
        tr_sanitize(buf, cap, env + i);
        return 1;
    }
    return 0;
}

static const char DUMP_USAGE[] =
    "usage: coscope dump PID [-o FILE]\n"
    "  Write the flight recorder's window of the running program PID (started with\n"
    "  COSCOPE_FLIGHT=30s[,64MB] or co_flight_start) as a trace: FILE, else\n"
    "  coscope-flight-PID-TIME.db in $COSCOPE_FLIGHT_DIR or the program's working\n"
    "  directory.  Works on a hung program: the program's recorder writes it.\n";

int cli_dump(int argc, char **argv)
{
    const char *out = NULL;
    long long pid = -1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(DUMP_USAGE, stdout);
            return 0;
        }
        if (!strcmp(argv[i], "-o") && i + 1 < argc) out = argv[++i];
        else if (pid < 0 && number(argv[i], &pid) == 0 && pid > 0) {}
        else {
            fputs(DUMP_USAGE, stderr);
            return 2;
        }
    }
    if (pid <= 0) {
        fputs(DUMP_USAGE, stderr);
        return 2;
    }
    char abs[PATH_MAX + 8] = "";
    if (out) {
        /* The helper runs elsewhere: an absolute path. */
        if (out[0] == '/') {
            snprintf(abs, sizeof abs, "%s", out);
        } else {
            char cwd[PATH_MAX];
            if (!getcwd(cwd, sizeof cwd)) {
                fprintf(stderr, "coscope dump: cannot read the working directory: %s\n", strerror(errno));
                return 1;
            }
            snprintf(abs, sizeof abs, "%s/%s", cwd, out);
        }
        if (access(abs, F_OK) == 0) {
            fprintf(stderr, "coscope dump: %s exists\n", out);
            return 1;
        }
    }
    if (kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
        fprintf(stderr, "coscope dump: no process %lld\n", pid);
        return 1;
    }
    char written[PATH_MAX + 64] = "";
    int r = tr_flight_request((long)pid, out ? abs : NULL, written, sizeof written);
    if (r == -ECONNREFUSED) {
        char asked[256];
        if (flight_asked(pid, asked, sizeof asked))
            fprintf(stderr, "coscope dump: process %lld was started with %s but runs no flight recorder: the value "
                            "was refused or the coscope binary was not found ($COSCOPE_BIN; CO_LOG=stderr says "
                            "which)\n", pid, asked);
        else
            fprintf(stderr, "coscope dump: process %lld has no flight recorder (start it with COSCOPE_FLIGHT=30s or "
                            "co_flight_start)\n", pid);
        return 1;
    }
    if (r < 0) {
        char shown[3 * sizeof written]; /* the helper's path: the program's working directory, any bytes */
        tr_sanitize(shown, sizeof shown, written);
        if (*written) fprintf(stderr, "coscope dump: process %lld could not write %s: %s\n", pid, shown, strerror(-r));
        else fprintf(stderr, "coscope dump: the dump of process %lld failed: %s\n", pid, strerror(-r));
        return 1;
    }
    printf("%s\n", written);
    return 0;
}
