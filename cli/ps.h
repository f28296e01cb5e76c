/* SPDX-License-Identifier: MIT */
/* ps.h -- `coscope ps PID` and `coscope tree PID` (cmd_ps.c, cmd_tree.c):
 * a snapshot of a running coscope program read from outside
 * (tracer/procread.h), and the wording both commands share. */
#ifndef CLI_PS_H
#define CLI_PS_H

#include "../tracer/procread.h"
#include <stdio.h>

int cli_ps(int argc, char **argv);
int cli_tree(int argc, char **argv);

/* Parse PID and the flags both take, read the snapshot; on failure print
 * the one-line refusal as "coscope CMD: ..." and return non-zero.  *json
 * and *timing tell the flags seen. */
int cli_ps_read(const char *cmd, int argc, char **argv, tr_ps_snap **snap, int *json, int *timing);

/* The one-line refusal for a failed read (TR_PS_* err) of process pid,
 * as "coscope CMD: ..." on stderr (cmd_attach.c shares it). */
void cli_ps_refuse(const char *cmd, int pid, int err, const tr_ps_info *info);
/* `coscope attach PID` (cmd_attach.c). */
int cli_attach(int argc, char **argv);

/* What t awaits, in words: "lock 'db_lock' #3", "sleep (wakes in 2.0 s)". */
void cli_ps_awaits(const tr_ps_snap *s, const tr_ps_task *t, char *buf, size_t size);
/* "name #id" of the task with that id, or "#id" if not read. */
void cli_ps_task_ref(const tr_ps_snap *s, uint64_t id, char *buf, size_t size);
/* The lock's holder or semaphore's last taker, "" if none. */
void cli_ps_holder(const tr_ps_snap *s, const tr_ps_task *t, char *buf, size_t size);
/* file:line, shortened to its last two path components; "?" if unknown. */
void cli_ps_loc(const tr_ps_loc *l, char *buf, size_t size);
/* JSON object of a location, or null. */
void cli_ps_json_loc(FILE *f, const tr_ps_loc *l);

#endif
