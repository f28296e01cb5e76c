/* SPDX-License-Identifier: MIT */
/* crash.c -- a crash (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT) written into the
 * trace by the signal handler, before the process dies: the signal, the
 * faulting address, the running task and its last await, and the stack at
 * the fault as raw program counters (TR_STACK, then a TR_WARN with code
 * TR_WARN_CRASH).  The ring is lock-free and in shared memory, so under
 * `coscope run` the record survives exactly as the events before it do.
 *
 * Nothing here symbolizes: the handler may only do async-signal-safe work,
 * and the process is gone by the time anyone reads the trace.  Instead the
 * load address of the program and of every library is recorded when a
 * session starts (TR_MODULE), and the reader maps the counters to
 * file:line with elfutils' libdw (tracer/symbolize.c).
 */
#define _GNU_SOURCE
#include "internal.h"
#include <link.h>
#include <stdatomic.h>
#include <signal.h>
#include <ucontext.h>
#include <unistd.h>

#define CRASH_FRAMES 48
#define CRASH_GUESSES 8

/* The executable segments of the objects co__tr_modules saw, so that the
 * handler records as guesses only stack words that point into code: a
 * word of data took one of the CRASH_FRAMES slots the reader then dropped,
 * and a deep recursion's stack came out short by as many. */
#define CODE_RANGES 128
static struct { uintptr_t lo, hi; } code[CODE_RANGES];
static _Atomic size_t ncode;

static int in_code(uintptr_t w)
{
    size_t n = atomic_load_explicit(&ncode, memory_order_acquire);
    if (n == 0) return 1; /* no map: keep every word, as before */
    for (size_t i = 0; i < n; i++)
        if (w >= code[i].lo && w < code[i].hi) return 1;
    return 0;
}

static int module_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    int *first = arg;
    const char *name = info->dlpi_name;
    char exe[4096];
    if (*first) { /* the program itself comes first, without a name */
        *first = 0;
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n <= 0) return 0;
        exe[n] = 0;
        name = exe;
    }
    size_t n = atomic_load_explicit(&ncode, memory_order_relaxed);
    for (int i = 0; i < info->dlpi_phnum && n < CODE_RANGES; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X)) continue;
        code[n].lo = info->dlpi_addr + ph->p_vaddr;
        code[n].hi = code[n].lo + ph->p_memsz;
        n++;
    }
    atomic_store_explicit(&ncode, n, memory_order_release);
    if (!name || name[0] != '/') return 0; /* the vDSO: no file to read */
    co__tr_emit(TR_MODULE, NULL, 0, co__tr_intern(name, strlen(name)), (uint64_t)info->dlpi_addr);
    return 0;
}

/* Once per session, from a normal context: when a loop first needs its
 * debug state while a trace records (debug.c), i.e. before its first task
 * runs.  (Not at attach: the ring tests see the rings exactly as the
 * program filled them.) */
void co__tr_modules(void)
{
    static _Atomic uint32_t done_epoch;
    /* A loop not yet recording (its snapshot first: co__tr_snap_gate)
     * would lose them: its snapshot calls again (snapshot.c). */
    co__loop *l = co__tl_loop;
    if (co__tr_snap_gate && l && l->snap_epoch != co__tr_epoch) return;
    if (!co__tracing || atomic_exchange(&done_epoch, co__tr_epoch) == co__tr_epoch) return;
    int first = 1;
    atomic_store_explicit(&ncode, 0, memory_order_release);
    dl_iterate_phdr(module_cb, &first);
}

/* From the fault handler (stack.c), on the faulting thread.  overflow: the
 * fault hit the guard page (or the canary) of t's stack. */
/* no_sanitize("address"): it reads the words above the faulting task's sp,
 * which ASan may have poisoned (a frame's redzones) and would report as a
 * second error in place of the crash. */
__attribute__((no_sanitize("address")))
void co__crash_record(int sig, siginfo_t *si, void *uctx, co__task *t, int overflow)
{
    if (!co__tracing) return;
    uintptr_t pcs[CRASH_FRAMES];
    size_t n = 0;
    uintptr_t pc = 0, fp = 0, sp = 0;
#if defined(__x86_64__)
    ucontext_t *uc = uctx;
    pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
    fp = (uintptr_t)uc->uc_mcontext.gregs[REG_RBP];
#elif defined(__aarch64__)
    ucontext_t *uc = uctx;
    pc = (uintptr_t)uc->uc_mcontext.pc;
    sp = (uintptr_t)uc->uc_mcontext.sp;
    fp = (uintptr_t)uc->uc_mcontext.regs[29];
#else
    (void)uctx;
#endif
    if (pc) pcs[n++] = pc;
    /* Only a task's stack has known bounds: reads stay inside them (a
     * fault in the handler would kill the process before the record).  A
     * leaf function keeps no frame pointer (GCC's default on x86-64 even
     * with -fno-omit-frame-pointer), so the chain from fp starts at its
     * caller's caller: the words just above sp are recorded too, marked
     * as guesses (bit 32) when they point into code (in_code), for the
     * reader to keep those that have a line. */
    size_t guesses = 0;
    /* abort() stops in the C library's raise, whose frames keep no frame
     * pointer and hold a signal set: its caller's return address is
     * further up than a leaf's. */
    size_t words = sig == SIGABRT ? 16 * CRASH_GUESSES : CRASH_GUESSES, most = sig == SIGABRT ? 2 * CRASH_GUESSES : CRASH_GUESSES;
    if (t && t->stack && sp >= (uintptr_t)t->stack->lo && sp < (uintptr_t)t->stack->hi) {
        uintptr_t hi = (uintptr_t)t->stack->hi, a = sp & ~(uintptr_t)7;
        for (size_t k = 0; k < words && guesses < most && a + 8 <= hi && (fp < sp || a < fp); a += 8, k++) {
            uintptr_t w = *(volatile uintptr_t *)a;
            if (in_code(w)) pcs[n + guesses++] = w;
        }
        n += guesses;
        n += co__walk_fp(fp, sp, hi, pcs + n, CRASH_FRAMES - n);
    } else if (t && t->stack) { /* an overflow: sp is in the guard page, the frames above it are not */
        n += co__walk_fp(fp, (uintptr_t)t->stack->lo, (uintptr_t)t->stack->hi, pcs + n, CRASH_FRAMES - n);
    }
    uint64_t id = t ? t->id : 0;
    for (size_t i = 0; i < n; i++)
        co__tr_emit(TR_STACK, NULL, id, pcs[i], (uint64_t)i | (uint64_t)n << 16 | (uint64_t)(i >= 1 && i <= guesses) << 32);
    co__tr_emit(TR_WARN, t ? t->wait_loc : NULL, id, (uint64_t)(uintptr_t)si->si_addr,
                (uint64_t)TR_WARN_CRASH | (uint64_t)(sig & 0xff) << 8 | (uint64_t)(overflow ? 1 : 0) << 16);
}
