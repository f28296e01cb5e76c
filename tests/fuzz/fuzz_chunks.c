/* SPDX-License-Identifier: MIT */
/* fuzz_chunks.c -- libFuzzer over the builder: the bytes are chunk blobs
 * (seeds: chunks of real traces), split at "\xffCHUNK\xff", stored in a
 * fresh trace as a recorder would and built into tables
 * (tr_build_complete: decoding, replay, spans, warnings, contention). */
#include "fuzz.h"
#include "../../tracer/tracer.h"

static const char SEP[] = "\xff" "CHUNK" "\xff";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_setup();
    sqlite3 *db;
    const char *why;
    if (tr_db_create(&db, "c.db", 1, &why) < 0) abort();
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "INSERT INTO chunks(ring, n, first_ts, last_ts, data) VALUES (0, 0, 0, 0, ?)", -1, &st,
                           NULL) != SQLITE_OK)
        abort();
    size_t at = 0;
    for (int k = 0; k < 16 && at <= size; k++) {
        const uint8_t *end = memmem(data + at, size - at, SEP, sizeof SEP - 1);
        size_t len = end ? (size_t)(end - (data + at)) : size - at;
        sqlite3_bind_blob(st, 1, data + at, (int)len, SQLITE_STATIC);
        sqlite3_step(st);
        sqlite3_reset(st);
        if (!end) break;
        at += len + sizeof SEP - 1;
    }
    sqlite3_finalize(st);
    tr_meta_set_int(db, "built", 0);
    tr_build_complete(db, NULL, NULL);
    sqlite3_close(db);
    return 0;
}
