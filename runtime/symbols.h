/* SPDX-License-Identifier: MIT */
/* symbols.h -- the one symbolizer (symbols.c): a program counter to function,
 * file and line, for the runtime's own reports (co_dump, debug mode, the
 * watchdog's stacks) and for the crash stacks the tracer reads out of a
 * trace (tracer/symbolize.c).  Internal: not part of the public API. */
#ifndef COSCOPE_SYMBOLS_H
#define COSCOPE_SYMBOLS_H

#include <stddef.h>
#include <stdint.h>

typedef struct co__symr co__symr;

typedef struct {
    const char *func;    /* NULL if no symbol covers the address */
    uint64_t start;      /* the function's first address (as loaded), 0 if unknown */
    const char *file;    /* NULL without a line table; relative to the compilation directory when under it */
    int line;
    const char *object;  /* the object's base name, NULL if the address is in none */
} co__sym;

/* An empty symbolizer.  libdw (loaded with dlopen on first use) when it is
 * there and $CO_LIBDW is not "0"; otherwise the objects' ELF symbol tables
 * (names, no lines).  CO__SYMR_DEBUG_FILES: also read separate debug files
 * (found by build id, /usr/lib/debug): libc's take libdw 100-300 ms to
 * decompress and index, fine after the fact (the tracer), too slow inside
 * a running program (the watchdog's report would come after the step it
 * describes), so the runtime reads only the DWARF inside the objects, as
 * addr2line did.  NULL if out of memory. */
enum { CO__SYMR_DEBUG_FILES = 1 };
co__symr *co__symr_new(int flags);
/* An object loaded at bias (runtime address = bias + ELF address).  path is
 * opened to read it; name (or path if NULL) is how frames name it.  0, or -1
 * if out of memory. */
int co__symr_add(co__symr *r, const char *path, const char *name, uint64_t bias);
/* What is at addr (the pc itself, or a return address - 1).  Fills *out;
 * its strings live until co__symr_free.  Returns 1 if addr is in a known
 * object, 0 if not (then *out is all NULL/0). */
int co__symr_lookup(co__symr *r, uint64_t addr, co__sym *out);
/* The same without file and line: cheaper, for code inspection. */
int co__symr_lookup_func(co__symr *r, uint64_t addr, co__sym *out);
void co__symr_free(co__symr *r);
/* Does it read lines (libdw), or names only?  libdw wants a thread's
 * stack, not a task's: callers on a task's stack look up elsewhere. */
int co__symr_has_lines(const co__symr *r);
/* Names only from now on (the ELF symbol tables); before any lookup. */
void co__symr_names_only(co__symr *r);

/* One frame as text, the same for every report:
 *   "func (file:line)"            a function and its line
 *   "func+0x1c (file:line)"       the same with CO__SYM_OFFSET
 *   "func+0x1c [object]"          no line table
 *   "0x7f12... [object]"          no symbol; "0x7f12..." in no object
 * pc is the address shown, s what was looked up for it (NULL: nothing).
 * Returns snprintf's count. */
enum { CO__SYM_OFFSET = 1 };
int co__sym_format(const co__sym *s, uint64_t pc, int flags, char *buf, size_t cap);

#endif
