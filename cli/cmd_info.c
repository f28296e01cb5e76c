/* SPDX-License-Identifier: MIT */
/* cmd_info.c -- `coscope info`: every fact the trace's meta table holds
 * about the run (how it ended, the clock, the events recorded and lost),
 * one per line, after the same checks and finishing as every command, and
 * with the same options, messages and exit statuses as the others. */
#define _GNU_SOURCE
#include "cli.h"
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char USAGE[] =
    "usage: coscope info FILE\n"
    "\n"
    "How the run ended and what the trace holds: every row of its meta table\n"
    "(program, argv, pid, start time, clock, how the run ended, events recorded\n"
    "and lost, ...), one per line.  Values longer than a line are cut.\n"
    "\n"
    "  -h, --help  this text\n"
    "\n"
    "Exit status: 0, 1 (writing the output failed), 2 (bad usage or a file that\n"
    "is not a readable coscope trace).\n";

/* Trace text for a terminal: a trace is input (tr_sanitize), and a value
 * can be megabytes long (cut at 1000 bytes, marked '~'). */
static const char *sanitized(const unsigned char *s)
{
    static char buf[2][4096], cut[2][1024];
    static int which;
    which ^= 1;
    tr_sanitize(buf[which], sizeof buf[which], (const char *)s);
    return tr_fit(cut[which], sizeof cut[which], buf[which], 1000);
}

int cli_info(int argc, char **argv)
{
    static const struct option opts[] = {
        { "help", no_argument, NULL, 'h' },
        { 0, 0, 0, 0 },
    };
    int c;
    opterr = 0;
    optind = 0; /* 0, not 1: glibc then forgets a previous parse (found by tests/fuzz) */
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'h': fputs(USAGE, stdout); return 0;
        default:
            fprintf(stderr, "coscope info: unknown option '%s' (see coscope info --help)\n", argv[optind - 1]);
            return 2;
        }
    }
    if (argc - optind != 1) {
        if (argc - optind < 1) fprintf(stderr, "coscope info: no trace file given (usage: coscope info FILE)\n");
        else fprintf(stderr, "coscope info: one trace file at a time (got '%s' and '%s')\n", argv[optind], argv[optind + 1]);
        return 2;
    }
    const char *path = argv[optind];
    tr_reader rd;
    if (cli_open(&rd, "info", path) < 0) return 2;
    sqlite3 *db = rd.db;
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, "SELECT key, value FROM meta ORDER BY key", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            printf("%-16s %s\n", sanitized(sqlite3_column_text(st, 0)), sanitized(sqlite3_column_text(st, 1)));
        sqlite3_finalize(st);
    }
    int status = 0;
    if (rc != SQLITE_OK && rc != SQLITE_DONE) {
        fprintf(stderr, "coscope info: %s: damaged or truncated database (%s)\n", path, tr_db_errmsg(db));
        status = 2;
    }
    tr_reader_close(&rd);
    int werr = fflush(stdout) != 0 ? errno : ferror(stdout) ? EIO : 0;
    if (werr) {
        fprintf(stderr, "coscope info: writing the output failed: %s\n", strerror(werr));
        return 1;
    }
    return status;
}
