/* SPDX-License-Identifier: MIT */
/* cli.h -- the subcommands of the `coscope` command.  Each takes argv
 * starting at its own name and returns the process exit status. */
#ifndef TR_CLI_H
#define TR_CLI_H

#include <sqlite3.h>
#include "../tracer/tracer.h"
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

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

/* ---- live_record.c: a recording in progress (run, attach) ---------------- */

/* The recording side (the main thread, or a recording thread under --tui)
 * owns rec and db and calls the functions below; the UI reads only the
 * atomics, through cli_rec_status, from its own thread. */
typedef struct cli_rec {
    sqlite3 *db;
    tr_shm *shm;
    tr_recorder *rec;
    int64_t pid;                 /* the program's */
    int64_t mono0;               /* CLOCK_MONOTONIC at the trace's ts 0 */
    int finish_err;              /* tr_recorder_finish's result, once finished */
    _Atomic int record_err;      /* the recorder's failure (an errno) while the program ran, 0 if none */
    _Atomic int progress_tty;    /* print the finishing progress on stderr (no UI has the terminal) */
    _Atomic int running, finishing, finished;
    _Atomic int64_t built, total;   /* finishing: events built of total */
    _Atomic uint64_t events;
} cli_rec;
int64_t cli_mono_now(void);      /* CLOCK_MONOTONIC in ns */
/* procfile.c: /proc/PID/NAME read whole into buf (cap bytes, NUL-terminated,
 * cut to fit); its length, or -1 if it cannot be read. */
ssize_t cli_proc_read(long pid, const char *name, char *buf, size_t cap);
/* What runs and since when, into meta: program (NULL: not written), its
 * arguments as a JSON array (args NULL: not written), the start time. */
void cli_rec_meta_start(sqlite3 *db, const char *program, char *const *args, int nargs);
/* One turn of the recorder, its event count published: 0, or -1 when it
 * failed (record_err set, the region told nobody consumes it any more). */
int cli_rec_turn(cli_rec *r);
/* The program is done with (meta.ended written): finish the trace, running
 * 0 and finishing 1 meanwhile, then finished; finish_err set. */
void cli_rec_finish(cli_rec *r);
/* The live UI's status (tui/tui.h) as far as the recording knows it; the
 * command adds how the program ended and any failure. */
struct tui_live_status;
void cli_rec_status(cli_rec *r, struct tui_live_status *s);

#endif
