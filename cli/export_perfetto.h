/* SPDX-License-Identifier: MIT */
/* export_perfetto.h -- `coscope export --format perfetto` (export_perfetto.c)
 * for cmd_export.c, and the protobuf writer under it (pbwrite.c). */
#ifndef CLI_EXPORT_PERFETTO_H
#define CLI_EXPORT_PERFETTO_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The trace open in db, in Perfetto's protobuf format, to f: 0, or the
 * first failure as a negative errno (a reader's, tracer/reader.h; -ENOMEM)
 * for the caller to say, writing stopped there.  Progress on stderr when
 * it is a terminal.  Errors writing f: ferror(f). */
int cli_export_perfetto(sqlite3 *db, FILE *f);

/* ---- pbwrite.c: protobuf in the wire format --------------------------------- */

/* A growing buffer; zeroed is empty.  oom: a growth failed, the contents
 * are lost (n 0); the owner clears it.  b is the owner's to free. */
typedef struct cli_pb {
    uint8_t *b;
    size_t n, cap;
    int oom;
} cli_pb;
void cli_pb_uint(cli_pb *p, unsigned field, uint64_t v);      /* a varint field */
void cli_pb_fixed64(cli_pb *p, unsigned field, uint64_t v);
void cli_pb_str(cli_pb *p, unsigned field, const char *s);   /* NULL: "" */
/* A nested message: begin returns where its body starts, end (with that)
 * writes its length once the body's fields are in. */
size_t cli_pb_begin(cli_pb *p, unsigned field);
void cli_pb_end(cli_pb *p, size_t body);
/* body (another buffer's fields) as a nested message of p. */
void cli_pb_append(cli_pb *p, unsigned field, const cli_pb *body);
/* body as a length-delimited field straight to f (errors: ferror(f)). */
void cli_pb_write(FILE *f, unsigned field, const cli_pb *body);

/* Names -> iids counting from 1, for Perfetto's interning; zeroed is empty. */
typedef struct cli_intern {
    char **key;
    uint64_t *iid;
    size_t cap, n;
} cli_intern;
/* The iid of s, *fresh 1 if it is new (then the caller emits its
 * definition); 0 when out of memory.  s is copied. */
uint64_t cli_intern_get(cli_intern *t, const char *s, int *fresh);
void cli_intern_free(cli_intern *t);

#endif
