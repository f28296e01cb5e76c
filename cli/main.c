/* SPDX-License-Identifier: MIT */
/* main.c -- the `coscope` command: dispatch to subcommands. */
#include "cli.h"
#include "../tui/tui.h"   /* tui_cmd: the CLI starts the TUI */
#include "ps.h"
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char USAGE[] =
    "usage: coscope COMMAND [ARGS...]\n"
    "\n"
    "Debugger and visualizer for asynchronous C programs built on libcoscope.\n"
    "\n"
    "commands:\n"
    "  run [-o FILE] [--force] [--slow-ms N] [--drop] -- PROGRAM [ARGS...]\n"
    "                  run PROGRAM under the tracer, recording into a SQLite trace\n"
    "  info FILE       how the run ended and what the trace holds\n"
    "  report FILE [--fail-on-warnings] [--top N]\n"
    "                  summary: how the run ended, warnings, busiest tasks, lock contention\n"
    "  sql FILE QUERY [--csv|--json] [-p NAME=VALUE]...\n"
    "                  run a SQL query on the trace (read-only), aligned table output\n"
    "  tui FILE        browse the trace in the terminal UI (replay; live while recorded)\n"
    "  export [--format chrome|perfetto] FILE [-o OUT]\n"
    "                  Chrome Trace Event JSON, or Perfetto's protobuf trace (any size)\n"
    "  ps PID [--json] [--no-pause]\n"
    "                  every loop and task of a running coscope program, read from outside:\n"
    "                  what each awaits, since when, who holds it, where it was spawned\n"
    "  tree PID [--json] [--no-pause]\n"
    "                  the await tree of a running program: cycles named, stuck chains marked\n"
    "  attach PID [-o FILE] [--for DURATION] [--tui]\n"
    "                  record a running program from a snapshot of its state on; detach leaves it running\n"
    "  dump PID [-o FILE]\n"
    "                  write the flight recorder's last window of a running program (COSCOPE_FLIGHT=30s)\n"
    "\n"
    "Every command takes --help; coscope --version prints the version.  Traces are\n"
    "SQLite databases: see coscope-sql(7) or docs/schema.md.\n";

/* The tracer library's diagnostics (tracer/log.c), as every command's own. */
static void print_log(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "coscope: %s\n", line);
}

int main(int argc, char **argv)
{
    tr_log_set(print_log, NULL);
    if (argc < 2) {
        fputs(USAGE, stderr);
        return 2;
    }
    /* Not on a terminal, stdout is fully buffered whatever the environment
     * says (stdbuf): a write that fails then fails again at the final
     * flush, whose errno the commands report ("No space left on device"). */
    if (!isatty(STDOUT_FILENO)) setvbuf(stdout, NULL, _IOFBF, BUFSIZ);
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        fputs(USAGE, stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version")) {
        puts("coscope 0.1.0");
        return 0;
    }
    if (!strcmp(cmd, "run")) return cli_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "info")) return cli_info(argc - 1, argv + 1);
    if (!strcmp(cmd, "report")) return cli_report(argc - 1, argv + 1);
    if (!strcmp(cmd, "sql")) return cli_sql(argc - 1, argv + 1);
    if (!strcmp(cmd, "export")) return cli_export(argc - 1, argv + 1);
    if (!strcmp(cmd, "record")) return cli_record(argc - 1, argv + 1);
    if (!strcmp(cmd, "tui")) return tui_cmd(argc - 1, argv + 1);
    if (!strcmp(cmd, "ps")) return cli_ps(argc - 1, argv + 1);
    if (!strcmp(cmd, "tree")) return cli_tree(argc - 1, argv + 1);
    if (!strcmp(cmd, "attach")) return cli_attach(argc - 1, argv + 1);
    if (!strcmp(cmd, "flight")) return cli_flight(argc - 1, argv + 1);
    if (!strcmp(cmd, "dump")) return cli_dump(argc - 1, argv + 1);
    fprintf(stderr, "coscope: unknown command '%s' (see coscope --help)\n", cmd);
    return 2;
}
