/* cli.h -- the subcommands of the `coscope` command.  Each takes argv
 * starting at its own name and returns the process exit status. */
#ifndef TR_CLI_H
#define TR_CLI_H

#include <sqlite3.h>
#include <stdio.h>

int cli_run(int argc, char **argv);
int cli_info(int argc, char **argv);
int cli_report(int argc, char **argv);
int cli_sql(int argc, char **argv);
int cli_export(int argc, char **argv);

/* Shared by report, sql and export (cmd_report.c): open the trace at path
 * for reading, finishing an interrupted build first when the run is over.
 * On failure prints one line "coscope CMD: reason" and returns NULL. */
sqlite3 *cli_open_trace(const char *cmd, const char *path);
/* Close what cli_open_trace returned, removing the empty -wal/-shm files a
 * read-only connection leaves behind when it was the one that made them. */
void cli_close_trace(sqlite3 *db);

/* JSON string of s (NULL: ""), invalid UTF-8 replaced by U+FFFD (cli_json.c). */
void cli_json_string(FILE *f, const char *s);

#endif
