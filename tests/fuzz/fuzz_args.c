/* SPDX-License-Identifier: MIT */
/* fuzz_args.c -- libFuzzer over the CLI's argument parsing: the bytes are
 * NUL-separated arguments, the first byte picks the command (info, report,
 * sql, export; not run, which would execute what the fuzzer names); an
 * empty argument starts the next command, run in the same process.  A
 * real trace sits in the scratch directory as t.db ($FUZZ_TRACE), so
 * arguments naming it get past the open. */
#include "fuzz.h"
#include "../../cli/cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    fuzz_setup();
    if (!ready) {
        ready = 1;
        const char *t = getenv("FUZZ_TRACE");
        char cmd[600];
        if (t) {
            snprintf(cmd, sizeof cmd, "cp '%s' t.db", t);
            if (system(cmd) != 0) abort();
        }
    }
    /* Commands one after another in one process (a previous parse must
     * not leak into the next): separated by an empty argument. */
    static const char *const cmds[] = { "info", "report", "sql", "export" };
    int (*fn[])(int, char **) = { cli_info, cli_report, cli_sql, cli_export };
    char *buf = malloc(size + 2);
    memcpy(buf, data, size);
    buf[size] = buf[size + 1] = 0;
    for (char *seg = buf; seg < buf + size;) {
        char *argv[34];
        int argc = 0;
        int which = (unsigned char)*seg++ % 4;
        argv[argc++] = (char *)cmds[which];
        char *p = seg;
        while (p < buf + size && *p && argc < 33) {
            argv[argc++] = p;
            p += strlen(p) + 1;
        }
        argv[argc] = NULL;
        /* Each command's arguments in a block of their own, freed after
         * it: a parser that keeps a pointer into them is caught by ASan. */
        char *own = malloc((size_t)(p - seg) + 1);
        memcpy(own, seg, (size_t)(p - seg));
        own[p - seg] = 0;
        for (int i = 1; i < argc; i++) argv[i] = own + (argv[i] - seg);
        fn[which](argc, argv);
        free(own);
        while (p < buf + size && *p) p += strlen(p) + 1; /* arguments past 32 */
        seg = p + 1;
    }
    fflush(stdout);
    free(buf);
    return 0;
}
