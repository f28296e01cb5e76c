/* live.c -- placeholder entry point for `coscope run --tui` until tui.c
 * follows a live program; replay only for now. */
#include "tui.h"
#include "../tracer/cli/cli.h"

int tui_main(const char *path, const tui_live *live, int *quit)
{
    (void)live;
    if (quit) *quit = TUI_QUIT_DONE;
    char *argv[] = { "tui", (char *)path, 0 };
    return cli_tui(2, argv);
}
