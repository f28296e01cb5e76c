/* SPDX-License-Identifier: MIT */
/* fuzz_file.c -- libFuzzer over whole trace files: the bytes are a SQLite
 * file (seeds: real traces with 512-byte pages), opened by every command
 * that reads one -- tr_reader_open (the checks, the build of an unfinished
 * trace) then info, report, sql and export on it.  A crash, a sanitizer
 * report or a hang (libFuzzer's -timeout) is a finding. */
#include "fuzz.h"
#include "../../cli/cli.h"
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_setup();
    fuzz_write("t.db", data, size);
    char *info[] = { "info", "t.db", NULL };
    char *report[] = { "report", "--top", "3", "t.db", NULL };
    char *sql[] = { "sql", "t.db", "SELECT * FROM task_summary; SELECT * FROM lock_contention; SELECT * FROM all_events LIMIT 50",
                    NULL };
    char *export[] = { "export", "t.db", NULL };
    cli_info(2, info);
    cli_report(4, report);
    cli_sql(3, sql);
    cli_export(2, export);
    fflush(stdout);
    return 0;
}
