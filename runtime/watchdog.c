/* SPDX-License-Identifier: MIT */
/* watchdog.c -- the blocked-loop watchdog: a thread per loop (in debug mode,
 * or while a trace records) that notices when a task has run longer than the
 * slow-step threshold without reaching an await, and reports where the loop
 * thread is at that moment.  A slow-step report (debug.c) only comes once
 * the step ends, and names the awaits around it; this one comes while the
 * loop is stuck, and names the frames: the sleep(), the CPU loop, the
 * blocking read, even if the step never ends.
 *
 * Capturing another thread's stack:
 *  - if the loop thread is blocked in a system call (a sleep, blocking I/O),
 *    /proc/self/task/TID/syscall gives its user sp and pc, and its stack
 *    stays still while it waits: we copy it from this thread.  No signal, so
 *    the blocked call is not disturbed (a signal would cut a sleep short
 *    with EINTR: nanosleep is never restarted);
 *  - if it is running (a CPU loop), we send it SIGURG with pthread_sigqueue;
 *    the handler, on the loop thread, walks the frame pointers from the
 *    interrupted context's fp (ucontext) and copies the stack above sp into
 *    a preallocated buffer, async-signal-safe.  SIGURG because its default
 *    action is to ignore it (a late one is harmless), few programs use it,
 *    and Go uses it for the same purpose; a SIGURG that is not ours (wrong
 *    si_code/value, or none asked) goes to the handler installed before us.
 * Then, on this thread, the copy is symbolized: when the innermost code has
 * no frame pointer (libc), the chain skips the caller of that code, so the
 * words between sp and the first frame record that look like return
 * addresses (right after a call instruction) are listed too, marked "?", as
 * Linux marks unreliable frames; and the function owning the first frame
 * record is named from the call its return address follows.  Without a
 * usable fp (the /proc case) the first plausible frame record is found by
 * scanning.
 *
 * One report per stall (per step).  Output on stderr in debug mode; frames
 * as TR_STACK records while a trace records.
 */
#define _GNU_SOURCE
#include "internal.h"
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define WD_SIG SIGURG
#define WD_FRAMES 64
#define WD_GUESSES 12
#define WD_WIN_BYTES (256u * 1024u) /* stack copied above sp: a whole default task stack, even under ASan */

enum { CAP_IDLE, CAP_ASKED, CAP_DONE, CAP_STALE };

struct co__watchdog {
    co__dbg *d;
    pthread_t thread, loop_thread;
    pid_t loop_tid;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;                  /* under mu */
    uint64_t reported;         /* seq of the last step reported: one report per stall */
    uint64_t seen_seq;         /* the step first seen at seen_at (for steps without t0) */
    uint64_t seen_at;
    /* Callbacks outside tasks: the loop thread's own stack, and the
     * (step seq, polls) pair first seen at cb_at with no step running and
     * the loop out of poll; cb_reported: the pair last reported. */
    uintptr_t loop_lo, loop_hi;
    uint64_t cb_seq, cb_polls, cb_at, cb_reported;
    int cap_cb;                /* the capture asked is of callbacks (no task) */
    /* Capture.  The watchdog sets cap_seq then cap_state = CAP_ASKED
     * (release) and signals; the handler fills what follows and sets
     * CAP_DONE (release), or CAP_STALE if the step has ended meanwhile. */
    _Atomic int cap_state;
    uint64_t cap_seq;
    uintptr_t pc, sp, fp, lr;  /* interrupted context; fp, lr 0 if unknown */
    uintptr_t hi;              /* top of the stack the task runs on */
    size_t nchain;
    uintptr_t chain[WD_FRAMES]; /* return addresses of the fp chain */
    size_t nwin;
    uintptr_t *win;            /* words copied from [sp & ~7, ...) */
};

/* ------------------------------------------------------------------------ */
/* The signal side (loop thread)                                             */

static struct sigaction prev_sa;
static pthread_once_t sig_once = PTHREAD_ONCE_INIT;

static void pass_on(int sig, siginfo_t *si, void *uc)
{
    if (prev_sa.sa_flags & SA_SIGINFO) {
        if (prev_sa.sa_sigaction) prev_sa.sa_sigaction(sig, si, uc);
    } else if (prev_sa.sa_handler != SIG_DFL && prev_sa.sa_handler != SIG_IGN) {
        prev_sa.sa_handler(sig);
    } /* SIGURG's default action is to ignore it */
}

static void on_capture(int sig, siginfo_t *si, void *ucv)
{
    co__loop *l = co__tl_loop;
    co__dbg *d = l ? l->dbg : NULL;
    struct co__watchdog *w = d ? d->wd : NULL;
    if (!w || si->si_code != SI_QUEUE || si->si_value.sival_ptr != w ||
        atomic_load_explicit(&w->cap_state, memory_order_acquire) != CAP_ASKED) {
        pass_on(sig, si, ucv);
        return;
    }
    int saved_errno = errno;
    ucontext_t *uc = ucv;
    co__task *t = l->current;
    int state = CAP_STALE;
    int cb = w->cap_cb && !t && w->loop_hi;
    if (atomic_load_explicit(&d->seq, memory_order_relaxed) == w->cap_seq && ((t && t->stack) || cb)) {
#if defined(__x86_64__)
        w->pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
        w->sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
        w->fp = (uintptr_t)uc->uc_mcontext.gregs[REG_RBP];
        w->lr = 0;
#elif defined(__aarch64__)
        w->pc = (uintptr_t)uc->uc_mcontext.pc;
        w->sp = (uintptr_t)uc->uc_mcontext.sp;
        w->fp = (uintptr_t)uc->uc_mcontext.regs[29];
        w->lr = (uintptr_t)uc->uc_mcontext.regs[30];
#else
        (void)uc;
        w->pc = w->sp = w->fp = w->lr = 0;
#endif
        uintptr_t lo = cb ? w->loop_lo : (uintptr_t)t->stack->lo, hi = cb ? w->loop_hi : (uintptr_t)t->stack->hi;
        w->hi = hi;
        w->nchain = w->nwin = 0;
        if (w->sp >= lo && w->sp < hi) {
            w->nchain = co__walk_fp(w->fp, w->sp, hi, w->chain, WD_FRAMES);
            uintptr_t end = hi - w->sp > WD_WIN_BYTES ? w->sp + WD_WIN_BYTES : hi;
            w->nwin = co__copy_stack(w->win, w->sp, end);
        }
        state = CAP_DONE;
    }
    atomic_store_explicit(&w->cap_state, state, memory_order_release);
    errno = saved_errno;
}

static void install_handler(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_capture;
    /* SA_RESTART: a read() or write() the signal lands in goes on. */
    sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(WD_SIG, &sa, &prev_sa);
}

/* ------------------------------------------------------------------------ */
/* Capture (watchdog thread)                                                 */

/* 1 with sp/pc if the thread is blocked (in a system call), 0 if running,
 * -1 if the kernel does not tell. */
static int blocked_at(pid_t tid, uintptr_t *sp, uintptr_t *pc)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return -1;
    buf[n] = 0;
    if (strncmp(buf, "running", 7) == 0) return 0;
    /* "nr arg1 .. arg6 sp pc", or "-1 sp pc" when blocked outside a call. */
    char *tok[9];
    int k = 0;
    for (char *save = NULL, *p = strtok_r(buf, " \n", &save); p && k < 9; p = strtok_r(NULL, " \n", &save))
        tok[k++] = p;
    if (k < 3) return -1;
    *sp = (uintptr_t)strtoull(tok[k - 2], NULL, 0);
    *pc = (uintptr_t)strtoull(tok[k - 1], NULL, 0);
    return *sp && *pc ? 1 : -1;
}

static uint64_t seq_now(co__dbg *d) { return atomic_load_explicit(&d->seq, memory_order_acquire); }

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* Fill the capture fields for step `seq` of a task on [lo, hi).  Returns
 * NULL or why it failed. */
static const char *capture(struct co__watchdog *w, uint64_t seq, uintptr_t lo, uintptr_t hi)
{
    uintptr_t sp, pc, sp2, pc2;
    if (blocked_at(w->loop_tid, &sp, &pc) == 1 && sp >= lo && sp < hi) {
        w->pc = pc;
        w->sp = sp;
        w->fp = w->lr = 0;
        w->hi = hi;
        w->nchain = 0;
        w->nwin = co__copy_stack(w->win, sp, hi - sp > WD_WIN_BYTES ? sp + WD_WIN_BYTES : hi);
        /* Still in the same call, same step: the copy is consistent. */
        if (blocked_at(w->loop_tid, &sp2, &pc2) == 1 && sp2 == sp && pc2 == pc && seq_now(w->d) == seq) return NULL;
    }
    w->cap_seq = seq;
    atomic_store_explicit(&w->cap_state, CAP_ASKED, memory_order_release);
    union sigval v = { .sival_ptr = w };
    if (pthread_sigqueue(w->loop_thread, WD_SIG, v) != 0) {
        atomic_store(&w->cap_state, CAP_IDLE);
        return "cannot signal the loop thread";
    }
    for (int i = 0; i < 200; i++) {
        int st = atomic_load_explicit(&w->cap_state, memory_order_acquire);
        if (st == CAP_DONE) return NULL;
        if (st == CAP_STALE) return "the step ended meanwhile";
        sleep_ms(1);
    }
    int asked = CAP_ASKED;
    if (!atomic_compare_exchange_strong(&w->cap_state, &asked, CAP_IDLE))
        return atomic_load(&w->cap_state) == CAP_DONE ? NULL : "the step ended meanwhile";
    return "the loop thread did not answer SIGURG (blocked?)";
}

/* The word at address a of the copied stack, if it was copied. */
static int win_get(const struct co__watchdog *w, uintptr_t a, uintptr_t *v)
{
    uintptr_t base = w->sp & ~(uintptr_t)7;
    if (a < base || (a & 7) || (a - base) / 8 >= w->nwin) return 0;
    *v = w->win[(a - base) / 8];
    return 1;
}

/* Is there a frame record [next fp][return address] at fp in the copy?  The
 * return address must follow a call; the function that call makes must
 * save the frame pointer first thing, when the call says which function it
 * is (libc keeps no frame pointers, and stale words in its frames look like
 * records otherwise); next is further up.  2 for a task's first record
 * (next 0), 1 for another, 0 for none. */
static int record_at(const struct co__watchdog *w, co__syms *s, uintptr_t fp)
{
    uintptr_t next, ret;
    if (!win_get(w, fp, &next) || !win_get(w, fp + 8, &ret)) return 0;
    /* fp 0 ends the chain only in a task's first frame, at the top of its
     * stack (co__ctx_init, co__trampoline; its return address may be 0):
     * elsewhere a zero word is just a zeroed local. */
    if (next == 0) return w->hi - fp <= 64 && (ret == 0 || co__syms_is_ret(s, ret)) ? 2 : 0;
    if (!co__syms_is_ret(s, ret)) return 0;
    uintptr_t callee = co__syms_call_target(s, ret);
    if (callee && co__syms_pushes_fp(s, callee) == 0) return 0;
    return next > fp && next < w->hi && !(next & 7);
}

/* Does the chain from the record at fp hold for a few links?  Each next
 * record must be one, and no record may lie between two links: between a
 * record and the next there are only the caller's own locals (its earlier
 * callees' dead frames are below it), so a chain that jumps over a record
 * starts from a stale word. */
static int chain_ok(const struct co__watchdog *w, co__syms *s, uintptr_t fp)
{
    for (int link = 0; link < 3; link++) {
        uintptr_t next;
        if (!record_at(w, s, fp) || !win_get(w, fp, &next)) return 0;
        if (next == 0) return 1;
        for (uintptr_t x = fp + 16; x < next; x += 8)
            if (record_at(w, s, x) == 1) return 0; /* (the zeroed top of a stack is all "first records") */
        uintptr_t probe;
        if (!win_get(w, next, &probe)) return 1; /* beyond the copy: as far as we can tell */
        fp = next;
    }
    return 1;
}

/* Turn the capture into frames: pc, the guesses below the first frame
 * record, the owner of that record, then the chain. */
static size_t unwind(struct co__watchdog *w, co__syms *s, uintptr_t *pcs, int *flags, size_t max)
{
    size_t n = 0;
    uintptr_t base = w->sp & ~(uintptr_t)7;
    pcs[n] = w->pc;
    flags[n++] = CO__FR_EXACT;
    uintptr_t rec = 0;           /* address of the first trusted frame record */
    uintptr_t chain[WD_FRAMES];
    size_t nchain = 0;
    if (w->nchain > 0 && w->fp >= w->sp) {
        rec = w->fp;
        nchain = w->nchain;
        memcpy(chain, w->chain, nchain * sizeof *chain);
    } else {
        for (uintptr_t a = base; a / 8 - base / 8 < w->nwin; a += 8) {
            uintptr_t next;
            if (!chain_ok(w, s, a) || !win_get(w, a, &next)) continue;
            rec = a;
            for (uintptr_t f = a, ret; nchain < WD_FRAMES && win_get(w, f + 8, &ret) && ret; f = next) {
                chain[nchain++] = ret;
                if (!win_get(w, f, &next) || next <= f) break;
            }
            break;
        }
    }
#if defined(__aarch64__)
    /* A leaf may keep its return address in lr only. */
    if (w->lr && co__syms_is_ret(s, w->lr) && (nchain == 0 || chain[0] != w->lr) && n < max) {
        pcs[n] = w->lr;
        flags[n++] = CO__FR_GUESS;
    }
#endif
    uintptr_t owner = nchain ? co__syms_call_target(s, chain[0]) : 0;
    uintptr_t owner_start = owner ? co__syms_func_start(s, owner) : 0;
    uintptr_t pc_start = co__syms_func_start(s, w->pc);
    if (!owner_start || owner_start != pc_start) {
        /* pc is not in the function that owns the record (it has no frame
         * pointer, or was interrupted before making its frame): list the
         * return addresses between sp and the record. */
        uintptr_t end = rec ? rec : base + w->nwin * 8;
        size_t guesses = 0;
        int owner_seen = 0;
        for (uintptr_t a = base, v; a < end && n < max && guesses < WD_GUESSES && win_get(w, a, &v); a += 8) {
            if (!co__syms_is_ret(s, v)) continue;
            pcs[n] = v;
            flags[n++] = CO__FR_GUESS;
            guesses++;
            if (owner_start && co__syms_func_start(s, v - 1) == owner_start) owner_seen = 1;
        }
        if (owner_start && !owner_seen && n < max) {
            pcs[n] = owner_start;
            flags[n++] = CO__FR_ENTRY;
        }
    }
    for (size_t i = 0; i < nchain && n < max; i++) {
        pcs[n] = chain[i];
        flags[n++] = 0;
    }
    return n;
}

static void report(struct co__watchdog *w, co__loop *l, uint64_t task_id, const char *name, const co_loc *spawn,
                   const co_loc *from, uint64_t ran_ns, const char *why)
{
    uintptr_t pcs[WD_FRAMES + WD_GUESSES + 4];
    int flags[WD_FRAMES + WD_GUESSES + 4];
    size_t n = 0;
    co__syms *s = why ? NULL : co__syms_new();
    if (s) {
        n = unwind(w, s, pcs, flags, sizeof pcs / sizeof pcs[0]);
        for (size_t i = 0; i < n; i++) co__syms_add(s, pcs[i], flags[i]);
        co__syms_resolve(s);
        /* The task's own frames end at co__task_main. */
        for (size_t i = 0; i < n && task_id; i++) {
            const char *f = co__syms_func(s, pcs[i], flags[i]);
            if (f && strcmp(f, "co__task_main") == 0) {
                n = i;
                break;
            }
        }
        for (size_t i = 0; i < n; i++)
            CO_TRACE(TR_STACK, NULL, task_id, pcs[i], (uint64_t)i | (uint64_t)n << 16);
        /* Symbolized here, while the process's memory map is the one the
         * addresses belong to: the trace keeps readable frames. */
        if (co__tracing && n > 0) {
            char *text = NULL;
            size_t len = 0;
            FILE *out = open_memstream(&text, &len);
            if (out) {
                for (size_t i = 0; i < n; i++) {
                    fprintf(out, "#%zu ", i);
                    co__syms_print(s, out, pcs[i], flags[i]);
                    fputc('\n', out);
                }
                fclose(out);
                co__tr_emit(TR_STACK_TEXT, NULL, task_id, co__tr_intern(text, len), 0);
                free(text);
            }
        }
    }
    if (l->debug) {
        char *text = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&text, &len);
        if (out) {
            if (!task_id)
                fprintf(out, "coscope: loop blocked: libuv callbacks outside any task (a timer's, an I/O "
                             "callback of the program's own) have run for %.1f ms", (double)ran_ns / 1e6);
            else
                fprintf(out, "coscope: loop blocked: task '%s' (#%llu, spawned at %s:%d) has run for %.1f ms since ",
                        name, (unsigned long long)task_id, spawn && spawn->file ? spawn->file : "?",
                        spawn ? spawn->line : 0, (double)ran_ns / 1e6);
            if (!task_id)
                ;
            else if (from)
                fprintf(out, "await at %s:%d", from->file ? from->file : "?", from->line);
            else
                fprintf(out, "its start");
            if (task_id) fprintf(out, " without awaiting");
            if (why) {
                fprintf(out, "; no stack: %s\n", why);
            } else {
                fprintf(out, "; its thread is in:\n");
                int guessed = 0;
                for (size_t i = 0; i < n; i++) {
                    fprintf(out, "      #%zu ", i);
                    co__syms_print(s, out, pcs[i], flags[i]);
                    fprintf(out, "\n");
                    guessed |= flags[i] & CO__FR_GUESS;
                }
                if (guessed) fprintf(out, "    (frames marked ? were found by scanning the stack, not by the frame chain)\n");
            }
            fclose(out);
            co__log_text(w->d->loop, text);
            free(text);
        }
    }
    co__syms_free(s);
}

/* No step is running: if the loop is not in poll either and nothing has
 * moved for slow_ms, a callback outside tasks (a timer's, the program's
 * own) is blocking it. */
static void check_callbacks(struct co__watchdog *w, uint64_t seq)
{
    co__dbg *d = w->d;
    co__loop *l = d->loop;
    uint64_t polls = atomic_load_explicit(&d->polls, memory_order_acquire);
    if ((polls & 1) || !w->loop_hi || !l->running || atomic_load(&d->quiet)) return;
    uint64_t now = co__mono_ns();
    if (w->cb_seq != seq || w->cb_polls != polls) {
        w->cb_seq = seq;
        w->cb_polls = polls;
        w->cb_at = now;
        return;
    }
    uint64_t key = seq ^ (polls << 32);
    if (now - w->cb_at < d->slow_ns || w->cb_reported == key) return;
    w->cb_reported = key;
    w->cap_cb = 1;
    const char *why = capture(w, seq, w->loop_lo, w->loop_hi);
    w->cap_cb = 0;
    if (seq_now(d) != seq || atomic_load(&d->polls) != polls) return; /* it moved on meanwhile */
    report(w, l, 0, "", NULL, NULL, co__mono_ns() - w->cb_at, why);
}

static void check(struct co__watchdog *w)
{
    co__dbg *d = w->d;
    co__loop *l = d->loop;
    if (!l->debug && !co__tracing) return; /* the trace stopped: the step hooks no longer run */
    uint64_t seq = seq_now(d);
    if (!(seq & 1)) {
        check_callbacks(w, seq);
        return;
    }
    if (seq == w->reported || atomic_load(&d->quiet)) return;
    uint64_t t0 = atomic_load_explicit(&d->t0, memory_order_relaxed);
    co__task *t = atomic_load_explicit(&d->task, memory_order_relaxed);
    co_loc *from = atomic_load_explicit(&d->from, memory_order_relaxed);
    atomic_thread_fence(memory_order_acquire);
    if (atomic_load_explicit(&d->seq, memory_order_relaxed) != seq) return;
    uint64_t now = co__mono_ns();
    if (t0 == 0) { /* an untimed step (tracing only): time it from our first sight */
        if (w->seen_seq != seq) {
            w->seen_seq = seq;
            w->seen_at = now;
            return;
        }
        t0 = w->seen_at;
    }
    if (now < t0 || now - t0 < d->slow_ns) return;
    w->reported = seq;
    /* The task cannot end (nor be freed) while its step lasts; re-check
     * the step after reading it, and drop the report if it just ended. */
    char name[64];
    snprintf(name, sizeof name, "%s", t->name ? t->name : "?");
    uint64_t id = t->id;
    co_loc *spawn = t->spawn_loc;
    co__stack *stk = t->stack;
    atomic_thread_fence(memory_order_acquire);
    if (seq_now(d) != seq || !stk) return;
    const char *why = capture(w, seq, (uintptr_t)stk->lo, (uintptr_t)stk->hi);
    if (why && seq_now(d) != seq) return; /* not stuck any more */
    report(w, l, id, name, spawn, from, co__mono_ns() - t0, why);
}

static void *wd_main(void *arg)
{
    struct co__watchdog *w = arg;
    uint64_t period = w->d->slow_ns / 4;
    if (period < 5000000u) period = 5000000u;
    if (period > 100000000u) period = 100000000u;
    pthread_mutex_lock(&w->mu);
    while (!w->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t ns = (uint64_t)ts.tv_nsec + period;
        ts.tv_sec += (time_t)(ns / 1000000000u);
        ts.tv_nsec = (long)(ns % 1000000000u);
        pthread_cond_timedwait(&w->cv, &w->mu, &ts);
        if (w->stop) break;
        pthread_mutex_unlock(&w->mu);
        check(w);
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* On the loop thread.  Sets d->wd before the thread starts. */
struct co__watchdog *co__watchdog_start(co__dbg *d)
{
    struct co__watchdog *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->win = malloc(WD_WIN_BYTES);
    if (!w->win) {
        free(w);
        return NULL;
    }
    w->d = d;
    w->loop_thread = pthread_self();
    w->loop_tid = (pid_t)syscall(SYS_gettid);
    pthread_attr_t at;
    if (pthread_getattr_np(w->loop_thread, &at) == 0) {
        void *addr;
        size_t size;
        if (pthread_attr_getstack(&at, &addr, &size) == 0) {
            w->loop_lo = (uintptr_t)addr;
            w->loop_hi = (uintptr_t)addr + size;
        }
        pthread_attr_destroy(&at);
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_once(&sig_once, install_handler);
    d->wd = w;
    /* Start with every signal blocked: the process's signals are not the
     * watchdog's to handle. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int r = pthread_create(&w->thread, NULL, wd_main, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (r != 0) {
        d->wd = NULL;
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        free(w->win);
        free(w);
        return NULL;
    }
    pthread_setname_np(w->thread, "coscope-watch");
    return w;
}

void co__watchdog_stop(struct co__watchdog *w)
{
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w->win);
    free(w);
}
