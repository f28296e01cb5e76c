/* SPDX-License-Identifier: MIT */
/* cli.h -- the subcommands of the `coscope` command.  Each takes argv
 * starting at its own name and returns the process exit status. */
#ifndef TR_CLI_H
#define TR_CLI_H

#include <sqlite3.h>
#include "../tracer/tracer.h"
#include <stdio.h>

int cli_run(int argc, char **argv);
int cli_info(int argc, char **argv);
int cli_report(int argc, char **argv);
int cli_sql(int argc, char **argv);
int cli_export(int argc, char **argv);
int cli_record(int argc, char **argv);   /* the helper co_trace_start starts */
int cli_flight(int argc, char **argv);   /* the helper co_flight_start starts */
int cli_dump(int argc, char **argv);     /* coscope dump PID */

/* Open a trace for a command (cmd_report.c): tr_reader_open, with the
 * failure or the note printed as one line "coscope CMD: ..." and, on a
 * terminal, the progress of finishing an interrupted build.  Returns 0 or
 * the negative errno of the failure.  Close with tr_reader_close. */
int cli_open(tr_reader *r, const char *cmd, const char *path);

/* JSON string of s (NULL: ""), invalid UTF-8 replaced by U+FFFD (cli_json.c). */
void cli_json_string(FILE *f, const char *s);

#endif
