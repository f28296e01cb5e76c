/* cmd_info.c -- `coscope info`: every fact the trace's meta table holds
 * about the run (how it ended, the clock, the events recorded and lost),
 * one per line, after the same checks and finishing as every command. */
#include "cli.h"
#include <stdio.h>
#include <string.h>

/* Trace text for a terminal: a trace is input (tr_sanitize). */
static const char *sanitized(const unsigned char *s)
{
    static char buf[2][4096];
    static int which;
    which ^= 1;
    tr_sanitize(buf[which], sizeof buf[which], (const char *)s);
    return buf[which];
}

int cli_info(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs("usage: coscope info FILE\n\nHow the run ended and what the trace holds.\n",
              argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    tr_reader rd;
    if (cli_open(&rd, "info", argv[1]) < 0) return 2;
    sqlite3 *db = rd.db;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT key, value FROM meta ORDER BY key", -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW)
            printf("%-16s %s\n", sanitized(sqlite3_column_text(st, 0)), sanitized(sqlite3_column_text(st, 1)));
        sqlite3_finalize(st);
    }
    tr_reader_close(&rd);
    return 0;
}
