/* SPDX-License-Identifier: MIT */
/* export_perfetto.h -- `coscope export --format perfetto` (export_perfetto.c). */
#ifndef CLI_EXPORT_PERFETTO_H
#define CLI_EXPORT_PERFETTO_H

#include <sqlite3.h>
#include <stdio.h>

/* The trace open in db, in Perfetto's protobuf format, to f: 0, or 2 with
 * the message printed (path names the trace in it). */
int cli_export_perfetto(sqlite3 *db, FILE *f, const char *path);

#endif
