/* SPDX-License-Identifier: MIT */
/* symbols.c -- the one symbolizer: a program counter to "function (file:line)",
 * for both places coscope shows a stack:
 *  - the runtime's own reports, in the program (co_dump, debug mode's slow
 *    steps and the watchdog's stacks, the all-asleep and pending reports):
 *    runtime/stackwalk.c hands it the objects dl_iterate_phdr lists;
 *  - a crash's stack read out of a trace, in the coscope binary, after the
 *    program is gone: tracer/symbolize.c hands it the objects and load
 *    biases the trace recorded (TR_MODULE).
 * Both paths ask the same code the same question, so they name a frame the
 * same way (co__sym_format) and cannot drift apart again; before, the
 * runtime parsed ELF symbols itself and forked addr2line while the tracer
 * used libdw, and the two disagreed on clang builds.
 *
 * Why libdw through dlopen.  The runtime library links only libuv, pthread
 * and libdl (a program that uses coscope must not pull in elfutils), yet
 * debug mode and co_dump print stacks with lines in the program itself, so
 * recording raw pcs for the tracer alone would leave those reports without
 * lines.  So libdw.so.1 is dlopen()ed the first time a stack is symbolized
 * (never on the hot path, never in a signal handler: the crash handler only
 * records raw pcs, runtime/crash.c), and when it is absent (or
 * $CO_LIBDW=0, or the runtime was built without elfutils' headers) the
 * objects' own ELF .symtab/.dynsym give function names without lines.
 * The coscope binary goes through the same dlopen (it finds the libdw it
 * already has loaded).
 *
 * Lines.  libdw finds an address's compilation unit through .debug_aranges
 * when the file has one, and takes that table as complete.  clang (14)
 * emits no aranges for C, but does for an assembly file built with -g
 * (runtime/switch_x86_64.S), so a clang-built program has aranges covering
 * one CU: dwfl_module_getsrc then answers "address out of range" for every
 * other function, and crash stacks lost their lines (frame #0 "packer+0x15a",
 * the first line found deep in the runtime).  When the aranges lookup fails,
 * the CUs are walked and the one whose ranges hold the address gives the
 * line (dwarf_haspc, dwarf_getsrc_die).  File names are made relative to the
 * CU's compilation directory (clang's DWARF 5 line tables name files from
 * it, gcc's relative to it), so both compilers print "samples/segfault.c".
 *
 * Names: a symbol with a size that covers the address; an unsized one never
 * matches (the nearest before a PLT stub is _init: a wrong name is worse
 * than none).
 */
#define _GNU_SOURCE
#include "symbols.h"
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <inttypes.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<elfutils/libdwfl.h>) && __has_include(<dwarf.h>)
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#define CO_HAVE_LIBDW 1
#endif
#endif

/* ------------------------------------------------------------------------ */
/* libdw, loaded on first use                                                */

#ifdef CO_HAVE_LIBDW
/* Only the prototypes of the header are used (through __typeof__): the
 * runtime has no link-time reference to libdw. */
#define LIBDW_FUNCS(X)                                                                             \
    X(dwfl_begin) X(dwfl_end) X(dwfl_report_begin) X(dwfl_report_elf) X(dwfl_report_end)           \
    X(dwfl_build_id_find_elf) X(dwfl_standard_find_debuginfo) X(dwfl_offline_section_address)     \
    X(dwfl_addrmodule) X(dwfl_module_info) X(dwfl_module_addrinfo) X(dwfl_module_getsrc)           \
    X(dwfl_lineinfo) X(dwfl_line_comp_dir) X(dwfl_module_nextcu) X(dwarf_haspc) X(dwarf_getsrc_die) \
    X(dwarf_linesrc) X(dwarf_lineno) X(dwarf_attr) X(dwarf_formstring)

static struct {
#define X(f) __typeof__(f) *f;
    LIBDW_FUNCS(X)
#undef X
    Dwfl_Callbacks cb, cb_inline; /* with separate debug files, without */
    char *debuginfo_path;
    int ok;
} libdw_api;
static pthread_once_t libdw_once = PTHREAD_ONCE_INIT;

static int no_separate_debuginfo(Dwfl_Module *m, void **user, const char *name, Dwarf_Addr base,
                                 const char *file, const char *debuglink, GElf_Word crc, char **path)
{
    (void)m; (void)user; (void)name; (void)base; (void)file; (void)debuglink; (void)crc; (void)path;
    return -1;
}

static void load_libdw(void)
{
    void *h = dlopen("libdw.so.1", RTLD_LAZY | RTLD_LOCAL);
    if (!h) return;
#define X(f) if (!(libdw_api.f = (__typeof__(f) *)dlsym(h, #f))) goto fail;
    LIBDW_FUNCS(X)
#undef X
    libdw_api.cb.find_elf = libdw_api.dwfl_build_id_find_elf;
    libdw_api.cb.find_debuginfo = libdw_api.dwfl_standard_find_debuginfo;
    libdw_api.cb.section_address = libdw_api.dwfl_offline_section_address;
    libdw_api.cb.debuginfo_path = &libdw_api.debuginfo_path;
    libdw_api.cb_inline = libdw_api.cb;
    libdw_api.cb_inline.find_debuginfo = no_separate_debuginfo;
    libdw_api.ok = 1;
    return;
fail:
    dlclose(h);
}
#define L(f) libdw_api.f
#endif

/* ------------------------------------------------------------------------ */
/* Objects                                                                   */

typedef struct { uint64_t start, size; const char *name; } fsym;

typedef struct {
    char *path;        /* opened to read it */
    char *name;        /* shown: its base name */
    uint64_t bias;
    /* ELF fallback only */
    uint64_t lo, hi;   /* extent of its executable segments, as loaded */
    int tried;         /* symbols read (or failed) */
    void *map;
    size_t maplen;
    fsym *syms;
    size_t nsyms;
} obj;

struct co__symr {
    obj *objs;
    size_t nobjs;
    int use_libdw;
    int flags;
#ifdef CO_HAVE_LIBDW
    Dwfl *dwfl;
    int reported;
#endif
};

co__symr *co__symr_new(int flags)
{
    co__symr *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->flags = flags;
#ifdef CO_HAVE_LIBDW
    const char *e = getenv("CO_LIBDW");
    if (!e || strcmp(e, "0") != 0) {
        pthread_once(&libdw_once, load_libdw);
        r->use_libdw = libdw_api.ok;
    }
#endif
    return r;
}

int co__symr_has_lines(const co__symr *r)
{
    return r && r->use_libdw;
}

static void obj_map(obj *o);

void co__symr_names_only(co__symr *r)
{
    if (!r || !r->use_libdw) return;
    r->use_libdw = 0;
    for (size_t i = 0; i < r->nobjs; i++) obj_map(&r->objs[i]);
}

/* Map the file and note where its executable segments were loaded. */
static void obj_map(obj *o)
{
    int fd = open(o->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size < (off_t)sizeof(ElfW(Ehdr))) {
        close(fd);
        return;
    }
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) return;
    o->map = m;
    o->maplen = (size_t)st.st_size;
    const ElfW(Ehdr) *eh = m;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != (sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32))
        return;
    if (eh->e_phentsize != sizeof(ElfW(Phdr)) || eh->e_phoff + (size_t)eh->e_phnum * sizeof(ElfW(Phdr)) > o->maplen)
        return;
    const ElfW(Phdr) *ph = (const ElfW(Phdr) *)((const char *)m + eh->e_phoff);
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type != PT_LOAD || !(ph[i].p_flags & PF_X)) continue;
        uint64_t lo = o->bias + ph[i].p_vaddr, hi = lo + ph[i].p_memsz;
        if (o->lo == o->hi || lo < o->lo) o->lo = lo;
        if (hi > o->hi) o->hi = hi;
    }
}

int co__symr_add(co__symr *r, const char *path, const char *name, uint64_t bias)
{
    if (!r || !path || !path[0]) return 0;
    obj *objs = realloc(r->objs, (r->nobjs + 1) * sizeof *objs);
    if (!objs) return -1;
    r->objs = objs;
    obj *o = &objs[r->nobjs];
    memset(o, 0, sizeof *o);
    o->path = strdup(path);
    const char *shown = name && name[0] ? name : path, *slash = strrchr(shown, '/');
    o->name = strdup(slash ? slash + 1 : shown);
    if (!o->path || !o->name) {
        free(o->path);
        free(o->name);
        return -1;
    }
    o->bias = bias;
    r->nobjs++;
    if (!r->use_libdw) obj_map(o);
    return 0;
}

void co__symr_free(co__symr *r)
{
    if (!r) return;
#ifdef CO_HAVE_LIBDW
    if (r->dwfl) L(dwfl_end)(r->dwfl);
#endif
    for (size_t i = 0; i < r->nobjs; i++) {
        obj *o = &r->objs[i];
        if (o->map) munmap(o->map, o->maplen);
        free(o->syms);
        free(o->path);
        free(o->name);
    }
    free(r->objs);
    free(r);
}

/* ------------------------------------------------------------------------ */
/* ELF symbol tables (without libdw)                                         */

static int cmp_fsym(const void *a, const void *b)
{
    const fsym *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* Read o's function symbols: .symtab, else .dynsym.  Failures leave none. */
static void obj_load(obj *o)
{
    if (o->tried) return;
    o->tried = 1;
    if (!o->map) return;
    const unsigned char *b = o->map;
    const ElfW(Ehdr) *eh = o->map;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != (sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32))
        return;
    if (eh->e_shoff == 0 || eh->e_shentsize != sizeof(ElfW(Shdr)) ||
        eh->e_shoff + (size_t)eh->e_shnum * sizeof(ElfW(Shdr)) > o->maplen)
        return;
    const ElfW(Shdr) *sh = (const ElfW(Shdr) *)(b + eh->e_shoff);
    const ElfW(Shdr) *symtab = NULL, *dynsym = NULL;
    for (unsigned i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type == SHT_SYMTAB) symtab = &sh[i];
        if (sh[i].sh_type == SHT_DYNSYM) dynsym = &sh[i];
    }
    const ElfW(Shdr) *tab = symtab ? symtab : dynsym;
    if (!tab || tab->sh_link >= eh->e_shnum || tab->sh_entsize != sizeof(ElfW(Sym))) return;
    const ElfW(Shdr) *strs = &sh[tab->sh_link];
    if (tab->sh_offset + tab->sh_size > o->maplen || strs->sh_offset + strs->sh_size > o->maplen) return;
    const ElfW(Sym) *sym = (const ElfW(Sym) *)(b + tab->sh_offset);
    size_t n = tab->sh_size / sizeof *sym;
    const char *str = (const char *)b + strs->sh_offset;
    o->syms = malloc((n ? n : 1) * sizeof *o->syms);
    if (!o->syms) return;
    for (size_t i = 0; i < n; i++) {
        int type = ELF64_ST_TYPE(sym[i].st_info); /* the same as ELF32_ST_TYPE */
        if ((type != STT_FUNC && type != STT_GNU_IFUNC) || sym[i].st_shndx == SHN_UNDEF || sym[i].st_value == 0 ||
            sym[i].st_name >= strs->sh_size)
            continue;
        o->syms[o->nsyms++] = (fsym){ o->bias + sym[i].st_value, sym[i].st_size, str + sym[i].st_name };
    }
    qsort(o->syms, o->nsyms, sizeof *o->syms, cmp_fsym);
}

/* The function of o containing addr, or NULL. */
static const fsym *obj_find(obj *o, uint64_t addr)
{
    obj_load(o);
    size_t lo = 0, hi = o->nsyms;
    while (lo < hi) { /* first symbol starting after addr */
        size_t mid = (lo + hi) / 2;
        if (o->syms[mid].start <= addr) lo = mid + 1;
        else hi = mid;
    }
    /* Walk back over aliases and nested symbols to one that covers addr. */
    for (size_t i = lo; i-- > 0 && lo - i <= 8;) {
        const fsym *f = &o->syms[i];
        if (addr < f->start + f->size) return f;
    }
    return NULL;
}

static int lookup_elf(co__symr *r, uint64_t addr, co__sym *out)
{
    for (size_t i = 0; i < r->nobjs; i++) {
        obj *o = &r->objs[i];
        if (addr < o->lo || addr >= o->hi) continue;
        out->object = o->name;
        const fsym *f = obj_find(o, addr);
        if (f) {
            out->func = f->name;
            out->start = f->start;
        }
        return 1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* libdw                                                                     */

#ifdef CO_HAVE_LIBDW
static Dwfl *libdw_session(co__symr *r)
{
    if (r->reported) return r->dwfl;
    r->reported = 1;
    Dwfl *d = L(dwfl_begin)((r->flags & CO__SYMR_DEBUG_FILES) ? &libdw_api.cb : &libdw_api.cb_inline);
    if (!d) return NULL;
    L(dwfl_report_begin)(d);
    for (size_t i = 0; i < r->nobjs; i++) {
        Dwfl_Module *m = L(dwfl_report_elf)(d, r->objs[i].name, r->objs[i].path, -1, (GElf_Addr)r->objs[i].bias, false);
        void **user = NULL;
        if (m && L(dwfl_module_info)(m, &user, NULL, NULL, NULL, NULL, NULL, NULL) && user) *user = &r->objs[i];
    }
    L(dwfl_report_end)(d, NULL, NULL);
    return r->dwfl = d;
}

/* file relative to the compilation directory comp when it is under it */
static const char *under(const char *file, const char *comp)
{
    size_t n = comp ? strlen(comp) : 0;
    if (n && file && strncmp(file, comp, n) == 0 && file[n] == '/' && file[n + 1]) return file + n + 1;
    return file;
}

static int lookup_dw(co__symr *r, uint64_t addr, co__sym *out, int lines)
{
    Dwfl *d = libdw_session(r);
    Dwfl_Module *m = d ? L(dwfl_addrmodule)(d, (Dwarf_Addr)addr) : NULL;
    if (!m) return 0;
    void **user = NULL;
    const char *mname = L(dwfl_module_info)(m, &user, NULL, NULL, NULL, NULL, NULL, NULL);
    out->object = user && *user ? ((obj *)*user)->name : mname;
    GElf_Off off = 0;
    GElf_Sym sym;
    const char *fn = L(dwfl_module_addrinfo)(m, (GElf_Addr)addr, &off, &sym, NULL, NULL, NULL);
    if (fn && sym.st_size && off < sym.st_size) {
        out->func = fn;
        out->start = addr - off;
    }
    if (!lines) return 1;
    const char *file = NULL, *comp = NULL;
    int line = 0;
    Dwfl_Line *dl = L(dwfl_module_getsrc)(m, (Dwarf_Addr)addr);
    if (dl) {
        file = L(dwfl_lineinfo)(dl, NULL, &line, NULL, NULL, NULL);
        comp = L(dwfl_line_comp_dir)(dl);
    } else {
        /* .debug_aranges absent for this CU (see the top): find it by its ranges. */
        Dwarf_Die *cu = NULL;
        Dwarf_Addr cbias = 0;
        while ((cu = L(dwfl_module_nextcu)(m, cu, &cbias)) != NULL) {
            if (L(dwarf_haspc)(cu, (Dwarf_Addr)addr - cbias) <= 0) continue;
            Dwarf_Line *l = L(dwarf_getsrc_die)(cu, (Dwarf_Addr)addr - cbias);
            if (l && L(dwarf_lineno)(l, &line) == 0) {
                file = L(dwarf_linesrc)(l, NULL, NULL);
                Dwarf_Attribute a;
                comp = L(dwarf_formstring)(L(dwarf_attr)(cu, DW_AT_comp_dir, &a));
            }
            break;
        }
    }
    if (file && line > 0) {
        out->file = under(file, comp);
        out->line = line;
    }
    return 1;
}
#endif

static int lookup(co__symr *r, uint64_t addr, co__sym *out, int lines)
{
    memset(out, 0, sizeof *out);
    if (!r) return 0;
#ifdef CO_HAVE_LIBDW
    if (r->use_libdw) return lookup_dw(r, addr, out, lines);
#endif
    (void)lines;
    return lookup_elf(r, addr, out);
}

int co__symr_lookup(co__symr *r, uint64_t addr, co__sym *out)
{
    return lookup(r, addr, out, 1);
}

int co__symr_lookup_func(co__symr *r, uint64_t addr, co__sym *out)
{
    return lookup(r, addr, out, 0);
}

/* ------------------------------------------------------------------------ */
/* One frame's text                                                          */

int co__sym_format(const co__sym *s, uint64_t pc, int flags, char *buf, size_t cap)
{
    int n;
    if (s && s->func && s->file) {
        if ((flags & CO__SYM_OFFSET) && s->start && pc >= s->start)
            n = snprintf(buf, cap, "%s+0x%" PRIx64 " (%s:%d)", s->func, pc - s->start, s->file, s->line);
        else
            n = snprintf(buf, cap, "%s (%s:%d)", s->func, s->file, s->line);
    } else if (s && s->func) {
        n = snprintf(buf, cap, "%s+0x%" PRIx64 " [%s]", s->func, s->start && pc >= s->start ? pc - s->start : 0,
                     s->object ? s->object : "?");
    } else if (s && s->file) { /* a line but no symbol (stripped .symtab, separate debug info) */
        n = snprintf(buf, cap, "0x%" PRIx64 " (%s:%d)", pc, s->file, s->line);
    } else if (s && s->object) {
        n = snprintf(buf, cap, "0x%" PRIx64 " [%s]", pc, s->object);
    } else {
        n = snprintf(buf, cap, "0x%" PRIx64, pc);
    }
    return n;
}
