/* placeholder */
#include "../tracer/cli/cli.h"
int cli_tui(int argc, char **argv) { return 2; }
