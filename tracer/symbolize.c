/* SPDX-License-Identifier: MIT */
/* symbolize.c -- a crash's stack to "function (file:line)", on the reading
 * side.  The signal handler could only record program counters
 * (runtime/crash.c); where each object was loaded came with the trace
 * (TR_MODULE at the session's start), so the one symbolizer
 * (runtime/symbols.c, libdw's dwfl) is told of each file at its load bias
 * and answers like a debugger on a core file: symbol tables, then DWARF
 * line tables (the program's own, or a separate debug file found by build
 * id).  The runtime's own reports (co_dump, debug mode) go through the same
 * code, so a frame reads the same in a trace and on the program's stderr.
 * A library, not `addr2line` forked per frame: a fresh machine has no
 * binutils, and one process answers every frame.  Belongs to the builder's
 * thread. */
#include "builder.h"
#include "../runtime/symbols.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tr_sym_module(tr_builder *b, uint64_t path_id, uint64_t bias)
{
    for (size_t i = 0; i < b->nmods; i++)
        if (b->mods[i].path == path_id && b->mods[i].bias == bias) return; /* another loop's copy */
    if (b->nmods == sizeof b->mods / sizeof b->mods[0]) return;
    b->mods[b->nmods].path = path_id;
    b->mods[b->nmods].bias = bias;
    b->nmods++;
}

static co__symr *open_symr(tr_builder *b)
{
    co__symr *r = co__symr_new(CO__SYMR_DEBUG_FILES); /* after the fact: the time is there */
    for (size_t i = 0; r && i < b->nmods; i++) {
        const char *path = tr_string_of(b, b->mods[i].path);
        if (path) co__symr_add(r, path, NULL, b->mods[i].bias);
    }
    return r;
}

/* One frame, as co__sym_format words it.  lookup is pc for the faulting
 * frame and pc - 1 for return addresses (the call, not the instruction
 * after it). */
static int frame_text(co__symr *r, uint64_t pc, uint64_t lookup, char *out, size_t cap)
{
    co__sym s;
    int in = co__symr_lookup(r, lookup, &s);
    co__sym_format(in ? &s : NULL, pc, 0, out, cap);
    return s.file != NULL;
}

/* The stack as text, "#N frame" a line (malloc'd, NULL on failure), and in
 * *top the innermost frame that has a source line (its text), if any. */
char *tr_sym_stack(tr_builder *b, const uint64_t *pcs, size_t n, char *top, size_t topcap)
{
    co__symr *r = open_symr(b);
    size_t cap = n * 256 + 1, len = 0;
    char *text = malloc(cap);
    if (top && topcap) top[0] = 0;
    if (!text) {
        co__symr_free(r);
        return NULL;
    }
    text[0] = 0;
    size_t shown = 0, kept_guesses = 0;
    for (size_t i = 0; i < n; i++) {
        char f[240];
        uint64_t pc = pcs[i] & ~(1ull << 63);
        int guess = (int)(pcs[i] >> 63);
        if (guess) {
            /* A word from the stack: kept if it is in code with a source
             * line (a return address), at most 3, marked "?". */
            co__sym g;
            if (!pc || kept_guesses == 3 || !co__symr_lookup(r, pc - 1, &g) || !g.file) continue;
            if (i + 1 < n && (pcs[i + 1] & ~(1ull << 63)) == pc) continue; /* the chain has it */
            kept_guesses++;
        }
        if (frame_text(r, pc, i ? pc - 1 : pc, f, sizeof f) && top && topcap && !top[0]) snprintf(top, topcap, "%s", f);
        len += (size_t)snprintf(text + len, cap - len, "#%zu %s%s\n", shown++, guess ? "? " : "", f);
        if (len >= cap) break;
    }
    co__symr_free(r);
    return text;
}
