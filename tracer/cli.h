/* cli.h -- the subcommands of the `coscope` command.  Each takes argv
 * starting at its own name and returns the process exit status. */
#ifndef TR_CLI_H
#define TR_CLI_H

int cli_run(int argc, char **argv);
int cli_info(int argc, char **argv);

#endif
