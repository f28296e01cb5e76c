/* SPDX-License-Identifier: MIT */
/* reader_bins.c -- hierarchical time bins (as in genome browsers): spans
 * that may overlap carry the bin the builder gave them, and "which of them
 * overlap t" is a lookup on (bin, start) over the 9 bins that can hold
 * such a span instead of a scan.  The builder and every reader compute
 * bins here, so the two cannot drift apart. */
#include "reader.h"

int64_t tr_span_bin(int64_t s, int64_t e)
{
    for (int lvl = 0; lvl < 8; lvl++) {
        int shift = 20 + 4 * lvl;
        if ((s >> shift) == (e >> shift)) return ((int64_t)lvl << 48) | (s >> shift);
    }
    return (int64_t)8 << 48;
}

void tr_bins_at(int64_t t, int64_t out[TR_NBINS])
{
    if (t < 0) t = 0;
    for (int lvl = 0; lvl < 8; lvl++) out[lvl] = (int64_t)lvl << 48 | t >> (20 + 4 * lvl);
    out[8] = (int64_t)8 << 48;
}
