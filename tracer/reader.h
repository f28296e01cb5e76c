/* reader.h -- the one trace reader: what every front end (the TUI's model,
 * the CLI's commands) and the builder share about reading the format, so
 * that each fact about it is worked out in one place.
 *
 * Opening: tr_reader_open (tracer.h, reader.c) is the one way to open a
 * trace.  Time: a chunk's raw timestamps become ns from the start of the
 * run through tr_clock_ns (reader_clock.c), the builder's conversion, so
 * times decoded from chunks agree with the tables and a hostile timestamp
 * is clamped, never undefined.  Time bins: spans that may overlap (holds,
 * regions, work, idle) carry a bin (reader_bins.c, docs/schema.md), and a
 * question "which overlap t" asks the TR_NBINS bins tr_bins_at names.
 */
#ifndef TR_READER_H
#define TR_READER_H

#include "tracer.h"
#include <stdint.h>

/* ---- reader_clock.c: raw timestamps to ns --------------------------------- */

typedef struct tr_clock {
    int kind;              /* TR_CLOCK_* (meta.clock_kind) */
    uint64_t origin;       /* raw value of t = 0 (meta.clock_origin) */
    double ns_per_tick;    /* TSC only (meta.ns_per_tick), clamped to [1e-6, 1e6] */
} tr_clock;

/* The trace's clock from its meta table; what is missing or out of range
 * reads as a monotonic clock in ns from 0.  Never fails. */
void tr_clock_load(sqlite3 *db, tr_clock *c);
/* Raw timestamp -> ns from the start of the run.  A value beyond int64_t's
 * range is clamped (NaN reads as 0). */
int64_t tr_clock_ns(const tr_clock *c, uint64_t raw);

/* ---- reader_bins.c: time bins ----------------------------------------------- */

#define TR_NBINS 9
/* The bin of a span over [s, e]: the finest level whose 2^(20+4*level)-ns
 * bucket holds both ends, or the catch-all level 8. */
int64_t tr_span_bin(int64_t s, int64_t e);
/* The TR_NBINS bins a span overlapping t can be in, into out. */
void tr_bins_at(int64_t t, int64_t out[TR_NBINS]);

#endif
