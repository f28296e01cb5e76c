/* SPDX-License-Identifier: MIT */
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
 * Symbolization is symbols.c's, the one symbolizer the tracer uses too
 * (libdw, loaded with dlopen when a stack is printed; the ELF symbol tables
 * without it): this file gives it the loaded objects and their load bias
 * from dl_iterate_phdr, resolves each distinct address once per report,
 * and names what symbols.c cannot read (the vDSO) with dladdr.  Return
 * addresses are looked up at pc - 1 so a call at the end of a function or
 * block is attributed to the call's own line; an interrupted pc (EXACT) or
 * a function's entry (ENTRY) at pc itself.
 */
#define _GNU_SOURCE
#include "internal.h"
#include "symbols.h"
#include <dlfcn.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <unistd.h>

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
/* Objects                                                                   */

typedef struct { uintptr_t lo, hi; } seg; /* an executable segment */

typedef struct {
    uintptr_t addr;    /* lookup address (pc, or pc - 1 for return addresses) */
    co__sym sym;       /* strings in s->r, or a dladdr name */
} ent;

struct co__syms {
    co__symr *r;       /* symbols.c: the one symbolizer */
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
    int exe = s->nsegs == 0 && (!info->dlpi_name || !info->dlpi_name[0]);
    if (exe) {
        /* The executable: its name is not in the link map. */
        char buf[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
        buf[n > 0 ? n : 0] = 0;
        co__symr_add(s->r, "/proc/self/exe", n > 0 ? buf : "exe", info->dlpi_addr);
    } else if (info->dlpi_name && info->dlpi_name[0] == '/') {
        co__symr_add(s->r, info->dlpi_name, NULL, info->dlpi_addr);
    } /* else the vDSO: no file to read (dladdr names it) */
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X)) continue;
        seg *segs = realloc(s->segs, (s->nsegs + 1) * sizeof *segs);
        if (!segs) return 1;
        s->segs = segs;
        s->segs[s->nsegs++] = (seg){ info->dlpi_addr + ph->p_vaddr, info->dlpi_addr + ph->p_vaddr + ph->p_memsz };
    }
    return 0;
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
    s->r = co__symr_new(0); /* in a running program: no separate debug files (symbols.h) */
    if (!s->r) {
        free(s);
        return NULL;
    }
    dl_iterate_phdr(phdr_cb, s);
    return s;
}

void co__syms_free(co__syms *s)
{
    if (!s) return;
    co__symr_free(s->r);
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
    co__sym f;
    if (seg_of(s, addr) < 0 || !co__symr_lookup_func(s->r, addr, &f)) return 0;
    return f.func ? (uintptr_t)f.start : 0;
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

static void resolve_all(co__syms *s)
{
    for (size_t i = 0; i < s->nents; i++) {
        ent *e = &s->ents[i];
        co__symr_lookup(s->r, e->addr, &e->sym);
        Dl_info di;
        if (!e->sym.func && dladdr((void *)e->addr, &di) && di.dli_sname && di.dli_saddr) {
            e->sym.func = di.dli_sname;
            e->sym.start = (uintptr_t)di.dli_saddr;
            if (!e->sym.object && di.dli_fname) {
                const char *slash = strrchr(di.dli_fname, '/');
                e->sym.object = slash ? slash + 1 : di.dli_fname;
            }
        }
    }
}

static void *resolve_main(void *arg)
{
    resolve_all(arg);
    return NULL;
}

/* Each distinct address once; the vDSO and objects that cannot be read
 * get dladdr's name.  libdw needs more stack than a task has (64 KiB by
 * default; co_dump is called from tasks), so with it the lookups run on a
 * thread of their own, with the default stack, while this one waits; if
 * no thread can be had, names come from the symbol tables alone. */
void co__syms_resolve(co__syms *s)
{
    if (!s || s->resolved) return;
    s->resolved = 1;
    if (s->nents) qsort(s->ents, s->nents, sizeof *s->ents, cmp_ent);
    size_t u = 0;
    for (size_t i = 0; i < s->nents; i++)
        if (u == 0 || s->ents[i].addr != s->ents[u - 1].addr) s->ents[u++] = s->ents[i];
    s->nents = u;
    if (s->nents && co__symr_has_lines(s->r)) {
        pthread_t th;
        if (pthread_create(&th, NULL, resolve_main, s) == 0) {
            pthread_join(th, NULL);
            return;
        }
        co__symr_names_only(s->r);
    }
    resolve_all(s);
}

const char *co__syms_func(const co__syms *s, uintptr_t pc, int flags)
{
    ent *e = s ? find_ent(s, lookup_addr(pc, flags)) : NULL;
    return e ? e->sym.func : NULL;
}

/* One frame, as co__sym_format words it (symbols.c), with the offset into
 * the function ("func+0x1c (file.c:42)") except for a function entry. */
void co__syms_print(const co__syms *s, FILE *out, uintptr_t pc, int flags)
{
    ent *e = s ? find_ent(s, lookup_addr(pc, flags)) : NULL;
    char buf[512];
    co__sym_format(e ? &e->sym : NULL, pc, (flags & CO__FR_ENTRY) ? 0 : CO__SYM_OFFSET, buf, sizeof buf);
    fprintf(out, "%s%s", (flags & CO__FR_GUESS) ? "? " : "", buf);
}
