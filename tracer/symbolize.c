/* symbolize.c -- a crash's stack to "function (file:line)", on the reading
 * side.  The signal handler could only record program counters
 * (runtime/crash.c); where each object was loaded came with the trace
 * (TR_MODULE at the session's start), so libdw's dwfl is told of each file
 * at its load bias and answers like a debugger on a core file: symbol
 * tables, then DWARF line tables (the program's own, or a separate debug
 * file found by build id).  A library, not `addr2line` forked per frame: a
 * fresh machine has no binutils, and one process answers every frame.
 * Belongs to the builder's thread. */
#include "builder.h"
#include <elfutils/libdwfl.h>
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

static Dwfl *open_dwfl(tr_builder *b)
{
    static char *debuginfo_path = NULL;
    static const Dwfl_Callbacks cb = {
        .find_elf = dwfl_build_id_find_elf,
        .find_debuginfo = dwfl_standard_find_debuginfo,
        .section_address = dwfl_offline_section_address,
        .debuginfo_path = &debuginfo_path,
    };
    Dwfl *d = dwfl_begin(&cb);
    if (!d) return NULL;
    dwfl_report_begin(d);
    for (size_t i = 0; i < b->nmods; i++) {
        const char *path = tr_string_of(b, b->mods[i].path);
        if (path) dwfl_report_elf(d, path, path, -1, (GElf_Addr)b->mods[i].bias, false);
    }
    dwfl_report_end(d, NULL, NULL);
    return d;
}

/* One frame: "func (file:line)", or "func+0xoff (object)" without line
 * tables, or the bare address.  lookup is pc for the faulting frame and
 * pc - 1 for return addresses (the call, not the instruction after it). */
static void frame_text(Dwfl *d, uint64_t pc, uint64_t lookup, char *out, size_t cap)
{
    Dwfl_Module *m = d ? dwfl_addrmodule(d, (Dwarf_Addr)lookup) : NULL;
    if (!m) {
        snprintf(out, cap, "0x%" PRIx64, pc);
        return;
    }
    GElf_Off off = 0;
    GElf_Sym sym;
    const char *fn = dwfl_module_addrinfo(m, (GElf_Addr)lookup, &off, &sym, NULL, NULL, NULL);
    Dwfl_Line *line = dwfl_module_getsrc(m, (Dwarf_Addr)lookup);
    int lineno = 0;
    const char *file = line ? dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL) : NULL;
    if (file) {
        snprintf(out, cap, "%s (%s:%d)", fn ? fn : "?", file, lineno);
    } else {
        const char *obj = dwfl_module_info(m, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
        const char *slash = obj ? strrchr(obj, '/') : NULL;
        snprintf(out, cap, "%s+0x%llx (%s)", fn ? fn : "?", (unsigned long long)off,
                 slash ? slash + 1 : obj ? obj : "?");
    }
}

/* The stack as text, "#N frame" a line (malloc'd, NULL on failure), and in
 * *top the innermost frame that has a source line (its text), if any. */
char *tr_sym_stack(tr_builder *b, const uint64_t *pcs, size_t n, char *top, size_t topcap)
{
    Dwfl *d = open_dwfl(b);
    size_t cap = n * 256 + 1, len = 0;
    char *text = malloc(cap);
    if (top && topcap) top[0] = 0;
    if (!text) {
        if (d) dwfl_end(d);
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
            Dwfl_Module *m = d && pc ? dwfl_addrmodule(d, (Dwarf_Addr)(pc - 1)) : NULL;
            if (!m || !dwfl_module_getsrc(m, (Dwarf_Addr)(pc - 1)) || kept_guesses == 3) continue;
            if (i + 1 < n && (pcs[i + 1] & ~(1ull << 63)) == pc) continue; /* the chain has it */
            kept_guesses++;
        }
        frame_text(d, pc, i ? pc - 1 : pc, f, sizeof f);
        if (top && topcap && !top[0] && strchr(f, ':') && strchr(f, '(')) snprintf(top, topcap, "%s", f);
        len += (size_t)snprintf(text + len, cap - len, "#%zu %s%s\n", shown++, guess ? "? " : "", f);
        if (len >= cap) break;
    }
    if (d) dwfl_end(d);
    return text;
}
