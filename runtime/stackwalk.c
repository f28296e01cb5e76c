/* stackwalk.c -- where is a task: frame-pointer walks of task stacks and
 * their symbolization, for co_dump, the reports and the watchdog.
 *
 * Walking.  Everything is built with -fno-omit-frame-pointer, so each frame
 * starts with a record [saved fp][return address] and fp links them.  A
 * suspended task's chain starts in the frame co__switch saved (switch_*.S
 * documents the layout); the running task starts from its own frame.  The
 * chain is followed only while it stays inside the task's stack, aligned and
 * strictly increasing, so a corrupt or foreign frame ends the walk instead
 * of faulting.  The readers are no_sanitize("address"): they read other
 * frames' memory, which ASan would take for an overflow into redzones.
 *
 * Symbolization (chosen to need nothing at build time):
 *  - objects and their load bias from dl_iterate_phdr;
 *  - function name + offset from the object's own ELF .symtab (read from the
 *    file), which unlike dladdr also knows static functions and those of an
 *    executable not linked with -rdynamic; .dynsym, then dladdr (the vDSO,
 *    unreadable files) as fallbacks;
 *  - file:line from `addr2line -f -e OBJECT ADDR...` when it is installed
 *    ($CO_ADDR2LINE names another binary, "0" turns it off): one process per
 *    object per dump, all of that object's addresses batched, and only for
 *    objects that carry .debug_line.
 * Return addresses are looked up at pc - 1 so a call at the end of a
 * function or block is attributed to the call's own line.
 */
#define _GNU_SOURCE
#include "internal.h"
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <spawn.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define CO__NOASAN __attribute__((no_sanitize("address"), noinline))
/* A word of someone else's frame.  Only inside CO__NOASAN functions. */
#define PEEK(a) (*(volatile const uintptr_t *)(uintptr_t)(a))

/* ------------------------------------------------------------------------ */
/* Walking                                                                   */

/* Follow the frame chain from fp while it stays in [lo, hi), aligned and
 * increasing; store the return addresses.  Async-signal-safe. */
CO__NOASAN size_t co__walk_fp(uintptr_t fp, uintptr_t lo, uintptr_t hi, uintptr_t *pcs, size_t max)
{
    size_t n = 0;
    while (n < max && fp >= lo && hi >= 16 && fp <= hi - 16 && (fp & 7) == 0) {
        uintptr_t next = PEEK(fp), pc = PEEK(fp + sizeof(uintptr_t));
        if (pc == 0) break;
        pcs[n++] = pc;
        if (next <= fp) break; /* 0 (the first frame of a stack) ends it; loops are corrupt */
        fp = next;
    }
    return n;
}

/* Copy the words [from, to) of a live stack into dst.  A word loop, not
 * memcpy: ASan intercepts memcpy whatever this function's attributes, and
 * the compiler must not turn the loop into a call (volatile reads).
 * Async-signal-safe.  Returns the number of words copied. */
CO__NOASAN size_t co__copy_stack(uintptr_t *dst, uintptr_t from, uintptr_t to)
{
    size_t n = 0;
    from &= ~(uintptr_t)7;
    for (uintptr_t a = from; a + sizeof(uintptr_t) <= to; a += sizeof(uintptr_t)) dst[n++] = PEEK(a);
    return n;
}

/* The stack of a task that is not running, from the frame co__switch left:
 * first the address it will resume at (in the scheduler), then the chain.
 * 0 frames for a task that has not started or has ended. */
CO__NOASAN size_t co__walk_task(const co__task *t, uintptr_t *pcs, size_t max)
{
    if (!t->stack || !t->started || t->state == CO_TASK_RUNNING || max == 0) return 0;
    uintptr_t lo = (uintptr_t)t->stack->lo, hi = (uintptr_t)t->stack->hi, sp = (uintptr_t)t->sp;
#if defined(__x86_64__)
    /* [mxcsr/fpucw][r15][r14][r13][r12][rbx][rbp][resume address] */
    if (sp < lo || sp > hi - 64 || (sp & 7)) return 0;
    uintptr_t fp = PEEK(sp + 48), pc = PEEK(sp + 56);
#elif defined(__aarch64__)
    /* x29 at +80, x30 (the resume address) at +88 of a 176-byte frame */
    if (sp < lo || sp > hi - 176 || (sp & 15)) return 0;
    uintptr_t fp = PEEK(sp + 80), pc = PEEK(sp + 88);
#else
    (void)lo; (void)hi; (void)sp; (void)pcs;
    return 0; /* the ucontext switch keeps no frame we can read */
#endif
#if defined(__x86_64__) || defined(__aarch64__)
    pcs[0] = pc;
    return 1 + co__walk_fp(fp, sp, hi, pcs + 1, max - 1);
#endif
}

/* ------------------------------------------------------------------------ */
/* Objects and ELF symbol tables                                             */

typedef struct { uintptr_t start, size; const char *name; } fsym;

typedef struct {
    char *path;        /* file to read symbols from */
    char *a2l_path;    /* the same for addr2line (never /proc/self/exe: that is addr2line itself) */
    const char *short_name;
    uintptr_t bias;    /* runtime address = bias + ELF address */
    int tried;         /* symbols loaded (or failed) */
    int has_lines;     /* .debug_line present: worth asking addr2line */
    void *map;
    size_t maplen;
    fsym *syms;
    size_t nsyms;
} obj;

typedef struct { uintptr_t lo, hi; int obj; } seg; /* an executable segment */

typedef struct {
    uintptr_t addr;    /* lookup address (pc, or pc - 1 for return addresses) */
    int obj;           /* -1 if in no known object */
    const char *func;  /* NULL if unknown; points into a map, a dladdr name or `owned` */
    uintptr_t start;   /* function start, 0 if unknown */
    char *file;        /* from addr2line, malloc'd */
    int line;
    char *owned;       /* a function name addr2line gave, malloc'd */
} ent;

struct co__syms {
    obj *objs;
    size_t nobjs;
    seg *segs;
    size_t nsegs;
    ent *ents;
    size_t nents, cap;
    int resolved;
};

static int phdr_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    co__syms *s = arg;
    obj *objs = realloc(s->objs, (s->nobjs + 1) * sizeof *objs);
    if (!objs) return 1;
    s->objs = objs;
    obj *o = &s->objs[s->nobjs];
    memset(o, 0, sizeof *o);
    o->bias = info->dlpi_addr;
    if (s->nobjs == 0 && (!info->dlpi_name || !info->dlpi_name[0])) {
        /* The executable: its name is not in the link map. */
        char buf[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
        buf[n > 0 ? n : 0] = 0;
        o->path = strdup("/proc/self/exe");
        o->a2l_path = strdup(n > 0 ? buf : "");
    } else {
        o->path = strdup(info->dlpi_name ? info->dlpi_name : "");
        o->a2l_path = strdup(o->path ? o->path : "");
    }
    if (!o->path || !o->a2l_path) {
        free(o->path);
        free(o->a2l_path);
        return 1;
    }
    const char *base = strrchr(o->a2l_path, '/');
    o->short_name = base ? base + 1 : o->a2l_path;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X)) continue;
        seg *segs = realloc(s->segs, (s->nsegs + 1) * sizeof *segs);
        if (!segs) return 1;
        s->segs = segs;
        s->segs[s->nsegs++] = (seg){ info->dlpi_addr + ph->p_vaddr, info->dlpi_addr + ph->p_vaddr + ph->p_memsz,
                                     (int)s->nobjs };
    }
    s->nobjs++;
    return 0;
}

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
    const unsigned char *b = m;
    const ElfW(Ehdr) *eh = m;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != (sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32))
        return;
    if (eh->e_shoff == 0 || eh->e_shentsize != sizeof(ElfW(Shdr)) ||
        eh->e_shoff + (size_t)eh->e_shnum * sizeof(ElfW(Shdr)) > o->maplen)
        return;
    const ElfW(Shdr) *sh = (const ElfW(Shdr) *)(b + eh->e_shoff);
    const ElfW(Shdr) *symtab = NULL, *dynsym = NULL;
    const char *shstr = NULL;
    if (eh->e_shstrndx < eh->e_shnum && sh[eh->e_shstrndx].sh_offset + sh[eh->e_shstrndx].sh_size <= o->maplen)
        shstr = (const char *)b + sh[eh->e_shstrndx].sh_offset;
    for (unsigned i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type == SHT_SYMTAB) symtab = &sh[i];
        if (sh[i].sh_type == SHT_DYNSYM) dynsym = &sh[i];
        if (shstr && sh[i].sh_name < sh[eh->e_shstrndx].sh_size &&
            strcmp(shstr + sh[i].sh_name, ".debug_line") == 0)
            o->has_lines = 1;
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
static const fsym *obj_find(obj *o, uintptr_t addr)
{
    obj_load(o);
    size_t lo = 0, hi = o->nsyms;
    while (lo < hi) { /* first symbol starting after addr */
        size_t mid = (lo + hi) / 2;
        if (o->syms[mid].start <= addr) lo = mid + 1;
        else hi = mid;
    }
    /* Walk back over aliases and nested symbols to one that covers addr.
     * Unsized symbols never match: the nearest one before a PLT stub is
     * _init, a wrong name being worse than none. */
    for (size_t i = lo; i-- > 0 && lo - i <= 8;) {
        const fsym *f = &o->syms[i];
        if (addr < f->start + f->size) return f;
    }
    return NULL;
}

static int seg_of(const co__syms *s, uintptr_t addr)
{
    for (size_t i = 0; i < s->nsegs; i++)
        if (addr >= s->segs[i].lo && addr < s->segs[i].hi) return (int)i;
    return -1;
}

co__syms *co__syms_new(void)
{
    co__syms *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    dl_iterate_phdr(phdr_cb, s);
    return s;
}

void co__syms_free(co__syms *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->nobjs; i++) {
        obj *o = &s->objs[i];
        if (o->map) munmap(o->map, o->maplen);
        free(o->syms);
        free(o->path);
        free(o->a2l_path);
    }
    for (size_t i = 0; i < s->nents; i++) {
        free(s->ents[i].file);
        free(s->ents[i].owned);
    }
    free(s->objs);
    free(s->segs);
    free(s->ents);
    free(s);
}

/* ------------------------------------------------------------------------ */
/* Code inspection, for the watchdog's scan of a stack snapshot             */

/* Is w a return address: inside executable code, right after a call? */
int co__syms_is_ret(const co__syms *s, uintptr_t w)
{
    int i = seg_of(s, w);
    if (i < 0) return 0;
#if defined(__x86_64__)
    if (w - 7 < s->segs[i].lo) return 0;
    const uint8_t *p = (const uint8_t *)w;
    if (p[-5] == 0xe8) return 1;                                          /* call rel32 */
    if (p[-2] == 0xff && (p[-1] & 0xf8) == 0xd0) return 1;                /* call *%reg */
    if (p[-3] == 0x41 && p[-2] == 0xff && (p[-1] & 0xf8) == 0xd0) return 1; /* call *%r8-15 */
    if (p[-3] == 0xff && (p[-2] & 0xf8) == 0x50) return 1;                /* call *d8(%reg) */
    if (p[-6] == 0xff && p[-5] == 0x15) return 1;                         /* call *d32(%rip) */
    if (p[-6] == 0xff && (p[-5] & 0xf8) == 0x90) return 1;                /* call *d32(%reg) */
    if (p[-4] == 0xff && p[-3] == 0x54) return 1;                         /* call *d8(%reg,%idx) */
    if (p[-7] == 0xff && p[-6] == 0x94) return 1;                         /* call *d32(%reg,%idx) */
    return 0;
#elif defined(__aarch64__)
    if (w - 4 < s->segs[i].lo || (w & 3)) return 0;
    uint32_t insn;
    memcpy(&insn, (const void *)(w - 4), 4);
    return (insn & 0xfc000000u) == 0x94000000u /* bl */ || (insn & 0xfffffc1fu) == 0xd63f0000u /* blr */;
#else
    return 0;
#endif
}

/* The function a direct call just before return address `ret` calls, or 0
 * (indirect call, or a target outside known code). */
uintptr_t co__syms_call_target(const co__syms *s, uintptr_t ret)
{
    if (!co__syms_is_ret(s, ret)) return 0;
    uintptr_t t = 0;
#if defined(__x86_64__)
    int32_t rel;
    if (((const uint8_t *)ret)[-5] != 0xe8) return 0;
    memcpy(&rel, (const void *)(ret - 4), 4);
    t = ret + (intptr_t)rel;
#elif defined(__aarch64__)
    uint32_t insn;
    memcpy(&insn, (const void *)(ret - 4), 4);
    if ((insn & 0xfc000000u) != 0x94000000u) return 0;
    int64_t off = (int64_t)((uint64_t)(insn & 0x03ffffffu) << 38) >> 36; /* imm26 * 4, signed */
    t = ret - 4 + (intptr_t)off;
#endif
    return seg_of(s, t) >= 0 ? t : 0;
}

/* Does the function starting at fn save the frame pointer first thing, as
 * every function built with frame pointers does?  1 yes, 0 no, -1 cannot
 * tell (fn is not a known function start, e.g. a PLT stub; other arch). */
int co__syms_pushes_fp(co__syms *s, uintptr_t fn)
{
    int i = seg_of(s, fn);
    if (i < 0 || co__syms_func_start(s, fn) != fn) return -1;
#if defined(__x86_64__)
    if (fn + 8 > s->segs[i].hi) return -1;
    const uint8_t *p = (const uint8_t *)fn;
    if (p[0] == 0xf3 && p[1] == 0x0f && p[2] == 0x1e && p[3] == 0xfa) p += 4; /* endbr64 */
    return p[0] == 0x55;                                                   /* push %rbp */
#else
    return -1;
#endif
}

/* Start of the function containing addr, from the symbol tables; 0 if unknown. */
uintptr_t co__syms_func_start(co__syms *s, uintptr_t addr)
{
    int i = seg_of(s, addr);
    if (i < 0) return 0;
    const fsym *f = obj_find(&s->objs[s->segs[i].obj], addr);
    return f ? f->start : 0;
}

/* ------------------------------------------------------------------------ */
/* Batch resolution                                                          */

static uintptr_t lookup_addr(uintptr_t pc, int flags)
{
    return (flags & (CO__FR_EXACT | CO__FR_ENTRY)) ? pc : pc - 1;
}

void co__syms_add(co__syms *s, uintptr_t pc, int flags)
{
    if (!s || s->resolved) return;
    if (s->nents == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        ent *e = realloc(s->ents, cap * sizeof *e);
        if (!e) return;
        s->ents = e;
        s->cap = cap;
    }
    memset(&s->ents[s->nents], 0, sizeof(ent));
    s->ents[s->nents++].addr = lookup_addr(pc, flags);
}

static int cmp_ent(const void *a, const void *b)
{
    const ent *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static ent *find_ent(const co__syms *s, uintptr_t addr)
{
    size_t lo = 0, hi = s->nents;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->ents[mid].addr < addr) lo = mid + 1;
        else if (s->ents[mid].addr > addr) hi = mid;
        else return &s->ents[mid];
    }
    return NULL;
}

static atomic_int a2l_missing; /* addr2line could not be started: do not try again */

/* Run addr2line on the addresses (relative to o) of ents[idx[0..n)] and
 * fill in file, line and, where the symbol tables had none, the function. */
static void run_addr2line(co__syms *s, obj *o, const size_t *idx, size_t n)
{
    const char *prog = getenv("CO_ADDR2LINE");
    if (prog && (!*prog || strcmp(prog, "0") == 0)) return;
    if (!prog) prog = "addr2line";
    if (atomic_load_explicit(&a2l_missing, memory_order_relaxed) || !o->a2l_path[0]) return;
    enum { ARGS0 = 4 };
    char **argv = calloc(n + ARGS0 + 1, sizeof *argv);
    char *hex = malloc(n * 20);
    if (!argv || !hex) goto out_free;
    argv[0] = (char *)prog;
    argv[1] = "-f";
    argv[2] = "-e";
    argv[3] = o->a2l_path;
    for (size_t i = 0; i < n; i++) {
        snprintf(hex + i * 20, 20, "0x%llx", (unsigned long long)(s->ents[idx[i]].addr - o->bias));
        argv[ARGS0 + i] = hex + i * 20;
    }
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0) goto out_free;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int r = posix_spawnp(&pid, prog, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pfd[1]);
    if (r != 0) {
        atomic_store(&a2l_missing, 1);
        close(pfd[0]);
        goto out_free;
    }
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    for (;;) {
        if (buf && len + 1024 > cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) { free(buf); buf = NULL; }
            else { buf = nb; cap *= 2; }
        }
        char sink[1024];
        ssize_t k = buf ? read(pfd[0], buf + len, cap - len - 1) : read(pfd[0], sink, sizeof sink);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        if (buf) len += (size_t)k;
    }
    close(pfd[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (!buf) goto out_free;
    buf[len] = 0;
    /* Two lines per address: function, then file:line ("??:0" if unknown). */
    char *p = buf;
    for (size_t i = 0; i < n && *p; i++) {
        char *func = p, *nl = strchr(p, '\n');
        if (!nl) break;
        *nl = 0;
        char *where = nl + 1;
        nl = strchr(where, '\n');
        if (!nl) break;
        *nl = 0;
        p = nl + 1;
        ent *e = &s->ents[idx[i]];
        char *disc = strstr(where, " (discriminator");
        if (disc) *disc = 0;
        char *colon = strrchr(where, ':');
        if (colon && strncmp(where, "??", 2) != 0) {
            *colon = 0;
            e->line = atoi(colon + 1);
            e->file = strdup(where);
        }
        if (!e->func && strcmp(func, "??") != 0) e->func = e->owned = strdup(func);
    }
    free(buf);
out_free:
    free(argv);
    free(hex);
}

void co__syms_resolve(co__syms *s)
{
    if (!s || s->resolved) return;
    s->resolved = 1;
    if (s->nents) qsort(s->ents, s->nents, sizeof *s->ents, cmp_ent);
    size_t u = 0;
    for (size_t i = 0; i < s->nents; i++)
        if (u == 0 || s->ents[i].addr != s->ents[u - 1].addr) s->ents[u++] = s->ents[i];
    s->nents = u;
    for (size_t i = 0; i < s->nents; i++) {
        ent *e = &s->ents[i];
        int sg = seg_of(s, e->addr);
        e->obj = sg < 0 ? -1 : s->segs[sg].obj;
        const fsym *f = e->obj >= 0 ? obj_find(&s->objs[e->obj], e->addr) : NULL;
        if (f) {
            e->func = f->name;
            e->start = f->start;
            continue;
        }
        Dl_info di;
        if (dladdr((void *)e->addr, &di) && di.dli_sname && di.dli_saddr) {
            e->func = di.dli_sname;
            e->start = (uintptr_t)di.dli_saddr;
        }
    }
    size_t *idx = malloc((s->nents ? s->nents : 1) * sizeof *idx);
    if (!idx) return;
    for (size_t oi = 0; oi < s->nobjs; oi++) {
        obj *o = &s->objs[oi];
        if (!o->has_lines) continue;
        size_t n = 0;
        for (size_t i = 0; i < s->nents; i++)
            if (s->ents[i].obj == (int)oi) idx[n++] = i;
        for (size_t k = 0; k < n; k += 512) run_addr2line(s, o, idx + k, n - k < 512 ? n - k : 512);
    }
    free(idx);
}

const char *co__syms_func(const co__syms *s, uintptr_t pc, int flags)
{
    ent *e = s ? find_ent(s, lookup_addr(pc, flags)) : NULL;
    return e ? e->func : NULL;
}

/* "func+0x1c (file.c:42)", "func (file.c:42)" for a function entry,
 * "0x7f... [libfoo.so]" when nothing is known. */
void co__syms_print(const co__syms *s, FILE *out, uintptr_t pc, int flags)
{
    ent *e = s ? find_ent(s, lookup_addr(pc, flags)) : NULL;
    if (flags & CO__FR_GUESS) fprintf(out, "? ");
    if (e && e->func) {
        fprintf(out, "%s", e->func);
        if (e->start && !(flags & CO__FR_ENTRY)) fprintf(out, "+0x%llx", (unsigned long long)(pc - e->start));
    } else {
        fprintf(out, "0x%llx", (unsigned long long)pc);
    }
    if (e && e->file)
        fprintf(out, " (%s:%d)", e->file, e->line);
    else if (e && e->obj >= 0)
        fprintf(out, " [%s]", s->objs[e->obj].short_name);
}
